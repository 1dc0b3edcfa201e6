"""The label store: campaigns, per-acquisition reviews and labelled pixel samples.

The only module that talks SQL. SQLAlchemy Core over a URL: a SQLite file by default
(WAL, busy timeout, foreign keys on, writes under ``BEGIN IMMEDIATE``) or PostgreSQL
(writes to one campaign take turns on its row lock; samples arrive by ``COPY``). Every
database error leaves as a ``StoreError`` whose message says what to check and never
shows a password.

Schema versions live in ``meta``; ``MIGRATIONS`` upgrade an older database in place,
inside the same transaction that records the new version, so an upgrade is all or
nothing. Version 2 added the labeller's name to reviews and samples, and a per-campaign
``revision`` counter that ``data_version()`` reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import itertools
import json
import sqlite3
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic as _monotonic
from time import sleep as _sleep
from typing import Any, BinaryIO, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from labeller.aoi import AreaOfInterest
from labeller.bands import ALL_BAND_NAMES, BAND_BY_NAME
from labeller.campaign import CampaignSpec
from labeller.errors import InvalidInputError, LabellerError, StoreError
from labeller.sources.base import Acquisition, Scene

SCHEMA_VERSION = 2
DB_FILENAME = "labels.sqlite"
BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another writer before giving up."""
SAVED, SKIPPED = "saved", "skipped"
MAX_LABELLER = 80
"""Longest labeller name, in characters."""
_WRITE = "labeller_write"
"""Execution option marking a write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
_SCHEMA_LOCK = 0x53325F4C4142454C
"""PostgreSQL advisory lock key held while the schema is created or upgraded."""
BAND_COLUMNS: tuple[str, ...] = tuple(sorted(ALL_BAND_NAMES, key=lambda n: BAND_BY_NAME[n].centre_nm))
CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "campaign_key",
    "campaign_min_lon",
    "campaign_min_lat",
    "campaign_max_lon",
    "campaign_max_lat",
)
"""Added to every sample frame: the campaign's identity, so an export can be imported
elsewhere (campaign ids are local to one database; the key is the same everywhere)."""

T = TypeVar("T")


class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware UTC datetimes in, timezone-aware UTC datetimes out, on any backend.

    SQLite keeps no offset, so values are stored as naive UTC there; PostgreSQL uses
    ``timestamptz`` and may return the session's zone, which is converted back to UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- Schema -------------------------------------------------------------------------------

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

meta_table = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

campaigns_table = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("identity_key", sa.Text, nullable=False, unique=True),
    sa.Column("min_lon", sa.Double, nullable=False),
    sa.Column("min_lat", sa.Double, nullable=False),
    sa.Column("max_lon", sa.Double, nullable=False),
    sa.Column("max_lat", sa.Double, nullable=False),
    sa.Column("epsg", sa.Integer, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("cols", sa.Integer, nullable=False),
    sa.Column("label_value", sa.Double, nullable=False),
    sa.Column("label_name", sa.Text, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("collection", sa.String(64), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("max_cloud", sa.Double, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("draft_selection", sa.Text, nullable=True),
    # v2: bumped by every change to the campaign's reviews or samples (see data_version).
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    # Never reuse a deleted campaign's id: a stale browser tab must not reach a new campaign.
    sqlite_autoincrement=True,
)


def _campaign_fk() -> sa.Column:
    return sa.Column(
        "campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    )


reviews_table = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _campaign_fk(),
    sa.Column("acquisition_id", sa.String(255), nullable=False),
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("cloud_cover", sa.Double, nullable=True),
    sa.Column("tile_id", sa.String(255), nullable=True),
    sa.Column("processing_baseline", sa.String(32), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("n_pixels", sa.Integer, nullable=False),
    sa.Column("reviewed_at", UTCDateTime, nullable=False),
    sa.Column("labeller", sa.Text, nullable=True),  # v2
    sa.UniqueConstraint("campaign_id", "acquisition_id"),
    sa.CheckConstraint(f"status IN ('{SAVED}', '{SKIPPED}')", name="status"),
)

samples_table = sa.Table(
    "samples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _campaign_fk(),
    sa.Column("acquisition_id", sa.String(255), nullable=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("col", sa.Integer, nullable=False),
    sa.Column("lon", sa.Double, nullable=False),
    sa.Column("lat", sa.Double, nullable=False),
    sa.Column("utm_x", sa.Double, nullable=False),
    sa.Column("utm_y", sa.Double, nullable=False),
    sa.Column("epsg", sa.Integer, nullable=False),
    sa.Column("label_value", sa.Double, nullable=False),
    sa.Column("label_name", sa.Text, nullable=False),
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("collection", sa.String(64), nullable=False),
    sa.Column("cloud_cover", sa.Double, nullable=True),
    sa.Column("sun_zenith", sa.Double, nullable=True),
    sa.Column("sun_azimuth", sa.Double, nullable=True),
    sa.Column("tile_id", sa.String(255), nullable=True),
    sa.Column("processing_baseline", sa.String(32), nullable=True),
    sa.Column("harmonised", sa.Boolean, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("labeller", sa.Text, nullable=True),  # v2
    *(sa.Column(name, sa.Double, nullable=True) for name in BAND_COLUMNS),
    sa.UniqueConstraint("campaign_id", "acquisition_id", "row", "col"),
    sa.Index(None, "campaign_id"),
    sa.Index(None, "label_value"),
    sa.Index(None, "labeller"),  # v2
)

SAMPLE_KEY = ("campaign_id", "acquisition_id", "row", "col")
INSERT_COLUMNS: tuple[str, ...] = tuple(c.name for c in samples_table.c if c.name != "id")
"""The sample columns a save or an import writes."""
SAMPLE_ORDER = ("campaign_id", "acquired_at", "acquisition_id", "row", "col")
"""The order of ``Store.samples()``; the streaming readers keep the order of saving."""
USE_ADBC = True
"""Read samples through the ADBC drivers where they are installed (tests switch it off)."""
_SQLITE_ARROW_HELPER = r"""
import json, sys
import pyarrow as pa
import adbc_driver_sqlite.dbapi as driver
request = json.loads(sys.stdin.readline())
try:
    connection = driver.connect(request["path"])
    cursor = connection.cursor()
    cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(request["batch_rows"])})
    cursor.execute(request["sql"])
    reader = cursor.fetch_record_batch()
    with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as out:
        for batch in reader:
            out.write_batch(batch)
    connection.close()
except BrokenPipeError:
    sys.exit(0)
except Exception as exc:
    sys.stderr.write((type(exc).__name__ + ": " + str(exc)).replace("\n", " ") + "\n")
    sys.exit(1)
"""
"""Streams a query's result from a SQLite file as Arrow IPC, in a process of its own."""


