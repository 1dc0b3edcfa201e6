"""Hashing and smooth noise: every value of the demo world comes from here.

Value noise over integer lattices hashed with splitmix64-style uint64 bit mixing; no
global random state, so the same point gives the same value bit for bit in any request.
The landscape is drawn on a sinusoidal plane in metres (``to_metres``).
"""

from __future__ import annotations

import math

import numpy as np

M_PER_DEG_LON = 111320.0
M_PER_DEG_LAT = 110574.0

# Noise field ids (hash seeds).
F_RELIEF, F_ELEV, F_RIVER, F_VEG, F_TOWN, F_TOWN_FINE, F_ROAD, F_AGRI = range(1, 9)
F_PARCEL, F_TURBID, F_CONIFER, F_PATCH, F_PIXEL, F_TEXTURE, F_ANOMALY = range(9, 16)
F_CLOUD, F_CLOUD_COVER, F_DATE, F_SWATH, F_JITTER, F_RIDGE = range(16, 22)


_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_KX = np.uint64(0xD6E8FEB86659FD93)
_KY = np.uint64(0xA0761D6478BD642F)


def mix(h):
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
            h = mix((h ^ _u64(v)) + GOLDEN)
    return h


def unit(h) -> np.ndarray:
    """Hash bits to floats uniform in [0, 1)."""
    return (np.asarray(h) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def lattice_unit(ix, iy, seed) -> np.ndarray:
    """Uniform [0, 1) value of integer lattice points (ix, iy) under a ``seed_hash``."""
    with np.errstate(over="ignore"):
        return unit(mix(_u64(ix) * _KX + _u64(iy) * _KY + seed))


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
