"""What the image and the charts beside and below it show (issue 10): the snow-vs-cloud view
separates snow from cloud on the image actually shown, and a date clicked in the time series
opens that date."""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from labeller.aoi import AreaOfInterest
from labeller.sources.demo import DemoSource, LandCover
from tests.browser.helpers import (
    IMAGE_IFRAME,
    click_button,
    click_image_pixel,
    expect_no_exception,
    expect_text,
    fill_number,
    image_element,
    open_app,
    selected,
    wait_idle,
)
from tests.browser.test_click_speed import DEFAULT_BBOX, valid_pixels
from tests.browser.test_sentinelhub_source import BBOX_LABELS, choose_option, choose_radio, fill_date

pytestmark = pytest.mark.browser
WINTER_BBOX = (28.6706, 58.2911, 28.6850, 58.2990)  # benchmarks/snow_cloud_contrast.py
WINTER_DAY = "2026-02-14"

# --- the image as shown ----------------------------------------------------------------------


def shown_png(page) -> tuple[str, np.ndarray]:
    """The click component's picture: its ``src`` (a PNG data URL) and its pixels (RGB)."""
    image_element(page)
    src = page.frame_locator(IMAGE_IFRAME).first.locator("#image").evaluate("(e) => e.src")
    head, _, data = src.partition(",")
    assert head == "data:image/png;base64", f"the image is not an inline PNG: {head[:40]}"
    return src, np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def new_png(page, before: str, timeout_s: float = 20.0) -> np.ndarray:
    """Wait until the component shows a picture other than ``before``; its pixels."""
    frame = page.frame_locator(IMAGE_IFRAME).first.locator("#image")
    frame.evaluate(
        "(e, [before, ms]) => new Promise((done, fail) => { const t0 = performance.now();"
        " const check = () => e.src !== before && e.complete && e.naturalWidth > 0 ? done() :"
        " performance.now() - t0 > ms ? fail(new Error('the image never changed')) :"
        " requestAnimationFrame(check); check(); })",
        [before, timeout_s * 1000],
    )
    return shown_png(page)[1]


