"""Clouds: the date's weather, large-scale cloudiness with its exact upper bound, cloud opacity."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from labeller.sources.demo import spectra as sp
from labeller.sources.demo.noise import (
    F_CLOUD,
    F_CLOUD_COVER,
    F_DATE,
    bilinear,
    fbm,
    lattice_unit,
    seed_hash,
    stretch,
    unit,
)

CLOUD_OPACITY = 0.2
"""A pixel counts as CLOUD from this cloud opacity up (thinner veils count as haze)."""
CLOUD_LATTICE_DEG = 1.5
CLOUD_SPREAD = 4.0
CLOUD_BIAS = -0.2
CLEAR_MARGIN = 1e-9
"""Cloudiness this far below 0 is certainly clear, rounding of the interpolation included."""


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
