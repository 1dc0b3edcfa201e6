"""Earth Search ``sentinel-2-c1-l2a`` item JSON → what reading one acquisition needs. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from labeller.bands import L2A
from labeller.sources.earthsearch.errors import MissingAssetsError

ASSET_OF_BAND: dict[str, str] = {
    "B01": "coastal",
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B05": "rededge1",
    "B06": "rededge2",
    "B07": "rededge3",
    "B08": "nir",
    "B8A": "nir08",
    "B09": "nir09",
    "B11": "swir16",
    "B12": "swir22",
}
"""Earth Search asset key of each Level-2A band (there is no B10 in Level-2A)."""
SCL_ASSET = "scl"
"""The scene classification layer (20 m), kept in ``Scene.extra["SCL"]``."""
OFFSET_BASELINE = "04.00"
"""From this processing baseline on, DNs carry a +1000 offset (``raster:bands`` offset −0.1)."""


@dataclass(frozen=True)
class Asset:
    """One band file of an item."""

    href: str
    """URL of the COG."""
    scale: float
    """Reflectance = DN × scale + offset (``raster:bands``)."""
    offset: float
    nodata: int
    """DN meaning no data (0)."""


@dataclass(frozen=True)
class ItemInfo:
    """One STAC item (one MGRS tile of one pass) as the reader needs it."""

    id: str
    time: datetime
    """Sensing time, UTC."""
    cloud_cover: float | None
    """``eo:cloud_cover`` in percent."""
    tile_id: str | None
    """MGRS tile, e.g. ``33TVM``."""
    processing_baseline: str | None
    """``s2:processing_baseline``, e.g. ``05.09``."""
    sun_zenith: float | None
    """90° − ``view:sun_elevation``."""
    sun_azimuth: float | None
    bands: dict[str, Asset]
    """Band name (``B01`` …) → its asset, for every Level-2A band."""
    scl: Asset | None
    """The scene classification layer."""
    missing: tuple[str, ...] = ()
    """Bands (and ``SCL``) whose file the item lacks; ``check_complete`` says so."""

    def check_complete(self) -> None:
        """MissingAssetsError when a band file is not in the item."""
        if self.missing:
            raise MissingAssetsError(
                f"Earth Search item {self.id} lacks the files of {', '.join(self.missing)}, so this "
                "date cannot be shown; Skip it."
            )

    @property
    def harmonised(self) -> bool:
        """True when DN × scale + offset puts this item on the common reflectance scale:
        every band's offset is given for baseline 04.00 and later, or none is needed before."""
        if (self.processing_baseline or "00.00") < OFFSET_BASELINE:
            return all(a.offset == 0 for a in self.bands.values())
        return all(a.offset != 0 for a in self.bands.values())


def parse_item(item: dict) -> ItemInfo:
    """The reader's view of an item dict; band files it lacks are listed in ``missing``."""
    props = item.get("properties") or {}
    assets = item.get("assets") or {}
    wanted = {**{b: ASSET_OF_BAND[b] for b in L2A.band_names}, "SCL": SCL_ASSET}
    found = {band: _asset(assets[key]) for band, key in wanted.items() if (assets.get(key) or {}).get("href")}
    elevation = props.get("view:sun_elevation")
    return ItemInfo(
        id=str(item["id"]),
        time=parse_time(props["datetime"]),
        cloud_cover=_float(props.get("eo:cloud_cover")),
        tile_id=_tile_id(props),
        processing_baseline=props.get("s2:processing_baseline"),
        sun_zenith=None if elevation is None else 90.0 - float(elevation),
        sun_azimuth=_float(props.get("view:sun_azimuth")),
        bands={band: found[band] for band in L2A.band_names if band in found},
        scl=found.get("SCL"),
        missing=tuple(band for band in wanted if band not in found),
    )


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as timezone-aware UTC."""
    time = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)


def _asset(asset: dict) -> Asset:
    raster = (asset.get("raster:bands") or [{}])[0]
    return Asset(
        href=str(asset["href"]),
        scale=float(raster.get("scale", 1.0)),
        offset=float(raster.get("offset", 0.0)),
        nodata=int(raster.get("nodata", 0)),
    )


def _tile_id(props: dict) -> str | None:
    zone, band, square = (props.get(f"mgrs:{k}") for k in ("utm_zone", "latitude_band", "grid_square"))
    if zone is not None and band and square:
        return f"{int(zone):02d}{band}{square}"
    code = str(props.get("grid:code") or "")
    return code.removeprefix("MGRS-") or None


def _float(value) -> float | None:
    return None if value is None else float(value)