def _arrow_type(column: sa.Column) -> pa.DataType:
    if isinstance(column.type, UTCDateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(column.type, sa.Double):
        return pa.float64()
    if isinstance(column.type, sa.Boolean):
        return pa.bool_()
    if isinstance(column.type, sa.Integer):
        return pa.int64()
    return pa.string()


SAMPLE_SCHEMA = pa.schema(
    [pa.field(c.name, _arrow_type(c), nullable=c.nullable) for c in samples_table.c]
    + [pa.field("campaign_key", pa.string())]
    + [pa.field(name, pa.float64()) for name in CAMPAIGN_COLUMNS[1:]]
)
"""Arrow schema of the sample batches: the samples table plus CAMPAIGN_COLUMNS."""


def _migrate_1_to_2(conn: Connection) -> None:
    """Labeller names on reviews and samples; a revision counter per campaign."""
    for table in ("reviews", "samples"):
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN labeller TEXT")
    conn.exec_driver_sql("ALTER TABLE campaigns ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql("CREATE INDEX ix_samples_labeller ON samples (labeller)")


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_1_to_2}
"""``MIGRATIONS[v]`` upgrades a version-``v`` database to version ``v + 1``."""


# --- Returned records and filters -----------------------------------------------------------


@dataclass(frozen=True)
class CampaignRecord:
    """A stored campaign."""

    id: int
    spec: CampaignSpec
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Review:
    """What was decided for one acquisition of a campaign."""

    acquisition_id: str
    acquired_at: datetime
    status: str
    """``saved`` or ``skipped``."""
    n_pixels: int
    reviewed_at: datetime
    labeller: str | None = None
    """Who saved or skipped it, when a name was given."""


@dataclass(frozen=True)
class ImportReport:
    """What ``Store.import_samples`` did."""

    added: int
    """Samples that were new here and were added."""
    duplicates: int
    """Samples already here (or repeated in the input), left as they were."""
    campaigns_created: int
    """Campaigns that did not exist here and were created."""
    reviews_created: int = 0
    """Acquisitions that had no review here and got one."""

    def describe(self) -> str:
        """One sentence for people."""
        parts = [f"Added {self.added:,} new sample{'s' * (self.added != 1)}"]
        parts.append(f"{self.duplicates:,} already here (left unchanged)")
        if self.campaigns_created:
            parts.append(f"created {self.campaigns_created} campaign{'s' * (self.campaigns_created != 1)}")
        return "; ".join(parts) + "."


@dataclass(frozen=True)
class SampleFilter:
    """Which samples to read; a None field keeps all. Hashable, so usable as a cache key."""

    campaign_ids: tuple[int, ...] | None = None
    label_values: tuple[float, ...] | None = None
    start: date | None = None
    """First acquisition day (UTC), inclusive."""
    end: date | None = None
    """Last acquisition day (UTC), inclusive."""
    labellers: tuple[str | None, ...] | None = None
    """Labeller names; None in the tuple means samples saved without a name."""

    @classmethod
    def of(
        cls,
        campaign_ids: Iterable[int] | None = None,
        label_values: Iterable[float] | None = None,
        start: date | None = None,
        end: date | None = None,
        labellers: Iterable[str | None] | None = None,
    ) -> SampleFilter:
        """A filter from loose inputs (lists, numpy numbers)."""
        return cls(
            campaign_ids=None if campaign_ids is None else tuple(int(i) for i in campaign_ids),
            label_values=None if label_values is None else tuple(float(v) for v in label_values),
            start=start,
            end=end,
            labellers=None if labellers is None else tuple(None if n is None else str(n) for n in labellers),
        )

    def conditions(self, dialect_name: str = "") -> list[sa.ColumnElement[bool]]:
        """WHERE conditions; times compare as the dialect stores them, so the conditions
        also compile with literal values (for the Arrow reader)."""
        s = samples_table.c
        out: list[sa.ColumnElement[bool]] = []
        if self.campaign_ids is not None:
            out.append(s.campaign_id.in_(self.campaign_ids))
        if self.label_values is not None:
            out.append(s.label_value.in_(self.label_values))
        if self.start is not None:
            out.append(_time_bound(dialect_name, _day_start(self.start), ">="))
        if self.end is not None:
            out.append(_time_bound(dialect_name, _day_start(self.end + timedelta(days=1)), "<"))
        if self.labellers is not None:
            names = [n for n in self.labellers if n is not None]
            either = [s.labeller.in_(names)]
            if None in self.labellers:
                either.append(s.labeller.is_(None))
            out.append(sa.or_(*either))
        return out

    def review_conditions(self, dialect_name: str = "") -> list[sa.ColumnElement[bool]]:
        """The same filter on reviews joined to campaigns (not by labeller: reviews hold
        the name of whoever saved last, while samples keep each sample's own)."""
        r, c = reviews_table.c, campaigns_table.c
        out: list[sa.ColumnElement[bool]] = []
        if self.campaign_ids is not None:
            out.append(r.campaign_id.in_(self.campaign_ids))
        if self.label_values is not None:
            out.append(c.label_value.in_(self.label_values))
        if self.start is not None:
            out.append(_time_bound(dialect_name, _day_start(self.start), ">=", r.acquired_at))
        if self.end is not None:
            out.append(
                _time_bound(dialect_name, _day_start(self.end + timedelta(days=1)), "<", r.acquired_at)
            )
        return out


def _time_bound(
    dialect_name: str, when: datetime, op: str, column: sa.Column = samples_table.c.acquired_at
) -> sa.ColumnElement[bool]:
    """``acquired_at <op> when`` in the form the dialect stores times."""
    if dialect_name == "sqlite":  # naive UTC text, compared as text like SQLAlchemy does
        return sa.type_coerce(column, sa.Text).op(op)(when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
    if dialect_name == "postgresql":
        bound = sa.cast(sa.literal(when.isoformat(), sa.Text), sa.DateTime(timezone=True))
        return column.op(op)(bound)
    return column.op(op)(when)


def identity_key(spec: CampaignSpec) -> str:
    """A unique text form of ``spec.identity()``: JSON with every number as its float repr."""

    def part(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return repr(float(value) + 0.0)  # + 0.0 folds -0.0 into 0.0
        return value

    return json.dumps([part(v) for v in spec.identity()], ensure_ascii=False)


def campaign_key(key: str) -> str:
    """A short stable id of a campaign's identity, the same in every database."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def clean_labeller(name: str | None) -> str | None:
    """A labeller name with spaces tidied, or None for no name; refuses unusable names."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidInputError(f"The labeller name must be text, got {type(name).__name__}.")
    text = " ".join(name.split())
    if not text:
        return None
    if len(text) > MAX_LABELLER:
        raise InvalidInputError(f"The labeller name is longer than {MAX_LABELLER} characters; shorten it.")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidInputError("The labeller name contains control characters; type a plain name.")
    return text


# --- Engine setup -------------------------------------------------------------------------


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite recipe), then set per-connection pragmas.
    # synchronous stays at its default FULL: a commit is on disk before save() returns.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    # Switching a file to WAL needs it to itself, and SQLite does not wait for that (no
    # busy timeout), so several sessions opening a new or pre-WAL file at once take turns.
    deadline = _monotonic() + BUSY_TIMEOUT_MS / 1000
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or _monotonic() > deadline:
                raise
            _sleep(0.02)
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A write takes the write lock up front, so it waits (busy_timeout) for another
    # writer instead of failing when a read lock cannot be upgraded.
    write = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


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


def _now() -> datetime:
    return datetime.now(UTC)


def _require_utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInputError(f"The {what} {value} has no time zone; the source must give UTC times.")
    return value.astimezone(UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


# --- The store ----------------------------------------------------------------------------


class Store:
    """Campaigns, reviews and samples in one SQL database. Thread-safe; share one per URL."""

    def __init__(self, url: str) -> None:
        try:
            self._url = _with_driver(make_url(url))
        except ArgumentError as exc:
            raise StoreError(
                "The label database URL is not valid. Give e.g. sqlite:////path/labels.sqlite "
                "or postgresql://user@host/database."
            ) from exc
        try:
            self._engine = _create_engine(self._url)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(
                f"No database driver for {self.display_url()}. Use a sqlite:/// or postgresql:// "
                "URL, and install psycopg2-binary for PostgreSQL."
            ) from exc
        self._write_engine = self._engine.execution_options(**{_WRITE: True})
        self._write(self._init_schema)

    @staticmethod
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

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql`` (or another SQLAlchemy backend name)."""
        return self._url.get_backend_name()

    def display_url(self) -> str:
        """The database URL with any password masked; safe to log and show."""
        return self._url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Close pooled connections (the store reconnects if used again)."""
        self._engine.dispose()

    def schema_version(self) -> int:
        with self._read() as conn:
            return int(conn.execute(_version_query()).scalar_one())

    # --- Campaigns ------------------------------------------------------------------------

    def open_campaign(self, spec: CampaignSpec) -> CampaignRecord:
        """The campaign with this spec's identity, created if new; on resume the period,
        notes and cloud limit are updated to the spec's."""
        key, now = identity_key(spec), _now()
        by_key = sa.select(campaigns_table).where(campaigns_table.c.identity_key == key)

        def tx(conn: Connection) -> sa.Row:
            found = conn.execute(by_key).one_or_none()
            resumed = {
                "start_date": spec.start,
                "end_date": spec.end,
                "notes": spec.notes,
                "max_cloud": spec.max_cloud,
                "updated_at": now,
            }
            if found is None:
                conn.execute(sa.insert(campaigns_table).values(**_new_campaign(spec, key, now), **resumed))
            else:
                conn.execute(
                    sa.update(campaigns_table).where(campaigns_table.c.id == found.id).values(**resumed)
                )
            return conn.execute(by_key).one()

        # A concurrent session may insert the same identity first: re-read and resume it.
        return _record(self._write(tx, retries=1))

    def campaign(self, campaign_id: int) -> CampaignRecord | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(campaigns_table).where(campaigns_table.c.id == campaign_id)
            ).one_or_none()
        return None if row is None else _record(row)

    def campaigns(self) -> pd.DataFrame:
        """One row per campaign (oldest first) with n_saved, n_skipped and n_samples."""
        c, r, s = campaigns_table.c, reviews_table.c, samples_table.c
        review_counts = (
            sa.select(
                r.campaign_id,
                sa.func.sum(sa.case((r.status == SAVED, 1), else_=0)).label("n_saved"),
                sa.func.sum(sa.case((r.status == SKIPPED, 1), else_=0)).label("n_skipped"),
            )
            .group_by(r.campaign_id)
            .subquery()
        )
        sample_counts = (
            sa.select(s.campaign_id, sa.func.count().label("n_samples")).group_by(s.campaign_id).subquery()
        )
        hidden = ("identity_key", "draft_selection", "revision")
        shown = [col for col in campaigns_table.c if col.name not in hidden]
        query = (
            sa.select(
                *shown,
                *(
                    sa.func.coalesce(sub.c[name], 0).label(name)
                    for sub, name in (
                        (review_counts, "n_saved"),
                        (review_counts, "n_skipped"),
                        (sample_counts, "n_samples"),
                    )
                ),
            )
            .outerjoin(review_counts, review_counts.c.campaign_id == c.id)
            .outerjoin(sample_counts, sample_counts.c.campaign_id == c.id)
            .order_by(c.id)
        )
        with self._read() as conn:
            frame = _frame(conn.execute(query))
        return _typed(
            frame, campaigns_table, {"n_saved": "int64", "n_skipped": "int64", "n_samples": "int64"}
        )

    def delete_campaign(self, campaign_id: int) -> None:
        """Delete a campaign; its reviews and samples go with it (ON DELETE CASCADE)."""
        self._write(
            lambda conn: conn.execute(sa.delete(campaigns_table).where(campaigns_table.c.id == campaign_id))
        )

    # --- Draft selection ------------------------------------------------------------------

    def set_draft(self, campaign_id: int, pixels: Iterable[tuple[int, int]]) -> None:
        """Keep the unsaved working selection so that a reloaded tab loses nothing."""
        text = json.dumps(sorted([int(r), int(c)] for r, c in set(_pixel_tuples(pixels))))

        def tx(conn: Connection) -> None:
            done = conn.execute(
                sa.update(campaigns_table)
                .where(campaigns_table.c.id == campaign_id)
                .values(draft_selection=text)
            )
            if done.rowcount == 0:
                raise _missing_campaign(campaign_id)

        self._write(tx)

    def draft(self, campaign_id: int) -> set[tuple[int, int]]:
        with self._read() as conn:
            text = conn.execute(
                sa.select(campaigns_table.c.draft_selection).where(campaigns_table.c.id == campaign_id)
            ).scalar()
        return {(r, c) for r, c in json.loads(text)} if text else set()

    # --- Reviews and samples --------------------------------------------------------------

    def reviews(self, campaign_id: int) -> dict[str, Review]:
        """Reviews of a campaign by acquisition id, oldest acquisition first."""
        r = reviews_table.c
        query = (
            sa.select(r.acquisition_id, r.acquired_at, r.status, r.n_pixels, r.reviewed_at, r.labeller)
            .where(r.campaign_id == campaign_id)
            .order_by(r.acquired_at, r.acquisition_id)
        )
        with self._read() as conn:
            return {row.acquisition_id: Review(**row._asdict()) for row in conn.execute(query)}

    def save(
        self,
        campaign_id: int,
        aoi: AreaOfInterest,
        scene: Scene,
        pixels: Iterable[tuple[int, int]],
        labeller: str | None = None,
    ) -> Review:
        """Replace this acquisition's review and samples with the given pixels, in one
        transaction. Pixels not valid in the scene are dropped; the rest get one sample each.
        ``labeller`` (a person's name, optional) is stored with the review and the samples."""
        labeller = clean_labeller(labeller)
        _check_scene(aoi, scene)
        rows, cols = _valid_pixels(aoi, scene, pixels)
        acquisition = scene.acquisition
        review = Review(
            acquisition_id=acquisition.id,
            acquired_at=_require_utc(acquisition.time, "acquisition time"),
            status=SAVED,
            n_pixels=len(rows),
            reviewed_at=_now(),
            labeller=labeller,
        )
        values = _pixel_values(aoi, scene, rows, cols, review)

        def tx(conn: Connection) -> Review:
            campaign = _lock_campaign(conn, campaign_id)
            if tuple(campaign[k] for k in ("min_lon", "min_lat", "max_lon", "max_lat")) != aoi.bbox:
                raise StoreError(
                    f"This scene's area does not match campaign {campaign_id}; reload the campaign "
                    "and select the pixels again."
                )
            _replace_review(conn, campaign_id, acquisition, review)
            if len(values):
                label = {k: campaign[k] for k in ("label_value", "label_name", "source", "collection")}
                _insert_samples(conn, values.assign(campaign_id=campaign_id, **label))
            _touch(conn, campaign_id, review.reviewed_at)
            return review

        # Two sessions saving the same acquisition at once: the loser retries over the winner.
        return self._write(tx, retries=1)

    def skip(self, campaign_id: int, acquisition: Acquisition, labeller: str | None = None) -> Review:
        """Mark an acquisition skipped and delete any samples saved from it."""
        review = Review(
            acquisition_id=acquisition.id,
            acquired_at=_require_utc(acquisition.time, "acquisition time"),
            status=SKIPPED,
            n_pixels=0,
            reviewed_at=_now(),
            labeller=clean_labeller(labeller),
        )

        def tx(conn: Connection) -> Review:
            _lock_campaign(conn, campaign_id)
            _replace_review(conn, campaign_id, acquisition, review)
            _touch(conn, campaign_id, review.reviewed_at)
            return review

        return self._write(tx, retries=1)

    def delete_review(self, campaign_id: int, acquisition_id: str) -> None:
        """Forget an acquisition's review and its samples."""

        def tx(conn: Connection) -> None:
            if _lock_campaign(conn, campaign_id, required=False) is not None:
                _delete_acquisition(conn, campaign_id, acquisition_id)
                _touch(conn, campaign_id, _now())

        self._write(tx)

    def saved_pixels(self, campaign_id: int, acquisition_id: str) -> set[tuple[int, int]]:
        s = samples_table.c
        query = sa.select(s.row, s.col).where(
            s.campaign_id == campaign_id, s.acquisition_id == acquisition_id
        )
        with self._read() as conn:
            return {(row, col) for row, col in conn.execute(query)}

    # --- Reading samples ------------------------------------------------------------------

    def samples(
        self,
        campaign_ids: Iterable[int] | None = None,
        label_values: Iterable[float] | None = None,
        start: date | None = None,
        end: date | None = None,
        labellers: Iterable[str | None] | None = None,
    ) -> pd.DataFrame:
        """Samples, one row each, filtered by campaign, label value, acquisition date (UTC,
        start and end inclusive) and labeller (None in ``labellers``: saved without a name);
        a None filter keeps all. Sorted by campaign, acquisition time, acquisition, row and
        column; ends with the CAMPAIGN_COLUMNS. All in memory: for large datasets use
        ``sample_batches`` or ``sample_chunks``."""
        where = SampleFilter.of(campaign_ids, label_values, start, end, labellers)
        batches = self.sample_batches(where, fast=False)
        frame = arrow_to_frame(pa.Table.from_batches(list(batches), schema=SAMPLE_SCHEMA))
        return frame.sort_values(list(SAMPLE_ORDER), kind="stable", ignore_index=True)

    def sample_batches(
        self,
        where: SampleFilter | None = None,
        batch_rows: int = 65_536,
        newest_first: bool = False,
        limit: int | None = None,
        fast: bool = True,
    ) -> Iterator[pa.RecordBatch]:
        """The samples as Arrow record batches of ``batch_rows`` rows (the last may be
        shorter; at least one, maybe empty) with schema SAMPLE_SCHEMA, in the order they
        were saved (or the reverse), read by one statement, i.e. one consistent snapshot.

        With ``fast`` (and no ``limit``) the ADBC drivers read straight into Arrow, tens of
        times faster than Python rows: PostgreSQL in this process, a SQLite file in a
        helper process (the driver brings its own SQLite library, and two SQLite libraries
        must never open one file in one process). Otherwise, and where the drivers are not
        installed, SQLAlchemy reads."""
        where = where or SampleFilter()
        route = self._fast_route() if fast and limit is None else None
        if route == "sqlite":
            batches = self._sqlite_helper_batches(where, batch_rows, newest_first)
        elif route == "postgresql":
            batches = self._postgresql_adbc_batches(where, newest_first)
        else:
            batches = self._sqlalchemy_batches(where, batch_rows, newest_first, limit)
        yield from _rebatch(batches, batch_rows)

    def sample_chunks(
        self, where: SampleFilter | None = None, chunk_rows: int = 65_536
    ) -> Iterator[pd.DataFrame]:
        """``sample_batches`` as DataFrames with the dtypes of ``samples()``."""
        for batch in self.sample_batches(where, chunk_rows):
            yield arrow_to_frame(batch)

    def sample_preview(self, where: SampleFilter | None = None, limit: int = 1000) -> pd.DataFrame:
        """The ``limit`` most recently saved samples (newest first), columns as ``samples()``."""
        batches = list(self.sample_batches(where, max(int(limit), 1), newest_first=True, limit=int(limit)))
        return arrow_to_frame(pa.Table.from_batches(batches, schema=SAMPLE_SCHEMA))

    def count_samples(self, where: SampleFilter | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(samples_table)
        query = query.where(*(where or SampleFilter()).conditions(self.backend))
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def labellers(self) -> list[str | None]:
        """Distinct labeller names of the samples, sorted; None last if some have no name."""
        query = sa.select(samples_table.c.labeller).distinct()
        with self._read() as conn:
            names = list(conn.execute(query).scalars())
        return sorted(n for n in names if n is not None) + ([None] if None in names else [])

    def band_means(self, where: SampleFilter | None = None, every: int = 1) -> pd.DataFrame:
        """Mean reflectance per label, computed by the database: columns label_value,
        label_name, n_samples and one per band (NaN where a label has no value). With
        ``every`` > 1 only every so many samples (by id, so spread over all saves) count:
        a systematic sample that keeps a chart of a million samples quick."""
        s = samples_table.c
        means = [sa.func.avg(s[name]).label(name) for name in BAND_COLUMNS]
        query = (
            sa.select(s.label_value, s.label_name, sa.func.count().label("n_samples"), *means)
            .where(*(where or SampleFilter()).conditions(self.backend))
            .group_by(s.label_value, s.label_name)
            .order_by(s.label_value, s.label_name)
        )
        if every > 1:
            query = query.where(s.id % int(every) == 0)
        with self._read() as conn:
            frame = _frame(conn.execute(query))
        dtypes = {"label_value": "float64", "label_name": "str", "n_samples": "int64"}
        return frame.astype({**dtypes, **{name: "float64" for name in BAND_COLUMNS}})

    def sample_points(self, where: SampleFilter | None = None, limit: int = 5000) -> pd.DataFrame:
        """Up to ``limit`` distinct (lon, lat, label) of the most recent samples, for a map."""
        s = samples_table.c
        query = (
            sa.select(s.lon, s.lat, s.label_value, s.label_name)
            .where(*(where or SampleFilter()).conditions(self.backend))
            .order_by(s.id.desc())
            .limit(int(limit) * 4)
        )
        with self._read() as conn:
            frame = _frame(conn.execute(query))
        frame = frame.astype(
            {"lon": "float64", "lat": "float64", "label_value": "float64", "label_name": "str"}
        )
        return frame.drop_duplicates(ignore_index=True).head(int(limit))

    def counts(self, where: SampleFilter | None = None) -> pd.DataFrame:
        """Samples per campaign, label and acquisition date (UTC): columns campaign_id,
        label_value, label_name, date, n_acquisitions, n_samples.

        Without a labeller filter the reviews answer (each saved review's n_pixels is its
        sample count: saves and imports keep it so), which is quick at any size."""
        where = where or SampleFilter()
        if where.labellers is None:
            r, c = reviews_table.c, campaigns_table.c
            query = (
                sa.select(
                    r.campaign_id,
                    r.acquisition_id,
                    c.label_value,
                    c.label_name,
                    r.acquired_at,
                    r.n_pixels.label("n_samples"),
                )
                .join(campaigns_table, c.id == r.campaign_id)
                .where(r.status == SAVED, r.n_pixels > 0, *where.review_conditions(self.backend))
            )
        else:
            s = samples_table.c
            keys = (s.campaign_id, s.acquisition_id)
            query = (
                sa.select(
                    *keys,
                    sa.func.min(s.label_value).label("label_value"),
                    sa.func.min(s.label_name).label("label_name"),
                    sa.func.min(s.acquired_at).label("acquired_at"),
                    sa.func.count().label("n_samples"),
                )
                .where(*where.conditions(self.backend))
                .group_by(*keys)
            )
        with self._read() as conn:
            frame = _frame(conn.execute(query))
        frame = _typed(frame, samples_table, {"n_samples": "int64"})
        frame["acquired_at"] = _utc_times(frame["acquired_at"])
        frame["date"] = frame["acquired_at"].dt.date
        groups = ["campaign_id", "label_value", "label_name", "date"]
        out = frame.groupby(groups, sort=True, as_index=False).agg(
            n_acquisitions=("acquisition_id", "nunique"), n_samples=("n_samples", "sum")
        )
        return out.astype({"n_acquisitions": "int64", "n_samples": "int64"})

    def data_version(self) -> str:
        """Changes whenever any sample or review changes: a cache key for derived data.

        Every write to a campaign's reviews or samples bumps its revision; deleting a
        campaign lowers the count, and ids are never reused, so no two states share one.
        """
        c = campaigns_table.c
        query = sa.select(sa.func.count(), sa.func.max(c.id), sa.func.coalesce(sa.func.sum(c.revision), 0))
        with self._read() as conn:
            count, top, revisions = conn.execute(query).one()
        return f"{count}:{top or 0}:{revisions}"

    # --- Arrow readers -------------------------------------------------------------------

    def _fast_route(self) -> str | None:
        """``sqlite`` or ``postgresql`` when an ADBC driver can read this database, else None."""
        backend, database = self.backend, self._url.database
        if not USE_ADBC:
            return None
        if backend == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
            # Found, never imported here: see sample_batches.
            return "sqlite" if importlib.util.find_spec("adbc_driver_sqlite") is not None else None
        if backend == "postgresql":
            return "postgresql" if importlib.util.find_spec("adbc_driver_postgresql") is not None else None
        return None

    def _adbc_sql(self, where: SampleFilter, newest_first: bool) -> str:
        query = sa.select(*_arrow_columns(self.backend)).where(*where.conditions(self.backend))
        query = query.order_by(samples_table.c.id.desc() if newest_first else samples_table.c.id)
        return str(query.compile(dialect=self._engine.dialect, compile_kwargs={"literal_binds": True}))

    def _sqlite_helper_batches(
        self, where: SampleFilter, batch_rows: int, newest_first: bool
    ) -> Iterator[pa.RecordBatch]:
        with self._read() as conn:
            lookup = _campaign_lookup(conn)
        request = {
            "path": self._url.database,
            "sql": self._adbc_sql(where, newest_first),
            "batch_rows": batch_rows,
        }
        helper = subprocess.Popen(
            [sys.executable, "-c", _SQLITE_ARROW_HELPER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            helper.stdin.write(json.dumps(request).encode() + b"\n")
            helper.stdin.close()
            try:
                for batch in pa.ipc.open_stream(helper.stdout):
                    batch, lookup = self._finish_batch(batch, "sqlite", lookup)
                    yield batch
            except pa.ArrowInvalid:
                pass  # no stream: the helper failed; its message follows
            if helper.wait() != 0:
                reason = helper.stderr.read().decode(errors="replace").strip().splitlines() or ["it stopped"]
                raise StoreError(self._message("read", reason[-1]))
        finally:
            if helper.poll() is None:
                helper.kill()
                helper.wait()
            for stream in (helper.stdout, helper.stderr):
                stream.close()

    def _postgresql_adbc_batches(self, where: SampleFilter, newest_first: bool) -> Iterator[pa.RecordBatch]:
        import adbc_driver_manager
        import adbc_driver_postgresql.dbapi as driver

        with self._read() as conn:
            lookup = _campaign_lookup(conn)
        uri = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            connection = driver.connect(uri)
            try:
                cursor = connection.cursor()
                cursor.execute(self._adbc_sql(where, newest_first))
                for batch in cursor.fetch_record_batch():
                    batch, lookup = self._finish_batch(batch, "postgresql", lookup)
                    yield batch
                cursor.close()
            finally:
                connection.close()
        except adbc_driver_manager.Error as exc:
            raise StoreError(self._message("read", str(exc))) from exc

    def _sqlalchemy_batches(
        self, where: SampleFilter, batch_rows: int, newest_first: bool, limit: int | None
    ) -> Iterator[pa.RecordBatch]:
        query = _samples_query(self.backend, where)
        query = query.order_by(samples_table.c.id.desc() if newest_first else samples_table.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            lookup = _campaign_lookup(conn)
            result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(query)
            keys = list(result.keys())
            for part in result.partitions(batch_rows):
                frame = _sample_frame(conn, part, keys, lookup)
                yield pa.RecordBatch.from_pandas(frame, schema=SAMPLE_SCHEMA, preserve_index=False)

    def _finish_batch(
        self, batch: pa.RecordBatch, backend: str, lookup: pd.DataFrame
    ) -> tuple[pa.RecordBatch, pd.DataFrame]:
        """An ADBC batch in SAMPLE_SCHEMA: SQLite's sentinels back to nulls, times parsed,
        the campaign columns added."""
        if batch.num_rows == 0:
            return _empty_batch(), lookup
        arrays = []
        for field in SAMPLE_SCHEMA:
            if field.name in CAMPAIGN_COLUMNS:
                continue
            column = batch.column(field.name)
            if backend == "sqlite":
                column = _from_sqlite(column, field, samples_table.c[field.name].nullable)
            arrays.append(column.cast(field.type))
        ids = pd.Series(batch.column("campaign_id").to_numpy(zero_copy_only=False), dtype="int64")
        missing = set(ids.unique()) - set(lookup.index)
        if missing:  # a campaign created after the lookup was read
            with self._read() as conn:
                lookup = pd.concat([lookup, _campaign_lookup(conn, missing)])
        found = lookup.reindex(ids.to_numpy())
        for name in CAMPAIGN_COLUMNS:
            values = found[name].to_numpy()
            arrays.append(pa.array(values, type=SAMPLE_SCHEMA.field(name).type, from_pandas=True))
        return pa.RecordBatch.from_arrays(arrays, schema=SAMPLE_SCHEMA), lookup

    # --- Import ---------------------------------------------------------------------------

    def import_samples(
        self, data: pd.DataFrame | bytes | BinaryIO, campaigns: Mapping[str, Mapping] | None = None
    ) -> ImportReport:
        """Merge samples exported elsewhere (a frame like ``samples()``, or the bytes of a
        Parquet export) into this database, in one transaction.

        Campaigns are matched by identity (area, label, source, collection) and created
        when missing; acquisitions without a review here get one. A sample whose campaign,
        acquisition, row and column are already here is a duplicate and is left as it is.
        ``campaigns`` (by campaign key) gives new campaigns their period and notes; a
        Parquet export carries it in its metadata.
        """
        from labeller import export  # the file format lives there; export never imports store

        if not isinstance(data, pd.DataFrame):
            data, meta = export.read_parquet_export(data)
            campaigns = campaigns or meta.get("campaigns_by_key", {})
        frame = _import_frame(data)
        groups = _import_groups(frame, campaigns or {})
        now = _now()

        def tx(conn: Connection) -> ImportReport:
            added = created = new_reviews = 0
            for spec, rows in groups:
                campaign, is_new = _campaign_for_import(conn, spec, now)
                created += is_new
                _check_grid(spec.aoi, rows, campaign["id"])
                before = _count_campaign_samples(conn, campaign["id"])
                label = {k: campaign[k] for k in ("label_value", "label_name", "source", "collection")}
                _insert_samples(
                    conn, rows.assign(campaign_id=campaign["id"], **label), ignore_duplicates=True
                )
                added += _count_campaign_samples(conn, campaign["id"]) - before
                new_reviews += _reviews_for_import(conn, campaign["id"], rows, now)
                _touch(conn, campaign["id"], now)
            return ImportReport(
                added=added,
                duplicates=len(data) - added,
                campaigns_created=created,
                reviews_created=new_reviews,
            )

        # A campaign created concurrently by another session: retry, matching it this time.
        return self._write(tx, retries=1)

    # --- Transactions and errors ----------------------------------------------------------

    def _init_schema(self, conn: Connection) -> None:
        """Create a new database, or upgrade an older one in place, in this transaction."""
        if conn.dialect.name == "postgresql":
            # Two processes opening a fresh or old database at once: one creates or
            # upgrades, the other waits and then finds the current version.
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
        inspector = sa.inspect(conn)
        found = conn.execute(_version_query()).scalar() if inspector.has_table("meta") else None
        if found is None:
            if inspector.has_table("samples"):
                raise StoreError(
                    f"The database at {self.display_url()} has a samples table but no schema version; "
                    "it was not made by this app. Use an empty database or another data folder."
                )
            metadata.create_all(conn)
            conn.execute(sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION)))
            return
        try:
            version = int(found)
        except ValueError:
            version = -1
        if version > SCHEMA_VERSION or version < min(MIGRATIONS, default=SCHEMA_VERSION):
            raise StoreError(
                f"The label database at {self.display_url()} has schema version {found}, but this "
                f"app reads versions up to {SCHEMA_VERSION}. Update the app (pip install -r "
                "requirements.txt) or use another data folder or database."
            )
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](conn)
        if version != SCHEMA_VERSION:
            conn.execute(
                sa.update(meta_table)
                .where(meta_table.c.key == "schema_version")
                .values(value=str(SCHEMA_VERSION))
            )

    def _write(self, work: Callable[[Connection], T], retries: int = 0) -> T:
        """Run ``work`` in one write transaction; retry on IntegrityError ``retries`` times."""
        with self._errors("write to"):
            for attempt in itertools.count():
                try:
                    with self._write_engine.begin() as conn:
                        return work(conn)
                except IntegrityError:
                    if attempt >= retries:
                        raise

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._errors("read"), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate database errors into a StoreError a user can act on."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreError(self._error_message(action, exc)) from exc

    def _error_message(self, action: str, exc: SQLAlchemyError) -> str:
        original = exc.orig if isinstance(exc, DBAPIError) else exc
        return self._message(action, str(original).strip() or type(original).__name__)

    def _message(self, action: str, text: str) -> str:
        lines = text.strip().splitlines() or ["unknown error"]
        reason = lines[0].strip().rstrip(".")[:200]
        if self._url.password:
            reason = reason.replace(str(self._url.password), "***")
        if self._url.get_backend_name() == "sqlite":
            hint = (
                "Check the data folder exists and is writable, the disk is not full and no other "
                "program holds the file, then try again."
            )
        else:
            hint = "Check the database server is running and reachable and the URL and user are right."
        return f"Could not {action} the label database at {self.display_url()}: {reason}. {hint}"


# --- Helpers: campaigns and reviews -------------------------------------------------------


def _version_query() -> sa.Select:
    return sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")


def _new_campaign(spec: CampaignSpec, key: str, now: datetime) -> dict[str, Any]:
    aoi = spec.aoi
    return {
        "identity_key": key,
        "min_lon": float(aoi.min_lon),
        "min_lat": float(aoi.min_lat),
        "max_lon": float(aoi.max_lon),
        "max_lat": float(aoi.max_lat),
        "epsg": aoi.epsg,
        "rows": aoi.rows,
        "cols": aoi.cols,
        "label_value": spec.label_value,
        "label_name": spec.label_name,
        "source": spec.source,
        "collection": spec.collection,
        "created_at": now,
    }


def _record(row: sa.Row) -> CampaignRecord:
    aoi = AreaOfInterest(row.min_lon, row.min_lat, row.max_lon, row.max_lat)
    spec = CampaignSpec(
        aoi=aoi,
        label_value=row.label_value,
        label_name=row.label_name,
        notes=row.notes,
        source=row.source,
        collection=row.collection,
        start=row.start_date,
        end=row.end_date,
        max_cloud=row.max_cloud,
    )
    return CampaignRecord(id=row.id, spec=spec, created_at=row.created_at, updated_at=row.updated_at)


def _missing_campaign(campaign_id: int) -> StoreError:
    return StoreError(
        f"Campaign {campaign_id} no longer exists (it may have been deleted in another tab). "
        "Reload the page and open the campaign again."
    )


def _lock_campaign(conn: Connection, campaign_id: int, required: bool = True) -> sa.RowMapping | None:
    """The campaign's row, locked until commit so that writes to one campaign take turns.

    PostgreSQL needs this: under READ COMMITTED two saves of one acquisition could
    otherwise interleave their deletes and inserts and leave a mix of both. SQLite's
    ``BEGIN IMMEDIATE`` already serialises all writes (and ignores FOR UPDATE).
    """
    query = sa.select(campaigns_table).where(campaigns_table.c.id == campaign_id).with_for_update()
    row = conn.execute(query).mappings().one_or_none()
    if row is None and required:
        raise _missing_campaign(campaign_id)
    return row


def _touch(conn: Connection, campaign_id: int, when: datetime) -> None:
    """Record a change to the campaign's reviews or samples (see ``Store.data_version``)."""
    c = campaigns_table.c
    conn.execute(
        sa.update(campaigns_table).where(c.id == campaign_id).values(updated_at=when, revision=c.revision + 1)
    )


def _delete_acquisition(conn: Connection, campaign_id: int, acquisition_id: str) -> None:
    for table in (samples_table, reviews_table):
        conn.execute(
            sa.delete(table).where(
                table.c.campaign_id == campaign_id, table.c.acquisition_id == acquisition_id
            )
        )


def _replace_review(conn: Connection, campaign_id: int, acquisition: Acquisition, review: Review) -> None:
    """Delete the acquisition's samples and review, then insert ``review``."""
    _delete_acquisition(conn, campaign_id, acquisition.id)
    conn.execute(
        sa.insert(reviews_table).values(
            campaign_id=campaign_id,
            acquisition_id=acquisition.id,
            acquired_at=review.acquired_at,
            cloud_cover=acquisition.cloud_cover,
            tile_id=acquisition.tile_id,
            processing_baseline=acquisition.processing_baseline,
            status=review.status,
            n_pixels=review.n_pixels,
            reviewed_at=review.reviewed_at,
            labeller=review.labeller,
        )
    )


# --- Helpers: saving ----------------------------------------------------------------------


def _pixel_tuples(pixels: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    for pixel in pixels:
        row, col = pixel
        yield int(row), int(col)


def _check_scene(aoi: AreaOfInterest, scene: Scene) -> None:
    """Refuse a scene that is not on the AOI's grid or carries unknown bands."""
    expected = (*aoi.shape, len(scene.band_names))
    if scene.bands.shape != expected or scene.valid.shape != aoi.shape:
        raise StoreError(
            f"The scene's arrays {scene.bands.shape} do not match the area's grid {expected}; "
            "reload the scene and try again."
        )
    unknown = [name for name in scene.band_names if name not in BAND_BY_NAME]
    if unknown or len(set(scene.band_names)) != len(scene.band_names):
        raise StoreError(f"The scene has unknown or repeated bands {scene.band_names}; it cannot be saved.")


def _valid_pixels(aoi: AreaOfInterest, scene: Scene, pixels) -> tuple[np.ndarray, np.ndarray]:
    """Sorted rows and cols of the distinct pixels that are valid in the scene."""
    chosen = sorted(set(_pixel_tuples(pixels)))
    n_rows, n_cols = aoi.shape
    outside = [(r, c) for r, c in chosen if not (0 <= r < n_rows and 0 <= c < n_cols)]
    if outside:
        raise InvalidInputError(
            f"Pixel {outside[0]} lies outside this area's {n_rows} × {n_cols} grid; "
            "clear the selection and select the pixels again."
        )
    coords = np.array(chosen, dtype=np.int64).reshape(-1, 2)
    rows, cols = coords[:, 0], coords[:, 1]
    keep = np.asarray(scene.valid, dtype=bool)[rows, cols]
    return rows[keep], cols[keep]


def _pixel_values(
    aoi: AreaOfInterest, scene: Scene, rows: np.ndarray, cols: np.ndarray, review: Review
) -> pd.DataFrame:
    """One row per pixel: every sample column except the campaign's id and label fields."""
    n = len(rows)
    lon, lat = aoi.pixel_to_lonlat(rows, cols)
    utm_x, utm_y = aoi.pixel_to_utm(rows, cols)
    # float32 -> float64 is exact, so reading back and casting to float32 restores every bit.
    spectra = scene.spectra(rows, cols).astype(np.float64).reshape(n, len(scene.band_names))
    acquisition = scene.acquisition
    columns: dict[str, Any] = {
        "acquisition_id": acquisition.id,
        "row": rows.astype(np.int64),
        "col": cols.astype(np.int64),
        "lon": np.asarray(lon, dtype=np.float64).reshape(n),
        "lat": np.asarray(lat, dtype=np.float64).reshape(n),
        "utm_x": np.asarray(utm_x, dtype=np.float64).reshape(n),
        "utm_y": np.asarray(utm_y, dtype=np.float64).reshape(n),
        "epsg": aoi.epsg,
        "acquired_at": review.acquired_at,
        "cloud_cover": acquisition.cloud_cover,
        "sun_zenith": float(scene.sun_zenith),
        "sun_azimuth": float(scene.sun_azimuth),
        "tile_id": acquisition.tile_id,
        "processing_baseline": acquisition.processing_baseline,
        "harmonised": scene.harmonised,
        "created_at": review.reviewed_at,
        "labeller": review.labeller,
    }
    index = {name: i for i, name in enumerate(scene.band_names)}
    for name in BAND_COLUMNS:
        columns[name] = spectra[:, index[name]] if name in index else np.full(n, np.nan)
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def _insert_samples(conn: Connection, frame: pd.DataFrame, ignore_duplicates: bool = False) -> None:
    """Insert the frame's rows (INSERT_COLUMNS) fast: one executemany on SQLite, COPY on
    PostgreSQL. With ``ignore_duplicates`` a row whose unique key exists is skipped."""
    if frame.empty:
        return
    frame = frame.loc[:, list(INSERT_COLUMNS)]
    dialect = conn.dialect
    if dialect.name == "postgresql":
        _copy_samples(conn, frame, ignore_duplicates)
        return
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in INSERT_COLUMNS)
    key = ", ".join(quote(name) for name in SAMPLE_KEY)
    if dialect.paramstyle == "qmark":
        marks = ", ".join("?" for _ in INSERT_COLUMNS)
        conflict = f" ON CONFLICT ({key}) DO NOTHING" if ignore_duplicates else ""
        statement = f"INSERT INTO samples ({names}) VALUES ({marks}){conflict}"
        conn.exec_driver_sql(statement, _driver_rows(frame, dialect))
        return
    # Any other backend: plain SQLAlchemy, skipping keys that exist when asked to.
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    if ignore_duplicates:
        s = samples_table.c
        campaign_ids = {int(r["campaign_id"]) for r in records}
        existing = {
            tuple(k)
            for k in conn.execute(
                sa.select(*(s[k] for k in SAMPLE_KEY)).where(s.campaign_id.in_(campaign_ids))
            )
        }
        records = [r for r in records if tuple(r[k] for k in SAMPLE_KEY) not in existing]
    if records:
        conn.execute(sa.insert(samples_table), records)


def _driver_rows(frame: pd.DataFrame, dialect) -> list[tuple]:
    """Rows of DBAPI values: times through the column type's own bind processor, missing
    values as None (SQLite stores NaN as NULL too)."""
    columns = []
    for name in INSERT_COLUMNS:
        series = frame[name]
        column_type = samples_table.c[name].type
        if isinstance(column_type, UTCDateTime):
            processor = column_type.dialect_impl(dialect).bind_processor(dialect)
            times = _utc_times(series)
            distinct = {t: (processor(t.to_pydatetime()) if processor else t) for t in times.unique()}
            columns.append(times.map(distinct).tolist())
        elif isinstance(column_type, sa.Double) and series.dtype == np.float64:
            columns.append(series.tolist())
        else:
            columns.append(series.astype(object).where(series.notna(), None).tolist())
    return list(zip(*columns, strict=True))


def _copy_samples(conn: Connection, frame: pd.DataFrame, ignore_duplicates: bool) -> None:
    """PostgreSQL: stream the rows through COPY, in binary when every column has one
    layout for all rows (a save: one acquisition, no missing values in a column), else as
    CSV. Either is tens of times faster than INSERT; NaN is stored as NULL, as on SQLite."""
    frame = frame.copy()
    for name in INSERT_COLUMNS:
        if isinstance(samples_table.c[name].type, UTCDateTime):
            frame[name] = _utc_times(frame[name])
    payload = _pg_binary_rows(frame)
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in INSERT_COLUMNS)
    target = "samples"
    if ignore_duplicates:
        target = "samples_import"
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {target} (LIKE samples INCLUDING DEFAULTS) ON COMMIT DROP"
        )
    if payload is None:
        payload, form = _csv_rows(frame), "csv"
    else:
        form = "binary"
    statement = f"COPY {target} ({names}) FROM STDIN WITH (FORMAT {form})"
    dbapi_connection = conn.connection.dbapi_connection
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.copy_expert(statement, io.BytesIO(payload))
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    if ignore_duplicates:
        key = ", ".join(quote(name) for name in SAMPLE_KEY)
        conn.exec_driver_sql(
            f"INSERT INTO samples ({names}) SELECT {names} FROM {target} ORDER BY id "
            f"ON CONFLICT ({key}) DO NOTHING"
        )
        conn.exec_driver_sql(f"TRUNCATE {target}")


def _csv_rows(frame: pd.DataFrame) -> bytes:
    """COPY CSV: every present value quoted, missing ones left empty (PostgreSQL reads an
    empty unquoted field as NULL and "" as empty text); floats in shortest round-trip form."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame, preserve_index=False)  # NaN becomes null
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return buffer.getvalue()


_PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01T00:00:00Z in microseconds since 1970: PostgreSQL's binary time origin."""


def _pg_binary_rows(frame: pd.DataFrame) -> bytes | None:
    """COPY BINARY rows built with numpy, or None when some column mixes missing and
    present values or varies in text (then CSV does)."""
    n = len(frame)
    fields: list[tuple[str, str]] = [("count", ">i2")]
    values: dict[str, Any] = {"count": len(INSERT_COLUMNS)}
    for i, name in enumerate(INSERT_COLUMNS):
        series = frame[name]
        column_type = samples_table.c[name].type
        missing = series.isna().to_numpy()
        length, value = f"l{i}", f"v{i}"
        fields.append((length, ">i4"))
        if missing.all():
            values[length] = -1
            continue
        if missing.any():
            return None
        if isinstance(column_type, UTCDateTime):
            micros = series.to_numpy(dtype="datetime64[us]").astype(np.int64) - _PG_EPOCH_US
            fields.append((value, ">i8"))
            values[length], values[value] = 8, micros
        elif isinstance(column_type, sa.Double):
            fields.append((value, ">f8"))
            values[length], values[value] = 8, series.to_numpy(dtype=np.float64)
        elif isinstance(column_type, sa.Boolean):
            fields.append((value, "u1"))
            values[length], values[value] = 1, series.to_numpy(dtype=bool).astype(np.uint8)
        elif isinstance(column_type, sa.Integer):
            fields.append((value, ">i4"))
            values[length], values[value] = 4, series.to_numpy(dtype=np.int64)
        else:
            distinct = series.unique()
            if len(distinct) != 1:
                return None
            text = str(distinct[0]).encode("utf-8")
            values[length] = len(text)
            if text:
                fields.append((value, f"S{len(text)}"))
                values[value] = text
    rows = np.empty(n, dtype=np.dtype(fields))
    for name, value in values.items():
        rows[name] = value
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return header + rows.tobytes() + (-1).to_bytes(2, "big", signed=True)


# --- Helpers: reading ---------------------------------------------------------------------


def _samples_query(dialect_name: str, where: SampleFilter) -> sa.Select:
    """All sample columns; times as UTC text, which pandas parses far faster than the driver."""
    columns = []
    for column in samples_table.c:
        if isinstance(column.type, UTCDateTime) and dialect_name == "sqlite":
            columns.append(sa.type_coerce(column, sa.Text).label(column.name))
        elif isinstance(column.type, UTCDateTime) and dialect_name == "postgresql":
            utc = sa.func.timezone("UTC", column)
            columns.append(sa.cast(utc, sa.Text).label(column.name))
        else:
            columns.append(column)
    return sa.select(*columns).where(*where.conditions())


def _arrow_columns(backend: str) -> list[sa.ColumnElement]:
    """The sample columns for an ADBC reader. The SQLite driver guesses each column's type
    from its first values, so missing values come as sentinels it cannot mistake: +inf
    for numbers, "\\0" for text, 2 for a flag; ``_from_sqlite`` turns them back into nulls."""
    if backend != "sqlite":
        return list(samples_table.c)
    columns: list[sa.ColumnElement] = []
    for column in samples_table.c:
        if isinstance(column.type, UTCDateTime):  # naive UTC text -> microseconds since 1970
            text = sa.type_coerce(column, sa.Text)
            seconds = sa.cast(sa.func.strftime("%s", text), sa.Integer)
            fraction = sa.func.substr(sa.func.substr(text, 21).concat("000000"), 1, 6)
            columns.append((seconds * 1_000_000 + sa.cast(fraction, sa.Integer)).label(column.name))
        elif not column.nullable:
            columns.append(column)
        elif isinstance(column.type, sa.Double):
            columns.append(sa.func.ifnull(column, sa.literal_column("9e999")).label(column.name))
        elif isinstance(column.type, sa.Boolean):
            columns.append(sa.func.ifnull(column, sa.literal_column("2")).label(column.name))
        else:
            columns.append(sa.func.ifnull(column, sa.func.char(0)).label(column.name))
    return columns


def _from_sqlite(column: pa.Array, field: pa.Field, nullable: bool) -> pa.Array:
    if pa.types.is_timestamp(field.type):  # microseconds since 1970, UTC
        return column.cast(pa.int64()).cast(field.type)
    if not nullable:
        return column
    if pa.types.is_floating(field.type):
        column = column.cast(pa.float64())
        return pc.if_else(pc.equal(column, float("inf")), pa.scalar(None, pa.float64()), column)
    if pa.types.is_boolean(field.type):
        return pc.if_else(pc.equal(column, 2), pa.scalar(None, column.type), column).cast(pa.bool_())
    column = column.cast(pa.string())
    return pc.if_else(pc.equal(column, "\0"), pa.scalar(None, pa.string()), column)


def _empty_batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=SAMPLE_SCHEMA)


