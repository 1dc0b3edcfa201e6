"""Spectra of the selection, the label's saved mean ± sd, pixel details, the index series, and
the Dataset page's mean spectrum per label."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from labeller import spectra, views
from labeller.bands import ALL_BAND_NAMES
from labeller.labelling import LabellingSession
from labeller.sources.demo import DemoSource
from labeller.store import SampleFilter, Store
from labeller.timeseries import index_map, series_rows
from tests.unit.test_export import filled, samples  # noqa: F401 - fixtures
from tests.unit.test_labelling import spec, start, store, valid_pixels  # noqa: F401 - fixtures


def test_band_spread_is_the_mean_and_sd_of_saved_samples(store, spec):  # noqa: F811
    session = start(store, spec)
    picks = valid_pixels(session, 3)
    for pixel in picks:
        session.toggle(pixel)
    scene = session.scene()
    session.save_and_next()
    spread = store.band_spread(SampleFilter.of(label_values=[spec.label_value])).set_index("band")
    values = scene.spectra(*zip(*picks, strict=True))
    b04 = values[:, scene.band_names.index("B04")].astype(float)
    assert spread.loc["B04", "n"] == 3
    assert spread.loc["B04", "mean"] == pytest.approx(b04.mean(), abs=1e-6)
    assert spread.loc["B04", "sd"] == pytest.approx(b04.std(), abs=1e-5)
    reference = spectra.reference_band(spread.reset_index(), scene.band_names)
    assert "B10" not in set(reference["band"]) and (reference["low"] <= reference["high"]).all()
    empty = store.band_spread(SampleFilter.of(label_values=[99.0]))
    assert spectra.reference_band(empty, scene.band_names).empty


def test_selection_spectra_and_flags(store, spec):  # noqa: F811
    session = start(store, spec)
    scene = session.scene()
    picks = valid_pixels(session, 2)
    table = spectra.selection_spectra(scene, picks, {})
    assert len(table) == 2 * 12 and set(table["state"]) == {"clear"}  # 13 bands less B10
    flagged = spectra.selection_spectra(scene, picks, {picks[1]: "cloud"})
    assert flagged.groupby("pixel")["state"].first().to_dict() == {
        f"{picks[0][0]},{picks[0][1]}": "clear",
        f"{picks[1][0]},{picks[1][1]}": "flagged (cloud)",
    }
    details = spectra.pixel_details(scene, session.aoi, picks[0], "cloud")
    assert details["row"] == picks[0][0] and details["flagged (cloud)"] is True
    assert spectra.pixel_details(scene, session.aoi, picks[0], None)["flagged (cloud)"] is False
    assert details["bands"]["B04"] == pytest.approx(float(scene.band("B04")[picks[0]]))


def test_index_series_fills_in_the_background_and_makes_rows(store, spec):  # noqa: F811
    session = start(store, spec)
    ndvi = views.index_view("NDVI")
    session.series.fetch_missing(ndvi)
    deadline = time.monotonic() + 30
    while session.series.progress(ndvi)[0] < len(session.acquisitions):
        assert time.monotonic() < deadline, session.series.progress(ndvi)
        time.sleep(0.05)
    maps = session.series.maps(ndvi)
    assert set(maps) == {a.id for a in session.acquisitions}
    picks = valid_pixels(session, 2)
    statuses = ["saved"] + ["not reviewed"] * (len(session.acquisitions) - 1)
    rows = series_rows(session.acquisitions, maps, statuses, picks, picks[0])
    first = index_map(session.scene(session.acquisitions[0]), ndvi)
    mean = [r for r in rows if r["i"] == 0 and r["series"] == "selection mean"][0]
    assert mean["value"] == pytest.approx(float(np.nanmean([first[p] for p in picks])))
    assert mean["status"] == "saved"
    assert {r["series"] for r in rows} == {"selection mean", f"pixel {picks[0][0]},{picks[0][1]}"}


class BilledDemo(DemoSource):
    """The demo's images under a key whose registry entry needs credentials (a billed service)."""

    key = "sentinelhub"


@pytest.mark.parametrize(
    ("source", "prefetch", "automatic"),
    [(DemoSource, True, True), (DemoSource, False, False), (BilledDemo, True, False)],
)
def test_the_series_fills_itself_only_where_a_fetch_costs_the_user_nothing(
    store,  # noqa: F811
    spec,  # noqa: F811
    source,
    prefetch,
    automatic,
):
    session = LabellingSession.start(store, source(), spec, prefetch=prefetch)
    assert session.series.automatic is automatic


def test_label_spectra_by_hand() -> None:
    means = pd.DataFrame(
        {
            "label_value": [2.0, 1.0],  # labels and bands out of order
            "label_name": ["water", "snow"],
            "n_samples": [2, 2],
            "B04": [0.2, 0.3],
            "B02": [0.5, 0.7],
            "B10": [np.nan, 0.2],
        }
    )
    out = spectra.label_spectra(means)
    assert list(out.columns) == ["label_value", "label_name", "band", "centre_nm", "reflectance"]
    assert [tuple(r) for r in out.itertuples(index=False)] == [
        (1.0, "snow", "B02", 492.4, 0.7),
        (1.0, "snow", "B04", 664.6, 0.3),
        (1.0, "snow", "B10", 1373.5, 0.2),
        (2.0, "water", "B02", 492.4, 0.5),
        (2.0, "water", "B04", 664.6, 0.2),  # no B10 row: water has no B10 value
    ]
    assert out["reflectance"].dtype == "float64" and out["centre_nm"].dtype == "float64"


def test_label_spectra_of_store_samples(filled: Store, samples: pd.DataFrame) -> None:  # noqa: F811
    """The Dataset page's chart data: database means in long format, checked against pandas."""
    out = spectra.label_spectra(filled.band_means())
    snow = out[out["label_value"] == 1.0]
    other = out[out["label_value"] == 2.0]
    assert snow["band"].tolist() == list(ALL_BAND_NAMES)
    assert "B10" not in other["band"].tolist() and len(other) == 12
    assert (other["label_name"] == "").all()
    for band in ("B02", "B8A", "B12"):
        want = samples.loc[samples["label_value"] == 1.0, band].mean()
        assert snow.loc[snow["band"] == band, "reflectance"].item() == pytest.approx(want, rel=1e-12)


def test_label_spectra_of_nothing() -> None:
    out = spectra.label_spectra(pd.DataFrame(columns=["label_value", "label_name", "n_samples", "B02"]))
    assert out.empty
    assert out.dtypes.astype(str).to_dict() == {
        "label_value": "float64",
        "label_name": "str",
        "band": "str",
        "centre_nm": "float64",
        "reflectance": "float64",
    }
