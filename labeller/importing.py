"""Reading another machine's export for ``Store.import_samples``: the file (Parquet bytes or
a frame), the columns it needs and their kinds, one campaign spec per group of rows, and
the grid. Pure pandas on the export side; the store only writes the checked rows."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import BinaryIO

import numpy as np
import pandas as pd

from labeller.aoi import AreaOfInterest
from labeller.campaign import CampaignSpec
from labeller.errors import InvalidInputError, LabellerError
from labeller.identity import campaign_key, clean_labeller, identity_key
from labeller.tables import BAND_COLUMNS, ImportRows, utc_times


def read_import(
    data: pd.DataFrame | bytes | BinaryIO, campaigns: Mapping[str, Mapping] | None = None
) -> ImportRows:
    """The samples of an export (a frame like ``Store.samples()``, or the bytes of a Parquet
    export), checked and grouped by campaign, for ``Store.import_samples``.

    ``campaigns`` (by campaign key) gives new campaigns their period and notes; a Parquet
    export carries it in its metadata. InvalidInputError says what is wrong with the file.
    """
    if not isinstance(data, pd.DataFrame):
        from labeller.export import read_parquet_export  # the file format lives there

        data, meta = read_parquet_export(data)
        campaigns = campaigns or meta.get("campaigns_by_key", {})
    if data.empty:
        raise InvalidInputError(
            "The file to import holds no samples; export some samples and import that file."
        )
    groups = import_groups(import_frame(data), campaigns or {})
    return ImportRows(groups=tuple(groups), n_input=len(data))


IDENTITY_COLUMNS = (
    "campaign_min_lon",
    "campaign_min_lat",
    "campaign_max_lon",
    "campaign_max_lat",
    "label_value",
    "label_name",
    "source",
    "collection",
)
_REQUIRED_FOR_IMPORT = (
    *IDENTITY_COLUMNS,
    "acquisition_id",
    "acquired_at",
    "row",
    "col",
    "lon",
    "lat",
    "utm_x",
    "utm_y",
    "epsg",
)
_IMPORT_TEXT = ("tile_id", "processing_baseline", "labeller")
_IMPORT_FLOATS = (
    "lon",
    "lat",
    "utm_x",
    "utm_y",
    "cloud_cover",
    "sun_zenith",
    "sun_azimuth",
    "cloud_probability",
    "scl_class",
    *BAND_COLUMNS,
)
_IMPORT_BOOLEANS = ("harmonised", "cloud_flagged", "cloud_included")
_GRID_TOLERANCE_M = 1e-3


def import_frame(data: pd.DataFrame) -> pd.DataFrame:
    """The rows to import with checked, stable dtypes, repeated keys dropped."""
    missing = [name for name in _REQUIRED_FOR_IMPORT if name not in data.columns]
    if missing:
        raise InvalidInputError(
            f"The file to import lacks the columns {', '.join(missing)}. Import a Parquet file that "
            "this app exported (Dataset page, Download Parquet)."
        )
    frame = pd.DataFrame(index=pd.RangeIndex(len(data)))
    try:
        for name in (
            "campaign_min_lon",
            "campaign_min_lat",
            "campaign_max_lon",
            "campaign_max_lat",
            "label_value",
            *_IMPORT_FLOATS,
        ):
            values = pd.Series(data[name].to_numpy() if name in data.columns else np.nan, index=frame.index)
            frame[name] = pd.to_numeric(values, errors="raise").astype("float64")
        for name in ("row", "col", "epsg"):
            values = pd.to_numeric(data[name], errors="raise")
            if values.isna().any() or (values != np.floor(values)).any():
                raise ValueError(f"{name} must hold whole numbers")
            frame[name] = values.to_numpy(dtype=np.int64)
        for name in ("acquired_at", "created_at"):
            if name in data.columns:
                frame[name] = utc_times(pd.Series(data[name].to_numpy(), index=frame.index))
        if "created_at" not in frame.columns or frame["created_at"].isna().any():
            frame["created_at"] = frame.get("created_at", pd.Series(pd.NaT, index=frame.index)).fillna(
                pd.Timestamp(datetime.now(UTC))
            )
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"The file to import has values of the wrong kind ({str(exc)[:120]}); import a file "
            "exported by this app, unchanged."
        ) from exc
    for name in ("acquisition_id", "source", "collection"):
        frame[name] = data[name].astype("str")
    frame["label_name"] = data["label_name"].fillna("").astype("str")
    for name in _IMPORT_TEXT:
        values = data[name].to_numpy() if name in data.columns else None
        frame[name] = pd.Series(values, index=frame.index, dtype="object").astype("str")
    names = frame["labeller"].dropna().unique()
    frame["labeller"] = frame["labeller"].map({n: clean_labeller(n) for n in names}).astype("str")
    for name in _IMPORT_BOOLEANS:
        values = data[name] if name in data.columns else pd.Series(pd.NA, index=frame.index)
        frame[name] = pd.Series(values.to_numpy(), index=frame.index).astype("boolean")
    required = frame[list(_REQUIRED_FOR_IMPORT)]
    if required.isna().any().any():
        empty = required.columns[required.isna().any()].tolist()
        raise InvalidInputError(
            f"The file to import has empty values in {', '.join(empty)}, which every sample needs. "
            "Import a file exported by this app, unchanged."
        )
    key = [*IDENTITY_COLUMNS, "acquisition_id", "row", "col"]
    return frame.drop_duplicates(subset=key, keep="first", ignore_index=True)


def import_groups(
    frame: pd.DataFrame, campaigns: Mapping[str, Mapping]
) -> list[tuple[CampaignSpec, pd.DataFrame]]:
    """The rows of each campaign with the campaign's spec (period and notes from
    ``campaigns`` by key where given, else the span of the acquisitions)."""
    out = []
    for identity, rows in frame.groupby(list(IDENTITY_COLUMNS), sort=True, dropna=False):
        min_lon, min_lat, max_lon, max_lat, label_value, label_name, source, collection = identity
        where = (
            f"the samples with box ({min_lon:g}, {min_lat:g}, {max_lon:g}, {max_lat:g}) and label "
            f"{label_value:g}"
        )
        days = rows["acquired_at"].dt.date
        try:
            spec = CampaignSpec(
                aoi=AreaOfInterest(min_lon, min_lat, max_lon, max_lat),
                label_value=label_value,
                label_name=label_name,
                notes="",
                source=source,
                collection=collection,
                start=days.min(),
                end=min(days.max(), date.today()),
            )
        except LabellerError as exc:
            raise InvalidInputError(f"Cannot import {where}: {exc}") from exc
        meta = campaigns.get(campaign_key(identity_key(spec))) or {}
        # Metadata that does not fit leaves the period of the samples themselves.
        with contextlib.suppress(LabellerError, ValueError, TypeError):
            spec = CampaignSpec(
                aoi=spec.aoi,
                label_value=spec.label_value,
                label_name=spec.label_name,
                notes=str(meta.get("notes") or ""),
                source=spec.source,
                collection=spec.collection,
                start=date.fromisoformat(meta["start_date"]) if meta.get("start_date") else spec.start,
                end=date.fromisoformat(meta["end_date"]) if meta.get("end_date") else spec.end,
                max_cloud=None if meta.get("max_cloud") is None else float(meta["max_cloud"]),
            )
        check_grid(spec.aoi, rows, f"{campaign_key(identity_key(spec))} ({where})")
        out.append((spec, rows))
    return out


def check_grid(aoi: AreaOfInterest, rows: pd.DataFrame, campaign: str) -> None:
    """Refuse samples whose row/col and coordinates are not on the campaign's grid."""
    r, c = rows["row"].to_numpy(), rows["col"].to_numpy()
    n_rows, n_cols = aoi.shape
    x, y = aoi.pixel_to_utm(r, c)
    off = (
        (r < 0)
        | (r >= n_rows)
        | (c < 0)
        | (c >= n_cols)
        | (rows["epsg"].to_numpy() != aoi.epsg)
        | (np.abs(rows["utm_x"].to_numpy() - x) > _GRID_TOLERANCE_M)
        | (np.abs(rows["utm_y"].to_numpy() - y) > _GRID_TOLERANCE_M)
    )
    if off.any():
        raise InvalidInputError(
            f"{int(off.sum())} samples for campaign {campaign} do not lie on its 10 m grid (their "
            "row, column and UTM coordinates disagree); the file may have been edited. Nothing was "
            "imported."
        )
