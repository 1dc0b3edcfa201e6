"""Drafts written behind the click (labeller/store/drafts.py): a click does not wait for the
commit, per session only the newest draft is written and in order, a read waits for its
session's pending draft, and a failure reaches that session and no other."""

from __future__ import annotations

import threading

import pytest

from labeller.errors import StoreError
from labeller.store.drafts import DraftWriter
from tests.unit.store_builders import make_spec

WAIT = 10.0


def blocking_writer():
    """A writer whose writes record their name and wait for ``release`` (one at a time)."""
    written: list[str] = []
    started = threading.Event()
    release = threading.Event()

    def write(name: str):
        def run() -> None:
            started.set()
            assert release.wait(WAIT)
            written.append(name)

        return run

    return written, started, release, write


def test_keep_returns_before_the_write_and_wait_returns_after_it() -> None:
    drafts = DraftWriter()
    written, started, release, write = blocking_writer()
    drafts.keep("alice", write("a1"))  # returns although the write cannot finish yet
    assert started.wait(WAIT)
    assert written == []
    waiter = threading.Thread(target=drafts.wait, args=("alice",))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive(), "wait() returned while the draft was still being written"
    release.set()
    waiter.join(WAIT)
    assert not waiter.is_alive() and written == ["a1"]
    drafts.close()


def test_only_the_newest_draft_of_a_session_is_written_and_in_order() -> None:
    drafts = DraftWriter()
    written, started, release, write = blocking_writer()
    drafts.keep("alice", write("a1"))
    assert started.wait(WAIT)  # a1 is being written: a2 and a3 queue behind it
    drafts.keep("alice", write("a2"))
    drafts.keep("bob", write("b1"))
    drafts.keep("alice", write("a3"))
    release.set()
    drafts.wait("alice")
    drafts.wait("bob")
    assert written.index("a1") < written.index("a3")
    assert "a2" not in written and sorted(written) == ["a1", "a3", "b1"]
    drafts.close()


def test_a_failed_write_is_raised_to_its_own_session_only() -> None:
    drafts = DraftWriter()

    def fail() -> None:
        raise StoreError("Could not write to the label database: disk full.")

    drafts.keep("alice", fail)
    drafts.keep("bob", lambda: None)
    drafts.wait("bob")  # bob's draft is fine
    with pytest.raises(StoreError, match="disk full"):
        drafts.wait("alice")
    drafts.wait("alice")  # reported once
    drafts.keep("alice", fail)
    drafts.keep("bob", lambda: None)  # queued after alice's: written once hers has failed
    drafts.wait("bob")
    with pytest.raises(StoreError, match="disk full"):  # the next click hears of it...
        drafts.keep("alice", lambda: None)
    drafts.wait("alice")  # ...and its own draft is written
    drafts.close()


def test_close_writes_what_is_pending_and_later_drafts_are_written_at_once() -> None:
    drafts = DraftWriter()
    written, started, release, write = blocking_writer()
    drafts.keep("alice", write("a1"))
    assert started.wait(WAIT)
    drafts.keep("alice", write("a2"))
    release.set()
    drafts.close()
    assert written == ["a1", "a2"]
    drafts.keep("alice", write("a3"))  # after close: written before keep returns
    assert written == ["a1", "a2", "a3"]


def test_store_reads_a_draft_still_being_written(stores) -> None:
    store = stores()
    campaign = store.open_campaign(make_spec())
    for n in range(1, 40):  # clicks faster than commits: every read sees the newest one
        store.keep_draft(campaign.id, [(0, c) for c in range(n)], session="alice-tab-1")
        assert store.draft(campaign.id, "alice-tab-1") == {(0, c) for c in range(n)}
    store.keep_draft(campaign.id, [(7, 7)], session="alice-tab-1")
    store.close()  # a normal exit writes what is pending
    assert stores().draft(campaign.id, "alice-tab-1") == {(7, 7)}


def test_a_draft_for_a_deleted_campaign_fails_on_the_sessions_next_click(stores) -> None:
    store = stores()
    campaign = store.open_campaign(make_spec())
    store.delete_campaign(campaign.id)
    store.keep_draft(campaign.id, [(1, 1)], session="alice-tab-1")  # the click itself returns
    with pytest.raises(StoreError, match="no longer exists"):
        store.draft(campaign.id, "alice-tab-1")
