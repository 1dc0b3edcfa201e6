"""Label page: choose an area, a label and a period, then click pixels image by image."""

from __future__ import annotations

import time
from datetime import date, timedelta
from functools import partial

import streamlit as st

from labeller import views
from labeller.aoi import (
    BBOX_FIELDS,
    AreaOfInterest,
    bbox_of_geojson,
    coverage_warning,
    format_degrees,
    map_zoom,
    parse_bbox,
)
from labeller.campaign import CampaignSpec, parse_campaign_id
from labeller.cloud_guard import SKIP_REASONS, header_note
from labeller.clouds import DEFAULT_THRESHOLD
from labeller.errors import LabellerError
from labeller.identity import new_session_token, session_token
from labeller.labelling import LabellingSession
from pages import insight, source_picker, ui, view_controls
from pages.aoi_map import aoi_map, aoi_outline

SESSION = "labelling"
SCROLL_TOP = "_scroll_to_top"
BBOX_KEYS = ("min_lon", "min_lat", "max_lon", "max_lat")
BBOX_LABELS = BBOX_FIELDS
DEFAULT_BBOX = (14.5514, 45.8659, 14.5642, 45.8750)  # 1 km near Ljubljana: forest, meadows, houses
MAP_KEY, IMAGE_KEY, DISPLAY_KEY, CLICKS_TAKEN = "aoi_map", "image", "_display", "_clicks_taken"
# Keys of the loop's buttons (C and R are Streamlit's own); V and Shift+V step the view.
SHORTCUTS = {"save": "S", "skip": "K", "back": "B", "clear": "X"}
KEYS_HELP = (
    "Click a pixel to select it, again to deselect. Keys: **S** save & next · **K** skip · "
    "**B** back · **X** clear · **V** / **Shift+V** view"
)
FIRST_DATE = date(2015, 6, 23)  # Sentinel-2A's launch: no image is older
# (Comments, not docstrings: Streamlit's magic would write a bare string onto this page.)
IMAGE_SENT = "_image_sent"  # the acquisition whose image the last full run sent
# After a new image, the run waits this long before sending the charts below and beside it.
# Streamlit's browser side renders what arrives within ~10 ms as one batch: sent together,
# the charts held the image's paint back by 50-150 ms (benchmarks/stac_image.py).
PAINT_PAUSE_S = 0.03
CONTROLS_WIDTH_PX = 176  # "Previous view  Shift + V", the longest button label, in full
CLOUD_NOTE = "Selected pixels that look cloudy here are crossed and not saved."


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def session() -> LabellingSession | None:
    return st.session_state.get(SESSION)


# --- set-up ---------------------------------------------------------------------------------


def typed_bbox() -> tuple:
    return tuple(st.session_state.get(k) for k in BBOX_KEYS)


def sync_drawn_bbox() -> None:
    """Copy a newly drawn rectangle into the four numbers (before they are drawn).

    Pulled at the top of each run rather than pushed by a callback, so a drawing is
    applied exactly once and typing afterwards is never overwritten.
    """
    drawings = (st.session_state.get(MAP_KEY) or {}).get("all_drawings") or []
    latest = drawings[-1] if drawings else None
    if latest is None or latest == st.session_state.get("_applied_drawing"):
        return
    st.session_state["_applied_drawing"] = latest
    try:
        bbox = bbox_of_geojson(latest)
    except Exception as error:  # noqa: BLE001
        ui.flash(ui.message_for(error))
        return
    for key, value in zip(BBOX_KEYS, bbox, strict=True):
        st.session_state[key] = format_degrees(round(value, 6))  # 6 decimals: about 0.1 m


