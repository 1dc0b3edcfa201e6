"""Scenes for one labelling session: from memory, the disk cache or the source, with the
next images fetched in the background while the user labels the current one. Each scene
gets its cloud layer (``clouds.attach``) as it arrives, kept in the disk cache with it.

Every fetch runs on a worker thread as a ``Fetch``: a future plus a ``FetchStatus`` into
which the source reports its waits and retries ("rate limited, waiting 3 s…") from
whichever thread makes the request. The page polls that status from its own thread, so no
worker thread ever touches Streamlit.

Requests stay bounded under faults: an acquisition is fetched by one fetch at a time (the
foreground waits for a background fetch already under way, also a quiet one for the time
series), and a failed fetch is remembered, so neither a rerun, a prefetch nor the foreground
asks the server again until the user presses Retry (``retry``).

Quiet fetches (``fetch_quietly``, for the time series) give way: each waits until no fetch of
an image the user is shown or about to see is under way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

from labeller import clouds
from labeller.aoi import AreaOfInterest
from labeller.scene_cache import SceneCache, scene_key
from labeller.scenes import Acquisition, Scene
from labeller.sources.base import ImageSource

log = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="prefetch")
"""Shared by all sessions of the process: downloads wait on the network, not the CPU."""


class FetchStatus:
    """The latest wait or retry message of one fetch; written by any thread, read by the page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._text: str | None = None
        self.started = time.monotonic()

    def set(self, text: str) -> None:
        with self._lock:
            self._text = text

    @property
    def text(self) -> str | None:
        with self._lock:
            return self._text

    @property
    def elapsed(self) -> float:
        """Seconds since the fetch started."""
        return time.monotonic() - self.started


class Fetch:
    """One fetch of one acquisition under way (or just finished) on a worker thread."""

    def __init__(self, acquisition: Acquisition, keep: bool = True) -> None:
        self.acquisition = acquisition
        self.status = FetchStatus()
        self.future: Future[Scene] = Future()
        self.keep = keep
        """Hold the scene in memory once fetched (False: a quiet fetch nobody waits for yet)."""

    def done(self) -> bool:
        return self.future.done()

    def wait(self, seconds: float) -> bool:
        """Wait at most ``seconds`` for the fetch to end; True when it has."""
        try:
            self.future.exception(timeout=seconds)
        except TimeoutError:
            return False
        return True


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
        self._pending: dict[str, Fetch] = {}
        self._failed: dict[str, Exception] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        """Notified whenever a fetch ends (quiet fetches wait for the others to end)."""

    def get(self, acquisition: Acquisition) -> Scene:
        """The scene, waiting for a fetch already under way rather than starting another.
        Raises the error of a failed fetch again (without a request) until ``retry``."""
        fetch = self.start(acquisition)
        if fetch is not None:
            return fetch.future.result()
        with self._lock:
            if acquisition.id in self._memory:
                self._memory.move_to_end(acquisition.id)
                return self._memory[acquisition.id]
            failure = self._failed.get(acquisition.id)
        if failure is not None:
            raise failure
        return self.get(acquisition)  # evicted between start and here: fetch it again

    def start(self, acquisition: Acquisition) -> Fetch | None:
        """The fetch of this scene, started unless one is under way; None when the scene is
        held (``is_ready``) or its last fetch failed (``failure``)."""
        with self._lock:
            if acquisition.id in self._memory or acquisition.id in self._failed:
                return None
            fetch = self._pending.get(acquisition.id)
            if fetch is None:
                fetch = self._pending[acquisition.id] = Fetch(acquisition)
                _POOL.submit(self._run, fetch)
            fetch.keep = True  # a quiet fetch under way: the user wants this one now
            return fetch

    def prefetch(self, acquisitions: list[Acquisition]) -> None:
        """Start fetching these scenes unless held, under way or failed."""
        for acquisition in acquisitions:
            self.start(acquisition)

    def fetch_quietly(self, acquisition: Acquisition) -> Scene:
        """The scene from memory, the disk cache or the source, without keeping it in memory
        (so a background job never pushes out the scenes the user is about to see). Waits for
        a fetch under way and raises a remembered failure rather than asking the source again.
        Starts only when no other fetch is under way (the image shown and the next ones come
        first); a ``start`` of the same scene meanwhile waits for this fetch instead of
        asking the source again."""
        with self._lock:
            while any(f.keep for f in self._pending.values()):
                self._changed.wait()
            if acquisition.id in self._memory:
                return self._memory[acquisition.id]
            pending, failure = self._pending.get(acquisition.id), self._failed.get(acquisition.id)
            mine = pending is None and failure is None
            if mine:
                pending = self._pending[acquisition.id] = Fetch(acquisition, keep=False)
        if failure is not None:
            raise failure
        if mine:
            self._run(pending)  # on this (the series') thread
        return pending.future.result()

    def is_ready(self, acquisition: Acquisition) -> bool:
        with self._lock:
            return acquisition.id in self._memory

    def failure(self, acquisition: Acquisition) -> Exception | None:
        """The error of this scene's last fetch, kept until ``retry``."""
        with self._lock:
            return self._failed.get(acquisition.id)

    def retry(self, acquisition: Acquisition) -> None:
        """Forget a failed fetch, so the next ``start`` or ``get`` asks the source again."""
        with self._lock:
            self._failed.pop(acquisition.id, None)

    def _run(self, fetch: Fetch) -> None:
        try:
            with self.source.reporting(fetch.status.set):
                scene = self._load(fetch)
        except Exception as error:  # noqa: BLE001 - kept (see _load) and shown by the page
            log.info("fetch of %s failed: %s", fetch.acquisition.id, type(error).__name__)
            fetch.future.set_exception(error)
        else:
            fetch.future.set_result(scene)

    def _obtain(self, acquisition: Acquisition) -> Scene:
        """The scene from the disk cache or the source, with its cloud layer; a fetched scene
        (or a cached one that lacked the layer) goes into the cache complete."""
        key = scene_key(self.source.cache_id, self.aoi, acquisition) if self.cache else None
        cached = self.cache.get(key) if key else None
        scene = clouds.attach(cached or self.source.scene(self.aoi, acquisition))
        if key and scene is not cached:
            self.cache.put(key, scene)
        return scene

    def _load(self, fetch: Fetch) -> Scene:
        try:
            scene = self._obtain(fetch.acquisition)
        except BaseException as error:
            self._end(fetch, failure=error)
            raise
        self._end(fetch, scene=scene)
        return scene

    def _end(self, fetch: Fetch, scene: Scene | None = None, failure: BaseException | None = None) -> None:
        """Hold the scene (or remember the failure: no refetch until ``retry``) and stop the
        fetch being pending, in one step, so a ``start`` joining it meanwhile finds either."""
        with self._lock:
            if fetch.keep:  # not for a quiet fetch: a failed date is the series' own to leave out
                if scene is not None:
                    self._remember(fetch.acquisition.id, scene)
                elif isinstance(failure, Exception):
                    self._failed[fetch.acquisition.id] = failure
            self._pending.pop(fetch.acquisition.id, None)
            self._changed.notify_all()

    def _remember(self, acquisition_id: str, scene: Scene) -> None:
        """Hold a scene (the caller holds the lock)."""
        self._memory[acquisition_id] = scene
        self._memory.move_to_end(acquisition_id)
        while len(self._memory) > self.keep:
            self._memory.popitem(last=False)
