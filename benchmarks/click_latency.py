"""Click → repaint latency of the labelling view, in a real Chromium against `streamlit run`.

Measures, for N clicks on distinct pixels: click → "k pixels selected" text shown, and
click → the new outlined image loaded in the click component. Prints median and p95 with
the machine's core count. Not a test: it never fails on time.

    .venv/bin/python benchmarks/click_latency.py [--clicks 20]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NOT_LOOPBACK, AppServer, offline  # noqa: E402
from tests.browser.helpers import IMAGE_IFRAME, click_button, image_element, open_app  # noqa: E402

SRC_OF = "(e) => e.src.length + ':' + e.src.slice(-64)"
"""A cheap fingerprint of the shown image (its data URL is large)."""


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = AppServer(data_dir=Path(tmp), log_path=Path(tmp) / "streamlit.log").start()
        try:
            text_ms, image_ms = run(server.url, args.clicks)
        finally:
            server.stop()
    print(f"machine: {os.cpu_count()} cores; {args.clicks} clicks on a 102 x 102 px AOI (shown 510 px)")
    for name, values in (
        ("click -> selection count shown", text_ms),
        ("click -> outlined image loaded", image_ms),
    ):
        print(f"{name:34s} median {statistics.median(values):6.1f} ms   p95 {p95(values):6.1f} ms")


def run(url: str, clicks: int) -> tuple[list[float], list[float]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.route(NOT_LOOPBACK, offline)
        page = context.new_page()
        open_app(page, url)
        click_button(page, "Start")
        page.get_by_text(re.compile(r"(?<!\d)0 pixels selected")).wait_for()
        image = image_element(page)
        frame = page.frame_locator(IMAGE_IFRAME).first
        text_ms, image_ms = [], []
        for k in range(1, clicks + 1):
            box = image.bounding_box()
            before = image.evaluate(SRC_OF)
            x = box["x"] + box["width"] * (0.05 + 0.9 * (k * 37 % clicks) / clicks)
            y = box["y"] + box["height"] * (0.05 + 0.9 * (k * 11 % clicks) / clicks)
            began = time.perf_counter()
            page.mouse.click(x, y)
            page.get_by_text(re.compile(rf"(?<!\d){k} pixels? selected")).wait_for()
            text_ms.append((time.perf_counter() - began) * 1000)
            frame.locator("#image").evaluate(
                "(e, before) => new Promise(done => { const check = () => "
                "(e.src.length + ':' + e.src.slice(-64)) !== before && e.complete ? done() : "
                "requestAnimationFrame(check); check(); })",
                before,
            )
            image_ms.append((time.perf_counter() - began) * 1000)
        browser.close()
    return text_ms, image_ms


if __name__ == "__main__":
    main()
