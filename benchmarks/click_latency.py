"""Click → repaint latency of the labelling view against a bare Streamlit app, side by side.

In one process and one Chromium, runs the labeller (`app.py`, demo source, default 102 x 102 px
area shown at 510 px) and the bare app of `benchmarks/bare_click_app.py` (the click component in
a fragment, a same-size image, a click toggling an outline, a "k pixels selected" line), and
clicks them in turn, on the same spots, so machine noise hits both. For each app it times, per
click: click → "k pixels selected" shown, and click → the new outlined image loaded in the click
component. Prints median (p50) and p95 of both, the labeller/bare ratios with a 95 % bootstrap
interval for the p50 ratio (what this run's noise alone allows), and the core count.
On 2 cores the p50 ratio of "click -> count" moves by up to 0.3 between runs of the same code.
Most of that is the bare app's: its count times are bimodal (quartiles ~26 and ~56 ms), and its
median falls in the gap. Streamlit's default ``runner.postScriptGC`` runs a full garbage
collection (~45 ms) on the script thread after each run; when it starts before the server's event
loop has written the count, the count waits for it (server side, the count left at p75 51 ms; with
``--bare-post-script-gc false``, 12.5 ms). The bootstrap interval shows how much one run's own
clicks move the p50 ratio, the mean ratio is a steadier summary, and ``--csv`` keeps every time.
``--rounds N`` repeats the whole run N times (fresh servers and browser each) and pools the clicks:
the figure to quote, with each round's own p50 ratio printed beside it.
``--load`` adds a process burning one core for the whole run; ``--pause`` waits before each pair
of clicks, so the spectra beside the image redraw between clicks. Not a test: never fails on time.

What a click waits for is seen on the next animation frame, so its times come in steps of a frame
(~17 ms at 60 Hz). Each wait for a result ends on a frame, so a script clicking right after it
clicks at the same point of the frame clock every time; that point moves from run to run, and
whole runs jumped a frame (the bare app's count: ~18 ms in some rounds, ~29 ms in others; p50
ratios of one run's rounds from 1.11 to 1.79). A person clicks at any point of it: each pair of
clicks first waits a random part of a frame (``--no-jitter``: the old lockstep, for comparison).
With it, the p50 ratios of one run's 5-10 rounds spread over 0.1-0.35 (in lockstep up to 0.75).

Both times are taken inside the page, on its clock, as a user would see them: from the click
event's time stamp to the first animation frame after the count's text is in the page, or after
the new image's load event. (Waiting with Playwright's locators instead measured its polling:
they look again 20, 50 and 100 ms apart, so a count shown 35 ms after the click was seen at
~85 ms and one shown at 28 ms at ~35 ms, and each look scans the whole page.)

    .venv/bin/python benchmarks/click_latency.py [--clicks 30] [--rounds 1] [--load] [--pause 1.0] [--csv F]
        [--bare-post-script-gc false] [--no-jitter]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NOT_LOOPBACK, AppServer, offline  # noqa: E402
from tests.browser.helpers import click_button, image_element, open_app, selected  # noqa: E402

WATCH = """
(() => {
  if (window !== window.top) {  // the click component's frame: the click and the new image
    const bench = () => window.top.__s2bench;
    const onTopClock = (t) => performance.timeOrigin + t - window.top.performance.timeOrigin;
    addEventListener("click", (e) => {
      if (e.isTrusted && bench()) bench().clicked(onTopClock(e.timeStamp));
    }, true);
    // (on the component's own document: the first one, about:blank, is replaced, its window kept)
    addEventListener("DOMContentLoaded", () => document.addEventListener("load", (e) => {
      if (e.target.id === "image" && bench()) bench().imageLoaded();
    }, true));
    return;
  }
  const bench = window.__s2bench = { want: -1, clickAt: null, countAt: null, imageAt: null };
  const frame = (key) => requestAnimationFrame(() => {
    if (bench[key] === null) bench[key] = performance.now();
  });
  bench.arm = (k) => Object.assign(bench, { want: k, clickAt: null, countAt: null, imageAt: null,
    pattern: new RegExp(`(?<!\\\\d)${k} pixels? selected`) });
  bench.clicked = (at) => { if (bench.clickAt === null) bench.clickAt = at; };
  bench.imageLoaded = () => { if (bench.clickAt !== null) frame("imageAt"); };
  bench.done = () => bench.countAt !== null && bench.imageAt !== null;
  bench.result = () => [bench.countAt - bench.clickAt, bench.imageAt - bench.clickAt];
  new MutationObserver((records) => {
    if (bench.clickAt === null || bench.countAt !== null) return;
    for (const r of records) {
      const nodes = r.type === "characterData" ? [r.target] : r.addedNodes;
      for (const node of nodes) {
        if (bench.pattern.test(node.textContent || "")) { frame("countAt"); return; }
      }
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();
"""
"""Installed in every page and frame: times a click in the page itself (see the module's note)."""


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def ratio_interval(ours: list[float], theirs: list[float], rounds: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap interval of the p50 ratio: how far this run's noise alone moves it."""
    rng = np.random.default_rng(0)
    a, b = np.asarray(ours), np.asarray(theirs)
    resampled = [np.median(rng.choice(x, (rounds, x.size)), axis=1) for x in (a, b)]
    ratios = resampled[0] / resampled[1]
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


def burn() -> None:
    """Keep one core busy (the --load case)."""
    while True:
        sum(i * i for i in range(10_000))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--load", action="store_true", help="burn one core while measuring")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds before each pair of clicks (1.0: the spectra beside the image redraw between clicks)",
    )
    parser.add_argument(
        "--bare-post-script-gc",
        choices=("true", "false"),
        default="true",
        help="the bare app's runner.postScriptGC (default: Streamlit's default, true)",
    )
    parser.add_argument("--csv", type=Path, help="also write every click's times to this CSV file")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat with fresh servers and browser; the figures pool every round's clicks",
    )
    parser.add_argument(
        "--no-jitter",
        action="store_true",
        help="click right after the previous result, in step with the frame clock (see the module's note)",
    )
    args = parser.parse_args()
    report(args, [measure_round(args) for _ in range(args.rounds)])


def report(args, rounds: list[dict]) -> None:
    """Print the pooled figures of all rounds (and each round's p50 ratio); write --csv."""
    pooled = {
        name: {what: [t for one in rounds for t in one[name][what]] for what in ("count", "image")}
        for name in ("app", "bare")
    }
    if args.csv:
        rows = ["round,app,click,count_ms,image_ms"] + [
            f"{r},{name},{k},{count:.1f},{image:.1f}"
            for r, one in enumerate(rounds, 1)
            for name, times in one.items()
            for k, (count, image) in enumerate(zip(times["count"], times["image"], strict=True), 1)
        ]
        args.csv.write_text("\n".join(rows) + "\n")
    load = "one core kept busy by another process" if args.load else "no other load started"
    pause = f", {args.pause:g} s pause before each pair of clicks" if args.pause else ""
    pooled_note = f" x {args.rounds} rounds (fresh servers each), pooled" if args.rounds > 1 else ""
    phase = "in step with the frame clock" if args.no_jitter else "at random points of the frame clock"
    print(
        f"machine: {os.cpu_count()} cores; {load}; {args.clicks} clicks per app, alternating"
        f"{pooled_note}{pause}, {phase};"
    )
    print(
        "102 x 102 px area shown at 510 px, Chromium 1366 x 768; "
        f"bare app runner.postScriptGC={args.bare_post_script_gc} (the labeller's config: false)"
    )
    for what in ("count", "image"):
        name = {"count": "click -> 'k pixels selected'", "image": "click -> outlined image loaded"}[what]
        ours, theirs = pooled["app"][what], pooled["bare"][what]
        for who, values in (("labeller", ours), ("bare app", theirs)):
            print(f"{name:32s} {who:9s} p50 {statistics.median(values):6.1f} ms   p95 {p95(values):6.1f} ms")
        low, high = ratio_interval(ours, theirs)
        mean_ratio = statistics.fmean(ours) / statistics.fmean(theirs)
        print(
            f"{name:32s} ratio     p50 {statistics.median(ours) / statistics.median(theirs):6.2f} x   "
            f"p95 {p95(ours) / p95(theirs):6.2f} x   (p50 ratio, 95 % bootstrap: {low:.2f}-{high:.2f})"
        )
        print(f"{name:32s} ratio     mean {mean_ratio:5.2f} x")
        if args.rounds > 1:
            each = [
                statistics.median(one["app"][what]) / statistics.median(one["bare"][what]) for one in rounds
            ]
            print(f"{name:32s} ratio     p50 of each round: " + ", ".join(f"{r:.2f}" for r in each))


def measure_round(args) -> dict:
    """One round: both apps on fresh servers, clicked in turn; every click's two times."""
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
            return run(app.url, bare.url, args.clicks, args.pause, jitter=not args.no_jitter)
        finally:
            if burner:
                burner.terminate()
            app.stop()
            bare.stop()


def prepare(page, url: str, *, labeller: bool):
    open_app(page, url)
    if labeller:
        click_button(page, "Start")
    page.get_by_text(selected(0)).wait_for()
    image = image_element(page)
    image.scroll_into_view_if_needed()
    return image


FRAME_S = 1 / 60  # the browser's frame interval: what a click waits for to be seen is quantised by it


def click_once(page, image, k: int, clicks: int, phase_s: float = 0.0) -> tuple[float, float]:
    """Click the k-th spot after ``phase_s`` (see ``run``); the click's two times, in ms."""
    box = image.bounding_box()
    x = box["x"] + box["width"] * (0.05 + 0.9 * (k * 37 % clicks) / clicks)
    y = box["y"] + box["height"] * (0.05 + 0.9 * (k * 11 % clicks) / clicks)
    page.evaluate("k => window.__s2bench.arm(k)", k)
    time.sleep(phase_s)
    page.mouse.click(x, y)
    page.wait_for_function("() => window.__s2bench.done()")
    count_ms, image_ms = page.evaluate("() => window.__s2bench.result()")
    return count_ms, image_ms


def run(app_url: str, bare_url: str, clicks: int, pause: float = 0.0, jitter: bool = True) -> dict:
    """Click both apps in turn; with ``jitter``, each pair of clicks first waits a random part of
    a frame, the same for both apps (why: the module's note)."""
    rng = random.Random(0)
    results = {name: {"count": [], "image": []} for name in ("app", "bare")}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {}
        for name, url in (("app", app_url), ("bare", bare_url)):
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.route(NOT_LOOPBACK, offline)
            context.add_init_script(WATCH)
            page = context.new_page()
            pages[name] = (page, prepare(page, url, labeller=name == "app"))
        for k in range(1, clicks + 1):
            if pause:
                time.sleep(pause)  # a labeller looking at the image (not a wait for a result)
            order = ("app", "bare") if k % 2 else ("bare", "app")
            phase_s = rng.uniform(0, FRAME_S) if jitter else 0.0
            for name in order:
                page, image = pages[name]
                page.bring_to_front()
                count_ms, image_ms = click_once(page, image, k, clicks, phase_s)
                results[name]["count"].append(count_ms)
                results[name]["image"].append(image_ms)
        browser.close()
    return results


if __name__ == "__main__":
    main()
