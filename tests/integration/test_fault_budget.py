"""Requests per user action while the service fails: bounded, and never repeated by a rerun.

The labelling loop (``LabellingSession`` and its ``SceneLoader``, as the Label page drives
them) against the local fake with every process request failing: HTTP 429, HTTP 500, or a
dead server (the connection closed without an answer). Retry settings as the app's
(``SentinelHubSource`` defaults) but with short sleeps, which change no count.

Each test prints its counts (``pytest -s``) for the issue's figures.
"""

from __future__ import annotations

from datetime import date

import pytest

from labeller.aoi import AreaOfInterest
from labeller.bands import L1C
from labeller.campaign import CampaignSpec
from labeller.errors import SourceError
from labeller.labelling import PREFETCH_AHEAD, LabellingSession
from labeller.store import Store
from tests.fakes.sentinelhub_server import Fault

pytestmark = pytest.mark.filterwarnings("ignore::sentinelhub.exceptions.SHRateLimitWarning")
AOI = AreaOfInterest(10.0, 46.0, 10.008, 46.006)
APP_RETRIES = {"max_attempts": 3, "max_retries": 5, "sleep": 0.02, "timeout": 2.0}
"""The app's tries per request (SentinelHubSource defaults), with sleeps too short to matter."""
BUDGET = {"429": 5, "500": 3, "dead server": 3}
"""Requests per image fetch: max_retries under 429, max_attempts under 5xx and lost connections."""
FAULTS = {"429": Fault.rate_limited(20), "500": Fault.error(500, "boom"), "dead server": Fault.dead()}


@pytest.fixture
def store(tmp_path):
    store = Store(Store.sqlite_url(tmp_path / "labels"))
    yield store
    store.close()


def settle(session: LabellingSession, acquisitions) -> None:
    """Wait until no fetch of these acquisitions is under way."""
    for acquisition in acquisitions:
        fetch = _pending(session, acquisition)
        if fetch is not None:
            assert fetch.wait(30), f"fetch of {acquisition.id} still running"


def _pending(session: LabellingSession, acquisition):
    """The fetch under way for an acquisition, without starting one."""
    if session.loader.is_ready(acquisition) or session.loader.failure(acquisition) is not None:
        return None
    return session.loader.start(acquisition)


def page_run(session: LabellingSession) -> SourceError | None:
    """What one run of the Label page asks of the loop: the current image (waiting for it)."""
    fetch = session.loader.start(session.current)
    if fetch is not None:
        fetch.wait(30)
    try:
        session.scene()
    except SourceError as error:
        return error
    return None


@pytest.mark.parametrize("fault", list(FAULTS))
def test_requests_per_action_are_bounded(fake_sh, make_sh_source, store, fault):
    source = make_sh_source(**APP_RETRIES)
    spec = CampaignSpec(
        aoi=AOI,
        label_value=1,
        label_name="",
        notes="",
        source="sentinelhub",
        collection=L1C.id,
        start=date(2020, 6, 1),
        end=date(2020, 7, 31),
    )
    fake_sh.inject("process", *[FAULTS[fault]] * 1000)
    session = LabellingSession.start(store, source, spec, prefetch=True)
    days = [f"{a.time:%Y-%m-%d}" for a in session.acquisitions]
    counts: dict[str, int] = {}
    budget = BUDGET[fault]

    # Start: the first image in the foreground, the next two in the background.
    error = page_run(session)
    settle(session, session.acquisitions[: 1 + PREFETCH_AHEAD])
    assert isinstance(error, SourceError) and error.retryable
    per_day = fake_sh.process_counts()
    assert [per_day[d] for d in days[: 1 + PREFETCH_AHEAD]] == [budget] * (1 + PREFETCH_AHEAD)
    counts["open the campaign (3 images: shown + 2 prefetched)"] = sum(per_day.values())

    # Ten reruns of the page (clicks elsewhere, the fragment redrawn): nothing asked again.
    before = fake_sh.counts["process"]
    for _ in range(10):
        assert page_run(session) is error
    counts["10 reruns of the page"] = fake_sh.counts["process"] - before
    before = fake_sh.counts["process"]
    with pytest.raises(SourceError):  # disabled on the page; refused here without a request
        session.save_and_next()
    counts["Save & next without the image"] = fake_sh.counts["process"] - before
    assert counts["Save & next without the image"] == 0

    # Skip to the next image, whose background fetch failed: its failure is shown, not
    # fetched again in the foreground; only the newly due prefetch (index + 2) asks.
    before = fake_sh.process_counts()
    session.skip()
    assert page_run(session) is not None
    settle(session, session.acquisitions[session.index : session.index + 1 + PREFETCH_AHEAD])
    after = fake_sh.process_counts()
    assert after[days[1]] - before[days[1]] == 0, "the foreground repeated a background failure"
    assert after[days[3]] - before[days[3]] == budget
    counts["Skip (next image's prefetch had failed)"] = sum(after.values()) - sum(before.values())

    # Retry: one more fetch of the shown image, within the same budget.
    before = fake_sh.counts["process"]
    session.loader.retry(session.current)
    assert page_run(session) is not None
    counts["Retry"] = fake_sh.counts["process"] - before
    assert counts["Retry"] == budget

    # The service recovers: Retry shows the image with one request.
    fake_sh.reset()
    session.loader.retry(session.current)
    assert page_run(session) is None
    counts["Retry after recovery"] = fake_sh.counts["process"]
    assert counts["Retry after recovery"] == 1

    print(f"\nprocess requests per action under {fault}: {counts}")
    assert counts["10 reruns of the page"] == 0