def per_grid_pixel(picture: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(rows, cols, 3): the colour shown at the centre of each grid pixel's enlarged cell."""
    rows, cols = shape
    factor = picture.shape[1] // cols
    assert picture.shape[:2] == (rows * factor, cols * factor), (
        f"a {rows}×{cols} grid shown as a {picture.shape[1]}×{picture.shape[0]} picture"
    )
    centre = factor // 2
    return picture[centre::factor, centre::factor][:rows, :cols]


def snow_cloud_distance(rgb: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    """Distance (0-441) between the mean shown colours of snow and of cloud pixels."""
    snow = rgb[(truth == LandCover.SNOW_ICE) & valid].astype(float).mean(axis=0)
    cloud = rgb[(truth == LandCover.CLOUD) & valid].astype(float).mean(axis=0)
    return float(np.linalg.norm(snow - cloud))


def test_snow_vs_cloud_view_separates_them_on_the_shown_image(app, page):
    aoi = AreaOfInterest(*WINTER_BBOX)
    source = DemoSource()
    day = date.fromisoformat(WINTER_DAY)
    (acquisition,) = source.acquisitions(aoi, day, day)
    truth, valid = source.ground_truth(aoi, acquisition), source.scene(aoi, acquisition).valid
    assert ((truth == LandCover.SNOW_ICE) & valid).sum() > 100 and (
        (truth == LandCover.CLOUD) & valid
    ).sum() > 100

    open_app(page, app.url)
    for label, value in zip(BBOX_LABELS, WINTER_BBOX, strict=True):
        fill_number(page, label, value)
    rows, cols = aoi.shape
    expect_text(page, f"Grid: {cols} × {rows} pixels")
    fill_date(page, "Start date", WINTER_DAY)
    fill_date(page, "End date", WINTER_DAY)
    click_button(page, "Start")
    expect_text(page, f"{WINTER_DAY} {acquisition.time:%H:%M} UTC")
    expect_text(page, selected(0))

    before, _ = shown_png(page)
    choose_option(page, "View", "Snow vs cloud (B11, B12, B03)")
    expect_text(page, "Snow deep blue")
    snow_view = per_grid_pixel(new_png(page, before), aoi.shape)
    best = snow_cloud_distance(snow_view, truth, valid)
    assert best >= 150, f"snow vs cloud view: snow-cloud colour distance {best:.1f}, goal >= 150"

    before, _ = shown_png(page)
    choose_option(page, "View", "True colour (B04, B03, B02)")
    page.get_by_test_id("stCheckbox").filter(has_text="Adjust (auto ×1.0)").click()  # a toggle
    choose_radio(page, "Stretch", "Fixed")
    expect_text(page, "Adjust (fixed ×1.0)")
    fixed_true = per_grid_pixel(new_png(page, before), aoi.shape)
    if (fixed_true == snow_view).all():  # the true-colour picture may have come before the stretch's
        fixed_true = per_grid_pixel(new_png(page, shown_png(page)[0]), aoi.shape)
    plain = snow_cloud_distance(fixed_true, truth, valid)
    assert plain < 30, f"true colour, fixed stretch: distance {plain:.1f}, expected near 0 (both white)"
    assert best - plain >= 120
    expect_no_exception(page)


# --- the time series -----------------------------------------------------------------------

FIND_VIEW = """
(el) => {
  // The chart's Vega view, held by the React component around the chart.
  const fiberKey = (node) => Object.keys(node).find((k) => k.startsWith('__reactFiber$'));
  const isView = (v) => v && typeof v.scenegraph === 'function' && typeof v.origin === 'function';
  const start = el.querySelector('canvas, svg.marks') || el;
  for (let node = start; node; node = node.parentElement) {
    const key = fiberKey(node);
    if (!key) continue;
    for (let fiber = node[key]; fiber; fiber = fiber.return) {
      let hook = fiber.memoizedState;
      for (; hook && typeof hook === 'object' && 'next' in hook; hook = hook.next) {
        const value = hook.memoizedState;
        if (isView(value)) return value;
        if (value && isView(value.current)) return value.current;
      }
    }
    return null;
  }
  return null;
}
"""
POINTS_BODY = """
(el) => {
  const view = (%s)(el);
  if (!view) return null;
  // Every point of the series (symbol marks), at its place in the chart's drawing surface.
  const points = [];
  const walk = (mark, ox, oy) => {
    for (const item of mark.items || []) {
      if (mark.marktype === 'symbol' && item.datum && item.datum.i !== undefined) {
        points.push({ i: item.datum.i, date: item.datum.date, x: ox + item.x, y: oy + item.y });
      } else if (mark.marktype === 'group') {
        for (const child of item.items || []) walk(child, ox + (item.x || 0), oy + (item.y || 0));
      }
    }
  };
  const [ox, oy] = view.origin();
  walk(view.scenegraph().root, ox, oy);
  const surface = el.querySelector('canvas, svg.marks');
  const box = surface.getBoundingClientRect();
  return points.map((p) => ({ ...p, x: box.left + p.x, y: box.top + p.y }));
}
"""
POINTS = POINTS_BODY.replace("%s", FIND_VIEW.strip())


def shown_day(value) -> date:
    """A point's date as Vega holds it: milliseconds since 1970 (UTC midnight) or the text."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return datetime.fromtimestamp(value / 1000, UTC).date()


def series_points(chart) -> list[dict]:
    """The time-series chart's points: acquisition index, date and where they are on the page."""
    chart.scroll_into_view_if_needed()
    handle = chart.page.wait_for_function(
        f"(el) => {{ const p = ({POINTS.strip()})(el); return p && p.length ? p : null; }}",
        arg=chart.element_handle(),
    )
    return handle.json_value()


def test_clicking_a_date_in_the_time_series_opens_it(app, page):
    aoi = AreaOfInterest(*DEFAULT_BBOX)
    rows, cols = aoi.shape
    (pixel,) = valid_pixels(aoi, 1)
    acquisitions = DemoSource().acquisitions(aoi, date.today() - timedelta(days=60), date.today())
    open_app(page, app.url)
    click_button(page, "Start")
    expect_text(page, selected(0))
    click_image_pixel(page, *pixel, rows, cols)
    expect_text(page, selected(1))
    click_button(page, "Save & next")  # a full run: the time series now follows the pixel
    expect_text(page, re.compile(rf"· 2 of {len(acquisitions)} ·"))
    expect_text(page, "NDVI through the season (click a date to go there)", exact=True)  # all fetched
    wait_idle(page)

    chart = page.get_by_test_id("stVegaLiteChart").last
    points = series_points(chart)
    dates = {p["i"]: shown_day(p["date"]) for p in points}
    assert len(dates) >= 3, f"the series shows too few dates: {sorted(dates)}"
    target = max(dates)  # the latest date shown: far from the image open now (the second)
    assert target > 1
    assert dates[target] == acquisitions[target].time.date()
    point = next(p for p in points if p["i"] == target)
    page.mouse.click(point["x"], point["y"])

    expect_text(page, f"{acquisitions[target].time:%Y-%m-%d %H:%M} UTC", timeout=30_000)
    expect_text(page, re.compile(rf"· {target + 1} of {len(acquisitions)} ·"))
    expect(page.get_by_role("combobox", name="Jump to")).to_have_value(
        re.compile(rf"^{target + 1}\. {acquisitions[target].time:%Y-%m-%d}")
    )
    expect_no_exception(page)
