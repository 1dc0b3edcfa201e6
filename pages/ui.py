"""What the pages share: the store, error display, and thin wrappers around components.

The wrappers are the one place the pages touch third-party components, so AppTest
tests can set their values through session state.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps
from html import escape
from pathlib import Path

import streamlit as st

from labeller.errors import LabellerError
from labeller.settings import Settings
from labeller.sources import ImageSource
from labeller.store import Store

log = logging.getLogger("labeller")
MESSAGE_KEY = "_messages"
UNEXPECTED = (
    "Something went wrong ({kind}). Nothing you saved is lost; try again, and report it if it repeats."
)


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> Store:
    return Store(url)


def run_through_app() -> None:
    """Make sure this page runs inside ``app.py``'s navigation; call first in every page.

    Streamlit 1.67 starts in its legacy mode when a folder named ``pages`` sits beside the
    main script, and stays in it until some run calls ``st.navigation``. A first request
    for ``/label`` or ``/dataset`` after a (re)start would then run the page file alone:
    no page config, no name box, every module of ``pages/`` listed as a page. Here the page
    switches the process out of that mode (what ``st.navigation`` itself does) and runs
    ``app.py`` in its place, in this same run (so no click or widget change is lost), which
    opens this same page (its ``url_path`` is the file's name); then this run ends.
    """
    import runpy

    try:  # Streamlit internals (pinned 1.67): without them there is no legacy mode to leave
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return
    ctx = get_script_run_ctx()
    if not PagesManager.uses_pages_directory or ctx is None:
        return
    PagesManager.uses_pages_directory = False
    runpy.run_path(str(ctx.pages_manager.main_script_path), run_name="__main__")
    st.stop()


def get_store() -> Store:
    """The label store of this process (one engine per URL): ``[connections.labels] url``
    in the secrets, else LABELLER_DATABASE_URL, else a SQLite file in the data folder."""
    settings = app_settings()
    return _store_for(settings.database_url or Store.sqlite_url(settings.data_dir))


_frozen = False


def freeze_startup_objects() -> None:
    """Once per process, after the first run has imported everything: move the objects of
    start-up (modules, classes, functions: ~150 000) out of the garbage collector's sight, so
    a collection during a click's run costs a few ms instead of ~100 (issue 12)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def message_for(error: Exception) -> str:
    """The text a user sees for an error: ours verbatim, anything else without internals."""
    if isinstance(error, LabellerError):
        return str(error)
    log.exception("unexpected error", exc_info=error)
    return UNEXPECTED.format(kind=type(error).__name__)


@contextmanager
def showing_errors(toast: bool = False):
    """Turn any error inside the block into an ``st.error`` on the page, never a traceback.
    ``toast`` also pops it up in the corner, for blocks that may sit below the fold."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the page must never show a traceback
        text = message_for(error)
        st.error(text, icon=":material/warning:")
        if toast:
            st.toast(text, icon=":material/warning:")


def flash(text: str, kind: str = "error") -> None:
    """Queue a message to show on the next run (callbacks cannot draw)."""
    st.session_state.setdefault(MESSAGE_KEY, []).append((kind, text))


def show_flashes(toast: bool = False) -> None:
    """Show the queued messages; ``toast`` also pops errors up in the window's corner, for
    pages where they may sit outside the viewport (the labelling loop)."""
    for kind, text in st.session_state.pop(MESSAGE_KEY, []):
        icon = ":material/warning:" if kind == "error" else ":material/info:"
        getattr(st, kind)(text, icon=icon)
        if toast and kind == "error":
            st.toast(text, icon=icon)


def rerun_here() -> None:
    """Rerun the fragment being run, or the whole page during a full run (where Streamlit
    refuses a fragment-scoped rerun)."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


def scroll_to_top() -> None:
    """Scroll the page to its top (e.g. when the labelling loop replaces the long set-up form,
    whose scroll position would otherwise hide the loop's first messages)."""
    st.html(
        "<script>for (const el of [document.scrollingElement,"
        " document.querySelector('[data-testid=\"stMain\"]'),"
        " document.querySelector('[data-testid=\"stAppViewContainer\"]')])"
        " { if (el) el.scrollTop = 0; }</script>",
        unsafe_allow_javascript=True,
    )


FETCHING = "Fetching this image from the source…"
POLL_S = 0.25


def wait_for_fetch(fetch) -> None:
    """Wait for a fetch (``labeller.prefetch.Fetch``, or None when there is nothing to wait
    for) in this script thread, showing what it waits on: the source's latest wait or retry
    message, read from the fetch's thread-safe status. The worker threads never touch
    Streamlit; each update here also lets a click interrupt the wait."""
    if fetch is None or fetch.wait(0.05):
        return
    shown = st.empty()
    while not fetch.wait(POLL_S):
        text = fetch.status.text or FETCHING
        shown.info(f"{text} ({fetch.status.elapsed:.0f} s)", icon=":material/hourglass:")
    shown.empty()


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
    """An image (a ``labeller.png.Png``) that reports clicks in ``st.session_state[key]``
    (x, y, width, height shown), with a dark frame (``click_queue``).

    It fills its container: put it in one as wide as the image (``st.container(width=...)``),
    which shows it at its natural size, or shrunk to the column when that is narrower.
    """
    from streamlit_image_coordinates import streamlit_image_coordinates

    streamlit_image_coordinates(
        image, key=key, on_click=on_click, png_compression_level=1, width="stretch", cursor="crosshair"
    )


CLICK_QUEUE = Path(__file__).with_name("click_queue.html")
CLOUD_ROW_KEY = "s2_cloud_row"
"""The row of cloud buttons above the image, as high as a button (click_queue.html)."""


def click_queue() -> None:
    """Once per page, for its clickable images: clicks faster than the server answers are queued
    and sent in order (none is lost), the keyboard focus returns to the page after each click,
    and the image gets a dark frame, so an all-white cloudy image does not vanish into the page
    (see click_queue.html). Drawn in the sidebar, where an empty element takes no room."""
    st.sidebar.html(CLICK_QUEUE, unsafe_allow_javascript=True)


CAPTION_STYLE = "color:rgba(49,51,63,0.6);font-size:0.875rem;margin:0"


def click_count(text: str, taken: int, note: str = "") -> None:
    """The line above a clickable image (e.g. "3 pixels selected"), carrying the clicks the
    server has taken so far for the click queue, which waits for that number to go up before
    it sends the next click; ``note``, a caption below it as high as a row of buttons (it
    stands in for the cloud buttons, click_queue.html). One ``st.html`` element: the browser
    draws it as soon as it arrives, where a markdown line waits for the rest of the run, and
    each element sent costs the click a redraw of the page (issue 12)."""
    caption = (
        # as high as the row of buttons and the gap above it (1rem), which Streamlit leaves out
        # with the row when it is empty
        f"<p style='{CAPTION_STYLE};margin-top:1rem;min-height:2.5rem;display:flex;align-items:center'>"
        f"{escape(note)}</p>"
        if note
        else ""
    )
    st.html(f"<p data-s2-clicks='{int(taken)}' style='margin:0'><strong>{escape(text)}</strong></p>{caption}")


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


# --- Settings, storage warning and the labeller's name (issue 5) ----------------------------

EPHEMERAL_WARNING = (
    "Labels are being saved to a SQLite file on this server's disk, and Streamlit Community Cloud "
    "erases that disk whenever the app restarts, sleeps or is redeployed. Download your samples "
    "(Dataset page) before you stop, or set `[connections.labels] url` in the app's Secrets to a "
    "hosted PostgreSQL database (see docs/deploy.md)."
)
LABELLER_PARAM = "labeller"
"""Query parameter that keeps the labeller's name in the page address."""
_LABELLER_STATE, _LABELLER_WIDGET = "_labeller_name", "labeller_name_input"


def secrets_dict() -> dict:
    """``st.secrets`` as a plain dict; empty when there is no secrets file (AppTest, local)."""
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, KeyError) as error:
        if getattr(error, "error_id", None) == "failed-parsing-secrets-file":
            from labeller.errors import StoreError

            raise StoreError(
                "The app's secrets (.streamlit/secrets.toml, or Secrets in the Community Cloud app "
                "settings) are not valid TOML. Fix them and reload the page."
            ) from None
        return {}


