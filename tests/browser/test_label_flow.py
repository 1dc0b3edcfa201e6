"""A person draws an area, starts a campaign, clicks two pixels and saves them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from labeller.store import Store
from tests.browser.helpers import (
    click_button,
    click_image_pixel,
    draw_rectangle,
    expect_no_exception,
    expect_text,
    map_frame,
    number_input,
    open_app,
    selected,
)

pytestmark = pytest.mark.browser


def test_draw_an_area_then_save_its_corner_pixels(app, page):
    open_app(page, app.url)
    expect_text(page, "Grid: 102 × 102 pixels")
    default_west = number_input(page, "Min lon (west)").input_value()

    draw_rectangle(page, (120, 100), (150, 130))
    expect(number_input(page, "Min lon (west)")).not_to_have_value(default_west)
    first_west = number_input(page, "Min lon (west)").input_value()
    # A second rectangle replaces the first: the map shows one drawn area, the numbers follow it.
    draw_rectangle(page, (200, 150), (260, 200))
    expect(number_input(page, "Min lon (west)")).not_to_have_value(first_west)
    expect(map_frame(page).locator('path[stroke="#ff7800"]')).to_have_count(1)
    grid = expect_text(page, re.compile(r"Grid: (?!102 × 102 )\d+ × \d+ pixels"))
    expect(number_input(page, "Min lon (west)")).not_to_have_value(default_west)
    cols, rows = map(int, re.search(r"(\d+) × (\d+) pixels", grid.inner_text()).groups())

    click_button(page, "Start")
    expect_text(page, selected(0))
    # The corners are where a wrong click → pixel mapping shows first.
    click_image_pixel(page, 0, 0, rows, cols)
    expect_text(page, selected(1))
    click_image_pixel(page, rows - 1, cols - 1, rows, cols)
    expect_text(page, selected(2))
    click_button(page, "Save & next")
    expect_text(page, re.compile(r"1 of \d+ reviewed, 2 pixels saved"))
    expect_no_exception(page)

    store = Store(Store.sqlite_url(app.data_dir))
    try:
        samples = store.samples()
    finally:
        store.close()
    assert sorted(zip(samples["row"], samples["col"], strict=True)) == [(0, 0), (rows - 1, cols - 1)]
