"""Exports of the samples table, on frames read from a real SQLite store and built by hand;
the one band order they follow."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labeller import export
from labeller.aoi import AreaOfInterest
from labeller.bands import ALL_BAND_NAMES, L2A, by_wavelength
from labeller.campaign import CampaignSpec
from labeller.scenes import Acquisition, Scene
from labeller.store import Store

AOI = AreaOfInterest(10.0, 45.0, 10.006, 45.004)


def _scene(acq_id: str, band_names: tuple[str, ...], seed: int) -> Scene:
    rng = np.random.default_rng(seed)
    acquisition = Acquisition(acq_id, datetime(2024, 2, seed + 1, 10, 30, 5, 123000, tzinfo=UTC), 3.0)
    bands = rng.random((*AOI.shape, len(band_names)), dtype=np.float32)
    valid = rng.random(AOI.shape) > 0.2
    return Scene(acquisition, band_names, bands, valid, 40.0, 170.0, harmonised=None if seed else True)


@pytest.fixture
def filled(tmp_path: Path):
    """A real SQLite store with samples of two labels: one L1C, one L2A (no B10)."""
    store = Store(Store.sqlite_url(tmp_path))
    try:
        for label, name, collection, seed in ((1.0, "snow", "sentinel-2-l1c", 0), (2.0, "", L2A.id, 1)):
            spec = CampaignSpec(AOI, label, name, "", "test", collection, date(2024, 1, 1), date(2024, 3, 1))
            campaign = store.open_campaign(spec)
            scene = _scene(f"A{seed}", ALL_BAND_NAMES if seed == 0 else L2A.band_names, seed)
            store.save(campaign.id, AOI, scene, [(r, c) for r in range(5) for c in range(6)])
        yield store
    finally:
        store.close()


@pytest.fixture
def samples(filled: Store) -> pd.DataFrame:
    return filled.samples()


def test_the_one_band_order_is_by_wavelength() -> None:
    names = ["B12", "lon", "B8A", "B01", "B10", "label_value", "B08", "B09"]
    assert by_wavelength(names) == ["B01", "B08", "B8A", "B09", "B10", "B12"]
    assert by_wavelength(["row", "col"]) == []


def test_store_samples_carry_the_bands_in_that_order(samples: pd.DataFrame) -> None:
    in_table = [c for c in samples.columns if c.startswith("B")]
    assert in_table == by_wavelength(samples.columns) == list(ALL_BAND_NAMES) == [
        "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"
    ]  # fmt: skip


def test_parquet_round_trip_keeps_values_and_dtypes(samples: pd.DataFrame) -> None:
    data = export.to_parquet_bytes(samples)
    assert data[:4] == b"PAR1"
    back = pd.read_parquet(io.BytesIO(data))
    pd.testing.assert_frame_equal(back, samples)
    assert str(back["acquired_at"].dtype) == "datetime64[us, UTC]"
    assert str(back["harmonised"].dtype) == "boolean"


def test_parquet_writes_timestamps_as_utc() -> None:
    local = pd.Timestamp("2024-05-01 12:00", tz="Europe/Ljubljana")
    df = pd.DataFrame({"acquired_at": [local], "naive": [pd.Timestamp("2024-05-01 08:00")], "B02": [0.5]})
    back = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(df)))
    assert str(back["acquired_at"].dt.tz) == "UTC"
    assert back["acquired_at"].iloc[0] == local  # the same instant
    assert back["naive"].iloc[0] == pd.Timestamp("2024-05-01 08:00", tz="UTC")
    assert str(df["acquired_at"].dt.tz) == "Europe/Ljubljana"  # the input is left alone


def test_csv_round_trip_is_exact(samples: pd.DataFrame) -> None:
    data = export.to_csv_bytes(samples)
    header = data.split(b"\r\n", 1)[0].decode()
    assert header.split(",") == list(samples.columns)
    back = pd.read_csv(io.BytesIO(data))
    assert len(back) == len(samples)
    for column in ["lon", "lat", "utm_x", "utm_y", *ALL_BAND_NAMES]:
        np.testing.assert_array_equal(back[column].to_numpy(), samples[column].to_numpy())
    assert back["B10"].isna().sum() == samples["B10"].isna().sum() > 0
    assert back["acquired_at"].iloc[0] == "2024-02-01 10:30:05.123+00:00"  # ISO 8601 with offset
    assert (pd.to_datetime(back["acquired_at"], utc=True) == samples["acquired_at"]).all()
