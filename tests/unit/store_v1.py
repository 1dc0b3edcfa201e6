"""A label database exactly as schema version 1 made it (the store before labeller names),
for the migration tests. The DDL is what SQLAlchemy emitted for the v1 tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from tests.unit import pg

_SQLITE = """
CREATE TABLE campaigns (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	identity_key TEXT NOT NULL,
	min_lon DOUBLE NOT NULL,
	min_lat DOUBLE NOT NULL,
	max_lon DOUBLE NOT NULL,
	max_lat DOUBLE NOT NULL,
	epsg INTEGER NOT NULL,
	rows INTEGER NOT NULL,
	cols INTEGER NOT NULL,
	label_value DOUBLE NOT NULL,
	label_name TEXT NOT NULL,
	notes TEXT NOT NULL,
	source VARCHAR(64) NOT NULL,
	collection VARCHAR(64) NOT NULL,
	start_date DATE NOT NULL,
	end_date DATE NOT NULL,
	max_cloud DOUBLE,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	draft_selection TEXT,
	CONSTRAINT uq_campaigns_identity_key UNIQUE (identity_key)
);
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL,
	value TEXT NOT NULL,
	CONSTRAINT pk_meta PRIMARY KEY ("key")
);
CREATE TABLE reviews (
	id INTEGER NOT NULL,
	campaign_id INTEGER NOT NULL,
	acquisition_id VARCHAR(255) NOT NULL,
	acquired_at DATETIME NOT NULL,
	cloud_cover DOUBLE,
	tile_id VARCHAR(255),
	processing_baseline VARCHAR(32),
	status VARCHAR(16) NOT NULL,
	n_pixels INTEGER NOT NULL,
	reviewed_at DATETIME NOT NULL,
	CONSTRAINT pk_reviews PRIMARY KEY (id),
	CONSTRAINT uq_reviews_campaign_id_acquisition_id UNIQUE (campaign_id, acquisition_id),
	CONSTRAINT ck_reviews_status CHECK (status IN ('saved', 'skipped')),
	CONSTRAINT fk_reviews_campaign_id_campaigns FOREIGN KEY(campaign_id)
        REFERENCES campaigns (id) ON DELETE CASCADE
);
CREATE TABLE samples (
	id INTEGER NOT NULL,
	campaign_id INTEGER NOT NULL,
	acquisition_id VARCHAR(255) NOT NULL,
	"row" INTEGER NOT NULL,
	col INTEGER NOT NULL,
	lon DOUBLE NOT NULL,
	lat DOUBLE NOT NULL,
	utm_x DOUBLE NOT NULL,
	utm_y DOUBLE NOT NULL,
	epsg INTEGER NOT NULL,
	label_value DOUBLE NOT NULL,
	label_name TEXT NOT NULL,
	acquired_at DATETIME NOT NULL,
	source VARCHAR(64) NOT NULL,
	collection VARCHAR(64) NOT NULL,
	cloud_cover DOUBLE,
	sun_zenith DOUBLE,
	sun_azimuth DOUBLE,
	tile_id VARCHAR(255),
	processing_baseline VARCHAR(32),
	harmonised BOOLEAN,
	created_at DATETIME NOT NULL,
	"B01" DOUBLE, "B02" DOUBLE, "B03" DOUBLE, "B04" DOUBLE, "B05" DOUBLE, "B06" DOUBLE, "B07" DOUBLE,
	"B08" DOUBLE, "B8A" DOUBLE, "B09" DOUBLE, "B10" DOUBLE, "B11" DOUBLE, "B12" DOUBLE,
	CONSTRAINT pk_samples PRIMARY KEY (id),
	CONSTRAINT uq_samples_campaign_id_acquisition_id_row_col UNIQUE (campaign_id, acquisition_id, "row", col),
	CONSTRAINT fk_samples_campaign_id_campaigns FOREIGN KEY(campaign_id)
        REFERENCES campaigns (id) ON DELETE CASCADE
);
CREATE INDEX ix_samples_label_value ON samples (label_value);
CREATE INDEX ix_samples_campaign_id ON samples (campaign_id);
"""

_POSTGRESQL = """
CREATE TABLE campaigns (
	id SERIAL NOT NULL,
	identity_key TEXT NOT NULL,
	min_lon DOUBLE PRECISION NOT NULL,
	min_lat DOUBLE PRECISION NOT NULL,
	max_lon DOUBLE PRECISION NOT NULL,
	max_lat DOUBLE PRECISION NOT NULL,
	epsg INTEGER NOT NULL,
	rows INTEGER NOT NULL,
	cols INTEGER NOT NULL,
	label_value DOUBLE PRECISION NOT NULL,
	label_name TEXT NOT NULL,
	notes TEXT NOT NULL,
	source VARCHAR(64) NOT NULL,
	collection VARCHAR(64) NOT NULL,
	start_date DATE NOT NULL,
	end_date DATE NOT NULL,
	max_cloud DOUBLE PRECISION,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	draft_selection TEXT,
	CONSTRAINT pk_campaigns PRIMARY KEY (id),
	CONSTRAINT uq_campaigns_identity_key UNIQUE (identity_key)
);
CREATE TABLE meta (
	key VARCHAR(64) NOT NULL,
	value TEXT NOT NULL,
	CONSTRAINT pk_meta PRIMARY KEY (key)
);
CREATE TABLE reviews (
	id SERIAL NOT NULL,
	campaign_id INTEGER NOT NULL,
	acquisition_id VARCHAR(255) NOT NULL,
	acquired_at TIMESTAMP WITH TIME ZONE NOT NULL,
	cloud_cover DOUBLE PRECISION,
	tile_id VARCHAR(255),
	processing_baseline VARCHAR(32),
	status VARCHAR(16) NOT NULL,
	n_pixels INTEGER NOT NULL,
	reviewed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	CONSTRAINT pk_reviews PRIMARY KEY (id),
	CONSTRAINT uq_reviews_campaign_id_acquisition_id UNIQUE (campaign_id, acquisition_id),
	CONSTRAINT ck_reviews_status CHECK (status IN ('saved', 'skipped')),
	CONSTRAINT fk_reviews_campaign_id_campaigns FOREIGN KEY(campaign_id)
        REFERENCES campaigns (id) ON DELETE CASCADE
);
CREATE TABLE samples (
	id SERIAL NOT NULL,
	campaign_id INTEGER NOT NULL,
	acquisition_id VARCHAR(255) NOT NULL,
	row INTEGER NOT NULL,
	col INTEGER NOT NULL,
	lon DOUBLE PRECISION NOT NULL,
	lat DOUBLE PRECISION NOT NULL,
	utm_x DOUBLE PRECISION NOT NULL,
	utm_y DOUBLE PRECISION NOT NULL,
	epsg INTEGER NOT NULL,
	label_value DOUBLE PRECISION NOT NULL,
	label_name TEXT NOT NULL,
	acquired_at TIMESTAMP WITH TIME ZONE NOT NULL,
	source VARCHAR(64) NOT NULL,
	collection VARCHAR(64) NOT NULL,
	cloud_cover DOUBLE PRECISION,
	sun_zenith DOUBLE PRECISION,
	sun_azimuth DOUBLE PRECISION,
	tile_id VARCHAR(255),
	processing_baseline VARCHAR(32),
	harmonised BOOLEAN,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	"B01" DOUBLE PRECISION, "B02" DOUBLE PRECISION, "B03" DOUBLE PRECISION, "B04" DOUBLE PRECISION,
	"B05" DOUBLE PRECISION, "B06" DOUBLE PRECISION, "B07" DOUBLE PRECISION, "B08" DOUBLE PRECISION,
	"B8A" DOUBLE PRECISION, "B09" DOUBLE PRECISION, "B10" DOUBLE PRECISION, "B11" DOUBLE PRECISION,
	"B12" DOUBLE PRECISION,
	CONSTRAINT pk_samples PRIMARY KEY (id),
	CONSTRAINT uq_samples_campaign_id_acquisition_id_row_col UNIQUE (campaign_id, acquisition_id, row, col),
	CONSTRAINT fk_samples_campaign_id_campaigns FOREIGN KEY(campaign_id)
        REFERENCES campaigns (id) ON DELETE CASCADE
);
CREATE INDEX ix_samples_label_value ON samples (label_value);
CREATE INDEX ix_samples_campaign_id ON samples (campaign_id);
"""

V1_DDL = {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}
V1_IDENTITY = '["10.0", "45.0", "10.006", "45.004", "1.0", "snow", "test", "sentinel-2-l1c"]'
"""identity_key of make_spec() in store_builders, as v1 wrote it."""
WHEN = datetime(2024, 1, 5, 10, 30, 15, 250000, tzinfo=UTC)
V1_SAMPLES = [(3, 4, 0.125), (3, 5, 0.25), (7, 9, 0.5)]
"""(row, col, B02) of the three v1 samples of acquisition A1."""


def make_v1_database(url: str) -> None:
    """Create the v1 tables and one campaign with a saved and a skipped acquisition."""
    engine = pg.engine_for(url)
    try:
        with engine.begin() as conn:
            for statement in V1_DDL[engine.dialect.name].split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement)
        tables = sa.MetaData()
        tables.reflect(engine)
        campaigns, reviews, samples, meta = (
            tables.tables[n] for n in ("campaigns", "reviews", "samples", "meta")
        )
        with engine.begin() as conn:
            conn.execute(sa.insert(meta).values(key="schema_version", value="1"))
            conn.execute(
                sa.insert(campaigns).values(
                    identity_key=V1_IDENTITY,
                    min_lon=10.0,
                    min_lat=45.0,
                    max_lon=10.006,
                    max_lat=45.004,
                    epsg=32632,
                    rows=48,
                    cols=54,
                    label_value=1.0,
                    label_name="snow",
                    notes="v1 notes",
                    source="test",
                    collection="sentinel-2-l1c",
                    start_date=date(2024, 1, 1),
                    end_date=date(2024, 3, 31),
                    max_cloud=30.0,
                    created_at=WHEN,
                    updated_at=WHEN,
                    draft_selection="[[1, 2]]",
                )
            )
            common = {
                "campaign_id": 1,
                "acquired_at": WHEN,
                "cloud_cover": 12.5,
                "tile_id": "T32TNR",
                "processing_baseline": "05.10",
                "reviewed_at": WHEN,
            }
            conn.execute(sa.insert(reviews).values(acquisition_id="A1", status="saved", n_pixels=3, **common))
            conn.execute(
                sa.insert(reviews).values(acquisition_id="A2", status="skipped", n_pixels=0, **common)
            )
            for row, col, b02 in V1_SAMPLES:
                conn.execute(
                    sa.insert(samples).values(
                        campaign_id=1,
                        acquisition_id="A1",
                        row=row,
                        col=col,
                        lon=10.001,
                        lat=45.002,
                        utm_x=500005.0,
                        utm_y=4980005.0,
                        epsg=32632,
                        label_value=1.0,
                        label_name="snow",
                        acquired_at=WHEN,
                        source="test",
                        collection="sentinel-2-l1c",
                        cloud_cover=12.5,
                        sun_zenith=62.25,
                        sun_azimuth=163.5,
                        tile_id="T32TNR",
                        processing_baseline="05.10",
                        harmonised=True,
                        created_at=WHEN,
                        B02=b02,
                        B12=0.75,
                    )
                )
    finally:
        engine.dispose()