def _rebatch(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """The same rows in batches of exactly ``rows`` (the last shorter); at least one."""
    pending: list[pa.RecordBatch] = []
    count, sent = 0, False
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending, schema=SAMPLE_SCHEMA).combine_chunks()
            yield table.slice(0, rows).to_batches()[0] if rows else _empty_batch()
            rest = table.slice(rows)
            pending, count, sent = rest.to_batches(), rest.num_rows, True
    if count or not sent:
        table = pa.Table.from_batches(pending, schema=SAMPLE_SCHEMA).combine_chunks()
        batches_out = table.to_batches()
        yield batches_out[0] if batches_out else _empty_batch()


_PANDAS_TYPES = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan), pa.bool_(): pd.BooleanDtype()}


def arrow_to_frame(data: pa.RecordBatch | pa.Table) -> pd.DataFrame:
    """Sample batches as a DataFrame with the dtypes ``samples()`` has always had."""
    frame = data.to_pandas(types_mapper=_PANDAS_TYPES.get)
    for field in SAMPLE_SCHEMA:
        if pa.types.is_timestamp(field.type):
            frame[field.name] = frame[field.name].dt.as_unit("us")
    return frame


def _campaign_lookup(conn: Connection, ids: Iterable[int] | None = None) -> pd.DataFrame:
    """CAMPAIGN_COLUMNS by campaign id."""
    c = campaigns_table.c
    query = sa.select(c.id, c.identity_key, c.min_lon, c.min_lat, c.max_lon, c.max_lat)
    if ids is not None:
        query = query.where(c.id.in_([int(i) for i in ids]))
    rows = conn.execute(query).all()
    columns = {"campaign_key": pd.array([campaign_key(r.identity_key) for r in rows], dtype="str")}
    for name in ("min_lon", "min_lat", "max_lon", "max_lat"):
        columns[f"campaign_{name}"] = np.array([getattr(r, name) for r in rows], dtype=np.float64)
    return pd.DataFrame(columns, index=pd.Index([r.id for r in rows], dtype="int64"))


