"""Reading samples as Arrow record batches in SAMPLE_SCHEMA, by one of three routes.

Where an ADBC driver is installed, it reads straight into Arrow, tens of times faster than
Python rows: PostgreSQL in this process, a SQLite file in a helper process (see
``sqlite_reader``). Otherwise, and for a ``limit``, SQLAlchemy reads rows in partitions.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labeller.errors import StoreError
from labeller.identity import campaign_key
from labeller.store.engine import Database
from labeller.store.frames import typed
from labeller.store.records import SampleFilter
from labeller.store.schema import CAMPAIGN_COLUMNS, SAMPLE_SCHEMA, UTCDateTime, campaigns_table, samples_table
from labeller.store.sqlite_reader import sqlite_batches

USE_ADBC = True
"""Read samples through the ADBC drivers where they are installed (tests switch it off)."""


def fast_route(db: Database) -> str | None:
    """``sqlite`` or ``postgresql`` when an ADBC driver can read this database, else None."""
    if not USE_ADBC:
        return None
    backend, database = db.backend, db.url.database
    if backend == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        # Found, never imported here: see sqlite_reader.
        return "sqlite" if importlib.util.find_spec("adbc_driver_sqlite") is not None else None
    if backend == "postgresql":
        return "postgresql" if importlib.util.find_spec("adbc_driver_postgresql") is not None else None
    return None


def sample_batches(
    db: Database, where: SampleFilter, batch_rows: int, newest_first: bool, limit: int | None, fast: bool
) -> Iterator[pa.RecordBatch]:
    """See ``Store.sample_batches``."""
    route = fast_route(db) if fast and limit is None else None
    if route == "sqlite":
        batches = _sqlite_adbc_batches(db, where, batch_rows, newest_first)
    elif route == "postgresql":
        batches = _postgresql_adbc_batches(db, where, newest_first)
    else:
        batches = _sqlalchemy_batches(db, where, batch_rows, newest_first, limit)
    yield from _rebatch(batches, batch_rows)


# --- The three routes ---------------------------------------------------------------------


def _sqlite_adbc_batches(
    db: Database, where: SampleFilter, batch_rows: int, newest_first: bool
) -> Iterator[pa.RecordBatch]:
    with db.read() as conn:
        lookup = _campaign_lookup(conn)
    sql = _adbc_sql(db, where, newest_first)
    for batch in sqlite_batches(db.url.database, sql, batch_rows, lambda reason: db.message("read", reason)):
        batch, lookup = _finish_batch(db, batch, lookup)
        yield batch


def _postgresql_adbc_batches(
    db: Database, where: SampleFilter, newest_first: bool
) -> Iterator[pa.RecordBatch]:
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as driver

    with db.read() as conn:
        lookup = _campaign_lookup(conn)
    uri = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = driver.connect(uri)
        try:
            cursor = connection.cursor()
            cursor.execute(_adbc_sql(db, where, newest_first))
            for batch in cursor.fetch_record_batch():
                batch, lookup = _finish_batch(db, batch, lookup)
                yield batch
            cursor.close()
        finally:
            connection.close()
    except adbc_driver_manager.Error as exc:
        raise StoreError(db.message("read", str(exc))) from exc


def _sqlalchemy_batches(
    db: Database, where: SampleFilter, batch_rows: int, newest_first: bool, limit: int | None
) -> Iterator[pa.RecordBatch]:
    query = _samples_query(db.backend, where)
    query = query.order_by(samples_table.c.id.desc() if newest_first else samples_table.c.id)
    if limit is not None:
        query = query.limit(limit)
    with db.read() as conn:
        lookup = _campaign_lookup(conn)
        result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(query)
        keys = list(result.keys())
        for part in result.partitions(batch_rows):
            frame = typed(pd.DataFrame.from_records(part, columns=keys), samples_table)
            found, lookup = _campaigns_of(frame["campaign_id"], lookup, lambda: nullcontext(conn))
            for name in CAMPAIGN_COLUMNS:
                frame[name] = found[name].to_numpy()
            frame = frame.astype({"campaign_key": "str"})
            yield pa.RecordBatch.from_pandas(frame, schema=SAMPLE_SCHEMA, preserve_index=False)


# --- Queries ------------------------------------------------------------------------------


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


def _adbc_sql(db: Database, where: SampleFilter, newest_first: bool) -> str:
    """The query for an ADBC reader as SQL text, values inlined."""
    query = sa.select(*_adbc_columns(db.backend)).where(*where.conditions(db.backend))
    query = query.order_by(samples_table.c.id.desc() if newest_first else samples_table.c.id)
    return str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))


def _adbc_columns(backend: str) -> list[sa.ColumnElement]:
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


def _campaigns_of(
    ids: pd.Series, lookup: pd.DataFrame, connect: Callable[[], AbstractContextManager[Connection]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The lookup's rows for each of ``ids``, and the lookup, extended through ``connect``
    by any campaign created after it was read (READ COMMITTED)."""
    missing = set(ids.unique()) - set(lookup.index)
    if missing:
        with connect() as conn:
            lookup = pd.concat([lookup, _campaign_lookup(conn, missing)])
    return lookup.reindex(ids.to_numpy()), lookup


# --- Arrow --------------------------------------------------------------------------------


def _finish_batch(
    db: Database, batch: pa.RecordBatch, lookup: pd.DataFrame
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
        if db.backend == "sqlite":
            column = _from_sqlite(column, field, samples_table.c[field.name].nullable)
        arrays.append(column.cast(field.type))
    ids = pd.Series(batch.column("campaign_id").to_numpy(zero_copy_only=False), dtype="int64")
    found, lookup = _campaigns_of(ids, lookup, db.read)
    for name in CAMPAIGN_COLUMNS:
        values = found[name].to_numpy()
        arrays.append(pa.array(values, type=SAMPLE_SCHEMA.field(name).type, from_pandas=True))
    return pa.RecordBatch.from_arrays(arrays, schema=SAMPLE_SCHEMA), lookup


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
