"""The sun's position: NOAA solar position equations (after Meeus), and the overpass sun."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

OVERPASS_HOUR = 10.5
"""Local solar time of the overpass, hours."""


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
