"""``DemoSource``: the demo world behind the ``ImageSource`` protocol."""

from __future__ import annotations

from datetime import date

import numpy as np

from labeller.aoi import AreaOfInterest
from labeller.bands import L1C
from labeller.scenes import Acquisition, Progress, Scene
from labeller.sources.base import LocalSource
from labeller.sources.demo.cells import aoi_centre, cadence_index
from labeller.sources.demo.land import land
from labeller.sources.demo.listing import list_acquisitions
from labeller.sources.demo.rendering import conditions, render
from labeller.sources.demo.sun import julian_day, solar_angles


class DemoSource(LocalSource):
    """Synthetic, deterministic Sentinel-2 Level-1C acquisitions; works offline."""

    key = "demo"
    title = "Demo (offline, synthetic)"
    collection = L1C
    cache_id = None
    """Scenes are computed faster than a disk read: no disk cache."""

    def acquisitions(
        self,
        aoi: AreaOfInterest,
        start: date,
        end: date,
        max_cloud: float | None = None,
        progress: Progress | None = None,
    ) -> list[Acquisition]:
        """One acquisition per 5-day cadence step sensed (UTC date) from start to end inclusive."""
        return list_acquisitions(aoi, start, end, max_cloud, progress)

    def scene(self, aoi: AreaOfInterest, acquisition: Acquisition) -> Scene:
        """The acquisition on the AOI's grid: 13 TOA bands, valid mask, sun angles."""
        ld = land(aoi)
        cond = conditions(ld, cadence_index(aoi, acquisition))
        lon, lat = aoi_centre(aoi)
        zen, az = solar_angles(lat, lon, julian_day(acquisition.time))
        return Scene(
            acquisition=acquisition,
            band_names=L1C.band_names,
            bands=render(ld, cond),
            valid=cond.valid.reshape(ld.shape),
            sun_zenith=float(zen),
            sun_azimuth=float(az),
            harmonised=None,
        )

    def ground_truth(self, aoi: AreaOfInterest, acquisition: Acquisition) -> np.ndarray:
        """(rows, cols) int8 ``LandCover`` codes of every pixel on that date."""
        ld = land(aoi)
        return conditions(ld, cadence_index(aoi, acquisition)).truth.reshape(ld.shape)
