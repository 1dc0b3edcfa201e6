"""The app starts, the Label page shows its map (Leaflet loaded offline), and Dataset is reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import expect_no_exception, expect_text, go_to_page, map_frame, open_app

pytestmark = pytest.mark.browser


def test_label_page_map_and_dataset_page(app, page):
    open_app(page, app.url)
    expect_text(page, "Label Sentinel-2 pixels", exact=True)

    fmap = map_frame(page)  # Leaflet + Leaflet.draw ran: the vendored files were served
    expect(fmap.locator(".leaflet-tile-loaded").first).to_be_attached()  # tiles answered offline
    expect_no_exception(page)

    go_to_page(page, "Dataset")
    expect(page).to_have_url(app.url + "dataset")
    expect(page.get_by_role("heading", name="Dataset")).to_be_visible()
    expect_text(page, "No campaigns yet")
    expect_no_exception(page)
