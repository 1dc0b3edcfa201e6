"""Offline demo image source: a synthetic, deterministic Sentinel-2 Level-1C world.

Every value is a pure function of geographic position (pixel-centre lon/lat, mapped to
metres as x = lon·111320·cos(lat), y = lat·110574) and acquisition date, built from
value noise over integer lattices hashed with splitmix64-style uint64 bit mixing. No
global random state is used, so the same place on the same date gives the same values
bit for bit, whatever AOI it was requested in, and neighbouring AOIs join up.

The world
    A static land cover (``LandCover``) from noise fields: an elevation proxy (lakes and
    rivers low, bare rock and permanent ice high, more so at high latitude), a
    vegetation/moisture field (forest, grassland or crops, bare soil; drier in the
    subtropics), agricultural parcels, settlements as sparse clusters with roads.
    Dates change it only through the season (vegetation greenness, seasonal snow from a
    temperature model of latitude, day of year, altitude and a weather anomaly) and
    clouds with their shadows. Spectra and seasons: ``spectra``.

Acquisitions
    One every 5 days on a fixed global cadence of local dates from 2015-06-27 (none
    earlier, and none in polar night), at about 10:30 local solar time (UTC = 10:30 −
    lon/15 h ± 3 min); a period is matched against the UTC sensing date, as catalogues
    do. The sun's position comes from the NOAA solar position equations. The 10 km cell
    holding the AOI centre gives the tile-like id, the time and the cloud-cover
    metadata: the share of cloudy points on a 16 × 16 grid over that cell, computed from
    the very cloud field the scenes show. 0 % is reported only when the cell (plus a margin covering any AOI
    centred in it) is certainly cloud-free; a cloudy cell whose samples all miss the
    clouds reports 0.1 %. About half the acquisitions are clear, the rest range from thin
    veils to overcast. A narrow (≈1.2 km) no-data gap between swaths, bounded by straight
    lines in lon/lat, cuts through about one acquisition in eleven of a 1.2 km AOI at
    mid-latitudes; bands are 0 there. Acquisitions whose whole AOI falls in the gap
    (possible for AOIs narrower than the gap) are not listed.

Speed: the static landscape of an AOI is computed once and cached (8 AOIs); a scene
then costs only its date's season, snow, clouds and atmosphere.

Modules, each one concern: ``noise`` (hashing, value noise, the metric plane), ``sun``
(NOAA solar position), ``cells`` (metadata cells, cadence, times, ids, swath gaps),
``clouds`` (weather, cloudiness, opacity), ``land`` (static land cover and surfaces),
``rendering`` (one date: season, snow, clouds, shadows, TOA reflectance), ``listing``
(acquisitions and their cloud cover), ``spectra`` (endmembers, atmosphere, seasons) and
``source`` (``DemoSource``). Outside this package use only ``DemoSource`` and ``LandCover``.

Land cover codes are 0…7 (``LandCover``); ``DemoSource.ground_truth`` gives them per
pixel and date, CLOUD, CLOUD_SHADOW and SNOW_ICE included: the demo's public ground truth.
"""

from labeller.sources.demo.land import LandCover
from labeller.sources.demo.source import DemoSource

__all__ = ["DemoSource", "LandCover"]
