"""The label store: campaigns, per-acquisition reviews and labelled pixel samples.

The only module that talks SQL. SQLAlchemy Core over a URL: a SQLite file by default
(WAL, busy timeout, foreign keys on, writes under ``BEGIN IMMEDIATE``), PostgreSQL
unchanged. Every database error leaves as a ``StoreError`` whose message says what to
check and never shows a password.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from labeller.aoi import AreaOfInterest
from labeller.bands import ALL_BAND_NAMES, BAND_BY_NAME
from labeller.campaign import CampaignSpec
from labeller.errors import InvalidInputError, StoreError
from labeller.sources.base import Acquisition, Scene

SCHEMA_VERSION = 1
DB_FILENAME = "labels.sqlite"
BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for another writer before giving up."""
SAVED, SKIPPED = "saved", "skipped"
_WRITE = "labeller_write"
"""Execution option marking a write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
BAND_COLUMNS: tuple[str, ...] = tuple(sorted(ALL_BAND_NAMES, key=lambda n: BAND_BY_NAME[n].centre_nm))

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
    *(sa.Column(name, sa.Double, nullable=True) for name in BAND_COLUMNS),
    sa.UniqueConstraint("campaign_id", "acquisition_id", "row", "col"),
    sa.Index(None, "campaign_id"),
    sa.Index(None, "label_value"),
)


# --- Returned records ---------------------------------------------------------------------


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


def identity_key(spec: CampaignSpec) -> str:
    """A unique text form of ``spec.identity()``: JSON with every number as its float repr."""

    def part(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return repr(float(value) + 0.0)  # + 0.0 folds -0.0 into 0.0
        return value

    return json.dumps([part(v) for v in spec.identity()], ensure_ascii=False)


# --- Engine setup -------------------------------------------------------------------------


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite recipe), then set per-connection pragmas.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
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

    def display_url(self) -> str:
        """The database URL with any password masked; safe to log and show."""
        return self._url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Close pooled connections (the store reconnects if used again)."""
        self._engine.dispose()

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
        shown = [col for col in campaigns_table.c if col.name not in ("identity_key", "draft_selection")]
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
            sa.select(r.acquisition_id, r.acquired_at, r.status, r.n_pixels, r.reviewed_at)
            .where(r.campaign_id == campaign_id)
            .order_by(r.acquired_at, r.acquisition_id)
        )
        with self._read() as conn:
            return {row.acquisition_id: Review(**row._asdict()) for row in conn.execute(query)}

    def save(
        self, campaign_id: int, aoi: AreaOfInterest, scene: Scene, pixels: Iterable[tuple[int, int]]
    ) -> Review:
        """Replace this acquisition's review and samples with the given pixels, in one
        transaction. Pixels not valid in the scene are dropped; the rest get one sample each."""
        _check_scene(aoi, scene)
        rows, cols = _valid_pixels(aoi, scene, pixels)
        acquisition = scene.acquisition
        review = Review(
            acquisition_id=acquisition.id,
            acquired_at=_require_utc(acquisition.time, "acquisition time"),
            status=SAVED,
            n_pixels=len(rows),
            reviewed_at=_now(),
        )
        pixel_values = _pixel_values(aoi, scene, rows, cols, review)

        def tx(conn: Connection) -> Review:
            campaign = _lock_campaign(conn, campaign_id)
            if tuple(campaign[k] for k in ("min_lon", "min_lat", "max_lon", "max_lat")) != aoi.bbox:
                raise StoreError(
                    f"This scene's area does not match campaign {campaign_id}; reload the campaign "
                    "and select the pixels again."
                )
            _replace_review(conn, campaign_id, acquisition, review)
            if pixel_values:
                label = {k: campaign[k] for k in ("label_value", "label_name", "source", "collection")}
                common = {"campaign_id": campaign_id, **label}
                conn.execute(sa.insert(samples_table), [{**common, **v} for v in pixel_values])
            _touch(conn, campaign_id, review.reviewed_at)
            return review

        # Two sessions saving the same acquisition at once: the loser retries over the winner.
        return self._write(tx, retries=1)

    def skip(self, campaign_id: int, acquisition: Acquisition) -> Review:
        """Mark an acquisition skipped and delete any samples saved from it."""
        review = Review(
            acquisition_id=acquisition.id,
            acquired_at=_require_utc(acquisition.time, "acquisition time"),
            status=SKIPPED,
            n_pixels=0,
            reviewed_at=_now(),
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

        self._write(tx)

    def saved_pixels(self, campaign_id: int, acquisition_id: str) -> set[tuple[int, int]]:
        s = samples_table.c
        query = sa.select(s.row, s.col).where(
            s.campaign_id == campaign_id, s.acquisition_id == acquisition_id
        )
        with self._read() as conn:
            return {(row, col) for row, col in conn.execute(query)}

    def samples(
        self,
        campaign_ids: Iterable[int] | None = None,
        label_values: Iterable[float] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pd.DataFrame:
        """Samples, one row each, filtered by campaign, label value and acquisition date
        (UTC, start and end inclusive); a None filter keeps all."""
        s = samples_table.c
        query = sa.select(samples_table).order_by(
            s.campaign_id, s.acquired_at, s.acquisition_id, s.row, s.col
        )
        if campaign_ids is not None:
            query = query.where(s.campaign_id.in_([int(i) for i in campaign_ids]))
        if label_values is not None:
            query = query.where(s.label_value.in_([float(v) for v in label_values]))
        if start is not None:
            query = query.where(s.acquired_at >= _day_start(start))
        if end is not None:
            query = query.where(s.acquired_at < _day_start(end + timedelta(days=1)))
        with self._read() as conn:
            frame = _frame(conn.execute(query))
        return _typed(frame, samples_table)

    def counts(self) -> pd.DataFrame:
        """Samples per campaign, label and acquisition date (UTC): columns campaign_id,
        label_value, label_name, date, n_acquisitions, n_samples."""
        s = samples_table.c
        keys = (s.campaign_id, s.label_value, s.label_name, s.acquisition_id, s.acquired_at)
        query = sa.select(*keys, sa.func.count().label("n_samples")).group_by(*keys)
        with self._read() as conn:
            frame = _typed(_frame(conn.execute(query)), samples_table, {"n_samples": "int64"})
        frame["date"] = frame["acquired_at"].dt.date
        groups = ["campaign_id", "label_value", "label_name", "date"]
        out = frame.groupby(groups, sort=True, as_index=False).agg(
            n_acquisitions=("acquisition_id", "nunique"), n_samples=("n_samples", "sum")
        )
        return out.astype({"n_acquisitions": "int64", "n_samples": "int64"})

    # --- Transactions and errors ----------------------------------------------------------

    def _init_schema(self, conn: Connection) -> None:
        metadata.create_all(conn)
        key = meta_table.c.key == "schema_version"
        found = conn.execute(sa.select(meta_table.c.value).where(key)).scalar()
        if found is None:
            conn.execute(sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION)))
        elif found != str(SCHEMA_VERSION):
            raise StoreError(
                f"The label database at {self.display_url()} has schema version {found}, but this "
                f"app uses version {SCHEMA_VERSION}. Use a matching app version or another data folder."
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
        lines = str(original).strip().splitlines() or [type(original).__name__]
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


# --- Helpers ------------------------------------------------------------------------------


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
    conn.execute(
        sa.update(campaigns_table).where(campaigns_table.c.id == campaign_id).values(updated_at=when)
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
        )
    )


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
) -> list[dict[str, Any]]:
    """Per-pixel sample columns except the campaign's label fields."""
    if len(rows) == 0:
        return []
    lon, lat = aoi.pixel_to_lonlat(rows, cols)
    utm_x, utm_y = aoi.pixel_to_utm(rows, cols)
    # float32 -> float64 is exact, so reading back and casting to float32 restores every bit.
    spectra = scene.spectra(rows, cols).astype(np.float64)
    bands = {name: spectra[:, i].tolist() for i, name in enumerate(scene.band_names)}
    acquisition = scene.acquisition
    common = {
        "acquisition_id": acquisition.id,
        "epsg": aoi.epsg,
        "acquired_at": review.acquired_at,
        "cloud_cover": acquisition.cloud_cover,
        "sun_zenith": float(scene.sun_zenith),
        "sun_azimuth": float(scene.sun_azimuth),
        "tile_id": acquisition.tile_id,
        "processing_baseline": acquisition.processing_baseline,
        "harmonised": scene.harmonised,
        "created_at": review.reviewed_at,
    }
    columns = {
        "row": rows.tolist(),
        "col": cols.tolist(),
        "lon": np.asarray(lon, dtype=float).tolist(),
        "lat": np.asarray(lat, dtype=float).tolist(),
        "utm_x": np.asarray(utm_x, dtype=float).tolist(),
        "utm_y": np.asarray(utm_y, dtype=float).tolist(),
        **{name: bands.get(name, [None] * len(rows)) for name in BAND_COLUMNS},
    }
    return [{**common, **{k: v[i] for k, v in columns.items()}} for i in range(len(rows))]


def _frame(result: sa.CursorResult) -> pd.DataFrame:
    return pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))


def _typed(frame: pd.DataFrame, table: sa.Table, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """Give the frame's columns stable dtypes from the table's types (also when empty)."""
    dtypes = dict(extra or {})
    for column in table.c:
        if column.name not in frame.columns or column.name in dtypes:
            continue
        if isinstance(column.type, UTCDateTime):
            frame[column.name] = pd.to_datetime(frame[column.name], utc=True).dt.as_unit("us")
        elif isinstance(column.type, sa.Double):
            dtypes[column.name] = "float64"
        elif isinstance(column.type, sa.Boolean):
            dtypes[column.name] = "boolean"
        elif isinstance(column.type, sa.Integer):
            dtypes[column.name] = "Int64" if column.nullable else "int64"
        elif isinstance(column.type, sa.String):
            dtypes[column.name] = "str"
    return frame.astype(dtypes)
