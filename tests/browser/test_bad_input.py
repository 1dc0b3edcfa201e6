"""Bad input in a real browser: each gets a message saying what to fix, never a traceback,
and nothing typed or saved is lost. Screenshots at 1366 × 768 go to ``SHOTS`` (if set)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serving
from tests.browser.helpers import (
    click_button,
    click_image_pixel,
    expect_no_exception,
    expect_text,
    fill_number,
    go_to_page,
    number_input,
    open_app,
    selected,
    wait_idle,
)
from tests.browser.test_sessions import BOX, start

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("LABELLER_SHOTS")
"""A folder for screenshots of what these tests see (e.g. /tmp/h1-shots), or unset."""
LAPTOP = {"width": 1366, "height": 768}


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def test_text_in_a_bbox_box_is_named_and_the_box_keeps_it(app, page):
    page.set_viewport_size(LAPTOP)
    open_app(page, app.url)
    for label, bad, words in (
        ("Min lat (south)", "abc", "Min lat (south): 'abc' is not a number"),
        ("Max lon (east)", "1e309", "Max lon (east): 1e309 is not a finite number"),
        ("Min lon (west)", "nan", "Min lon (west): nan is not a finite number"),
    ):
        fill_number(page, label, bad)
        message = expect_text(page, words)
        expect(page.get_by_role("button", name="Start", exact=True)).to_be_disabled()
        expect(number_input(page, label)).to_have_value(bad)  # kept, to be corrected
        shot(page, f"bbox-{bad}")
        assert message.is_visible()
        fill_number(
            page, label, {"Min lat (south)": "45.8659", "Max lon (east)": "14.5642"}.get(label, "14.5514")
        )
    field = number_input(page, "Max lat (north)")
    field.fill("")
    field.press("Enter")
    expect_text(page, "Max lat (north) is empty")
    fill_number(page, "Max lat (north)", "45.875")
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_enabled()
    expect_no_exception(page)


def test_a_box_at_80_south_is_warned_about_before_starting(app, page):
    page.set_viewport_size(LAPTOP)
    open_app(page, app.url)
    for label, value in zip(BOX, ("10", "-80.004", "10.02", "-80"), strict=True):
        fill_number(page, label, value)
    expect_text(page, "outside Sentinel-2's regular coverage (56°S to 84°N)")
    shot(page, "bbox-80S")
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_enabled()  # a warning, not a refusal
    expect_no_exception(page)


@pytest.mark.parametrize("bad", ["²", "99999999999999999999"])
def test_a_bad_campaign_in_the_address_says_so(app, page, bad: str):
    page.set_viewport_size(LAPTOP)
    open_app(page, app.url, f"?campaign={bad}")
    expect_text(page, "which is not a campaign number")
    expect_text(page, "Label Sentinel-2 pixels")  # the set-up form, ready
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    shot(page, f"campaign-{'overflow' if len(bad) > 2 else 'superscript'}")
    expect_no_exception(page)


def test_each_browser_session_keeps_its_own_unsaved_selection(app, browser, context):
    """A selects two pixels, B clicks one in another browser on the same campaign, A
    reloads: A still has its two (the draft is per session, keyed in the address)."""
    other = browser.new_context(viewport=LAPTOP)
    other.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda r: r.fulfill(body=""))
    alice, bob = context.new_page(), other.new_page()
    try:
        alice.set_viewport_size(LAPTOP)
        rows, cols = start(alice, app.url, "4")
        click_image_pixel(alice, 5, 5, rows, cols)
        expect_text(alice, selected(1))
        click_image_pixel(alice, 5, 6, rows, cols)
        expect_text(alice, selected(2))
        address = alice.url
        campaign = re.search(r"campaign=(\d+)", address).group(1)
        assert re.search(r"[?&]s=[\w-]{8,}", address), address

        open_app(bob, app.url, f"?campaign={campaign}")  # B opens the campaign, no draft of A's
        expect_text(bob, selected(0))
        wait_idle(bob)
        shot(bob, "drafts-bob-opened")
        click_image_pixel(bob, 30, 30, rows, cols)
        expect_text(bob, selected(1))
        shot(bob, "drafts-bob")

        alice.reload()
        expect_text(alice, selected(2))
        shot(alice, "drafts-alice-reloaded")

        click_button(bob, "Save & next")  # B saves the image A is looking at
        expect_text(bob, re.compile(r"1 of \d+ reviewed, 1 pixel saved"))
        click_button(alice, "Save & next")  # refused: A would replace B's save unseen
        expect_text(alice, re.compile(r"saved with 1 pixel in another session at .* press again"))
        expect_text(alice, selected(2))
        shot(alice, "conflict-refused")
        click_button(alice, "Save & next")  # pressed again: replaces it on purpose
        expect_text(alice, re.compile(r"1 of \d+ reviewed, 2 pixels saved"))
        expect_no_exception(alice)
    finally:
        other.close()


def test_a_broken_secrets_file_is_named_with_the_fix(tmp_path, page):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "no-secrets.toml").write_text('[connections.labels]\nurl = "postgresql://x\n')  # unclosed
    with serving(tmp_path) as server:
        page.set_viewport_size(LAPTOP)
        open_app(page, server.url)
        expect_text(page, "are not valid TOML. Fix them and reload the page.")
        shot(page, "secrets-broken")
        expect_no_exception(page)


def test_a_bad_database_url_is_named_with_the_fix(tmp_path, page):
    env = {"LABELLER_DATABASE_URL": "postgresql://labeller:hunter2@127.0.0.1:1/labels"}
    with serving(tmp_path, env) as server:
        page.set_viewport_size(LAPTOP)
        open_app(page, server.url)  # "/" first: a deep link to /dataset is issue 13's other part
        go_to_page(page, "Dataset")
        expect_text(page, "Check the database server is running and reachable")
        expect(page.get_by_text("hunter2")).to_have_count(0)  # the password is never shown
        shot(page, "database-unreachable")
        expect_no_exception(page)
    assert "hunter2" not in server.log()
