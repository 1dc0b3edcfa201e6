"""A scene in a view (see ``labeller.views``), enlarged nearest-neighbour, with the selection drawn on top."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from labeller.png import Png, StripEncoder
from labeller.selection import Pixel, as_mask
from labeller.sources.base import Scene
from labeller.views import DEFAULT_VIEW, VIEWS, Display, to_rgb

TARGET_SIDE_PX = 512
"""Longest side of the enlarged image; fits a 1366 × 768 laptop screen beside the controls."""
MIN_FACTOR, MAX_FACTOR = 4, 32
"""A grid pixel is shown at 4 to 32 screen pixels, so a single pixel stays easy to hit."""

OUTLINE_RGB = np.array([255, 221, 0], dtype=np.uint8)
"""Selection outline: saturated yellow, visible on vegetation, water, snow and cloud."""
OUTLINE_INNER_RGB = np.array([0, 0, 0], dtype=np.uint8)
NODATA_RGB = (np.array([60, 60, 60], dtype=np.uint8), np.array([110, 110, 110], dtype=np.uint8))


def upscale_factor(rows: int, cols: int, target: int = TARGET_SIDE_PX) -> int:
    """Integer enlargement so the longest side is about ``target`` screen pixels."""
    return int(np.clip(target // max(rows, cols, 1), MIN_FACTOR, MAX_FACTOR))


def composite(
    scene: Scene, display: Display | str = DEFAULT_VIEW, limits: np.ndarray | None = None
) -> np.ndarray:
    """(rows, cols, 3) uint8 image of the scene in a view (a ``Display`` or a view's name);
    pixels without data drawn as a grey checker. ``limits``: stretch limits to reuse."""
    if isinstance(display, str):
        display = Display(VIEWS[display])
    rgb = to_rgb(scene.bands, scene.band_names, scene.valid, display, limits, scene.extra)
    if not scene.valid.all():
        rows, cols = np.indices(scene.valid.shape)
        checker = np.where(((rows + cols) % 2 == 0)[..., None], *NODATA_RGB)
        rgb = np.where(scene.valid[..., None], rgb, checker)
    return rgb


def enlarge(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor."""
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def _ring(factor: int, width: int) -> np.ndarray:
    """(factor, factor) bool: True on a border of the given width."""
    ring = np.zeros((factor, factor), dtype=bool)
    ring[:width, :] = ring[-width:, :] = ring[:, :width] = ring[:, -width:] = True
    return ring


def draw_selection(enlarged: np.ndarray, selection: Iterable[Pixel], factor: int) -> np.ndarray:
    """A copy of the enlarged image with each selected pixel outlined: a yellow ring, with a
    black ring inside when pixels are shown large enough (visible on cloud and snow too)."""
    rows, cols = enlarged.shape[0] // factor, enlarged.shape[1] // factor
    mask = as_mask(selection, (rows, cols))
    out = enlarged.copy()
    if not mask.any():
        return out
    width = max(1, factor // 8)
    outer = np.kron(mask, _ring(factor, width)).astype(bool)
    out[outer] = OUTLINE_RGB
    if factor >= 8:  # room for a dark inner ring and still most of the pixel's own colour
        inner = np.kron(mask, _ring(factor, 2 * width) & ~_ring(factor, width)).astype(bool)
        out[inner] = OUTLINE_INNER_RGB
    return out


class OutlinedPicture:
    """One enlarged composite, encoded as PNG with a selection outlined. Each grid row is its
    own strip of the PNG, so after a click only that row is drawn and compressed again."""

    def __init__(self, enlarged: np.ndarray, factor: int) -> None:
        self.enlarged, self.factor = enlarged, factor
        self._encoder = StripEncoder(enlarged.shape[0], enlarged.shape[1], factor)

    def png(self, selection: Iterable[Pixel]) -> Png:
        rows = self._encoder.strips
        cols_of: list[set[int]] = [set() for _ in range(rows)]
        for row, col in selection:
            if 0 <= row < rows:
                cols_of[row].add(col)
        keys = [frozenset(cols) for cols in cols_of]
        f = self.factor

        def draw(row: int) -> np.ndarray:
            strip = self.enlarged[row * f : (row + 1) * f]
            return draw_selection(strip, {(0, col) for col in keys[row]}, f)

        height, width = self.enlarged.shape[:2]
        return Png(self._encoder.encode(keys, draw), width, height)
