"""The enlarged pictures a labelling session shows: one per image and display, built once, and
the next image's built in the background while the user labels the current one."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from labeller import render, views
from labeller.aoi import AreaOfInterest
from labeller.prefetch import SceneLoader
from labeller.scenes import Acquisition, Scene
from labeller.views import Display

log = logging.getLogger(__name__)
Prepared = tuple[render.OutlinedPicture, np.ndarray | None]
"""A picture and the stretch limits it was drawn with."""
BUILDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pictures")
"""Builds the next image's picture while the user labels the current one (``Pictures.prepare``)."""


class Pictures:
    """The enlarged view of each scene (pixels outside the typed box dimmed), keeping the one
    shown last and the one prepared for the next image."""

    def __init__(self, loader: SceneLoader, aoi: AreaOfInterest, factor: int) -> None:
        self.loader, self.aoi, self.factor = loader, aoi, factor
        self._shown: dict[tuple[str, Display], render.OutlinedPicture] = {}
        self._prepared: dict[tuple[str, Display], Prepared | None] = {}
        """The next image's picture and stretch limits (None: under way)."""
        self._lock = threading.Lock()
        self._limits: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        self._typed: np.ndarray | None = None

    def of(self, acquisition: Acquisition, display: Display) -> render.OutlinedPicture:
        """The picture of an acquisition in a display, built once, or taken ready-made from
        ``prepare``."""
        key = (acquisition.id, display)
        if key not in self._shown:
            limits_key = (acquisition.id, display.view.bands)
            with self._lock:
                prepared = self._prepared.pop(key, None)
            if prepared is None:
                prepared = self.build(self.loader.get(acquisition), display, self._limits.get(limits_key))
            picture, limits = prepared
            if limits is not None:  # once per scene and view: a change of brightness reuses them
                self._limits = {limits_key: limits}
            self._shown = {key: picture}
        return self._shown[key]

    def build(self, scene: Scene, display: Display, limits: np.ndarray | None = None) -> Prepared:
        """A scene's enlarged view and the stretch limits it used (computed unless given)."""
        if display.view.kind == "composite" and limits is None:
            stack = views.band_stack(scene.bands, scene.band_names, display.view.bands)
            limits = views.stretch_limits(stack, scene.valid)
        rgb = render.composite(scene, display, limits)
        rgb = render.dim_outside(rgb, self._typed_mask())
        return render.OutlinedPicture(render.enlarge(rgb, self.factor), self.factor), limits

    def prepare(self, acquisition: Acquisition, display: Display) -> None:
        """Build an acquisition's picture and PNG in the background if its scene is held
        already (only the latest one asked for is kept)."""
        key = (acquisition.id, display)
        if not self.loader.is_ready(acquisition):
            return
        with self._lock:
            if key in self._prepared:
                return
            self._prepared = {key: None}
        BUILDER.submit(self._prepare, acquisition, display)

    def _prepare(self, acquisition: Acquisition, display: Display) -> None:
        key = (acquisition.id, display)
        try:
            picture, limits = self.build(self.loader.get(acquisition), display)
            picture.png(frozenset())  # every strip compressed once, without a selection
        except Exception:  # noqa: BLE001 - the page builds it itself then, and shows any error
            log.info("preparing the picture of %s failed", acquisition.id, exc_info=True)
            picture = None
        with self._lock:
            if key in self._prepared:  # still wanted: neither taken nor replaced meanwhile
                if picture is None:
                    del self._prepared[key]
                else:
                    self._prepared[key] = (picture, limits)

    def _typed_mask(self) -> np.ndarray:
        if self._typed is None:
            self._typed = self.aoi.typed_mask()
        return self._typed
