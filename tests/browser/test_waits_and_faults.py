"""Waits, slow and failing fetches, seen by a person in a 1366 × 768 window.

The app runs against the local fake Sentinel Hub (demo landscape, in this test process) with
faults for one image at a time: the wait and retry messages must reach the page while they
happen (also for a background fetch the user has caught up with), in the viewport; a click
on the old image while the next one loads is refused; Save & next waits for the image; the
server log never says ``missing ScriptRunContext`` (no Streamlit call from a worker thread).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sentinelhub.time_utils import parse_time_interval

from labeller.aoi import AreaOfInterest
from labeller.sources.sentinelhub import merge_features
from tests.browser.conftest import NOT_LOOPBACK, AppServer, offline, serving_sentinelhub
from tests.browser.helpers import (
    button_named,
    click_button,
    click_image_pixel,
    expect_no_exception,
    expect_text,
    open_app,
    selected,
    wait_idle,
)
from tests.fakes.fixtures import CLIENT_ID, SECRET
from tests.fakes.sentinelhub_server import FakeSentinelHub, Fault

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}
DEFAULT_BBOX = (14.5514, 45.8659, 14.5642, 45.8750)  # the Label page's default area
SHOTS = "/tmp/h2-shots"
LOAD_TIMEOUT_MS = 40_000
NO_CONTEXT = "missing ScriptRunContext"


@pytest.fixture
def fake_sh():
    with FakeSentinelHub(CLIENT_ID, SECRET, real_scene=None) as fake:  # the demo landscape everywhere
        yield fake


@pytest.fixture
def app(tmp_path, fake_sh) -> Iterator[AppServer]:
    with serving_sentinelhub(tmp_path, fake_sh) as server:
        yield server


@pytest.fixture
def page(browser):
    """A page in a 1366 × 768 window (the smallest laptop screen the app is designed for)."""
    context = browser.new_context(viewport=LAPTOP, service_workers="block")
    context.set_default_timeout(15_000)
    context.route(NOT_LOOPBACK, offline)
    page = context.new_page()
    page.console_messages_seen = []
    yield page
    context.close()


def days_listed(fake: FakeSentinelHub) -> list[str]:
    """The dates the Label page's default campaign (default box, last 60 days) will list."""
    start, end = date.today() - timedelta(days=60), date.today()
    first, last = (t.replace(tzinfo=UTC) for t in parse_time_interval((start, end)))  # as the app asks
    features = fake.features("sentinel-2-l1c", DEFAULT_BBOX, first, last)
    return [f"{a.time:%Y-%m-%d}" for a in merge_features(features)]


def in_viewport(locator: Locator) -> None:
    box = locator.bounding_box()
    assert box is not None, "not shown"
    assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], f"outside the window: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], f"outside the window: {box}"


def press_start(page: Page) -> None:
    """Start, as a person does: scrolled down to the button, below the map."""
    button = page.get_by_role("button", name="Start", exact=True)
    button.scroll_into_view_if_needed()
    assert page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTop") > 0
    button.click()


def test_rate_limit_wait_shows_in_view_and_the_loop_opens_at_its_top(app, page, fake_sh):
    first = days_listed(fake_sh)[0]
    fake_sh.inject("process", *[Fault.rate_limited(2500, day=first)] * 2)
    open_app(page, app.url)
    press_start(page)

    wait = expect_text(page, "HTTP 429", timeout=LOAD_TIMEOUT_MS)
    expect(wait).to_contain_text("waiting 2.5 s")
    in_viewport(wait)
    save = button_named(page, "Save & next")
    expect(save).to_be_disabled()
    page.screenshot(path=f"{SHOTS}/wait-429-foreground.png")

    expect_text(page, selected(0), timeout=LOAD_TIMEOUT_MS)
    expect(save).to_be_enabled()
    in_viewport(expect_text(page, re.compile(r"0 of \d+ reviewed")))  # the loop opened at its top
    page.screenshot(path=f"{SHOTS}/loop-after-429.png")
    expect_no_exception(page)
    assert fake_sh.process_counts()[first] == 3, "two 429s, then the image: no other request"
    assert NO_CONTEXT not in app.log()


