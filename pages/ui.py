"""What the pages share: the store, error display, and thin wrappers around components.

The wrappers are the one place the pages touch third-party components, so AppTest
tests can set their values through session state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps

import streamlit as st

from labeller.errors import LabellerError
from labeller.settings import Settings
from labeller.store import Store

log = logging.getLogger("labeller")
MESSAGE_KEY = "_messages"
UNEXPECTED = "Something went wrong ({kind}). Nothing you saved is lost; try again, and report it if it repeats."


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> Store:
    return Store(url)


def get_store() -> Store:
    """The label store of this process (one engine per URL)."""
    settings = Settings.from_env()
    return _store_for(settings.database_url or Store.sqlite_url(settings.data_dir))


def message_for(error: Exception) -> str:
    """The text a user sees for an error: ours verbatim, anything else without internals."""
    if isinstance(error, LabellerError):
        return str(error)
    log.exception("unexpected error", exc_info=error)
    return UNEXPECTED.format(kind=type(error).__name__)


@contextmanager
def showing_errors():
    """Turn any error inside the block into an ``st.error`` on the page, never a traceback."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the page must never show a traceback
        st.error(message_for(error), icon=":material/warning:")


def flash(text: str, kind: str = "error") -> None:
    """Queue a message to show on the next run (callbacks cannot draw)."""
    st.session_state.setdefault(MESSAGE_KEY, []).append((kind, text))


def show_flashes() -> None:
    for kind, text in st.session_state.pop(MESSAGE_KEY, []):
        getattr(st, kind)(text, icon=":material/warning:" if kind == "error" else ":material/info:")


def callback(func: Callable) -> Callable:
    """Wrap a widget callback so errors become a flashed message, not a traceback."""

    @wraps(func)
    def safe(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as error:  # noqa: BLE001
            flash(message_for(error))

    return safe


def clickable_image(image, key: str, on_click: Callable) -> None:
    """An image that reports clicks in ``st.session_state[key]`` (x, y, width, height shown)."""
    from streamlit_image_coordinates import streamlit_image_coordinates

    streamlit_image_coordinates(
        image, key=key, on_click=on_click, png_compression_level=1, width="content", cursor="crosshair"
    )


def drawing_map(fmap, key: str, feature_group, center, zoom: int) -> None:
    """A folium map whose drawings land in ``st.session_state[key]['all_drawings']``."""
    from streamlit_folium import st_folium

    st_folium(
        fmap,
        key=key,
        height=420,
        use_container_width=True,
        returned_objects=["all_drawings"],
        feature_group_to_add=feature_group,
        center=center,
        zoom=zoom,
    )
