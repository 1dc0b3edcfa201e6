"""The labelling loop: step through a campaign's acquisitions, select pixels, save or skip.

Pure Python over a store and a source, so pages stay thin and tests need no browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from labeller import render, views
from labeller.campaign import CampaignSpec
from labeller.cloud_guard import DEFAULT_SKIP_REASON, Verdict, judge
from labeller.clouds import CloudLayer
from labeller.errors import ReviewConflictError
from labeller.pictures import Pictures
from labeller.png import Png
from labeller.prefetch import SceneLoader
from labeller.scene_cache import SceneCache
from labeller.scenes import Acquisition, Progress, Scene
from labeller.selection import Pixel, Selection, click_to_pixel, is_valid, toggle, valid_only
from labeller.sources.base import ImageSource
from labeller.sources.registry import SOURCES
from labeller.store import CampaignRecord, Review, Store
from labeller.timeseries import IndexSeries
from labeller.views import Display

CLEAR_SKY = 0.2
"""Cloud probability below which a saved pixel's spectrum becomes its shadow reference."""
PREFETCH_AHEAD = 2
"""Images fetched in the background beyond the one shown."""


__all__ = ["PREFETCH_AHEAD", "LabellingSession", "LoopProgress", "ReviewConflictError"]


def _display(display: Display | str) -> Display:
    return Display(views.VIEWS[display]) if isinstance(display, str) else display


@dataclass(frozen=True)
class LoopProgress:
    """What the progress line shows."""

    reviewed: int
    total: int
    saved_acquisitions: int
    skipped_acquisitions: int
    pixels_saved: int

    @property
    def fraction(self) -> float:
        return self.reviewed / self.total if self.total else 1.0


