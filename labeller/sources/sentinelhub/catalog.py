"""The Catalog API: every page of a search, and its features merged into one acquisition per
UTC day (pure, but for ``search_features``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sentinelhub import CRS, BBox, SentinelHubCatalog
from sentinelhub.time_utils import parse_time_interval

from labeller.aoi import AreaOfInterest
from labeller.scenes import Acquisition

_BASELINE_IN_ID = re.compile(r"_N(\d{2})(\d{2})(?=_)")
_TILE_IN_ID = re.compile(r"_T(\d{2}[A-Z]{3})(?=_|\.|$)")


def search_features(
    catalog: SentinelHubCatalog,
    collection_id: str,
    aoi: AreaOfInterest,
    start: date,
    end: date,
    max_cloud: float | None,
    page_size: int,
    listed: Callable[[int], None],
) -> list[dict[str, Any]]:
    """Every feature of a search over the AOI's box from ``start`` to ``end`` (whole UTC days),
    all pages; ``listed(count)`` after each full page."""
    features: list[dict[str, Any]] = []
    search = catalog.search(
        collection_id,
        time=parse_time_interval((start, end)),  # from 00:00:00 to 23:59:59 UTC
        bbox=BBox(aoi.bbox, crs=CRS.WGS84),
        filter=cloud_filter(max_cloud),
        limit=page_size,
    )
    for feature in search:
        features.append(feature)
        if len(features) % page_size == 0:
            listed(len(features))
    return features


def cloud_filter(max_cloud: float | None) -> str | None:
    """The CQL2 text filter for a cloud limit in percent, or None for no limit."""
    if max_cloud is None or max_cloud >= 100:
        return None
    return f"eo:cloud_cover <= {max(float(max_cloud), 0.0):g}"


def listing_fraction(listed: int, page_size: int) -> float:
    """A progress fraction that grows with each page without knowing the total."""
    pages = listed / max(page_size, 1)
    return 0.9 * pages / (pages + 1.0)


def processing_baseline(feature: Mapping[str, Any]) -> str | None:
    """``05.09``-style baseline from the properties or, as Sentinel Hub's catalog gives
    none, from the product id (``..._N0509_...``)."""
    props = feature.get("properties") or {}
    for key in ("s2:processing_baseline", "processing:version"):
        if props.get(key):
            return str(props[key])
    match = _BASELINE_IN_ID.search(str(feature.get("id", "")))
    return f"{match[1]}.{match[2]}" if match else None


def tile_id(feature: Mapping[str, Any]) -> str | None:
    """``T33TVM``-style MGRS tile from the properties or the product id (``..._T33TVM_...``)."""
    props = feature.get("properties") or {}
    for key in ("s2:mgrs_tile", "grid:code"):
        value = str(props.get(key) or "").removeprefix("MGRS-").removeprefix("T")
        if value:
            return f"T{value}"
    match = _TILE_IN_ID.search(str(feature.get("id", "")))
    return f"T{match[1]}" if match else None


def parse_time(value: str) -> datetime:
    """A catalog datetime (``2023-06-01T10:26:10.024Z``) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def merge_features(features: list[Mapping[str, Any]]) -> list[Acquisition]:
    """One acquisition per UTC day, oldest first: the earliest tile time, the highest tile
    cloud cover (a conservative figure for the whole day), the tiles and baselines seen."""
    by_day: dict[date, list[Mapping[str, Any]]] = {}
    for feature in features:
        day = parse_time(feature["properties"]["datetime"]).date()
        by_day.setdefault(day, []).append(feature)
    return [_merged(day, tiles) for day, tiles in sorted(by_day.items())]


def _merged(day: date, tiles: list[Mapping[str, Any]]) -> Acquisition:
    covers = [
        float(t["properties"]["eo:cloud_cover"])
        for t in tiles
        if t["properties"].get("eo:cloud_cover") is not None
    ]
    tile_ids = sorted({t for t in map(tile_id, tiles) if t})
    baselines = sorted({b for b in map(processing_baseline, tiles) if b})
    return Acquisition(
        id=f"S2_{day:%Y%m%d}",
        time=min(parse_time(t["properties"]["datetime"]) for t in tiles),
        cloud_cover=max(covers) if covers else None,
        tile_id=",".join(tile_ids) or None,
        processing_baseline="/".join(baselines) or None,
    )
