from datetime import UTC, datetime

import numpy as np
import pytest

from labeller import render
from labeller.bands import L1C
from labeller.scenes import Acquisition, Scene
from labeller.selection import as_mask, click_to_pixel, toggle, valid_only


def make_scene(rows=20, cols=30, seed=0, invalid=()):
    rng = np.random.default_rng(seed)
    bands = rng.uniform(0.0, 0.4, (rows, cols, len(L1C.band_names))).astype(np.float32)
    valid = np.ones((rows, cols), dtype=bool)
    for r, c in invalid:
        valid[r, c] = False
        bands[r, c] = 0
    acq = Acquisition("A1", datetime(2024, 6, 1, 10, 30, tzinfo=UTC), 5.0)
    return Scene(acq, L1C.band_names, bands, valid, 30.0, 150.0)


def shown_image(scene: Scene, selection, factor: int, flagged=()) -> np.ndarray:
    """What the labelling view shows: the enlarged composite with the selection outlined."""
    return render.draw_selection(render.enlarge(render.composite(scene), factor), selection, factor, flagged)


@pytest.mark.parametrize("shown_w, shown_h", [(120, 80), (600, 400), (333, 222), (1200, 800)])
def test_click_maps_to_the_pixel_under_it_at_any_display_size(shown_w, shown_h):
    rows, cols = 20, 30
    for row, col in [(0, 0), (19, 29), (7, 13), (10, 0)]:
        # The centre of cell (row, col) on the shown image.
        x = (col + 0.5) * shown_w / cols
        y = (row + 0.5) * shown_h / rows
        assert click_to_pixel(x, y, shown_w, shown_h, rows, cols) == (row, col)
    # Clicks on the very edge or outside are clamped onto the grid.
    assert click_to_pixel(shown_w, shown_h, shown_w, shown_h, rows, cols) == (rows - 1, cols - 1)
    assert click_to_pixel(-3, -3, shown_w, shown_h, rows, cols) == (0, 0)


def test_toggle_selects_then_deselects_and_refuses_pixels_without_data():
    valid = np.ones((5, 5), dtype=bool)
    valid[2, 2] = False
    sel = toggle(frozenset(), (1, 1), valid)
    assert sel == {(1, 1)}
    assert toggle(sel, (1, 1), valid) == frozenset()
    assert toggle(sel, (2, 2), valid) == sel
    assert toggle(sel, (9, 9), valid) == sel
    assert valid_only({(1, 1), (2, 2)}, valid) == {(1, 1)}


def test_mask_of_selection():
    mask = as_mask({(0, 1), (3, 4), (99, 99)}, (4, 5))
    assert mask.sum() == 2 and mask[0, 1] and mask[3, 4]


@pytest.mark.parametrize(
    "rows, cols, factor", [(128, 128, 4), (200, 200, 4), (100, 50, 5), (10, 10, 32), (1, 3, 32), (60, 20, 8)]
)
def test_upscale_factor_fits_a_laptop(rows, cols, factor):
    assert render.upscale_factor(rows, cols) == factor


def test_render_size_and_selection_outline():
    scene = make_scene(invalid=[(5, 5)])
    factor = 8
    plain = shown_image(scene, frozenset(), factor)
    assert plain.shape == (20 * factor, 30 * factor, 3) and plain.dtype == np.uint8
    # Nearest neighbour: every cell is one flat colour.
    cell = plain[3 * factor : 4 * factor, 4 * factor : 5 * factor]
    assert (cell == cell[0, 0]).all()
    shown = shown_image(scene, {(3, 4)}, factor)
    changed = np.any(shown != plain, axis=-1)
    # Only the selected cell's border (yellow) and a 2 px dark frame just outside it change.
    rows, cols = np.nonzero(changed)
    assert render.margin(factor) == 2
    assert rows.min() == 3 * factor - 2 and rows.max() == 4 * factor + 1
    assert cols.min() == 4 * factor - 2 and cols.max() == 5 * factor + 1
    assert (shown[3 * factor, 4 * factor] == render.OUTLINE_RGB).all()
    assert (shown[3 * factor - 1, 4 * factor] == render.OUTLINE_INNER_RGB).all()
    assert (shown[3 * factor - 2, 4 * factor] == render.OUTLINE_INNER_RGB).all()


@pytest.mark.parametrize("factor", [4, 5, 8, 32])
def test_flagged_pixels_are_crossed_in_a_dashed_frame_and_neighbours_keep_their_colour(factor):
    scene = make_scene()
    plain = shown_image(scene, frozenset(), factor)
    shown = shown_image(scene, {(3, 4), (3, 5), (8, 8)}, factor, flagged={(8, 8)})
    f, m = factor, render.margin(factor)
    clean = shown[3 * f : 4 * f, 4 * f : 5 * f].reshape(-1, 3)
    crossed = shown[8 * f : 9 * f, 8 * f : 9 * f]
    # The flagged cell: red on both diagonals, never the clean yellow.
    assert all((crossed[i, i] == render.FLAG_RGB).all() for i in range(f))
    assert all((crossed[i, f - 1 - i] == render.FLAG_RGB).all() for i in range(f))
    assert not (crossed.reshape(-1, 3) == render.OUTLINE_RGB).all(axis=1).any()
    assert (clean == render.OUTLINE_RGB).all(axis=1).any()
    # Its frame outside is dashed: red and white alternate along the top edge.
    top = shown[8 * f - m, 8 * f - m : 9 * f + m]
    colours = {tuple(c) for c in top}
    assert colours == {tuple(render.FLAG_RGB), tuple(render.FLAG_GAP_RGB)}
    # Two selected neighbours: neither's frame covers the other's cell.
    neighbour = shown[3 * f : 4 * f, 5 * f : 6 * f]
    assert (neighbour[0, :] == render.OUTLINE_RGB).all()
    inside = slice(max(1, f // 8), f - max(1, f // 8))
    assert (neighbour[inside, inside] == plain[3 * f : 4 * f, 5 * f : 6 * f][inside, inside]).all()
    centre = (3 * factor + factor // 2, 4 * factor + factor // 2)
    assert (shown[centre] == plain[centre]).all()


def test_pixels_without_data_are_drawn_as_a_grey_checker():
    scene = make_scene(invalid=[(5, 5), (5, 6)])
    rgb = render.composite(scene)
    greys = {tuple(c) for c in render.NODATA_RGB}
    assert tuple(rgb[5, 5]) in greys and tuple(rgb[5, 6]) in greys and tuple(rgb[5, 5]) != tuple(rgb[5, 6])


def test_true_colour_uses_red_green_blue_bands():
    scene = make_scene()
    scene.bands[..., :] = 0
    scene.bands[0, 0, L1C.band_names.index("B04")] = 0.4  # red only
    rgb = render.composite(scene)
    assert rgb[0, 0, 0] == 255 and rgb[0, 0, 1] == 0 and rgb[0, 0, 2] == 0
