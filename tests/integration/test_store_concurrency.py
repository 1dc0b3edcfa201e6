"""Team labelling: 8 labellers in 8 processes save 200 times each at once, on overlapping
acquisitions of shared campaigns, into one SQLite file or one PostgreSQL database. After
it, the rows are counted: every acquisition anyone touched has exactly one review, and
exactly the samples of the last save that won it, none lost and none twice."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from labeller.bands import ALL_BAND_NAMES
from labeller.sources.base import Acquisition, Scene
from labeller.store import Store
from tests.unit.store_builders import AOI, make_spec

WORKERS = 8
SAVES = 200
CAMPAIGNS = 4
"""Two labellers share each campaign."""
ACQUISITIONS = 40
"""The acquisition ids are the same in every campaign (the same images)."""
SKIP_EVERY = 10
TIMEOUT_S = 120


def acquisition(index: int) -> Acquisition:
    when = datetime(2024, 1, 1, 10, 30, tzinfo=UTC) + timedelta(days=index)
    return Acquisition(f"A{index:02d}", when, cloud_cover=float(index % 7), tile_id="T32TNR")


def scene(index: int) -> Scene:
    """The image of acquisition ``index``: the same for every labeller, all pixels valid."""
    rng = np.random.default_rng(index)
    bands = rng.random((*AOI.shape, len(ALL_BAND_NAMES)), dtype=np.float32)
    return Scene(acquisition(index), ALL_BAND_NAMES, bands, np.ones(AOI.shape, bool), 40.0, 160.0)


def plan(worker: int, step: int) -> tuple[int, int, str, list[tuple[int, int]] | None]:
    """What labeller ``worker`` does at ``step``: (campaign number, acquisition index, the
    name it saves under, pixels or None to skip). Deterministic, so the test can recompute it."""
    campaign = worker % CAMPAIGNS
    index = (worker * 7 + step * 3) % ACQUISITIONS  # the two labellers of a campaign overlap
    name = f"w{worker}-s{step}"  # unique per save: tells which save won an acquisition
    if step % SKIP_EVERY == SKIP_EVERY - 1:
        return campaign, index, name, None
    rng = np.random.default_rng(worker * 1000 + step)
    n = int(rng.integers(1, 4))
    flat = rng.choice(AOI.rows * AOI.cols, size=n, replace=False)
    return campaign, index, name, [(int(f) // AOI.cols, int(f) % AOI.cols) for f in flat]


def labeller(url: str, campaign_ids: list[int], worker: int, barrier, results) -> None:
    """One labeller's process: wait for all, then save or skip SAVES times."""
    errors: list[str] = []
    store = Store(url)
    scenes = {i: scene(i) for i in range(ACQUISITIONS)}
    barrier.wait(timeout=TIMEOUT_S)
    began = time.perf_counter()
    for step in range(SAVES):
        campaign, index, name, pixels = plan(worker, step)
        try:
            if pixels is None:
                store.skip(campaign_ids[campaign], acquisition(index), labeller=name)
            else:
                store.save(campaign_ids[campaign], AOI, scenes[index], pixels, labeller=name)
        except Exception as exc:  # reported by the parent's assertion
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
    store.close()
    results.put((worker, errors, time.perf_counter() - began))


def test_eight_labellers_saving_at_once_lose_and_duplicate_nothing(url: str, plain_main) -> None:
    store = Store(url)
    campaign_ids = [
        store.open_campaign(make_spec(label=float(c + 1), name=f"class {c + 1}")).id for c in range(CAMPAIGNS)
    ]
    context = multiprocessing.get_context("forkserver")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    processes = [
        context.Process(target=labeller, args=(url, campaign_ids, w, barrier, results), daemon=True)
        for w in range(WORKERS)
    ]
    for process in processes:
        process.start()
    finished = [results.get(timeout=TIMEOUT_S) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    errors = [e for _, worker_errors, _ in finished for e in worker_errors]
    assert errors == [], errors[:5]

    # Who did what: every save and skip, by the name it was saved under.
    planned = {}
    touched = set()
    for worker in range(WORKERS):
        for step in range(SAVES):
            campaign, index, name, pixels = plan(worker, step)
            planned[name] = (campaign_ids[campaign], f"A{index:02d}", pixels)
            touched.add((campaign_ids[campaign], f"A{index:02d}"))
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.connect() as conn:
        reviews = conn.exec_driver_sql(
            "SELECT campaign_id, acquisition_id, status, n_pixels, labeller FROM reviews"
        ).all()
        samples = conn.exec_driver_sql(
            'SELECT campaign_id, acquisition_id, "row", col, labeller, "B02" FROM samples'
        ).all()
        n_samples = conn.exec_driver_sql("SELECT COUNT(*) FROM samples").scalar_one()
    engine.dispose()

    # One review per acquisition anyone touched, and no other.
    assert sorted((c, a) for c, a, *_ in reviews) == sorted(touched)
    # The expected samples: exactly those of the save that won each acquisition.
    expected = set()
    for campaign_id, acquisition_id, status, n_pixels, name in reviews:
        won_campaign, won_acquisition, pixels = planned[name]
        assert (won_campaign, won_acquisition) == (campaign_id, acquisition_id)
        assert status == ("skipped" if pixels is None else "saved")
        assert n_pixels == len(pixels or [])
        expected |= {(campaign_id, acquisition_id, r, c, name) for r, c in pixels or []}
    got = [(c, a, r, col, name) for c, a, r, col, name, _ in samples]
    assert len(got) == n_samples == len(expected)  # counted: none lost, none twice
    assert set(got) == expected  # and no sample from a save that lost (no mix of two saves)
    images = {i: scene(i) for i in range(ACQUISITIONS)}
    b02 = ALL_BAND_NAMES.index("B02")
    for _, a, r, c, _, value in samples:
        assert value == float(images[int(a[1:])].bands[r, c, b02])
    assert sum(1 for r in reviews if r[2] == "saved") > 0 and sum(1 for r in reviews if r[2] == "skipped") > 0
    store.close()
    slowest = max(seconds for *_, seconds in finished)
    print(f"{WORKERS} labellers × {SAVES} saves on {store.backend}: {slowest:.1f} s, {n_samples} samples")


def test_the_plan_overlaps() -> None:
    """The two labellers of a campaign do meet on the same acquisitions."""
    by_campaign: dict[int, dict[int, set[int]]] = {}
    for worker in range(WORKERS):
        for step in range(SAVES):
            campaign, index, _, _ = plan(worker, step)
            by_campaign.setdefault(campaign, {}).setdefault(worker, set()).add(index)
    for workers in by_campaign.values():
        first, second = workers.values()
        assert len(first & second) == ACQUISITIONS