def test_the_loop_opens_at_its_top_also_when_its_first_image_is_already_on_the_server(app, page):
    """Once the server holds the images, the loop's first run and the rerun that follows it as
    its image comes in are a few ms apart: the browser could then drop the scroll to the top
    (about one Start in two), leaving the loop open 295 px down with its header, count and
    Save & next above the window. Four Starts, each in a new session (a fresh load of the page),
    three of them on held images."""
    for _ in range(4):
        open_app(page, app.url)
        press_start(page)
        expect_text(page, selected(0), timeout=LOAD_TIMEOUT_MS)
        wait_idle(page)
        in_viewport(expect_text(page, re.compile(r"\d+ of \d+ reviewed")))
        in_viewport(button_named(page, "Save & next"))


def test_waiting_on_a_rate_limited_background_fetch_shows_its_wait(app, page, fake_sh):
    second = days_listed(fake_sh)[1]
    fake_sh.inject("process", *[Fault.rate_limited(2500, day=second)] * 3)
    open_app(page, app.url)
    press_start(page)
    expect_text(page, selected(0), timeout=LOAD_TIMEOUT_MS)
    button_named(page, "Save & next").click()  # while image 2 is rate limited

    wait = expect_text(page, "HTTP 429", timeout=LOAD_TIMEOUT_MS)
    in_viewport(wait)
    page.screenshot(path=f"{SHOTS}/wait-429-background.png")
    expect_text(page, re.compile(rf"{second} \d\d:\d\d UTC"), timeout=LOAD_TIMEOUT_MS)
    expect(button_named(page, "Save & next")).to_be_enabled()
    expect_no_exception(page)
    assert fake_sh.process_counts()[second] == 4, "the background fetch only: 3 × 429, then the image"
    assert NO_CONTEXT not in app.log()


def test_a_click_on_the_old_image_while_the_next_loads_is_refused(app, page, fake_sh):
    days = days_listed(fake_sh)
    fake_sh.inject("process", Fault(delay=12.0, day=days[1]))  # from the prefetch at Start
    open_app(page, app.url)
    press_start(page)
    expect_text(page, selected(0), timeout=LOAD_TIMEOUT_MS)
    rows, cols = AreaOfInterest(*DEFAULT_BBOX).shape
    click_image_pixel(page, 10, 10, rows, cols)
    expect_text(page, selected(1))

    save = button_named(page, "Save & next")
    save.click()
    expect_text(page, "Fetching this image", timeout=LOAD_TIMEOUT_MS)
    expect(save).to_be_disabled()
    click_image_pixel(page, 40, 40, rows, cols)  # on the old image, still on screen (faded)
    page.screenshot(path=f"{SHOTS}/stale-click-while-loading.png")
    # Streamlit hands the click over when the run waiting for image 2 ends: it is refused then.
    expect_text(page, re.compile(rf"{days[1]} \d\d:\d\d UTC"), timeout=LOAD_TIMEOUT_MS)
    notice = expect_text(page, "That click was on the previous image", timeout=LOAD_TIMEOUT_MS)
    in_viewport(notice)
    expect_text(page, selected(1))  # the selection carried over, without the stale click
    expect(save).to_be_enabled()
    page.screenshot(path=f"{SHOTS}/stale-click-refused.png")
    expect_no_exception(page)
    assert NO_CONTEXT not in app.log()


def test_connection_result_in_view_and_typed_secret_cleared(app, page, fake_sh):
    open_app(page, app.url)
    page.get_by_role("button", name="Test connection", exact=True).click()
    toast = page.get_by_test_id("stToast").filter(has_text="OK: Connected to")
    expect(toast).to_be_visible()
    in_viewport(toast)
    page.screenshot(path=f"{SHOTS}/test-connection-toast.png")

    page.get_by_text("Use other credentials (this browser session only)").click()
    page.get_by_label("Client id").fill(CLIENT_ID)
    secret = page.get_by_label("Client secret")
    secret.fill(SECRET)
    secret.press("Enter")
    click_button(page, "Use these credentials")
    expect_text(page, "typed in this session")
    expect(page.get_by_label("Client secret")).to_have_value("")
    assert SECRET not in page.content()
    click_button(page, "Test connection")
    expect(page.get_by_test_id("stToast").filter(has_text="typed in this session")).to_be_visible()
    assert SECRET not in app.log()


