"""The small protocol every image source implements, and the data it returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

import numpy as np

from labeller.aoi import AreaOfInterest
from labeller.bands import Collection

Progress = Callable[[float, str], None]
"""Called with a fraction done (0–1) and a short text while a source works."""

StatusCallback = Callable[[str], None]
"""Called with a short text whenever a source waits for a server or retries."""


@dataclass(frozen=True)
class ConnectionResult:
    """What "Test connection" found."""

    status: Literal["ok", "rejected", "unreachable"]
    """``ok``; ``rejected`` (credentials or access refused); ``unreachable`` (no answer)."""
    message: str
    """One sentence for the user, never holding a secret."""


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


class ImageSource(Protocol):
    """An image source: lists acquisitions of an AOI and delivers each as a Scene."""

    key: str
    """Short stable id stored with every sample, e.g. ``demo``."""
    title: str
    """Human name for the selector."""
    collection: Collection
    """The product level this source instance serves."""
    cache_id: str | None
    """Names source, endpoint, collection and request version for the disk cache of scenes;
    None for sources that compute scenes faster than a disk read (the demo)."""

    def acquisitions(
        self,
        aoi: AreaOfInterest,
        start: date,
        end: date,
        max_cloud: float | None = None,
        progress: Progress | None = None,
    ) -> list[Acquisition]:
        """Distinct acquisitions from start to end (both inclusive), oldest first.

        ``max_cloud`` is a percentage; acquisitions above it are left out.
        Raises NoAcquisitionsError when none remain, SourceError on failure.
        """
        ...

    def scene(self, aoi: AreaOfInterest, acquisition: Acquisition) -> Scene:
        """The acquisition on the AOI's grid. Raises SourceError on failure."""
        ...

    def reporting(self, callback: StatusCallback) -> AbstractContextManager[None]:
        """While the block runs, send this thread's wait and retry messages (e.g. "rate
        limited, retrying in 3 s") to ``callback``; a source that never waits does nothing."""
        ...

    def test_connection(self) -> ConnectionResult:
        """Reach the source once: ok, credentials rejected, or unreachable. Never raises."""
        ...


class LocalSource:
    """Base for sources that compute scenes in this process: nothing to wait for or connect to."""

    title: str

    @contextmanager
    def reporting(self, callback: StatusCallback) -> Iterator[None]:
        """Nothing to report: a local source never waits."""
        yield

    def test_connection(self) -> ConnectionResult:
        return ConnectionResult("ok", f"{self.title} works offline; there is nothing to connect to.")
