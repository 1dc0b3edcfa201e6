"""Team labelling: 8 labellers in 8 processes save 200 times each at once, on overlapping
acquisitions of shared campaigns, into one SQLite file or one PostgreSQL database.

Each labeller works as a session does: it sends the review it last saw of an image, a
press that meets someone else's newer review is refused (``ReviewConflictError``), and on
every other refusal it presses again, replacing that review on purpose. Afterwards every
final review is compared with the acknowledged writes: per image, the acknowledged writes
form one chain, each replacing exactly the review its writer had seen, so no acknowledged
write was replaced unseen; the stored review is the chain's last link, with exactly its
samples; nothing of a refused press is stored."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from labeller.bands import ALL_BAND_NAMES
from labeller.errors import ReviewConflictError
from labeller.scenes import Acquisition, Scene
from labeller.store import Store
from tests.unit.store_builders import AOI, backend, make_spec

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


REPLACE_EVERY = 2
"""A refused labeller presses again (replacing on purpose) on every other refusal."""
MAX_PRESSES = 4


def labeller(url: str, campaign_ids: list[int], worker: int, barrier, results) -> None:
    """One labeller's process: wait for all, then save or skip SAVES times, sending the
    review last seen. Reports every acknowledged write as (name, campaign id, acquisition,
    pixels, the name of the review it replaced), and the names of the refused presses."""
    errors: list[str] = []
    acknowledged: list[tuple] = []
    refused: list[str] = []
    on_purpose = 0
    store = Store(url)
    scenes = {i: scene(i) for i in range(ACQUISITIONS)}
    seen: dict[tuple[int, str], object] = {}
    barrier.wait(timeout=TIMEOUT_S)
    began = time.perf_counter()
    for step in range(SAVES):
        campaign, index, name, pixels = plan(worker, step)
        key = (campaign_ids[campaign], f"A{index:02d}")
        for press in range(MAX_PRESSES):
            attempt = f"{name}-p{press}"  # unique per press: tells which press won an image
            expected = seen.get(key)
            try:
                if pixels is None:
                    review = store.skip(key[0], acquisition(index), labeller=attempt, expected=expected)
                else:
                    review = store.save(
                        key[0], AOI, scenes[index], pixels, labeller=attempt, expected=expected
                    )
            except ReviewConflictError as conflict:
                refused.append(attempt)
                seen[key] = conflict.current  # what the session shows after a refusal
                if (len(refused) % REPLACE_EVERY) == 0:
                    continue  # press again: replace on purpose
                break
            except Exception as exc:  # reported by the parent's assertion
                errors.append(f"{attempt}: {type(exc).__name__}: {exc}")
                break
            replaced = None if expected is None else expected.labeller
            acknowledged.append((attempt, *key, pixels, replaced))
            on_purpose += press > 0
            seen[key] = review
            break
    store.close()
    results.put((worker, errors, time.perf_counter() - began, acknowledged, refused, on_purpose))


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
    errors = [e for _, worker_errors, *_ in finished for e in worker_errors]
    assert errors == [], errors[:5]
    acknowledged = {a[0]: a for *_, worker_acks, _, _ in finished for a in worker_acks}
    refused = {name for *_, worker_refused, _ in finished for name in worker_refused}
    on_purpose = sum(n for *_, n in finished)

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

    # Per image, the acknowledged writes form one chain from "no review" to the stored one:
    # each replaced exactly the review its writer had seen, and none was replaced unseen.
    chains: dict[tuple[int, str], dict[str | None, str]] = {}
    for name, campaign_id, acquisition_id, _, replaced in acknowledged.values():
        links = chains.setdefault((campaign_id, acquisition_id), {})
        assert replaced not in links, f"{name} and {links.get(replaced)} both replaced {replaced}"
        links[replaced] = name
    stored = {(c, a): (status, n, name) for c, a, status, n, name in reviews}
    assert sorted(stored) == sorted(chains)  # one review per image acknowledged, and no other
    expected = set()
    for key, links in chains.items():
        last, walked = None, 0
        while last in links:
            last, walked = links[last], walked + 1
        assert walked == len(links)  # every acknowledged write of the image is on the chain
        status, n_pixels, name = stored[key]
        assert name == last  # the stored review is the last acknowledged write
        pixels = acknowledged[last][3]
        assert (status, n_pixels) == ("skipped" if pixels is None else "saved", len(pixels or []))
        expected |= {(*key, r, c, last) for r, c in pixels or []}
    got = [(c, a, r, col, name) for c, a, r, col, name, _ in samples]
    assert len(got) == n_samples == len(expected)  # none lost, none twice
    assert set(got) == expected  # exactly the samples of each image's last write, no mix
    assert not refused & {name for *_, name in reviews}  # nothing of a refused press stored
    images = {i: scene(i) for i in range(ACQUISITIONS)}
    b02 = ALL_BAND_NAMES.index("B02")
    for _, a, r, c, _, value in samples:
        assert value == float(images[int(a[1:])].bands[r, c, b02])
    assert sum(1 for r in reviews if r[2] == "saved") > 0 and sum(1 for r in reviews if r[2] == "skipped") > 0
    assert refused and on_purpose  # the labellers did meet, and did replace on purpose
    store.close()
    slowest = max(seconds for _, _, seconds, *_ in finished)
    print(
        f"{WORKERS} labellers × {SAVES} presses on {backend(url)}: {slowest:.1f} s; "
        f"acknowledged {len(acknowledged)}, refused {len(refused)}, replaced on purpose {on_purpose}; "
        f"{len(reviews)} reviews, {n_samples} samples, all equal to the acknowledged writes"
    )


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
