"""Clicks on the image faster than the server's round trip: none is lost, in any order."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from labeller.aoi import AreaOfInterest
from labeller.render import upscale_factor
from labeller.sources.demo import DemoSource
from tests.browser.helpers import click_button, expect_text, image_element, open_app, selected, wait_idle
from tests.browser.test_label_loop import expect_outlined, outlined

pytestmark = pytest.mark.browser
DEFAULT_BBOX = (14.5514, 45.8659, 14.5642, 45.8750)  # the set-up form's default area (pages/label.py)


def valid_pixels(aoi: AreaOfInterest, n: int) -> list[tuple[int, int]]:
    """``n`` pixels with data in the first image the app shows (default period), far apart."""
    source = DemoSource()
    first = source.acquisitions(aoi, date.today() - timedelta(days=60), date.today())[0]
    rows, cols = np.nonzero(source.scene(aoi, first).valid)
    picks = np.linspace(len(rows) // 10, 9 * len(rows) // 10, n).astype(int)
    return [(int(rows[i]), int(cols[i])) for i in picks]


def click_all_at_once(page, pixels, rows: int, cols: int) -> None:
    """Click each pixel's centre back to back: a few ms apart, far below the round trip."""
    image = image_element(page)
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    for row, col in pixels:
        page.mouse.click(
            box["x"] + (col + 0.5) * box["width"] / cols, box["y"] + (row + 0.5) * box["height"] / rows
        )


def test_rapid_clicks_are_all_applied_in_order(app, page):
    aoi = AreaOfInterest(*DEFAULT_BBOX)
    rows, cols = aoi.shape
    factor = upscale_factor(rows, cols)
    pixels = valid_pixels(aoi, 8)
    open_app(page, app.url)
    click_button(page, "Start")
    expect_text(page, selected(0))

    click_all_at_once(page, pixels, rows, cols)
    expect_text(page, selected(8), timeout=30_000)
    expect_outlined(page, pixels, factor)

    # Deselect half of them, again faster than the server answers: in order, so exactly 4 remain.
    click_all_at_once(page, pixels[::2], rows, cols)
    expect_text(page, selected(4), timeout=30_000)
    wait_idle(page)
    expect_text(page, selected(4))
    assert outlined(page, pixels, factor) == [False, True] * 4

    # The same pixel clicked twice in a row is selected then deselected: nothing changes.
    click_all_at_once(page, [pixels[0], pixels[0]], rows, cols)
    wait_idle(page)
    expect_text(page, selected(4))
    assert outlined(page, pixels, factor) == [False, True] * 4
