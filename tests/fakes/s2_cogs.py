"""Earth Search-like Sentinel-2 Level-2A COGs and STAC items, made with rasterio from the real
sample (``shared/data/s2_l1c_slovenia_2015.npz``, five dates near Ljubljana).

Each item is one MGRS-tile-like file set on EPSG:32633: 12 bands at their native resolution
(10, 20 or 60 m) and SCL at 20 m, 7.68 km a side, tiled 256 × 256 with overviews, DEFLATE,
uint16 DN = round(reflectance × 10000) + 1000 (the offset of baseline 04.00 and later), 0 =
no data. The real 1 km sample sits in the middle, the rest of the file is its mirror image,
and a 600 m border of each file is no data (like the edge of a real tile). 20 and 60 m bands
average the 10 m values over their native pixel. SCL: 9/8 bright (cloud), 4 vegetation, 5
otherwise. (The sample is top-of-atmosphere Level-1C: its values stand in for Level-2A.)

The sample's area (``SAMPLE_BBOX``) straddles the files' tile boundary at 10 m, so a read of it
touches four tiles of each 10 m file. On the first date a second item (tile ``33TVL``, sorted
first) has data only east of the middle of the area, with every DN one higher, so merging
two items of one day is visible in the values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.transform import rowcol

from labeller.aoi import AreaOfInterest
from labeller.bands import L2A
from labeller.sources.earthsearch.items import ASSET_OF_BAND

SAMPLE_NAME = "s2_l1c_slovenia_2015.npz"
SAMPLE_BBOX = (14.5514, 45.8659, 14.5642, 45.8750)
"""The sample's area; the grid of this AOI is 102 × 102 pixels on EPSG:32633."""
EPSG = 32633
ORIGIN = (463200.0, 5082240.0)
"""West and north edge of every file: 1980 m (198 px at 10 m) west and north of the area."""
SIZE_M = 7680
NODATA_BORDER_M = 600
BLOCK = 256
SPLIT_M = 2520
"""The first date's second item has data only east of this (metres from the west edge): the
eastern half of the area."""
CLOUD = (1.0, 75.0, 97.0, 2.0, 3.0)
"""eo:cloud_cover of the five dates."""
RESOLUTION = {
    b: (10 if b in ("B02", "B03", "B04", "B08") else 60 if b in ("B01", "B09") else 20)
    for b in L2A.band_names
}
RESOLUTION["SCL"] = 20
FILE_OF = {**{b: f"{b}.tif" for b in L2A.band_names}, "SCL": "SCL.tif"}


def find_sample(start: Path | None = None) -> Path | None:
    """The real sample in ``shared/data`` beside this checkout or one of its parents."""
    here = (start or Path(__file__)).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "data" / SAMPLE_NAME
        if candidate.is_file():
            return candidate
    return None


STANDIN_DATES = ("2024-06-04", "2024-07-19", "2024-08-08", "2024-08-13", "2024-09-17")
"""Demo dates standing in for the real five when the sample is absent: clear, broken cloud,
overcast, clear, clear (the real sample's pattern)."""


def sample_or_standin(folder: Path) -> Path:
    """The real sample, or (in a clone without ``shared/``) a stand-in written to ``folder``:
    the demo source's Level-1C scenes of the sample's area on five demo dates, stored under the
    real sample's keys and timestamps. The fake's files and every expected value are made from
    whichever is used, so the tests of reading, offsets and requests run in every clone."""
    sample = find_sample()
    if sample is not None:
        return sample
    from labeller.sources.demo import DemoSource

    path = folder / "standin_" / SAMPLE_NAME
    if path.is_file():
        return path
    demo, aoi = DemoSource(), AreaOfInterest(*SAMPLE_BBOX)
    first, last = (
        datetime.fromisoformat(STANDIN_DATES[0]).date(),
        datetime.fromisoformat(STANDIN_DATES[-1]).date(),
    )
    by_day = {a.time.date().isoformat(): a for a in demo.acquisitions(aoi, first, last)}
    scenes = [demo.scene(aoi, by_day[day]) for day in STANDIN_DATES]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        bands=np.stack([np.where(s.valid[..., None], s.bands, 0) for s in scenes]).astype(np.float32),
        band_names=np.array(scenes[0].band_names),
        timestamps=np.array(
            ["2015-07-11T10:00:08", "2015-07-31T10:00:09", "2015-08-20T10:07:28", "2015-08-30T10:05:47",
             "2015-09-09T10:00:17"]
        ),
    )  # fmt: skip
    return path