def app_settings() -> Settings:
    """Settings from the secrets and the environment (see labeller.settings)."""
    return Settings.resolve(secrets=secrets_dict())


def storage_warning() -> None:
    """Warn on the page when saved labels would not survive a restart of the server."""
    if app_settings().is_ephemeral():
        st.warning(EPHEMERAL_WARNING, icon="⚠️")


def labeller_name(where=None) -> str | None:
    """The name this browser session labels under, from a text box (in the sidebar by
    default) and remembered in the page address (``?labeller=``), so a reload or a
    bookmark keeps it. None when no usable name is given (the reason is shown)."""
    from labeller.errors import InvalidInputError
    from labeller.store import MAX_LABELLER, clean_labeller

    where = st.sidebar if where is None else where
    if _LABELLER_STATE not in st.session_state:
        st.session_state[_LABELLER_STATE] = st.query_params.get(LABELLER_PARAM, "")
    st.session_state[_LABELLER_WIDGET] = st.session_state[_LABELLER_STATE]
    where.text_input(
        "Your name",
        key=_LABELLER_WIDGET,
        max_chars=MAX_LABELLER,
        on_change=_keep_labeller_name,
        placeholder="e.g. Ana",
        help="Stored with every image you save or skip, so a team's labels can be told apart.",
    )
    try:
        name = clean_labeller(st.session_state[_LABELLER_STATE])
    except InvalidInputError as error:
        where.error(str(error), icon="⚠️")
        name = None
    if name:
        if st.query_params.get(LABELLER_PARAM) != name:
            st.query_params[LABELLER_PARAM] = name
    elif LABELLER_PARAM in st.query_params:
        del st.query_params[LABELLER_PARAM]
    return name


