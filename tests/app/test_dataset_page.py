"""The Dataset page and the shared settings helpers through Streamlit's AppTest, on a real
SQLite store: labeller filter, preview limit, downloads, storage warning, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from labeller.store import Store
from tests.unit.store_builders import AOI, make_acquisition, make_scene, make_spec

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "dataset.py")


def fill(folder: Path, per_labeller: dict[str | None, int]) -> str:
    """A store in ``folder`` with that many samples saved under each name."""
    url = Store.sqlite_url(folder)
    store = Store(url)
    campaign = store.open_campaign(make_spec())
    for i, (name, n) in enumerate(per_labeller.items()):
        scene = make_scene(make_acquisition(f"A{i}"), seed=i)
        scene.valid[:] = True
        pixels = [(k // AOI.cols, k % AOI.cols) for k in range(n)]
        store.save(campaign.id, AOI, scene, pixels, labeller=name)
    store.close()
    return url


@pytest.fixture
def page(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LABELLER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LABELLER_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOSTNAME", "laptop")
    monkeypatch.delenv("LABELLER_EPHEMERAL_DISK", raising=False)
    return AppTest.from_file(PAGE, default_timeout=60)


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "warning", "error", "success")
        for e in at.get(kind)
    ]
    return "\n".join(str(p) for p in parts)


def widget(at: AppTest, kind: str, label: str):
    return next(w for w in at.get(kind) if w.label == label)


def test_labeller_filter_preview_and_downloads(page: AppTest, tmp_path: Path) -> None:
    fill(tmp_path / "data", {"ana": 600, "bo": 450, None: 50})
    page.run()
    assert not page.exception, page.exception
    assert page.metric[0].value == "1,100"
    assert "The 1,000 most recently saved of 1,100 samples" in texts(page)
    labellers = widget(page, "multiselect", "Labellers")
    assert labellers.options == ["ana", "bo", "(no name)"]
    downloads = {b.label: b for b in page.get("download_button")}
    assert set(downloads) == {
        "Download CSV",
        "Download Parquet",
        "Download GeoJSON",
        "Download ML-ready Parquet",
        "Download reviews CSV",
    }
    assert not any(b.proto.disabled for b in downloads.values())

    labellers.set_value(["ana"]).run()
    assert page.metric[0].value == "600"
    assert "most recently saved" not in texts(page)  # all 600 fit in the table
    widget(page, "multiselect", "Labellers").set_value(["bo", None]).run()
    assert page.metric[0].value == "500"


def test_warns_when_labels_would_not_survive_a_restart(page: AppTest, tmp_path: Path, monkeypatch) -> None:
    fill(tmp_path / "data", {"ana": 3})
    page.run()
    assert "erases that disk" not in texts(page)
    monkeypatch.setenv("HOSTNAME", "streamlit")  # as on Streamlit Community Cloud
    page.run()
    assert "erases that disk" in texts(page)
    assert page.metric[0].value == "3"


def test_the_secrets_url_wins_over_the_environment(page: AppTest, tmp_path: Path, monkeypatch) -> None:
    fill(tmp_path / "data", {"ana": 3})
    elsewhere = fill(tmp_path / "elsewhere", {"bo": 7})
    monkeypatch.setenv("LABELLER_DATABASE_URL", Store.sqlite_url(tmp_path / "data"))
    page.secrets["connections"] = {"labels": {"url": elsewhere}}
    page.run()
    assert not page.exception
    assert page.metric[0].value == "7"


def test_an_empty_store_offers_the_import(page: AppTest) -> None:
    page.run()
    assert not page.exception
    assert "No campaigns yet" in texts(page)
    assert len(page.get("file_uploader")) == 1


def _name_script() -> None:
    import streamlit as st

    from pages import ui

    st.markdown(f"name={ui.labeller_name()}")


def test_labeller_name_is_remembered_in_the_address(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    at = AppTest.from_function(_name_script)
    at.query_params["labeller"] = "Ana"
    at.run()
    assert at.markdown[0].value == "name=Ana"  # a reload with ?labeller=Ana keeps the name
    box = at.sidebar.text_input[0]
    assert box.value == "Ana"
    box.set_value("  Bo   Novak ").run()
    assert at.markdown[0].value == "name=Bo Novak"
    assert at.query_params["labeller"] in ("Bo Novak", ["Bo Novak"])
    at.sidebar.text_input[0].set_value("").run()
    assert at.markdown[0].value == "name=None" and "labeller" not in at.query_params


def test_importing_a_parquet_export_through_the_page(page: AppTest, tmp_path: Path) -> None:
    from labeller import export

    other = Store(fill(tmp_path / "other", {"ana": 40, "bo": 5}))
    data = export.to_parquet_bytes(other.sample_batches(), other.campaigns())
    other.close()
    page.run()
    for expected in ("Added 45 new samples; 0 already here", "Added 0 new samples; 45 already"):
        page.get("file_uploader")[0].upload("labels.parquet", data, "application/vnd.apache.parquet").run()
        widget(page, "button", "Import").click().run()
        assert not page.exception
        assert f"Imported labels.parquet: {expected}" in texts(page), texts(page)
        assert page.metric[0].value == "45"
        assert page.get("file_uploader")[-1].value is None  # a fresh uploader after each import
    assert widget(page, "multiselect", "Labellers").options == ["ana", "bo"]
