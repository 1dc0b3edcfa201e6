"""A new image source is one entry in ``labeller.sources.registry.SOURCES``: registering a
fourth source here (and touching nothing else) puts it in the picker, the collection list and
``make_source``, and the set-up form starts a campaign with it."""

from __future__ import annotations

import numpy as np
import pytest

from labeller.bands import L2A
from labeller.errors import InvalidInputError, SourceError
from labeller.sources import (
    SOURCES,
    Acquisition,
    Scene,
    SourceSpec,
    collections_of,
    make_source,
    source_needs_credentials,
    source_titles,
)
from labeller.sources.base import LocalSource
from tests.app.test_label_page import BBOX, press, texts, type_bbox


class FlatSource(LocalSource):
    """A fourth source: one Level-2A acquisition of uniform reflectance 0.25."""

    key = "flat"
    title = "Flat test source"
    collection = L2A
    cache_id = None

    def acquisitions(self, aoi, start, end, max_cloud=None, progress=None):
        from datetime import UTC, datetime, time

        return [Acquisition("FLAT_1", datetime.combine(start, time(10), tzinfo=UTC), 0.0, "T00XXX", "05.10")]

    def scene(self, aoi, acquisition):
        rows, cols = aoi.shape
        bands = np.full((rows, cols, len(L2A.band_names)), 0.25, dtype=np.float32)
        return Scene(acquisition, L2A.band_names, bands, np.ones((rows, cols), bool), 40.0, 160.0)


FLAT = SourceSpec("flat", FlatSource.title, (L2A.id,), False, "A flat test image.", lambda _: FlatSource())


@pytest.fixture
def flat_registered(monkeypatch):
    monkeypatch.setitem(SOURCES, "flat", FLAT)


def test_one_table_entry_makes_a_source_known_everywhere(flat_registered):
    assert list(source_titles())[-1] == "flat" and source_titles()["flat"] == "Flat test source"
    assert collections_of("flat") == [L2A.id] and source_needs_credentials("flat") is False
    made = make_source("flat")
    assert isinstance(made, FlatSource) and made.collection is L2A
    with pytest.raises(InvalidInputError, match="Level-2A"):
        make_source("flat", "sentinel-2-l1c")
    assert made.test_connection().status == "ok"


def test_unknown_source_says_choose_from_the_list():
    with pytest.raises(InvalidInputError, match="choose one from the list"):
        make_source("flat")


def test_picker_offers_the_registered_source_and_starts_a_campaign(flat_registered, app):
    picker = app.selectbox(key="source")
    assert picker.options[-1] == "Flat test source"
    picker.set_value("flat")
    app.run()
    assert "A flat test image." in texts(app)
    assert not [r for r in app.radio if r.label == "Collection"]  # one collection: nothing to choose
    type_bbox(app, BBOX)
    press(app, "Start")
    assert not app.exception, app.exception
    labelling = app.session_state["labelling"]
    assert (labelling.campaign.spec.source, labelling.campaign.spec.collection) == ("flat", L2A.id)
    assert labelling.scene().bands[0, 0, 0] == np.float32(0.25)


def test_retry_shown_only_for_retryable_errors():
    assert SourceError("x").retryable is True
    assert InvalidInputError("x").retryable is False
