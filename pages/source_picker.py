"""Choosing the image source, its collection and (for Sentinel Hub and CDSE) credentials.

Typed credentials live in this browser session's state only: never in the URL, a file,
a log or the dataset.
"""

from __future__ import annotations

import os

import streamlit as st

from labeller.bands import COLLECTIONS
from labeller.credentials import Credentials, how_to_configure, resolve_credentials
from labeller.sources import (
    DEMO,
    ConnectionResult,
    ImageSource,
    collections_of,
    make_source,
    source_needs_credentials,
    source_titles,
    spec_of,
)
from pages import ui

TYPED = "typed_credentials"
"""Session state: service key → Credentials typed on the page."""
CHECKED = "connection_checked"
"""Session state: source key → ConnectionResult of its last check (keyless online sources)."""


def credentials_for(key: str) -> tuple[Credentials | None, str]:
    typed = st.session_state.get(TYPED, {}).get(key)
    return resolve_credentials(key, ui.secrets_dict(), os.environ, typed)


def default_source() -> str:
    """The first service with credentials configured, else the demo."""
    configured = [k for k in source_titles() if source_needs_credentials(k) and credentials_for(k)[0]]
    return configured[0] if configured else DEMO


def source_inputs() -> None:
    """Source selector, collection and credentials, drawn in the current column."""
    titles = source_titles()
    if st.session_state.get("source") is None:
        st.session_state["source"] = default_source()
    key = st.selectbox("Source", options=list(titles), format_func=titles.get, key="source")
    spec = spec_of(key)
    options = collections_of(key)
    if st.session_state.get("collection") not in options:
        st.session_state["collection"] = options[0]
    if len(options) > 1:
        st.radio("Collection", options, format_func=lambda c: COLLECTIONS[c].title, key="collection")
    if not spec.needs_credentials:
        st.caption(spec.about)
        if spec.online:
            connection_check(key)
        return
    credentials, origin = credentials_for(key)
    if credentials is None:
        st.warning(f"No credentials for {titles[key]}. {how_to_configure(key)}", icon=":material/key:")
    else:
        st.caption(f"Credentials: client {credentials.client_id[:6]}… from {origin}.")
    with st.expander("Use other credentials (this browser session only)", expanded=credentials is None):
        st.text_input("Client id", key=f"{key}_client_id")
        st.text_input("Client secret", type="password", key=f"{key}_client_secret")
        st.button("Use these credentials", key=f"{key}_use", on_click=use_typed_credentials, args=(key,))
    if st.button("Test connection", key=f"{key}_test", disabled=credentials is None):
        with ui.showing_errors(toast=True), st.spinner("Connecting…"):
            show_connection(chosen_source().test_connection())


def connection_check(key: str) -> None:
    """For a keyless online source: check the connection once when it is picked (again on
    Test connection), so that a machine without internet says so before Start."""
    checked = st.session_state.setdefault(CHECKED, {})
    pressed = st.button("Test connection", key=f"{key}_test")
    if pressed or key not in checked:
        with ui.showing_errors(), st.spinner("Connecting…"):
            checked[key] = chosen_source().test_connection()
    result = checked.get(key)
    if result is not None and (pressed or result.status != "ok"):
        show_connection(result)


def show_connection(result: ConnectionResult) -> None:
    show = {"ok": st.success, "rejected": st.error, "unreachable": st.warning}[result.status]
    label = {"ok": "OK", "rejected": "Credentials rejected", "unreachable": "Server unreachable"}
    text = f"{label[result.status]}: {result.message}"
    show(text)
    # Also in the window's corner: the result below the button may sit below the fold.
    icon = {"ok": ":material/check_circle:", "rejected": ":material/key_off:"}
    st.toast(text, icon=icon.get(result.status, ":material/cloud_off:"))


def use_typed_credentials(key: str) -> None:
    """Keep the typed credentials for this browser session, and empty the secret's field so
    the secret no longer sits in the page (the client id stays, as a reminder)."""
    state = st.session_state
    client_id, secret = state.get(f"{key}_client_id", ""), state.get(f"{key}_client_secret", "")
    kept = state.get(TYPED, {}).get(key)
    if not secret and kept is not None and kept.client_id == client_id:
        return  # pressed again after the field was emptied: keep the stored secret
    state.setdefault(TYPED, {})[key] = Credentials(client_id, secret)
    state[f"{key}_client_secret"] = ""


def chosen_source() -> ImageSource:
    """The source the set-up form describes, ready to use."""
    key = st.session_state["source"]
    return source_for(key, st.session_state.get("collection"))


def source_for(key: str, collection: str | None) -> ImageSource:
    """A source by key and collection, with this session's credentials where needed."""
    if not source_needs_credentials(key):
        return make_source(key, collection)
    credentials, origin = credentials_for(key)
    return make_source(key, collection, credentials, origin=origin)


if __name__ == "__main__":  # opened as a page: a stray /source_picker link on a fresh server
    ui.run_through_app()
