"""The labelling loop over the real demo source and a real SQLite file."""

import threading
import time
from datetime import date

import numpy as np
import pytest

from labeller import render
from labeller.aoi import AreaOfInterest
from labeller.campaign import CampaignSpec
from labeller.labelling import LabellingSession
from labeller.sources.demo import DemoSource
from labeller.store import Store

BBOX = (14.5514, 45.8659, 14.5642, 45.8750)


@pytest.fixture
def store(tmp_path):
    return Store(Store.sqlite_url(tmp_path))


@pytest.fixture
def spec():
    return CampaignSpec(
        aoi=AreaOfInterest(*BBOX),
        label_value=3,
        label_name="forest",
        notes="",
        source="demo",
        collection="sentinel-2-l1c",
        start=date(2024, 5, 1),
        end=date(2024, 6, 30),
    )


def start(store, spec):
    return LabellingSession.start(store, DemoSource(), spec)


def valid_pixels(session, n, offset=0):
    rows, cols = np.nonzero(session.scene().valid)
    picks = np.linspace(offset, len(rows) - 1, n).astype(int)
    return [(int(rows[i]), int(cols[i])) for i in picks]


def click_pixel(session, row, col, shown=(500, 500)):
    rows, cols = session.aoi.shape
    x = (col + 0.5) * shown[0] / cols
    y = (row + 0.5) * shown[1] / rows
    return session.click(x, y, *shown)


def test_clicks_select_and_save_carries_selection_to_next_image(store, spec):
    session = start(store, spec)
    assert session.index == 0 and 10 <= len(session.acquisitions) <= 13  # about every 5 days over 61 days
    picks = valid_pixels(session, 3)
    for row, col in picks:
        assert click_pixel(session, row, col) is None
    assert session.selection == set(picks)
    first = session.current
    review = session.save_and_next()
    assert review.status == "saved" and review.n_pixels == 3
    assert session.index == 1 and session.selection == set(picks)  # carried over
    assert session.progress().pixels_saved == 3 and session.progress().reviewed == 1
    saved = store.samples(campaign_ids=[session.campaign.id])
    assert len(saved) == 3 and set(saved["acquisition_id"]) == {first.id}


def test_round_trip_saved_spectra_equal_the_source_exactly(store, spec):
    session = start(store, spec)
    picks = valid_pixels(session, 5)
    for pixel in picks:
        session.toggle(pixel)
    scene = session.scene()
    session.save_and_next()
    saved = store.samples(campaign_ids=[session.campaign.id]).sort_values(["row", "col"])
    for band_index, band in enumerate(scene.band_names):
        expected = np.array([scene.bands[r, c, band_index] for r, c in sorted(picks)], dtype=np.float32)
        assert np.array_equal(saved[band].to_numpy(np.float32), expected), band


def test_skip_back_and_jump(store, spec):
    session = start(store, spec)
    picks = valid_pixels(session, 2)
    for pixel in picks:
        session.toggle(pixel)
    session.save_and_next()
    session.clear()
    session.skip()
    assert session.index == 2 and session.progress().skipped_acquisitions == 1
    session.back()
    assert session.index == 1 and session.review_of(session.current).status == "skipped"
    session.back()
    assert session.index == 0 and session.selection == set(picks)  # shows what was saved there
    session.go(7)
    assert session.index == 7


def test_pixel_toggled_twice_is_deselected_and_clear_empties(store, spec):
    session = start(store, spec)
    (pixel,) = valid_pixels(session, 1)
    session.toggle(pixel)
    session.toggle(pixel)
    assert session.selection == frozenset()
    session.toggle(pixel)
    session.clear()
    assert session.selection == frozenset()


def test_resume_opens_first_unreviewed_with_the_last_selection(store, spec):
    session = start(store, spec)
    picks = valid_pixels(session, 3)
    for pixel in picks:
        session.toggle(pixel)
    session.save_and_next()
    session.save_and_next()
    # A new browser session (reload) on the same campaign.
    again = start(store, spec)
    assert again.campaign.id == session.campaign.id
    assert again.index == 2 and again.selection == set(picks)
    assert again.progress().pixels_saved == 6


def test_unsaved_selection_survives_a_reload(store, spec):
    session = start(store, spec)
    picks = valid_pixels(session, 2)
    for pixel in picks:
        session.toggle(pixel)
    again = start(store, spec)
    assert again.selection == set(picks)


def test_finishing_the_list(store, spec):
    session = start(store, spec)
    for _ in range(len(session.acquisitions)):
        session.skip()
    assert session.finished and session.progress().fraction == 1.0
    session.back()
    assert not session.finished and session.index == len(session.acquisitions) - 1


