"""Exports and summaries of the samples table (``Store.samples()``); pure functions on DataFrames."""

from __future__ import annotations

import io

import pandas as pd

from labeller.bands import BAND_BY_NAME

MEAN_SPECTRA_COLUMNS = ["label_value", "label_name", "band", "centre_nm", "reflectance"]


def band_columns(df: pd.DataFrame) -> list[str]:
    """The Sentinel-2 band columns present in ``df``, in order of centre wavelength."""
    present = [name for name in df.columns if name in BAND_BY_NAME]
    return sorted(present, key=lambda name: BAND_BY_NAME[name].centre_nm)


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header and no index; floats at full (round-trip) precision,
    timestamps in ISO 8601 with their UTC offset."""
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet (pyarrow) keeping the dtypes; timestamps written as UTC."""
    buffer = io.BytesIO()
    _utc_timestamps(df).to_parquet(buffer, engine="pyarrow", index=False)
    return buffer.getvalue()


def mean_spectra(df: pd.DataFrame) -> pd.DataFrame:
    """Mean reflectance per label and band, long format for a spectrum chart.

    Columns label_value, label_name, band, centre_nm, reflectance; one row per label and
    band that has at least one value (e.g. no B10 row for Level-2A-only labels), sorted
    by label value, label name and wavelength.
    """
    bands = band_columns(df)
    if df.empty or not bands:
        return _empty_spectra()
    labels = ["label_value", "label_name"]
    means = df.groupby(labels, sort=True, dropna=False)[bands].mean()
    long = means.reset_index().melt(id_vars=labels, var_name="band", value_name="reflectance")
    long = long.dropna(subset=["reflectance"])
    long["centre_nm"] = long["band"].map(lambda name: BAND_BY_NAME[name].centre_nm).astype("float64")
    long = long.sort_values([*labels, "centre_nm"], kind="stable", ignore_index=True)
    return long[MEAN_SPECTRA_COLUMNS].astype({"reflectance": "float64"})


def _empty_spectra() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label_value": pd.Series(dtype="float64"),
            "label_name": pd.Series(dtype="str"),
            "band": pd.Series(dtype="str"),
            "centre_nm": pd.Series(dtype="float64"),
            "reflectance": pd.Series(dtype="float64"),
        }
    )


def _utc_timestamps(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every datetime column in UTC (naive columns are taken to be UTC)."""
    out = df.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            out[name] = column.dt.tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(column.dtype):
            out[name] = column.dt.tz_localize("UTC")
    return out
