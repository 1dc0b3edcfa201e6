"""A person types an area, labels three pixels through the loop, and exports them."""

from __future__ import annotations

import io
import re
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from labeller.aoi import AreaOfInterest
from labeller.bands import L1C
from labeller.render import FLAG_RGB, OUTLINE_RGB, upscale_factor
from labeller.sources.demo import DemoSource
from tests.browser.helpers import (
    click_button,
    click_image_pixel,
    expect_no_exception,
    expect_text,
    fill_number,
    go_to_page,
    image_element,
    open_app,
    selected,
)

pytestmark = pytest.mark.browser
BBOX = (10.0, 46.0, 10.008, 46.006)  # about 620 × 670 m in the Alps


def three_valid_pixels(aoi: AreaOfInterest) -> list[tuple[int, int]]:
    """Three pixels with data in the first two acquisitions the app will show (default period)."""
    source = DemoSource()
    first, second = source.acquisitions(aoi, date.today() - timedelta(days=60), date.today())[:2]
    valid = source.scene(aoi, first).valid & source.scene(aoi, second).valid
    rows, cols = np.nonzero(valid)
    return [
        (int(rows[i]), int(cols[i])) for i in np.linspace(len(rows) // 5, 4 * len(rows) // 5, 3).astype(int)
    ]


def outlined(page, pixels, factor) -> list[bool]:
    """Whether each pixel's cell carries a selection marker on the image as shown."""
    image = image_element(page)
    shot = np.asarray(Image.open(io.BytesIO(image.screenshot())).convert("RGB"))
    assert shot.shape[1] % factor == 0, "the image is not shown at its natural size"
    # A clean pixel has a yellow ring; one that looks cloudy on this date is crossed in red instead.
    return [
        bool((shot[row * factor + factor // 2, col * factor] == OUTLINE_RGB).all())
        or bool((shot[row * factor + factor // 2, col * factor + factor // 2] == FLAG_RGB).all())
        for row, col in pixels
    ]


def expect_outlined(page, pixels, factor, timeout_s: float = 10.0) -> None:
    """Wait until the shown image outlines exactly these pixels (the new PNG may still be loading)."""
    deadline = time.monotonic() + timeout_s
    while (seen := outlined(page, pixels, factor)) != [True] * len(pixels):
        assert time.monotonic() < deadline, f"outline not shown on every selected pixel: {seen}"
        page.wait_for_timeout(50)


def test_type_a_box_label_three_pixels_skip_back_and_export(app, page):
    aoi = AreaOfInterest(*BBOX)
    rows, cols = aoi.shape
    factor = upscale_factor(rows, cols)
    pixels = three_valid_pixels(aoi)

    open_app(page, app.url)
    for label, value in zip(
        ("Min lon (west)", "Min lat (south)", "Max lon (east)", "Max lat (north)"), BBOX, strict=True
    ):
        fill_number(page, label, value)
    expect_text(page, f"Grid: {cols} × {rows} pixels")
    click_button(page, "Start")
    expect_text(page, selected(0))
    n = int(re.search(r"of (\d+) reviewed", page.get_by_text("reviewed").first.inner_text())[1])

    for i, (row, col) in enumerate(pixels, start=1):
        click_image_pixel(page, row, col, rows, cols)
        expect_text(page, selected(i))
    expect_outlined(page, pixels, factor)

    click_button(page, "Save & next")
    expect_text(page, f"1 of {n} reviewed, 3 pixels saved")
    expect_text(page, f"2 of {n}")
    expect_text(page, selected(3))  # the selection carried over to the next image
    expect_outlined(page, pixels, factor)

    click_button(page, "Skip (overcast)")
    expect_text(page, f"3 of {n}")
    expect_text(page, f"2 of {n} reviewed, 3 pixels saved")
    click_button(page, "Back")
    expect_text(page, re.compile(rf"2 of {n} · .*skipped"))
    click_button(page, "Back")
    expect_text(page, re.compile(rf"1 of {n} · .*saved, 3 pixels"))
    expect_no_exception(page)

    go_to_page(page, "Dataset")
    expect_text(page, "Mean spectrum per label")
    metric = page.get_by_test_id("stMetric").filter(has_text="Samples")
    assert metric.get_by_test_id("stMetricValue").inner_text() == "3"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    table = pd.read_csv(download.value.path())
    assert len(table) == 3
    assert sorted(zip(table["row"], table["col"], strict=True)) == sorted(pixels)
    assert table[list(L1C.band_names)].notna().all().all() and len(L1C.band_names) == 13
    assert (table[list(L1C.band_names)] > 0).all().all()
    expect_no_exception(page)
