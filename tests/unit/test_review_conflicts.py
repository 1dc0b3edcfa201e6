"""No save silently replaces another: the session sends the review it last saw, and the
write compares it with the stored one under the campaign's lock, in the same transaction.

The dangerous interleaving is forced, not hoped for: labeller B's press lands after A has
pressed (and, in the old code, after A's check) and before A's write transaction takes the
lock. A hook on the real write path of A's store runs B's whole press when A's write
transaction connects, just before it begins (before ``BEGIN IMMEDIATE`` on SQLite, before
the row lock on PostgreSQL). On SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from labeller.aoi import AreaOfInterest
from labeller.campaign import CampaignSpec
from labeller.errors import ReviewConflictError
from labeller.labelling import LabellingSession
from labeller.sources.demo import DemoSource
from labeller.store import Store
from tests.unit.store_builders import AOI, make_acquisition, make_scene, make_spec, pick

BBOX = (14.5514, 45.8659, 14.5642, 45.8750)
SPEC = CampaignSpec(
    aoi=AreaOfInterest(*BBOX),
    label_value=3,
    label_name="forest",
    notes="",
    source="demo",
    collection="sentinel-2-l1c",
    start=date(2024, 5, 1),
    end=date(2024, 5, 31),
)
FORCED: list[str] = []
"""One line per forced interleaving, printed at the end (``pytest -s``) for the record."""


def open_session(store: Store, name: str) -> LabellingSession:
    session = LabellingSession.start(store, DemoSource(), SPEC, prefetch=False)
    session.labeller = name
    return session


def valid(session: LabellingSession, n: int) -> list[tuple[int, int]]:
    rows, cols = session.scene().valid.nonzero()
    return [(int(rows[i]), int(cols[i])) for i in range(0, n * 7, 7)]


def press(session: LabellingSession, action: str) -> None:
    {"save": session.save_and_next, "skip": session.skip}[action]()


def before_next_write(store: Store, work) -> list[bool]:
    """Run ``work`` once, when the store's next write transaction connects (before it
    begins). Returns a list that holds True once it ran."""
    ran: list[bool] = []

    def hook(conn: sa.Connection) -> None:
        if ran or not conn.get_execution_options().get("labeller_write"):
            return
        ran.append(True)
        work()

    sa.event.listen(store._db.engine, "engine_connect", hook)
    return ran


@pytest.mark.parametrize("b_action", ["save", "skip"])
@pytest.mark.parametrize("a_action", ["save", "skip"])
def test_a_press_landing_between_check_and_write_is_refused_not_replaced(
    stores, a_action: str, b_action: str
) -> None:
    a_store, b_store = stores(), stores()
    alice, bob = open_session(a_store, "Alice"), open_session(b_store, "Bob")
    a_pixels, b_pixels = valid(alice, 3), valid(bob, 2)
    for pixel in a_pixels[:3]:
        alice.toggle(pixel)
    for pixel in b_pixels:
        bob.toggle(pixel)
    first = alice.current
    # Her clicks' drafts are written in the background (labeller/store/drafts.py): wait for
    # them, so that the store's next write is her press.
    a_store.draft(alice.campaign.id, alice.draft_token)
    ran = before_next_write(a_store, lambda: press(bob, b_action))

    with pytest.raises(ReviewConflictError, match="in another session") as refused:
        press(alice, a_action)

    assert ran == [True]  # Bob's press did land inside Alice's press
    stored = a_store.reviews(alice.campaign.id)[first.id]
    assert (stored.labeller, stored.status) == ("Bob", "saved" if b_action == "save" else "skipped")
    assert refused.value.current == stored
    saved = a_store.samples(campaign_ids=[alice.campaign.id])
    expected = sorted(b_pixels) if b_action == "save" else []
    assert sorted(zip(saved["row"], saved["col"], strict=True)) == expected  # Bob's work is intact
    assert set(saved["labeller"]) <= {"Bob"}
    assert alice.current == first and alice.selection == set(a_pixels[:3])  # Alice loses nothing

    press(alice, a_action)  # pressing again replaces Bob's review on purpose
    stored = a_store.reviews(alice.campaign.id)[first.id]
    assert (stored.labeller, stored.status) == ("Alice", "saved" if a_action == "save" else "skipped")
    saved = a_store.samples(campaign_ids=[alice.campaign.id])
    expected = sorted(a_pixels[:3]) if a_action == "save" else []
    assert sorted(zip(saved["row"], saved["col"], strict=True)) == expected
    FORCED.append(
        f"{a_store._db.backend}: Bob {b_action}s inside Alice's {a_action}: Alice refused "
        f"(ReviewConflictError), Bob's review kept; Alice's second press replaced it on purpose"
    )
    print(FORCED[-1])


def test_store_writes_compare_the_expected_review(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    acquisition = scene.acquisition
    first = store.save(campaign.id, AOI, scene, pick(scene, 3, 0), labeller="ana", expected=None)
    with pytest.raises(ReviewConflictError, match="saved with 3 pixels by ana") as refused:
        store.save(campaign.id, AOI, scene, pick(scene, 5, 0), labeller="bo", expected=None)
    assert refused.value.current == first
    with pytest.raises(ReviewConflictError):
        store.skip(campaign.id, acquisition, labeller="bo", expected=None)
    with pytest.raises(ReviewConflictError, match="by ana in another session .* Nothing was deleted"):
        store.delete_review(campaign.id, acquisition.id, expected=None)
    assert store.reviews(campaign.id) == {acquisition.id: first}  # nothing of the refused writes
    assert store.count_samples() == 3

    second = store.save(campaign.id, AOI, scene, pick(scene, 5, 0), labeller="ana", expected=first)  # re-save
    skipped = store.skip(campaign.id, acquisition, labeller="bo", expected=second)
    with pytest.raises(ReviewConflictError, match="skipped by bo"):
        store.delete_review(campaign.id, acquisition.id, expected=second)
    store.delete_review(campaign.id, acquisition.id, expected=skipped)
    assert store.reviews(campaign.id) == {}
    with pytest.raises(ReviewConflictError, match="was deleted in another session"):
        store.save(campaign.id, AOI, scene, pick(scene, 2, 0), expected=skipped)
    other = make_acquisition("A2")
    store.skip(campaign.id, other)  # no expectation: replaces whatever is there (the old API)
    store.skip(campaign.id, other)
    assert [r.status for r in store.reviews(campaign.id).values()] == ["skipped"]
