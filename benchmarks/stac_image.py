# ruff: noqa: E402 - the repository root goes on sys.path before the project imports
"""Earth Search source: requests and bytes per image, Start → first image, Save & next → next image.

The fake Earth Search (``tests/fakes/stac_server.py``, in this process, COGs made from the real
sample) adds ``--latency`` (default 100 ms) to every request, STAC and COG alike.

1. One image read directly through ``EarthSearchSource.scene`` (a date with one item, 13
   files): HTTP requests per file, and bytes received against the compressed size of the
   tiles the area's window touches (read from each COG's tile index).
2. The app under ``streamlit run`` pointed at the fake with ``LABELLER_STAC_URL``, driven by
   Chromium: time from Start to the first image shown, then ``--images`` times three clicks
   and Save & next, the time to the next image shown (browser clock), with and without
   prefetch, each on a fresh data folder (empty scene cache). For reference the same steps with
   the demo source (``--modes demo``; same page, no network): what the page itself costs.

Run from the repository root::

    .venv/bin/python benchmarks/stac_image.py [--images 12] [--latency 0.1]

Prints medians and p95 and ``os.cpu_count()``. Never fails on time: it measures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import rasterio
from playwright.sync_api import Page, sync_playwright

from benchmarks.next_image import image_src, label_images, percentile, wait_new_image
from labeller.aoi import AreaOfInterest
from labeller.sources.earthsearch import EarthSearchSource
from labeller.sources.earthsearch.reading import forget, native_pixels
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NOT_LOOPBACK, VIEWPORT, AppServer, offline
from tests.browser.helpers import click_button, expect_text, fill_number, open_app
from tests.browser.test_sentinelhub_source import BBOX_LABELS, choose_option, fill_date
from tests.fakes import s2_cogs
from tests.fakes.stac_server import FakeEarthSearch

BBOX = s2_cogs.SAMPLE_BBOX
"""The real sample's area: 102 × 102 pixels, across a tile corner of every 10 m file."""
PERIOD = ("2015-07-01", "2016-06-30")
"""The five real dates and their copies 70, 140 and 210 days later: 20 images."""
DEMO_PERIOD = ("2015-07-01", "2015-10-10")
"""About 20 demo dates, as many as the Earth Search period has."""
EARTH_SEARCH, DEMO = "Earth Search (no account)", "Demo (offline, synthetic)"
SOURCES = {"on": EARTH_SEARCH, "off": EARTH_SEARCH, "demo": DEMO}
"""Source picked in each mode; prefetch is off only in mode ``off``."""
TEN_M = ("B02", "B03", "B04", "B08")
INSTALL_START_CLOCK = """() => {
  document.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (b && b.innerText.trim() === 'Start') {
      window.__startedAt = performance.timeOrigin + performance.now();
    }
  }, true);
}"""


