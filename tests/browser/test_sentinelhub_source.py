"""A person labels real imagery through the Sentinel Hub source.

The app runs against the local fake Sentinel Hub (in this test process, on a random loopback
port) serving the real Level-1C sample from ``shared/data``; the app's own sentinelhub-py
client talks HTTP to it, with credentials from the environment. The saved spectra must equal
the real sample's values at the clicked pixels, bit for bit.

Needs the label page's source wiring: a "Source" selectbox offering "Sentinel Hub" and a
"Collection" radio offering "Level-1C".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from labeller.aoi import AreaOfInterest
from labeller.bands import L1C
from tests.browser.conftest import AppServer, serving_sentinelhub
from tests.browser.helpers import (
    click_button,
    expect_no_exception,
    expect_text,
    fill_number,
    open_app,
    saved_samples,
    select_pixels,
    selected,
    wait_idle,
)
from tests.conftest import SHARED_DATA
from tests.fakes.fixtures import CLIENT_ID, SECRET
from tests.fakes.sentinelhub_server import FakeSentinelHub, RealScene

pytestmark = pytest.mark.browser
REAL_BBOX = (14.5530, 45.8670, 14.5620, 45.8740)
"""Inside the real sample's extent: every pixel of the grid has real data."""
PIXELS = [(3, 4), (30, 40), (70, 60)]
BBOX_LABELS = ("Min lon (west)", "Min lat (south)", "Max lon (east)", "Max lat (north)")


@pytest.fixture
def fake_sh():
    if not SHARED_DATA.is_file():
        pytest.skip(
            f"real Sentinel-2 sample not found at {SHARED_DATA} (shared/ is not beside this checkout)"
        )
    with FakeSentinelHub(CLIENT_ID, SECRET) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake_sh) -> Iterator[AppServer]:
    with serving_sentinelhub(tmp_path, fake_sh) as server:
        yield server


def fill_date(page: Page, label: str, value: str) -> None:
    """Type an ISO date into the ``st.date_input`` labelled ``label`` (its year, month and day
    fields, as a person types them) and commit it with Enter, closing the calendar."""
    widget = page.get_by_test_id("stDateInput").filter(has=page.get_by_text(label, exact=True))
    widget.get_by_role("spinbutton", name=f"year, {label}").click()
    page.keyboard.type(value.replace("-", ""))
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # close the calendar that opened with the click
    expect(widget.locator('input[type="date"]')).to_have_value(value)
    expect(page.locator("#stFloatingOverlayPortal table")).to_have_count(0)
    wait_idle(page)


def choose_option(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the ``st.selectbox`` labelled ``label``."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(box.get_by_role("combobox")).to_have_value(option)
    wait_idle(page)


def choose_radio(page: Page, label: str, option: str) -> None:
    """Pick the ``st.radio`` option whose text starts with ``option``."""
    group = page.get_by_test_id("stRadio").filter(has=page.get_by_text(label, exact=True))
    group.get_by_text(re.compile(rf"^{re.escape(option)}")).first.click()
    wait_idle(page)


def test_label_real_pixels_through_sentinel_hub(app, page, fake_sh):
    aoi = AreaOfInterest(*REAL_BBOX)
    rows, cols = aoi.shape
    real = RealScene(SHARED_DATA)

    open_app(page, app.url)
    for label, value in zip(BBOX_LABELS, REAL_BBOX, strict=True):
        fill_number(page, label, value)
    expect_text(page, f"Grid: {cols} × {rows} pixels")
    fill_date(page, "Start date", "2015-07-01")
    fill_date(page, "End date", "2015-09-30")
    choose_option(page, "Source", "Sentinel Hub")
    choose_radio(page, "Collection", "Level-1C")
    click_button(page, "Start")
    expect_text(page, selected(0))
    expect_text(page, "0 of 5 reviewed")
    expect_text(page, "2015-07-11")

    select_pixels(page, PIXELS, rows, cols)
    click_button(page, "Save & next")
    expect_text(page, "1 of 5 reviewed, 3 pixels saved")
    expect_text(page, "2015-07-31")
    expect_no_exception(page)

    samples = saved_samples(app.data_dir).sort_values(["row", "col"])
    expected, inside = real.values(aoi, 0)
    assert inside.all()
    assert list(zip(samples["row"], samples["col"], strict=True)) == PIXELS
    saved = samples[list(L1C.band_names)].to_numpy().astype(np.float32)
    np.testing.assert_array_equal(saved, np.stack([expected[r, c] for r, c in PIXELS]))
    first = samples.iloc[0]
    assert (first["source"], first["collection"]) == ("sentinelhub", "sentinel-2-l1c")
    assert (first["tile_id"], first["processing_baseline"], bool(first["harmonised"])) == (
        "T33TVM",
        "02.04",
        False,  # baseline 02.04 carries no offset: harmonising changed nothing
    )
    assert 20 < first["sun_zenith"] < 60

    assert fake_sh.counts["token"] == 1 and fake_sh.counts["catalog"] == 1
    assert 2 <= fake_sh.counts["process"] <= 4, "one per image shown or prefetched, no more"
    assert not any(app.config_home.iterdir()), "sentinelhub-py wrote no config file"
    assert SECRET not in app.log()
