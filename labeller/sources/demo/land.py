"""The static landscape of an AOI: land cover and the per-pixel fields that do not change by date.

From noise fields: an elevation proxy (lakes and rivers low, bare rock and permanent ice
high, more so at high latitude), a vegetation/moisture field (forest, grassland or crops,
bare soil; drier in the subtropics), agricultural parcels, settlements as sparse clusters
with roads. Computed once per AOI and cached (8 AOIs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

import numpy as np

from labeller.aoi import AreaOfInterest
from labeller.sources.demo import spectra as sp
from labeller.sources.demo.cells import SWATH_TILT
from labeller.sources.demo.noise import (
    F_AGRI,
    F_CONIFER,
    F_ELEV,
    F_PARCEL,
    F_PATCH,
    F_PIXEL,
    F_RELIEF,
    F_RIDGE,
    F_RIVER,
    F_ROAD,
    F_TEXTURE,
    F_TOWN,
    F_TOWN_FINE,
    F_TURBID,
    F_VEG,
    GOLDEN,
    fbm,
    lattice_unit,
    mix,
    seed_hash,
    stretch,
    to_metres,
    unit,
    value_noise,
)


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
        bits = np.stack([pixel, mix(pixel + GOLDEN)], axis=1)  # 16 random bytes per pixel
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