def aoi_inputs() -> AreaOfInterest | None:
    """Map and four numbers, kept in sync. Returns the AOI or None (with the reason shown)."""
    sync_drawn_bbox()
    map_col, numbers_col = st.columns([3, 2])
    with numbers_col:
        st.markdown("**Area of interest** (WGS84 degrees). Draw a rectangle on the map or type:")
        a, b = st.columns(2)
        for col, key, label in zip((a, b, a, b), BBOX_KEYS, BBOX_LABELS, strict=True):
            col.text_input(label, key=key, help="Decimal degrees, WGS84, e.g. 14.5514")
        aoi, problem = None, None
        try:
            aoi = AreaOfInterest(*parse_bbox(typed_bbox()))
        except Exception as error:  # noqa: BLE001 - any bad box gets a message
            problem = ui.message_for(error)
        if aoi is not None:
            st.success(f"Grid: {aoi.describe()}", icon=":material/straighten:")
            outside = coverage_warning(aoi)
            if outside:
                st.warning(outside, icon=":material/public_off:")
        else:
            st.error(problem, icon=":material/warning:")
    with map_col:
        bbox = aoi.bbox if aoi is not None else DEFAULT_BBOX
        ui.drawing_map(
            aoi_map(),
            key=MAP_KEY,
            feature_group=aoi_outline(bbox if aoi is not None else None),
            center=((bbox[1] + bbox[3]) / 2, (bbox[0] + bbox[2]) / 2),
            zoom=map_zoom(bbox),
        )
    return aoi


DRAFT_PARAM = "s"  # query parameter: this browser session's draft token (its unsaved selection)


def draft_token() -> str:
    """This browser session's draft token: from the page address (so a reload finds its own
    unsaved selection), else a new one."""
    return session_token(st.query_params.get(DRAFT_PARAM)) or new_session_token()


def loop_options() -> dict:
    """Scene cache, prefetch settings and draft token for a labelling session."""
    return {"cache": ui.scene_cache(), "prefetch": ui.app_settings().prefetch, "draft_token": draft_token()}


def form_defaults() -> dict:
    return dict(zip(BBOX_KEYS, map(format_degrees, DEFAULT_BBOX), strict=True)) | {
        "source": None,  # chosen by source_picker.default_source()
        "collection": None,
        "label_value": "1",
        "label_name": "",
        "notes": "",
        "max_cloud": None,
        "cloud_threshold": DEFAULT_THRESHOLD,
        "max_area_cloud": None,
        "start": date.today() - timedelta(days=60),
        "end": date.today(),
    }


def restore_form() -> None:
    """Give each set-up widget its last value. Streamlit forgets the state of widgets that a
    run does not draw, so values are kept under a second key while the loop is shown."""
    for key, default in form_defaults().items():
        if key not in st.session_state:
            kept = st.session_state.get(f"kept_{key}", default)
            st.session_state[key] = (
                source_picker.default_source() if key == "source" and kept is None else kept
            )


def keep_form() -> None:
    for key in form_defaults():
        st.session_state[f"kept_{key}"] = st.session_state.get(key)


def setup_form() -> None:
    restore_form()
    st.title("Label Sentinel-2 pixels")
    ui.show_flashes()
    aoi = aoi_inputs()
    left, middle, right = st.columns(3)
    with left:
        st.text_input("Label value", key="label_value", help="Any finite number: a class id or a target.")
        st.text_input("Label name (optional)", key="label_name", placeholder="e.g. snow")
        st.text_area("Notes (optional)", key="notes", height=68)
    with middle:
        period = {
            "min_value": FIRST_DATE,
            "max_value": date.today() + timedelta(days=366),
            "format": "YYYY-MM-DD",
        }
        st.date_input("Start date", key="start", **period)
        st.date_input("End date", key="end", **period)
        st.number_input(
            "Maximum cloud cover, %",
            min_value=0.0,
            max_value=100.0,
            key="max_cloud",
            placeholder="any",
            help="Leave empty to see every acquisition.",
        )
        cloud_options()
    with right:
        source_picker.source_inputs()
        keep_form()
        state = st.session_state
        cloud = "any cloud cover" if state["max_cloud"] is None else f"cloud cover ≤ {state['max_cloud']:g} %"
        st.caption(f"Start lists acquisitions from {state['start']} to {state['end']}, {cloud}.")
        if st.button("Start", type="primary", use_container_width=True, disabled=aoi is None):
            with ui.showing_errors(toast=True):
                start_campaign(aoi)


