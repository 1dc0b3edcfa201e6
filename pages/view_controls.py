"""The loop's view controls: which view, how it is stretched, how bright; kept in the page
address (``?view=``, ``&stretch=``, ``&bright=``) so Save & next and a reload keep them."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from labeller import views
from labeller.errors import InvalidInputError
from labeller.views import Display, View

VIEW_KEY, STRETCH_KEY, BRIGHT_KEY = "view", "stretch", "bright"
"""Session-state keys of the widgets, and the page-address parameters that keep them."""
ADJUST_KEY = "adjust_display"  # the toggle that shows the stretch and brightness
CUSTOM = "custom"
CUSTOM_BANDS = ("custom_red", "custom_green", "custom_blue")
DEFAULT_CUSTOM = ("B12", "B11", "B8A")
BRIGHTNESS = (0.5, 2.5, 0.1)
"""Slider range and step."""


def view_keys(layers: dict) -> list[str]:
    """The views offered for a scene: the fixed list, the cloud layer where the scene has one,
    and a custom triplet."""
    keys = list(views.VIEWS)
    if views.CLOUD_LAYER in layers:
        keys.append(views.CLOUD_VIEW_KEY)
    return [*keys, CUSTOM]


def title(key: str) -> str:
    if key == CUSTOM:
        return "Custom: any three bands"
    if key == views.CLOUD_VIEW_KEY:
        return views.cloud_view().name
    return views.VIEWS[key].name


def restore(band_names: Sequence[str]) -> None:
    """Put the page address's view settings into the widgets (once per browser session)."""
    state, params = st.session_state, st.query_params
    if VIEW_KEY in state:
        return
    view = views.view_of_key(params.get(VIEW_KEY, views.DEFAULT_VIEW), band_names)
    if view.key.startswith(f"{CUSTOM}-"):
        for key, band in zip(CUSTOM_BANDS, view.bands, strict=True):
            state[key] = band
        state[VIEW_KEY] = CUSTOM
    else:
        state[VIEW_KEY] = view.key
    state[STRETCH_KEY] = params.get(STRETCH_KEY) if params.get(STRETCH_KEY) in views.STRETCHES else "auto"
    try:
        bright = float(params.get(BRIGHT_KEY, 1.0))
    except ValueError:
        bright = 1.0
    state[BRIGHT_KEY] = min(max(round(bright, 1), BRIGHTNESS[0]), BRIGHTNESS[1])


def step_view(offered: list[str], by: int) -> None:
    """Next (+1) or previous (-1) view in the list, wrapping around."""
    current = st.session_state.get(VIEW_KEY, views.DEFAULT_VIEW)
    at = offered.index(current) if current in offered else 0
    st.session_state[VIEW_KEY] = offered[(at + by) % len(offered)]


def controls(band_names: Sequence[str], layers: dict) -> Display:
    """Draw the view controls and return what to show. A bad custom triplet falls back to the
    default view, with the reason shown."""
    restore(band_names)
    offered = view_keys(layers)
    if st.session_state.get(VIEW_KEY) not in offered:
        st.session_state[VIEW_KEY] = views.DEFAULT_VIEW
    st.selectbox("View", offered, key=VIEW_KEY, format_func=title)
    st.button("Next view", shortcut="V", on_click=step_view, args=(offered, 1), use_container_width=True)
    st.button(
        "Previous view", shortcut="Shift+V", on_click=step_view, args=(offered, -1), use_container_width=True
    )
    view = chosen_view(band_names)
    if view.kind == "composite":
        stretch_and_brightness()
    elif view.kind in ("index", "layer"):
        show_legend(view)
    if view.note:
        st.caption(view.note)
    display = Display(
        view, st.session_state.get(STRETCH_KEY, "auto"), float(st.session_state.get(BRIGHT_KEY, 1.0))
    )
    keep_in_address(display)
    return display


def stretch_and_brightness() -> None:
    """The stretch and brightness, drawn only when asked for (the toggle's label tells their
    values): every element on the page costs each click a redraw (issue 12)."""
    state = st.session_state  # (Streamlit keeps their values while they are not drawn: tested)
    label = f"Adjust ({state[STRETCH_KEY]} ×{state[BRIGHT_KEY]:.1f})"  # short: fits the column
    if st.toggle(label, key=ADJUST_KEY):
        st.radio(
            "Stretch",
            list(views.STRETCHES),
            key=STRETCH_KEY,
            format_func=views.STRETCHES.get,
            horizontal=True,
        )
        low, high, step = BRIGHTNESS
        st.slider("Brightness", low, high, step=step, key=BRIGHT_KEY)


def chosen_view(band_names: Sequence[str]) -> View:
    key = st.session_state.get(VIEW_KEY, views.DEFAULT_VIEW)
    if key == views.CLOUD_VIEW_KEY:
        return views.cloud_view()
    if key != CUSTOM:
        return views.VIEWS.get(key, views.VIEWS[views.DEFAULT_VIEW])
    red, green, blue = st.columns(3)
    for col, state_key, colour, default in zip(
        (red, green, blue), CUSTOM_BANDS, ("Red", "Green", "Blue"), DEFAULT_CUSTOM, strict=True
    ):
        if st.session_state.get(state_key) not in band_names:
            st.session_state[state_key] = default if default in band_names else band_names[0]
        col.selectbox(colour, list(band_names), key=state_key)
    try:
        return views.custom_view(*(st.session_state[k] for k in CUSTOM_BANDS), band_names)
    except InvalidInputError as error:
        st.error(str(error), icon=":material/warning:")
        return views.VIEWS[views.DEFAULT_VIEW]


def show_legend(view: View) -> None:
    st.image(views.legend(view), width="stretch")
    low, high = ("0", "1") if view.kind == "layer" else ("−1", "+1")
    st.markdown(
        f"<div style='display:flex;justify-content:space-between;font-size:0.8rem;margin-top:-0.8rem'>"
        f"<span>{low}</span><span>{'0.5' if view.kind == 'layer' else '0'}</span><span>{high}</span></div>",
        unsafe_allow_html=True,
    )


def keep_in_address(display: Display) -> None:
    wanted = {VIEW_KEY: display.view.key, STRETCH_KEY: display.stretch, BRIGHT_KEY: f"{display.brightness:g}"}
    defaults = {VIEW_KEY: views.DEFAULT_VIEW, STRETCH_KEY: "auto", BRIGHT_KEY: "1"}
    for key, value in wanted.items():
        if value == defaults[key]:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value
