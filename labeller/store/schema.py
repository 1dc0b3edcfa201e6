"""The tables, their column types and the Arrow schema of sample batches.

Schema version 2 added the labeller's name to reviews and samples, and a per-campaign
``revision`` counter that ``Store.data_version()`` reads; version 3 the ``drafts`` table,
one unsaved selection per campaign and labelling session (see ``migrations``). Version 4
added clouds: each sample's cloud probability or SCL class and whether it was flagged and
included on purpose, a skip reason per review, and the campaign's cloud options.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import sqlalchemy as sa

from labeller.tables import BAND_COLUMNS, CAMPAIGN_COLUMNS
from labeller.tables import SCHEMA_VERSION as SCHEMA_VERSION  # defined with the table conventions

SAVED, SKIPPED = "saved", "skipped"


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
    sa.Column("draft_selection", sa.Text, nullable=True),  # up to v2; v3 keeps drafts in ``drafts``
    # v2: bumped by every change to the campaign's reviews or samples (see data_version).
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cloud_threshold", sa.Double, nullable=True),  # v4
    sa.Column("max_area_cloud", sa.Double, nullable=True),  # v4
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
    sa.Column("skip_reason", sa.Text, nullable=True),  # v4
    sa.UniqueConstraint("campaign_id", "acquisition_id"),
    sa.CheckConstraint(f"status IN ('{SAVED}', '{SKIPPED}')", name="status"),
)

drafts_table = sa.Table(
    "drafts",
    metadata,
    _campaign_fk(),
    # The labelling session's draft token ("" for the one draft a v2 database had).
    sa.Column("session", sa.String(64), nullable=False),
    sa.Column("pixels", sa.Text, nullable=False),  # JSON list of [row, col]
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("campaign_id", "session"),
)
"""v3: the unsaved selection of each labelling session of a campaign."""

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
    sa.Column("cloud_probability", sa.Double, nullable=True),  # v4
    sa.Column("scl_class", sa.Double, nullable=True),  # v4: a class code 0-11, NULL for Level-1C
    sa.Column("cloud_flagged", sa.Boolean, nullable=True),  # v4
    sa.Column("cloud_included", sa.Boolean, nullable=True),  # v4
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
