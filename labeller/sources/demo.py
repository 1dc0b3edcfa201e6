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
    clouds with their shadows. Spectra and seasons: ``labeller.sources.demo_spectra``.

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

Land cover codes are 0…7 (``LandCover``); ``DemoSource.ground_truth`` gives them per
pixel and date, CLOUD, CLOUD_SHADOW and SNOW_ICE included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from functools import lru_cache

import numpy as np

from labeller.aoi import MAX_SIDE_PX, PIXEL_SIZE_M, AreaOfInterest, utm_epsg
from labeller.bands import L1C
from labeller.errors import NoAcquisitionsError, SourceError
from labeller.sources import demo_spectra as sp
from labeller.sources.base import Acquisition, LocalSource, Progress, Scene


class LandCover(IntEnum):
    """Ground-truth classes of the demo world (codes 0…7)."""

    WATER = 0
    FOREST = 1
    GRASSLAND = 2
    """Grassland or crops."""
    BARE_SOIL = 3
    """Bare soil, fallow fields and bare rock."""
    BUILT_UP = 4
    SNOW_ICE = 5
    CLOUD = 6
    CLOUD_SHADOW = 7


EPOCH = date(2015, 6, 27)
CADENCE_DAYS = 5
BASELINE_CHANGE = date(2022, 1, 25)
"""ESA baseline 04.00 (radiometric offset added) from this day; the demo reports 03.01 before, 05.10 after."""
OVERPASS_HOUR = 10.5
"""Local solar time of the overpass, hours."""
MAX_SUN_ZENITH = 84.0
"""No acquisitions when the sun is lower than this at the AOI centre (polar night)."""
CLOUD_OPACITY = 0.2
"""A pixel counts as CLOUD from this cloud opacity up (thinner veils count as haze)."""
SHADOW_STRENGTH = 0.3
"""A pixel counts as CLOUD_SHADOW from this shadow strength up."""
SNOW_COVER = 0.6
"""A pixel counts as SNOW_ICE from this visible snow fraction up."""
NO_ACQUISITIONS = (
    "No acquisitions for this area, period and cloud limit: widen the period or raise the cloud limit."
)

M_PER_DEG_LON = 111320.0
M_PER_DEG_LAT = 110574.0
CELL_DEG = 0.09
"""Latitude height of a metadata cell (≈10 km); its width in longitude is ≈10 km too."""
CELL_SAMPLES = 16
CELL_MARGIN_M = math.sqrt(2) * MAX_SIDE_PX * PIXEL_SIZE_M / 2 + 100.0
"""Every pixel of an AOI centred in a cell lies within this distance of the cell."""
CLOUD_LATTICE_DEG = 1.5
CLOUD_SPREAD = 4.0
CLOUD_BIAS = -0.2
CLEAR_MARGIN = 1e-9
"""Cloudiness this far below 0 is certainly clear, rounding of the interpolation included."""
SWATH_TILT = 0.3
SWATH_PERIOD_DEG = 0.4
SWATH_GAP_DEG = 0.015

# Noise field ids (hash seeds).
F_RELIEF, F_ELEV, F_RIVER, F_VEG, F_TOWN, F_TOWN_FINE, F_ROAD, F_AGRI = range(1, 9)
F_PARCEL, F_TURBID, F_CONIFER, F_PATCH, F_PIXEL, F_TEXTURE, F_ANOMALY = range(9, 16)
F_CLOUD, F_CLOUD_COVER, F_DATE, F_SWATH, F_JITTER, F_RIDGE = range(16, 22)


# --- hashing and noise --------------------------------------------------------------

_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_KX = np.uint64(0xD6E8FEB86659FD93)
_KY = np.uint64(0xA0761D6478BD642F)


def _mix(h):
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * _MUL1
    h = (h ^ (h >> np.uint64(27))) * _MUL2
    return h ^ (h >> np.uint64(31))


def _u64(v) -> np.ndarray:
    return np.asarray(v, dtype=np.int64).view(np.uint64)


def seed_hash(*values) -> np.ndarray:
    """uint64 hash of a sequence of integers or integer arrays (broadcast together)."""
    with np.errstate(over="ignore"):
        h = np.asarray(0x243F6A8885A308D3, dtype=np.uint64)
        for v in values:
            h = _mix((h ^ _u64(v)) + _GOLDEN)
    return h


