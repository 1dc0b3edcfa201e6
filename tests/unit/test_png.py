"""The strip PNG encoder: valid PNGs equal to the image drawn in full, re-encoding only changes."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image

from labeller import render
from labeller.png import StripEncoder, adler32_combine


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture
def enlarged() -> np.ndarray:
    grid = np.random.default_rng(3).integers(0, 256, (12, 9, 3), dtype=np.uint8)
    return render.enlarge(grid, 5)


def test_adler32_combine_matches_zlib():
    a, b = b"snow and cloud", bytes(range(256)) * 300
    assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


def test_outlined_png_equals_the_image_drawn_in_full(enlarged):
    picture = render.OutlinedPicture(enlarged, 5)
    for selection in (set(), {(0, 0)}, {(0, 0), (11, 8), (5, 3)}, {(5, 3)}, set()):
        png = picture.png(selection)
        assert (png.width, png.height) == (45, 60)
        assert (decode(png.data) == render.draw_selection(enlarged, selection, 5)).all()


def test_a_click_recompresses_only_its_row(enlarged):
    encoder = StripEncoder(60, 45, 5)
    drawn: list[int] = []

    def draw(row: int) -> np.ndarray:
        drawn.append(row)
        return enlarged[row * 5 : (row + 1) * 5]

    encoder.encode([0] * 12, draw)
    assert drawn == list(range(12))
    drawn.clear()
    keys = [0] * 12
    keys[7] = 1
    encoder.encode(keys, draw)
    assert drawn == [7]


def test_strip_shape_and_count_are_checked():
    encoder = StripEncoder(10, 4, 5)
    with pytest.raises(ValueError, match="2 strip keys"):
        encoder.encode([0], lambda i: np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="a strip is"):
        encoder.encode([0, 0], lambda i: np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="whole number"):
        StripEncoder(11, 4, 5)
