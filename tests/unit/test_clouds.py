"""Per-pixel clouds (issue 9): s2cloudless input, SCL mapping, the area fraction, the guard's
decision table, a failing detector, and the real Level-1C sample."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from labeller import clouds
from labeller.bands import L1C, L2A
from labeller.cloud_guard import SKIP_REASONS, Verdict, header_note, judge, looks_shadowed
from labeller.clouds import CloudLayer
from tests.unit.store_builders import make_acquisition, make_scene

VALID = np.ones((3, 4), dtype=bool)


def prob_layer(values) -> CloudLayer:
    return CloudLayer("s2cloudless", probability=np.asarray(values, dtype=np.float32))


# --- s2cloudless input ----------------------------------------------------------------------


def test_detector_input_has_s2cloudless_band_order_and_reflectance_scaling():
    from s2cloudless.utils import MODEL_BAND_IDS, MODEL_BANDS, S2_BANDS

    assert tuple(S2_BANDS) == clouds.DETECTOR_BANDS
    # The ten bands the model reads, picked by s2cloudless itself from our 13.
    assert [clouds.DETECTOR_BANDS[i] for i in MODEL_BAND_IDS] == MODEL_BANDS
    # A scene whose bands come in another order: each band lands where s2cloudless wants it.
    shuffled = tuple(reversed(L1C.band_names))
    bands = np.zeros((2, 2, 13), dtype=np.float32)
    for i, name in enumerate(shuffled):
        bands[..., i] = (L1C.band_names.index(name) + 1) / 100  # B01 -> 0.01 ... B12 -> 0.13
    valid = np.array([[True, True], [True, False]])
    data = clouds.detector_input(shuffled, bands, valid)
    assert data.shape == (1, 2, 2, 13) and data.dtype == np.float32
    assert np.allclose(data[0, 0, 0], np.arange(1, 14) / 100)  # reflectance 0-1, unscaled
    assert (data[0, 1, 1] == 0).all()  # no data -> 0


def test_detector_input_refuses_a_scene_without_b10():
    bands = np.zeros((2, 2, 12), dtype=np.float32)
    with pytest.raises(clouds.DetectorError, match="B10"):
        clouds.detector_input(L2A.band_names, bands, np.ones((2, 2), bool))


def test_probability_matches_the_detector_run_directly_and_is_nan_without_data():
    from s2cloudless import S2PixelCloudDetector

    scene = make_scene(make_acquisition("A1"))  # about a quarter of its pixels without data
    prob = clouds.cloud_probability(scene.band_names, scene.bands, scene.valid)
    direct = S2PixelCloudDetector(all_bands=True).get_cloud_probability_maps(scene.bands[None])[0]
    assert np.isnan(prob[~scene.valid]).all() and np.isfinite(prob[scene.valid]).all()
    assert np.allclose(prob[scene.valid], direct[scene.valid], atol=1e-6)


# --- SCL and the layer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scl, reason",
    [
        (0, "no data"),
        (1, "no data"),
        (2, None),
        (3, "shadow"),
        (4, None),
        (5, None),
        (6, None),
        (7, None),
        (8, "cloud"),
        (9, "cloud"),
        (10, "cirrus"),
        (11, None),  # snow is kept apart from cloud
    ],
)
def test_scl_classes_map_to_flags(scl, reason):
    layer = CloudLayer("scl", scl=np.full((3, 4), scl, dtype=np.uint8))
    assert layer.reason((1, 1), VALID, 0.4) == reason
    assert bool(layer.cloudy(VALID)[1, 1]) == (reason in ("shadow", "cloud", "cirrus"))


def test_layer_of_a_scene_reads_what_attach_stored_or_the_sources_scl():
    scene = make_scene(make_acquisition("A1"))
    assert CloudLayer.of(scene).kind == "none"
    attached = clouds.attach(scene)
    layer = CloudLayer.of(attached)
    assert layer.kind == "s2cloudless" and layer.probability.shape == scene.valid.shape
    assert clouds.attach(attached) is attached  # computed once
    l2a = replace(scene, extra={"SCL": np.full(scene.valid.shape, 9, np.uint8)})
    assert clouds.attach(l2a) is l2a and CloudLayer.of(l2a).kind == "scl"


def test_area_fraction_counts_valid_pixels_only():
    layer = prob_layer([[0.9, 0.9, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [0.9, np.nan, np.nan, np.nan]])
    valid = np.array([[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0]], dtype=bool)
    assert layer.area_fraction(valid, 0.4) == 2 / 8
    assert layer.area_fraction(np.zeros_like(valid), 0.4) is None
    assert CloudLayer("none", error="x").area_fraction(valid) is None
    scl = CloudLayer("scl", scl=np.array([[3, 4, 11, 10], [8, 9, 6, 5], [0, 0, 0, 0]], np.uint8))
    assert scl.area_fraction(valid) == 4 / 8  # shadow, cirrus, two clouds; snow is not cloud


# --- The guard's decision table ---------------------------------------------------------------

THRESHOLD = 0.4
PIXELS = {
    "clear": ((0, 0), 0.05),
    "thin cloud below": ((0, 1), np.nextafter(np.float32(THRESHOLD), np.float32(0))),
    "at threshold": ((0, 2), THRESHOLD),
    "thick cloud": ((0, 3), 0.97),
    "no data": ((1, 0), np.nan),
}


@pytest.mark.parametrize(
    "include, saved",
    [
        (False, {"clear", "thin cloud below"}),
        (True, {"clear", "thin cloud below", "at threshold", "thick cloud"}),  # never no data
    ],
)
def test_guard_decision_table(include, saved):
    probability = np.zeros((3, 4), dtype=np.float32)
    valid = VALID.copy()
    for pixel, value in PIXELS.values():
        probability[pixel] = value
    valid[PIXELS["no data"][0]] = False
    selection = frozenset(p for p, _ in PIXELS.values())
    verdict = judge(selection, valid, prob_layer(probability), THRESHOLD)
    name_of = {p: name for name, (p, _) in PIXELS.items()}
    assert {name_of[p]: why for p, why in verdict.flagged.items()} == {
        "at threshold": "cloud",
        "thick cloud": "cloud",
        "no data": "no data",
    }
    assert {name_of[p] for p in verdict.to_save(selection, include)} == saved
    assert header_note(len(selection), verdict, include) == (
        f"5 pixels selected · 2 look cloudy here, {'saved anyway' if include else 'not saved'} · "
        "1 without data here, not saved"
    )


def test_threshold_edges_just_above_and_below():
    layer = prob_layer(np.full((3, 4), 0.5, dtype=np.float32))
    assert judge({(0, 0)}, VALID, layer, 0.5).flagged == {(0, 0): "cloud"}
    assert judge({(0, 0)}, VALID, layer, float(np.nextafter(np.float32(0.5), np.float32(1)))).flagged == {}


def test_shadow_is_flagged_from_a_clean_reference_but_snow_and_season_are_not():
    names = L1C.band_names
    reference = np.full(13, 0.30, dtype=np.float32)
    shadow = reference * 0.5  # dimmer in every band
    snow = reference * 2.5  # brighter
    greening = reference.copy()
    greening[names.index("B8A")] *= 1.4  # NIR up, SWIR down: a season, not a shadow
    greening[names.index("B11")] *= 0.7
    greening[names.index("B12")] *= 0.6
    assert looks_shadowed(shadow, reference, names)
    assert not looks_shadowed(snow, reference, names)
    assert not looks_shadowed(greening, reference, names)
    scene = make_scene(make_acquisition("A1"))
    bands = scene.bands.copy()
    bands[0, 0] = shadow
    bands[0, 1] = snow
    scene = replace(scene, bands=bands, valid=np.ones_like(scene.valid))
    layer = prob_layer(np.zeros(scene.valid.shape, np.float32))
    refs = {(0, 0): reference, (0, 1): reference}
    verdict = judge({(0, 0), (0, 1), (0, 2)}, scene.valid, layer, 0.4, scene, refs)
    assert verdict.flagged == {(0, 0): "shadow"}


def test_no_cloud_information_flags_only_pixels_without_data():
    valid = VALID.copy()
    valid[2, 3] = False
    verdict = judge({(0, 0), (2, 3)}, valid, CloudLayer("none", error="No cloud flags"), 0.4)
    assert verdict.flagged == {(2, 3): "no data"} and not verdict.available
    assert verdict.message == "No cloud flags" and verdict.cloudy == frozenset()


def test_skip_reasons_are_the_issues_list():
    assert SKIP_REASONS == ("overcast", "clouds over my pixels", "shadow", "haze", "snow", "no data", "other")
    assert Verdict().to_save({(1, 1)}, False) == {(1, 1)}


# --- The harmonisation flag -------------------------------------------------------------------


@pytest.mark.parametrize(
    "baselines, removed",
    [
        ("05.10", True),
        ("04.00", True),
        ("03.01", False),
        ("02.04", False),
        ("02.14/05.09", True),
        (None, None),
    ],
)
def test_harmonisation_flag_says_what_was_done(baselines, removed):
    from labeller.bands import offset_removed

    assert offset_removed(baselines) is removed


# --- A failing detector -----------------------------------------------------------------------


def test_a_failing_detector_leaves_a_clear_reason_and_no_flags(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr(
        clouds, "_get_detector", lambda: type("D", (), {"get_cloud_probability_maps": broken})()
    )
    scene = clouds.attach(make_scene(make_acquisition("A1")))
    layer = CloudLayer.of(scene)
    assert not layer.available and clouds.PROBABILITY not in scene.extra
    assert "No cloud flags for this image" in layer.error and "Judge clouds by eye" in layer.error
    assert "RuntimeError" in layer.error


# --- The real Level-1C sample -----------------------------------------------------------------


def test_real_sample_overcast_dates_are_cloudy_and_clear_dates_clear(real_sample):
    names = tuple(str(n) for n in real_sample["band_names"])
    shares = []
    for image in real_sample["bands"]:
        valid = np.ones(image.shape[:2], dtype=bool)
        layer = CloudLayer("s2cloudless", probability=clouds.cloud_probability(names, image, valid))
        shares.append(layer.area_fraction(valid, clouds.DEFAULT_THRESHOLD))
    clear, overcast = [shares[i] for i in (0, 3, 4)], [shares[i] for i in (1, 2)]
    assert all(s < 0.01 for s in clear), shares
    assert all(s > 0.9 for s in overcast), shares
    # A pixel picked on a clear date is flagged on both cloudy dates.
    probability = clouds.cloud_probability(names, real_sample["bands"][2], np.ones((101, 100), bool))
    verdict = judge({(50, 50), (10, 90)}, np.ones((101, 100), bool), prob_layer(probability), 0.4)
    assert verdict.flagged == {(50, 50): "cloud", (10, 90): "cloud"}


def test_the_scene_cache_keeps_the_cloud_layer_beside_the_bands(tmp_path, monkeypatch):
    from labeller.scene_cache import SceneCache

    cache = SceneCache(tmp_path)
    scene = clouds.attach(make_scene(make_acquisition("A1")))
    cache.put("k1", scene)
    back = cache.get("k1")
    np.testing.assert_array_equal(back.extra[clouds.PROBABILITY], scene.extra[clouds.PROBABILITY])
    assert clouds.attach(back) is back  # not computed again

    monkeypatch.setattr(clouds, "_get_detector", lambda: 1 / 0)
    failed = clouds.attach(make_scene(make_acquisition("A2")))
    cache.put("k2", failed)
    assert CloudLayer.of(cache.get("k2")).error == CloudLayer.of(failed).error


def test_blue_band_confirms_or_adds_clouds_against_a_clean_reference():
    names = L1C.band_names
    b02 = names.index("B02")
    scene = make_scene(make_acquisition("A1"))
    scene = replace(scene, valid=np.ones_like(scene.valid))
    reference = scene.bands[0, 0].copy()
    bands = scene.bands.copy()
    bands[0, 0] = reference  # bright, detector unsure, but unchanged: its clear self
    bands[0, 1] = reference
    bands[0, 1, b02] += 0.1  # veiled: blue rose a lot
    bands[0, 2] = reference  # the detector is sure
    scene = replace(scene, bands=bands)
    probability = np.zeros(scene.valid.shape, np.float32)
    probability[0, 0], probability[0, 1], probability[0, 2] = 0.6, 0.25, 0.95
    refs = {(0, 0): reference, (0, 1): reference, (0, 2): reference}
    verdict = judge({(0, 0), (0, 1), (0, 2)}, scene.valid, prob_layer(probability), 0.4, scene, refs)
    assert verdict.flagged == {(0, 1): "cloud", (0, 2): "cloud"}
    # Without references the detector alone decides.
    alone = judge({(0, 0), (0, 1), (0, 2)}, scene.valid, prob_layer(probability), 0.4)
    assert alone.flagged == {(0, 0): "cloud", (0, 2): "cloud"}
