"""Issue 9 in a real browser: a selection carried onto a partly cloudy demo image. The cloudy
pixels are drawn crossed, the header counts them, Save stores only the clean ones, "include
anyway" stores all; a skip keeps its reason; the Dataset page and the exports carry the cloud
columns. Screenshots go to ``$SHOTS_DIR`` when set (for looking at the UI)."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import expect

from labeller import clouds
from labeller.aoi import AreaOfInterest
from labeller.render import FLAG_RGB, OUTLINE_RGB, upscale_factor
from labeller.sources.demo import DemoSource, LandCover
from labeller.store import Store
from tests.browser.helpers import (
    click_button,
    click_image_pixel,
    expect_no_exception,
    expect_text,
    go_to_page,
    image_element,
    open_app,
    selected,
)
from tests.browser.test_sentinelhub_source import choose_option, fill_date

pytestmark = pytest.mark.browser
BBOX = (14.5514, 45.8659, 14.5642, 45.8750)  # the form's default area
PERIOD = ("2024-03-16", "2024-03-26")  # clear (0 %), partly cloudy (31 %), then more


def shot(page, name: str) -> None:
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def picks(aoi: AreaOfInterest) -> tuple[list, list]:
    """3 pixels under thick cloud on the second image and 3 that stay clear there."""
    source = DemoSource()
    first, second = source.acquisitions(aoi, date(2024, 3, 16), date(2024, 3, 21))
    truth = source.ground_truth(aoi, second)
    scene = clouds.attach(source.scene(aoi, second))
    probability = scene.extra[clouds.PROBABILITY]
    cloudy = np.argwhere((truth == LandCover.CLOUD) & (probability > 0.9))
    clear = np.argwhere(np.isin(truth, [LandCover.FOREST, LandCover.GRASSLAND]) & (probability < 0.05))
    take = lambda found, n: [tuple(map(int, p)) for p in found[:: len(found) // n][:n]]  # noqa: E731
    return take(cloudy, 3), take(clear, 3)


def cell_colours(page, pixel, factor) -> set[tuple[int, int, int]]:
    image = np.asarray(Image.open(io.BytesIO(image_element(page).screenshot())).convert("RGB"))
    row, col = pixel
    cell = image[row * factor : (row + 1) * factor, col * factor : (col + 1) * factor].reshape(-1, 3)
    return {tuple(int(v) for v in c) for c in cell}


def test_cloudy_carried_pixels_are_flagged_and_saved_only_when_included(app, page):
    aoi = AreaOfInterest(*BBOX)
    rows, cols = aoi.shape
    factor = upscale_factor(rows, cols)
    cloudy, clear = picks(aoi)

    open_app(page, app.url)
    fill_date(page, "Start date", PERIOD[0])
    fill_date(page, "End date", PERIOD[1])
    click_button(page, "Start")
    expect_text(page, "2024-03-16", timeout=60_000)
    expect_text(page, "area 0 % cloud ·")
    for i, (row, col) in enumerate(cloudy + clear):
        click_image_pixel(page, row, col, rows, cols)
        expect_text(page, selected(i + 1))
    shot(page, "1-clear-image-six-selected")
    expect_text(page, "crossed and not saved")  # the note in place of the cloud buttons
    top_with_note = image_element(page).bounding_box()["y"]
    click_button(page, "Save & next")

    # The partly cloudy image: the three cloudy pixels are flagged, counted and crossed.
    expect_text(page, "6 pixels selected · 3 look cloudy here, not saved", timeout=30_000)
    expect_text(page, "tile cloud cover 31 % (catalog)")
    flagged_cell = cell_colours(page, cloudy[0], factor)
    clean_cell = cell_colours(page, clear[0], factor)
    assert tuple(FLAG_RGB) in flagged_cell and tuple(OUTLINE_RGB) not in flagged_cell
    assert tuple(OUTLINE_RGB) in clean_cell and tuple(FLAG_RGB) not in clean_cell
    shot(page, "2-partly-cloudy-flagged")
    expect(page.get_by_text("crossed and not saved")).to_have_count(0)
    assert image_element(page).bounding_box()["y"] == top_with_note, (
        "the image moved when the cloud buttons came"
    )
    click_button(page, "Save & next")

    # Third image: back to the second to check what was saved there, then include anyway.
    expect_text(page, "2024-03-26", timeout=30_000)
    click_button(page, "Back")
    expect_text(page, "saved, 3 pixels")
    expect_text(page, selected(3))
    for i, (row, col) in enumerate(cloudy):  # Back shows the saved pixels: add the cloudy ones
        click_image_pixel(page, row, col, rows, cols)
        expect_text(page, selected(4 + i))
    expect_text(page, "6 pixels selected · 3 look cloudy here, not saved")
    click_button(page, "Include them anyway")
    expect_text(page, "6 pixels selected · 3 look cloudy here, saved anyway")
    shot(page, "3-include-anyway")
    click_button(page, "Save & next")
    expect_text(page, "2024-03-26", timeout=30_000)

    # Skip the third image with a reason.
    choose_option(page, "Skip reason", "clouds over my pixels")
    click_button(page, "Skip (clouds over my pixels)")
    expect_text(page, "All 3 acquisitions reviewed", timeout=30_000)
    expect_no_exception(page)

    store = Store(Store.sqlite_url(app.data_dir))
    try:
        samples = store.samples()
        reviews = store.review_table()
    finally:
        store.close()
    second = samples[samples["acquired_at"].dt.strftime("%Y-%m-%d") == "2024-03-21"]
    assert set(zip(second["row"], second["col"], strict=True)) == set(cloudy + clear)
    by_pixel = second.set_index(["row", "col"])
    assert by_pixel.loc[cloudy, "cloud_included"].all() and by_pixel.loc[cloudy, "cloud_flagged"].all()
    assert (by_pixel.loc[cloudy, "cloud_probability"] > 0.9).all()
    assert not by_pixel.loc[clear, "cloud_flagged"].any()
    assert reviews["skip_reason"].tolist()[-1] == "clouds over my pixels"

    # The Dataset page shows the cloud columns and offers them in the exports.
    go_to_page(page, "Dataset")
    expect_text(page, "3 of these 12 samples were saved although they looked cloudy", timeout=30_000)
    shot(page, "4-dataset")
    with page.expect_download() as download:
        click_button(page, "Download CSV")
    csv = pd.read_csv(download.value.path())
    assert {"cloud_probability", "scl_class", "cloud_flagged", "cloud_included"} <= set(csv.columns)
    with page.expect_download() as download:
        click_button(page, "Download reviews CSV")
    assert "clouds over my pixels" in Path(download.value.path()).read_text()