def cloud_options() -> None:
    """The campaign's cloud guard threshold and area cloud limit."""
    st.number_input(
        "Cloud probability threshold",
        min_value=0.05,
        max_value=1.0,
        step=0.05,
        key="cloud_threshold",
        help="Selected pixels whose cloud probability (s2cloudless, Level-1C) reaches this, or that "
        "Level-2A's SCL calls cloud, cirrus or shadow, are flagged and not saved unless you include "
        f"them. {DEFAULT_THRESHOLD} keeps real clear pixels and catches thick and medium cloud.",
    )
    st.number_input(
        "Area cloud limit, %",
        min_value=0.0,
        max_value=100.0,
        key="max_area_cloud",
        placeholder="none",
        help="Images whose own area (not the whole tile) is cloudier than this are marked in "
        "Jump to, and can be hidden there.",
    )


def start_campaign(aoi: AreaOfInterest) -> None:
    state = st.session_state
    source = source_picker.chosen_source()
    spec = CampaignSpec(
        aoi=aoi,
        label_value=state["label_value"],
        label_name=state["label_name"],
        notes=state["notes"],
        source=source.key,
        collection=source.collection.id,
        start=state["start"],
        end=state["end"],
        max_cloud=state["max_cloud"],
        cloud_threshold=state["cloud_threshold"],
        max_area_cloud=state["max_area_cloud"],
    )
    bar = st.progress(0.0, text="Listing acquisitions…")
    shown = {"fraction": 0.0}

    def progress(fraction: float, text: str) -> None:
        shown["fraction"] = fraction
        bar.progress(fraction, text=text)

    try:
        with ui.reporting(source, lambda text: bar.progress(shown["fraction"], text=text)):
            labelling = LabellingSession.start(
                ui.get_store(), source, spec, ui.on_this_thread(progress), **loop_options()
            )
    finally:
        bar.empty()
    open_session(labelling)
    st.rerun()


def open_session(labelling: LabellingSession) -> None:
    st.session_state[SESSION] = labelling
    st.session_state[SCROLL_TOP] = True  # the loop opens at its top, not the form's scroll position
    st.query_params["campaign"] = str(labelling.campaign.id)
    st.query_params[DRAFT_PARAM] = labelling.draft_token


def resume_from_url() -> None:
    """After a reload, reopen the campaign named in the URL at its first unreviewed image."""
    campaign_id = st.query_params.get("campaign")
    if session() is not None or not campaign_id:
        return
    try:
        number = parse_campaign_id(campaign_id)
    except LabellerError as error:
        del st.query_params["campaign"]
        st.warning(str(error), icon=":material/link_off:")
        return
    with ui.showing_errors(), st.spinner("Resuming your campaign…"):
        store = ui.get_store()
        record = store.campaign(number)
        if record is None:
            del st.query_params["campaign"]
            st.warning(f"Campaign {campaign_id} no longer exists; set up a new one.")
            return
        spec = record.spec
        try:
            source = source_picker.source_for(spec.source, spec.collection)
            with ui.reporting(source, st.info):
                acquisitions = source.acquisitions(spec.aoi, spec.start, spec.end, spec.max_cloud)
        except LabellerError as error:
            # Back to the form, filled in with this campaign: Start resumes it once fixed.
            del st.query_params["campaign"]
            fill_form(spec)
            st.error(
                f"Campaign {record.id} could not be reopened: {error} The form below holds its "
                "settings; fix the cause and press Start to continue where you left off."
            )
            return
        open_session(LabellingSession(store, source, record, acquisitions, **loop_options()))


def fill_form(spec: CampaignSpec) -> None:
    """Put a campaign's settings into the set-up form."""
    values = dict(zip(BBOX_KEYS, map(format_degrees, spec.aoi.bbox), strict=True)) | {
        "label_value": f"{spec.label_value:g}",
        "label_name": spec.label_name,
        "notes": spec.notes,
        "start": spec.start,
        "end": spec.end,
        "max_cloud": spec.max_cloud,
        "cloud_threshold": spec.cloud_threshold,
        "max_area_cloud": spec.max_area_cloud,
        "source": spec.source,
        "collection": spec.collection,
    }
    for key, value in values.items():
        st.session_state[key] = st.session_state[f"kept_{key}"] = value


# --- the loop -------------------------------------------------------------------------------


STALE_CLICK = (
    "That click was on the previous image, still shown while this one loaded, so it was ignored. "
    "Click again on this image."
)