def unit(h) -> np.ndarray:
    """Hash bits to floats uniform in [0, 1)."""
    return (np.asarray(h) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def lattice_unit(ix, iy, seed) -> np.ndarray:
    """Uniform [0, 1) value of integer lattice points (ix, iy) under a ``seed_hash``."""
    with np.errstate(over="ignore"):
        return unit(_mix(_u64(ix) * _KX + _u64(iy) * _KY + seed))


def bilinear(gx: np.ndarray, gy: np.ndarray, nodes, tabulate: bool) -> np.ndarray:
    """Smoothstep interpolation of lattice values ``nodes(ix, iy)`` at lattice coordinates.

    With ``tabulate`` the lattice points around the area are evaluated once and
    gathered (much faster for many points in a compact area); the result is the same.
    Works in place where it can: fewer temporaries, far fewer page faults.
    """
    fx, fy = np.floor(gx), np.floor(gy)
    ix, iy = fx.astype(np.int64), fy.astype(np.int64)
    tx, ty = np.subtract(gx, fx, out=fx), np.subtract(gy, fy, out=fy)
    corners = None
    if tabulate and ix.size > 16:
        x0, y0 = int(ix.min()), int(iy.min())
        nx, ny = int(ix.max()) - x0 + 2, int(iy.max()) - y0 + 2
        if nx * ny <= ix.size:
            table = np.ravel(nodes(np.arange(x0, x0 + nx)[None, :], np.arange(y0, y0 + ny)[:, None]))
            k = np.multiply(iy - y0, nx, out=iy)
            k += ix
            k -= x0
            v00 = table.take(k)
            k += 1
            v10 = table.take(k)
            k += nx
            v11 = table.take(k)
            k -= 1
            corners = (v00, v10, table.take(k), v11)
    if corners is None:
        corners = (nodes(ix, iy), nodes(ix + 1, iy), nodes(ix, iy + 1), nodes(ix + 1, iy + 1))
    v00, v10, v01, v11 = corners
    sx, sy = _smoothstep(tx), _smoothstep(ty)
    a = np.subtract(v10, v00, out=v10)  # the corners are fresh arrays of the full shape
    a *= sx
    a += v00
    b = np.subtract(v11, v01, out=v11)
    b *= sx
    b += v01
    b -= a
    b *= sy
    b += a
    return b


def _smoothstep(t: np.ndarray) -> np.ndarray:
    """3t² − 2t³, computed in t's own buffer."""
    s = 2.0 * t
    np.subtract(3.0, s, out=s)
    s *= t
    s *= t
    return s


def value_noise(x: np.ndarray, y: np.ndarray, cell: float, seed: tuple) -> np.ndarray:
    """Smooth value noise in [0, 1) on a lattice of ``cell`` units."""
    h = seed_hash(*seed)
    return bilinear(x / cell, y / cell, lambda ix, iy: lattice_unit(ix, iy, h), np.ndim(h) == 0)


_ROTATIONS = [(math.cos(a), math.sin(a)) for a in (0.37 + 1.13 * o for o in range(8))]


def fbm(
    x: np.ndarray, y: np.ndarray, cell: float, octaves: int, seed: tuple, gain: float = 0.5
) -> np.ndarray:
    """Fractal sum of value noise, coarsest lattice ``cell`` metres, in [0, 1).

    Each octave's lattice is rotated differently so that no grid directions show.
    """
    total, norm, amp = None, 0.0, 1.0
    for o in range(octaves):
        c, s = _ROTATIONS[o]
        u = c * x
        u -= s * y
        v = s * x
        v += c * y
        octave = value_noise(u, v, cell, (*seed, o))
        octave *= amp
        total = octave if total is None else np.add(total, octave, out=total)
        norm += amp
        amp *= gain
        cell /= 2.0
    total /= norm
    return total


def stretch(v: np.ndarray, gain: float) -> np.ndarray:
    """Widen a noise field's spread about 0.5, clipped to [0, 1]."""
    return np.clip(0.5 + gain * (v - 0.5), 0.0, 1.0)


def to_metres(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Position in metres on the sinusoidal plane the landscape is drawn on."""
    lat = np.asarray(lat, dtype=np.float64)
    return np.asarray(lon) * M_PER_DEG_LON * np.cos(np.radians(lat)), lat * M_PER_DEG_LAT


# --- the sun ------------------------------------------------------------------------


def julian_day(t: datetime) -> float:
    """Julian day (UTC) of an aware datetime (naive ones are taken as UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp() / 86400.0 + 2440587.5


def solar_ephemeris(jd) -> tuple[np.ndarray, np.ndarray]:
    """Sun declination (radians) and equation of time (minutes) on Julian day(s) ``jd``.

    NOAA Global Monitoring Laboratory solar calculator equations (after Meeus,
    Astronomical Algorithms).
    """
    t = (np.asarray(jd, dtype=np.float64) - 2451545.0) / 36525.0
    l0 = np.radians((280.46646 + t * (36000.76983 + t * 0.0003032)) % 360.0)
    m = np.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    centre = (
        np.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + np.sin(2 * m) * (0.019993 - 0.000101 * t)
        + np.sin(3 * m) * 0.000289
    )
    omega = np.radians(125.04 - 1934.136 * t)
    app_long = np.radians(np.degrees(l0) + centre - 0.00569 - 0.00478 * np.sin(omega))
    obliq = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0
    obliq = np.radians(obliq + 0.00256 * np.cos(omega))
    decl = np.arcsin(np.sin(obliq) * np.sin(app_long))
    yy = np.tan(obliq / 2) ** 2
    eq_time = 4.0 * np.degrees(
        yy * np.sin(2 * l0)
        - 2 * e * np.sin(m)
        + 4 * e * yy * np.sin(m) * np.cos(2 * l0)
        - 0.5 * yy**2 * np.sin(4 * l0)
        - 1.25 * e**2 * np.sin(2 * m)
    )
    return decl, eq_time


def sun_position(lat, decl, hour_angle_deg) -> tuple[np.ndarray, np.ndarray]:
    """Sun zenith and azimuth (degrees, azimuth clockwise from north); arguments broadcast."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    ha = np.radians(hour_angle_deg)
    cos_zen = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(ha)
    zenith = np.degrees(np.arccos(np.clip(cos_zen, -1.0, 1.0)))
    azimuth = np.degrees(np.arctan2(np.sin(ha), np.cos(ha) * np.sin(phi) - np.tan(decl) * np.cos(phi)))
    return zenith, (azimuth + 180.0) % 360.0


def solar_angles(lat, lon, jd) -> tuple[np.ndarray, np.ndarray]:
    """Sun zenith and azimuth (degrees) at a place and Julian day (UTC), NOAA equations."""
    decl, eq_time = solar_ephemeris(jd)
    minutes_utc = ((np.asarray(jd) - 0.5) % 1.0) * 1440.0
    solar_minutes = minutes_utc + eq_time + 4.0 * np.asarray(lon)
    return sun_position(lat, decl, (solar_minutes / 4.0) % 360.0 - 180.0)


def overpass_sun(lat, days) -> tuple[np.ndarray, np.ndarray]:
    """Sun zenith and azimuth at 10:30 local mean solar time on ``days`` (broadcast).

    The same at every longitude, so scenes depend on latitude and date only.
    """
    jd = np.array([julian_day(datetime(d.year, d.month, d.day, 12, tzinfo=UTC)) for d in np.ravel(days)])
    decl, eq_time = solar_ephemeris(jd.reshape(np.shape(days)))
    return sun_position(lat, decl, (OVERPASS_HOUR * 60.0 + eq_time) / 4.0 - 180.0)


# --- cells, dates and ids -------------------------------------------------------------


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


def _aoi_centre(aoi: AreaOfInterest) -> tuple[float, float]:
    return (aoi.min_lon + aoi.max_lon) / 2, (aoi.min_lat + aoi.max_lat) / 2


def cadence_index(aoi: AreaOfInterest, acquisition: Acquisition) -> int:
    """The cadence step of an acquisition, from its time and the AOI's longitude alone."""
    t = acquisition.time if acquisition.time.tzinfo else acquisition.time.replace(tzinfo=UTC)
    local = t + timedelta(hours=_aoi_centre(aoi)[0] / 15.0)
    nominal0 = datetime(EPOCH.year, EPOCH.month, EPOCH.day, tzinfo=UTC) + timedelta(hours=OVERPASS_HOUR)
    steps = (local - nominal0).total_seconds() / 86400.0 / CADENCE_DAYS
    k = round(steps)
    if k < 0 or abs(steps - k) * CADENCE_DAYS > 0.25:
        raise SourceError(
            f"{acquisition.id} is not a demo acquisition of this area; list the acquisitions again."
        )
    return k


# --- clouds -------------------------------------------------------------------------


@dataclass(frozen=True)
class DateWeather:
    """Constants of the cloud model on a date (the same everywhere); arrays for many dates."""

    thickness_bias: np.ndarray
    height_m: np.ndarray
    brightness: np.ndarray
    cirrus: np.ndarray
    vapour: np.ndarray
    """Water vapour relative to the climate, 0.7…1.3."""


def date_weather(k) -> DateWeather:
    """Weather constants of cadence step(s) ``k``."""
    h = [unit(seed_hash(k, F_DATE, i)) for i in range(5)]
    return DateWeather(
        thickness_bias=0.25 * (h[0] - 0.5),
        height_m=700.0 + 2300.0 * h[1],
        brightness=0.85 + 0.3 * h[2],
        cirrus=h[3] ** 2,
        vapour=0.7 + 0.6 * h[4],
    )


def cloudiness(lon, lat, k, doy) -> np.ndarray:
    """Large-scale cloud amount (≤ 0: clear; ≥ 1: overcast), smooth over ~150 km.

    Climate plus the date's weather noise at lattice nodes, interpolated with
    smoothstep weights, so it never exceeds the nodes around (``cloudiness_upper_bound``).
    ``k`` and ``doy`` may be (dates, 1) arrays against (1, points) positions.
    """
    seed = seed_hash(k, F_CLOUD_COVER)
    doy = np.asarray(doy, dtype=np.float64)

    def nodes(ix, iy):
        climate = sp.cloudiness_climate(iy * CLOUD_LATTICE_DEG - 90.0, doy)
        return climate + CLOUD_SPREAD * (lattice_unit(ix, iy, seed) - 0.5) + CLOUD_BIAS

    gx = (np.asarray(lon) + 180.0) / CLOUD_LATTICE_DEG
    gy = (np.asarray(lat) + 90.0) / CLOUD_LATTICE_DEG
    return bilinear(gx, gy, nodes, np.ndim(seed) == 0)


def _cuts(lo: float, hi: float, origin: float) -> np.ndarray:
    """lo, the lattice lines strictly between lo and hi, and hi."""
    first = math.floor((lo + origin) / CLOUD_LATTICE_DEG) + 1
    last = math.ceil((hi + origin) / CLOUD_LATTICE_DEG)
    return np.concatenate(([lo], np.arange(first, last) * CLOUD_LATTICE_DEG - origin, [hi]))


def cloudiness_upper_bound(box: tuple[float, float, float, float], k, doy) -> np.ndarray:
    """The exact maximum of ``cloudiness`` over a lon/lat box, for date(s) ``k``.

    Within one lattice square the field is bilinear in monotone functions of lon and
    lat, so its extremes lie on the corners of the box pieces cut by lattice lines.
    """
    min_lon, min_lat, max_lon, max_lat = box
    lons, lats = np.meshgrid(_cuts(min_lon, max_lon, 180.0), _cuts(min_lat, max_lat, 90.0))
    k, doy = np.atleast_1d(k)[:, None], np.atleast_1d(doy)[:, None]
    return np.max(cloudiness(lons.ravel()[None, :], lats.ravel()[None, :], k, doy), axis=1)


def cloud_opacity(x, y, cover, k, weather: DateWeather) -> tuple[np.ndarray, np.ndarray]:
    """Cloud opacity α in [0, 1] and density d (thickness inside the cloud) at points.

    α is exactly 0 wherever ``cover`` ≤ 0, as the small-scale shape field is ≤ 1.
    """
    shape = stretch(fbm(x, y, 4000.0, 5, (F_CLOUD, k)), 2.2)
    density = np.clip((shape - 1.0 + cover) / 0.15, 0.0, 1.0)
    thickness = np.clip(0.3 + 0.7 * cover + weather.thickness_bias, 0.4, 1.0)
    return thickness * density**0.6, density


# --- the static landscape -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Land:
    """Static per-pixel fields of one AOI (flattened, read-only; cached per AOI)."""

    shape: tuple[int, int]
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    cover: np.ndarray
    """Static LandCover code (permanent ice included)."""
    altitude: np.ndarray
    """Metres."""
    phase_days: np.ndarray
    """Phenology shift of crop parcels, days."""
    vigor: np.ndarray
    """Amplitude of greenness, 0.8…1."""
    patchiness: np.ndarray
    """Local shift of the snow line, 0…1."""
    dormant: np.ndarray
    """(n, 13) surface reflectance with vegetation dormant (no snow), noise included."""
    green_delta: np.ndarray
    """(n, 13) change of surface reflectance from dormant to full greenness."""
    texture: np.ndarray
    """(n, 13) per-pixel brightness and per-band variation factors (≈1 ± a few %)."""
    swath: np.ndarray
    """lon − tilt·lat: swath edges are lines of constant value."""


@lru_cache(maxsize=8)
def land(aoi: AreaOfInterest) -> Land:
    """The static landscape on an AOI's grid."""
    lon, lat = (a.ravel() for a in aoi.grid_lonlat())
    x, y = to_metres(lon, lat)
    fields = land_fields(x, y, lat)
    cover = fields.pop("cover")
    texture = _texture(x, y)
    dormant, green_delta = _static_surfaces(cover, fields)
    result = Land(
        shape=aoi.shape, lon=lon, lat=lat, x=x, y=y, cover=cover,
        altitude=fields["altitude"], phase_days=fields["phase_days"], vigor=fields["vigor"],
        patchiness=fields["patchiness"], dormant=dormant * texture, green_delta=green_delta * texture,
        texture=texture, swath=lon - SWATH_TILT * lat,
    )  # fmt: skip
    for a in vars(result).values():
        if isinstance(a, np.ndarray):
            a.setflags(write=False)
    return result


def land_fields(x: np.ndarray, y: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
    """Static land cover and its per-pixel parameters at points (metres, latitude)."""
    mountains = np.clip((fbm(x, y, 160e3, 2, (F_RELIEF,)) - 0.55) / 0.3, 0.0, 1.0)
    elev = fbm(x, y, 20e3, 7, (F_ELEV,))
    ridges = 1.0 - np.abs(2.0 * fbm(x, y, 6000.0, 4, (F_RIDGE,)) - 1.0)
    height = np.clip((elev - 0.3 + 0.3 * mountains * (ridges - 0.6)) / 0.5, 0.0, 1.0)
    altitude = height**1.5 * (250.0 + 5200.0 * mountains**1.3)
    t_mean = sp.annual_mean_temperature(lat, altitude)
    aridity = 0.22 * np.exp(-(((np.abs(lat) - 24.0) / 8.0) ** 2))
    veg = fbm(x, y, 3000.0, 5, (F_VEG,)) - aridity
    town = fbm(x, y, 3000.0, 2, (F_TOWN,)) + 0.3 * (fbm(x, y, 300.0, 2, (F_TOWN_FINE,)) - 0.5)
    road = np.abs(fbm(x, y, 3000.0, 2, (F_ROAD,)) - 0.5) < 0.0035
    river = np.abs(fbm(x, y, 6000.0, 3, (F_RIVER,)) - 0.5) < 0.006
    agri = (fbm(x, y, 12e3, 2, (F_AGRI,)) > 0.5) & (height < 0.4) & (t_mean > 2.0)
    parcel = _parcels(x, y)

    cover = np.full(x.shape, LandCover.GRASSLAND, dtype=np.int8)
    cover[(veg > np.where(agri, 0.64, 0.55)) & (t_mean > -1.0)] = LandCover.FOREST
    bare = (veg < 0.3) | (t_mean < -8.0) | (agri & (parcel[0] < 0.18) & (veg <= 0.64))
    cover[bare] = LandCover.BARE_SOIL
    built = ((town > 0.79) | (road & (town > 0.55))) & (height < 0.5) & (t_mean > -3.0)
    cover[built] = LandCover.BUILT_UP
    cover[(elev < 0.3) | (river & (height < 0.3))] = LandCover.WATER
    cover[sp.permanent_ice(lat, altitude)] = LandCover.SNOW_ICE

    cold = np.clip((10.0 - t_mean) / 15.0, 0.0, 1.0)
    return {
        "cover": cover,
        "altitude": altitude,
        "turbidity": np.where(river, 0.7, 0.5 * value_noise(x, y, 2000.0, (F_TURBID,))),
        "conifer": np.clip(1.6 * fbm(x, y, 1500.0, 2, (F_CONIFER,)) - 0.5 + 0.6 * cold, 0.0, 1.0),
        "rock": np.clip((altitude - 1500.0) / 1000.0 + 0.5 * (t_mean < -8.0), 0.0, 1.0),
        "garden": np.where(town > 0.79, np.clip(0.45 - 3.0 * (town - 0.79), 0.05, 0.45), 0.15),
        "phase_days": np.where(agri, 50.0 * (parcel[1] - 0.5), 0.0),
        "vigor": np.where(agri, 0.8 + 0.2 * parcel[2], 0.9 + 0.1 * np.clip(2 * veg - 0.6, 0.0, 1.0)),
        "patchiness": stretch(fbm(x, y, 400.0, 3, (F_PATCH,)), 2.0),
    }


def _parcels(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Three uniform values per agricultural parcel.

    Farm districts (2.4 km cells) each have their own field orientation and size;
    fields are rows of bricks 160–420 m long and 60–180 m wide.
    """
    c, s = math.cos(0.2), math.sin(0.2)
    dx = np.floor((c * x - s * y) / 2400.0).astype(np.int64)
    dy = np.floor((s * x + c * y) / 2400.0).astype(np.int64)
    angle, length, width = (lattice_unit(dx, dy, seed_hash(F_PARCEL, 10 + i)) for i in range(3))
    angle, length, width = np.pi * angle, 160.0 + 260.0 * length, 60.0 + 120.0 * width
    u = np.cos(angle) * x - np.sin(angle) * y
    v = np.sin(angle) * x + np.cos(angle) * y
    row = np.floor(v / width).astype(np.int64)
    district = seed_hash(dx, dy, F_PARCEL)
    col = np.floor((u + unit(seed_hash(row, district)) * length) / length).astype(np.int64)
    return tuple(lattice_unit(col, row, seed_hash(district, i)) for i in range(3))


def _texture(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n, 13) float32 factors: ±4 % brightness over ~40 m, ±2.5 % per pixel, ±1.5 % per band."""
    smooth = value_noise(x, y, 40.0, (F_TEXTURE,))
    pixel = seed_hash(np.floor(x / 2.5).astype(np.int64), np.floor(y / 2.5).astype(np.int64), F_PIXEL)
    with np.errstate(over="ignore"):
        bits = np.stack([pixel, _mix(pixel + _GOLDEN)], axis=1)  # 16 random bytes per pixel
    per_band = bits.view(np.uint8)[:, : sp.N_BANDS].astype(np.float32) * np.float32(0.03 / 255) - 0.015
    brightness = (1.0 + 0.08 * (smooth - 0.5) + 0.05 * (unit(pixel) - 0.5)).astype(np.float32)
    return brightness[:, None] * (1.0 + per_band)


def _static_surfaces(cover: np.ndarray, f: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 13) dormant surface reflectance and its change at full greenness g = 1.

    The snow-free surface on a date is ``dormant + g·green_delta``: forest keeps its
    conifers green, built-up pixels have gardens.
    """
    e = {name: sp.ENDMEMBERS[i] for name, i in sp.EM.items()}
    grass_delta = e["grass_green"] - e["grass_dormant"]
    forest_delta = e["forest_summer"] - e["forest_winter"]
    dormant = np.empty((cover.size, sp.N_BANDS), dtype=np.float32)
    delta = np.zeros((cover.size, sp.N_BANDS), dtype=np.float32)
    for cls in LandCover:
        at = cover == cls
        if not at.any():
            continue
        col = {n: f[n][at].astype(np.float32)[:, None] for n in ("turbidity", "conifer", "rock", "garden")}
        if cls == LandCover.WATER:
            dormant[at] = e["water_clear"] + col["turbidity"] * (e["water_turbid"] - e["water_clear"])
        elif cls == LandCover.FOREST:
            evergreen = 0.75 * col["conifer"]
            dormant[at] = e["forest_winter"] + evergreen * forest_delta
            delta[at] = (1.0 - evergreen) * forest_delta
        elif cls == LandCover.GRASSLAND:
            dormant[at] = e["grass_dormant"]
            delta[at] = grass_delta
        elif cls == LandCover.BARE_SOIL:
            dormant[at] = e["soil"] + col["rock"] * (e["rock"] - e["soil"])
        elif cls == LandCover.BUILT_UP:
            dormant[at] = e["built"] + col["garden"] * (e["grass_dormant"] - e["built"])
            delta[at] = col["garden"] * grass_delta
        else:
            dormant[at] = e["glacier_ice"]
    return dormant, delta


# --- one date -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Conditions:
    """Per-pixel state of the landscape on one date (flattened)."""

    day: date
    truth: np.ndarray
    green: np.ndarray
    snow: np.ndarray
    """Visible snow fraction."""
    snow_age: np.ndarray
    opacity: np.ndarray
    density: np.ndarray
    shadow: np.ndarray
    valid: np.ndarray
    weather: DateWeather


def conditions(ld: Land, k: int) -> Conditions:
    """Season, snow, clouds, shadows and the valid mask of one cadence step."""
    day = cadence_day(k)
    doy = day.timetuple().tm_yday
    weather = date_weather(k)
    anomaly = 8.0 * (value_noise(ld.lon, ld.lat, 4.0, (F_ANOMALY, k)) - 0.5)
    cooling = sp.LAPSE_RATE * ld.altitude
    temp = sp.sea_level_temperature(ld.lat, doy) - cooling + anomaly
    season = sp.sea_level_temperature(ld.lat, doy + 15.0 + ld.phase_days) - cooling
    snow = _visible_snow(ld.cover, temp, ld.patchiness)
    opacity, density, shadow = _clouds(ld, k, day, weather)

    truth = ld.cover.copy()
    truth[snow >= SNOW_COVER] = LandCover.SNOW_ICE
    truth[shadow >= SHADOW_STRENGTH] = LandCover.CLOUD_SHADOW
    truth[opacity >= CLOUD_OPACITY] = LandCover.CLOUD
    return Conditions(
        day=day,
        truth=truth,
        green=sp.greenness(season) * ld.vigor,
        snow=snow,
        snow_age=sp.snow_age(temp),
        opacity=opacity,
        density=density,
        shadow=shadow,
        valid=~in_swath_gap(ld.swath, k),
        weather=weather,
    )


def in_swath_gap(swath: np.ndarray, k) -> np.ndarray:
    """True in the no-data gap between swaths on cadence step(s) ``k``."""
    phase = unit(seed_hash(k, F_SWATH)) * SWATH_PERIOD_DEG
    return (swath - phase) % SWATH_PERIOD_DEG < SWATH_GAP_DEG


def _visible_snow(cover: np.ndarray, temp: np.ndarray, patchiness: np.ndarray) -> np.ndarray:
    """Snow fraction seen from above: forest canopies hide much, lakes must freeze first."""
    snow = sp.snow_fraction(temp, patchiness)
    snow = np.where(cover == LandCover.FOREST, 0.55 * snow, snow)
    snow = np.where(cover == LandCover.BUILT_UP, 0.8 * snow, snow)
    return np.where(cover == LandCover.WATER, sp.snow_fraction(temp + 6.0, patchiness), snow)


def _clouds(ld: Land, k: int, day: date, weather: DateWeather):
    """Cloud opacity and density at the pixels, and the shadow cast onto them."""
    doy = day.timetuple().tm_yday
    zen, az = overpass_sun(ld.lat, day)
    run = weather.height_m * np.tan(np.radians(np.minimum(zen, 80.0)))
    box = _lonlat_box(ld.lon, ld.lat, float(run.max()) + 500.0)
    if cloudiness_upper_bound(box, k, doy)[0] <= -CLEAR_MARGIN:
        zeros = np.zeros(ld.lon.shape)
        return zeros, zeros, zeros  # certainly clear: opacity would be exactly 0 everywhere
    opacity, density = cloud_opacity(ld.x, ld.y, cloudiness(ld.lon, ld.lat, k, doy), k, weather)
    # The shadow falling here is cast by the cloud lying towards the sun.
    azr = np.radians(az)
    lon_c = ld.lon + run * np.sin(azr) / (M_PER_DEG_LON * np.cos(np.radians(ld.lat)))
    lat_c = ld.lat + run * np.cos(azr) / M_PER_DEG_LAT
    xc, yc = to_metres(lon_c, lat_c)
    caster, _ = cloud_opacity(xc, yc, cloudiness(lon_c, lat_c, k, doy), k, weather)
    return opacity, density, caster


def _lonlat_box(lon: np.ndarray, lat: np.ndarray, margin_m: float) -> tuple[float, float, float, float]:
    dlat = margin_m / M_PER_DEG_LAT
    top = min(float(np.abs(lat).max()) + dlat, 89.0)
    dlon = margin_m / (M_PER_DEG_LON * math.cos(math.radians(top)))
    return float(lon.min()) - dlon, float(lat.min()) - dlat, float(lon.max()) + dlon, float(lat.max()) + dlat


def surface_reflectance(ld: Land, cond: Conditions) -> np.ndarray:
    """(n, 13) surface reflectance on the date: vegetation by season, then snow."""
    surface = cond.green.astype(np.float32)[:, None] * ld.green_delta
    surface += ld.dormant
    if cond.snow.any():
        age = cond.snow_age.astype(np.float32)[:, None]
        fresh, old = sp.ENDMEMBERS[sp.EM["snow_fresh"]], sp.ENDMEMBERS[sp.EM["snow_old"]]
        snow = (fresh + age * (old - fresh)) * ld.texture
        surface += cond.snow.astype(np.float32)[:, None] * (snow - surface)
    return surface


def top_of_atmosphere(ld: Land, surface: np.ndarray, day: date, weather: DateWeather) -> np.ndarray:
    """(n, 13) TOA reflectance; the atmosphere varies with latitude in 0.1° steps."""
    row = np.floor(ld.lat * 10.0).astype(np.int64)
    first = int(row.min())
    rows_lat = (np.arange(first, int(row.max()) + 1) + 0.5) / 10.0
    zen, _ = overpass_sun(rows_lat, day)
    path, trans = sp.atmosphere(zen)
    air_mass = sp.relative_air_mass(zen)
    if len(rows_lat) > 1:
        index = row - first
        path, trans, air_mass = path[index], trans[index], air_mass[index]
    toa = sp.toa_reflectance(surface, path, trans)
    vapour = sp.water_vapour(ld.lat, day.timetuple().tm_yday, ld.altitude, weather.vapour)
    t09, t10 = sp.vapour_transmittance(air_mass, vapour)
    for band, t in ((sp.B09, t09), (sp.B10, t10)):
        p = path[:, band]
        toa[:, band] = p + t * (surface[:, band] / (1.0 - sp.SPHERICAL_ALBEDO[band] * surface[:, band]))
    return toa


def render(ld: Land, cond: Conditions) -> np.ndarray:
    """(rows, cols, 13) float32 TOA reflectance of one date; 0 where not valid."""
    surface = surface_reflectance(ld, cond)
    if cond.shadow.any():
        surface *= 1.0 - cond.shadow.astype(np.float32)[:, None] * (1.0 - sp.DIFFUSE_SHARE)
    toa = top_of_atmosphere(ld, surface, cond.day, cond.weather)
    if cond.opacity.any():
        cloud = sp.CLOUD_TOA * np.float32(cond.weather.brightness)
        cloud = cloud * (0.85 + 0.15 * cond.density.astype(np.float32))[:, None]
        cloud[:, sp.B10] = 0.004 + 0.08 * cond.weather.cirrus
        a = cond.opacity.astype(np.float32)[:, None]
        toa += a * (cloud - toa)
    toa[~cond.valid] = 0.0
    return toa.reshape(*ld.shape, sp.N_BANDS)


# --- listing ------------------------------------------------------------------------


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
        if progress:
            progress(0.0, "Listing demo acquisitions")
        lon, lat = _aoi_centre(aoi)
        cell = cell_of(lon, lat)
        # Cadence steps whose UTC sensing date lies in [start, end] (far east, 10:30
        # local time is the previous day in UTC).
        first = max(0, -((EPOCH - start).days // CADENCE_DAYS) - 1)
        ks = np.arange(first, (end - EPOCH).days // CADENCE_DAYS + 2)
        ks = np.array(
            [k for k in ks if start <= acquisition_time(cell, int(k)).date() <= end], dtype=np.int64
        )
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

    def scene(self, aoi: AreaOfInterest, acquisition: Acquisition) -> Scene:
        """The acquisition on the AOI's grid: 13 TOA bands, valid mask, sun angles."""
        ld = land(aoi)
        cond = conditions(ld, cadence_index(aoi, acquisition))
        lon, lat = _aoi_centre(aoi)
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
