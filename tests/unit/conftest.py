"""Store fixtures for the unit tests: the same test on a SQLite file and on a fresh
PostgreSQL database (see ``tests/unit/pg.py`` for when that one skips)."""

from __future__ import annotations

from pathlib import Path

import pytest

from labeller.store import Store
from tests.unit import pg


@pytest.fixture
def pg_url():
    yield from pg.fresh_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    """The same tests on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return Store.sqlite_url(tmp_path / "data")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def stores(url: str):
    """A factory of Stores on the test database, closed afterwards."""
    opened: list[Store] = []

    def make() -> Store:
        opened.append(Store(url))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(stores) -> Store:
    return stores()


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = Store(Store.sqlite_url(tmp_path / "data"))
    yield store
    store.close()
