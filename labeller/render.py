"""Composites of a scene, enlarged nearest-neighbour, with the selection drawn on top."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from labeller.selection import Pixel, as_mask
from labeller.sources.base import Scene

TARGET_SIDE_PX = 512
"""Longest side of the enlarged image; fits a 1366 × 768 laptop screen beside the controls."""
MIN_FACTOR, MAX_FACTOR = 4, 32
"""A grid pixel is shown at 4 to 32 screen pixels, so a single pixel stays easy to hit."""

COMPOSITES: dict[str, tuple[tuple[str, str, str], float]] = {
    "True colour (B04, B03, B02)": (("B04", "B03", "B02"), 2.5),
    "False colour (B08, B04, B03)": (("B08", "B04", "B03"), 1.8),
    "SWIR (B12, B8A, B04)": (("B12", "B8A", "B04"), 1.8),
}
"""Name → (red, green, blue bands, gain). SWIR tells snow (dark in B12) from cloud (bright)."""
DEFAULT_COMPOSITE = next(iter(COMPOSITES))

OUTLINE_RGB = np.array([255, 221, 0], dtype=np.uint8)
"""Selection outline: saturated yellow, visible on vegetation, water, snow and cloud."""
OUTLINE_INNER_RGB = np.array([0, 0, 0], dtype=np.uint8)
"""The dark halo just outside each selected pixel."""
FLAG_RGB = np.array([230, 0, 60], dtype=np.uint8)
FLAG_GAP_RGB = np.array([255, 255, 255], dtype=np.uint8)
"""A flagged pixel: dashed ring (red dashes, white gaps) and a red cross."""
NODATA_RGB = (np.array([60, 60, 60], dtype=np.uint8), np.array([110, 110, 110], dtype=np.uint8))
GAMMA = 1 / 1.2


def upscale_factor(rows: int, cols: int, target: int = TARGET_SIDE_PX) -> int:
    """Integer enlargement so the longest side is about ``target`` screen pixels."""
    return int(np.clip(target // max(rows, cols, 1), MIN_FACTOR, MAX_FACTOR))


def composite(scene: Scene, name: str = DEFAULT_COMPOSITE) -> np.ndarray:
    """(rows, cols, 3) uint8 image of the scene; pixels without data drawn as a grey checker."""
    bands, gain = COMPOSITES[name]
    stack = np.stack([scene.band(b) for b in bands], axis=-1).astype(np.float32)
    rgb = (np.clip(stack * gain, 0.0, 1.0) ** GAMMA * 255.0 + 0.5).astype(np.uint8)
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


def _cross(factor: int, width: int) -> np.ndarray:
    """(factor, factor) bool: the two diagonals, ``width`` pixels thick."""
    i, j = np.indices((factor, factor))
    return (np.abs(i - j) < width) | (np.abs(i + j - (factor - 1)) < width)


def _dashes(factor: int) -> np.ndarray:
    """(factor, factor) bool: on for the first half of every dash period along both axes."""
    half = max(1, factor // 4)
    i, j = np.indices((factor, factor))
    return ((i // half) + (j // half)) % 2 == 0


def _grow(mask: np.ndarray, by: int) -> np.ndarray:
    """The mask dilated by ``by`` pixels (a square structuring element)."""
    out = mask.copy()
    for _ in range(by):
        grown = out.copy()
        grown[1:, :] |= out[:-1, :]
        grown[:-1, :] |= out[1:, :]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def draw_selection(
    enlarged: np.ndarray, selection: Iterable[Pixel], factor: int, flagged: Iterable[Pixel] = ()
) -> np.ndarray:
    """A copy of the enlarged image with each selected pixel outlined, visible at every
    enlargement and on any ground: a yellow ring inside the pixel and a dark halo just
    outside it (so a 4× pixel still gets a two-tone frame). ``flagged`` pixels (selected
    but cloudy or without data here) get a dashed red-and-white ring and a cross instead,
    so they differ in shape, not only in colour."""
    rows, cols = enlarged.shape[0] // factor, enlarged.shape[1] // factor
    flagged_mask = as_mask(flagged, (rows, cols))
    mask = as_mask(selection, (rows, cols))
    flagged_mask &= mask
    out = enlarged.copy()
    if not mask.any():
        return out
    width = max(1, factor // 8)
    cells = np.kron(mask, np.ones((factor, factor), dtype=bool)).astype(bool)
    halo = _grow(cells, width) & ~cells
    out[halo] = OUTLINE_INNER_RGB
    clean = mask & ~flagged_mask
    out[np.kron(clean, _ring(factor, width)).astype(bool)] = OUTLINE_RGB
    if flagged_mask.any():
        ring = np.kron(flagged_mask, _ring(factor, width)).astype(bool)
        dashes = np.kron(flagged_mask, _dashes(factor)).astype(bool)
        out[ring & dashes] = FLAG_RGB
        out[ring & ~dashes] = FLAG_GAP_RGB
        out[np.kron(flagged_mask, _cross(factor, width) & ~_ring(factor, width)).astype(bool)] = FLAG_RGB
    return out


def dim_outside(rgb: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The composite with the pixels outside the typed box (``inside`` False) dimmed."""
    if inside.all():
        return rgb
    dimmed = (rgb.astype(np.uint16) * 2 // 5 + 40).astype(np.uint8)
    return np.where(inside[..., None], rgb, dimmed)


def render(
    scene: Scene,
    selection: Iterable[Pixel],
    factor: int,
    name: str = DEFAULT_COMPOSITE,
    flagged: Iterable[Pixel] = (),
) -> np.ndarray:
    """The enlarged composite with the selection outlined, ready to show."""
    return draw_selection(enlarge(composite(scene, name), factor), selection, factor, flagged)
