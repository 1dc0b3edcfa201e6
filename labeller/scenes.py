"""What image sources deliver and the rest of the house works on: acquisitions and scenes.

Plain data, no source behind it: the store, rendering, the cache, prefetch and the labelling
loop depend on this module, not on the adapter package ``labeller.sources``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

Progress = Callable[[float, str], None]
"""Called with a fraction done (0–1) and a short text while a source works."""


@dataclass(frozen=True)
class Acquisition:
    """One acquisition (one distinct sensing date) of the AOI."""

    id: str
    """Stable id within the source and collection, e.g. a product or tile id."""
    time: datetime
    """Sensing time, timezone-aware UTC."""
    cloud_cover: float | None
    """Cloud cover in percent (0–100) as the source's metadata gives it, or None."""
    tile_id: str | None = None
    """Tile or granule id, where the source has one."""
    processing_baseline: str | None = None
    """ESA processing baseline, e.g. ``05.09``, where known."""


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything the app needs of one acquisition, on the AOI's 10 m grid."""

    acquisition: Acquisition
    band_names: tuple[str, ...]
    """Band order of ``bands``' last axis."""
    bands: np.ndarray
    """(rows, cols, len(band_names)) float32 reflectance, 0–1 nominal."""
    valid: np.ndarray
    """(rows, cols) bool: True where the source has data; only these may be selected."""
    sun_zenith: float
    """Mean sun zenith angle over the AOI, degrees."""
    sun_azimuth: float
    """Mean sun azimuth angle over the AOI, degrees clockwise from north."""
    harmonised: bool | None = None
    """Whether values were harmonised across the 2022 baseline change (None: not applicable)."""
    extra: dict = field(default_factory=dict)
    """Source-specific layers, e.g. ``SCL`` for Level-2A."""

    def band(self, name: str) -> np.ndarray:
        """One band as a (rows, cols) array."""
        return self.bands[..., self.band_names.index(name)]

    def spectra(self, rows, cols) -> np.ndarray:
        """(n, bands) reflectance at the given pixels."""
        return self.bands[np.asarray(rows, dtype=int), np.asarray(cols, dtype=int), :]
