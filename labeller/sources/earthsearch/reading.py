"""One acquisition's band files → arrays on the area's own 10 m grid, through rasterio/GDAL.

For each band only the window of its COG under the area is read, at the band's native
resolution (10, 20 or 60 m). Each 10 m pixel then takes the value of the native pixel its
centre lies in: nearest neighbour, never interpolated. On the area's own UTM zone the grids
are aligned (both on multiples of 60 m), so every 10 m pixel lies wholly inside one native
pixel and carries exactly its DN.

An item in another UTM zone (an area near a zone edge) is read the same way with the pixel
centres projected into the item's zone: values are still exact DNs of real native pixels,
but the native pixels are rotated against the grid, so a 10 m pixel may take the DN of a
native pixel that only partly covers it (up to about half a native pixel away: 5 m at 10 m,
30 m at 60 m), and a native pixel may be repeated or skipped.

The 13 files of an image (12 bands + SCL) are read concurrently; the GDAL options below keep
the requests to a few per file and are set per read with ``rasterio.Env``, never process-wide.

Each file is opened through GDAL's S3 reader (``/vsis3/``, unsigned: the bucket is public and no
credentials are ever sent), not ``/vsicurl/``: the S3 reader learns the file's size from its
first ranged GET (``Content-Range``) instead of a HEAD before it, so a file whose window lies in
one row of tiles costs two requests (header and tile index, then the row's tiles merged into
one range) instead of three. An href that does not look like an S3 object (a query string, no
bucket) is read with ``/vsicurl/``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.errors import RasterioError
from rasterio.windows import Window

from labeller.aoi import AreaOfInterest
from labeller.sources.earthsearch.errors import EarthSearchError, read_error
from labeller.sources.earthsearch.items import Asset, ItemInfo

GDAL_OPTIONS = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",  # no directory listing (≈10 needless 404s per file)
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",  # one GET for adjacent tiles of a row
    "GDAL_INGESTED_BYTES_AT_OPEN": "65536",  # header and tile index in the first GET
    "GDAL_HTTP_MAX_RETRY": "2",  # on 429/5xx: at most 3 tries per request ...
    "GDAL_HTTP_RETRY_DELAY": "0.5",  # ... after 0.5 s, then 1 s
    "GDAL_HTTP_CONNECTTIMEOUT": "10",
    "GDAL_HTTP_TIMEOUT": "30",
}
"""GDAL configuration for reading public COGs over HTTP."""
FILES_AT_ONCE = 39
"""Band files read at once, process-wide: all 13 of an image, three times (the image shown and
the two fetched ahead), so the one a person waits for never queues behind the others."""
_POOL = ThreadPoolExecutor(max_workers=FILES_AT_ONCE, thread_name_prefix="cog")


@dataclass(frozen=True)
class ItemPixels:
    """One item's DNs on the area's grid."""

    item: ItemInfo
    dn: dict[str, np.ndarray]
    """Band name → (rows, cols) uint16 DN, ``nodata`` where the item has no data."""
    scl: np.ndarray
    """(rows, cols) uint8 scene classes, 0 where there is no data."""


def read_items(
    aoi: AreaOfInterest, items: list[ItemInfo], gdal_options: dict | None = None
) -> list[ItemPixels]:
    """Every band and SCL of each item on the area's grid, all files concurrently.
    Raises the EarthSearchError of the first file that failed."""
    options = {**GDAL_OPTIONS, **(gdal_options or {})}
    jobs = {
        (i, band): _POOL.submit(read_window, aoi, asset, band, options)
        for i, item in enumerate(items)
        for band, asset in (*item.bands.items(), ("SCL", item.scl))
    }
    results = {}
    failure: EarthSearchError | None = None
    for key, job in jobs.items():
        try:
            results[key] = job.result()
        except EarthSearchError as error:
            failure = failure or error
    if failure is not None:
        forget([asset.href for item in items for asset in (*item.bands.values(), item.scl)])
        raise failure
    return [
        ItemPixels(
            item,
            {band: results[(i, band)] for band in item.bands},
            results[(i, "SCL")].astype(np.uint8),
        )
        for i, item in enumerate(items)
    ]


def read_window(aoi: AreaOfInterest, asset: Asset, band: str, options: dict) -> np.ndarray:
    """(rows, cols) DNs of one COG on the area's grid; ``asset.nodata`` outside the file."""
    path, s3_options = gdal_path(asset.href)
    try:
        with rasterio.Env(**options, **s3_options), rasterio.open(path) as src:
            rows, cols = native_pixels(aoi, src.crs.to_epsg(), src.transform)
            inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
            out = np.full(aoi.shape, asset.nodata, dtype=src.dtypes[0])
            if not inside.any():
                return out  # the area lies outside this file: no data
            r0, r1 = int(rows[inside].min()), int(rows[inside].max())
            c0, c1 = int(cols[inside].min()), int(cols[inside].max())
            data = src.read(1, window=Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1))
    except (RasterioError, AttributeError, ValueError) as exc:  # e.g. no CRS, not a raster
        raise read_error(exc, band, asset.href) from exc
    out[inside] = data[rows[inside] - r0, cols[inside] - c0]
    return out