def test_image_is_enlarged_and_shows_the_selection(store, spec):
    session = start(store, spec)
    rows, cols = session.aoi.shape
    before = session.image()
    assert before.shape == (rows * session.factor, cols * session.factor, 3)
    (pixel,) = valid_pixels(session, 1)
    session.toggle(pixel)
    after = session.image()
    changed = np.argwhere(np.any(before != after, axis=-1))
    f, halo = session.factor, render.margin(session.factor)
    # The pixel's own cell plus a dark frame just outside it (clipped at the image edge).
    assert changed.min(axis=0).tolist() == [max(pixel[0] * f - halo, 0), max(pixel[1] * f - halo, 0)]
    assert changed.max(axis=0).tolist() == [pixel[0] * f + f - 1 + halo, pixel[1] * f + f - 1 + halo]


def _session_with_a_gap(store, aoi_box=(10.0, 46.0, 10.008, 46.006)):
    """A session opened at an acquisition whose scene has pixels without data (a swath gap)."""
    source = DemoSource()
    aoi = AreaOfInterest(*aoi_box)
    for year in range(2019, 2025):
        spec = CampaignSpec(
            aoi=aoi,
            label_value=1,
            label_name="",
            notes="",
            source="demo",
            collection="sentinel-2-l1c",
            start=date(year, 1, 1),
            end=date(year, 12, 31),
        )
        session = LabellingSession.start(store, source, spec, prefetch=False)
        for i, acquisition in enumerate(session.acquisitions):
            valid = source.scene(aoi, acquisition).valid
            if 0 < valid.sum() < valid.size:
                session.go(i)
                return session
    pytest.skip("no partly covered acquisition found near the test AOI")


def test_pixels_without_data_cannot_be_selected_or_saved(store):
    session = _session_with_a_gap(store)
    valid = session.scene().valid
    bad = tuple(int(v) for v in np.argwhere(~valid)[0])
    good = tuple(int(v) for v in np.argwhere(valid)[0])
    refused = session.toggle(bad)
    assert refused and "no data" in refused and bad not in session.selection
    session.toggle(good)
    # A pixel carried over from an earlier image into a gap is shown but never saved.
    session.selection = frozenset({bad, good})
    assert session.selectable() == {good}
    session.include_flagged_anyway()  # (a winter Alpine pixel may look cloudy) no data still never saved
    review = session.save_and_next()
    saved = store.samples(campaign_ids=[session.campaign.id])
    assert review.n_pixels == 1 and list(zip(saved["row"], saved["col"], strict=True)) == [good]


def test_two_sessions_on_one_campaign_never_overwrite_each_other_silently(store, spec):
    from labeller.labelling import ReviewConflictError

    alice, bob = start(store, spec), start(store, spec)
    alice.labeller, bob.labeller = "Alice", "Bob"
    a_pick, b_pick = valid_pixels(alice, 2)
    alice.toggle(a_pick)
    bob.toggle(b_pick)
    alice.save_and_next()
    with pytest.raises(ReviewConflictError, match="saved with 1 pixel by Alice"):
        bob.save_and_next()
    saved = store.samples(campaign_ids=[alice.campaign.id])
    assert list(zip(saved["row"], saved["col"], strict=True)) == [a_pick]  # Alice's work is intact
    assert bob.index == 0 and b_pick in bob.selection  # Bob's selection is kept
    bob.save_and_next()  # pressing again replaces on purpose
    saved = store.samples(campaign_ids=[alice.campaign.id])
    assert set(saved["labeller"]) == {"Bob"}
    assert bob.progress().reviewed == 1


def test_a_date_list_reporting_the_image_shown_keeps_the_unsaved_selection(store, spec):
    """The page's date list reports its value again on later reruns (as the option's label,
    which changes as reviews and cloud figures come in). Seen in CI: Bob saved the image
    Alice was on, the list re-reported it, and Alice's two selected pixels became Bob's one,
    saved under her name on her next press. A jump to the image shown changes nothing."""
    alice, bob = start(store, spec), start(store, spec)
    a_picks, b_pick = valid_pixels(alice, 2), valid_pixels(bob, 1, offset=5)[0]
    for pixel in a_picks:
        alice.toggle(pixel)
    bob.toggle(b_pick)
    bob.save_and_next()
    assert not alice.jump_to(alice.index) and not alice.jump_to("1. 2026-10-02 · —")
    assert not alice.jump_to(len(alice.acquisitions)) and not alice.jump_to(True)
    assert alice.index == 0 and alice.selection == frozenset(a_picks)
    assert alice.jump_to(1) and alice.index == 1 and alice.selection == frozenset(a_picks)
    assert alice.jump_to(0) and alice.selection == frozenset({b_pick})  # a real jump shows the saved image


