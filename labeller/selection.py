"""Selected pixels on the AOI grid, and the mapping from a click on the shown image to a pixel.

A selection is a frozenset of (row, col). Every scene of an AOI shares one grid, so the
same set carries from one acquisition to the next unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

Pixel = tuple[int, int]
Selection = frozenset[Pixel]


def click_to_pixel(
    x: float, y: float, shown_width: float, shown_height: float, rows: int, cols: int
) -> Pixel:
    """The (row, col) under a click at (x, y) on an image shown at shown_width × shown_height.

    Works at any display size: the click is scaled to the grid, then clamped to it.
    """
    if shown_width <= 0 or shown_height <= 0:
        raise ValueError("the shown image has no size")
    col = int(np.floor(x * cols / shown_width))
    row = int(np.floor(y * rows / shown_height))
    return min(max(row, 0), rows - 1), min(max(col, 0), cols - 1)


def toggle(selection: Selection, pixel: Pixel, valid: np.ndarray) -> Selection:
    """Add the pixel, or remove it if already selected. Pixels without valid data are not added."""
    if pixel in selection:
        return selection - {pixel}
    if not is_valid(pixel, valid):
        return selection
    return selection | {pixel}


def is_valid(pixel: Pixel, valid: np.ndarray) -> bool:
    """True when the pixel lies on the grid and has data."""
    row, col = pixel
    rows, cols = valid.shape
    return 0 <= row < rows and 0 <= col < cols and bool(valid[row, col])


def valid_only(selection: Iterable[Pixel], valid: np.ndarray) -> Selection:
    """The pixels of the selection that have data in this scene."""
    return frozenset(p for p in selection if is_valid(p, valid))


def as_mask(selection: Iterable[Pixel], shape: tuple[int, int]) -> np.ndarray:
    """A (rows, cols) bool mask of the selection (pixels off the grid ignored)."""
    mask = np.zeros(shape, dtype=bool)
    pixels = [(r, c) for r, c in selection if 0 <= r < shape[0] and 0 <= c < shape[1]]
    if pixels:
        rows, cols = zip(*pixels, strict=True)
        mask[list(rows), list(cols)] = True
    return mask
