"""An index through a campaign's dates, filled in the background without blocking the image.

Keeps one small index map (rows × cols float32) per date and index, computed from scenes that are
already fetched (held in memory or in the disk cache); the others are fetched on a background
thread, one at a time, and counted for a progress line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from labeller.prefetch import SceneLoader
from labeller.scenes import Acquisition, Scene
from labeller.selection import Pixel
from labeller.views import View, normalised_difference

log = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="timeseries")
"""One fetch at a time for all sessions: the series must never compete with the image shown."""


def index_map(scene: Scene, index: View) -> np.ndarray:
    """(rows, cols) float32 index over the scene, NaN where it has no data."""
    a, b = (scene.band(name) for name in index.bands)
    return np.where(scene.valid, normalised_difference(a, b), np.nan).astype(np.float32)


class IndexSeries:
    """Index maps of one campaign's acquisitions, per index view."""

    def __init__(self, loader: SceneLoader, acquisitions: list[Acquisition], automatic: bool = True) -> None:
        self.loader = loader
        self.acquisitions = acquisitions
        self.automatic = automatic
        """Fetch the missing dates without asking. False where each fetch costs the user (a
        billed service's quota) or background fetching is off: the page then asks first."""
        self._maps: dict[tuple[str, str], np.ndarray] = {}
        self._failed: set[str] = set()
        self._queued: set[str] = set()
        self._lock = threading.Lock()

    def maps(self, index: View) -> dict[str, np.ndarray]:
        """Acquisition id → index map, for the dates known so far (scenes in memory count too)."""
        for acquisition in self.acquisitions:
            key = (acquisition.id, index.key)
            if key not in self._maps and self.loader.is_ready(acquisition):
                self._add(acquisition, self.loader.get(acquisition), index)
        with self._lock:
            return {a: m for (a, k), m in self._maps.items() if k == index.key}

    def fetch_missing(self, index: View) -> None:
        """Start fetching, in the background, every date whose map is not known yet."""
        known = self.maps(index)
        for acquisition in self.acquisitions:
            with self._lock:
                if (
                    acquisition.id in known
                    or acquisition.id in self._queued
                    or acquisition.id in self._failed
                ):
                    continue
                self._queued.add(acquisition.id)
            _POOL.submit(self._fetch, acquisition, index)

    def missing(self, index: View) -> int:
        """Dates whose map is not known yet and that have not failed."""
        done, total = self.progress(index)
        return total - done

    def progress(self, index: View) -> tuple[int, int]:
        """(dates known, dates in the campaign), failed ones counted as done."""
        with self._lock:
            done = sum(1 for (_, k) in self._maps if k == index.key) + len(self._failed)
        return min(done, len(self.acquisitions)), len(self.acquisitions)

    def _fetch(self, acquisition: Acquisition, index: View) -> None:
        try:
            scene = self.loader.fetch_quietly(acquisition)
            self._add(acquisition, scene, index)
        except Exception:  # noqa: BLE001 - a date that cannot be fetched is left out of the series
            log.info("time series: %s could not be fetched", acquisition.id, exc_info=True)
            with self._lock:
                self._failed.add(acquisition.id)
        finally:
            with self._lock:
                self._queued.discard(acquisition.id)

    def _add(self, acquisition: Acquisition, scene: Scene, index: View) -> None:
        values = index_map(scene, index)
        with self._lock:
            self._maps[(acquisition.id, index.key)] = values


def series_rows(
    acquisitions: list[Acquisition],
    maps: dict[str, np.ndarray],
    statuses: list[str],
    selection: Iterable[Pixel],
    pixel: Pixel | None,
) -> list[dict]:
    """Chart rows over the dates with a map: i (acquisition index), date, series ("selection
    mean" or "pixel r,c"), value, status. Pixels without data on a date are left out of it."""
    pixels = sorted(selection)
    rows = []
    for i, acquisition in enumerate(acquisitions):
        values = maps.get(acquisition.id)
        if values is None:
            continue
        base = {"i": i, "date": acquisition.time.strftime("%Y-%m-%d"), "status": statuses[i]}
        if pixels:
            picked = values[tuple(np.array(pixels).T)]
            if np.isfinite(picked).any():
                rows.append(base | {"series": "selection mean", "value": float(np.nanmean(picked))})
        if pixel is not None and np.isfinite(values[pixel]):
            rows.append(base | {"series": f"pixel {pixel[0]},{pixel[1]}", "value": float(values[pixel])})
    return rows
