"""The cloud-aware carry-over through the Python API (issue 9): a selection made on a clear
demo image lands on a partly cloudy one; the guard flags the cloudy pixels, Save stores
only the clean ones, "include anyway" stores all, "drop" removes them; skip reasons and the
cloud columns are stored; a failing detector keeps the loop usable."""

from datetime import date

import numpy as np
import pytest

from labeller import clouds
from labeller.aoi import AreaOfInterest
from labeller.campaign import CampaignSpec
from labeller.errors import InvalidInputError
from labeller.labelling import LabellingSession
from labeller.sources.demo import DemoSource, LandCover
from labeller.store import Store

BBOX = (14.5514, 45.8659, 14.5642, 45.8750)
CLEAR, PARTLY_CLOUDY = "2024-03-16", "2024-03-21"  # tile cloud 0 % and 31 %


@pytest.fixture
def store(tmp_path):
    return Store(Store.sqlite_url(tmp_path))


def start(store, **changes) -> LabellingSession:
    spec = CampaignSpec(
        aoi=AreaOfInterest(*BBOX),
        label_value=1,
        label_name="forest",
        notes="",
        source="demo",
        collection="sentinel-2-l1c",
        start=date(2024, 3, 16),
        end=date(2024, 3, 21),
        **changes,
    )
    return LabellingSession.start(store, DemoSource(), spec, prefetch=False)


