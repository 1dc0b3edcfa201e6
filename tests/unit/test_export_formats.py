"""Parquet metadata, GeoJSON, the ML-ready export and streamed exports, read back with
pyarrow and json from frames of a real SQLite store."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labeller import export
from labeller.aoi import AreaOfInterest
from labeller.bands import ALL_BAND_NAMES, BAND_BY_NAME, L2A
from labeller.identity import campaign_key, identity_key
from labeller.store import Store
from labeller.tables import SCHEMA_VERSION
from tests.unit.reference import sample_chunks
from tests.unit.store_builders import AOI, make_acquisition, make_scene, make_spec


@pytest.fixture
def filled(tmp_path: Path):
    """A store with two campaigns (L1C with names, L2A without) over one shared acquisition."""
    store = Store(Store.sqlite_url(tmp_path))
    snow = store.open_campaign(make_spec(label=1.0, name="snow", notes="alpine", max_cloud=20.0))
    water = store.open_campaign(make_spec(label=2.0, name="", collection=L2A.id))
    shared = make_acquisition("SHARED", datetime(2024, 2, 1, 10, 30, 5, 123000, tzinfo=UTC))
    block = [(r, c) for r in range(6) for c in range(12)]  # two whole 60 m pixels (rows 0-5, cols 0-11)
    store.save(snow.id, AOI, _all_valid(make_scene(shared, seed=1)), block, labeller="ana")
    l2a = _all_valid(make_scene(shared, seed=2, band_names=L2A.band_names))
    store.save(water.id, AOI, l2a, [(10, 10), (10, 11)])
    yield store
    store.close()


def _all_valid(scene):
    scene.valid[:] = True
    return scene


def test_parquet_documents_every_column_and_the_file(filled: Store) -> None:
    samples = filled.samples()
    before = datetime.now(UTC)
    data = export.to_parquet_bytes(sample_chunks(filled, chunk_rows=10), filled.campaigns())

    schema = pq.read_schema(io.BytesIO(data))
    for name in ALL_BAND_NAMES:
        meta = {k.decode(): v.decode() for k, v in schema.field(name).metadata.items()}
        band = BAND_BY_NAME[name]
        assert meta["units"] == "reflectance"
        assert float(meta["centre_wavelength_nm"]) == band.centre_nm
        assert int(meta["native_resolution_m"]) == band.resolution_m
    assert schema.field("B8A").metadata[b"centre_wavelength_nm"] == b"864.7"
    for name in ("lon", "lat"):
        assert schema.field(name).metadata[b"units"] == b"degrees, WGS84 (EPSG:4326)"
    for name in ("utm_x", "utm_y"):
        assert schema.field(name).metadata[b"units"].startswith(b"metres")
        assert b"column epsg" in schema.field(name).metadata[b"units"]
    assert schema.field("acquired_at").metadata[b"units"] == b"UTC"
    assert str(schema.field("acquired_at").type) == "timestamp[us, tz=UTC]"

    footer = pq.read_metadata(io.BytesIO(data)).metadata
    about = json.loads(footer[export.METADATA_KEY.encode()])
    assert about["app"] == "S2 Pixel Labeller" and about["kind"] == "samples"
    assert about["schema_version"] == SCHEMA_VERSION
    assert before <= datetime.fromisoformat(about["exported_at"]) <= datetime.now(UTC)
    assert "EPSG:4326" in about["crs"]["lon_lat"]
    campaigns = {c["campaign_key"]: c for c in json.loads(footer[export.CAMPAIGNS_KEY.encode()])}
    snow = campaigns[campaign_key(identity_key(make_spec(label=1.0, name="snow")))]
    assert (snow["notes"], snow["max_cloud"], snow["start_date"]) == ("alpine", 20.0, "2024-01-01")
    assert len(campaigns) == 2

    back = pd.read_parquet(io.BytesIO(data))
    pd.testing.assert_frame_equal(back, samples)  # streamed in 10-row pieces, read back whole


def test_streamed_exports_equal_whole_ones(filled: Store) -> None:
    whole = filled.samples()
    pieces = list(sample_chunks(filled, chunk_rows=7))
    assert len(pieces) > 3
    assert export.to_csv_bytes(iter(pieces)) == export.to_csv_bytes(whole)
    streamed = json.loads(export.to_geojson_bytes(iter(pieces)))
    assert streamed["features"] == json.loads(export.to_geojson_bytes(whole))["features"]
    assert len(streamed["features"]) == len(whole) == 74
    a = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(iter(pieces))))
    b = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(whole)))
    pd.testing.assert_frame_equal(a, b)
    # Arrow batches, as the Dataset page streams them, give the same files.
    assert export.to_csv_bytes(filled.sample_batches(batch_rows=7)) == export.to_csv_bytes(whole)
    streamed = json.loads(export.to_geojson_bytes(filled.sample_batches(batch_rows=7)))
    assert streamed["features"] == json.loads(export.to_geojson_bytes(whole))["features"]
    c = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(filled.sample_batches(batch_rows=7))))
    pd.testing.assert_frame_equal(c, b)


def test_geojson_points_with_every_column_json_safe(filled: Store) -> None:
    samples = filled.samples()

    def no_nan(token: str):
        raise AssertionError(f"GeoJSON must not hold {token}")

    doc = json.loads(export.to_geojson_bytes(sample_chunks(filled, chunk_rows=5)), parse_constant=no_nan)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(samples) == 74
    assert doc[export.METADATA_KEY]["app"] == "S2 Pixel Labeller"
    for feature, (_, row) in zip(doc["features"], samples.iterrows(), strict=True):
        assert feature["type"] == "Feature"
        assert feature["geometry"] == {"type": "Point", "coordinates": [row["lon"], row["lat"]]}  # exact
        props = feature["properties"]
        assert set(props) == set(samples.columns)
        assert props["acquired_at"] == "2024-02-01T10:30:05.123000Z"
        assert props["B02"] == row["B02"] and props["row"] == row["row"]
    water = [f["properties"] for f in doc["features"] if f["properties"]["label_value"] == 2.0]
    assert len(water) == 2
    assert all(p["B10"] is None and p["labeller"] is None and p["harmonised"] is True for p in water)


def test_ml_ready_grouping_keys(filled: Store) -> None:
    samples = filled.samples()
    data = export.to_ml_parquet_bytes(filled.sample_batches(batch_rows=9), filled.campaigns())
    ml = pd.read_parquet(io.BytesIO(data))
    from_frames = pd.read_parquet(io.BytesIO(export.to_ml_parquet_bytes(filled.samples())))
    pd.testing.assert_frame_equal(ml, from_frames)  # Arrow and pandas routes agree
    assert list(ml.columns[:7]) == [*export.GROUP_COLUMNS, "label_value", "label_name"]
    assert list(ml.columns[7:20]) == list(ALL_BAND_NAMES)
    assert "id" not in ml.columns and len(ml) == len(samples)
    about = json.loads(pq.read_metadata(io.BytesIO(data)).metadata[export.METADATA_KEY.encode()])
    assert about["kind"] == "ml-ready"
    assert (
        pq.read_schema(io.BytesIO(data)).field("pixel20_id").metadata[b"description"].startswith(b"grouping")
    )

    at = ml.set_index(["label_value", "row", "col"])

    def ids(row: int, col: int, label: float = 1.0) -> pd.Series:
        return at.loc[(label, row, col), ["pixel10_id", "pixel20_id", "pixel60_id"]]

    # The grid is snapped to 60 m, so 10 m pixels pair up into 20 m pixels from row/col 0.
    assert (
        ids(0, 0)["pixel20_id"]
        == ids(0, 1)["pixel20_id"]
        == ids(1, 0)["pixel20_id"]
        == ids(1, 1)["pixel20_id"]
    )
    assert ids(0, 1)["pixel20_id"] != ids(0, 2)["pixel20_id"]  # across a 20 m boundary (east)
    assert ids(1, 0)["pixel20_id"] != ids(2, 0)["pixel20_id"]  # across a 20 m boundary (south)
    assert ids(0, 0)["pixel10_id"] != ids(0, 1)["pixel10_id"]
    block = [ids(r, c)["pixel60_id"] for r in range(6) for c in range(6)]
    assert (
        len(set(block)) == 1 and ids(0, 6)["pixel60_id"] != block[0] and ids(5, 5)["pixel60_id"] == block[0]
    )
    assert ml.loc[ml["label_value"] == 1.0, "pixel20_id"].nunique() == 3 * 6  # 6 × 12 pixels of 10 m
    # Every id decodes to the UTM pixel that holds the sample.
    for size in (10, 20, 60):
        column = ml[f"pixel{size}_id"].to_numpy()
        assert (column // export.PIXEL_ID_EPSG == AOI.epsg).all()
        ix = (column // export.PIXEL_ID_EASTING) % (export.PIXEL_ID_EPSG // export.PIXEL_ID_EASTING)
        iy = column % export.PIXEL_ID_EASTING
        assert ((ix * size <= ml["utm_x"]) & (ml["utm_x"] < (ix + 1) * size)).all()
        assert ((iy * size <= ml["utm_y"]) & (ml["utm_y"] < (iy + 1) * size)).all()
    # One image labelled in two campaigns is one acquisition group, with its source and collection.
    groups = ml.groupby("label_value")["group_acquisition"].unique()
    assert groups[1.0].tolist() == ["test/sentinel-2-l1c/SHARED"]
    assert groups[2.0].tolist() == [f"test/{L2A.id}/SHARED"]
    assert ml.groupby("label_value")["group_campaign"].nunique().tolist() == [1, 1]
    assert ml["group_campaign"].nunique() == 2


def test_native_pixel_id_by_hand() -> None:
    got = export.native_pixel_id(
        [32633, 32633, 32733], [500005.0, 500015.0, 500025.0], [10.0, 19.9, 9_999_995.0], 20
    )
    assert got.tolist() == [
        32633 * 10**14 + 25000 * 10**7 + 0,
        32633 * 10**14 + 25000 * 10**7 + 0,
        32733 * 10**14 + 25001 * 10**7 + 499_999,
    ]


def test_read_parquet_export_refuses_other_files() -> None:
    from labeller.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="not a readable Parquet"):
        export.read_parquet_export(b"name,value\nx,1\n")
    plain = io.BytesIO()
    pd.DataFrame({"a": [1]}).to_parquet(plain)
    frame, meta = export.read_parquet_export(plain.getvalue())  # readable, just not ours
    assert frame["a"].tolist() == [1] and meta["campaigns_by_key"] == {}


def test_exports_of_nothing(tmp_path: Path) -> None:
    store = Store(Store.sqlite_url(tmp_path))
    try:
        empty = list(sample_chunks(store))
        back = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(iter(empty))))
        assert back.empty and list(back.columns) == list(store.samples().columns)
        assert json.loads(export.to_geojson_bytes(iter(empty)))["features"] == []
        assert export.to_csv_bytes(iter(empty)).decode().startswith("id,campaign_id,acquisition_id,")
        assert pd.read_parquet(io.BytesIO(export.to_ml_parquet_bytes(store.samples()))).empty
    finally:
        store.close()


def test_csv_neutralises_formulas_and_keeps_numbers_parquet_and_geojson_keep_exact_text(
    tmp_path: Path,
) -> None:
    """CSV injection: a label name or labeller name a spreadsheet would run as a formula
    gets a leading apostrophe in the CSV; negative numbers and the other exports stay exact."""
    evil = '=HYPERLINK("http://evil.example","x")'
    store = Store(Store.sqlite_url(tmp_path))
    try:
        aoi = AreaOfInterest(-10.006, -45.004, -10.0, -45.0)  # west and south: negative lon, lat
        campaign = store.open_campaign(make_spec(label=-3.5, name=evil, aoi=aoi))
        scene = _all_valid(make_scene(band_names=ALL_BAND_NAMES, aoi=aoi))
        store.save(campaign.id, aoi, scene, [(0, 0), (0, 1)], labeller="@ana")
        samples = store.samples()
    finally:
        store.close()
    samples.loc[1, "tile_id"] = "-T32"
    samples.loc[0, "processing_baseline"] = "+05.10"
    samples.loc[1, "acquisition_id"] = "\tA1"
    samples.loc[0, "labeller"] = "\t@ana"

    back = pd.read_csv(io.BytesIO(export.to_csv_bytes(samples)), dtype=str, keep_default_na=False)
    assert back["label_name"].tolist() == ["'" + evil] * 2
    assert back["labeller"].tolist() == ["'\t@ana", "'@ana"]
    assert back["tile_id"].tolist() == ["T32TNR", "'-T32"]
    assert back["processing_baseline"].tolist() == ["'+05.10", "05.10"]
    assert back["acquisition_id"].tolist() == ["A1", "'\tA1"]
    assert back["source"].tolist() == ["test", "test"]
    # Numbers are never touched: negative label, coordinates and the like stay numbers.
    assert back["label_value"].tolist() == ["-3.5", "-3.5"]
    assert float(back["lon"][0]) == samples["lon"][0] < 0
    assert float(back["lat"][1]) == samples["lat"][1] < 0
    assert samples["label_name"].tolist() == [evil] * 2  # the input frame is left alone

    parquet = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(samples)))
    assert parquet["label_name"].tolist() == [evil] * 2
    assert parquet["labeller"].tolist() == ["\t@ana", "@ana"]
    features = json.loads(export.to_geojson_bytes(samples))["features"]
    assert [f["properties"]["label_name"] for f in features] == [evil] * 2
    assert [f["properties"]["tile_id"] for f in features] == ["T32TNR", "-T32"]
    assert [f["properties"]["label_value"] for f in features] == [-3.5, -3.5]


def test_formula_rule_of_the_csv() -> None:
    table = pa.table(
        {
            "text": ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "a=b", "", None, "'=kept", " =x", "\rx"],
            "number": [-1.0, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, -10.0, -0.5],
        }
    )
    data = export.to_csv_bytes(table)
    back = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert back["text"].tolist() == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "a=b", "", "", "'=kept", " =x", "'\rx"
    ]  # fmt: skip
    assert data.endswith(b'\r\n"\'\rx",-0.5\r\n')  # quoted: a bare carriage return would split the row
    assert back["number"].tolist() == [str(v) for v in table.column("number").to_pylist()]
    assert back["number"][0] == "-1.0" and back["number"][9] == "-10.0"
    assert table.column("text")[0].as_py() == "=1+1"  # the input is left alone


def test_geojson_properties_of_arrow_input_are_json_values() -> None:
    """Times in any zone or unit become UTC text with microseconds, NaN and infinities null,
    dates ISO text; whole numbers, flags and text stay as they are."""
    ljubljana = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=ZoneInfo("Europe/Ljubljana"))
    table = pa.table(
        {
            "lon": [10.5, -0.25],
            "lat": [45.125, 0.0],
            "acquired_at": pa.array([ljubljana, None], pa.timestamp("ms", "Europe/Ljubljana")),
            "created_at": pa.array([1_700_000_000_123_456_789, 0], pa.timestamp("ns")),
            "B02": [float("nan"), 0.1],
            "B03": [float("inf"), -float("inf")],
            "day": pa.array([date(2024, 1, 31), None], pa.date32()),
            "row": pa.array([3, None], pa.int64()),
            "harmonised": [True, None],
            "labeller": ["=ana", None],
        }
    )
    features = json.loads(export.to_geojson_bytes(table.to_batches()))["features"]
    assert [f["geometry"]["coordinates"] for f in features] == [[10.5, 45.125], [-0.25, 0.0]]
    assert [f["properties"] for f in features] == [
        {
            "lon": 10.5,
            "lat": 45.125,
            "acquired_at": "2024-05-01T10:00:00.250000Z",
            "created_at": "2023-11-14T22:13:20.123456Z",
            "B02": None,
            "B03": None,
            "day": "2024-01-31",
            "row": 3,
            "harmonised": True,
            "labeller": "=ana",
        },
        {
            "lon": -0.25,
            "lat": 0.0,
            "acquired_at": None,
            "created_at": "1970-01-01T00:00:00.000000Z",
            "B02": 0.1,
            "B03": None,
            "day": None,
            "row": None,
            "harmonised": None,
            "labeller": None,
        },
    ]
