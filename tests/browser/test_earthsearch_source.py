"""A person labels real imagery through the keyless Earth Search source, end to end.

The app runs against the local fake Earth Search (in this test process, on a random loopback
port): its own pystac-client lists the items and its own GDAL reads the windows of COGs made
from the real sample. The saved spectra must equal DN × 0.0001 − 0.1 of the native pixel
under each clicked 10 m pixel, bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from labeller.aoi import AreaOfInterest
from labeller.bands import L2A
from tests.browser.conftest import AppServer, serving
from tests.browser.helpers import (
    click_button,
    expect_no_exception,
    expect_text,
    fill_number,
    open_app,
    saved_samples,
    select_pixels,
    selected,
)
from tests.browser.test_sentinelhub_source import BBOX_LABELS, choose_option, fill_date
from tests.fakes import s2_cogs
from tests.fakes.stac_server import FakeEarthSearch

pytestmark = pytest.mark.browser
BBOX = (14.5530, 45.8670, 14.5620, 45.8740)
"""Inside the real sample's extent, across the edge of the first date's second item."""
PIXELS = [(3, 4), (30, 40), (70, 60)]


@pytest.fixture
def fake_es(tmp_path_factory):
    sample = s2_cogs.sample_or_standin(tmp_path_factory.getbasetemp())
    with FakeEarthSearch(tmp_path_factory.mktemp("cogs"), sample) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake_es) -> Iterator[AppServer]:
    with serving(tmp_path, fake_es.env()) as server:
        yield server


def test_label_real_pixels_through_earth_search(app, page, fake_es):
    aoi = AreaOfInterest(*BBOX)
    rows, cols = aoi.shape

    open_app(page, app.url)
    for label, value in zip(BBOX_LABELS, BBOX, strict=True):
        fill_number(page, label, value)
    expect_text(page, f"Grid: {cols} × {rows} pixels")
    fill_date(page, "Start date", "2015-07-01")
    fill_date(page, "End date", "2015-09-30")
    choose_option(page, "Source", "Earth Search (no account)")
    expect_text(page, "Real Sentinel-2 Level-2A images, free and without an account")
    page.screenshot(path=str(app.data_dir / "setup.png"))
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
    assert list(zip(samples["row"], samples["col"], strict=True)) == PIXELS
    items = sorted(
        (i for i in fake_es.items if i.time.date().isoformat() == "2015-07-11"), key=lambda i: i.id
    )
    expected = []
    for row, col in PIXELS:
        dns = {
            b: [s2_cogs.expected_dn(fake_es.root, item, b, aoi)[row, col] for item in items]
            for b in L2A.band_names
        }
        k = 0 if all(dns[b][0] != 0 for b in L2A.band_names) else 1  # the first item with data
        expected.append([np.float32(dns[b][k] * 0.0001 - 0.1) for b in L2A.band_names])
    saved = samples[list(L2A.band_names)].to_numpy().astype(np.float32)
    np.testing.assert_array_equal(saved, np.array(expected, dtype=np.float32))
    first = samples.iloc[0]
    assert (first["source"], first["collection"]) == ("earthsearch", "sentinel-2-l2a")
    assert (first["tile_id"], first["processing_baseline"], bool(first["harmonised"])) == (
        "33TVL+33TVM",
        "05.00",
        True,
    )
    assert "Traceback" not in app.log()