@ui.callback
def on_image_click(acquisition_id: str) -> None:
    """A click on the image shown for ``acquisition_id``. Ignored when another image is
    current by now: the old one stays on screen (faded) while the next one loads, and a
    click on it reaches us once the fragment's run that waits for the next one ends
    (Streamlit does not interrupt a fragment for its own widgets)."""
    click = st.session_state.get(IMAGE_KEY)
    labelling = session()
    st.session_state[CLICKS_TAKEN] = st.session_state.get(CLICKS_TAKEN, 0) + 1  # taken, even if refused
    if not click or labelling is None or labelling.finished:
        return
    if labelling.current.id != acquisition_id:
        ui.flash(STALE_CLICK, "info")
        return
    refused = labelling.click(click["x"], click["y"], click["width"], click["height"])
    if refused:
        ui.flash(refused, "info")


@ui.callback
def act(action: str, shown_index: int) -> None:
    """A button of the loop. Ignored when the image has changed since the page showed it
    (a quick second click on Save & next must not save the next image unseen)."""
    labelling = session()
    if labelling is None or labelling.index != shown_index:
        return
    {
        "save": labelling.save_and_next,
        "skip": lambda: labelling.skip(st.session_state.get("skip_reason", SKIP_REASONS[0])),
        "back": labelling.back,
        "clear": labelling.clear,
        "include": labelling.include_flagged_anyway,
        "exclude": lambda: labelling.include_flagged_anyway(False),
        "drop": labelling.drop_flagged,
    }[action]()


@ui.callback
def on_jump() -> None:
    session().jump_to(st.session_state["jump"])


@ui.callback
def change_setup() -> None:
    st.session_state.pop(SESSION, None)
    st.query_params.pop("campaign", None)


def review_text(review, unreviewed: str) -> str:
    """ "skipped", "saved, 3 pixels" or ``unreviewed``."""
    if review is None:
        return unreviewed
    return "skipped" if review.status == "skipped" else f"saved, {plural(review.n_pixels, 'pixel')}"


def area_cloud_text(labelling: LabellingSession, acquisition) -> str:
    """ "area 12 % cloudy" for fetched images ("" before), marked above the campaign's limit."""
    fraction = labelling.area_cloud(acquisition)
    if fraction is None:
        return ""
    limit = labelling.campaign.spec.max_area_cloud
    above = " (above your limit)" if limit is not None and 100 * fraction > limit else ""
    return f"area {100 * fraction:.0f} % cloud{above}"


def acquisition_label(labelling: LabellingSession, i: int) -> str:
    acquisition = labelling.acquisitions[i]
    state = review_text(labelling.review_of(acquisition), "—")
    parts = [f"{i + 1}. {acquisition.time:%Y-%m-%d}"]
    if area := area_cloud_text(labelling, acquisition):
        parts.append(area)
    if acquisition.cloud_cover is not None:
        parts.append(f"tile {acquisition.cloud_cover:.0f} %")
    return " · ".join([*parts, state])


def jump_options(labelling: LabellingSession) -> list[int]:
    """Every image, or (when asked) those not above the area cloud limit; the current one stays."""
    limit = labelling.campaign.spec.max_area_cloud
    if limit is None or not st.session_state.get("hide_cloudy"):
        return list(range(len(labelling.acquisitions)))
    keep = []
    for i, acquisition in enumerate(labelling.acquisitions):
        fraction = labelling.area_cloud(acquisition)
        shown = min(labelling.index, len(labelling.acquisitions) - 1)
        if i == shown or fraction is None or 100 * fraction <= limit:
            keep.append(i)
    return keep


