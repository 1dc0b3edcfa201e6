"""Listing acquisitions through pystac-client: every page of the search, the cloud limit as a
``query`` (stac-server ignores CQL2 ``filter``), items of one UTC day merged into one acquisition
(the area may straddle two MGRS tiles or two orbits)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from pystac_client import Client
from pystac_client.stac_api_io import StacApiIO
from urllib3 import Retry

from labeller.aoi import AreaOfInterest
from labeller.scenes import Acquisition, Progress
from labeller.sources.earthsearch.errors import EarthSearchError, search_error
from labeller.sources.earthsearch.items import ItemInfo

PAGE_SIZE = 100
"""Items per page asked for (stac-server's default is 10)."""
SEPARATOR = "+"
"""Joins the item ids (and tile ids) of a day in ``Acquisition.id`` (``tile_id``)."""


def stac_client(url: str, timeout: float, retries: int, backoff: float) -> Client:
    """A pystac-client ``Client`` for the API root (one GET of the landing page). Retries
    429/5xx and connection failures ``retries`` times, waiting ``backoff`` s, then twice that."""
    retry = Retry(
        total=retries,
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # POST searches are safe to repeat
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    io = StacApiIO(timeout=timeout, max_retries=retry)
    try:
        return Client.open(url, stac_io=io, timeout=timeout)  # open() resets the io's timeout
    except Exception as exc:  # noqa: BLE001 - pystac-client raises APIError and others
        raise search_error(exc, url, "open the catalogue") from exc


def search_items(
    client: Client,
    url: str,
    collection: str,
    aoi: AreaOfInterest,
    start: date,
    end: date,
    max_cloud: float | None,
    progress: Progress | None = None,
    ids: list[str] | None = None,
) -> list[dict]:
    """Every item dict over the area from start to end (whole UTC days), page after page."""
    query = {"eo:cloud_cover": {"lte": max_cloud}} if max_cloud is not None else None
    search = client.search(
        collections=[collection],
        bbox=aoi.bbox,
        datetime=None if ids else f"{start.isoformat()}T00:00:00Z/{end.isoformat()}T23:59:59.999Z",
        query=query,
        ids=ids,
        limit=PAGE_SIZE,
        method="POST",
    )
    items: list[dict] = []
    try:
        for page_number, page in enumerate(_pages(search), start=1):
            items.extend(page.get("features") or [])
            if progress:
                matched = (page.get("context") or {}).get("matched") or page.get("numberMatched")
                of = f" of {matched}" if matched else ""
                progress(min(0.9, 0.1 * page_number), f"Listing Earth Search items: {len(items)}{of}")
    except EarthSearchError:
        raise
    except Exception as exc:  # noqa: BLE001 - APIError, requests errors, bad JSON
        raise search_error(exc, url, "list acquisitions") from exc
    return items


def _pages(search) -> Iterator[dict]:
    return search.pages_as_dicts()


def merge_by_day(items: list[ItemInfo]) -> list[tuple[Acquisition, list[ItemInfo]]]:
    """One acquisition per UTC day, oldest first, with the items it merges (sorted by id)."""
    days: dict[date, list[ItemInfo]] = {}
    for item in items:
        days.setdefault(item.time.date(), []).append(item)
    merged = []
    for day in sorted(days):
        group = sorted({i.id: i for i in days[day]}.values(), key=lambda i: i.id)
        covers = [i.cloud_cover for i in group if i.cloud_cover is not None]
        tiles = sorted({i.tile_id for i in group if i.tile_id})
        baselines = sorted({i.processing_baseline for i in group if i.processing_baseline})
        acquisition = Acquisition(
            id=SEPARATOR.join(i.id for i in group),
            time=min(i.time for i in group),
            cloud_cover=max(covers) if covers else None,
            tile_id=SEPARATOR.join(tiles) or None,
            processing_baseline=SEPARATOR.join(baselines) or None,
        )
        merged.append((acquisition, group))
    return merged
