# ruff: noqa: E402 - the repository root goes on sys.path before the project imports
"""How long Save & next takes to show the next image, with and without prefetch.

A fake Sentinel Hub (``tests/fakes/sentinelhub_server.py``, started as a subprocess) answers
every Process API request after a delay (2 s by default, like a slow real request). The app
runs under ``streamlit run`` with the Sentinel Hub source pointed at it through the
environment; Chromium (via Playwright) labels ``--images`` images: three clicks, then
Save & next. For each Save it measures, on the browser's clock, the time from the click to the
next image being shown (the image element has a new ``src`` that has finished loading).

Run from the repository root::

    .venv/bin/python benchmarks/next_image.py [--images 20] [--process-delay 2]

Prints p50 and p95 per mode, the requests the fake received, and ``os.cpu_count()``. The goal
is p50 <= 150 ms with prefetch. Never fails on time: it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright

from labeller.aoi import AreaOfInterest
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NOT_LOOPBACK,
    VIEWPORT,
    AppServer,
    free_port,
    offline,
)
from tests.browser.helpers import (
    IMAGE_IFRAME,
    button_named,
    click_button,
    click_image_pixel,
    expect_text,
    fill_number,
    open_app,
    wait_idle,
)
from tests.browser.test_sentinelhub_source import BBOX_LABELS, choose_option, choose_radio, fill_date

BBOX = (10.0, 46.0, 10.008, 46.006)
"""A demo-landscape box in the Alps (the fake serves the synthetic landscape there)."""
PERIOD = ("2020-04-01", "2020-10-31")
"""About 40 acquisitions: enough for 20 images plus the two prefetched beyond."""
CLIENT_ID, SECRET = "bench-client", "bench-secret-not-real"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

INSTALL_SAVE_CLOCK = """() => {
  if (window.__saveClock) return;
  window.__saveClock = true;
  document.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (b && b.innerText.trim().startsWith('Save & next')) {
      window.__savedAt = performance.timeOrigin + performance.now();
    }
  }, true);
}"""
NEW_IMAGE_SHOWN = """(old) => {
  const i = document.getElementById('image');
  const shown = i && i.src && i.src !== old && i.complete && i.naturalWidth > 0;
  return shown ? performance.timeOrigin + performance.now() : false;
}"""


# --- the fake and the app -------------------------------------------------------------------------


def start_fake(process_delay: float, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tests.fakes.sentinelhub_server",
        "--port",
        str(port),
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        SECRET,
        "--process-delay",
        str(process_delay),
    ]
    log = log_path.open("wb")
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            counts(url)
            return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the fake did not start:\n{log_path.read_text()}") from None
            time.sleep(0.1)


def counts(url: str, reset: bool = False) -> dict:
    request = urllib.request.Request(
        url + ("/_fake/reset" if reset else "/_fake/counts"),
        data=b"{}" if reset else None,
        method="POST" if reset else "GET",
    )
    with NO_PROXY.open(request, timeout=5) as response:
        return json.load(response)["by_kind"]


def app_env(fake_url: str, prefetch: bool, config_home: Path) -> dict[str, str]:
    return {
        "SH_BASE_URL": fake_url,
        "SH_TOKEN_URL": fake_url + "/auth/realms/main/protocol/openid-connect/token",
        "SH_CLIENT_ID": CLIENT_ID,
        "SH_CLIENT_SECRET": SECRET,
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
        "LABELLER_PREFETCH": "1" if prefetch else "0",
        "XDG_CONFIG_HOME": str(config_home),
    }


# --- one run ------------------------------------------------------------------------------------------


def set_up_campaign(page: Page, url: str) -> tuple[int, int]:
    aoi = AreaOfInterest(*BBOX)
    open_app(page, url)
    for label, value in zip(BBOX_LABELS, BBOX, strict=True):
        fill_number(page, label, value)
    expect_text(page, f"Grid: {aoi.cols} × {aoi.rows} pixels")
    fill_date(page, "Start date", PERIOD[0])
    fill_date(page, "End date", PERIOD[1])
    choose_option(page, "Source", "Sentinel Hub")
    choose_radio(page, "Collection", "Level-1C")
    click_button(page, "Start")
    expect_text(page, "pixels selected", timeout=60_000)
    return aoi.shape


def image_src(page: Page) -> str:
    frame = page.frame_locator(IMAGE_IFRAME).first
    return frame.locator("#image").get_attribute("src", timeout=60_000) or ""


def wait_new_image(page: Page, old_src: str, timeout_s: float = 60.0) -> float:
    """Browser time (ms since the epoch) when an image other than ``old_src`` was shown."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            iframe = page.locator(IMAGE_IFRAME).first
            iframe.wait_for(state="attached", timeout=max(1, (deadline - time.monotonic()) * 1000))
            frame = iframe.element_handle().content_frame()
            handle = frame.wait_for_function(
                NEW_IMAGE_SHOWN, arg=old_src, polling=5, timeout=max(1, (deadline - time.monotonic()) * 1000)
            )
            return float(handle.json_value())
        except Exception:  # noqa: BLE001 - the iframe was replaced by a rerun: look again
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def label_images(page: Page, shape: tuple[int, int], images: int) -> list[float]:
    """Milliseconds from each Save & next click to the next image shown."""
    rows, cols = shape
    page.evaluate(INSTALL_SAVE_CLOCK)
    latencies = []
    for i in range(images):
        for j in range(3):
            k = 3 * i + j  # a different pixel each time: the selection carries over
            click_image_pixel(page, 4 + k % (rows - 8), 4 + (7 * k) % (cols - 8), rows, cols)
            wait_idle(page)
        old = image_src(page)
        button_named(page, "Save & next").click()  # its name may end "Shortcut S"
        shown = wait_new_image(page, old)
        saved = page.evaluate("() => window.__savedAt")
        latencies.append(shown - saved)
        wait_idle(page)
        expect_text(page, f"{i + 1} of ")
    return latencies