def current_labeller() -> str | None:
    """The name typed in the sidebar box (see ``labeller_name``), or None."""
    from labeller.errors import InvalidInputError
    from labeller.store import clean_labeller

    try:
        return clean_labeller(st.session_state.get(_LABELLER_STATE) or "")
    except InvalidInputError:
        return None


def _keep_labeller_name() -> None:
    st.session_state[_LABELLER_STATE] = st.session_state[_LABELLER_WIDGET]


# --- image sources (issue 4) ----------------------------------------------------------------


def scene_cache():
    """The disk cache of fetched scenes, in the data folder, bounded by the settings; one
    per process, shared by all sessions."""
    settings = app_settings()
    return _scene_cache_for(str(settings.scene_cache_dir), settings.scene_cache_mb)


@st.cache_resource(show_spinner=False)
def _scene_cache_for(folder: str, limit_mb: float):
    from labeller.scene_cache import SceneCache

    return SceneCache(Path(folder), limit_mb)


def on_this_thread(show: Callable[..., None]) -> Callable[..., None]:
    """``show``, called only from the thread that made it (the script thread): a message a
    source sends from a worker thread is dropped here rather than calling Streamlit there
    ("missing ScriptRunContext"); such waits reach the page through ``wait_for_fetch``."""
    owner = threading.get_ident()

    def call(*args) -> None:
        if threading.get_ident() == owner:
            show(*args)

    return call


@contextmanager
def reporting(source: ImageSource, show: Callable[[str], None]):
    """Show a source's waits and retries (e.g. "rate limited, retrying in 3 s") that happen
    in this thread while the block runs (see ``on_this_thread``)."""
    with source.reporting(on_this_thread(show)):
        yield


if __name__ == "__main__":  # opened as a page: a stray /ui link on a freshly started server
    run_through_app()
