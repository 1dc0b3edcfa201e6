"""Area of interest: a WGS84 bounding box validated once, and its fixed 10 m UTM pixel grid.

The grid lies in the UTM zone of the box's centre. Its edges are snapped outwards to
multiples of 60 m, as the Sentinel-2 tile grids are, so every 10 m pixel lies inside
exactly one native 20 m and one native 60 m pixel. Row 0 is the north edge, column 0
the west edge. Every scene of one AOI shares this grid, so a selection of (row, col)
carries from one date to the next unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pyproj import Transformer

from labeller.errors import InvalidAOIError

PIXEL_SIZE_M = 10
GRID_SNAP_M = 60
MIN_SPAN_DEG = 1e-5
"""Narrower boxes (about a metre) are treated as having no area."""
MAX_SIDE_PX = 128
"""Largest AOI side in 10 m pixels (1.28 km). The labelling view enlarges each pixel to at
least 4 screen pixels so that a single pixel can be hit with a mouse; 128 × 4 = 512 px
fits below the page header of a 1366 × 768 laptop screen without scrolling."""


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 / UTM zone holding (lon, lat): 326zz north, 327zz south."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


@dataclass(frozen=True)
class AreaOfInterest:
    """A validated WGS84 box and the 10 m UTM grid that covers it."""

    min_lon: float
    """West edge, degrees east."""
    min_lat: float
    """South edge, degrees north."""
    max_lon: float
    """East edge, degrees east."""
    max_lat: float
    """North edge, degrees north."""

    def __post_init__(self) -> None:
        validate_bbox(self.min_lon, self.min_lat, self.max_lon, self.max_lat)
        rows, cols = self.shape
        if rows > MAX_SIDE_PX or cols > MAX_SIDE_PX:
            raise InvalidAOIError(
                f"The area is {cols} × {rows} pixels at 10 m; the most is {MAX_SIDE_PX} × "
                f"{MAX_SIDE_PX} ({MAX_SIDE_PX * PIXEL_SIZE_M / 1000:g} km a side) so that single "
                "pixels stay clickable. Draw or type a smaller box."
            )

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat)."""
        return (self.min_lon, self.min_lat, self.max_lon, self.max_lat)

    @cached_property
    def epsg(self) -> int:
        """EPSG code of the UTM zone of the box's centre."""
        return utm_epsg((self.min_lon + self.max_lon) / 2, (self.min_lat + self.max_lat) / 2)

    @cached_property
    def _to_utm(self) -> Transformer:
        return Transformer.from_crs(4326, self.epsg, always_xy=True)

    @cached_property
    def _to_wgs84(self) -> Transformer:
        return Transformer.from_crs(self.epsg, 4326, always_xy=True)

    @cached_property
    def utm_bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) of the grid in metres, snapped outwards to 60 m."""
        minx, miny, maxx, maxy = self._to_utm.transform_bounds(*self.bbox, densify_pts=21)
        snap = GRID_SNAP_M
        return (
            math.floor(minx / snap) * snap,
            math.floor(miny / snap) * snap,
            math.ceil(maxx / snap) * snap,
            math.ceil(maxy / snap) * snap,
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the 10 m grid."""
        minx, miny, maxx, maxy = self.utm_bounds
        return (round((maxy - miny) / PIXEL_SIZE_M), round((maxx - minx) / PIXEL_SIZE_M))

    @property
    def rows(self) -> int:
        return self.shape[0]

    @property
    def cols(self) -> int:
        return self.shape[1]

    def pixel_to_utm(self, row, col):
        """UTM x, y (metres) of pixel centres. Accepts scalars or arrays."""
        minx, _, _, maxy = self.utm_bounds
        row = np.asarray(row, dtype=float)
        col = np.asarray(col, dtype=float)
        return minx + (col + 0.5) * PIXEL_SIZE_M, maxy - (row + 0.5) * PIXEL_SIZE_M

    def utm_to_pixel(self, x, y):
        """(row, col) of the pixels holding UTM points; may fall outside the grid."""
        minx, _, _, maxy = self.utm_bounds
        col = np.floor((np.asarray(x, dtype=float) - minx) / PIXEL_SIZE_M).astype(int)
        row = np.floor((maxy - np.asarray(y, dtype=float)) / PIXEL_SIZE_M).astype(int)
        return row, col

    def pixel_to_lonlat(self, row, col):
        """WGS84 lon, lat of pixel centres."""
        return self._to_wgs84.transform(*self.pixel_to_utm(row, col))

    def lonlat_to_pixel(self, lon, lat):
        """(row, col) of the pixels holding WGS84 points; may fall outside the grid."""
        return self.utm_to_pixel(*self._to_utm.transform(np.asarray(lon), np.asarray(lat)))

    def grid_lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """lon, lat arrays of shape (rows, cols) for every pixel centre."""
        rows, cols = np.mgrid[0 : self.rows, 0 : self.cols]
        lon, lat = self.pixel_to_lonlat(rows, cols)
        return np.asarray(lon), np.asarray(lat)

    def typed_mask(self) -> np.ndarray:
        """(rows, cols) bool: True where the pixel centre lies inside the typed box (the grid
        is snapped outwards, so a rim of pixels lies outside it)."""
        lon, lat = self.grid_lonlat()
        return (lon >= self.min_lon) & (lon <= self.max_lon) & (lat >= self.min_lat) & (lat <= self.max_lat)

    def describe(self) -> str:
        """One line for people: size in pixels and metres, and the grid's CRS."""
        rows, cols = self.shape
        return (
            f"{cols} × {rows} pixels at 10 m ({cols * PIXEL_SIZE_M / 1000:g} × "
            f"{rows * PIXEL_SIZE_M / 1000:g} km), grid EPSG:{self.epsg}"
        )


