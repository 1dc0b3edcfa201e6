"""A throwaway PostgreSQL database per test, for the store's tests (unit and integration).

The server is ``LABELLER_TEST_PG_URL`` (default: the local one ``.ci/run`` starts). Where
none can be reached the tests skip and say why, except in CI (``CI`` set to true), where
they fail instead: there the PostgreSQL variants must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("LABELLER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def engine_for(url: str, **kwargs) -> sa.Engine:
    """A plain engine for looking at the database behind the store's back."""
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1), **kwargs)


def unreachable(reason: str) -> None:
    """Skip (or, in CI, fail) because no PostgreSQL server can be reached."""
    shown = sa.make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
    message = f"No PostgreSQL server reachable at {shown} ({reason}); set LABELLER_TEST_PG_URL"
    if in_ci():
        pytest.fail(f"{message}. CI must run the PostgreSQL tests: .ci/run starts the server.")
    pytest.skip(message)


def _admin() -> sa.Engine:
    """An engine on the admin database; the server's own ``postgres`` database stands in
    when the configured one does not exist (a fresh server has no ``test``)."""
    url = PG_ADMIN_URL
    for attempt in range(2):
        admin = engine_for(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return admin
        except sa.exc.OperationalError as exc:
            admin.dispose()
            reason = str(exc.orig).strip().splitlines()[0]
            if attempt == 0 and "does not exist" in reason:
                url = sa.make_url(PG_ADMIN_URL).set(database="postgres").render_as_string(hide_password=False)
                continue
            unreachable(reason)
    raise AssertionError("unreachable")


def fresh_database() -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    admin = _admin()
    name = f"labeller_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield str(sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
