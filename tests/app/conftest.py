"""AppTest fixtures: the real app script, a real SQLite file, and the two click/map
components replaced by stand-ins that report what a user would have done."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


class FakeImage:
    """Stands in for streamlit_image_coordinates: records each image, replays queued clicks."""

    def __init__(self) -> None:
        self.clicks: list[tuple[float, float, int, int]] = []
        self.shown = []

    def click_pixel(
        self, row: int, col: int, rows: int, cols: int, width: int = 640, height: int = 480
    ) -> None:
        self.clicks.append(((col + 0.5) * width / cols, (row + 0.5) * height / rows, width, height))

    def __call__(self, image, key=None, on_click=None, **_):
        self.shown.append(image)
        while self.clicks:
            x, y, w, h = self.clicks.pop(0)
            st.session_state[key] = {"x": x, "y": y, "width": w, "height": h, "unix_time": 0}
            on_click()


@pytest.fixture
def fake_image():
    fake = FakeImage()
    with mock.patch("streamlit_image_coordinates.streamlit_image_coordinates", fake):
        yield fake


@pytest.fixture
def app(tmp_path, monkeypatch, fake_image):
    """The real app (st.navigation and all) on a fresh data folder."""
    monkeypatch.setenv("LABELLER_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(ROOT)
    with mock.patch("streamlit_folium.st_folium", lambda *a, **k: None):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        at.secrets["tests"] = {"isolated": True}  # non-empty: the developer's secrets files are not read
        at.run()
        yield at