def _sample_frame(conn: Connection, rows: list, keys: list[str], lookup: pd.DataFrame) -> pd.DataFrame:
    frame = _typed(pd.DataFrame.from_records(rows, columns=keys), samples_table)
    missing = set(frame["campaign_id"].unique()) - set(lookup.index)
    if missing:  # a campaign created after the lookup was read (READ COMMITTED)
        lookup = pd.concat([lookup, _campaign_lookup(conn, missing)])
    found = lookup.reindex(frame["campaign_id"].to_numpy())
    for name in CAMPAIGN_COLUMNS:
        frame[name] = found[name].to_numpy()
    return frame.astype({"campaign_key": "str"})


def _utc_times(series: pd.Series) -> pd.Series:
    """Timezone-aware UTC microsecond times from datetimes or ISO 8601 text."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        out = series.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(series.dtype):
        out = series.dt.tz_localize("UTC")
    elif len(series) and isinstance(series.iloc[0], str):
        out = pd.to_datetime(series, format="ISO8601", utc=True)
    else:
        out = pd.to_datetime(series, utc=True)
    return out.dt.as_unit("us")


def _frame(result: sa.CursorResult) -> pd.DataFrame:
    return pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))


def _typed(frame: pd.DataFrame, table: sa.Table, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """Give the frame's columns stable dtypes from the table's types (also when empty)."""
    dtypes = dict(extra or {})
    for column in table.c:
        if column.name not in frame.columns or column.name in dtypes:
            continue
        if isinstance(column.type, UTCDateTime):
            frame[column.name] = _utc_times(frame[column.name])
        elif isinstance(column.type, sa.Double):
            dtypes[column.name] = "float64"
        elif isinstance(column.type, sa.Boolean):
            dtypes[column.name] = "boolean"
        elif isinstance(column.type, sa.Integer):
            dtypes[column.name] = "Int64" if column.nullable else "int64"
        elif isinstance(column.type, sa.String | sa.Text):
            dtypes[column.name] = "str"
    return frame.astype(dtypes)


# --- Helpers: import ----------------------------------------------------------------------

_IDENTITY_COLUMNS = (
    "campaign_min_lon",
    "campaign_min_lat",
    "campaign_max_lon",
    "campaign_max_lat",
    "label_value",
    "label_name",
    "source",
    "collection",
)
_REQUIRED_FOR_IMPORT = (
    *_IDENTITY_COLUMNS,
    "acquisition_id",
    "acquired_at",
    "row",
    "col",
    "lon",
    "lat",
    "utm_x",
    "utm_y",
    "epsg",
)
_IMPORT_TEXT = ("tile_id", "processing_baseline", "labeller")
_IMPORT_FLOATS = ("lon", "lat", "utm_x", "utm_y", "cloud_cover", "sun_zenith", "sun_azimuth", *BAND_COLUMNS)
_GRID_TOLERANCE_M = 1e-3


def _import_frame(data: pd.DataFrame) -> pd.DataFrame:
    """The rows to import with checked, stable dtypes, repeated keys dropped."""
    missing = [name for name in _REQUIRED_FOR_IMPORT if name not in data.columns]
    if missing:
        raise InvalidInputError(
            f"The file to import lacks the columns {', '.join(missing)}. Import a Parquet file that "
            "this app exported (Dataset page, Download Parquet)."
        )
    frame = pd.DataFrame(index=pd.RangeIndex(len(data)))
    try:
        for name in (
            "campaign_min_lon",
            "campaign_min_lat",
            "campaign_max_lon",
            "campaign_max_lat",
            "label_value",
            *_IMPORT_FLOATS,
        ):
            values = pd.Series(data[name].to_numpy() if name in data.columns else np.nan, index=frame.index)
            frame[name] = pd.to_numeric(values, errors="raise").astype("float64")
        for name in ("row", "col", "epsg"):
            values = pd.to_numeric(data[name], errors="raise")
            if values.isna().any() or (values != np.floor(values)).any():
                raise ValueError(f"{name} must hold whole numbers")
            frame[name] = values.to_numpy(dtype=np.int64)
        for name in ("acquired_at", "created_at"):
            if name in data.columns:
                frame[name] = _utc_times(pd.Series(data[name].to_numpy(), index=frame.index))
        if "created_at" not in frame.columns or frame["created_at"].isna().any():
            frame["created_at"] = frame.get("created_at", pd.Series(pd.NaT, index=frame.index)).fillna(
                pd.Timestamp(_now())
            )
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"The file to import has values of the wrong kind ({str(exc)[:120]}); import a file "
            "exported by this app, unchanged."
        ) from exc
    for name in ("acquisition_id", "source", "collection"):
        frame[name] = data[name].astype("str")
    frame["label_name"] = data["label_name"].fillna("").astype("str")
    for name in _IMPORT_TEXT:
        values = data[name].to_numpy() if name in data.columns else None
        frame[name] = pd.Series(values, index=frame.index, dtype="object").astype("str")
    names = frame["labeller"].dropna().unique()
    frame["labeller"] = frame["labeller"].map({n: clean_labeller(n) for n in names}).astype("str")
    harmonised = data["harmonised"] if "harmonised" in data.columns else pd.Series(pd.NA, index=frame.index)
    frame["harmonised"] = harmonised.astype("boolean")
    required = frame[list(_REQUIRED_FOR_IMPORT)]
    if required.isna().any().any():
        empty = required.columns[required.isna().any()].tolist()
        raise InvalidInputError(
            f"The file to import has empty values in {', '.join(empty)}, which every sample needs. "
            "Import a file exported by this app, unchanged."
        )
    key = [*_IDENTITY_COLUMNS, "acquisition_id", "row", "col"]
    return frame.drop_duplicates(subset=key, keep="first", ignore_index=True)


def _import_groups(
    frame: pd.DataFrame, campaigns: Mapping[str, Mapping]
) -> list[tuple[CampaignSpec, pd.DataFrame]]:
    """The rows of each campaign with the campaign's spec (period and notes from
    ``campaigns`` by key where given, else the span of the acquisitions)."""
    out = []
    for identity, rows in frame.groupby(list(_IDENTITY_COLUMNS), sort=True, dropna=False):
        min_lon, min_lat, max_lon, max_lat, label_value, label_name, source, collection = identity
        where = (
            f"the samples with box ({min_lon:g}, {min_lat:g}, {max_lon:g}, {max_lat:g}) and label "
            f"{label_value:g}"
        )
        days = rows["acquired_at"].dt.date
        try:
            spec = CampaignSpec(
                aoi=AreaOfInterest(min_lon, min_lat, max_lon, max_lat),
                label_value=label_value,
                label_name=label_name,
                notes="",
                source=source,
                collection=collection,
                start=days.min(),
                end=min(days.max(), date.today()),
            )
        except LabellerError as exc:
            raise InvalidInputError(f"Cannot import {where}: {exc}") from exc
        meta = campaigns.get(campaign_key(identity_key(spec))) or {}
        # Metadata that does not fit leaves the period of the samples themselves.
        with contextlib.suppress(LabellerError, ValueError, TypeError):
            spec = CampaignSpec(
                aoi=spec.aoi,
                label_value=spec.label_value,
                label_name=spec.label_name,
                notes=str(meta.get("notes") or ""),
                source=spec.source,
                collection=spec.collection,
                start=date.fromisoformat(meta["start_date"]) if meta.get("start_date") else spec.start,
                end=date.fromisoformat(meta["end_date"]) if meta.get("end_date") else spec.end,
                max_cloud=None if meta.get("max_cloud") is None else float(meta["max_cloud"]),
            )
        out.append((spec, rows))
    return out


def _campaign_for_import(conn: Connection, spec: CampaignSpec, now: datetime) -> tuple[sa.RowMapping, bool]:
    """The campaign with the spec's identity, locked; created (second value True) if missing."""
    key = identity_key(spec)
    query = sa.select(campaigns_table).where(campaigns_table.c.identity_key == key).with_for_update()
    found = conn.execute(query).mappings().one_or_none()
    if found is not None:
        return found, False
    values = {
        **_new_campaign(spec, key, now),
        "start_date": spec.start,
        "end_date": spec.end,
        "notes": spec.notes,
        "max_cloud": spec.max_cloud,
        "updated_at": now,
    }
    conn.execute(sa.insert(campaigns_table).values(**values))
    return conn.execute(query).mappings().one(), True


