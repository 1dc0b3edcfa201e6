"""The cloud guard of the carry-over: which selected pixels look cloudy on this image.

A selection carries from one date to the next; a pixel that was clear forest when it was
picked may lie under a cloud or its shadow on the next date. Such pixels (and pixels
without data) are *flagged*: not saved unless the user includes them on purpose, for this
image only. Pure functions over a selection, the valid mask and a ``CloudLayer``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from labeller.clouds import CloudLayer
from labeller.selection import Pixel, Selection

SKIP_REASONS: tuple[str, ...] = (
    "overcast",
    "clouds over my pixels",
    "shadow",
    "haze",
    "snow",
    "no data",
    "other",
)
"""Why an image was skipped; stored with the review and exported."""
DEFAULT_SKIP_REASON = SKIP_REASONS[0]


@dataclass(frozen=True)
class Verdict:
    """The guard's judgement of a selection on one image."""

    flagged: dict[Pixel, str] = field(default_factory=dict)
    """Selected pixels that look cloudy (or have no data) here, and why (``cloud``,
    ``cirrus``, ``shadow``, ``no data``)."""
    available: bool = True
    """False when the image has no cloud information (flags then cover no data only)."""
    message: str | None = None
    """Why cloud flags are unavailable, for the user."""

    def to_save(self, selection: Iterable[Pixel], include_flagged: bool) -> Selection:
        """The pixels a save stores: the clean ones, plus the cloudy ones when included on
        purpose. Pixels without data are never saved."""
        keep = set()
        for pixel in selection:
            reason = self.flagged.get(pixel)
            if reason is None or (include_flagged and reason != "no data"):
                keep.add(pixel)
        return frozenset(keep)

    @property
    def cloudy(self) -> Selection:
        """The flagged pixels that do have data (the ones "include anyway" adds)."""
        return frozenset(p for p, why in self.flagged.items() if why != "no data")


SHADOW_RATIOS: dict[str, float] = {"B8A": 1.0, "B11": 0.75, "B12": 0.9}
"""Level-1C cloud shadow (s2cloudless sees no shadows): a carried pixel is shadow when it is
darker than on the last image where it was clean, in all of these bands at once, by these
ratios. A shadow dims every band; seasons move NIR (B8A) and SWIR (B11, B12) in opposite
directions, snow and haze brighten. Set on the demo (see ``benchmarks/label_noise.py``)."""


BLUE_RISE = 0.025
"""A cloud brightens the blue band (B02) over the pixel's clear-sky reflectance; MAJA's
multi-temporal cloud test uses the same sign. A pixel s2cloudless calls cloud whose blue
has not risen this much above its clean reference is its clear self (bright bare soil,
dry grass), not a cloud."""


CONFIDENT = 0.8
"""From this probability s2cloudless is believed whatever the blue band says."""
THIN_CLOUD, THIN_RISE = 0.2, 0.1
"""Below the threshold but from THIN_CLOUD up, a pixel whose blue rose by THIN_RISE over its
clean reference is flagged as (thin) cloud."""


def blue_rose(
    spectrum: np.ndarray, reference: np.ndarray, band_names: tuple[str, ...], by: float | None = None
) -> bool:
    """True when B02 is at least ``by`` (BLUE_RISE) above the reference (True without a B02)."""
    if "B02" not in band_names:
        return True
    i = band_names.index("B02")
    return bool(spectrum[i] - reference[i] >= (BLUE_RISE if by is None else by))


def looks_shadowed(spectrum: np.ndarray, reference: np.ndarray, band_names: tuple[str, ...]) -> bool:
    """True when ``spectrum`` is darker than ``reference`` by SHADOW_RATIOS in every band."""
    for band, ratio in SHADOW_RATIOS.items():
        if band not in band_names:
            return False
        i = band_names.index(band)
        if not spectrum[i] < ratio * reference[i]:
            return False
    return True


def judge(
    selection: Iterable[Pixel],
    valid: np.ndarray,
    layer: CloudLayer,
    threshold: float,
    scene=None,
    references: dict[Pixel, np.ndarray] | None = None,
) -> Verdict:
    """Flag each selected pixel that has no data, or is cloud, cirrus or cloud shadow here:
    s2cloudless probability at or above ``threshold`` (Level-1C), SCL classes 3, 8, 9, 10
    (Level-2A; snow, 11, is not flagged). On Level-1C, a pixel with a clean ``references``
    spectrum that ``looks_shadowed`` in ``scene`` is flagged as shadow."""
    flagged = {}
    for pixel in selection:
        reason = layer.reason(pixel, valid, threshold)
        reference = references.get(pixel) if references and layer.kind == "s2cloudless" else None
        if reference is not None:
            spectrum, names = scene.bands[pixel], scene.band_names
            probability = float(layer.probability[pixel])
            if reason == "cloud" and probability < CONFIDENT and not blue_rose(spectrum, reference, names):
                reason = None  # bright but its clear self: blue has not risen
            elif (
                reason is None
                and probability >= THIN_CLOUD
                and blue_rose(spectrum, reference, names, THIN_RISE)
            ):
                reason = "cloud"  # thin cloud the detector is unsure of, but blue has risen a lot
            elif reason is None and looks_shadowed(spectrum, reference, names):
                reason = "shadow"
        if reason is not None:
            flagged[pixel] = reason
    return Verdict(flagged=flagged, available=layer.available, message=layer.error)


def header_note(n_selected: int, verdict: Verdict, include_flagged: bool) -> str:
    """``20 pixels selected · 4 look cloudy here, not saved`` and the like."""
    cloudy = len(verdict.cloudy)
    nodata = len(verdict.flagged) - cloudy
    parts = [f"{n_selected} pixel{'s' * (n_selected != 1)} selected"]
    if cloudy:
        verb = "look" if cloudy > 1 else "looks"
        fate = "saved anyway" if include_flagged else "not saved"
        parts.append(f"{cloudy} {verb} cloudy here, {fate}")
    if nodata:
        parts.append(f"{nodata} without data here, not saved")
    return " · ".join(parts)
