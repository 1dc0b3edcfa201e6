"""Exports of the samples table (frames as ``Store.samples()`` returns them), and reading an
export back. Pure functions on DataFrames; no SQL.

Each writer takes one frame or an iterable of frames or Arrow record batches with the same
columns (e.g. ``Store.sample_batches()``), so a million samples stream through in pieces:

- CSV: UTF-8, header, full float precision, ISO 8601 times with offset. A text cell that a
  spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return) gets a leading apostrophe (``CSV_FORMULA_NOTE``); numbers are never
  touched. Parquet and GeoJSON keep the exact text.
- Parquet: the Arrow schema documents every column (units, band centre wavelength,
  native resolution, CRS) and the file says which app, schema and time wrote it, and
  carries each campaign's period and notes so that an import (``importing.read_import``) can
  rebuild it.
- GeoJSON: a FeatureCollection of points (WGS84 lon/lat) with every column as properties.
- ML-ready Parquet: the same plus grouping keys against train/test leakage (campaign,
  acquisition, and the native 10, 20 and 60 m pixels each sample lies in).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labeller.bands import BAND_BY_NAME, by_wavelength
from labeller.errors import InvalidInputError
from labeller.tables import SCHEMA_VERSION, arrow_to_frame, utc_timestamps

APP_NAME = "S2 Pixel Labeller"
METADATA_KEY = "s2_pixel_labeller"
"""Parquet file metadata key holding a JSON object about the export."""
CAMPAIGNS_KEY = "s2_pixel_labeller.campaigns"
"""Parquet file metadata key holding a JSON list of the exported campaigns."""
EXPORT_FORMAT_VERSION = 1
MEAN_SPECTRA_COLUMNS = ["label_value", "label_name", "band", "centre_nm", "reflectance"]
GROUP_COLUMNS = ("group_campaign", "group_acquisition", "pixel10_id", "pixel20_id", "pixel60_id")
"""Grouping keys of the ML-ready export."""
PIXEL_ID_EASTING = 10**7
PIXEL_ID_EPSG = 10**14
"""``pixelN_id = epsg * 10**14 + floor(utm_x / N) * 10**7 + floor(utm_y / N)``."""
GEOJSON_MAX_ROWS = 250_000
"""GeoJSON spends about 1 kB a sample; beyond this, use Parquet."""

Frames = pd.DataFrame | pa.RecordBatch | pa.Table | Iterable[pd.DataFrame | pa.RecordBatch | pa.Table]
"""One table or an iterable of them: DataFrames as ``Store.samples()`` returns, or Arrow
batches as ``Store.sample_batches()`` streams."""

_UTM_NOTE = "metres; CRS is WGS84 / UTM, EPSG code in column epsg"
_COLUMN_NOTES: dict[str, dict[str, str]] = {
    "id": {"description": "row id in the exporting database (not stable across databases)"},
    "campaign_id": {"description": "campaign id in the exporting database (see campaign_key)"},
    "campaign_key": {"description": "stable id of the campaign's identity (area, label, source, collection)"},
    "acquisition_id": {"description": "image source's id of the acquisition"},
    "row": {"description": "pixel row on the campaign's 10 m grid, 0 = north edge"},
    "col": {"description": "pixel column on the campaign's 10 m grid, 0 = west edge"},
    "lon": {"units": "degrees, WGS84 (EPSG:4326)", "description": "longitude of the pixel centre"},
    "lat": {"units": "degrees, WGS84 (EPSG:4326)", "description": "latitude of the pixel centre"},
    "utm_x": {"units": _UTM_NOTE, "description": "easting of the pixel centre"},
    "utm_y": {"units": _UTM_NOTE, "description": "northing of the pixel centre"},
    "epsg": {"description": "EPSG code of the UTM zone of utm_x, utm_y (326zz north, 327zz south)"},
    "label_value": {"description": "the label: a class id or a regression target"},
    "label_name": {"description": "human name of the label (may be empty)"},
    "acquired_at": {"units": "UTC", "description": "sensing time of the acquisition"},
    "cloud_cover": {"units": "percent", "description": "cloud cover of the acquisition (source metadata)"},
    "sun_zenith": {"units": "degrees", "description": "mean sun zenith angle over the area"},
    "sun_azimuth": {"units": "degrees clockwise from north", "description": "mean sun azimuth over the area"},
    "tile_id": {"description": "Sentinel-2 tile or granule id"},
    "processing_baseline": {"description": "ESA processing baseline"},
    "harmonised": {
        "description": "true: the source removed the +1000 DN offset of processing baseline 04.00 and later; "
        "false: values left as delivered (no offset to remove before 04.00, or not harmonised); "
        "empty: unknown or synthetic"
    },
    "cloud_probability": {
        "units": "probability 0-1",
        "description": "s2cloudless cloud probability of the pixel on its date (Level-1C; empty: "
        "Level-2A or not measured)",
    },
    "scl_class": {
        "description": "Level-2A scene classification code of the pixel, a whole number (0 no data, "
        "3 cloud shadow, 4 vegetation, 5 not vegetated, 6 water, 8/9 cloud, 10 thin cirrus, 11 snow; "
        "empty: Level-1C)"
    },
    "cloud_flagged": {
        "description": "the cloud guard judged the pixel cloud, cirrus or cloud shadow on its date "
        "(empty: no cloud information)"
    },
    "cloud_included": {
        "description": "saved although flagged, because the labeller included it on purpose "
        "(empty: no cloud information)"
    },
    "created_at": {"units": "UTC", "description": "when the sample was saved"},
    "labeller": {"description": "name of the person who saved it (empty: not given)"},
    "campaign_min_lon": {"units": "degrees, WGS84 (EPSG:4326)", "description": "campaign box, west"},
    "campaign_min_lat": {"units": "degrees, WGS84 (EPSG:4326)", "description": "campaign box, south"},
    "campaign_max_lon": {"units": "degrees, WGS84 (EPSG:4326)", "description": "campaign box, east"},
    "campaign_max_lat": {"units": "degrees, WGS84 (EPSG:4326)", "description": "campaign box, north"},
    "group_campaign": {"description": "grouping key: the campaign (campaign_key)"},
    "group_acquisition": {"description": "grouping key: source/collection/acquisition id"},
    "pixel10_id": {"description": "grouping key: the 10 m pixel, epsg*1e14 + floor(x/10)*1e7 + floor(y/10)"},
    "pixel20_id": {
        "description": "grouping key: the native 20 m pixel, epsg*1e14 + floor(x/20)*1e7 + floor(y/20)"
    },
    "pixel60_id": {
        "description": "grouping key: the native 60 m pixel, epsg*1e14 + floor(x/60)*1e7 + floor(y/60)"
    },
}


# --- Columns and their documentation ------------------------------------------------------


def band_columns(df: pd.DataFrame) -> list[str]:
    """The Sentinel-2 band columns present in ``df``, in order of centre wavelength."""
    return by_wavelength(df.columns)


def column_metadata(name: str) -> dict[str, str]:
    """What a column holds, as Parquet field metadata (text keys and values)."""
    band = BAND_BY_NAME.get(name)
    if band is not None:
        return {
            "units": "reflectance",
            "description": f"Sentinel-2 MSI band {band.name} reflectance, 0–1 nominal",
            "centre_wavelength_nm": f"{band.centre_nm:g}",
            "native_resolution_m": str(band.resolution_m),
        }
    return dict(_COLUMN_NOTES.get(name, {}))


def file_metadata(kind: str, exported_at: datetime | None = None) -> dict[str, Any]:
    """The export's own description, stored as JSON under METADATA_KEY."""
    return {
        "app": APP_NAME,
        "kind": kind,
        "export_format_version": EXPORT_FORMAT_VERSION,
        "schema_version": SCHEMA_VERSION,
        "exported_at": (exported_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "crs": {
            "lon_lat": "EPSG:4326 (WGS84), degrees",
            "utm_x_utm_y": "WGS84 / UTM zone given per row in column epsg, metres",
        },
        "reflectance": "Sentinel-2 band columns hold reflectance, 0–1 nominal, float32 values as float64",
    }


# --- CSV ----------------------------------------------------------------------------------


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a text cell as a formula (OWASP)."""
CSV_FORMULA_NOTE = (
    "Text cells starting with = + - @, a tab or a carriage return get a leading apostrophe (') "
    "so that spreadsheets show them instead of running them as formulas; numbers are unchanged. "
    "Parquet and GeoJSON keep the exact text."
)


def to_csv_bytes(data: Frames) -> bytes:
    """UTF-8 CSV with a header and no index; floats at full (round-trip) precision,
    timestamps in ISO 8601 with their UTC offset; text that a spreadsheet would run as a
    formula neutralised (``neutralise_formulas``)."""
    out = io.StringIO()
    for i, frame in enumerate(_frames(data)):
        neutralise_formulas(frame).to_csv(out, index=False, header=i == 0, lineterminator="\n")
    return out.getvalue().encode("utf-8")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with a leading apostrophe added to every text cell that starts with one of
    ``FORMULA_STARTS`` (CSV injection). Only text columns are looked at: numbers, negative
    ones included, times and flags are left exactly as they are."""
    out = frame
    for name in frame.columns:
        series = frame[name]
        if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
            continue
        risky = pd.Series(
            [isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in series.tolist()], index=series.index
        )
        if risky.any():
            if out is frame:
                out = frame.copy()
            out[name] = series.where(~risky, "'" + series.astype("str"))
    return out


# --- Parquet ------------------------------------------------------------------------------


def to_parquet_bytes(
    data: Frames, campaigns: pd.DataFrame | None = None, exported_at: datetime | None = None
) -> bytes:
    """Parquet (pyarrow, zstd) keeping the dtypes; timestamps as UTC; column and file
    metadata as described in the module. ``campaigns`` (``Store.campaigns()``) adds each
    exported campaign's period, notes and cloud limit, which an import uses."""
    return _write_parquet(_items(data), "samples", campaigns, exported_at)


def native_pixel_id(epsg, utm_x, utm_y, size_m: int) -> np.ndarray:
    """Stable int64 id of the ``size_m`` pixel (on the UTM grid snapped to multiples of
    ``size_m``, as Sentinel-2's are) holding each point."""
    epsg = np.asarray(epsg, dtype=np.int64)
    ix = np.floor(np.asarray(utm_x, dtype=np.float64) / size_m).astype(np.int64)
    iy = np.floor(np.asarray(utm_y, dtype=np.float64) / size_m).astype(np.int64)
    return epsg * PIXEL_ID_EPSG + ix * PIXEL_ID_EASTING + iy


def to_ml_parquet_bytes(
    data: Frames, campaigns: pd.DataFrame | None = None, exported_at: datetime | None = None
) -> bytes:
    """The ML-ready table (see ``ml_ready_table``) as Parquet with the same metadata."""
    tables = (ml_ready_table(_arrow_table(item)) for item in _items(data))
    return _write_parquet(tables, "ml-ready", campaigns, exported_at)


def ml_ready_table(table: pa.Table) -> pa.Table:
    """The samples with grouping keys first, then the label, the bands in wavelength
    order and the rest; keep rows of one group on the same side of a train/test split.

    ``group_campaign`` is the campaign key, ``group_acquisition`` source/collection/id
    (one image, whichever campaign labelled it), and ``pixelN_id`` the native N m pixel
    holding the sample (its 10 m pixel for N = 10): 10 m samples upsampled from one 20 m
    or 60 m pixel share that pixel's id, so they cannot leak across a split.
    """
    text = table.column("source").type  # string, or large_string from a DataFrame
    parts = [table.column(n).cast(text) for n in ("source", "collection", "acquisition_id")]
    columns: dict[str, pa.Array] = {
        "group_campaign": table.column("campaign_key"),
        "group_acquisition": pc.binary_join_element_wise(*parts, pa.scalar("/", parts[0].type)),
    }
    epsg, x, y = (table.column(n).to_numpy() for n in ("epsg", "utm_x", "utm_y"))
    for size in (10, 20, 60):
        columns[f"pixel{size}_id"] = pa.array(native_pixel_id(epsg, x, y, size))
    first = ["label_value", "label_name", *by_wavelength(table.column_names)]
    rest = [c for c in table.column_names if c not in first and c != "id"]
    for name in first + rest:
        columns[name] = table.column(name)
    return _with_pandas_metadata(pa.table(columns))


def read_parquet_export(data: bytes | BinaryIO) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A Parquet export read back: the samples and its metadata (``{}`` keys if absent),
    with ``campaigns_by_key`` mapping campaign keys to their period and notes."""
    source = pa.BufferReader(data) if isinstance(data, bytes | bytearray | memoryview) else data
    try:
        parquet = pq.ParquetFile(source)
        frame = parquet.read().to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidInputError(
            "The file is not a readable Parquet file. Import a .parquet file exported by this app "
            "(Dataset page, Download Parquet)."
        ) from exc
    stored = parquet.metadata.metadata or {}
    meta: dict[str, Any] = {}
    try:
        if METADATA_KEY.encode() in stored:
            meta.update(json.loads(stored[METADATA_KEY.encode()]))
        listed = json.loads(stored.get(CAMPAIGNS_KEY.encode(), b"[]"))
    except (ValueError, TypeError):
        listed = []
    meta["campaigns_by_key"] = {
        c["campaign_key"]: c for c in listed if isinstance(c, dict) and "campaign_key" in c
    }
    return frame, meta


def _write_parquet(
    items: Iterable[pd.DataFrame | pa.RecordBatch | pa.Table],
    kind: str,
    campaigns: pd.DataFrame | None,
    exported_at: datetime | None,
) -> bytes:
    sink = pa.BufferOutputStream()
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    keys: dict[int, str] = {}
    try:
        for item in items:
            table = _arrow_table(item)
            if {"campaign_id", "campaign_key"} <= set(table.column_names):
                pairs = table.select(["campaign_id", "campaign_key"]).group_by(
                    ["campaign_id", "campaign_key"]
                )
                for row in pairs.aggregate([]).to_pylist():
                    keys[int(row["campaign_id"])] = row["campaign_key"]
            if writer is None:
                schema = _documented_schema(table.schema, file_metadata(kind, exported_at))
                writer = pq.ParquetWriter(
                    sink, schema, compression="zstd", use_dictionary=_dictionary_columns(schema)
                )
            writer.write_table(pa.Table.from_arrays(table.cast(_plain(schema)).columns, schema=schema))
        if writer is None:
            raise InvalidInputError("Nothing to export.")
        listed = _campaign_list(campaigns, keys)
        writer.add_key_value_metadata({CAMPAIGNS_KEY: json.dumps(listed, ensure_ascii=False)})
    finally:
        if writer is not None:
            writer.close()
    return sink.getvalue().to_pybytes()


_DICTIONARY_NUMBERS = {
    "campaign_id",
    "label_value",
    "epsg",
    "acquired_at",
    "cloud_cover",
    "sun_zenith",
    "sun_azimuth",
    "harmonised",
    "created_at",
    "campaign_min_lon",
    "campaign_min_lat",
    "campaign_max_lon",
    "campaign_max_lat",
}


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary-encoding: text and the few-valued numbers. Spectra and
    coordinates are nearly all distinct, and trying a dictionary on them doubles the time."""
    return [
        f.name
        for f in schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or f.name in _DICTIONARY_NUMBERS
    ]


def _documented_schema(schema: pa.Schema, about: dict[str, Any]) -> pa.Schema:
    fields = [field.with_metadata(column_metadata(field.name) or None) for field in schema]
    meta = dict(schema.metadata or {})
    meta[METADATA_KEY.encode()] = json.dumps(about, ensure_ascii=False).encode("utf-8")
    return pa.schema(fields, metadata=meta)


def _plain(schema: pa.Schema) -> pa.Schema:
    return pa.schema([field.remove_metadata() for field in schema])


def _campaign_list(campaigns: pd.DataFrame | None, keys: dict[int, str]) -> list[dict[str, Any]]:
    if campaigns is None or campaigns.empty:
        return []
    out = []
    for row in campaigns.itertuples(index=False):
        key = keys.get(int(row.id))
        if key is None:
            continue
        max_cloud = getattr(row, "max_cloud", None)
        out.append(
            {
                "campaign_key": key,
                "campaign_id": int(row.id),
                "label_value": float(row.label_value),
                "label_name": str(row.label_name),
                "start_date": str(row.start_date),
                "end_date": str(row.end_date),
                "notes": str(getattr(row, "notes", "") or ""),
                "max_cloud": None if max_cloud is None or pd.isna(max_cloud) else float(max_cloud),
            }
        )
    return out


# --- GeoJSON ------------------------------------------------------------------------------


def to_geojson_bytes(data: Frames) -> bytes:
    """A GeoJSON FeatureCollection (RFC 7946): one Point per sample at its WGS84 lon/lat,
    every column as a property (times as ISO 8601 UTC text, missing values as null)."""
    out = io.StringIO()
    about = json.dumps(file_metadata("geojson"), ensure_ascii=False)
    out.write(f'{{"type":"FeatureCollection","{METADATA_KEY}":{about},"features":[')
    first = True
    for frame in _frames(data):
        lon, lat = frame["lon"].tolist(), frame["lat"].tolist()
        for x, y, properties in zip(lon, lat, _json_records(frame), strict=True):
            feature = {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": properties,
            }
            out.write("" if first else ",")
            out.write(json.dumps(feature, ensure_ascii=False, allow_nan=False, separators=(",", ":")))
            first = False
    out.write("]}")
    return out.getvalue().encode("utf-8")


def _json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of JSON-safe Python values."""
    columns: dict[str, list] = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
            text = utc_timestamps(series.to_frame())[name].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            columns[name] = [None if pd.isna(v) else v for v in text.tolist()]
        elif pd.api.types.is_float_dtype(series.dtype):
            columns[name] = [None if math.isnan(v) or math.isinf(v) else v for v in series.tolist()]
        else:
            values = series.astype(object).where(series.notna(), None).tolist()
            columns[name] = [_json_value(v) for v in values]
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, int | bool) else str(value)


# --- Spectra ------------------------------------------------------------------------------


def spectra_long(means: pd.DataFrame) -> pd.DataFrame:
    """Mean reflectance per label and band, long format for a spectrum chart, from one row
    per label with a mean per band column (``Store.band_means()``).

    Columns label_value, label_name, band, centre_nm, reflectance; one row per label and
    band that has a value (e.g. no B10 row for Level-2A-only labels), sorted by label
    value, label name and wavelength.
    """
    bands = band_columns(means)
    if means.empty or not bands:
        return _empty_spectra()
    labels = ["label_value", "label_name"]
    long = means[labels + bands].melt(id_vars=labels, var_name="band", value_name="reflectance")
    long = long.dropna(subset=["reflectance"])
    long["centre_nm"] = long["band"].map(lambda name: BAND_BY_NAME[name].centre_nm).astype("float64")
    long = long.sort_values([*labels, "centre_nm"], kind="stable", ignore_index=True)
    return long[MEAN_SPECTRA_COLUMNS].astype({"reflectance": "float64"})


def _empty_spectra() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label_value": pd.Series(dtype="float64"),
            "label_name": pd.Series(dtype="str"),
            "band": pd.Series(dtype="str"),
            "centre_nm": pd.Series(dtype="float64"),
            "reflectance": pd.Series(dtype="float64"),
        }
    )


# --- Helpers ------------------------------------------------------------------------------


def _items(data: Frames) -> Iterator[pd.DataFrame | pa.RecordBatch | pa.Table]:
    if isinstance(data, pd.DataFrame | pa.RecordBatch | pa.Table):
        yield data
    else:
        yield from data


def _frames(data: Frames) -> Iterator[pd.DataFrame]:
    for item in _items(data):
        yield item if isinstance(item, pd.DataFrame) else arrow_to_frame(item)


def _arrow_table(item: pd.DataFrame | pa.RecordBatch | pa.Table) -> pa.Table:
    """An Arrow table with pandas metadata, so that pandas reads the dtypes back."""
    if isinstance(item, pd.DataFrame):
        return pa.Table.from_pandas(utc_timestamps(item), preserve_index=False)
    table = pa.Table.from_batches([item]) if isinstance(item, pa.RecordBatch) else item
    return table if b"pandas" in (table.schema.metadata or {}) else _with_pandas_metadata(table)


def _with_pandas_metadata(table: pa.Table) -> pa.Table:
    """The table with the pandas metadata of its columns (without any index)."""
    pandas_meta = pa.Schema.from_pandas(arrow_to_frame(table.slice(0, 0)), preserve_index=False).metadata
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **pandas_meta})