def validate_bbox(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> None:
    """Raise InvalidAOIError with a message saying what to change, or return None."""
    values = {"min lon": min_lon, "min lat": min_lat, "max lon": max_lon, "max lat": max_lat}
    for name, value in values.items():
        if value is None or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidAOIError(f"{name} must be a finite number of degrees, got {value!r}.")
    for name in ("min lon", "max lon"):
        if not -180.0 <= values[name] <= 180.0:
            raise InvalidAOIError(f"{name} is {values[name]:g}; longitude must lie between -180 and 180.")
    for name in ("min lat", "max lat"):
        if not -84.0 <= values[name] <= 84.0:
            raise InvalidAOIError(
                f"{name} is {values[name]:g}; latitude must lie between -84 and 84 "
                "(the UTM grid, and Sentinel-2's regular coverage, end there)."
            )
    if min_lon > max_lon and min_lon - max_lon > 180.0:
        raise InvalidAOIError(
            "The box crosses the antimeridian (180°). Split it into two boxes, one on each side."
        )
    if abs(max_lon - min_lon) < MIN_SPAN_DEG or abs(max_lat - min_lat) < MIN_SPAN_DEG:
        raise InvalidAOIError(
            "The box has (almost) zero area: min and max must differ by at least 0.00001° "
            "(about a metre) in both lon and lat."
        )
    if min_lon > max_lon:
        raise InvalidAOIError(f"min lon ({min_lon:g}) must be less than max lon ({max_lon:g}).")
    if min_lat > max_lat:
        raise InvalidAOIError(f"min lat ({min_lat:g}) must be less than max lat ({max_lat:g}).")


BBOX_FIELDS = ("Min lon (west)", "Min lat (south)", "Max lon (east)", "Max lat (north)")
"""The four numbers of a box, as a form names them (the order of ``AreaOfInterest``)."""
S2_COVERAGE_LAT = (-56.0, 84.0)
"""Latitudes of Sentinel-2's regular acquisitions (the mission's land coverage)."""


def parse_degrees(text, name: str) -> float:
    """A finite number of degrees from what was typed into the box called ``name``;
    InvalidAOIError naming that box otherwise (empty, not a number, NaN, infinite or too
    large to be a number at all, such as ``1e309``)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
        shown = repr(text)
    else:
        shown = str(text if text is not None else "").strip()
        if not shown:
            raise InvalidAOIError(f"{name} is empty: type a number of degrees, e.g. 45.8659.")
        try:
            value = float(shown.replace("−", "-"))
        except ValueError:
            hint = " Use a point, not a comma, for decimals." if "," in shown else ""
            raise InvalidAOIError(
                f"{name}: {shown[:40]!r} is not a number. Type decimal degrees, e.g. 14.5514.{hint}"
            ) from None
    if not math.isfinite(value):
        raise InvalidAOIError(
            f"{name}: {shown[:40]} is not a finite number of degrees. Type decimal degrees, e.g. 14.5514."
        )
    return value


def parse_bbox(values) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) from four typed texts (or numbers), each checked
    on its own first, so that a message names the box to fix (``BBOX_FIELDS``)."""
    values = tuple(values)
    if len(values) != 4:
        raise InvalidAOIError("A box needs four numbers: min lon, min lat, max lon, max lat.")
    return tuple(parse_degrees(v, name) for v, name in zip(values, BBOX_FIELDS, strict=True))


def format_degrees(value: float) -> str:
    """Degrees as a box shows them: the shortest text that reads back as exactly the same
    number (so a campaign's box, put back in the form, is the same campaign), without a
    trailing ``.0``."""
    text = repr(float(value) + 0.0)  # + 0.0 folds -0.0 into 0.0
    return text[:-2] if text.endswith(".0") else text


def coverage_warning(aoi: AreaOfInterest) -> str | None:
    """A warning when the area lies outside Sentinel-2's regular coverage (56°S to 84°N),
    where few or no images exist; None inside it."""
    south, north = S2_COVERAGE_LAT
    if aoi.max_lat >= south and aoi.min_lat <= north:
        return None
    return (
        f"This area ({aoi.min_lat:g}° to {aoi.max_lat:g}° latitude) lies outside Sentinel-2's "
        f"regular coverage ({-south:g}°S to {north:g}°N): expect few or no images. Move the box "
        "if you meant somewhere else."
    )


def bbox_of_geojson(feature: dict) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of a drawn GeoJSON Feature or geometry."""
    geometry = feature.get("geometry", feature)
    try:
        ring = geometry["coordinates"][0]
        lons = [float(p[0]) for p in ring]
        lats = [float(p[1]) for p in ring]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise InvalidAOIError("The drawn shape could not be read; draw a rectangle again.") from error
    return (min(lons), min(lats), max(lons), max(lats))


def map_zoom(bbox: tuple[float, float, float, float], box_px: float = 250) -> int:
    """The web-map zoom at which the box spans about ``box_px`` screen pixels.

    At zoom z the world is 256 · 2**z pixels around, so a span of s degrees is
    s / 360 · 256 · 2**z pixels wide.
    """
    span = max(bbox[2] - bbox[0], bbox[3] - bbox[1], 1e-6)
    return int(max(2, min(18, math.floor(math.log2(box_px * 360.0 / (256.0 * span))))))
