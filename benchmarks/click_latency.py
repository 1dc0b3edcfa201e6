"""Click → repaint latency of the labelling view against a bare Streamlit app, side by side.

In one process and one Chromium, runs the labeller (`app.py`, demo source, default 102 x 102 px
area shown at 510 px) and the bare app of `benchmarks/bare_click_app.py` (the click component in
a fragment, a same-size image, a click toggling an outline, a "k pixels selected" line), and
clicks them in turn, on the same spots, so machine noise hits both. For each app it times, per
click: click → "k pixels selected" shown, and click → the new outlined image loaded in the click
component. Prints median (p50) and p95 of both, the labeller/bare ratios, and the core count.
``--load`` adds a process burning one core for the whole run. Not a test: never fails on time.

    .venv/bin/python benchmarks/click_latency.py [--clicks 30] [--load]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NOT_LOOPBACK, AppServer, offline  # noqa: E402
from tests.browser.helpers import IMAGE_IFRAME, click_button, image_element, open_app, selected  # noqa: E402

SRC_OF = "(e) => e.src.length + ':' + e.src.slice(-64)"
"""A cheap fingerprint of the shown image (its data URL is large)."""
WAIT_NEW_IMAGE = (
    "(e, before) => new Promise(done => { const check = () => "
    "(e.src.length + ':' + e.src.slice(-64)) !== before && e.complete ? done() : "
    "requestAnimationFrame(check); check(); })"
)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def burn() -> None:
    """Keep one core busy (the --load case)."""
    while True:
        sum(i * i for i in range(10_000))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--load", action="store_true", help="burn one core while measuring")
    parser.add_argument(
        "--bare-post-script-gc",
        choices=("true", "false"),
        default="true",
        help="the bare app's runner.postScriptGC (default: Streamlit's default, true)",
    )
    args = parser.parse_args()
    burner = multiprocessing.Process(target=burn, daemon=True) if args.load else None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "app").mkdir()
        (tmp / "bare").mkdir()
        app = AppServer(data_dir=tmp / "app", log_path=tmp / "app.log")
        bare = AppServer(
            data_dir=tmp / "bare",
            log_path=tmp / "bare.log",
            script="benchmarks/bare_click_app.py",
            options=("--runner.postScriptGC", args.bare_post_script_gc),
        )
        app.start()
        bare.start()
        try:
            if burner:
                burner.start()
            results = run(app.url, bare.url, args.clicks)
        finally:
            if burner:
                burner.terminate()
            app.stop()
            bare.stop()
    load = "one core kept busy by another process" if args.load else "no other load started"
    print(f"machine: {os.cpu_count()} cores; {load}; {args.clicks} clicks per app, alternating;")
    print(
        "102 x 102 px area shown at 510 px, Chromium 1366 x 768; "
        f"bare app runner.postScriptGC={args.bare_post_script_gc} (the labeller's config: false)"
    )
    for what in ("count", "image"):
        name = {"count": "click -> 'k pixels selected'", "image": "click -> outlined image loaded"}[what]
        ours, theirs = results["app"][what], results["bare"][what]
        for who, values in (("labeller", ours), ("bare app", theirs)):
            print(f"{name:32s} {who:9s} p50 {statistics.median(values):6.1f} ms   p95 {p95(values):6.1f} ms")
        print(
            f"{name:32s} ratio     p50 {statistics.median(ours) / statistics.median(theirs):6.2f} x   "
            f"p95 {p95(ours) / p95(theirs):6.2f} x"
        )


def prepare(page, url: str, *, labeller: bool):
    open_app(page, url)
    if labeller:
        click_button(page, "Start")
    page.get_by_text(selected(0)).wait_for()
    image = image_element(page)
    image.scroll_into_view_if_needed()
    return image, page.frame_locator(IMAGE_IFRAME).first.locator("#image")


def click_once(page, image, inner, k: int, clicks: int) -> tuple[float, float]:
    box = image.bounding_box()
    before = image.evaluate(SRC_OF)
    x = box["x"] + box["width"] * (0.05 + 0.9 * (k * 37 % clicks) / clicks)
    y = box["y"] + box["height"] * (0.05 + 0.9 * (k * 11 % clicks) / clicks)
    began = time.perf_counter()
    page.mouse.click(x, y)
    page.get_by_text(selected(k)).wait_for()
    count_ms = (time.perf_counter() - began) * 1000
    inner.evaluate(WAIT_NEW_IMAGE, before)
    return count_ms, (time.perf_counter() - began) * 1000


def run(app_url: str, bare_url: str, clicks: int) -> dict:
    results = {name: {"count": [], "image": []} for name in ("app", "bare")}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {}
        for name, url in (("app", app_url), ("bare", bare_url)):
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.route(NOT_LOOPBACK, offline)
            page = context.new_page()
            pages[name] = (page, *prepare(page, url, labeller=name == "app"))
        for k in range(1, clicks + 1):
            order = ("app", "bare") if k % 2 else ("bare", "app")
            for name in order:
                page, image, inner = pages[name]
                page.bring_to_front()
                count_ms, image_ms = click_once(page, image, inner, k, clicks)
                results[name]["count"].append(count_ms)
                results[name]["image"].append(image_ms)
        browser.close()
    return results


if __name__ == "__main__":
    main()
