"""Exports of the samples table as files, and reading a Parquet export back. No SQL.

Every writer takes Arrow data: one table or record batch, or an iterable of them with the same
columns (e.g. ``Store.sample_batches()``), so a million samples stream through in pieces. A
DataFrame (e.g. ``Store.review_table()``) is turned into Arrow once, on the way in, its times
in UTC; from there each format has one path:

- CSV: UTF-8, header, full float precision, ISO 8601 times with offset. Pandas writes the
  text, as it always has (Arrow's CSV writer quotes every text and spells times and flags
  otherwise, which would change every file). A text cell that a spreadsheet would run as a
  formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a
  leading apostrophe (``CSV_FORMULA_NOTE``); numbers are never touched. Parquet and GeoJSON
  keep the exact text.
- Parquet: the Arrow schema documents every column (units, band centre wavelength,
  native resolution, CRS) and the file says which app, schema and time wrote it, and
  carries each campaign's period and notes so that an import (``importing.read_import``) can
  rebuild it. Pandas reads the dtypes back (the file holds pandas' own metadata too).
- GeoJSON: a FeatureCollection of points (WGS84 lon/lat) with every column as properties.
- ML-ready Parquet: the same plus grouping keys against train/test leakage (campaign,
  acquisition, and the native 10, 20 and 60 m pixels each sample lies in).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labeller.bands import by_wavelength
from labeller.column_notes import column_metadata
from labeller.errors import InvalidInputError
from labeller.tables import SCHEMA_VERSION, arrow_to_frame, utc_timestamps

APP_NAME = "S2 Pixel Labeller"
METADATA_KEY = "s2_pixel_labeller"
"""Parquet file metadata key holding a JSON object about the export."""
CAMPAIGNS_KEY = "s2_pixel_labeller.campaigns"
"""Parquet file metadata key holding a JSON list of the exported campaigns."""
EXPORT_FORMAT_VERSION = 1
GROUP_COLUMNS = ("group_campaign", "group_acquisition", "pixel10_id", "pixel20_id", "pixel60_id")
"""Grouping keys of the ML-ready export, its first columns."""
PIXEL_ID_EASTING = 10**7
PIXEL_ID_EPSG = 10**14
"""``pixelN_id = epsg * 10**14 + floor(utm_x / N) * 10**7 + floor(utm_y / N)``."""
GEOJSON_MAX_ROWS = 250_000
"""GeoJSON spends about 1 kB a sample; beyond this, use Parquet."""

Piece = pa.Table | pa.RecordBatch | pd.DataFrame
Tables = Piece | Iterable[Piece]
"""One piece or an iterable of pieces with the same columns: Arrow batches as
``Store.sample_batches()`` streams them, or a DataFrame (converted on the way in)."""


# --- The export's own description ---------------------------------------------------------


def _description(kind: str, exported_at: datetime | None = None) -> dict[str, Any]:
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


FORMULA_START = r"^[=+\-@\t\r]"
"""Text cells matching this make a spreadsheet run them as a formula (OWASP, CSV injection)."""
CSV_FORMULA_NOTE = (
    "Text cells starting with = + - @, a tab or a carriage return get a leading apostrophe (') "
    "so that spreadsheets show them instead of running them as formulas; numbers are unchanged. "
    "Parquet and GeoJSON keep the exact text."
)


def to_csv_bytes(data: Tables) -> bytes:
    """UTF-8 CSV (RFC 4180: CRLF rows, so a text cell holding a carriage return is quoted
    and stays one cell) with a header and no index; floats at full (round-trip) precision,
    timestamps in ISO 8601 with their UTC offset; text that a spreadsheet would run as a
    formula neutralised (``FORMULA_START``)."""
    out = io.StringIO()
    for i, table in enumerate(_tables(data)):
        frame = arrow_to_frame(_neutralise_formulas(table))
        frame.to_csv(out, index=False, header=i == 0, lineterminator="\r\n")
    return out.getvalue().encode("utf-8")


def _neutralise_formulas(table: pa.Table) -> pa.Table:
    """The table with a leading apostrophe on every text cell matching ``FORMULA_START``.
    Only text columns are looked at: numbers, negative ones included, times and flags stay."""
    for i, field in enumerate(table.schema):
        if not _is_text(field.type):
            continue
        column = table.column(i)
        risky = pc.match_substring_regex(column, FORMULA_START)
        if pc.any(risky).as_py():
            quoted = pc.utf8_replace_slice(column, 0, 0, "'")
            table = table.set_column(i, field, pc.if_else(risky, quoted, column))
    return table


# --- Parquet ------------------------------------------------------------------------------


def to_parquet_bytes(
    data: Tables, campaigns: pd.DataFrame | None = None, exported_at: datetime | None = None
) -> bytes:
    """Parquet (pyarrow, zstd) keeping the dtypes; timestamps as UTC; column and file
    metadata as described in the module. ``campaigns`` (``Store.campaigns()``) adds each
    exported campaign's period, notes and cloud limit, which an import uses."""
    return _write_parquet(_tables(data), "samples", campaigns, exported_at)


def to_ml_parquet_bytes(
    data: Tables, campaigns: pd.DataFrame | None = None, exported_at: datetime | None = None
) -> bytes:
    """The samples with grouping keys first, then the label, the bands in wavelength
    order and the rest, as Parquet with the same metadata; keep rows of one group on the
    same side of a train/test split.

    ``group_campaign`` is the campaign key, ``group_acquisition`` source/collection/id
    (one image, whichever campaign labelled it), and ``pixelN_id`` the native N m pixel
    holding the sample (``native_pixel_id``; its 10 m pixel for N = 10): 10 m samples
    upsampled from one 20 m or 60 m pixel share that pixel's id, so they cannot leak across
    a split.
    """
    return _write_parquet((_ml_ready(t) for t in _tables(data)), "ml-ready", campaigns, exported_at)


