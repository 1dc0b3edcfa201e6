"""What the store returns (campaigns, reviews, import reports) and how samples are filtered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from labeller.aoi import AreaOfInterest
from labeller.campaign import CampaignSpec
from labeller.clouds import DEFAULT_THRESHOLD
from labeller.store.schema import campaigns_table, reviews_table, samples_table


@dataclass(frozen=True)
class CampaignRecord:
    """A stored campaign."""

    id: int
    spec: CampaignSpec
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: sa.Row) -> CampaignRecord:
        """The record of a ``campaigns`` row."""
        aoi = AreaOfInterest(row.min_lon, row.min_lat, row.max_lon, row.max_lat)
        spec = CampaignSpec(
            aoi=aoi,
            label_value=row.label_value,
            label_name=row.label_name,
            notes=row.notes,
            source=row.source,
            collection=row.collection,
            start=row.start_date,
            end=row.end_date,
            max_cloud=row.max_cloud,
            cloud_threshold=DEFAULT_THRESHOLD if row.cloud_threshold is None else row.cloud_threshold,
            max_area_cloud=row.max_area_cloud,
        )
        return cls(id=row.id, spec=spec, created_at=row.created_at, updated_at=row.updated_at)


@dataclass(frozen=True)
class Review:
    """What was decided for one acquisition of a campaign."""

    acquisition_id: str
    acquired_at: datetime
    status: str
    """``saved`` or ``skipped``."""
    n_pixels: int
    reviewed_at: datetime
    labeller: str | None = None
    """Who saved or skipped it, when a name was given."""
    skip_reason: str | None = None
    """Why it was skipped (one of ``SKIP_REASONS``), for skipped images."""


class _AnyReview:
    """The type of ``ANY_REVIEW``."""

    def __repr__(self) -> str:
        return "ANY_REVIEW"


ANY_REVIEW = _AnyReview()
"""``expected`` for a write that replaces whatever review is stored (no conflict check)."""


@dataclass(frozen=True)
class ImportReport:
    """What ``Store.import_samples`` did."""

    added: int
    """Samples that were new here and were added."""
    duplicates: int
    """Samples already here (or repeated in the input), left as they were."""
    campaigns_created: int
    """Campaigns that did not exist here and were created."""
    reviews_created: int = 0
    """Acquisitions that had no review here and got one."""

    def describe(self) -> str:
        """One sentence for people."""
        parts = [f"Added {self.added:,} new sample{'s' * (self.added != 1)}"]
        parts.append(f"{self.duplicates:,} already here (left unchanged)")
        if self.campaigns_created:
            parts.append(f"created {self.campaigns_created} campaign{'s' * (self.campaigns_created != 1)}")
        return "; ".join(parts) + "."


@dataclass(frozen=True)
class SampleFilter:
    """Which samples to read; a None field keeps all. Hashable, so usable as a cache key."""

    campaign_ids: tuple[int, ...] | None = None
    label_values: tuple[float, ...] | None = None
    start: date | None = None
    """First acquisition day (UTC), inclusive."""
    end: date | None = None
    """Last acquisition day (UTC), inclusive."""
    labellers: tuple[str | None, ...] | None = None
    """Labeller names; None in the tuple means samples saved without a name."""

    @classmethod
    def of(
        cls,
        campaign_ids: Iterable[int] | None = None,
        label_values: Iterable[float] | None = None,
        start: date | None = None,
        end: date | None = None,
        labellers: Iterable[str | None] | None = None,
    ) -> SampleFilter:
        """A filter from loose inputs (lists, numpy numbers)."""
        return cls(
            campaign_ids=None if campaign_ids is None else tuple(int(i) for i in campaign_ids),
            label_values=None if label_values is None else tuple(float(v) for v in label_values),
            start=start,
            end=end,
            labellers=None if labellers is None else tuple(None if n is None else str(n) for n in labellers),
        )

    def conditions(self, dialect_name: str = "") -> list[sa.ColumnElement[bool]]:
        """WHERE conditions; times compare as the dialect stores them, so the conditions
        also compile with literal values (for the Arrow reader)."""
        s = samples_table.c
        out: list[sa.ColumnElement[bool]] = []
        if self.campaign_ids is not None:
            out.append(s.campaign_id.in_(self.campaign_ids))
        if self.label_values is not None:
            out.append(s.label_value.in_(self.label_values))
        out += self._period(dialect_name, s.acquired_at)
        if self.labellers is not None:
            names = [n for n in self.labellers if n is not None]
            either = [s.labeller.in_(names)]
            if None in self.labellers:
                either.append(s.labeller.is_(None))
            out.append(sa.or_(*either))
        return out

    def review_conditions(self, dialect_name: str = "") -> list[sa.ColumnElement[bool]]:
        """The same filter on reviews joined to campaigns (not by labeller: reviews hold
        the name of whoever saved last, while samples keep each sample's own)."""
        r, c = reviews_table.c, campaigns_table.c
        out: list[sa.ColumnElement[bool]] = []
        if self.campaign_ids is not None:
            out.append(r.campaign_id.in_(self.campaign_ids))
        if self.label_values is not None:
            out.append(c.label_value.in_(self.label_values))
        return out + self._period(dialect_name, r.acquired_at)

    def _period(self, dialect_name: str, column: sa.Column) -> list[sa.ColumnElement[bool]]:
        """``start`` and ``end`` as conditions on an acquisition time column."""
        out = []
        if self.start is not None:
            out.append(_time_bound(dialect_name, column, ">=", _day_start(self.start)))
        if self.end is not None:
            out.append(_time_bound(dialect_name, column, "<", _day_start(self.end + timedelta(days=1))))
        return out


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _time_bound(dialect_name: str, column: sa.Column, op: str, when: datetime) -> sa.ColumnElement[bool]:
    """``column <op> when`` in the form the dialect stores times."""
    if dialect_name == "sqlite":  # naive UTC text, compared as text like SQLAlchemy does
        return sa.type_coerce(column, sa.Text).op(op)(when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
    if dialect_name == "postgresql":
        bound = sa.cast(sa.literal(when.isoformat(), sa.Text), sa.DateTime(timezone=True))
        return column.op(op)(bound)
    return column.op(op)(when)
