"""Schema version 4 (issue 9): cloud columns per sample, skip reasons, campaign cloud options;
old databases upgraded in place; exports document and carry the new columns. On SQLite and
PostgreSQL alike."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import sqlalchemy as sa

from labeller import clouds, export
from labeller.bands import L2A
from labeller.importing import read_import
from labeller.store import Store
from labeller.store.schema import SCHEMA_VERSION
from tests.unit.store_builders import (
    AOI,
    _engine,
    make_acquisition,
    make_scene,
    make_spec,
    pick,
    schema_version,
)
from tests.unit.store_v1 import make_v1_database

CLOUD_COLUMNS = ("cloud_probability", "scl_class", "cloud_flagged", "cloud_included")


def _columns(url: str, table: str) -> list[str]:
    engine = _engine(url)
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns(table)]
    finally:
        engine.dispose()


def test_old_database_is_upgraded_in_place_to_cloud_columns(url: str) -> None:
    make_v1_database(url)
    assert "cloud_probability" not in _columns(url, "samples")
    store = Store(url)
    try:
        assert SCHEMA_VERSION == 4 and schema_version(url) == 4
        assert set(CLOUD_COLUMNS) <= set(_columns(url, "samples"))
        assert "skip_reason" in _columns(url, "reviews")
        assert {"cloud_threshold", "max_area_cloud"} <= set(_columns(url, "campaigns"))
        # Old rows: nothing was measured, so NULL; old campaigns get the default threshold.
        old = store.samples()
        assert len(old) == 3 and old[list(CLOUD_COLUMNS)].isna().all().all()
        assert store.reviews(1)["A2"].skip_reason is None
        assert store.campaign(1).spec.cloud_threshold == clouds.DEFAULT_THRESHOLD
        # New work next to the old: a skip with a reason and a save with cloud figures.
        store.skip(1, make_acquisition("A4"), reason="haze")
        assert store.reviews(1)["A4"].skip_reason == "haze"
        scene = clouds.attach(make_scene(make_acquisition("A3")))
        pixels = pick(scene, 3, 0)
        store.save(1, AOI, scene, pixels, flagged=pixels[:1])
        new = store.samples()
        new = new[new["acquisition_id"] == "A3"].set_index(["row", "col"]).loc[sorted(pixels)]
        probability = scene.extra[clouds.PROBABILITY]
        assert new["cloud_probability"].tolist() == [float(probability[p]) for p in sorted(pixels)]
        assert new["cloud_flagged"].tolist() == [p == pixels[0] for p in sorted(pixels)]
        assert new["scl_class"].isna().all()
    finally:
        store.close()


def test_scl_class_is_stored_for_level_2a(url: str) -> None:
    store = Store(url)
    try:
        campaign = store.open_campaign(make_spec(collection=L2A.id))
        scene = make_scene(make_acquisition("L2"), band_names=L2A.band_names)
        scl = np.full(scene.valid.shape, 4, dtype=np.uint8)
        scl[0, :] = 11
        scene = replace(scene, extra={"SCL": scl})
        pixels = [p for p in pick(scene, 40, 0) if p[0] == 0][:2] + pick(scene, 2, 0, seed=3)
        store.save(campaign.id, AOI, scene, pixels)
        saved = store.samples().set_index(["row", "col"])
        assert {int(saved.loc[p, "scl_class"]) for p in pixels} <= {4, 11}
        assert [int(saved.loc[p, "scl_class"]) for p in pixels] == [int(scl[p]) for p in pixels]
        assert saved["cloud_probability"].isna().all() and not saved["cloud_flagged"].any()
    finally:
        store.close()


def test_exports_document_and_carry_the_cloud_columns_and_import_them_back(url: str, tmp_path) -> None:
    store = Store(url)
    try:
        campaign = store.open_campaign(make_spec())
        scene = clouds.attach(make_scene(make_acquisition("A1")))
        pixels = pick(scene, 4, 0)
        store.save(campaign.id, AOI, scene, pixels, flagged=pixels[:2])
        store.skip(campaign.id, make_acquisition("A2"), reason="haze")
        data = export.to_parquet_bytes(store.sample_batches(), store.campaigns())
        schema = pq.read_schema(io.BytesIO(data))
        for name in (*CLOUD_COLUMNS, "harmonised"):
            assert schema.field(name).metadata[b"description"], name
        assert schema.field("cloud_probability").metadata[b"units"] == b"probability 0-1"
        csv = export.to_csv_bytes(store.sample_batches()).decode()
        assert all(name in csv.splitlines()[0] for name in CLOUD_COLUMNS)
        reviews = export.to_csv_bytes(store.review_table()).decode().splitlines()
        assert "skip_reason" in reviews[0] and ",skipped,haze," in reviews[2]
        other = Store(Store.sqlite_url(tmp_path / "other"))
        try:
            assert other.import_samples(read_import(data)).added == 4
            pd.testing.assert_frame_equal(
                other.samples()[list(CLOUD_COLUMNS)], store.samples()[list(CLOUD_COLUMNS)]
            )
        finally:
            other.close()
    finally:
        store.close()
