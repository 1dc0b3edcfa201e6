"""Deep links on a freshly started server: the first request is ``/dataset`` or ``/label``.

Streamlit 1.67 would run the page file alone in its legacy ``pages/`` folder mode (no
``app.py``: every module of ``pages/`` in the sidebar, no name box, a narrow layout) until
somebody opened ``/``. Each test here starts its own server, so its first request is the
deep link.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import expect_no_exception, expect_text, open_app

pytestmark = pytest.mark.browser


def expect_real_app(page: Page) -> None:
    """The app as ``app.py`` builds it: two pages in the nav, the name box, the wide layout."""
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link")).to_have_count(2)
    expect(nav.get_by_role("link", name=re.compile(r"Label$"))).to_be_visible()
    expect(nav.get_by_role("link", name=re.compile(r"Dataset$"))).to_be_visible()
    for module in ("ui", "source picker", "aoi map", "app"):
        expect(nav.get_by_role("link", name=re.compile(rf"^{module}$"))).to_have_count(0)
    expect(page.get_by_test_id("stSidebar").get_by_role("textbox", name="Your name")).to_be_visible()
    # layout="wide": the main block spans most of the 1400 px window, not the 736 px column.
    width = page.get_by_test_id("stMainBlockContainer").bounding_box()["width"]
    assert width > 1000, f"main block {width:.0f} px wide: not the wide layout"
    expect_no_exception(page)


def test_dataset_then_label_as_first_requests(app, page):
    open_app(page, app.url, "dataset")
    expect(page.get_by_role("heading", name="Dataset")).to_be_visible()
    expect_real_app(page)
    expect(page).to_have_url(app.url + "dataset")
    page.screenshot(path="/tmp/h2-shots/deep-link-dataset.png")

    open_app(page, app.url, "label?labeller=tester")
    expect_text(page, "Label Sentinel-2 pixels", exact=True)
    expect_real_app(page)
    expect(page.get_by_test_id("stSidebar").get_by_role("textbox", name="Your name")).to_have_value("tester")
    # The default page's address is the root: Streamlit shows /label as /, the query kept.
    expect(page).to_have_url(re.compile(r":\d+/(label)?\?labeller=tester$"))
    assert "missing ScriptRunContext" not in app.log()


def test_label_with_name_as_first_request(app, page):
    open_app(page, app.url, "label?labeller=tester")
    expect_text(page, "Label Sentinel-2 pixels", exact=True)
    expect_real_app(page)
    expect(page.get_by_test_id("stSidebar").get_by_role("textbox", name="Your name")).to_have_value("tester")
    page.screenshot(path="/tmp/h2-shots/deep-link-label.png")


def test_stray_module_link_as_first_request(app, page):
    """``/ui`` (a module, listed as a page in legacy mode) hands over too: the real app."""
    open_app(page, app.url, "ui")
    expect_real_app(page)
