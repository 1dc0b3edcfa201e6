"""Page flows of the Label and Dataset pages through AppTest."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT

BBOX = (14.5514, 45.8659, 14.5642, 45.8750)


def texts(at) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.subheader, *at.title)]
    parts += [e.value for e in (*at.error, *at.warning, *at.success, *at.info)]
    parts += [e.proto.body for e in at.get("html")]  # the count line above the image
    return "\n".join(map(str, parts))


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def type_bbox(at, bbox):
    for key, value in zip(("min_lon", "min_lat", "max_lon", "max_lat"), bbox, strict=True):
        at.text_input(key=key).set_value(str(value))
    at.run()


def press(at, label):
    next(b for b in at.button if b.label == label).click()
    at.run()


def valid_pixels(labelling, picks=(0,)) -> list[tuple[int, int]]:
    """Pixels with data in the current scene, by position in the list of valid ones."""
    rows, cols = np.nonzero(labelling.scene().valid)
    return [(int(rows[i]), int(cols[i])) for i in picks]


def click(app, fake_image, labelling, pixels) -> None:
    """Click the pixels on the shown image, then let the page catch up."""
    rows, cols = labelling.aoi.shape
    for row, col in pixels:
        fake_image.click_pixel(row, col, rows, cols)
    app.run()  # the stand-in replays the clicks through the page's on_click callback
    app.run()


def start_campaign(at, label="2", start=None):
    type_bbox(at, BBOX)
    at.text_input(key="label_value").set_value(label)
    at.date_input(key="start").set_value(start or date.today() - timedelta(days=30))
    at.run()
    press(at, "Start")
    assert not at.exception, at.exception
    return at.session_state["labelling"]


def test_setup_shows_the_grid_size(app):
    type_bbox(app, BBOX)
    assert "pixels at 10 m" in texts(app) and "EPSG:32633" in texts(app)
    assert not errors(app)


def test_bad_bbox_gets_a_message_and_start_is_disabled(app):
    type_bbox(app, (14.6, 45.8659, 14.5, 45.8750))
    assert any("min lon" in e for e in errors(app))
    assert next(b for b in app.button if b.label == "Start").disabled
    type_bbox(app, (14.0, 45.0, 15.0, 46.0))
    assert any("smaller box" in e for e in errors(app))


def test_drawn_rectangle_fills_the_numbers(app):
    ring = [[14.50, 45.80], [14.50, 45.81], [14.51, 45.81], [14.51, 45.80], [14.50, 45.80]]
    app.session_state["aoi_map"] = {
        "all_drawings": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}}]
    }
    app.run()
    assert app.text_input(key="min_lon").value == "14.5"
    assert app.text_input(key="max_lat").value == "45.81"
    # Typing afterwards is not overwritten by the old drawing.
    app.text_input(key="max_lat").set_value("45.805")
    app.run()
    assert app.text_input(key="max_lat").value == "45.805"


def test_text_in_a_bbox_box_names_the_box_and_nothing_starts(app):
    """Typed text never silently becomes 0: the message names the bad box."""
    cases = [
        ("min_lat", "abc", "Min lat (south): 'abc' is not a number"),
        ("max_lon", "nan", "Max lon (east): nan is not a finite number"),
        ("min_lon", "1e309", "Min lon (west): 1e309 is not a finite number"),
        ("max_lat", "", "Max lat (north) is empty"),
        ("max_lat", "45,875", "Use a point, not a comma"),
    ]
    for key, bad, words in cases:
        type_bbox(app, BBOX)
        app.text_input(key=key).set_value(bad)
        app.run()
        assert not app.exception
        assert [e for e in errors(app) if words in e], (bad, errors(app))
        assert not any("pixels" in e or "area" in e for e in errors(app))  # not about the size
        assert next(b for b in app.button if b.label == "Start").disabled
        assert app.text_input(key=key).value == bad  # what was typed stays, to be corrected
    type_bbox(app, BBOX)
    assert not errors(app) and not next(b for b in app.button if b.label == "Start").disabled


def test_a_box_outside_sentinel2_coverage_is_warned_about_before_starting(app):
    type_bbox(app, (10.0, -80.004, 10.02, -80.0))  # 80°S: Antarctica, south of 56°S
    assert not errors(app)
    assert any("outside Sentinel-2's regular coverage (56°S to 84°N)" in w.value for w in app.warning)
    type_bbox(app, BBOX)
    assert not any("regular coverage" in w.value for w in app.warning)


def test_bad_campaign_in_the_address_gets_a_message_and_the_form(tmp_path, monkeypatch):
    monkeypatch.setenv("LABELLER_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("streamlit_folium.st_folium", lambda *a, **k: None)
    for bad in ("²", "99999999999999999999", "-1", "0", "abc", "1.5", " "):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        at.secrets["tests"] = {"isolated": True}
        at.query_params["campaign"] = bad
        at.run()
        assert not at.exception, bad
        assert not errors(at), (bad, errors(at))  # no "Something went wrong"
        warned = [w.value for w in at.warning if "not a campaign number" in w.value]
        assert len(warned) == 1, (bad, [w.value for w in at.warning])
        assert "Set up a campaign below" in warned[0]
        assert "Label Sentinel-2 pixels" in texts(at)  # the set-up form, to carry on
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.secrets["tests"] = {"isolated": True}
    at.query_params["campaign"] = "12345"  # well formed, but no such campaign
    at.run()
    assert any("Campaign 12345 no longer exists" in w.value for w in at.warning)


def test_bad_label_value_and_dates_are_refused_with_a_message(app):
    type_bbox(app, BBOX)
    cases = (
        ("nan", "finite"),
        ("inf", "finite"),
        ("abc", "not a number"),
        ("", "Enter a label"),
        ("1e-400", "too close to 0 to be stored"),
        ("1e309", "finite"),
    )
    for bad, words in cases:
        app.text_input(key="label_value").set_value(bad)
        app.run()
        press(app, "Start")
        assert any(words in e for e in errors(app)), (bad, errors(app))
        assert "labelling" not in app.session_state
    app.text_input(key="label_value").set_value("1")
    app.date_input(key="end").set_value(date.today() + timedelta(days=3))
    app.run()
    press(app, "Start")
    assert any("in the future" in e for e in errors(app))
    app.date_input(key="end").set_value(date.today() - timedelta(days=40))
    app.date_input(key="start").set_value(date.today() - timedelta(days=10))
    app.run()
    press(app, "Start")
    assert any("after the end date" in e for e in errors(app))


def test_label_loop_click_save_carry_over_skip_back(app, fake_image):
    labelling = start_campaign(app, label="2.5")
    n = len(labelling.acquisitions)
    assert f"1 of {n}" in texts(app)
    count = int(labelling.scene().valid.sum())
    picks = valid_pixels(labelling, (0, count // 2, -1))
    click(app, fake_image, labelling, picks)
    assert labelling.selection == set(picks)
    assert "3 pixels selected" in texts(app)
    press(app, "Save & next")
    assert f"2 of {n}" in texts(app)
    assert f"1 of {n} reviewed, 3 pixels saved" in app.get("progress")[0].proto.text
    assert labelling.selection == set(picks)  # carried over to the next image
    press(app, "Skip (overcast)")
    assert f"3 of {n}" in texts(app)
    press(app, "Back")
    press(app, "Back")
    assert f"1 of {n}" in texts(app) and "saved, 3 pixels" in texts(app)


def test_dataset_page_shows_saved_samples(app, fake_image):
    labelling = start_campaign(app, label="7")
    click(app, fake_image, labelling, valid_pixels(labelling))
    press(app, "Save & next")
    app.switch_page("pages/dataset.py")
    app.run()
    assert not app.exception
    assert app.metric[0].value == "1"
    assert any(b.label == "Download CSV" for b in app.get("download_button"))


def test_reload_resumes_from_the_url(app, fake_image, tmp_path):
    labelling = start_campaign(app)
    press(app, "Skip (overcast)")
    campaign = labelling.campaign.id
    assert app.query_params["campaign"] == [str(campaign)] or app.query_params["campaign"] == str(campaign)
    # A reload: a fresh script session with the same URL.
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    again.secrets["tests"] = {"isolated": True}
    again.query_params["campaign"] = str(campaign)
    again.run()
    assert not again.exception
    resumed = again.session_state["labelling"]
    assert resumed.campaign.id == campaign and resumed.index == 1
    assert math.isclose(resumed.campaign.spec.label_value, labelling.campaign.spec.label_value)


def test_jump_to_any_date_and_clear_selection(app, fake_image):
    labelling = start_campaign(app)
    n = len(labelling.acquisitions)
    click(app, fake_image, labelling, valid_pixels(labelling))
    assert "1 pixel selected" in texts(app)
    press(app, "Clear selection")
    assert "0 pixels selected" in texts(app) and labelling.selection == frozenset()
    app.selectbox(key="jump").set_value(n - 1)
    app.run()
    assert f"{n} of {n}" in texts(app) and labelling.index == n - 1
    press(app, "Skip (overcast)")
    assert any(f"All {n} acquisitions reviewed" in s.value for s in app.success)
    assert next(b for b in app.button if b.label == "Save & next").disabled
    press(app, "Back")
    assert f"{n} of {n}" in texts(app)


def test_change_setup_returns_to_the_form_and_keeps_the_saved_data(app, fake_image):
    labelling = start_campaign(app, label="4")
    press(app, "Skip (overcast)")
    press(app, "Change set-up")
    assert "labelling" not in app.session_state
    assert any("Label Sentinel-2 pixels" in t.value for t in app.title)
    press(app, "Start")  # same AOI, label, source: the campaign resumes after the skipped image
    resumed = app.session_state["labelling"]
    assert resumed.campaign.id == labelling.campaign.id and resumed.index == 1


def test_labeller_name_is_kept_in_the_url_and_stored_with_samples(app, fake_image):
    app.text_input(key="labeller_name_input").set_value("Ana")
    app.run()
    labelling = start_campaign(app, label="9")
    click(app, fake_image, labelling, valid_pixels(labelling))
    press(app, "Save & next")
    press(app, "Skip (overcast)")
    samples = labelling.store.samples(campaign_ids=[labelling.campaign.id])
    assert samples["labeller"].tolist() == ["Ana"]
    assert {r.labeller for r in labelling.store.reviews(labelling.campaign.id).values()} == {"Ana"}


def test_label_page_warns_when_labels_would_be_lost_on_restart(app, monkeypatch):
    assert not any("erases that disk" in w.value for w in app.warning)
    monkeypatch.setenv("HOSTNAME", "streamlit")  # as on Streamlit Community Cloud, with SQLite
    app.run()
    assert any("erases that disk" in w.value for w in app.warning)


def test_a_campaign_that_cannot_reopen_fills_the_form_to_resume_it(tmp_path, monkeypatch, fake_image):
    """A reload of a Sentinel Hub campaign whose typed credentials are gone with the session."""
    from labeller.aoi import AreaOfInterest
    from labeller.campaign import CampaignSpec
    from labeller.store import Store

    store = Store(Store.sqlite_url(tmp_path))
    spec = CampaignSpec(
        aoi=AreaOfInterest(*BBOX),
        label_value=6,
        label_name="meadow",
        notes="",
        source="sentinelhub",
        collection="sentinel-2-l2a",
        start=date(2024, 5, 1),
        end=date(2024, 6, 30),
    )
    campaign = store.open_campaign(spec).id
    store.close()
    monkeypatch.setenv("LABELLER_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("streamlit_folium.st_folium", lambda *a, **k: None)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.secrets["tests"] = {"isolated": True}
    at.query_params["campaign"] = str(campaign)
    at.run()
    assert not at.exception
    assert any(f"Campaign {campaign} could not be reopened" in e.value for e in at.error)
    assert any("client id and secret" in e.value for e in at.error)
    assert at.text_input(key="label_value").value == "6"
    assert at.text_input(key="label_name").value == "meadow"
    assert at.selectbox(key="source").value == "sentinelhub"
    assert at.radio(key="collection").value == "sentinel-2-l2a"
    assert "labelling" not in at.session_state


def reopen(tmp_path, params: dict) -> AppTest:
    """A reload: a fresh script session of the same server with these URL parameters."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.secrets["tests"] = {"isolated": True}
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def param(at, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def test_each_browser_session_resumes_its_own_unsaved_selection(app, fake_image, tmp_path):
    """A selects two pixels, B (another session on the same campaign) clicks a third, A
    reloads: A still has exactly its two, B its one."""
    alice = start_campaign(app)
    a_pixels = valid_pixels(alice, (0, 1))
    click(app, fake_image, alice, a_pixels)
    campaign, a_token = param(app, "campaign"), param(app, "s")
    assert alice.selection == set(a_pixels) and len(a_token) >= 8

    bob_app = reopen(tmp_path, {"campaign": campaign})  # B opens the same campaign elsewhere
    bob = bob_app.session_state["labelling"]
    assert param(bob_app, "s") != a_token
    assert bob.selection == set()  # A's unsaved work is A's
    b_pixel = valid_pixels(bob, (-1,))
    click(bob_app, fake_image, bob, b_pixel)
    assert bob.selection == set(b_pixel)

    again = reopen(tmp_path, {"campaign": campaign, "s": a_token})  # A reloads
    assert again.session_state["labelling"].selection == set(a_pixels)
    assert "2 pixels selected" in texts(again)
    b_again = reopen(tmp_path, {"campaign": campaign, "s": param(bob_app, "s")})
    assert b_again.session_state["labelling"].selection == set(b_pixel)


def test_bad_labeller_and_draft_token_in_the_address(app, fake_image, tmp_path):
    """The other URL parameters: a labeller name with control characters is refused with a
    message (and not used); a draft token that is not one is replaced by a fresh one."""
    at = reopen(tmp_path, {"labeller": "Ana\x07", "s": "../../etc"})
    assert any("control characters" in e for e in errors(at))
    labelling = start_campaign(at)
    assert labelling.labeller is None
    token = param(at, "s")
    assert token != "../../etc" and re.fullmatch(r"[\w-]{8,32}", token)
    assert labelling.draft_token == token
    long = reopen(tmp_path, {"labeller": "x" * 500})
    assert any("longer than 80 characters" in e for e in errors(long))


def test_a_save_refused_because_of_another_session_can_be_pressed_again(app, fake_image, tmp_path):
    alice = start_campaign(app)
    a_pixels = valid_pixels(alice, (0, 1))
    click(app, fake_image, alice, a_pixels)
    bob_app = reopen(tmp_path, {"campaign": param(app, "campaign"), "labeller": "Bob"})
    bob = bob_app.session_state["labelling"]
    click(bob_app, fake_image, bob, valid_pixels(bob, (2,)))
    press(bob_app, "Save & next")  # Bob saves the image Alice is looking at
    first = alice.current.id

    press(app, "Save & next")
    refused = [e for e in errors(app) if "in another session" in e]
    assert refused and "saved with 1 pixel by Bob" in refused[0] and "press again" in refused[0]
    assert alice.current.id == first and alice.selection == set(a_pixels)  # nothing lost
    stored = alice.store.reviews(alice.campaign.id)[first]
    assert (stored.labeller, stored.n_pixels) == ("Bob", 1)

    press(app, "Save & next")  # again: replaces Bob's review on purpose
    assert not [e for e in errors(app) if "in another session" in e]
    stored = alice.store.reviews(alice.campaign.id)[first]
    assert (stored.labeller, stored.n_pixels) == (None, 2)
    assert alice.current.id != first


def test_stretch_and_brightness_keep_their_values_while_hidden(app, fake_image):
    """They are drawn only when the toggle is on (fewer elements for each click to redraw);
    what was set stays in force, in the address and in the toggle's label once hidden."""
    start_campaign(app)
    assert not [s for s in app.slider if s.key == "bright"]  # hidden at first
    app.toggle(key="adjust_display").set_value(True).run()
    app.slider(key="bright").set_value(1.5).run()
    app.radio(key="stretch").set_value("fixed").run()
    app.toggle(key="adjust_display").set_value(False).run()
    app.run()
    assert not [s for s in app.slider if s.key == "bright"]
    assert (app.session_state["bright"], app.session_state["stretch"]) == (1.5, "fixed")
    assert (app.query_params["bright"], app.query_params["stretch"]) == ("1.5", "fixed")
    assert app.toggle(key="adjust_display").label == "Adjust (fixed ×1.5)"
    app.toggle(key="adjust_display").set_value(True).run()
    assert app.slider(key="bright").value == 1.5 and app.radio(key="stretch").value == "fixed"
