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

from labeller.identity import MAX_LABELLER, clean_labeller
from labeller.store.records import CampaignRecord, Review, SampleFilter
from labeller.store.store import Store

__all__ = [
    "MAX_LABELLER",
    "CampaignRecord",
    "Review",
    "SampleFilter",
    "Store",
    "clean_labeller",
]
"""What the pages and the rest of ``labeller`` use, and nothing else; tests of the store's
insides import its modules (e.g. ``labeller.store.schema``, ``labeller.store.records``) directly."""