def labelling_loop() -> None:
    """The loop's page. A button or the date list reruns it all; a click on the image reruns
    only ``click_area`` (the count and the image), which is what keeps clicks fast."""
    labelling = session()
    labelling.labeller = ui.current_labeller()
    ui.show_flashes(toast=True)
    ui.click_queue()
    progress = labelling.progress()
    st.progress(
        progress.fraction,
        text=f"{progress.reviewed} of {progress.total} reviewed, "
        f"{plural(progress.pixels_saved, 'pixel')} saved",
    )
    # The controls keep a fixed width, so their labels read in full in a narrow window; the
    # image takes the rest (shrunk when narrower than itself).
    with st.container(horizontal=True, wrap=False, gap="small"):
        image_col = st.container(width="stretch")
        controls = st.container(width=CONTROLS_WIDTH_PX)
    ready = not labelling.finished and labelling.loader.is_ready(labelling.current)
    # The controls before the image: a key pressed as soon as the image shows must reach the
    # buttons drawn for it (``act`` ignores those of the image before).
    with controls:
        nav_buttons(labelling, ready)
    with image_col:
        if labelling.finished:
            st.success(
                f"All {progress.total} acquisitions reviewed. "
                "Go Back to revise one, or open the Dataset page."
            )
            return
        beside = show_current(labelling, ready)
    if beside is None:
        return
    if st.session_state.get(IMAGE_SENT) != labelling.current.id:
        st.session_state[IMAGE_SENT] = labelling.current.id
        time.sleep(PAINT_PAUSE_S)  # the browser paints the new image before the charts arrive
    with image_col:
        show_insight(labelling, beside)
    labelling.prepare_next(st.session_state.get(DISPLAY_KEY, views.DEFAULT_VIEW))


def nav_buttons(labelling: LabellingSession, ready: bool) -> None:
    """The loop's controls; Save & next only once the image is there (``ready``)."""
    finished = labelling.finished
    st.caption(KEYS_HELP)
    st.button(
        "Save & next",
        type="primary",
        use_container_width=True,
        shortcut=SHORTCUTS["save"],
        disabled=finished or not ready,
        on_click=act,
        args=("save", labelling.index),
    )
    reason = st.session_state.setdefault("skip_reason", SKIP_REASONS[0])
    st.button(
        f"Skip ({reason})",
        use_container_width=True,
        shortcut=SHORTCUTS["skip"],
        disabled=finished,
        on_click=act,
        args=("skip", labelling.index),
    )
    st.selectbox("Skip reason", SKIP_REASONS, key="skip_reason")
    st.button(
        "Back",
        use_container_width=True,
        shortcut=SHORTCUTS["back"],
        disabled=labelling.index == 0,
        on_click=act,
        args=("back", labelling.index),
    )
    st.button(
        "Clear selection",
        use_container_width=True,
        shortcut=SHORTCUTS["clear"],
        disabled=finished,  # not on the selection: a click reruns only the image, not this button
        on_click=act,
        args=("clear", labelling.index),
    )
    count = len(labelling.acquisitions)
    st.session_state["jump"] = min(labelling.index, count - 1)
    if labelling.campaign.spec.max_area_cloud is not None:
        st.checkbox(
            f"Hide images above {labelling.campaign.spec.max_area_cloud:g} % area cloud", key="hide_cloudy"
        )
    # Labels fixed when drawn: a background fetch must not rename an option under the widget.
    labels = {i: acquisition_label(labelling, i) for i in jump_options(labelling)}
    st.selectbox(
        "Jump to",
        options=list(labels),
        key="jump",
        on_change=on_jump,
        format_func=labels.__getitem__,
    )
    ready = not finished and labelling.loader.is_ready(labelling.current)
    scene_layers = labelling.scene().extra if ready else {}
    with ui.showing_errors():
        st.session_state[DISPLAY_KEY] = view_controls.controls(
            labelling.source.collection.band_names, scene_layers
        )
    spec = labelling.campaign.spec
    # A popover's content is drawn only while it is open, and every element on the page costs
    # each click a redraw (issue 12). Only what holds no value goes in one: a widget drawn
    # there late takes its default (Streamlit 1.67), e.g. the brightness slider its minimum.
    with st.popover(
        f"Campaign {labelling.campaign.id} · label {spec.label_value:g}", use_container_width=True
    ):
        st.caption(
            f"Campaign {labelling.campaign.id}: label **{spec.label_value:g}** {spec.label_name} · "
            f"{spec.aoi.describe()} · source {spec.source} ({spec.collection})"
        )
        st.button("Change set-up", on_click=change_setup)


