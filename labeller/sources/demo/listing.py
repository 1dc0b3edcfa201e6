"""Listing acquisitions: which cadence steps an AOI has, their cloud-cover metadata and ids."""

from __future__ import annotations

from datetime import date

import numpy as np

from labeller.aoi import AreaOfInterest
from labeller.errors import NoAcquisitionsError
from labeller.scenes import Acquisition, Progress
from labeller.sources.demo.cells import (
    CADENCE_DAYS,
    CELL_SAMPLES,
    EPOCH,
    SWATH_GAP_DEG,
    Cell,
    acquisition_time,
    aoi_centre,
    cadence_day,
    cell_of,
    in_swath_gap,
)
from labeller.sources.demo.clouds import (
    CLEAR_MARGIN,
    CLOUD_OPACITY,
    cloud_opacity,
    cloudiness,
    cloudiness_upper_bound,
    date_weather,
)
from labeller.sources.demo.land import land
from labeller.sources.demo.noise import to_metres
from labeller.sources.demo.sun import overpass_sun

BASELINE_CHANGE = date(2022, 1, 25)
"""ESA baseline 04.00 (radiometric offset added) from this day; the demo reports 03.01 before, 05.10 after."""
MAX_SUN_ZENITH = 84.0
"""No acquisitions when the sun is lower than this at the AOI centre (polar night)."""
NO_ACQUISITIONS = (
    "No acquisitions for this area, period and cloud limit: widen the period or raise the cloud limit."
)


def cell_cloud_cover(cell: Cell, ks: np.ndarray) -> np.ndarray:
    """Cloud-cover metadata (percent) of a cell on cadence steps ``ks``."""
    doys = np.array([cadence_day(int(k)).timetuple().tm_yday for k in ks], dtype=np.float64)
    result = np.zeros(len(ks))
    cloudy = cloudiness_upper_bound(cell.box_with_margin(), ks, doys) > -CLEAR_MARGIN if len(ks) else []
    if not np.any(cloudy):
        return result
    frac = (np.arange(CELL_SAMPLES) + 0.5) / CELL_SAMPLES
    lon = cell.min_lon + (cell.max_lon - cell.min_lon) * np.tile(frac, CELL_SAMPLES)[None, :]
    lat = cell.min_lat + (cell.max_lat - cell.min_lat) * np.repeat(frac, CELL_SAMPLES)[None, :]
    x, y = to_metres(lon, lat)
    k, doy = ks[cloudy][:, None], doys[cloudy][:, None]
    weather = date_weather(k)
    opacity, _ = cloud_opacity(x, y, cloudiness(lon, lat, k, doy), k, weather)
    share = 100.0 * np.mean(opacity >= CLOUD_OPACITY, axis=1)
    result[cloudy] = np.maximum(np.round(share, 2), 0.1)
    return result


def _observable(aoi: AreaOfInterest, ks: np.ndarray, lat: float) -> np.ndarray:
    """Steps with daylight at the AOI centre and some of the AOI outside the swath gap."""
    if not len(ks):
        return np.zeros(0, dtype=bool)
    zen, _ = overpass_sun(lat, [cadence_day(int(k)) for k in ks])
    swath = land(aoi).swath
    corners = np.array([swath.min(), swath.max()])
    gap = in_swath_gap(corners[None, :], ks[:, None])
    # The gap is one interval of swath values: the AOI is lost only if both extremes
    # fall in it and the interval between them is shorter than the gap.
    lost = gap.all(axis=1) & (corners[1] - corners[0] < SWATH_GAP_DEG)
    return (zen <= MAX_SUN_ZENITH) & ~lost


def _acquisition(cell: Cell, k: int, cloud_cover: float) -> Acquisition:
    time = acquisition_time(cell, k)
    return Acquisition(
        id=f"DEMO_{time:%Y%m%dT%H%M%S}_{cell.tile_id}",
        time=time,
        cloud_cover=cloud_cover,
        tile_id=cell.tile_id,
        processing_baseline="05.10" if cadence_day(k) >= BASELINE_CHANGE else "03.01",
    )


def list_acquisitions(
    aoi: AreaOfInterest,
    start: date,
    end: date,
    max_cloud: float | None = None,
    progress: Progress | None = None,
) -> list[Acquisition]:
    """One acquisition per 5-day cadence step sensed (UTC date) from start to end inclusive."""
    if progress:
        progress(0.0, "Listing demo acquisitions")
    lon, lat = aoi_centre(aoi)
    cell = cell_of(lon, lat)
    # Cadence steps whose UTC sensing date lies in [start, end] (far east, 10:30
    # local time is the previous day in UTC).
    first = max(0, -((EPOCH - start).days // CADENCE_DAYS) - 1)
    ks = np.arange(first, (end - EPOCH).days // CADENCE_DAYS + 2)
    ks = np.array([k for k in ks if start <= acquisition_time(cell, int(k)).date() <= end], dtype=np.int64)
    ks = ks[_observable(aoi, ks, lat)]
    covers = cell_cloud_cover(cell, ks)
    if progress:
        progress(0.9, "Listing demo acquisitions")
    keep = covers <= max_cloud if max_cloud is not None else np.ones(len(ks), dtype=bool)
    result = [_acquisition(cell, int(k), float(c)) for k, c in zip(ks[keep], covers[keep], strict=True)]
    if progress:
        progress(1.0, f"{len(result)} demo acquisitions")
    if not result:
        raise NoAcquisitionsError(NO_ACQUISITIONS)
    return result