class LabellingSession:
    """One user's pass through one campaign. Holds the current index and the selection."""

    def __init__(
        self,
        store: Store,
        source: ImageSource,
        campaign: CampaignRecord,
        acquisitions: list[Acquisition],
        cache: SceneCache | None = None,
        prefetch: bool = True,
        draft_token: str = "",
    ) -> None:
        self.store = store
        self.draft_token = draft_token
        """This labelling session's key for its unsaved selection in the store (a browser
        session keeps it in the page address, so a reload finds its own draft)."""
        self.source = source
        self.campaign = campaign
        self.acquisitions = acquisitions
        self.reviews: dict[str, Review] = store.reviews(campaign.id)
        self.index = self.first_unreviewed()
        self.selection: Selection = self._resume_selection()
        self._drafted: Selection | None = None
        """The selection last kept as this session's draft (None: not written yet)."""
        self.factor = render.upscale_factor(*self.aoi.shape)
        self.loader = SceneLoader(source, self.aoi, cache)
        self.prefetching = prefetch
        self.last_pixel: Pixel | None = None
        """The pixel clicked last (for its details and its time series)."""
        spec = SOURCES.get(source.key)
        self.series = IndexSeries(
            self.loader, acquisitions, automatic=prefetch and not (spec and spec.needs_credentials)
        )
        """An index through the campaign's dates, filled in the background."""
        self.labeller: str | None = None
        """Who labels in this session; stored with each review and sample."""
        self.pictures = Pictures(self.loader, self.aoi, self.factor)
        self.include_flagged = False
        """Save the selected pixels that look cloudy on this image too (reset on every image)."""
        self.references: dict[Pixel, np.ndarray] = {}
        """Each selected pixel's spectrum where it was last seen under a clear sky (picked or
        saved unflagged): the cloud guard's reference."""
        self._prefetch()

    @classmethod
    def start(
        cls,
        store: Store,
        source: ImageSource,
        spec: CampaignSpec,
        progress: Progress | None = None,
        **options,
    ) -> LabellingSession:
        """Open (or resume) the campaign for this spec and list its acquisitions."""
        acquisitions = source.acquisitions(spec.aoi, spec.start, spec.end, spec.max_cloud, progress)
        campaign = store.open_campaign(spec)
        return cls(store, source, campaign, acquisitions, **options)

    # --- where we are -------------------------------------------------------------------

    @property
    def aoi(self):
        return self.campaign.spec.aoi

    @property
    def finished(self) -> bool:
        """True once the index has moved past the last acquisition."""
        return self.index >= len(self.acquisitions)

    @property
    def current(self) -> Acquisition:
        return self.acquisitions[self.index]

    def review_of(self, acquisition: Acquisition) -> Review | None:
        return self.reviews.get(acquisition.id)

    def first_unreviewed(self) -> int:
        """Index of the first acquisition without a review (len when all are reviewed)."""
        return next(
            (i for i, a in enumerate(self.acquisitions) if a.id not in self.reviews), len(self.acquisitions)
        )

    def progress(self) -> LoopProgress:
        ids = {a.id for a in self.acquisitions}
        mine = [r for r in self.reviews.values() if r.acquisition_id in ids]
        saved = [r for r in mine if r.status == "saved"]
        return LoopProgress(
            reviewed=len(mine),
            total=len(self.acquisitions),
            saved_acquisitions=len(saved),
            skipped_acquisitions=len(mine) - len(saved),
            pixels_saved=sum(r.n_pixels for r in saved),
        )

    # --- images -------------------------------------------------------------------------

    def scene(self, acquisition: Acquisition | None = None) -> Scene:
        """The scene of an acquisition (the current one by default), kept for a few steps."""
        return self.loader.get(acquisition or self.current)

    def _prefetch(self) -> None:
        """Fetch the next images in the background once the current one is there, so they
        never compete with the image the user is waiting for."""
        if not self.prefetching or self.finished:
            return
        ahead = self.acquisitions[self.index + 1 : self.index + 1 + PREFETCH_AHEAD]
        current = self.loader.start(self.current)  # None: held already, or its fetch failed
        if current is None:
            self.loader.prefetch(ahead)
        else:
            current.future.add_done_callback(lambda _: self.loader.prefetch(ahead))

    def _picture(self, display: Display) -> render.OutlinedPicture:
        return self.pictures.of(self.current, display)

    def prepare_next(self, display: Display | str = views.DEFAULT_VIEW) -> None:
        """Build the next image's picture and PNG in the background when that image is held
        already, so Save & next then only outlines the selection on it (the page calls this
        once the current image is drawn: the work never delays it)."""
        following = self.index + 1
        if self.prefetching and following < len(self.acquisitions):
            self.pictures.prepare(self.acquisitions[following], _display(display))

    def _crossed(self) -> frozenset:
        """The selected pixels drawn as flagged (none once included on purpose)."""
        return frozenset() if self.include_flagged else frozenset(self.verdict().flagged)

    def image(self, display: Display | str = views.DEFAULT_VIEW) -> np.ndarray:
        """The enlarged current scene with the selection outlined (flagged pixels crossed)."""
        picture = self._picture(_display(display))
        return render.draw_selection(picture.enlarged, self.selection, self.factor, self._crossed())

    def png(self, display: Display | str = views.DEFAULT_VIEW) -> Png:
        """What ``image`` shows, as PNG; a click re-encodes only the grid rows it changed."""
        return self._picture(_display(display)).png(self.selection, self._crossed())

    # --- clouds -------------------------------------------------------------------------

    def cloud_layer(self, acquisition: Acquisition | None = None) -> CloudLayer:
        """Cloud probability (Level-1C) or SCL (Level-2A) of a scene, computed when it arrived."""
        return CloudLayer.of(self.scene(acquisition))

    def verdict(self) -> Verdict:
        """Which selected pixels look cloudy or have no data on the current image."""
        scene = self.scene()
        layer = CloudLayer.of(scene)
        threshold = self.campaign.spec.cloud_threshold
        return judge(self.selection, scene.valid, layer, threshold, scene, self.references)

    def flag_of(self, pixel: Pixel) -> str | None:
        """Why the guard flags a pixel on the current image (``cloud``, ``shadow``, ``no data``...),
        or None: the verdict for a selected pixel, the cloud layer alone for any other."""
        if pixel in self.selection:
            return self.verdict().flagged.get(pixel)
        scene = self.scene()
        return CloudLayer.of(scene).reason(pixel, scene.valid, self.campaign.spec.cloud_threshold)

    def area_cloud(self, acquisition: Acquisition) -> float | None:
        """Cloud and shadow share (0–1) over the area's valid pixels, for images already
        fetched (None otherwise: listing never waits on a download)."""
        if not self.loader.is_ready(acquisition):
            return None
        scene = self.scene(acquisition)
        return CloudLayer.of(scene).area_fraction(scene.valid, self.campaign.spec.cloud_threshold)

    def _update_references(self, pixels: Selection) -> None:
        """Pixels picked or saved under a clear sky become the guard's references (not hazy
        or cloudy ones: a brightened reference would hide the next cloud and make the next
        clear date look shadowed)."""
        scene = self.scene()
        layer = CloudLayer.of(scene)
        for pixel in pixels:
            prob = layer.probability[pixel] if layer.probability is not None else np.nan
            if np.isfinite(prob) and prob < CLEAR_SKY:
                self.references[pixel] = scene.bands[pixel].copy()

    def include_flagged_anyway(self, include: bool = True) -> None:
        """Save the cloudy-looking selected pixels too, on this image only."""
        self.include_flagged = include

    def drop_flagged(self) -> None:
        """Remove the pixels flagged on this image from the selection."""
        self._set_selection(self.selection - frozenset(self.verdict().flagged))

    # --- selection ----------------------------------------------------------------------

    def click(self, x: float, y: float, shown_width: float, shown_height: float) -> str | None:
        """Toggle the pixel under a click on the shown image. Returns a message if refused."""
        rows, cols = self.aoi.shape
        pixel = click_to_pixel(x, y, shown_width, shown_height, rows, cols)
        self.last_pixel = pixel
        return self.toggle(pixel)

    def toggle(self, pixel: Pixel) -> str | None:
        valid = self.scene().valid
        if pixel not in self.selection and not is_valid(pixel, valid):
            return f"Pixel (row {pixel[0]}, col {pixel[1]}) has no data in this image and cannot be selected."
        if pixel not in self.selection:
            self._update_references(frozenset({pixel}))
        self._set_selection(toggle(self.selection, pixel, valid))
        return None

    def clear(self) -> None:
        self._set_selection(frozenset())

    def _set_selection(self, selection: Selection) -> None:
        """Change the working selection and keep it as this session's draft."""
        self.selection = frozenset(selection)
        self._keep_draft()

    def _keep_draft(self) -> None:
        if self.selection != self._drafted:
            self.store.keep_draft(self.campaign.id, self.selection, self.draft_token)
            self._drafted = self.selection

    def selectable(self) -> Selection:
        """The selected pixels that have data in the current scene."""
        return valid_only(self.selection, self.scene().valid)

    def to_save(self) -> Selection:
        """What Save stores: the selected pixels with data that do not look cloudy here,
        plus the cloudy-looking ones when included on purpose."""
        return self.verdict().to_save(self.selection, self.include_flagged)

    # --- moving -------------------------------------------------------------------------

    def save_and_next(self) -> Review:
        """Store the spectra of the pixels ``to_save`` for the current acquisition, then advance:
        the selected pixels with data, less those the cloud guard flags unless included."""
        scene = self.scene()
        verdict = self.verdict()
        chosen = verdict.to_save(self.selection, self.include_flagged)
        pixels = sorted(chosen)
        with self._unless_changed_by_others() as seen:
            review = self.store.save(
                self.campaign.id,
                self.aoi,
                scene,
                pixels,
                labeller=self.labeller,
                expected=seen,
                flagged=verdict.cloudy & chosen,
            )
        self._update_references(chosen - frozenset(verdict.flagged))
        self.reviews[review.acquisition_id] = review
        self.go(self.index + 1)
        return review

    def skip(self, reason: str | None = DEFAULT_SKIP_REASON) -> Review:
        """Record the current acquisition as skipped (no spectra) with a reason from
        ``SKIP_REASONS``, then advance."""
        with self._unless_changed_by_others() as seen:
            review = self.store.skip(
                self.campaign.id, self.current, labeller=self.labeller, expected=seen, reason=reason
            )
        self.reviews[review.acquisition_id] = review
        self.go(self.index + 1)
        return review

    @contextmanager
    def _unless_changed_by_others(self) -> Iterator[Review | None]:
        """The review this session last saw of the current image, for the store to compare
        with the stored one inside the write (``ReviewConflictError`` if they differ).

        Two people (or tabs) on one campaign would otherwise replace each other's pixels
        silently. The refusal teaches this session the review stored now, so pressing
        again replaces it on purpose.
        """
        acquisition = self.current.id
        try:
            yield self.reviews.get(acquisition)
        except ReviewConflictError as conflict:
            if conflict.current is None:
                self.reviews.pop(acquisition, None)
            else:
                self.reviews[acquisition] = conflict.current
            raise

    def back(self) -> None:
        if self.index > 0:
            self.go(self.index - 1)

    def jump_to(self, index: object) -> bool:
        """Open the acquisition the user picked from a list of dates. Anything but another
        valid position is ignored (False): a date list reports its value again on later
        reruns, and reopening the image shown would replace the user's unsaved selection
        with what is stored there."""
        if isinstance(index, bool) or not isinstance(index, int):
            return False
        if not 0 <= index < len(self.acquisitions) or index == self.index:
            return False
        self.go(index)
        return True

    def go(self, index: int) -> None:
        """Open acquisition ``index``, with the reviews as stored now (also other sessions').
        A saved one shows its saved pixels (without touching the draft: viewing is not
        editing); otherwise the selection carries over from the image shown before and
        becomes this session's draft."""
        self.index = min(max(index, 0), len(self.acquisitions))
        self.include_flagged = False
        if self.finished:
            return
        self._prefetch()
        self.reviews = self.store.reviews(self.campaign.id)  # others' work shows too
        review = self.review_of(self.current)
        if review is not None and review.status == "saved":
            self.selection = frozenset(self.store.saved_pixels(self.campaign.id, self.current.id))
        else:
            self._keep_draft()

    def _resume_selection(self) -> Selection:
        """This session's unsaved selection if any, else the pixels of the last saved acquisition."""
        draft = self.store.draft(self.campaign.id, self.draft_token)
        if draft:
            return frozenset(draft)
        for acquisition in reversed(self.acquisitions[: self.index]):
            review = self.reviews.get(acquisition.id)
            if review is not None and review.status == "saved":
                return frozenset(self.store.saved_pixels(self.campaign.id, acquisition.id))
        return frozenset()