def forget(hrefs: list[str]) -> None:
    """Drop GDAL's in-process cache of these files (size, header, blocks), so that a Retry
    after a truncated or failed answer fetches them anew. Best effort: rasterio does not wrap
    ``VSICurlPartialClearCache``, so it is called from the GDAL library rasterio loaded."""
    gdal = _gdal_library()
    if gdal is None:
        return
    for href in hrefs:
        path, options = gdal_path(href)
        with rasterio.Env(**options):  # the S3 reader needs the endpoint to name the cached URL
            gdal.VSICurlPartialClearCache(path.encode())


S3_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
"""A virtual-hosted S3 address such as Earth Search's ``<bucket>.s3.us-west-2.amazonaws.com``."""


def gdal_path(href: str) -> tuple[str, dict[str, str]]:
    """(GDAL path, extra GDAL options) to read the public file at ``href``.

    ``https://<bucket>.s3.<region>.amazonaws.com/<key>`` (Earth Search's hrefs) becomes
    ``/vsis3/<bucket>/<key>`` with the same host; any other ``http(s)://host/<bucket>/<key>``
    without a query string is read as a path-style S3 object on that host (how the local fake
    serves its files). Requests are never signed."""
    parts = urlsplit(href)
    bucket, _, key = parts.path.lstrip("/").partition("/")
    if parts.scheme not in ("http", "https") or parts.query or parts.fragment or not parts.netloc:
        return f"/vsicurl/{href}", {}
    options = {"AWS_NO_SIGN_REQUEST": "YES", "AWS_HTTPS": "YES" if parts.scheme == "https" else "NO"}
    virtual = S3_HOST.match(parts.hostname or "")
    if virtual and parts.port is None:
        region = virtual["region"] or "us-east-1"
        endpoint = parts.netloc.removeprefix(virtual["bucket"] + ".")
        options |= {"AWS_S3_ENDPOINT": endpoint, "AWS_VIRTUAL_HOSTING": "TRUE", "AWS_REGION": region}
        return f"/vsis3/{virtual['bucket']}/{parts.path.lstrip('/')}", options
    if not bucket or not key:
        return f"/vsicurl/{href}", {}
    options |= {"AWS_S3_ENDPOINT": parts.netloc, "AWS_VIRTUAL_HOSTING": "FALSE"}
    return f"/vsis3/{bucket}/{key}", options


@lru_cache(maxsize=1)
def _gdal_library() -> ctypes.CDLL | None:
    wheel_libs = Path(rasterio.__file__).resolve().parent.parent / "rasterio.libs"
    candidates = [str(p) for p in sorted(wheel_libs.glob("libgdal*.so*"))] + [
        ctypes.util.find_library("gdal")
    ]
    for candidate in filter(None, candidates):
        try:
            gdal = ctypes.CDLL(candidate)
            gdal.VSICurlPartialClearCache.argtypes = [ctypes.c_char_p]
            return gdal
        except (OSError, AttributeError):
            continue
    return None


def native_pixels(aoi: AreaOfInterest, epsg: int, transform) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) in a raster (``epsg``, affine ``transform``, north up) of the native pixel
    holding each 10 m pixel centre of the area."""
    grid_rows, grid_cols = np.indices(aoi.shape)
    x, y = aoi.pixel_to_utm(grid_rows, grid_cols)
    if epsg != aoi.epsg:
        x, y = Transformer.from_crs(aoi.epsg, epsg, always_xy=True).transform(x, y)
    col = np.floor((x - transform.c) / transform.a).astype(np.int64)
    row = np.floor((y - transform.f) / transform.e).astype(np.int64)
    return row, col
