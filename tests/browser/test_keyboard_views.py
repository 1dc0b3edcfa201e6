"""Keyboard shortcuts of the loop (also right after a pixel click, never while typing) and views."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    IMAGE_IFRAME,
    click_button,
    click_image_pixel,
    expect_no_exception,
    expect_text,
    image_element,
    open_app,
    selected,
    wait_idle,
)
from tests.browser.test_click_speed import DEFAULT_BBOX, valid_pixels

pytestmark = pytest.mark.browser


def reviewed(page, n: int) -> None:
    expect_text(page, re.compile(rf"^{n} of \d+ reviewed"))


def view_shown(page, name: str) -> None:
    expect(page.get_by_role("combobox", name="View", exact=True)).to_have_value(re.compile(re.escape(name)))


def image_src(page) -> str:
    image_element(page)
    return page.frame_locator(IMAGE_IFRAME).first.locator("#image").evaluate("(e) => e.src")


def test_each_shortcut_acts_right_after_a_click_and_never_while_typing(app, page):
    from labeller.aoi import AreaOfInterest

    aoi = AreaOfInterest(*DEFAULT_BBOX)
    rows, cols = aoi.shape
    (pixel,) = valid_pixels(aoi, 1)
    open_app(page, app.url)
    click_button(page, "Start")
    expect_text(page, selected(0))
    expect_text(page, "Keys: S save & next")  # the keys are shown on the page

    click_image_pixel(page, *pixel, rows, cols)
    expect_text(page, selected(1))
    page.keyboard.press("s")  # right after the click: focus was inside the image's frame
    reviewed(page, 1)
    expect_text(page, "1 pixel saved")
    expect_text(page, re.compile(r"· 2 of \d+ ·"))

    page.keyboard.press("k")
    reviewed(page, 2)
    expect_text(page, re.compile(r"· 3 of \d+ ·"))

    page.keyboard.press("b")
    expect_text(page, re.compile(r"· 2 of \d+ ·"))
    expect_text(page, selected(1))  # carried over from the saved image
    page.keyboard.press("x")
    expect_text(page, selected(0))

    before = image_src(page)
    page.keyboard.press("v")
    view_shown(page, "False colour")
    assert image_src(page) != before
    page.keyboard.press("Shift+V")
    view_shown(page, "True colour")
    # The default view keeps the address short (the address is updated just after the page).
    expect(page).not_to_have_url(re.compile(r"[?&]view="))

    # Typing the same letters in a text box is text, not shortcuts.
    name = page.get_by_role("textbox", name="Your name")
    name.click()
    name.type("skbxv")
    expect(name).to_have_value("skbxv")
    wait_idle(page)
    reviewed(page, 2)
    expect_text(page, re.compile(r"· 2 of \d+ ·"))
    view_shown(page, "True colour")
    expect_no_exception(page)


def test_chosen_view_survives_save_and_a_reload(app, page):
    open_app(page, app.url)
    click_button(page, "Start")
    expect_text(page, selected(0))
    true_colour = image_src(page)
    page.get_by_role("combobox", name="View", exact=True).click()
    page.get_by_role("option", name="Snow vs cloud (B11, B12, B03)").click()
    wait_idle(page)
    view_shown(page, "Snow vs cloud")
    assert image_src(page) != true_colour
    click_button(page, "Save & next")
    view_shown(page, "Snow vs cloud")
    expect(page).to_have_url(re.compile(r"[?&]view=snow"))
    page.reload()
    wait_idle(page, settle=False)
    view_shown(page, "Snow vs cloud")
    expect_text(page, "Snow deep blue")


def test_spectra_and_pixel_details_follow_the_clicks(app, page):
    from labeller.aoi import AreaOfInterest

    aoi = AreaOfInterest(*DEFAULT_BBOX)
    rows, cols = aoi.shape
    first, second = valid_pixels(aoi, 2)
    open_app(page, app.url)
    click_button(page, "Start")
    expect_text(page, "Click pixels to see their spectra here.")
    click_image_pixel(page, *first, rows, cols)
    expect_text(page, "of 1 selected pixel")
    expect_text(page, f"row {first[0]}, col {first[1]}")
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    click_image_pixel(page, *second, rows, cols)
    expect_text(page, "of 2 selected pixels")
    expect_text(page, f"row {second[0]}, col {second[1]}")
    lon, lat = aoi.pixel_to_lonlat(*second)
    expect_text(page, f"{float(lon):.5f}, {float(lat):.5f}")
    # Once saved, the label's mean ± 1 sd is drawn too.
    click_button(page, "Save & next")
    expect_text(page, "dashed: the label's saved mean ± 1 sd")
    expect_text(page, re.compile(r"NDVI through the season"))
