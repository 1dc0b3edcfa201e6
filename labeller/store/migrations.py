"""Creating the schema, or upgrading an older one in place.

The schema version lives in ``meta``. ``MIGRATIONS`` upgrade an older database inside the
transaction that records the new version, so an upgrade is all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labeller.errors import StoreError
from labeller.store.schema import SCHEMA_VERSION, drafts_table, meta_table, metadata

_SCHEMA_LOCK = 0x53325F4C4142454C
"""PostgreSQL advisory lock key held while the schema is created or upgraded."""


def _migrate_1_to_2(conn: Connection) -> None:
    """Labeller names on reviews and samples; a revision counter per campaign."""
    for table in ("reviews", "samples"):
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN labeller TEXT")
    conn.exec_driver_sql("ALTER TABLE campaigns ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql("CREATE INDEX ix_samples_labeller ON samples (labeller)")


def _migrate_2_to_3(conn: Connection) -> None:
    """One unsaved selection per campaign and labelling session: the ``drafts`` table. A
    campaign's one draft moves there under the session token "" (``Store.draft``'s default)."""
    drafts_table.create(conn)
    conn.exec_driver_sql(
        "INSERT INTO drafts (campaign_id, session, pixels, updated_at) "
        "SELECT id, '', draft_selection, updated_at FROM campaigns WHERE draft_selection IS NOT NULL"
    )
    conn.exec_driver_sql("UPDATE campaigns SET draft_selection = NULL")


def _migrate_3_to_4(conn: Connection) -> None:
    """Clouds: per-sample cloud figures and flags, skip reasons, campaign cloud options.
    Older samples keep NULL there: nothing was measured when they were saved."""
    for name, kind in (
        ("cloud_probability", "DOUBLE PRECISION"),
        ("scl_class", "DOUBLE PRECISION"),
        ("cloud_flagged", "BOOLEAN"),
        ("cloud_included", "BOOLEAN"),
    ):
        conn.exec_driver_sql(f"ALTER TABLE samples ADD COLUMN {name} {kind}")
    conn.exec_driver_sql("ALTER TABLE reviews ADD COLUMN skip_reason TEXT")
    for name in ("cloud_threshold", "max_area_cloud"):
        conn.exec_driver_sql(f"ALTER TABLE campaigns ADD COLUMN {name} DOUBLE PRECISION")


MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
    3: _migrate_3_to_4,
}
"""``MIGRATIONS[v]`` upgrades a version-``v`` database to version ``v + 1``."""


def version_query() -> sa.Select:
    return sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")


def init_schema(conn: Connection, display_url: str) -> None:
    """Create a new database, or upgrade an older one in place, in this transaction."""
    if conn.dialect.name == "postgresql":
        # Two processes opening a fresh or old database at once: one creates or
        # upgrades, the other waits and then finds the current version.
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
    inspector = sa.inspect(conn)
    found = conn.execute(version_query()).scalar() if inspector.has_table("meta") else None
    if found is None:
        if inspector.has_table("samples"):
            raise StoreError(
                f"The database at {display_url} has a samples table but no schema version; "
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
            f"The label database at {display_url} has schema version {found}, but this "
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