def test_a_failed_image_is_not_fetched_again_until_retry(app, page, fake_sh):
    first = days_listed(fake_sh)[0]
    fake_sh.inject("process", *[Fault.error(500, "boom", day=first)] * 3)
    open_app(page, app.url)
    press_start(page)
    error = expect_text(page, "failed (HTTP 500)", timeout=LOAD_TIMEOUT_MS)
    in_viewport(error)
    expect_text(page, "Your selection is kept")
    expect(button_named(page, "Save & next")).to_be_disabled()
    page.screenshot(path=f"{SHOTS}/fetch-failed-retry.png")
    assert fake_sh.process_counts()[first] == 3, "one fetch: max_attempts requests"

    # Reruns (the next view, twice) ask nothing of the server.
    for _ in range(2):
        click_button(page, "Next view")
        expect_text(page, "failed (HTTP 500)")
    assert fake_sh.process_counts()[first] == 3, "a rerun fetched the failed image again"

    click_button(page, "Retry")
    expect_text(page, selected(0), timeout=LOAD_TIMEOUT_MS)
    assert fake_sh.process_counts()[first] == 4, "Retry: one request, which succeeded"
    expect_no_exception(page)
    assert NO_CONTEXT not in app.log()


def test_a_revoked_token_is_renewed_without_a_word_about_credentials(app, page, fake_sh):
    open_app(page, app.url)
    press_start(page)
    expect_text(page, selected(0), timeout=LOAD_TIMEOUT_MS)
    assert fake_sh.counts["token"] == 1
    fake_sh.revoke_tokens()  # as a restarted service does
    fourth = days_listed(fake_sh)[3]
    wait_idle(page)
    jump = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Jump to", exact=True))
    jump.first.click()
    page.get_by_role("option", name=re.compile(rf"^4\. {fourth}")).click()
    expect_text(page, re.compile(rf"{fourth} \d\d:\d\d UTC"), timeout=LOAD_TIMEOUT_MS)
    expect_text(page, selected(0))
    expect(page.get_by_text("rejected the credentials")).to_have_count(0)
    # At most one new token, however many fetches met the revoked one. (The image may also
    # have come from the disk cache, filled by the time series' background fetches; the exact
    # counts are checked in tests/integration/test_sentinelhub_errors.py.)
    assert fake_sh.counts["token"] <= 2
    assert fake_sh.process_counts()[fourth] <= 2


def test_listing_wait_shows_beside_start(app, page, fake_sh):
    fake_sh.inject("catalog", Fault.rate_limited(2500))
    open_app(page, app.url)
    press_start(page)
    wait = expect_text(page, "HTTP 429", timeout=LOAD_TIMEOUT_MS)
    in_viewport(wait)  # the progress bar under the Start button, where the user is looking
    page.screenshot(path=f"{SHOTS}/wait-429-listing.png")
    expect_text(page, selected(0), timeout=LOAD_TIMEOUT_MS)
    assert fake_sh.counts["catalog"] == 2
    assert NO_CONTEXT not in app.log()


def test_a_refused_save_is_said_in_view(app, page, browser, fake_sh):
    """Another session reviewed the image meanwhile: Save & next is refused, and the message
    pops up in the window (the copy at the top of the loop may be scrolled away)."""
    open_app(page, app.url)
    press_start(page)
    expect_text(page, selected(0), timeout=LOAD_TIMEOUT_MS)
    other = browser.new_context(viewport=LAPTOP, service_workers="block")
    other.route(NOT_LOOPBACK, offline)
    try:
        second = other.new_page()
        assert "campaign=" in page.url
        second.goto(page.url)  # the same campaign, from its address
        expect_text(second, selected(0), timeout=LOAD_TIMEOUT_MS)
        click_button(second, "Skip (overcast)")
        expect_text(second, re.compile(r"1 of \d+ reviewed"))
    finally:
        other.close()
    page.mouse.wheel(0, 400)  # scrolled down a little, as after looking at the image's bottom
    button_named(page, "Save & next").click()
    toast = page.get_by_test_id("stToast").filter(has_text="another session")
    expect(toast).to_be_visible()
    in_viewport(toast)
    page.screenshot(path=f"{SHOTS}/refused-save-toast.png")
    expect_no_exception(page)
