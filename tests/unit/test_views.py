"""Views: stretch over valid pixels, indices, colour maps and legends, custom band triplets."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.snow_cloud_contrast import snow_cloud_distance, winter_scene
from labeller import views
from labeller.bands import L1C, L2A
from labeller.errors import InvalidInputError
from labeller.render import composite
from labeller.views import VIEWS, Display, View


def test_stretch_limits_use_valid_pixels_only():
    stack = np.linspace(0.0, 1.0, 100, dtype=np.float32).reshape(10, 10, 1)
    valid = np.zeros((10, 10), dtype=bool)
    valid[:5] = True  # values 0 .. 0.495
    stack[~valid] = 50.0  # huge values where there is no data must not count
    low, high = views.stretch_limits(stack, valid)[:, 0]
    expected = np.percentile(np.linspace(0, 1, 100)[:50], views.PERCENTILES)
    assert low == pytest.approx(expected[0], abs=1e-6) and high == pytest.approx(expected[1], abs=1e-6)


def test_stretch_maps_limits_to_black_and_white():
    stack = np.array([[[0.1], [0.2], [0.3]]], dtype=np.float32)
    limits = np.array([[0.1], [0.3]], dtype=np.float32)
    out = views.apply_stretch(stack, limits, fixed_max=1.0)
    assert out[0, 0, 0] == 0.0 and out[0, 2, 0] == pytest.approx(1.0) and 0.0 < out[0, 1, 0] < 0.99
    assert views.apply_stretch(stack, limits, 1.0, brightness=2.0)[0, 1, 0] == pytest.approx(1.0)


def test_constant_and_empty_images_do_not_divide_by_zero():
    constant = np.full((4, 4, 3), 0.2, dtype=np.float32)
    valid = np.ones((4, 4), dtype=bool)
    limits = views.stretch_limits(constant, valid)
    assert (limits[0] == limits[1]).all()
    out = views.apply_stretch(constant, limits, fixed_max=0.4)
    assert np.allclose(out, 0.5**views.GAMMA)  # shown as the fixed stretch would
    none = views.stretch_limits(constant, np.zeros((4, 4), dtype=bool))
    assert (none == 0).all()
    assert np.isfinite(views.apply_stretch(constant, none, 0.4)).all()


def test_normalised_difference_values_and_nan():
    a = np.array([0.5, 0.0, 0.3, np.nan], dtype=np.float32)
    b = np.array([0.1, 0.0, 0.3, 0.2], dtype=np.float32)
    nd = views.normalised_difference(a, b)
    assert nd[0] == pytest.approx(0.4 / 0.6)
    assert np.isnan(nd[1]) and nd[2] == 0.0 and np.isnan(nd[3])
    assert views.normalised_difference(np.float32(-0.5), np.float32(0.1)) == 1.0  # 1.5, clipped


@pytest.mark.parametrize("name", views.INDEX_NAMES)
def test_each_index_view_reads_its_bands(name):
    view = views.index_view(name)
    bands = np.zeros((1, 1, len(L1C.band_names)), dtype=np.float32)
    a, b = view.bands
    bands[0, 0, L1C.band_names.index(a)] = 0.6
    bands[0, 0, L1C.band_names.index(b)] = 0.2
    rgb = views.to_rgb(bands, L1C.band_names, np.ones((1, 1), bool), Display(view))
    expected = views.normalised_difference(np.float32(0.6), np.float32(0.2))
    assert expected == pytest.approx(0.5)
    assert tuple(rgb[0, 0]) == tuple(views.colorize(np.array([expected]), view.colormap)[0])


def test_colormap_ends_nan_and_legend():
    cmap = views.GREENS
    rgb = views.colorize(np.array([-1.0, 1.0, np.nan, 5.0], dtype=np.float32), cmap)
    assert tuple(rgb[0]) == cmap[0][1] and tuple(rgb[1]) == cmap[-1][1]
    assert tuple(rgb[2]) == views.NAN_RGB and tuple(rgb[3]) == cmap[-1][1]
    bar = views.legend(views.index_view("NDVI"), width=50, height=6)
    assert bar.shape == (6, 50, 3) and tuple(bar[0, 0]) == cmap[0][1] and tuple(bar[0, -1]) == cmap[-1][1]


def test_custom_triplet_is_validated():
    view = views.custom_view("B12", "B11", "B8A", L2A.band_names)
    assert view.bands == ("B12", "B11", "B8A") and view.kind == "composite"
    with pytest.raises(InvalidInputError, match="no B10 .*for red.*choose one of B01"):
        views.custom_view("B10", "B03", "B02", L2A.band_names)
    with pytest.raises(InvalidInputError, match="'B13' .*for blue.*not a Sentinel-2 band"):
        views.custom_view("B04", "B03", "B13", L1C.band_names)


def test_a_view_needing_a_missing_band_says_so():
    with pytest.raises(InvalidInputError, match="has no B10"):
        views.band_stack(np.zeros((1, 1, 12)), L2A.band_names, ("B10", "B03", "B02"))


def test_fixed_stretch_is_the_same_on_every_image():
    view = View("t", "t", ("B04", "B03", "B02"), fixed_max=0.4)
    bands = np.zeros((1, 2, 13), dtype=np.float32)
    bands[0, 0, L1C.band_names.index("B04")] = 0.2
    rgb = views.to_rgb(bands, L1C.band_names, np.ones((1, 2), bool), Display(view, "fixed"))
    assert rgb[0, 0, 0] == int(0.5**views.GAMMA * 255 + 0.5) and rgb[0, 1, 0] == 0


def test_demo_winter_image_snow_and_cloud_far_apart_in_the_best_view():
    scene, truth = winter_scene()
    scores = {name: snow_cloud_distance(composite(scene, name), truth, scene.valid) for name in VIEWS}
    assert max(scores.values()) >= 150, scores
    assert scores["snow"] >= 150
    assert scores["true"] > 100  # stretched to the image, no longer all white


def test_view_keys_round_trip_through_the_address():
    for key, view in VIEWS.items():
        assert views.view_of_key(key, L1C.band_names) is view
    custom = views.view_of_key("custom-B12-B11-B8A", L2A.band_names)
    assert custom.bands == ("B12", "B11", "B8A") and custom.key == "custom-B12-B11-B8A"
    for unknown in ("", "nonsense", "custom-B10-B03-B02", "custom-B04"):  # B10: not in L2A
        assert views.view_of_key(unknown, L2A.band_names) is VIEWS[views.DEFAULT_VIEW]


def test_cloud_probability_layer_view():
    view = views.view_of_key(views.CLOUD_VIEW_KEY, L1C.band_names)
    bands = np.zeros((1, 2, 13), dtype=np.float32)
    layer = np.array([[0.0, 1.0]], dtype=np.float32)
    rgb = views.to_rgb(
        bands, L1C.band_names, np.ones((1, 2), bool), Display(view), layers={views.CLOUD_LAYER: layer}
    )
    assert tuple(rgb[0, 0]) == views.REDS[0][1] and tuple(rgb[0, 1]) == views.REDS[-1][1]
    with pytest.raises(InvalidInputError, match="no cloud probability layer"):
        views.to_rgb(bands, L1C.band_names, np.ones((1, 2), bool), Display(view), layers={})
