"""A labelling campaign: one AOI, one label value, one source and collection, one period."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from labeller.aoi import AreaOfInterest
from labeller.clouds import DEFAULT_THRESHOLD
from labeller.errors import InvalidInputError

MAX_LABEL_NAME = 80
MAX_CAMPAIGN_ID = 2**31 - 1
"""Largest campaign id a database can hold (a 32-bit INTEGER on PostgreSQL)."""


@dataclass(frozen=True)
class CampaignSpec:
    """What the user fixes before labelling. Validated on construction."""

    aoi: AreaOfInterest
    label_value: float
    """The value every saved pixel gets: a class id or a regression target."""
    label_name: str
    """Optional human name of the label, e.g. ``snow`` ("" when none)."""
    notes: str
    """Free text kept with the campaign."""
    source: str
    """Image source key, e.g. ``demo``."""
    collection: str
    """Collection id, e.g. ``sentinel-2-l1c``."""
    start: date
    end: date
    max_cloud: float | None = None
    """Largest acceptable cloud cover in percent, or None for any."""
    cloud_threshold: float = DEFAULT_THRESHOLD
    """Cloud probability (0–1) from which a selected pixel is flagged and not saved by default."""
    max_area_cloud: float | None = None
    """Images whose own area is more cloudy than this (percent of valid pixels) are marked in
    the Jump-to list and can be hidden; None: no limit."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "label_value", parse_label_value(self.label_value))
        object.__setattr__(self, "label_name", (self.label_name or "").strip())
        if len(self.label_name) > MAX_LABEL_NAME:
            raise InvalidInputError(f"The label name is longer than {MAX_LABEL_NAME} characters; shorten it.")
        validate_period(self.start, self.end)
        if self.max_cloud is not None and not 0 <= self.max_cloud <= 100:
            raise InvalidInputError("Maximum cloud cover is a percentage: give a number from 0 to 100.")
        threshold = self.cloud_threshold
        if threshold is None or not 0 < float(threshold) <= 1:
            raise InvalidInputError(
                "The cloud probability threshold is a number above 0 and at most 1, e.g. 0.4."
            )
        object.__setattr__(self, "cloud_threshold", float(threshold))
        if self.max_area_cloud is not None and not 0 <= self.max_area_cloud <= 100:
            raise InvalidInputError("The area cloud limit is a percentage: give a number from 0 to 100.")

    def identity(self) -> tuple:
        """What makes two specs the same campaign (the period may differ: it resumes)."""
        return (*self.aoi.bbox, self.label_value, self.label_name, self.source, self.collection)


def parse_label_value(value) -> float:
    """A finite number from a number or text; InvalidInputError otherwise."""
    if isinstance(value, bool):
        raise InvalidInputError("The label value must be a number, not true/false.")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InvalidInputError("Enter a label value: any finite number, e.g. 1 or 0.35.")
        try:
            value = float(text)
        except ValueError:
            raise InvalidInputError(
                f"The label value {text!r} is not a number. Enter e.g. 1, 2.5 or -0.3."
            ) from None
        if value == 0 and _nonzero(text):
            raise InvalidInputError(
                f"The label value {text} is too close to 0 to be stored (it would be saved as 0). "
                "Enter 0 if you mean 0; numbers nearer to 0 than about 1e-308 cannot be stored."
            )
    if not isinstance(value, int | float):
        raise InvalidInputError(f"The label value must be a number, got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInputError("The label value must be finite: NaN and infinities cannot be learnt from.")
    return value


def _nonzero(text: str) -> bool:
    """True when a number's text has a non-zero digit before any exponent (``1e-400``)."""
    mantissa = text.lower().split("e", 1)[0]
    return any(ch in "123456789" for ch in mantissa)


def validate_period(start: date | None, end: date | None, today: date | None = None) -> None:
    """Refuse a missing start, a future end or a start after the end."""
    today = today or date.today()
    if start is None:
        raise InvalidInputError("Choose a start date.")
    if end is None:
        raise InvalidInputError("Choose an end date (today by default).")
    if end > today:
        raise InvalidInputError(f"The end date {end} is in the future; choose {today} or earlier.")
    if start > today:
        raise InvalidInputError(f"The start date {start} is in the future; choose {today} or earlier.")
    if start > end:
        raise InvalidInputError(f"The start date {start} is after the end date {end}; swap or change them.")


def parse_campaign_id(text: str | None) -> int:
    """A campaign id from text such as the page address holds: plain ASCII digits, 1 to
    ``MAX_CAMPAIGN_ID``; InvalidInputError otherwise (e.g. ``²``, which ``str.isdigit``
    accepts, or a number too large for any database)."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_CAMPAIGN_ID:
        shown = text if len(text) <= 24 else text[:24] + "…"
        raise InvalidInputError(
            f"The page address names campaign {shown!r}, which is not a campaign number. "
            "Set up a campaign below (the same area and label resume it), or check the link."
        )
    return int(text)