def cloud_buttons(labelling: LabellingSession) -> None:
    """Include the cloudy-looking selected pixels anyway (this image only), or drop them: one
    row, as high as the note under the count that it replaces (click_queue.html)."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=ui.CLOUD_ROW_KEY):
        if labelling.include_flagged:
            st.button(
                "Don't save them",
                on_click=act,
                args=("exclude", labelling.index),
                icon=":material/undo:",
            )
        else:
            st.button(
                "Include them anyway",
                on_click=act,
                args=("include", labelling.index),
                icon=":material/add_task:",
                help="Save them with this image too "
                "(they stay selected and are judged afresh on the next image)",
            )
        st.button(
            "Drop them from the selection",
            on_click=act,
            args=("drop", labelling.index),
            icon=":material/deselect:",
        )


def load_scene(labelling: LabellingSession):
    """The current scene, showing the fetch's waits and retries (e.g. a rate limit) while it
    loads, also when a background fetch is the one under way. On failure: the reason, a
    Retry button, and Skip still works; the selection is kept."""
    ui.wait_for_fetch(labelling.loader.start(labelling.current))
    try:
        return labelling.scene()
    except LabellerError as error:
        st.error(f"{error} Your selection is kept.", icon=":material/warning:")
        if error.retryable:
            st.button("Retry", on_click=retry_current)
        return None


@ui.callback
def retry_current() -> None:
    labelling = session()
    if labelling is not None and not labelling.finished:
        labelling.loader.retry(labelling.current)


def show_current(labelling: LabellingSession, ready: bool):
    """The current image with its header; returns the place beside it for the spectra (None
    when there is no image to show)."""
    acquisition = labelling.current
    tile = "unknown" if acquisition.cloud_cover is None else f"{acquisition.cloud_cover:.0f} %"
    status = review_text(labelling.review_of(acquisition), "not reviewed yet")
    with ui.showing_errors():
        scene = load_scene(labelling)
        if scene is None:
            return None
        if not ready:  # the controls were drawn without the image: draw them again, enabled
            ui.rerun_here()
        verdict = labelling.verdict()
        area = area_cloud_text(labelling, acquisition) or "area cloud unknown"  # e.g. "area 12 % cloud"
        st.markdown(
            f"**{acquisition.time:%Y-%m-%d %H:%M} UTC** · "
            f"{labelling.index + 1} of {len(labelling.acquisitions)} · {area} · tile cloud cover {tile} "
            f"(catalog) · {status}"
        )
        if not verdict.available:
            st.warning(verdict.message, icon=":material/cloud_off:")
        if not scene.valid.any():
            st.warning("This image has no valid data over the area. Skip it.")
            return None
    with st.container(horizontal=True, gap="small"):
        with st.container(width=labelling.factor * labelling.aoi.shape[1]):
            click_area()
        return st.container(width="stretch")


def show_insight(labelling: LabellingSession, beside) -> None:
    """The spectra beside the image and the time series below it."""
    with beside:  # its own fragment: never holds the image back
        insight.beside_image()
    with ui.showing_errors():
        insight.time_series(labelling)


@st.fragment
def click_area() -> None:
    """What a click changes, and only that: the selection count and the outlined image, in as few
    elements as that takes (the browser redraws every element on the page a few times per run)."""
    labelling = session()
    if labelling is None or labelling.finished:
        st.rerun(scope="app")
    ui.show_flashes()
    with ui.showing_errors():
        verdict = labelling.verdict()
        note = header_note(len(labelling.selection), verdict, labelling.include_flagged)
        ui.click_count(note, st.session_state.get(CLICKS_TAKEN, 0), "" if verdict.cloudy else CLOUD_NOTE)
        picture = labelling.png(st.session_state.get(DISPLAY_KEY, views.DEFAULT_VIEW))
        ui.clickable_image(picture, key=IMAGE_KEY, on_click=partial(on_image_click, labelling.current.id))
        # After the image, so that it keeps its place (an iframe that moves reloads), and only
        # when needed: each element sent costs the click a redraw of the page. Shown above the
        # image (click_queue.html), where the note under the count stood.
        if verdict.cloudy:
            cloud_buttons(labelling)


ui.run_through_app()
with ui.showing_errors():
    ui.storage_warning()
resume_from_url()
if session() is None:
    with ui.showing_errors():
        setup_form()
else:
    if st.session_state.get(SCROLL_TOP):
        with st.sidebar:  # (last in the sidebar: no element of the page moves when it goes)
            ui.scroll_to_top()
    labelling_loop()
    # Only after a run that got to its end: the loop's first run usually reruns once its image
    # is in, and the browser may never draw (nor run) a script sent by a run cut short.
    st.session_state.pop(SCROLL_TOP, None)
