"""Picking the keyless Earth Search source on the Label page: it checks the connection at once,
says plainly when there is no internet, and a campaign starts on real pixels when there is."""

from __future__ import annotations

from datetime import date

import numpy as np

from tests.app.test_label_page import BBOX, press, texts, type_bbox
from tests.fakes.earthsearch_fixtures import es_cogs, fake_es  # noqa: F401 - fixtures


def pick_earth_search(app) -> None:
    app.selectbox(key="source").set_value("earthsearch")
    app.run()


def test_without_internet_picking_the_source_says_so(app, monkeypatch):
    monkeypatch.setenv("LABELLER_STAC_URL", "http://127.0.0.1:9")
    pick_earth_search(app)
    warnings = [w.value for w in app.warning]
    assert len(warnings) == 1
    assert warnings[0].startswith("Server unreachable: Could not reach Earth Search at http://127.0.0.1:9")
    assert "Check this computer's internet connection" in warnings[0]
    assert "the Demo source works offline" in warnings[0]
    assert not app.exception


def test_with_the_service_reachable_a_campaign_starts_on_real_pixels(app, monkeypatch, fake_es):  # noqa: F811
    monkeypatch.setenv("LABELLER_STAC_URL", fake_es.url)
    pick_earth_search(app)
    assert not app.warning and "Real Sentinel-2 Level-2A images, free and without an account" in texts(app)
    assert not [r for r in app.radio if r.label == "Collection"]
    type_bbox(app, BBOX)
    app.date_input(key="start").set_value(date(2015, 7, 1))
    app.date_input(key="end").set_value(date(2015, 9, 30))
    app.run()
    press(app, "Start")
    assert not app.exception, app.exception
    labelling = app.session_state["labelling"]
    assert (labelling.campaign.spec.source, labelling.campaign.spec.collection) == (
        "earthsearch",
        "sentinel-2-l2a",
    )
    assert [a.time.date().isoformat() for a in labelling.acquisitions][0] == "2015-07-11"
    scene = labelling.scene()
    assert scene.valid.all() and np.isfinite(scene.bands).all()
    assert "**2015-07-11 10:00 UTC** · 1 of 5 · area 0 % cloud · tile cloud cover 1 % (catalog)" in texts(app)
