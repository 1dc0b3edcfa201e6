"""One date of the landscape: season, snow, clouds and shadows, then TOA reflectance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from labeller.sources.demo import spectra as sp
from labeller.sources.demo.cells import cadence_day, in_swath_gap
from labeller.sources.demo.clouds import (
    CLEAR_MARGIN,
    CLOUD_OPACITY,
    DateWeather,
    cloud_opacity,
    cloudiness,
    cloudiness_upper_bound,
    date_weather,
)
from labeller.sources.demo.land import Land, LandCover
from labeller.sources.demo.noise import F_ANOMALY, M_PER_DEG_LAT, M_PER_DEG_LON, to_metres, value_noise
from labeller.sources.demo.sun import overpass_sun

SHADOW_STRENGTH = 0.3
"""A pixel counts as CLOUD_SHADOW from this shadow strength up."""
SNOW_COVER = 0.6
"""A pixel counts as SNOW_ICE from this visible snow fraction up."""


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
