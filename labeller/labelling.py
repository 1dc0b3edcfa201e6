"""The labelling loop: step through a campaign's acquisitions, select pixels, save or skip.

Pure Python over a store and a source, so pages stay thin and tests need no browser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labeller import render
from labeller.campaign import CampaignSpec
from labeller.cloud_guard import DEFAULT_SKIP_REASON, Verdict, judge
from labeller.clouds import CloudLayer
from labeller.errors import LabellerError
from labeller.prefetch import SceneLoader
from labeller.scene_cache import SceneCache
from labeller.selection import Pixel, Selection, click_to_pixel, is_valid, toggle, valid_only
from labeller.sources.base import Acquisition, ImageSource, Progress, Scene
from labeller.store import CampaignRecord, Review, Store

CLEAR_SKY = 0.2
"""Cloud probability below which a saved pixel's spectrum becomes its shadow reference."""
PREFETCH_AHEAD = 2
"""Images fetched in the background beyond the one shown."""


class ReviewConflictError(LabellerError):
    """Another session reviewed the current image since this one opened it."""


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
    ) -> None:
        self.store = store
        self.source = source
        self.campaign = campaign
        self.acquisitions = acquisitions
        self.reviews: dict[str, Review] = store.reviews(campaign.id)
        self.index = self.first_unreviewed()
        self.selection: Selection = self._resume_selection()
        self.factor = render.upscale_factor(*self.aoi.shape)
        self.loader = SceneLoader(source, self.aoi, cache)
        self.prefetching = prefetch
        self.labeller: str | None = None
        """Who labels in this session; stored with each review and sample."""
        self.include_flagged = False
        """Save the selected pixels that look cloudy on this image too (reset on every image)."""
        self.references: dict[Pixel, np.ndarray] = {}
        """Each selected pixel's spectrum where it was last seen clean (picked or saved
        unflagged): the guard's reference for cloud shadows."""
        self._bases: dict[tuple[str, str], np.ndarray] = {}
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
        if self.prefetching:
            self.loader.prefetch(self.acquisitions[self.index + 1 : self.index + 1 + PREFETCH_AHEAD])

    def image(self, composite: str = render.DEFAULT_COMPOSITE) -> np.ndarray:
        """The enlarged current scene with the selection outlined (flagged pixels crossed),
        the pixels outside the typed box dimmed."""
        key = (self.current.id, composite)
        if key not in self._bases:
            rgb = render.dim_outside(render.composite(self.scene(), composite), self.aoi.typed_mask())
            self._bases = {key: render.enlarge(rgb, self.factor)}
        flagged = frozenset() if self.include_flagged else frozenset(self.verdict().flagged)
        return render.draw_selection(self._bases[key], self.selection, self.factor, flagged)

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
        self.selection = frozenset(selection)
        self.store.set_draft(self.campaign.id, self.selection)

    def selectable(self) -> Selection:
        """The selected pixels that have data in the current scene."""
        return valid_only(self.selection, self.scene().valid)

    def to_save(self) -> Selection:
        """What Save stores: the selected pixels with data that do not look cloudy here,
        plus the cloudy-looking ones when included on purpose."""
        return self.verdict().to_save(self.selection, self.include_flagged)

    # --- moving -------------------------------------------------------------------------

    def save_and_next(self) -> Review:
        """Store the spectra of the pixels ``to_save`` for the current acquisition, then advance."""
        self._check_not_changed_by_others()
        verdict = self.verdict()
        pixels = verdict.to_save(self.selection, self.include_flagged)
        review = self.store.save(
            self.campaign.id,
            self.aoi,
            self.scene(),
            sorted(pixels),
            labeller=self.labeller,
            flagged=verdict.cloudy & pixels,
        )
        self._update_references(pixels - frozenset(verdict.flagged))
        self.reviews[review.acquisition_id] = review
        self.go(self.index + 1)
        return review

    def skip(self, reason: str | None = DEFAULT_SKIP_REASON) -> Review:
        """Record the current acquisition as skipped (no spectra) with a reason from
        ``SKIP_REASONS``, then advance."""
        self._check_not_changed_by_others()
        review = self.store.skip(self.campaign.id, self.current, labeller=self.labeller, reason=reason)
        self.reviews[review.acquisition_id] = review
        self.go(self.index + 1)
        return review

    def _check_not_changed_by_others(self) -> None:
        """Refuse to overwrite a review another session wrote since this one last looked.

        Two people (or tabs) on one campaign would otherwise replace each other's pixels
        silently. The refusal updates what this session knows, so pressing again replaces
        the other review on purpose.
        """
        latest = self.store.reviews(self.campaign.id)
        acquisition = self.current.id
        mine, theirs = self.reviews.get(acquisition), latest.get(acquisition)
        self.reviews = latest
        if theirs is not None and theirs != mine:
            who = f" by {theirs.labeller}" if theirs.labeller else ""
            what = "skipped" if theirs.status == "skipped" else f"saved with {theirs.n_pixels} pixels"
            raise ReviewConflictError(
                f"This image was {what}{who} in another session at {theirs.reviewed_at:%H:%M:%S} UTC. "
                "Your selection is kept: press again to replace that review with yours, "
                "or go Back and forth to see theirs."
            )

    def back(self) -> None:
        if self.index > 0:
            self.go(self.index - 1)

    def go(self, index: int) -> None:
        """Open acquisition ``index``. A saved one shows its saved pixels; otherwise the
        selection carries over from the image shown before."""
        self.index = min(max(index, 0), len(self.acquisitions))
        self.include_flagged = False
        if self.finished:
            return
        self._prefetch()
        review = self.review_of(self.current)
        if review is not None and review.status == "saved":
            self._set_selection(self.store.saved_pixels(self.campaign.id, self.current.id))

    def _resume_selection(self) -> Selection:
        """The unsaved working selection if any, else the pixels of the last saved acquisition."""
        draft = self.store.draft(self.campaign.id)
        if draft:
            return frozenset(draft)
        for acquisition in reversed(self.acquisitions[: self.index]):
            review = self.reviews.get(acquisition.id)
            if review is not None and review.status == "saved":
                return frozenset(self.store.saved_pixels(self.campaign.id, acquisition.id))
        return frozenset()
