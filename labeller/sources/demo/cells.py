"""Metadata cells, the 5-day cadence, acquisition times and ids, and the swath gaps.

A ≈10 km cell holding the AOI centre gives an acquisition its tile-like id, its time and
its cloud-cover metadata; acquisitions follow a fixed global cadence of local dates from
``EPOCH``; a narrow no-data gap between swaths, bounded by straight lines in lon/lat,
cuts through some of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from labeller.aoi import MAX_SIDE_PX, PIXEL_SIZE_M, AreaOfInterest, utm_epsg
from labeller.errors import SourceError
from labeller.scenes import Acquisition
from labeller.sources.demo.noise import F_JITTER, F_SWATH, M_PER_DEG_LAT, M_PER_DEG_LON, seed_hash, unit
from labeller.sources.demo.sun import OVERPASS_HOUR

EPOCH = date(2015, 6, 27)
CADENCE_DAYS = 5
CELL_DEG = 0.09
"""Latitude height of a metadata cell (≈10 km); its width in longitude is ≈10 km too."""
CELL_SAMPLES = 16
CELL_MARGIN_M = math.sqrt(2) * MAX_SIDE_PX * PIXEL_SIZE_M / 2 + 100.0
"""Every pixel of an AOI centred in a cell lies within this distance of the cell."""
SWATH_TILT = 0.3
SWATH_PERIOD_DEG = 0.4
SWATH_GAP_DEG = 0.015


@dataclass(frozen=True)
class Cell:
    """A ≈10 km × 10 km metadata cell of a reduced lon/lat grid."""

    row: int
    col: int
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.min_lon + self.max_lon) / 2, (self.min_lat + self.max_lat) / 2

    def box_with_margin(self) -> tuple[float, float, float, float]:
        """The cell grown by ``CELL_MARGIN_M``: holds every AOI centred in the cell."""
        dlat = CELL_MARGIN_M / M_PER_DEG_LAT
        coslat = max(math.cos(math.radians(max(abs(self.min_lat), abs(self.max_lat)) + dlat)), 0.05)
        dlon = CELL_MARGIN_M / (M_PER_DEG_LON * coslat)
        return self.min_lon - dlon, self.min_lat - dlat, self.max_lon + dlon, self.max_lat + dlat

    @property
    def tile_id(self) -> str:
        """A tile-like id: UTM zone and latitude band of the centre, two letters of the cell."""
        lon, lat = self.centre
        zone = utm_epsg(lon, lat) % 100
        band = "CDEFGHJKLMNPQRSTUVWX"[min(max(int((lat + 80) // 8), 0), 19)]
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        return f"T{zone:02d}{band}{letters[self.col % 24]}{letters[self.row % 24]}"


def cell_of(lon: float, lat: float) -> Cell:
    """The metadata cell holding a point."""
    row = min(int((lat + 90.0) // CELL_DEG), int(180.0 / CELL_DEG) - 1)
    lat0 = -90.0 + row * CELL_DEG
    n_cols = max(1, int(360.0 * math.cos(math.radians(lat0 + CELL_DEG / 2)) / CELL_DEG))
    width = 360.0 / n_cols
    col = min(int((lon + 180.0) // width), n_cols - 1)
    lon0 = -180.0 + col * width
    return Cell(row, col, lon0, lat0, lon0 + width, lat0 + CELL_DEG)


def cadence_day(k: int) -> date:
    return EPOCH + timedelta(days=CADENCE_DAYS * k)


def acquisition_time(cell: Cell, k: int) -> datetime:
    """UTC sensing time: 10:30 local solar time at the cell centre, ± 3 min jitter."""
    lon = cell.centre[0]
    jitter = (float(unit(seed_hash(cell.row, cell.col, k, F_JITTER))) - 0.5) * 360.0
    day = cadence_day(k)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    seconds = round(OVERPASS_HOUR * 3600.0 - lon * 240.0 + jitter)
    return start + timedelta(seconds=seconds)


def aoi_centre(aoi: AreaOfInterest) -> tuple[float, float]:
    return (aoi.min_lon + aoi.max_lon) / 2, (aoi.min_lat + aoi.max_lat) / 2


def cadence_index(aoi: AreaOfInterest, acquisition: Acquisition) -> int:
    """The cadence step of an acquisition, from its time and the AOI's longitude alone."""
    t = acquisition.time if acquisition.time.tzinfo else acquisition.time.replace(tzinfo=UTC)
    local = t + timedelta(hours=aoi_centre(aoi)[0] / 15.0)
    nominal0 = datetime(EPOCH.year, EPOCH.month, EPOCH.day, tzinfo=UTC) + timedelta(hours=OVERPASS_HOUR)
    steps = (local - nominal0).total_seconds() / 86400.0 / CADENCE_DAYS
    k = round(steps)
    if k < 0 or abs(steps - k) * CADENCE_DAYS > 0.25:
        raise SourceError(
            f"{acquisition.id} is not a demo acquisition of this area; list the acquisitions again."
        )
    return k


def in_swath_gap(swath: np.ndarray, k) -> np.ndarray:
    """True in the no-data gap between swaths on cadence step(s) ``k``."""
    phase = unit(seed_hash(k, F_SWATH)) * SWATH_PERIOD_DEG
    return (swath - phase) % SWATH_PERIOD_DEG < SWATH_GAP_DEG
