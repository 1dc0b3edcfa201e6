"""The connection to the label database: URL, engine, transactions and error messages.

A SQLite file runs in WAL mode with a busy timeout and foreign keys on, and every write
takes the write lock up front (``BEGIN IMMEDIATE``). Every database error leaves as a
``StoreError`` whose message says what to check and never shows a password.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from time import monotonic, sleep
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from labeller.errors import StoreError

DB_FILENAME = "labels.sqlite"
BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another writer before giving up."""
_WRITE = "labeller_write"
"""Execution option marking a write transaction (``BEGIN IMMEDIATE`` on SQLite)."""

T = TypeVar("T")


def sqlite_url(folder: Path) -> str:
    """``sqlite:///<folder>/labels.sqlite`` with an absolute path, creating the folder."""
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Could not create the data folder {folder}: {exc.strerror or exc}. "
            "Choose a folder you can write to."
        ) from exc
    return f"sqlite:///{(folder.resolve() / DB_FILENAME).as_posix()}"


class Database:
    """One database URL: its engine, read and write transactions, and error messages."""

    def __init__(self, url: str) -> None:
        try:
            self.url = _with_driver(make_url(url))
        except ArgumentError as exc:
            raise StoreError(
                "The label database URL is not valid. Give e.g. sqlite:////path/labels.sqlite "
                "or postgresql://user@host/database."
            ) from exc
        try:
            self.engine = _create_engine(self.url)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(
                f"No database driver for {self.display_url()}. Use a sqlite:/// or postgresql:// "
                "URL, and install psycopg2-binary for PostgreSQL."
            ) from exc
        self._write_engine = self.engine.execution_options(**{_WRITE: True})

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def write(self, work: Callable[[Connection], T], retries: int = 0) -> T:
        """Run ``work`` in one write transaction; retry on IntegrityError ``retries`` times."""
        with self.errors("write to"):
            for attempt in itertools.count():
                try:
                    with self._write_engine.begin() as conn:
                        return work(conn)
                except IntegrityError:
                    if attempt >= retries:
                        raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.errors("read"), self.engine.connect() as conn:
            yield conn

    def fetch(self, query: Callable[..., T], *args: Any) -> T:
        """``query(connection, *args)`` on a read connection."""
        with self.read() as conn:
            return query(conn, *args)

    @contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Translate database errors into a StoreError a user can act on."""
        try:
            yield
        except SQLAlchemyError as exc:
            original = exc.orig if isinstance(exc, DBAPIError) else exc
            raise StoreError(self.message(action, str(original).strip() or type(original).__name__)) from exc

    def message(self, action: str, text: str) -> str:
        """``Could not <action> the label database at <url>: <reason>. <what to check>``"""
        lines = text.strip().splitlines() or ["unknown error"]
        reason = lines[0].strip().rstrip(".")[:200]
        if self.url.password:
            reason = reason.replace(str(self.url.password), "***")
        if self.backend == "sqlite":
            hint = (
                "Check the data folder exists and is writable, the disk is not full and no other "
                "program holds the file, then try again."
            )
        else:
            hint = "Check the database server is running and reachable and the URL and user are right."
        return f"Could not {action} the label database at {self.display_url()}: {reason}. {hint}"


def _with_driver(url: URL) -> URL:
    """Plain ``postgresql://`` means psycopg2 (the pinned driver); SQLAlchemy 2.1 would pick psycopg 3."""
    return url.set(drivername="postgresql+psycopg2") if url.drivername == "postgresql" else url


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite recipe), then set per-connection pragmas.
    # synchronous stays at its default FULL: a commit is on disk before save() returns.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    # Switching a file to WAL needs it to itself, and SQLite does not wait for that (no
    # busy timeout), so several sessions opening a new or pre-WAL file at once take turns.
    deadline = monotonic() + BUSY_TIMEOUT_MS / 1000
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or monotonic() > deadline:
                raise
            sleep(0.02)
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A write takes the write lock up front, so it waits (busy_timeout) for another
    # writer instead of failing when a read lock cannot be upgraded.
    write = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
