"""Scenes for one labelling session: from memory, the disk cache or the source, with the
next images fetched in the background while the user labels the current one. Each scene
gets its cloud layer (``clouds.attach``) as it arrives, kept in the disk cache with it."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

from labeller import clouds
from labeller.aoi import AreaOfInterest
from labeller.scene_cache import SceneCache, scene_key
from labeller.sources.base import Acquisition, ImageSource, Scene

log = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="prefetch")
"""Shared by all sessions of the process: downloads wait on the network, not the CPU."""


class SceneLoader:
    """Get scenes of one AOI; ``prefetch`` starts fetching some in the background."""

    def __init__(
        self,
        source: ImageSource,
        aoi: AreaOfInterest,
        cache: SceneCache | None = None,
        keep: int = 6,
    ) -> None:
        self.source = source
        self.aoi = aoi
        self.cache = cache if getattr(source, "cache_id", None) else None
        self.keep = keep
        self._memory: OrderedDict[str, Scene] = OrderedDict()
        self._pending: dict[str, Future] = {}
        self._lock = threading.Lock()

    def get(self, acquisition: Acquisition) -> Scene:
        """The scene, waiting for a fetch already under way rather than starting another."""
        with self._lock:
            if acquisition.id in self._memory:
                self._memory.move_to_end(acquisition.id)
                return self._memory[acquisition.id]
            pending = self._pending.get(acquisition.id)
        if pending is not None:
            try:
                return pending.result()
            except Exception:  # noqa: BLE001 - fetch again in the foreground, which reports the error
                log.info("prefetch of %s failed; fetching again", acquisition.id)
        return self._load(acquisition)

    def prefetch(self, acquisitions: list[Acquisition]) -> None:
        """Start fetching these scenes unless held or under way."""
        with self._lock:
            wanted = [a for a in acquisitions if a.id not in self._memory and a.id not in self._pending]
            for acquisition in wanted:
                future = _POOL.submit(self._load, acquisition)
                self._pending[acquisition.id] = future

    def fetch_quietly(self, acquisition: Acquisition) -> Scene:
        """The scene from memory, the disk cache or the source, without keeping it in memory
        (so a background job never pushes out the scenes the user is about to see)."""
        with self._lock:
            if acquisition.id in self._memory:
                return self._memory[acquisition.id]
        key = scene_key(self.source.cache_id, self.aoi, acquisition) if self.cache else None
        scene = self.cache.get(key) if key else None
        if scene is None:
            scene = self.source.scene(self.aoi, acquisition)
            if key:
                self.cache.put(key, scene)
        return scene

    def is_ready(self, acquisition: Acquisition) -> bool:
        with self._lock:
            return acquisition.id in self._memory

    def _load(self, acquisition: Acquisition) -> Scene:
        try:
            key = scene_key(self.source.cache_id, self.aoi, acquisition) if self.cache else None
            cached = self.cache.get(key) if key else None
            scene = clouds.attach(cached or self.source.scene(self.aoi, acquisition))
            if key and scene is not cached:
                self.cache.put(key, scene)
            self._remember(acquisition.id, scene)
            return scene
        finally:
            with self._lock:
                self._pending.pop(acquisition.id, None)

    def _remember(self, acquisition_id: str, scene: Scene) -> None:
        with self._lock:
            self._memory[acquisition_id] = scene
            self._memory.move_to_end(acquisition_id)
            while len(self._memory) > self.keep:
                self._memory.popitem(last=False)
