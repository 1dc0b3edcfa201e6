"""What a fake server needs of the app's grid: the AOI whose 10 m grid is a given UTM box."""

from __future__ import annotations

from pyproj import Transformer

from labeller.aoi import AreaOfInterest


def aoi_on_grid(epsg: int, utm_bounds: tuple[float, float, float, float]) -> AreaOfInterest:
    """The AOI whose pixel grid is exactly this UTM box (multiples of 60 m), as a server
    receives it in a request. Its WGS84 box is the grid's envelope."""
    to_wgs84 = Transformer.from_crs(epsg, 4326, always_xy=True)
    aoi = AreaOfInterest(*to_wgs84.transform_bounds(*utm_bounds, densify_pts=21))
    aoi.__dict__["epsg"] = epsg  # cached_property values: the grid as given, not re-derived
    aoi.__dict__["utm_bounds"] = tuple(float(v) for v in utm_bounds)
    return aoi
