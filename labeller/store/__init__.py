"""The label store: campaigns, per-acquisition reviews and labelled pixel samples.

The only package that talks SQL. SQLAlchemy Core over a URL: a SQLite file by default
(WAL, busy timeout, foreign keys on, writes under ``BEGIN IMMEDIATE``) or PostgreSQL
(writes to one campaign take turns on its row lock; samples arrive by ``COPY``). Every
database error leaves as a ``StoreError`` whose message says what to check and never
shows a password.

Callers use ``Store`` (``store``) and the names below. Inside:

- ``schema``: tables, column types, the schema version and the Arrow sample schema;
- ``migrations``: creating the schema or upgrading an older one, all or nothing;
- ``engine``: URL, engine, SQLite connection setup, transactions, error messages;
- ``records``: the returned records and ``SampleFilter``;
- ``pixels``: a scene's chosen pixels as sample values (no SQL);
- ``writing`` and ``bulk_insert``: the write transactions, and samples by executemany or COPY;
- ``queries``: campaigns, reviews and the Dataset page's summaries;
- ``batches`` and ``sqlite_reader``: samples as Arrow batches (ADBC or SQLAlchemy);
- ``frames``: the DataFrame dtypes the store gives.
"""

from labeller.identity import MAX_LABELLER, campaign_key, clean_labeller, identity_key
from labeller.store.engine import BUSY_TIMEOUT_MS, DB_FILENAME
from labeller.store.frames import arrow_to_frame
from labeller.store.migrations import MIGRATIONS
from labeller.store.records import CampaignRecord, ImportReport, Review, SampleFilter
from labeller.store.schema import (
    BAND_COLUMNS,
    CAMPAIGN_COLUMNS,
    INSERT_COLUMNS,
    SAMPLE_KEY,
    SAMPLE_ORDER,
    SAMPLE_SCHEMA,
    SAVED,
    SCHEMA_VERSION,
    SKIPPED,
    UTCDateTime,
    campaigns_table,
    meta_table,
    metadata,
    reviews_table,
    samples_table,
)
from labeller.store.store import Store

__all__ = [
    "BAND_COLUMNS",
    "BUSY_TIMEOUT_MS",
    "CAMPAIGN_COLUMNS",
    "DB_FILENAME",
    "INSERT_COLUMNS",
    "MAX_LABELLER",
    "MIGRATIONS",
    "SAMPLE_KEY",
    "SAMPLE_ORDER",
    "SAMPLE_SCHEMA",
    "SAVED",
    "SCHEMA_VERSION",
    "SKIPPED",
    "CampaignRecord",
    "ImportReport",
    "Review",
    "SampleFilter",
    "Store",
    "UTCDateTime",
    "arrow_to_frame",
    "campaign_key",
    "campaigns_table",
    "clean_labeller",
    "identity_key",
    "meta_table",
    "metadata",
    "reviews_table",
    "samples_table",
]
