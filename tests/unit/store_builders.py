"""Builders shared by the store tests: campaign specs, acquisitions, seeded scenes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import sqlalchemy as sa

from labeller.aoi import AreaOfInterest
from labeller.bands import ALL_BAND_NAMES
from labeller.campaign import CampaignSpec
from labeller.scenes import Acquisition, Scene
from labeller.store.migrations import version_query
from tests.unit import pg

AOI = AreaOfInterest(10.0, 45.0, 10.006, 45.004)  # 48 × 54 pixels
L1C = "sentinel-2-l1c"


def _engine(url: str) -> sa.Engine:
    """A plain engine for looking at the database behind the store's back."""
    return pg.engine_for(url)


def make_spec(label: float = 1.0, name: str = "snow", aoi: AreaOfInterest = AOI, **changes) -> CampaignSpec:
    spec = CampaignSpec(
        aoi=aoi,
        label_value=label,
        label_name=name,
        notes="",
        source="test",
        collection=L1C,
        start=date(2024, 1, 1),
        end=date(2024, 3, 31),
    )
    return replace(spec, **changes)


def make_acquisition(acq_id: str = "A1", when: datetime | None = None, cloud: float | None = 12.5):
    when = when or datetime(2024, 1, 5, 10, 30, 15, tzinfo=UTC)
    return Acquisition(id=acq_id, time=when, cloud_cover=cloud, tile_id="T32TNR", processing_baseline="05.10")


def make_scene(
    acquisition: Acquisition | None = None,
    seed: int = 0,
    band_names: tuple[str, ...] = ALL_BAND_NAMES,
    aoi: AreaOfInterest = AOI,
) -> Scene:
    """Seeded random float32 bands; about a quarter of the pixels invalid."""
    rng = np.random.default_rng(seed)
    bands = rng.random((*aoi.shape, len(band_names)), dtype=np.float32)
    valid = rng.random(aoi.shape) > 0.25
    return Scene(
        acquisition=acquisition or make_acquisition(),
        band_names=band_names,
        bands=bands,
        valid=valid,
        sun_zenith=62.25,
        sun_azimuth=163.5,
        harmonised=True,
    )


def pick(scene: Scene, n_valid: int, n_invalid: int, seed: int = 1) -> list[tuple[int, int]]:
    """n_valid valid and n_invalid invalid pixels of the scene, shuffled."""
    rng = np.random.default_rng(seed)
    good = np.argwhere(scene.valid)
    bad = np.argwhere(~scene.valid)
    chosen = [*good[rng.choice(len(good), n_valid, replace=False)], *bad[rng.choice(len(bad), n_invalid)]]
    pixels = [(int(r), int(c)) for r, c in chosen]
    rng.shuffle(pixels)
    return pixels


def valid_only(scene: Scene, pixels) -> set[tuple[int, int]]:
    return {(r, c) for r, c in pixels if scene.valid[r, c]}


def schema_version(url: str) -> int:
    """The schema version the database records, read behind the store's back."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(version_query()).scalar_one())
    finally:
        engine.dispose()


def backend(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return sa.make_url(url).get_backend_name()


def table_count(url: str, table: str, campaign_id: int | None = None) -> int:
    engine = _engine(url)
    where = "" if campaign_id is None else f" WHERE campaign_id = {int(campaign_id)}"
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}{where}").scalar_one()
    finally:
        engine.dispose()
