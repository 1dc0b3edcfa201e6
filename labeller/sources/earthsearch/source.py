"""``EarthSearchSource``: Level-2A acquisitions of an area from Earth Search, keyless."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date

import numpy as np

from labeller.aoi import AreaOfInterest
from labeller.bands import L2A
from labeller.errors import NoAcquisitionsError
from labeller.scenes import Acquisition, Progress, Scene
from labeller.settings import stac_url
from labeller.sources.base import ConnectionResult, StatusCallback
from labeller.sources.earthsearch.errors import EarthSearchError, SearchRejectedError
from labeller.sources.earthsearch.items import ItemInfo, parse_item
from labeller.sources.earthsearch.listing import SEPARATOR, merge_by_day, search_items, stac_client
from labeller.sources.earthsearch.reading import ItemPixels, read_items

COLLECTION_ID = "sentinel-2-c1-l2a"
"""Collection 1: the whole archive reprocessed to baseline 05.00 or later, offsets in
``raster:bands``. (The older ``sentinel-2-l2a`` has wrong offset flags on some items.)"""
REQUEST_VERSION = "cog-v1"
"""Names the reading method in the scene cache key: change it with ``reading``."""
NO_ACQUISITIONS = (
    "Earth Search has no Level-2A acquisitions for this area, period and cloud limit: widen the "
    "period or raise the cloud limit."
)


class EarthSearchSource:
    """Sentinel-2 Level-2A from a STAC API serving Earth Search's ``sentinel-2-c1-l2a`` items and
    their public COGs. Thread-safe: prefetch threads call ``scene`` at once."""

    key = "earthsearch"
    title = "Earth Search (no account)"
    collection = L2A

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 20.0,
        retries: int = 2,
        backoff: float = 0.5,
        gdal_options: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param url: STAC API root, e.g. ``https://earth-search.aws.element84.com/v1``.
        :param timeout: seconds to wait for each STAC answer.
        :param retries: retries of a STAC request on 429/5xx or no connection, waiting
            ``backoff`` s and then twice as long (the COG reads retry as ``reading`` says).
        :param gdal_options: GDAL options on top of ``reading.GDAL_OPTIONS``.
        """
        self.url = url.rstrip("/")
        self.cache_id = f"earthsearch|{self.url}|{COLLECTION_ID}|{REQUEST_VERSION}"
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.gdal_options = dict(gdal_options or {})
        self._items: dict[str, list[ItemInfo]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EarthSearchSource({self.url!r})"

    def acquisitions(
        self,
        aoi: AreaOfInterest,
        start: date,
        end: date,
        max_cloud: float | None = None,
        progress: Progress | None = None,
    ) -> list[Acquisition]:
        """One acquisition per UTC day with items over the area, oldest first."""
        if progress:
            progress(0.0, f"Connecting to Earth Search at {self.url}")
        client = stac_client(self.url, self.timeout, self.retries, self.backoff)
        found = search_items(client, self.url, COLLECTION_ID, aoi, start, end, max_cloud, progress)
        merged = merge_by_day(parse_items(found, self.url))
        with self._lock:
            self._items.update({acquisition.id: items for acquisition, items in merged})
        if progress:
            progress(1.0, f"{len(merged)} Earth Search acquisitions ({len(found)} items)")
        if not merged:
            raise NoAcquisitionsError(NO_ACQUISITIONS)
        return [acquisition for acquisition, _ in merged]

    def scene(self, aoi: AreaOfInterest, acquisition: Acquisition) -> Scene:
        """All Level-2A bands as reflectance (DN × scale + offset of each file's
        ``raster:bands``, computed in float64, kept as float32), valid where every band has
        data, SCL in ``extra["SCL"]``; items of the day merged, the first (by id) with data
        at a pixel giving it."""
        items = self._items_of(aoi, acquisition)
        for item in items:
            item.check_complete()
        pixels = read_items(aoi, items, self.gdal_options)
        bands, valid, scl = merge_pixels(aoi, pixels)
        zeniths = [i.sun_zenith for i in items if i.sun_zenith is not None]
        azimuths = [i.sun_azimuth for i in items if i.sun_azimuth is not None]
        return Scene(
            acquisition=acquisition,
            band_names=L2A.band_names,
            bands=bands,
            valid=valid,
            sun_zenith=float(np.mean(zeniths)) if zeniths else float("nan"),
            sun_azimuth=float(np.mean(azimuths)) if azimuths else float("nan"),
            harmonised=all(item.harmonised for item in items),
            extra={"SCL": scl},
        )

    @contextmanager
    def reporting(self, callback: StatusCallback) -> Iterator[None]:
        """Retries happen inside the HTTP clients, bounded and short: nothing to report."""
        yield

    def test_connection(self) -> ConnectionResult:
        """One GET of the API's landing page, no retries, 5 s at most."""
        try:
            stac_client(self.url, timeout=5.0, retries=0, backoff=0.0)
        except EarthSearchError as error:
            return ConnectionResult("unreachable", str(error))
        return ConnectionResult("ok", f"Earth Search at {self.url} answered; no account is needed.")

    def _items_of(self, aoi: AreaOfInterest, acquisition: Acquisition) -> list[ItemInfo]:
        """The items listed for this acquisition, or (another process listed them) searched by id."""
        with self._lock:
            items = self._items.get(acquisition.id)
        if items is None:
            client = stac_client(self.url, self.timeout, self.retries, self.backoff)
            ids = acquisition.id.split(SEPARATOR)
            day = acquisition.time.date()
            found = search_items(client, self.url, COLLECTION_ID, aoi, day, day, None, ids=ids)
            items = sorted(parse_items(found, self.url), key=lambda i: i.id)
            if not items:
                raise NoAcquisitionsError(
                    f"Earth Search no longer lists {acquisition.id}; Skip this date or start again."
                )
            with self._lock:
                self._items[acquisition.id] = items
        return items


def parse_items(found: list[dict], url: str) -> list[ItemInfo]:
    """Item dicts parsed; SearchRejectedError when the API answers something else."""
    try:
        return [parse_item(item) for item in found]
    except (KeyError, TypeError, ValueError) as exc:
        raise SearchRejectedError(
            f"{url} answered items that are not Earth Search Sentinel-2 items ({exc!r}); check that "
            "LABELLER_STAC_URL points at a STAC API serving sentinel-2-c1-l2a."
        ) from exc


def merge_pixels(aoi: AreaOfInterest, pixels: list[ItemPixels]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bands float32, valid, SCL uint8) on the grid from the items' DNs, first item first."""
    rows, cols = aoi.shape
    bands = np.zeros((rows, cols, len(L2A.band_names)), dtype=np.float32)
    valid = np.zeros((rows, cols), dtype=bool)
    scl = np.zeros((rows, cols), dtype=np.uint8)
    for px in pixels:
        assets = px.item.bands
        has_data = np.logical_and.reduce([px.dn[b] != assets[b].nodata for b in L2A.band_names])
        take = has_data & ~valid
        for k, band in enumerate(L2A.band_names):
            dn = px.dn[band][take].astype(np.float64)
            bands[..., k][take] = (dn * assets[band].scale + assets[band].offset).astype(np.float32)
        scl[take] = px.scl[take]
        valid |= take
    return bands, valid, scl


def make_source(environ: Mapping[str, str], **options) -> EarthSearchSource:
    """The source at ``LABELLER_STAC_URL`` (default Earth Search)."""
    return EarthSearchSource(stac_url(environ), **options)