def touched_tile_bytes(path: Path, aoi: AreaOfInterest) -> tuple[int, int]:
    """(compressed bytes of the tiles the area's window touches, file size) of one COG."""
    with rasterio.open(path) as src:
        rows, cols = native_pixels(aoi, src.crs.to_epsg(), src.transform)
        bh, bw = src.block_shapes[0]
        blocks = {(int(r) // bh, int(c) // bw) for r, c in zip(rows.ravel(), cols.ravel(), strict=True)}
        return sum(src.block_size(1, i, j) for i, j in blocks), path.stat().st_size


def inside_one_tile_row() -> AreaOfInterest:
    """An area as large as the sample's whose window lies in one row of 10 m tiles (rows
    300–402 of the 256-row tiles): the common case on real 1024-px tiles."""
    return s2_cogs.aoi_in_files(east=(1990, 3000), south=(4010, 3010))


def one_image(fake: FakeEarthSearch, aoi: AreaOfInterest, title: str) -> None:
    source = EarthSearchSource(fake.url)
    acquisition = source.acquisitions(aoi, date(2015, 7, 1), date(2015, 9, 30))[3]  # one item
    item = next(i for i in fake.items if i.id == acquisition.id)
    forget([item.href(fake.url, band) for band in s2_cogs.RESOLUTION])  # GDAL's cache of an earlier read
    fake.clear()
    began = time.perf_counter()
    source.scene(aoi, acquisition)
    took = time.perf_counter() - began
    requests = fake.counted("/cogs")
    per_file = Counter(r.path.rsplit("/", 1)[-1] for r in requests)
    methods = Counter(r.method for r in requests)
    received = sum(r.sent for r in requests)
    touched = total = 0
    for band in (*s2_cogs.RESOLUTION,):
        t, size = touched_tile_bytes(item.path(fake.root, band), aoi)
        touched, total = touched + t, total + size
    print(f"One image, {title} ({aoi.rows} × {aoi.cols} px, {len(per_file)} files), read directly:")
    print(
        f"  HTTP requests: {len(requests)} ({dict(methods)}); per file: "
        f"max {max(per_file.values())}, mean {np.mean(list(per_file.values())):.1f} "
        f"(10 m files {sorted({per_file[f'{b}.tif'] for b in TEN_M})}, "
        f"20/60 m files {sorted({v for k, v in per_file.items() if k[:3] not in TEN_M})})"
    )
    print(
        f"  bytes received {received / 1024:.0f} KiB; compressed tiles the window touches "
        f"{touched / 1024:.0f} KiB; the files in all {total / 1024:.0f} KiB "
        f"(received / touched = {received / touched:.2f})"
    )
    print(f"  wall time for the 13 concurrent reads: {took * 1000:.0f} ms")


def set_up(page: Page, url: str, source: str, period: tuple[str, str]) -> tuple[tuple[int, int], float]:
    """Fill the form, press Start; returns the grid shape and ms from Start to the first image."""
    aoi = AreaOfInterest(*BBOX)
    open_app(page, url)
    for label, value in zip(BBOX_LABELS, BBOX, strict=True):
        fill_number(page, label, value)
    expect_text(page, f"Grid: {aoi.cols} × {aoi.rows} pixels")
    fill_date(page, "Start date", period[0])
    fill_date(page, "End date", period[1])
    choose_option(page, "Source", source)
    page.evaluate(INSTALL_START_CLOCK)
    click_button(page, "Start")
    shown = wait_new_image(page, "")
    first = shown - page.evaluate("() => window.__startedAt")
    expect_text(page, "pixels selected", timeout=60_000)
    image_src(page)
    return aoi.shape, first


def run_mode(browser, fake: FakeEarthSearch, mode: str, images: int, workdir: Path):
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True)
    env = {**fake.env(), "LABELLER_PREFETCH": "0" if mode == "off" else "1"}
    server = AppServer(data_dir=data_dir, log_path=workdir / "streamlit.log", extra_env=env).start()
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(60_000)
    context.route(NOT_LOOPBACK, offline)
    try:
        page = context.new_page()
        fake.clear()
        period = DEMO_PERIOD if mode == "demo" else PERIOD
        shape, first = set_up(page, server.url, SOURCES[mode], period)
        latencies = label_images(page, shape, images)
        return first, latencies, len(fake.counted("/cogs")), len(fake.counted("/search"))
    finally:
        context.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request")
    parser.add_argument(
        "--modes",
        default="on,off,demo",
        help="modes to run: on, off (Earth Search with and without prefetch), demo (reference)",
    )
    args = parser.parse_args()
    sample = s2_cogs.find_sample()
    if sample is None:
        sys.exit(f"needs the real sample {s2_cogs.SAMPLE_NAME} in shared/data beside this checkout")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"os.cpu_count() = {os.cpu_count()}; load average at the start {load}")
    with tempfile.TemporaryDirectory(prefix="stac-image-") as tmp:
        workdir = Path(tmp)
        with FakeEarthSearch(workdir / "cogs", sample, latency=args.latency, copies=3, max_page=10) as fake:
            print(f"(every request answered after {args.latency * 1000:.0f} ms extra)")
            one_image(fake, AreaOfInterest(*BBOX), "area across a corner of four 10 m tiles")
            one_image(fake, inside_one_tile_row(), "area inside one row of 10 m tiles")
            results = {}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for mode in filter(None, args.modes.split(",")):
                    results[mode] = run_mode(browser, fake, mode, args.images, workdir / mode)
                browser.close()
    print(f"In the app (Chromium, {args.images} × Save & next, fresh scene cache per mode):")
    for mode, (first, latencies, cog_requests, searches) in results.items():
        p50, p95 = statistics.median(latencies), percentile(latencies, 95)
        name = "demo source (reference)" if mode == "demo" else f"prefetch {mode}"
        print(
            f"  {name:23}: Start → first image {first:6.0f} ms; Save & next → next image "
            f"p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  (min {min(latencies):.0f}, max {max(latencies):.0f}); "
            f"COG requests {cog_requests}, searches {searches}"
        )


if __name__ == "__main__":
    main()