def run_mode(browser, fake_url: str, prefetch: bool, images: int, workdir: Path) -> tuple[list[float], dict]:
    data_dir, config_home = workdir / "data", workdir / "xdg"
    data_dir.mkdir(parents=True)
    config_home.mkdir()
    counts(fake_url, reset=True)
    server = AppServer(
        data_dir=data_dir,
        log_path=workdir / "streamlit.log",
        extra_env=app_env(fake_url, prefetch, config_home),
    ).start()
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(60_000)
    context.route(NOT_LOOPBACK, offline)
    try:
        page = context.new_page()
        shape = set_up_campaign(page, server.url)
        latencies = label_images(page, shape, images)
        return latencies, counts(fake_url)
    finally:
        context.close()
        server.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--process-delay", type=float, default=2.0)
    parser.add_argument("--modes", default="on,off", help="prefetch modes to run: on,off")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="next-image-") as tmp:
        workdir = Path(tmp)
        fake, fake_url = start_fake(args.process_delay, workdir / "fake.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                results = {}
                for mode in args.modes.split(","):
                    results[mode] = run_mode(browser, fake_url, mode == "on", args.images, workdir / mode)
                browser.close()
        finally:
            fake.terminate()
            fake.wait(timeout=10)
    print(
        f"Save & next → next image shown; {args.images} images, process requests answered after "
        f"{args.process_delay:g} s; os.cpu_count() = {os.cpu_count()}"
    )
    for mode, (latencies, seen) in results.items():
        p50, p95 = statistics.median(latencies), percentile(latencies, 95)
        print(
            f"  prefetch {mode:3}: p50 {p50:7.0f} ms   p95 {p95:7.0f} ms   "
            f"min {min(latencies):6.0f} ms   max {max(latencies):6.0f} ms   requests {seen}"
        )


if __name__ == "__main__":
    main()
