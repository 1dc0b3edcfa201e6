"""What a person does with the app, as Playwright steps (in the style of Streamlit's e2e helpers).

Every helper waits for a state it can see (text, an element, the app going idle), never for a
fixed time it hopes is enough. Tests should end each step by waiting for the text they expect:
that is both faster and stricter than waiting for the app to go idle.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from playwright.sync_api import FrameLocator, Locator, Page, expect

from labeller.store import Store

IMAGE_IFRAME = 'iframe[title="streamlit_image_coordinates.streamlit_image_coordinates"]'
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
APP = "[data-testid='stApp']"
SETTLE_MS = 210
"""After an action Streamlit's script state still reads ``notRunning`` for 16-23 ms before the
rerun starts; Streamlit's own e2e suite waits this long before trusting it (streamlit-notes §5)."""


def selected(n: int) -> re.Pattern:
    """The loop's "n pixels selected" text, n exactly."""
    return re.compile(rf"(?<!\d){n} pixels? selected")


# --- the app as a whole --------------------------------------------------------------------


def open_app(page: Page, url: str, path: str = "") -> None:
    """Load the app (``path`` e.g. ``"dataset"``) and wait for its first run to finish."""
    page.goto(url.rstrip("/") + "/" + path.lstrip("/"))
    wait_idle(page, settle=False)


def wait_idle(page: Page, *, settle: bool = True, timeout: float | None = None) -> None:
    """Wait until the app is connected, no script runs and nothing is still loading.

    ``settle`` first lets a rerun that an action just asked for start (see ``SETTLE_MS``); it is
    the one deliberate pause in these helpers. Prefer ``expect_text`` on the result you expect.
    """
    if settle:
        page.wait_for_timeout(SETTLE_MS)
    options = {} if timeout is None else {"timeout": timeout}
    page.locator(
        f"{APP}[data-test-connection-state='CONNECTED'][data-test-script-state='notRunning']"
    ).wait_for(state="attached", **options)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, **options)


def expect_text(
    page: Page | Locator, text: str | re.Pattern, *, exact: bool = False, timeout: float | None = None
) -> Locator:
    """Wait until ``text`` is shown (a substring unless ``exact``); returns its element."""
    found = page.get_by_text(text, exact=exact).first
    expect(found).to_be_visible(**({} if timeout is None else {"timeout": timeout}))
    return found


def expect_no_exception(page: Page) -> None:
    """The page shows no Python traceback box."""
    expect(page.get_by_test_id("stException")).to_have_count(0)


def go_to_page(page: Page, title: str) -> None:
    """Click a page's link in the sidebar navigation."""
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=re.compile(rf"\b{re.escape(title)}$"))
    link.click()
    wait_idle(page)


# --- widgets --------------------------------------------------------------------------------


def button_named(page: Page, label: str) -> Locator:
    """The button labelled ``label`` (a keyboard shortcut shown on it, "Shortcut S", may follow)."""
    return page.get_by_role("button", name=re.compile(rf"^{re.escape(label)}( Shortcut .+)?$"))


def click_button(page: Page, label: str) -> None:
    """Click the enabled button labelled ``label`` and wait for the rerun it causes."""
    button = button_named(page, label)
    expect(button).to_be_enabled()
    button.click()
    wait_idle(page)


def open_popover(page: Page, label: str) -> Locator:
    """Open the ``st.popover`` whose button starts with ``label`` (the loop keeps the campaign's
    details in one) and return its body, once shown."""
    button = page.get_by_test_id("stPopoverButton").filter(has_text=re.compile(rf"^\s*{re.escape(label)}"))
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    body = page.get_by_test_id("stPopoverBody")
    expect(body).to_be_visible()
    return body


def number_input(page: Page, label: str) -> Locator:
    """The ``<input>`` of the ``st.number_input`` (or the ``st.text_input`` taking a number,
    as the area's boxes do) labelled ``label``."""
    return (
        page.get_by_test_id(re.compile(r"^st(Number|Text)Input$"))
        .filter(has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))
        .locator("input")
    )


def fill_number(page: Page, label: str, value: float | int | str) -> None:
    """Type ``value`` into a number input and commit it (Enter), as a person would."""
    field = number_input(page, label)
    field.fill(str(value))
    field.press("Enter")
    expect(field).to_have_value(re.compile(rf"^{re.escape(str(value))}"))
    wait_idle(page)


# --- the clickable image (streamlit_image_coordinates) -----------------------------------------


def image_element(page: Page) -> Locator:
    """The clickable ``#image``, once its picture is loaded (``naturalWidth > 0``). Checked
    from the page, looking up the component's frame afresh each time: Streamlit may mount the
    frame anew while the first run draws the loop, and a handle to the old one waits forever."""
    page.wait_for_function(
        "(selector) => { const f = document.querySelector(selector);"
        " const i = f && f.contentDocument && f.contentDocument.getElementById('image');"
        " return !!i && !!i.src && i.complete && i.naturalWidth > 0 && i.width > 0; }",
        arg=IMAGE_IFRAME,
    )
    return page.frame_locator(IMAGE_IFRAME).first.locator("#image")


def click_image_pixel(page: Page, row: int, col: int, rows: int, cols: int) -> None:
    """Click the centre of grid cell (row, col) of a ``rows`` × ``cols`` image at its shown size."""
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"cell ({row}, {col}) is outside a {rows}×{cols} grid")
    image = image_element(page)
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    assert box is not None and box["width"] > 0, "the image is not shown"
    x = box["x"] + (col + 0.5) * box["width"] / cols
    y = box["y"] + (row + 0.5) * box["height"] / rows
    page.mouse.click(x, y)


def select_pixels(page: Page, pixels: list[tuple[int, int]], rows: int, cols: int, already: int = 0) -> None:
    """Click each (row, col) once, waiting after each for the count to reach ``already`` + k."""
    for i, (row, col) in enumerate(pixels, start=already + 1):
        click_image_pixel(page, row, col, rows, cols)
        expect_text(page, selected(i))


def saved_samples(data_dir: Path) -> pd.DataFrame:
    """Every sample in the app's SQLite store in ``data_dir``, read behind the app's back."""
    store = Store(Store.sqlite_url(data_dir))
    try:
        return store.samples()
    finally:
        store.close()


# --- the map (st_folium) -------------------------------------------------------------------------


def map_frame(page: Page) -> FrameLocator:
    """The folium map's frame, once Leaflet and Leaflet.draw have started in it."""
    frame = page.frame_locator(MAP_IFRAME).first
    expect(frame.locator(".leaflet-container").first).to_be_visible()
    expect(frame.locator("a.leaflet-draw-draw-rectangle")).to_be_visible()
    return frame


def draw_rectangle(page: Page, start_xy: tuple[float, float], end_xy: tuple[float, float]) -> None:
    """Draw a rectangle on the map, corners given in CSS pixels from the map's top-left."""
    frame = map_frame(page)
    frame.locator("a.leaflet-draw-draw-rectangle").click()
    container = frame.locator(".leaflet-container").first
    container.scroll_into_view_if_needed()
    box = container.bounding_box()
    assert box is not None, "the map is not shown"
    for x, y in (start_xy, end_xy):
        if not (0 <= x <= box["width"] and 0 <= y <= box["height"]):
            raise ValueError(f"({x}, {y}) is outside the {box['width']:.0f}×{box['height']:.0f} map")
    page.mouse.move(box["x"] + start_xy[0], box["y"] + start_xy[1])
    page.mouse.down()
    page.mouse.move(box["x"] + end_xy[0], box["y"] + end_xy[1], steps=10)
    page.mouse.up()
