"""Real Sentinel-2 values through the store and every export, bit for bit, from the chip in
tests/data (so in every clone); and the chip checked against the full sample where present."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from labeller import export
from labeller.aoi import AreaOfInterest
from labeller.bands import L1C
from labeller.campaign import CampaignSpec
from labeller.scenes import Acquisition, Scene
from tests.conftest import SHARED_DATA
from tests.data.cut_real_chip import cut


def test_the_chip_is_the_shared_sample_bit_for_bit(real_chip, real_sample):
    """Cutting the chip again from ../shared gives exactly the shipped file's arrays."""
    again = cut(SHARED_DATA)
    assert sorted(again) == sorted(real_chip)
    for key, value in again.items():
        assert np.array_equal(value, real_chip[key]), key
        assert value.dtype == real_chip[key].dtype, key
    rows, cols = real_chip["rows"], real_chip["cols"]
    assert np.array_equal(real_sample["bands"][2][rows, cols], real_chip["bands"][1])  # 2015-08-20


def test_the_chip_holds_a_clear_and_a_cloudy_date(real_chip):
    b02 = real_chip["bands"][:, :, L1C.band_names.index("B02")]
    assert real_chip["bands"].shape == (3, 24, 13) and real_chip["bands"].dtype == np.float32
    assert tuple(str(n) for n in real_chip["band_names"]) == L1C.band_names
    assert np.median(b02[0]) < 0.08 and np.median(b02[2]) < 0.08  # clear: dark blue over vegetation
    assert b02[1].min() > 0.2  # thick cloud on 2015-08-20: bright in every pixel


def _chip_scene(chip: dict, aoi: AreaOfInterest, date_index: int) -> tuple[Scene, list[tuple[int, int]]]:
    """The chip's pixels at their own rows and columns of the sample, zero elsewhere."""
    when = datetime.fromisoformat(str(chip["timestamps"][date_index]) + "+00:00")
    bands = np.zeros((*aoi.shape, 13), dtype=np.float32)
    pixels = list(zip(chip["rows"].tolist(), chip["cols"].tolist(), strict=True))
    for (r, c), spectrum in zip(pixels, chip["bands"][date_index], strict=True):
        bands[r, c] = spectrum
    acquisition = Acquisition(f"REAL_{when:%Y%m%dT%H%M%S}", when, 1.0, "T33TVM", "02.04")
    scene = Scene(acquisition, L1C.band_names, bands, np.ones(aoi.shape, bool), 27.4, 144.5)
    return scene, pixels


@pytest.mark.parametrize("date_index", [0, 1], ids=["clear", "cloudy"])
def test_real_values_round_trip_through_the_store_and_every_export(stores, real_chip, date_index):
    aoi = AreaOfInterest(*(float(v) for v in real_chip["bbox_wgs84"]))
    assert aoi.rows >= 101 and aoi.cols >= 100
    store = stores()
    spec = CampaignSpec(aoi, 1.0, "real", "", "test", L1C.id, date(2015, 7, 1), date(2015, 9, 30))
    campaign = store.open_campaign(spec)
    scene, pixels = _chip_scene(real_chip, aoi, date_index)
    store.save(campaign.id, aoi, scene, pixels)

    # Expected: the chip's float32 values, per pixel, in the chip's band order. The store and
    # the exports keep them as float64, which holds every float32 exactly: widened, they must
    # be the very same numbers, and narrowed back the very same bits.
    expected = {p: real_chip["bands"][date_index][i] for i, p in enumerate(pixels)}
    assert len(expected) == 24

    def check(frame: pd.DataFrame, what: str) -> None:
        assert len(frame) == 24, what
        for _, row in frame.iterrows():
            got = np.array([row[b] for b in L1C.band_names], dtype=np.float64)
            want = expected[(int(row["row"]), int(row["col"]))]
            assert got.tobytes() == want.astype(np.float64).tobytes(), (what, row["row"], row["col"])
            assert got.astype(np.float32).tobytes() == want.tobytes(), (what, row["row"], row["col"])

    parquet = pq.read_table(io.BytesIO(export.to_parquet_bytes(store.sample_batches(), store.campaigns())))
    assert all(str(parquet.schema.field(b).type) == "double" for b in L1C.band_names)
    check(parquet.to_pandas(), "Parquet")
    check(
        pd.read_csv(io.BytesIO(export.to_csv_bytes(store.sample_batches()))),
        "CSV",
    )
    features = json.loads(export.to_geojson_bytes(store.sample_batches()))["features"]
    check(pd.DataFrame([f["properties"] for f in features]), "GeoJSON")