def pick(session) -> tuple[list, list]:
    """On the clear image, 4 pixels that lie under cloud on the next image and 6 that stay
    clear there (by the demo's ground truth and the detector both)."""
    source, aoi = session.source, session.aoi
    after = session.acquisitions[session.index + 1]
    truth = source.ground_truth(aoi, after)
    probability = session.cloud_layer(after).probability
    cloudy = np.argwhere((truth == LandCover.CLOUD) & (probability > 0.9))
    clear = np.argwhere(np.isin(truth, [LandCover.FOREST, LandCover.GRASSLAND]) & (probability < 0.05))
    return [tuple(map(int, p)) for p in cloudy[:: len(cloudy) // 4][:4]], [
        tuple(map(int, p)) for p in clear[:: len(clear) // 6][:6]
    ]


def carried_onto_the_cloudy_image(store, **changes):
    session = start(store, **changes)
    assert [f"{a.time:%Y-%m-%d}" for a in session.acquisitions] == [CLEAR, PARTLY_CLOUDY]
    cloudy, clear = pick(session)
    for pixel in cloudy + clear:
        assert session.toggle(pixel) is None
    assert not session.verdict().flagged  # all clear where they were picked
    first = session.save_and_next()
    assert first.n_pixels == 10
    return session, cloudy, clear


def test_cloudy_carried_pixels_are_flagged_counted_and_not_saved(store):
    session, cloudy, clear = carried_onto_the_cloudy_image(store)
    verdict = session.verdict()
    assert verdict.flagged == {p: "cloud" for p in cloudy}
    from labeller.cloud_guard import header_note

    note = header_note(len(session.selection), verdict, False)
    assert note == "10 pixels selected · 4 look cloudy here, not saved"
    assert session.to_save() == frozenset(clear)
    review = session.save_and_next()
    assert review.n_pixels == 6
    samples = store.samples()
    saved = samples[samples["acquisition_id"] == review.acquisition_id]
    assert set(zip(saved["row"], saved["col"], strict=True)) == set(clear)
    assert not saved["cloud_flagged"].any() and not saved["cloud_included"].any()
    assert (saved["cloud_probability"] < 0.05).all() and saved["scl_class"].isna().all()
    # The selection itself is kept whole: the cloudy pixels are judged afresh next image.
    assert session.selection == frozenset(cloudy + clear)


def test_include_anyway_saves_all_with_their_flags_for_this_image_only(store):
    session, cloudy, clear = carried_onto_the_cloudy_image(store)
    session.include_flagged_anyway()
    assert session.to_save() == frozenset(cloudy + clear)
    review = session.save_and_next()
    assert review.n_pixels == 10
    samples = store.samples()
    saved = samples[samples["acquisition_id"] == review.acquisition_id].set_index(["row", "col"])
    flagged = saved.loc[cloudy]
    assert flagged["cloud_flagged"].all() and flagged["cloud_included"].all()
    assert (flagged["cloud_probability"] > 0.9).all()
    assert not saved.loc[clear]["cloud_flagged"].any()
    session.back()
    assert session.include_flagged is False  # a new image: judged afresh


def test_drop_removes_the_flagged_pixels_from_the_selection(store):
    session, cloudy, clear = carried_onto_the_cloudy_image(store)
    session.drop_flagged()
    assert session.selection == frozenset(clear)
    assert store.draft(session.campaign.id) == set(clear)  # the change is kept like any other


def test_the_image_draws_flagged_pixels_differently(store):
    session, cloudy, clear = carried_onto_the_cloudy_image(store)
    image, f = session.image(), session.factor
    from labeller import render

    (row, col), (crow, ccol) = cloudy[0], clear[0]
    flagged_cell = image[row * f : (row + 1) * f, col * f : (col + 1) * f].reshape(-1, 3)
    clean_cell = image[crow * f : (crow + 1) * f, ccol * f : (ccol + 1) * f].reshape(-1, 3)
    assert (flagged_cell == render.FLAG_RGB).all(axis=1).any()
    assert not (flagged_cell == render.OUTLINE_RGB).all(axis=1).any()
    assert (clean_cell == render.OUTLINE_RGB).all(axis=1).any()
    assert not (clean_cell == render.FLAG_RGB).all(axis=1).any()


def test_skip_reason_is_stored_and_checked(store):
    session = start(store)
    with pytest.raises(InvalidInputError, match="Unknown skip reason"):
        session.skip("bored")
    assert session.index == 0 and not session.reviews
    review = session.skip("clouds over my pixels")
    assert review.skip_reason == "clouds over my pixels"
    assert store.reviews(session.campaign.id)[review.acquisition_id].skip_reason == "clouds over my pixels"
    table = store.review_table()
    assert table[["status", "skip_reason"]].values.tolist() == [["skipped", "clouds over my pixels"]]


def test_area_cloud_fraction_of_fetched_images_and_the_campaign_threshold(store):
    session = start(store, cloud_threshold=0.9, max_area_cloud=20)
    clear, cloudy = session.acquisitions
    assert session.area_cloud(cloudy) is None  # not fetched yet: the list never waits on it
    session.scene(clear), session.scene(cloudy)
    assert session.area_cloud(clear) == 0.0
    fraction = session.area_cloud(cloudy)
    layer = session.cloud_layer(cloudy)
    expected = float((layer.probability >= 0.9).mean())
    at_default = layer.area_fraction(session.scene(cloudy).valid, clouds.DEFAULT_THRESHOLD)
    assert fraction == pytest.approx(expected) and 0.01 < fraction < at_default  # the campaign's own
    reopened = store.campaign(session.campaign.id).spec
    assert (reopened.cloud_threshold, reopened.max_area_cloud) == (0.9, 20)


def test_a_failing_detector_keeps_the_loop_usable_and_loses_nothing(store, monkeypatch):
    def broken():
        raise RuntimeError("lightgbm could not load")

    monkeypatch.setattr(clouds, "_get_detector", broken)
    session = start(store)
    pixels = [(5, 5), (6, 6)]
    for pixel in pixels:
        session.toggle(pixel)
    verdict = session.verdict()
    assert not verdict.available and "No cloud flags for this image" in verdict.message
    assert verdict.flagged == {}
    review = session.save_and_next()
    assert review.n_pixels == 2
    saved = store.samples()
    assert saved["cloud_flagged"].isna().all() and saved["cloud_probability"].isna().all()
    assert session.selection == frozenset(pixels)


def test_a_pixel_picked_on_a_cloud_is_flagged_there_too(store):
    session, cloudy, clear = carried_onto_the_cloudy_image(store)
    session.drop_flagged()
    session.toggle(cloudy[0])  # picked here, under the cloud: no clean reference to excuse it
    assert session.verdict().flagged == {cloudy[0]: "cloud"}
