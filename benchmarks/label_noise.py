# ruff: noqa: E402 - the repository root goes on sys.path before the project imports
"""How dirty a hurried labeller's dataset gets, with and without the cloud guard (issue 9).

The hurried labeller, through the Python API (``LabellingSession``) on the demo source:
five areas, all of 2024; on the first image the catalog calls cloud-free, pick 20 clear
land pixels (by the demo's ground truth) and let them carry over; on every later image
press Skip when the catalog's cloud cover is >= 50 %, else Save & next. With the guard
on (the default) flagged pixels are not saved; with it off every selected pixel with
data is saved (what "include anyway" does on every image).

Prints, for both:
- the share of saved samples whose ground truth on their date is cloud or cloud shadow
  (goal <= 0.5 % with the guard; the issue measured about 6 % without);
- the share of clean carried pixels that were still saved on Save images (goal >= 95 %);
then the agreement of the flags with the ground truth (precision and recall of "cloud or
shadow" over every valid pixel of every image of the five areas, and over the carried
pixels), the same at other thresholds (to justify the default), the real Level-1C sample
per date, and s2cloudless's time per scene at the 128 px limit (median, p95) with
``os.cpu_count()``. Never fails on time: it measures.

Measured on 2026-11-30 (2 cores, shared with other jobs): guard on, 0.43 % of 4911 saved
samples under cloud or shadow and 95.12 % of clean carried pixels saved; guard off, 8.28 % and
100 %; the guard's flags on carried pixels: precision 64 %, recall 95 %.

Run from the repository root::

    .venv/bin/python benchmarks/label_noise.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labeller import clouds
from labeller.aoi import AreaOfInterest
from labeller.campaign import CampaignSpec
from labeller.clouds import CloudLayer
from labeller.labelling import LabellingSession
from labeller.sources.demo import DemoSource, LandCover
from labeller.store import Store

AREAS = {
    "Ljubljana": (14.5514, 45.8659, 14.5642, 45.8750),
    "Bavaria": (11.5000, 48.3000, 11.5135, 48.3090),
    "Normandy": (0.3000, 49.1000, 0.3137, 49.1090),
    "Lodz": (19.9000, 51.8000, 19.9145, 51.8090),
    "Po valley": (9.9000, 45.2000, 9.9127, 45.2090),
}
PERIOD = (date(2024, 1, 1), date(2024, 12, 31))
CARRIED = 20
SKIP_AT = 50.0
LAND = (LandCover.FOREST, LandCover.GRASSLAND, LandCover.BARE_SOIL, LandCover.BUILT_UP)
DIRTY = (LandCover.CLOUD, LandCover.CLOUD_SHADOW)
SHARED = ROOT.parent / "shared" / "data" / "s2_l1c_slovenia_2015.npz"


def hurried_labeller(store: Store, source: DemoSource, name: str, bbox, guard: bool) -> dict:
    aoi = AreaOfInterest(*bbox)
    spec = CampaignSpec(aoi, 1, f"forest {name}", "", "demo", "sentinel-2-l1c", *PERIOD)
    session = LabellingSession.start(store, source, spec, prefetch=False)
    first = next(i for i, a in enumerate(session.acquisitions) if a.cloud_cover == 0)
    session.go(first)
    truth = source.ground_truth(aoi, session.current)
    valid = session.scene().valid
    candidates = np.argwhere(np.isin(truth, LAND) & valid)
    rng = np.random.default_rng(len(name))
    picked = candidates[rng.choice(len(candidates), CARRIED, replace=False)]
    for row, col in picked:
        session.toggle((int(row), int(col)))
    carried = frozenset(session.selection)
    clean_carried = clean_saved = hits = n_flagged = n_dirty = 0
    while not session.finished:
        acquisition = session.current
        if acquisition.cloud_cover is not None and acquisition.cloud_cover >= SKIP_AT:
            session.skip("overcast")
            continue
        truth = source.ground_truth(aoi, acquisition)
        valid = session.scene().valid
        clean = {p for p in carried if valid[p] and truth[p] not in DIRTY}
        dirty_here = {p for p in carried if valid[p] and truth[p] in DIRTY}
        flagged = set(session.verdict().cloudy)
        hits += len(flagged & dirty_here)
        n_flagged += len(flagged)
        n_dirty += len(dirty_here)
        if not guard:
            session.include_flagged_anyway()
        saved = set(session.to_save())
        clean_carried += len(clean)
        clean_saved += len(clean & saved)
        session.save_and_next()
    samples = store.samples([session.campaign.id])
    dirty = 0
    for acquisition_id, group in samples.groupby("acquisition_id"):
        acquisition = next(a for a in session.acquisitions if a.id == acquisition_id)
        truth = source.ground_truth(aoi, acquisition)
        dirty += int(np.isin(truth[group["row"].to_numpy(), group["col"].to_numpy()], DIRTY).sum())
    return {
        "saved": len(samples),
        "dirty": dirty,
        "clean_carried": clean_carried,
        "clean_saved": clean_saved,
        "hits": hits,
        "flagged": n_flagged,
        "truly_dirty": n_dirty,
    }


def run_labeller(guard: bool) -> dict:
    source = DemoSource()
    totals = dict.fromkeys(
        ("saved", "dirty", "clean_carried", "clean_saved", "hits", "flagged", "truly_dirty"), 0
    )
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Store.sqlite_url(Path(folder)))
        for name, bbox in AREAS.items():
            for key, value in hurried_labeller(store, source, name, bbox, guard).items():
                totals[key] += value
        store.close()
    return totals


def flag_agreement(thresholds: tuple[float, ...]) -> dict[float, tuple[int, int, int]]:
    """Per threshold: (true positives, flagged, truly cloud or shadow) over all valid pixels."""
    source = DemoSource()
    counts = {t: [0, 0, 0] for t in thresholds}
    for bbox in AREAS.values():
        aoi = AreaOfInterest(*bbox)
        for acquisition in source.acquisitions(aoi, *PERIOD):
            scene = clouds.attach(source.scene(aoi, acquisition))
            layer = CloudLayer.of(scene)
            truth = np.isin(source.ground_truth(aoi, acquisition), DIRTY)[scene.valid]
            for t in thresholds:
                flags = layer.cloudy(scene.valid, t)[scene.valid]
                c = counts[t]
                c[0] += int((flags & truth).sum())
                c[1] += int(flags.sum())
                c[2] += int(truth.sum())
    return {t: tuple(c) for t, c in counts.items()}


def detector_time(repeats: int = 30) -> tuple[float, float]:
    source = DemoSource()
    aoi = AreaOfInterest(14.55, 45.86, 14.5658, 45.8711)  # the largest grid, 126 x 126 (60 m snapping)
    acquisition = source.acquisitions(aoi, *PERIOD)[3]
    scene = source.scene(aoi, acquisition)
    bands = np.pad(scene.bands, ((0, 128 - aoi.rows), (0, 128 - aoi.cols), (0, 0)), mode="edge")
    valid = np.ones((128, 128), dtype=bool)  # timed at the full 128 x 128 limit
    clouds.cloud_probability(scene.band_names, bands, valid)  # model loaded once
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        clouds.cloud_probability(scene.band_names, bands, valid)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(round(0.95 * (len(times) - 1)))]


def real_sample() -> None:
    if not SHARED.is_file():
        print(f"real sample: not found at {SHARED}, skipped")
        return
    with np.load(SHARED) as data:
        bands, names, stamps = data["bands"], tuple(str(n) for n in data["band_names"]), data["timestamps"]
    print("real Level-1C sample (Slovenia 2015), s2cloudless per date:")
    for stamp, image in zip(stamps, bands, strict=True):
        valid = np.ones(image.shape[:2], dtype=bool)
        prob = clouds.cloud_probability(names, image, valid)
        share = {t: float((prob >= t).mean()) for t in (0.3, 0.4, 0.5)}
        print(
            f"  {stamp}: mean {prob.mean():.2f}, max {prob.max():.2f}, flagged at 0.3/0.4/0.5: "
            + " / ".join(f"{100 * v:.1f} %" for v in share.values())
        )


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.2f} %" if b else "n/a"


def main() -> None:
    print(f"os.cpu_count() = {os.cpu_count()}")
    print(
        f"hurried labeller: {len(AREAS)} areas, {PERIOD[0]}..{PERIOD[1]}, {CARRIED} carried pixels, "
        f"Skip at >= {SKIP_AT:g} % catalog cloud, Save & next otherwise"
    )
    for guard in (True, False):
        t = run_labeller(guard)
        print(
            f"  guard {'on ' if guard else 'off'} (threshold {clouds.DEFAULT_THRESHOLD}): "
            f"{t['saved']} samples saved; under cloud or shadow: {t['dirty']} = "
            f"{pct(t['dirty'], t['saved'])} (goal <= 0.5 %); clean carried pixels saved: "
            f"{t['clean_saved']} of {t['clean_carried']} = {pct(t['clean_saved'], t['clean_carried'])} "
            "(goal >= 95 %)"
        )
        if guard:
            print(
                f"  the guard's flags on carried pixels of Save images vs ground truth: precision "
                f"{pct(t['hits'], t['flagged'])}, recall {pct(t['hits'], t['truly_dirty'])} "
                f"({t['truly_dirty']} carried pixels under cloud or shadow)"
            )
    thresholds = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    print("s2cloudless alone vs demo ground truth (cloud or shadow), every valid pixel of every image:")
    for threshold, (tp, flagged, true) in flag_agreement(thresholds).items():
        mark = "  <- default" if threshold == clouds.DEFAULT_THRESHOLD else ""
        print(f"  threshold {threshold:.1f}: precision {pct(tp, flagged)}, recall {pct(tp, true)}{mark}")
    real_sample()
    median, p95 = detector_time()
    print(f"s2cloudless per 128 x 128 scene: median {median:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