@dataclass(frozen=True)
class FakeItem:
    """One item: its id, time, tile and where its files are (relative to the COG root)."""

    id: str
    time: datetime
    tile: str
    cloud_cover: float
    folder: str
    east_half_only: bool = False
    copy: int = 0
    """0 for the real dates; k for the copy ``k`` × 70 days later (served from the same files
    under other URLs, for benchmarks that need more images)."""

    def path(self, root: Path, band: str) -> Path:
        return root / self.folder / FILE_OF[band]

    def href(self, base_url: str, band: str) -> str:
        return f"{base_url}/cogs/c{self.copy}/{self.folder}/{FILE_OF[band]}"

    def copied(self, k: int) -> FakeItem:
        time = self.time + timedelta(days=70 * k)
        return replace(
            self, id=self.id.replace(f"{self.time:%Y%m%dT%H%M%S}", f"{time:%Y%m%dT%H%M%S}"), time=time, copy=k
        )


def build(root: Path, sample: Path) -> list[FakeItem]:
    """Write every item's COGs under ``root`` (once; reused when present) and list the items."""
    with np.load(sample) as data:
        reflectance = data["bands"]
        names = [str(n) for n in data["band_names"]]
        times = [datetime.fromisoformat(str(t)).replace(tzinfo=UTC) for t in data["timestamps"]]
    items = []
    for k, time in enumerate(times):
        day = f"{time:%Y%m%dT%H%M%S}"
        items.append(FakeItem(f"S2A_T33TVM_{day}_L2A", time, "33TVM", CLOUD[k], f"33TVM_{day}"))
        if k == 0:
            items.append(FakeItem(f"S2A_T33TVL_{day}_L2A", time, "33TVL", CLOUD[k], f"33TVL_{day}", True))
    for item in items:
        if (root / item.folder / "done").is_file():
            continue
        k = times.index(item.time)
        canvas = _canvas(reflectance[k], names)
        (root / item.folder).mkdir(parents=True, exist_ok=True)
        for band in (*L2A.band_names, "SCL"):
            dn = _scl(canvas) if band == "SCL" else _dn(canvas[band], RESOLUTION[band])
            if item.east_half_only:
                dn = np.where(dn > 0, dn + 1, 0).astype(dn.dtype)
                dn[:, : SPLIT_M // RESOLUTION[band]] = 0
            _write_cog(item.path(root, band), dn, RESOLUTION[band])
        (root / item.folder / "done").write_text("ok")
    return items


def _canvas(image: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """10 m reflectance of one date over a whole file: the sample at the area, mirrored around."""
    n = SIZE_M // 10
    top, left = 198, 198  # the sample's first row and column in the file
    out = {}
    for band in L2A.band_names:
        sample = image[..., names.index(band)].astype(np.float64)
        rows, cols = sample.shape
        padded = np.pad(sample, ((top, n - top - rows), (left, n - left - cols)), mode="symmetric")
        out[band] = padded
    return out


def _mean_to(values: np.ndarray, resolution: int) -> np.ndarray:
    f = resolution // 10
    n = values.shape[0] // f
    return values.reshape(n, f, n, f).mean(axis=(1, 3))


def _dn(reflectance10: np.ndarray, resolution: int) -> np.ndarray:
    dn = np.clip(np.round(_mean_to(reflectance10, resolution) * 10000) + 1000, 1, 65535).astype(np.uint16)
    border = NODATA_BORDER_M // resolution
    mask = np.zeros_like(dn, dtype=bool)
    mask[border:-border, border:-border] = True
    return np.where(mask, dn, 0).astype(np.uint16)


def _scl(canvas: dict[str, np.ndarray]) -> np.ndarray:
    blue, red, nir = (_mean_to(canvas[b], 20) for b in ("B02", "B04", "B08"))
    ndvi = (nir - red) / np.maximum(nir + red, 1e-6)
    scl = np.where(blue > 0.25, 9, np.where(blue > 0.15, 8, np.where(ndvi > 0.4, 4, 5))).astype(np.uint8)
    border = NODATA_BORDER_M // 20
    out = np.zeros_like(scl)
    out[border:-border, border:-border] = scl[border:-border, border:-border]
    return out


def _write_cog(path: Path, data: np.ndarray, resolution: int) -> None:
    profile = {
        "driver": "COG",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": f"EPSG:{EPSG}",
        "transform": Affine(resolution, 0, ORIGIN[0], 0, -resolution, ORIGIN[1]),
        "nodata": 0,
        "compress": "DEFLATE",
        "predictor": 2,
        "blocksize": BLOCK,
    }
    partial = path.with_suffix(".part.tif")
    with rasterio.open(partial, "w", **profile) as dst:
        dst.write(data, 1)
    partial.rename(path)


def expected_dn(root: Path, item: FakeItem, band: str, aoi: AreaOfInterest) -> np.ndarray:
    """(rows, cols) DN of the native pixel under each 10 m pixel centre of ``aoi``, read from
    the file on disk (independently of the app's reader)."""
    rows, cols = np.indices(aoi.shape)
    x, y = aoi.pixel_to_utm(rows, cols)
    with rasterio.open(item.path(root, band)) as src:
        data = src.read(1)
        r, c = rowcol(src.transform, x.ravel(), y.ravel())
    r, c = np.asarray(r), np.asarray(c)
    inside = (r >= 0) & (r < data.shape[0]) & (c >= 0) & (c < data.shape[1])
    out = np.zeros(r.shape, dtype=data.dtype)
    out[inside] = data[r[inside], c[inside]]
    return out.reshape(aoi.shape)


def aoi_in_files(east: tuple[float, float], south: tuple[float, float]) -> AreaOfInterest:
    """The AOI whose WGS84 corners lie ``east`` (west, east edge) and ``south`` (south, north
    edge) metres from the files' north-west corner ``ORIGIN``."""
    from pyproj import Transformer

    west, north = ORIGIN
    to_wgs = Transformer.from_crs(EPSG, 4326, always_xy=True)
    lon0, lat0 = to_wgs.transform(west + east[0], north - south[0])
    lon1, lat1 = to_wgs.transform(west + east[1], north - south[1])
    return AreaOfInterest(lon0, lat0, lon1, lat1)


def item_json(item: FakeItem, base_url: str, baseline: str = "05.00") -> dict:
    """An Earth Search ``sentinel-2-c1-l2a``-shaped item for ``item`` with hrefs on ``base_url``."""
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(EPSG, 4326, always_xy=True)
    west, north = ORIGIN
    east, south = west + SIZE_M, north - SIZE_M
    lon0, lat0, lon1, lat1 = to_wgs.transform_bounds(west, south, east, north, densify_pts=21)
    assets = {}
    for band in (*L2A.band_names, "SCL"):
        key = "scl" if band == "SCL" else ASSET_OF_BAND[band]
        res = RESOLUTION[band]
        raster = {"nodata": 0, "data_type": "uint8" if band == "SCL" else "uint16", "spatial_resolution": res}
        if band != "SCL":
            raster |= {"bits_per_sample": 15, "scale": 0.0001, "offset": -0.1}
        assets[key] = {
            "href": item.href(base_url, band),
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"{band} - {res}m",
            "proj:shape": [SIZE_M // res, SIZE_M // res],
            "proj:transform": [res, 0, west, 0, -res, north],
            "raster:bands": [raster],
            "roles": ["data"],
        }
    zone, lat_band, square = item.tile[:2], item.tile[2], item.tile[3:]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
        ],
        "id": item.id,
        "collection": "sentinel-2-c1-l2a",
        "bbox": [lon0, lat0, lon1, lat1],
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
        },
        "properties": {
            "datetime": item.time.isoformat().replace("+00:00", "Z"),
            "platform": "sentinel-2a",
            "constellation": "sentinel-2",
            "eo:cloud_cover": item.cloud_cover,
            "proj:epsg": EPSG,
            "mgrs:utm_zone": int(zone),
            "mgrs:latitude_band": lat_band,
            "mgrs:grid_square": square,
            "grid:code": f"MGRS-{item.tile}",
            "s2:processing_baseline": baseline,
            "view:sun_azimuth": 150.0,
            "view:sun_elevation": 60.0,
        },
        "links": [],
        "assets": assets,
    }
