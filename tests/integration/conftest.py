"""Fixtures for the integration tests: a SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import multiprocessing
import sys
import types
from pathlib import Path

import pytest

from labeller.store import Store
from tests.unit import pg

# The labeller processes start from a fork server that has imported these already, so a
# restart takes milliseconds instead of a second of imports. Only forkserver contexts use it.
multiprocessing.set_forkserver_preload(
    ["labeller.store", "tests.integration.test_store_crash", "tests.integration.test_store_concurrency"]
)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    """The same test on a SQLite file and on a fresh PostgreSQL database (skipped, with the
    reason, only where no server can be reached, and never in CI)."""
    if request.param == "sqlite":
        return Store.sqlite_url(tmp_path / "data")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def pg_url():
    yield from pg.fresh_database()


# Sentinel Hub / CDSE sources against the local fake server (tests/fakes).
from tests.fakes.fixtures import fake_sh, make_sh_source, sh_environment  # noqa: E402, F401


@pytest.fixture
def plain_main(monkeypatch):
    """A bare ``__main__`` while child processes start. Streamlit's AppTest leaves its script
    as ``__main__``, and multiprocessing would run that script again in every child."""
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))


# Earth Search (STAC + COGs) against its local fake (tests/fakes).
from tests.fakes.earthsearch_fixtures import es_cogs, fake_es, make_es_source  # noqa: E402, F401
