"""The small protocol every image source implements (the data it returns: ``labeller.scenes``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from labeller.aoi import AreaOfInterest
from labeller.bands import Collection
from labeller.scenes import Acquisition, Progress, Scene

StatusCallback = Callable[[str], None]
"""Called with a short text whenever a source waits for a server or retries."""


@dataclass(frozen=True)
class ConnectionResult:
    """What "Test connection" found."""

    status: Literal["ok", "rejected", "unreachable"]
    """``ok``; ``rejected`` (credentials or access refused); ``unreachable`` (no answer)."""
    message: str
    """One sentence for the user, never holding a secret."""


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