def native_pixel_id(epsg, utm_x, utm_y, size_m: int) -> np.ndarray:
    """Stable int64 id of the ``size_m`` pixel (on the UTM grid snapped to multiples of
    ``size_m``, as Sentinel-2's are) holding each point."""
    epsg = np.asarray(epsg, dtype=np.int64)
    ix = np.floor(np.asarray(utm_x, dtype=np.float64) / size_m).astype(np.int64)
    iy = np.floor(np.asarray(utm_y, dtype=np.float64) / size_m).astype(np.int64)
    return epsg * PIXEL_ID_EPSG + ix * PIXEL_ID_EASTING + iy


def _ml_ready(table: pa.Table) -> pa.Table:
    text = table.column("source").type  # string, or large_string from a DataFrame
    parts = [table.column(n).cast(text) for n in ("source", "collection", "acquisition_id")]
    epsg, x, y = (table.column(n).to_numpy() for n in ("epsg", "utm_x", "utm_y"))
    keys = [
        table.column("campaign_key"),
        pc.binary_join_element_wise(*parts, pa.scalar("/", parts[0].type)),
        *(pa.array(native_pixel_id(epsg, x, y, size)) for size in (10, 20, 60)),
    ]
    columns = dict(zip(GROUP_COLUMNS, keys, strict=True))
    first = ["label_value", "label_name", *by_wavelength(table.column_names)]
    rest = [c for c in table.column_names if c not in first and c != "id"]
    for name in first + rest:
        columns[name] = table.column(name)
    return pa.table(columns)


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
    tables: Iterable[pa.Table], kind: str, campaigns: pd.DataFrame | None, exported_at: datetime | None
) -> bytes:
    sink = pa.BufferOutputStream()
    writer: pq.ParquetWriter | None = None
    keys: dict[int, str] = {}
    try:
        for table in tables:
            keys.update(_campaign_keys(table))
            if writer is None:
                schema = _documented_schema(table.schema, _description(kind, exported_at))
                writer = pq.ParquetWriter(
                    sink, schema, compression="zstd", use_dictionary=_dictionary_columns(schema)
                )
            writer.write_table(table.cast(schema))  # the writer keeps the documented schema
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
    return [f.name for f in schema if _is_text(f.type) or f.name in _DICTIONARY_NUMBERS]


def _documented_schema(schema: pa.Schema, about: dict[str, Any]) -> pa.Schema:
    """The schema with each column's documentation, the export's description and pandas'
    metadata (so that pandas reads the dtypes back; kept if a DataFrame brought its own)."""
    meta = dict(schema.metadata or {})
    if b"pandas" not in meta:
        frame = arrow_to_frame(schema.empty_table())
        meta.update(pa.Schema.from_pandas(frame, preserve_index=False).metadata)
    meta[METADATA_KEY.encode()] = json.dumps(about, ensure_ascii=False).encode("utf-8")
    return pa.schema([field.with_metadata(column_metadata(field.name) or None) for field in schema], meta)


def _campaign_keys(table: pa.Table) -> dict[int, str]:
    """Campaign id -> campaign key, of the campaigns in the table."""
    if not {"campaign_id", "campaign_key"} <= set(table.column_names):
        return {}
    pairs = table.group_by(["campaign_id", "campaign_key"]).aggregate([])
    return {int(r["campaign_id"]): r["campaign_key"] for r in pairs.to_pylist()}


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


def to_geojson_bytes(data: Tables) -> bytes:
    """A GeoJSON FeatureCollection (RFC 7946): one Point per sample at its WGS84 lon/lat,
    every column as a property (times as ISO 8601 UTC text, missing values as null).
    No GeoJSON library among the dependencies streams a collection with a member of our
    own (``METADATA_KEY``), so the collection is written here, each feature by ``json``."""
    out = io.StringIO()
    about = json.dumps(_description("geojson"), ensure_ascii=False)
    out.write(f'{{"type":"FeatureCollection","{METADATA_KEY}":{about},"features":[')
    first = True
    for table in _tables(data):
        lon, lat = table.column("lon").to_pylist(), table.column("lat").to_pylist()
        for x, y, properties in zip(lon, lat, _json_safe(table).to_pylist(), strict=True):
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


def _json_safe(table: pa.Table) -> pa.Table:
    """Times as ISO 8601 UTC text with microseconds, NaN and infinities as null, dates and
    other types JSON cannot hold as text."""
    for i, field in enumerate(table.schema):
        column, kind = table.column(i), field.type
        if pa.types.is_timestamp(kind):
            utc = column.cast(pa.timestamp("us", "UTC"), safe=False)
            column = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")  # %S has the microseconds
        elif pa.types.is_floating(kind):
            column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, kind))
        elif not (pa.types.is_integer(kind) or pa.types.is_boolean(kind) or _is_text(kind)):
            column = column.cast(pa.string())
        else:
            continue
        table = table.set_column(i, pa.field(field.name, column.type), column)
    return table


# --- Input --------------------------------------------------------------------------------


def _tables(data: Tables) -> Iterator[pa.Table]:
    """Each piece as an Arrow table; a DataFrame's times in UTC (naive ones taken as UTC)."""
    for piece in [data] if isinstance(data, Piece) else data:
        if isinstance(piece, pd.DataFrame):
            yield pa.Table.from_pandas(utc_timestamps(piece), preserve_index=False)
        else:
            yield pa.Table.from_batches([piece]) if isinstance(piece, pa.RecordBatch) else piece


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)
