"""Crash safety: a labeller process saves image after image and is killed with SIGKILL at
random moments (each after at least one acknowledged save), 30 times, restarting each time
where the campaign says it stopped. No acknowledged save is ever lost, and after
every kill the database holds only whole images: each review's n_pixels equals its
sample count, exactly the planned pixels, no sample without its review, and the reviewed
acquisitions are a prefix of the campaign's, so it resumes at the first one not reviewed."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from labeller.bands import ALL_BAND_NAMES
from labeller.scenes import Acquisition, Scene
from labeller.store import Store
from tests.unit.store_builders import AOI, make_spec

KILLS = 30
ACQUISITIONS = 3000
SKIP_EVERY = 7
MAX_WAIT_S = 0.25
"""Longest time a labeller runs before it is killed."""


def acquisition(index: int) -> Acquisition:
    return Acquisition(f"K{index:05d}", datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=index), 5.0)


def planned_pixels(index: int) -> list[tuple[int, int]] | None:
    """The pixels saved for acquisition ``index`` (300–800 of them, so that a save takes a
    while), or None where it is skipped."""
    if index % SKIP_EVERY == SKIP_EVERY - 1:
        return None
    rng = np.random.default_rng(index)
    flat = rng.choice(AOI.rows * AOI.cols, size=300 + (index * 137) % 500, replace=False)
    return [(int(f) // AOI.cols, int(f) % AOI.cols) for f in flat]


def labeller(url: str, campaign_id: int, events) -> None:
    """Resume the campaign at its first acquisition without a review and go on, reporting
    ``start``, ``begin`` and ``done`` through ``events`` (each message is atomic)."""
    store = Store(url)
    rng = np.random.default_rng(os.getpid())
    bands = rng.random((*AOI.shape, len(ALL_BAND_NAMES)), dtype=np.float32)
    valid = np.ones(AOI.shape, bool)
    reviewed = store.reviews(campaign_id)
    start = next(i for i in range(ACQUISITIONS) if acquisition(i).id not in reviewed)
    events.send_bytes(f"start {start}".encode())
    for index in range(start, ACQUISITIONS):
        events.send_bytes(f"begin {index}".encode())
        pixels = planned_pixels(index)
        if pixels is None:
            store.skip(campaign_id, acquisition(index), labeller="crashy")
        else:
            scene = Scene(acquisition(index), ALL_BAND_NAMES, bands, valid, 40.0, 160.0)
            store.save(campaign_id, AOI, scene, pixels, labeller="crashy")
        events.send_bytes(f"done {index}".encode())


def wait_for_the_server(engine: sa.Engine) -> None:
    """PostgreSQL finishes a killed client's transaction on its own: a COMMIT already sent
    still lands, anything else rolls back. Wait until the server has let go of it."""
    if engine.dialect.name != "postgresql":
        return  # SQLite: the process itself writes the commit, or nothing
    deadline = time.monotonic() + 10
    query = (
        "SELECT pid, state, left(query, 40) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            others = conn.exec_driver_sql(query).all()
            conn.rollback()  # pg_stat_activity is a snapshot per transaction
            if not others:
                return
            time.sleep(0.01)
    raise AssertionError(f"the killed labeller's connection is still open on the server: {others}")


def check_whole_images(engine: sa.Engine, campaign_id: int) -> int:
    """Assert the invariants; return the index of the first acquisition without a review."""
    with engine.connect() as conn:
        reviews = conn.exec_driver_sql(
            f"SELECT acquisition_id, status, n_pixels FROM reviews WHERE campaign_id = {campaign_id:d}"
        ).all()
        counts = dict(
            conn.exec_driver_sql(
                f"SELECT acquisition_id, COUNT(*) FROM samples WHERE campaign_id = {campaign_id:d} "
                "GROUP BY acquisition_id"
            ).all()
        )
        orphans = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM samples s WHERE NOT EXISTS (SELECT 1 FROM reviews r "
            "WHERE r.campaign_id = s.campaign_id AND r.acquisition_id = s.acquisition_id)"
        ).scalar_one()
        pixels_of = {}
        for acquisition_id, row, col in conn.exec_driver_sql(
            f'SELECT acquisition_id, "row", col FROM samples WHERE campaign_id = {campaign_id:d}'
        ):
            pixels_of.setdefault(acquisition_id, set()).add((row, col))
    assert orphans == 0, "samples without their review"
    done = len(reviews)
    assert sorted(a for a, _, _ in reviews) == [acquisition(i).id for i in range(done)], "not a prefix"
    for acquisition_id, status, n_pixels in reviews:
        planned = planned_pixels(int(acquisition_id[1:]))
        assert status == ("skipped" if planned is None else "saved")
        assert n_pixels == counts.get(acquisition_id, 0) == len(planned or []), f"partial {acquisition_id}"
        assert pixels_of.get(acquisition_id, set()) == set(planned or [])
    return done


def test_sigkill_at_random_moments_never_leaves_a_partial_image(url: str, plain_main) -> None:
    store = Store(url)
    campaign_id = store.open_campaign(make_spec()).id
    store.close()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    context = multiprocessing.get_context("forkserver")
    chance = random.Random(20240105)
    mid_save = rolled_back = 0
    expected_start = 0
    began = time.perf_counter()
    for _ in range(KILLS):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=labeller, args=(url, campaign_id, send), daemon=True)
        process.start()
        send.close()
        assert receive.poll(30), "the labeller did not start"
        first = receive.recv_bytes().decode()
        assert first == f"start {expected_start}"  # resumed at the first acquisition not reviewed
        events = [first]
        while not events[-1].startswith("done"):  # one save acknowledged, however slow the machine
            assert receive.poll(30), f"the labeller stalled after {events[-1]!r}"
            events.append(receive.recv_bytes().decode())
        time.sleep(chance.uniform(0.0, MAX_WAIT_S))
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
        assert process.exitcode == -signal.SIGKILL
        while receive.poll(0):
            try:
                events.append(receive.recv_bytes().decode())
            except EOFError:
                break
        receive.close()

        wait_for_the_server(engine)
        expected_start = check_whole_images(engine, campaign_id)
        acknowledged = max(int(e.split()[1]) for e in events if e.startswith("done"))
        assert expected_start > acknowledged, f"save {acknowledged} was acknowledged, then lost"
        last = events[-1]
        if last.startswith("begin"):  # killed while saving: that image is whole or absent
            mid_save += 1
            rolled_back += int(last.split()[1]) == expected_start
    engine.dispose()
    elapsed = time.perf_counter() - began
    print(
        f"{KILLS} kills on {url.split(':')[0]}: {mid_save} mid-save, {rolled_back} rolled back, "
        f"{expected_start} acquisitions reviewed, {elapsed:.1f} s"
    )
    assert mid_save >= KILLS // 2  # most kills hit a save in flight...
    assert rolled_back >= 3  # ...and some of them before it committed
