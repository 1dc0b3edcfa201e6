"""Reloading a tab, and two people labelling at once on one server."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from labeller.store import Store
from tests.browser.helpers import (
    IMAGE_IFRAME,
    click_button,
    click_image_pixel,
    expect_no_exception,
    expect_text,
    fill_number,
    image_element,
    open_app,
    open_popover,
    selected,
)

pytestmark = pytest.mark.browser
BOX = ("Min lon (west)", "Min lat (south)", "Max lon (east)", "Max lat (north)")


def start(page, url, label_value: str, bbox=None, navigate=True):
    if navigate:
        open_app(page, url)
    if bbox:
        for label, value in zip(BOX, bbox, strict=True):
            fill_number(page, label, value)
    field = page.get_by_role("textbox", name="Label value")
    field.fill(label_value)
    field.press("Enter")
    grid = expect_text(page, re.compile(r"Grid: \d+ × \d+ pixels")).inner_text()  # on the form
    cols, rows = map(int, re.search(r"(\d+) × (\d+) pixels", grid).groups())
    click_button(page, "Start")
    expect_text(page, selected(0))
    return rows, cols


def test_reload_mid_campaign_resumes_with_saved_work_and_selection(app, page):
    open_app(page, app.url)
    name = page.get_by_role("textbox", name="Your name")
    name.fill("Ana")
    name.press("Enter")
    expect_text(page, "Label Sentinel-2 pixels")
    rows, cols = start(page, app.url, "5", navigate=False)
    click_image_pixel(page, rows // 2, cols // 2, rows, cols)
    expect_text(page, selected(1))
    click_button(page, "Save & next")
    expect_text(page, re.compile(r"1 of \d+ reviewed, 1 pixels? saved"))
    click_image_pixel(page, 1, 1, rows, cols)  # selected, not yet saved
    expect_text(page, selected(2))
    assert "campaign=" in page.url and "labeller=Ana" in page.url

    page.reload()
    expect(page.get_by_role("textbox", name="Your name")).to_have_value("Ana")
    expect_text(page, re.compile(r"1 of \d+ reviewed, 1 pixels? saved"))
    expect_text(page, re.compile(r"2 of \d+ · "))
    expect_text(page, selected(2))  # nothing selected was lost either
    expect_no_exception(page)


def test_two_sessions_labelling_at_once_keep_each_others_rows(app, browser, context):
    other_context = browser.new_context(viewport={"width": 1366, "height": 900})
    other_context.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda r: r.fulfill(body=""))
    alice, bob = context.new_page(), other_context.new_page()
    try:
        a_rows, a_cols = start(alice, app.url, "1")
        b_rows, b_cols = start(bob, app.url, "2", bbox=(10.0, 46.0, 10.008, 46.006))
        for step in range(3):
            for page, rows, cols in ((alice, a_rows, a_cols), (bob, b_rows, b_cols)):
                click_image_pixel(page, 2 + step, 3, rows, cols)
                expect_text(page, selected(step + 1))
                include = page.get_by_role("button", name="Include them anyway", exact=True)
                if include.count():  # a carried pixel under a cloud today: this test keeps them all
                    include.click()
                    expect_text(page, "saved anyway")
                click_button(page, "Save & next")
                expect_text(page, re.compile(rf"{step + 1} of \d+ reviewed"))
    finally:
        other_context.close()
    store = Store(Store.sqlite_url(app.data_dir))
    try:
        samples = store.samples()
    finally:
        store.close()
    per_label = samples.groupby("label_value").size().to_dict()
    # Each saved image holds every pixel selected so far: 1 + 2 + 3 per person.
    assert per_label == {1.0: 6, 2.0: 6}
    assert not samples.duplicated(["campaign_id", "acquisition_id", "row", "col"]).any()
    assert np.isfinite(samples["B04"]).all()


def test_change_setup_returns_to_the_form_with_its_values(app, page):
    start(page, app.url, "7")
    click_button(page, "Skip (overcast)")
    expect_text(page, re.compile(r"1 of \d+ reviewed"))
    body = open_popover(page, "Campaign 1 · label 7")  # the campaign's details, kept out of the way
    expect(body).to_contain_text("Campaign 1: label 7")
    click_button(page, "Change set-up")
    expect_text(page, "Label Sentinel-2 pixels")
    assert page.get_by_role("textbox", name="Label value").input_value() == "7"
    expect_no_exception(page)
    click_button(page, "Start")  # same area, label and source: resumes after the skipped image
    expect_text(page, re.compile(r"2 of \d+ · "))
    expect_text(page, re.compile(r"1 of \d+ reviewed"))


# The labels of the page's buttons that do not fit in their button (Streamlit cuts them with "…").
CUT_BUTTON_LABELS = """() => [
  ...document.querySelectorAll("[data-testid=stButton] button, [data-testid=stPopover] button"),
].filter((b) => b.offsetWidth && [...b.querySelectorAll("*")].some((e) => e.scrollWidth > e.clientWidth + 1))
  .map((b) => b.innerText)"""


def test_narrow_window_shows_the_whole_image_and_every_button_label_and_clicks_hit_the_pixel(app, page):
    page.set_viewport_size({"width": 1024, "height": 700})
    rows, cols = start(page, app.url, "8")
    image_element(page)  # the count is drawn before the image: wait until the picture is shown
    image = page.locator(IMAGE_IFRAME).first
    box = image.bounding_box()
    main = page.get_by_test_id("stMain").bounding_box()
    assert box["x"] + box["width"] <= main["x"] + main["width"], "the image runs past the page"
    assert page.evaluate(CUT_BUTTON_LABELS) == [], "button labels cut off (shown with an ellipsis)"
    click_image_pixel(page, rows - 1, cols - 1, rows, cols)  # the south-east corner pixel
    expect_text(page, selected(1))
    click_button(page, "Save & next")
    expect_text(page, re.compile(r"1 of \d+ reviewed, 1 pixel saved"))
    store = Store(Store.sqlite_url(app.data_dir))
    try:
        samples = store.samples()
    finally:
        store.close()
    assert list(zip(samples["row"], samples["col"], strict=True)) == [(rows - 1, cols - 1)]