def _check_grid(aoi: AreaOfInterest, rows: pd.DataFrame, campaign_id: int) -> None:
    """Refuse samples whose row/col and coordinates are not on the campaign's grid."""
    r, c = rows["row"].to_numpy(), rows["col"].to_numpy()
    n_rows, n_cols = aoi.shape
    x, y = aoi.pixel_to_utm(r, c)
    off = (
        (r < 0)
        | (r >= n_rows)
        | (c < 0)
        | (c >= n_cols)
        | (rows["epsg"].to_numpy() != aoi.epsg)
        | (np.abs(rows["utm_x"].to_numpy() - x) > _GRID_TOLERANCE_M)
        | (np.abs(rows["utm_y"].to_numpy() - y) > _GRID_TOLERANCE_M)
    )
    if off.any():
        raise InvalidInputError(
            f"{int(off.sum())} samples for campaign {campaign_id} do not lie on its 10 m grid (their "
            "row, column and UTM coordinates disagree); the file may have been edited. Nothing was "
            "imported."
        )


def _count_campaign_samples(conn: Connection, campaign_id: int) -> int:
    query = sa.select(sa.func.count()).select_from(samples_table)
    return int(conn.execute(query.where(samples_table.c.campaign_id == campaign_id)).scalar_one())


def _reviews_for_import(conn: Connection, campaign_id: int, rows: pd.DataFrame, now: datetime) -> int:
    """Give each imported acquisition a saved review whose n_pixels is its sample count;
    returns how many reviews were created."""
    r, s = reviews_table.c, samples_table.c
    counts: dict[str, int] = {}
    reviewed: dict[str, str] = {}
    ids = rows["acquisition_id"].unique().tolist()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        counted = conn.execute(
            sa.select(s.acquisition_id, sa.func.count())
            .where(s.campaign_id == campaign_id, s.acquisition_id.in_(part))
            .group_by(s.acquisition_id)
        )
        counts.update((acquisition_id, n) for acquisition_id, n in counted)
        statuses = conn.execute(
            sa.select(r.acquisition_id, r.status).where(
                r.campaign_id == campaign_id, r.acquisition_id.in_(part)
            )
        )
        reviewed.update((acquisition_id, status) for acquisition_id, status in statuses)
    new = []
    for acquisition_id, group in rows.groupby("acquisition_id", sort=False):
        n = counts.get(acquisition_id, 0)
        if acquisition_id in reviewed:
            conn.execute(
                sa.update(reviews_table)
                .where(r.campaign_id == campaign_id, r.acquisition_id == acquisition_id)
                .values(n_pixels=n, status=SAVED if n else reviewed[acquisition_id])
            )
            continue
        first = group.iloc[0]
        names = group["labeller"].unique()
        new.append(
            {
                "campaign_id": campaign_id,
                "acquisition_id": acquisition_id,
                "acquired_at": first["acquired_at"].to_pydatetime(),
                "cloud_cover": None if pd.isna(first["cloud_cover"]) else float(first["cloud_cover"]),
                "tile_id": None if pd.isna(first["tile_id"]) else str(first["tile_id"]),
                "processing_baseline": (
                    None if pd.isna(first["processing_baseline"]) else str(first["processing_baseline"])
                ),
                "status": SAVED,
                "n_pixels": n,
                "reviewed_at": group["created_at"].max().to_pydatetime(),
                "labeller": str(names[0]) if len(names) == 1 and not pd.isna(names[0]) else None,
            }
        )
    if new:
        conn.execute(sa.insert(reviews_table), new)
    return len(new)
