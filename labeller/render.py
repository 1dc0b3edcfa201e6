"""A scene in a view (see ``labeller.views``), enlarged nearest-neighbour, with the selection drawn on top."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from labeller.png import Png, StripEncoder
from labeller.scenes import Scene
from labeller.selection import Pixel
from labeller.views import DEFAULT_VIEW, VIEWS, Display, to_rgb

TARGET_SIDE_PX = 512
"""Longest side of the enlarged image; fits a 1366 × 768 laptop screen beside the controls."""
MIN_FACTOR, MAX_FACTOR = 4, 32
"""A grid pixel is shown at 4 to 32 screen pixels, so a single pixel stays easy to hit."""

OUTLINE_RGB = np.array([255, 221, 0], dtype=np.uint8)
"""Selection outline: saturated yellow, visible on vegetation, water, snow and cloud."""
OUTLINE_INNER_RGB = np.array([0, 0, 0], dtype=np.uint8)
"""The dark frame just outside each selected pixel."""
FLAG_RGB = np.array([230, 0, 60], dtype=np.uint8)
FLAG_GAP_RGB = np.array([255, 255, 255], dtype=np.uint8)
"""A flagged pixel: dashed frame (red dashes, white gaps) and a red cross."""
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


def _cross(factor: int) -> np.ndarray:
    """(factor, factor) bool: the two diagonals."""
    i, j = np.indices((factor, factor))
    return (i == j) | (i + j == factor - 1)


def _dashed_ring(side: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(side, side) bool masks of a ring of ``width``: its dashes and its gaps."""
    ring = _ring(side, width)
    i, j = np.indices((side, side))
    dash = max(2, side // 6)
    on = ((i + j) // dash) % 2 == 0
    return ring & on, ring & ~on


def margin(factor: int) -> int:
    """How far a selection marker reaches outside its pixel: 2 screen pixels at small
    enlargements (so a 4× pixel still gets an 8 px two-tone frame), factor/8 above."""
    return 2 if factor < 16 else factor // 8


def draw_selection(
    enlarged: np.ndarray, selection: Iterable[Pixel], factor: int, flagged: Iterable[Pixel] = ()
) -> np.ndarray:
    """A copy of the enlarged image with each selected pixel marked, visible at every
    enlargement and on any ground. A clean pixel: a dark frame just outside it and a yellow
    ring inside it. A ``flagged`` pixel (selected, but cloudy or without data here): a dashed
    red-and-white frame outside it and a red cross over it, so the two differ in shape, not
    only in colour. The pixel's own colour stays visible in the middle."""
    rows, cols = enlarged.shape[0] // factor, enlarged.shape[1] // factor
    pixels = [(r, c) for r, c in set(selection) if 0 <= r < rows and 0 <= c < cols]
    out = enlarged.copy()
    if not pixels:
        return out
    flagged = set(flagged)
    m, inner = margin(factor), max(1, factor // 8)
    side = factor + 2 * m
    frame = _ring(side, m)
    dashes, gaps = _dashed_ring(side, m)
    ring, cross = _ring(factor, inner), _cross(factor)
    height, width = out.shape[:2]

    def box(r: int, c: int) -> tuple[slice, slice, slice, slice]:
        """The marker's area on the image, and the same area within a (side, side) marker."""
        top, left = r * factor - m, c * factor - m
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + side, height), min(left + side, width)
        return slice(y0, y1), slice(x0, x1), slice(y0 - top, y1 - top), slice(x0 - left, x1 - left)

    for r, c in pixels:  # frames first: a neighbour's frame must not cover a selected pixel
        ys, xs, my, mx = box(r, c)
        if (r, c) in flagged:
            out[ys, xs][dashes[my, mx]] = FLAG_RGB
            out[ys, xs][gaps[my, mx]] = FLAG_GAP_RGB
        else:
            out[ys, xs][frame[my, mx]] = OUTLINE_INNER_RGB
    for r, c in pixels:
        ys, xs = slice(r * factor, (r + 1) * factor), slice(c * factor, (c + 1) * factor)
        cell = enlarged[ys, xs].copy()
        if (r, c) in flagged:
            cell[cross] = FLAG_RGB
        else:
            cell[ring] = OUTLINE_RGB
        out[ys, xs] = cell
    return out


def dim_outside(rgb: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The composite with the pixels outside the typed box (``inside`` False) dimmed."""
    if inside.all():
        return rgb
    dimmed = (rgb.astype(np.uint16) * 2 // 5 + 40).astype(np.uint8)
    return np.where(inside[..., None], rgb, dimmed)


class OutlinedPicture:
    """One enlarged composite, encoded as PNG with a selection outlined. Each grid row is its
    own strip of the PNG, so after a click only that row and its two neighbours (a marker's
    frame reaches ``margin`` screen pixels into them) are drawn and compressed again."""

    def __init__(self, enlarged: np.ndarray, factor: int) -> None:
        self.enlarged, self.factor = enlarged, factor
        self._encoder = StripEncoder(enlarged.shape[0], enlarged.shape[1], factor)

    def png(self, selection: Iterable[Pixel], flagged: Iterable[Pixel] = ()) -> Png:
        rows = self._encoder.strips
        flagged = set(flagged)
        cols_of: list[set[int]] = [set() for _ in range(rows)]
        flags_of: list[set[int]] = [set() for _ in range(rows)]
        for row, col in selection:
            if 0 <= row < rows:
                cols_of[row].add(col)
                if (row, col) in flagged:
                    flags_of[row].add(col)
        own = [(frozenset(c), frozenset(g)) for c, g in zip(cols_of, flags_of, strict=True)]
        keys = [
            tuple(own[r] if 0 <= r < rows else None for r in (row - 1, row, row + 1)) for row in range(rows)
        ]
        f = self.factor

        def draw(row: int) -> np.ndarray:
            first, last = max(row - 1, 0), min(row + 2, rows)
            window = self.enlarged[first * f : last * f]
            chosen = {(r - first, c) for r in range(first, last) for c in own[r][0]}
            crossed = {(r - first, c) for r in range(first, last) for c in own[r][1]}
            drawn = draw_selection(window, chosen, f, crossed)
            top = (row - first) * f
            return drawn[top : top + f]

        height, width = self.enlarged.shape[:2]
        return Png(self._encoder.encode(keys, draw), width, height)
