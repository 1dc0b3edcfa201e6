"""What the spectrum charts show, as plain tables: beside the image, the selected pixels'
spectra on this date, the label's saved mean ± one standard deviation, and one pixel's
details; on the Dataset page, the mean spectrum of each label. No plotting here; the pages
draw these tables. Bands in the one order of ``bands.by_wavelength``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from labeller.aoi import AreaOfInterest
from labeller.bands import BAND_BY_NAME, by_wavelength
from labeller.scenes import Scene
from labeller.selection import Pixel, is_valid

CHART_BANDS_LEAVE_OUT = ("B10",)
"""B10 (cirrus, 1375 nm) sees the upper atmosphere, not the ground: left out of the charts."""
MAX_LINES = 60
"""At most this many pixels drawn as lines (a chart of hundreds of lines says no more)."""
LABEL_SPECTRA_DTYPES = {
    "label_value": "float64",
    "label_name": "str",
    "band": "str",
    "centre_nm": "float64",
    "reflectance": "float64",
}
"""The columns of ``label_spectra``."""


def chart_bands(band_names: Sequence[str]) -> list[str]:
    return [b for b in band_names if b not in CHART_BANDS_LEAVE_OUT]


def selection_spectra(
    scene: Scene, selection: Iterable[Pixel], flagged: Mapping[Pixel, str], limit: int = MAX_LINES
) -> pd.DataFrame:
    """Long table of the selected pixels with data (first ``limit`` in row/col order): pixel,
    band, wavelength_nm, reflectance, state ("clear" or "flagged (cloud)"). ``flagged`` is the
    cloud guard's verdict (``Verdict.flagged``), so the chart agrees with what a save stores."""
    pixels = sorted(p for p in selection if is_valid(p, scene.valid))[:limit]
    bands = chart_bands(scene.band_names)
    if not pixels:
        return pd.DataFrame(columns=["pixel", "band", "wavelength_nm", "reflectance", "state"])
    index = [scene.band_names.index(b) for b in bands]
    values = scene.spectra(*zip(*pixels, strict=True))[:, index]
    states = ["flagged (cloud)" if p in flagged else "clear" for p in pixels]
    return pd.DataFrame(
        {
            "pixel": np.repeat([f"{r},{c}" for r, c in pixels], len(bands)),
            "band": np.tile(bands, len(pixels)),
            "wavelength_nm": np.tile([BAND_BY_NAME[b].centre_nm for b in bands], len(pixels)),
            "reflectance": values.reshape(-1).astype(float),
            "state": np.repeat(states, len(bands)),
        }
    )


def reference_band(spread: pd.DataFrame, band_names: Sequence[str]) -> pd.DataFrame:
    """The label's saved mean ± one sd per charted band (from ``Store.band_spread``, whose
    rows follow the band order): band, wavelength_nm, mean, low, high; empty when nothing is
    saved yet."""
    bands = chart_bands(band_names)
    table = spread[spread["band"].isin(bands) & spread["mean"].notna()].copy()
    if table.empty or int(table["n"].iloc[0]) == 0:
        return pd.DataFrame(columns=["band", "wavelength_nm", "mean", "low", "high"])
    table["wavelength_nm"] = [BAND_BY_NAME[b].centre_nm for b in table["band"]]
    table["low"], table["high"] = table["mean"] - table["sd"], table["mean"] + table["sd"]
    return table[["band", "wavelength_nm", "mean", "low", "high"]]  # in the spread's (band) order


def pixel_details(scene: Scene, aoi: AreaOfInterest, pixel: Pixel, flag: str | None) -> dict:
    """Row, col, lon, lat, whether it has data, flagged (the guard's reason ``flag``, e.g.
    ``cloud``, or None), and each band's reflectance."""
    row, col = pixel
    lon, lat = aoi.pixel_to_lonlat(row, col)
    details = {"row": row, "col": col, "lon": float(lon), "lat": float(lat)}
    details["has data"] = is_valid(pixel, scene.valid)
    details["flagged (cloud)"] = details["has data"] and flag is not None
    values = scene.bands[row, col] if details["has data"] else np.full(len(scene.band_names), np.nan)
    details["bands"] = {b: float(v) for b, v in zip(scene.band_names, values, strict=True)}
    return details


def label_spectra(means: pd.DataFrame) -> pd.DataFrame:
    """Mean reflectance per label and band, long format for a spectrum chart, from one row
    per label with a mean per band column (``Store.band_means()``).

    Columns ``LABEL_SPECTRA_DTYPES``; one row per label and band that has a value (e.g. no
    B10 row for Level-2A-only labels), sorted by label value and name, then wavelength.
    """
    bands = by_wavelength(means.columns)
    if means.empty or not bands:
        return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in LABEL_SPECTRA_DTYPES.items()})
    labels = ["label_value", "label_name"]
    long = means[labels + bands].melt(id_vars=labels, var_name="band", value_name="reflectance")
    long = long.dropna(subset=["reflectance"])  # melted band by band: stable sort keeps wavelength order
    long = long.sort_values(labels, kind="stable", ignore_index=True)
    long["centre_nm"] = long["band"].map(lambda name: BAND_BY_NAME[name].centre_nm).astype("float64")
    return long[list(LABEL_SPECTRA_DTYPES)].astype({"reflectance": "float64"})