def test_resaving_my_own_review_is_not_a_conflict(store, spec):
    session = start(store, spec)
    session.toggle(valid_pixels(session, 1)[0])
    session.save_and_next()
    session.skip()
    session.back()
    session.back()
    session.clear()
    session.save_and_next()  # replaces my own earlier save without a conflict
    session.skip()  # and the skip I made myself
    assert session.progress().pixels_saved == 0


def test_each_session_resumes_its_own_unsaved_selection(store, spec):
    """A selects (5,5),(5,6); B clicks (30,30) in another session; A reloads: A still has
    [(5,5),(5,6)]. Viewing a saved image does not overwrite anyone's draft either."""
    alice = LabellingSession.start(store, DemoSource(), spec, draft_token="alice-token")
    bob = LabellingSession.start(store, DemoSource(), spec, draft_token="bob-token-1")
    valid = alice.scene().valid
    a_pixels, b_pixel = [(5, 5), (5, 6)], (30, 30)
    assert all(valid[p] for p in [*a_pixels, b_pixel])
    for pixel in a_pixels:
        alice.toggle(pixel)
    bob.toggle(b_pixel)
    reloaded = LabellingSession.start(store, DemoSource(), spec, draft_token="alice-token")
    assert reloaded.selection == set(a_pixels)
    assert LabellingSession.start(store, DemoSource(), spec, draft_token="bob-token-1").selection == {b_pixel}

    bob.save_and_next()  # Bob saves (30,30) on the first image
    bob.clear()
    bob.toggle((40, 40) if bob.scene().valid[40, 40] else b_pixel)
    alice.go(0)  # Alice looks at Bob's saved image: she sees its pixels...
    assert alice.selection == {b_pixel}
    assert store.draft(alice.campaign.id, "alice-token") == set(a_pixels)  # ...her draft is intact
    bob_draft = store.draft(bob.campaign.id, "bob-token-1")
    bob.go(0)
    assert store.draft(bob.campaign.id, "bob-token-1") == bob_draft
    assert LabellingSession.start(store, DemoSource(), spec, draft_token="alice-token").selection == set(
        a_pixels
    )


class GatedDemo(DemoSource):
    """The demo, holding back the first image it is asked for until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.asked: list[str] = []

    def scene(self, aoi, acquisition):
        self.asked.append(acquisition.id)
        if len(self.asked) == 1:
            assert self.gate.wait(10), "the test never opened the gate"
        return super().scene(aoi, acquisition)


def test_the_next_images_are_fetched_only_once_the_current_one_is_there(store, spec):
    source = GatedDemo()
    session = LabellingSession.start(store, source, spec)
    first, ahead = session.current.id, [a.id for a in session.acquisitions[1:3]]
    deadline = time.monotonic() + 10
    while not source.asked:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)  # room for a wrongly started prefetch to show up
    assert source.asked == [first]  # nothing competes with the image the user waits for
    source.gate.set()
    assert session.scene().acquisition.id == first
    while len(source.asked) < 3:
        assert time.monotonic() < deadline, source.asked
        time.sleep(0.01)
    assert source.asked[0] == first and sorted(source.asked[1:]) == sorted(ahead)


def test_the_next_picture_is_built_in_the_background_and_shown_the_same(store, spec, monkeypatch):
    """prepare_next builds the next image's picture and PNG on another thread; after Save &
    next the page gets that picture, with the carried-over selection outlined exactly as a
    picture built on the spot would show it."""
    from labeller import pictures
    from labeller.views import DEFAULT_VIEW, VIEWS, Display

    session = start(store, spec)
    for pixel in valid_pixels(session, 4):
        session.toggle(pixel)
    following = session.acquisitions[1]
    session.loader.get(following)  # the prefetch's work, done here
    session.prepare_next(DEFAULT_VIEW)
    pictures.BUILDER.submit(lambda: None).result(30)  # the pictures thread is done
    built = []
    monkeypatch.setattr(session.pictures, "build", lambda *a: built.append(a) or pytest.fail("built again"))
    session.save_and_next()
    assert session.current == following and built == []
    shown = session.png(DEFAULT_VIEW)
    monkeypatch.undo()
    scene, display = session.scene(), Display(VIEWS[DEFAULT_VIEW])
    fresh, _ = session.pictures.build(scene, display)
    assert shown.data == fresh.png(session.selection, session._crossed()).data
