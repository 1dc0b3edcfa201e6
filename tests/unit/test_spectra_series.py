"""Spectra of the selection, the label's saved mean ± sd, pixel details and the index series."""

from __future__ import annotations

import time

import numpy as np
import pytest

from labeller import spectra, views
from labeller.store import SampleFilter
from labeller.timeseries import index_map, series_rows
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
    table = spectra.selection_spectra(scene, picks)
    assert len(table) == 2 * 12 and set(table["state"]) == {"clear"}  # 13 bands less B10
    scene.extra["SCL"] = np.full(scene.valid.shape, 9)  # Level-2A: cloud, high probability
    assert set(spectra.selection_spectra(scene, picks)["state"]) == {"flagged (cloud)"}
    details = spectra.pixel_details(scene, session.aoi, picks[0])
    assert details["row"] == picks[0][0] and details["flagged (cloud)"] is True
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
