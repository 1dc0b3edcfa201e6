"""The read queries other than the sample stream: campaigns, reviews, drafts, and the
counts, means and points the Dataset page shows. Each takes an open connection."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labeller.store.frames import result_frame, typed
from labeller.store.records import CampaignRecord, Review, SampleFilter
from labeller.store.schema import (
    BAND_COLUMNS,
    SAVED,
    SKIPPED,
    campaigns_table,
    drafts_table,
    reviews_table,
    samples_table,
)
from labeller.tables import utc_times


def campaign(conn: Connection, campaign_id: int) -> CampaignRecord | None:
    row = conn.execute(sa.select(campaigns_table).where(campaigns_table.c.id == campaign_id)).one_or_none()
    return None if row is None else CampaignRecord.from_row(row)


def campaigns(conn: Connection) -> pd.DataFrame:
    """One row per campaign (oldest first) with n_saved, n_skipped and n_samples."""
    c, r, s = campaigns_table.c, reviews_table.c, samples_table.c
    review_counts = (
        sa.select(
            r.campaign_id,
            sa.func.sum(sa.case((r.status == SAVED, 1), else_=0)).label("n_saved"),
            sa.func.sum(sa.case((r.status == SKIPPED, 1), else_=0)).label("n_skipped"),
        )
        .group_by(r.campaign_id)
        .subquery()
    )
    sample_counts = (
        sa.select(s.campaign_id, sa.func.count().label("n_samples")).group_by(s.campaign_id).subquery()
    )
    hidden = ("identity_key", "draft_selection", "revision")
    shown = [col for col in campaigns_table.c if col.name not in hidden]
    counted = [(review_counts, "n_saved"), (review_counts, "n_skipped"), (sample_counts, "n_samples")]
    query = (
        sa.select(*shown, *(sa.func.coalesce(sub.c[name], 0).label(name) for sub, name in counted))
        .outerjoin(review_counts, review_counts.c.campaign_id == c.id)
        .outerjoin(sample_counts, sample_counts.c.campaign_id == c.id)
        .order_by(c.id)
    )
    frame = result_frame(conn.execute(query))
    return typed(frame, campaigns_table, {name: "int64" for _, name in counted})


def draft(conn: Connection, campaign_id: int, session: str) -> set[tuple[int, int]]:
    d = drafts_table.c
    text = conn.execute(
        sa.select(d.pixels).where(d.campaign_id == campaign_id, d.session == session)
    ).scalar()
    return {(r, c) for r, c in json.loads(text)} if text else set()


def reviews(conn: Connection, campaign_id: int) -> dict[str, Review]:
    """Reviews of a campaign by acquisition id, oldest acquisition first."""
    r = reviews_table.c
    query = (
        sa.select(
            r.acquisition_id, r.acquired_at, r.status, r.n_pixels, r.reviewed_at, r.labeller, r.skip_reason
        )
        .where(r.campaign_id == campaign_id)
        .order_by(r.acquired_at, r.acquisition_id)
    )
    return {row.acquisition_id: Review(**row._asdict()) for row in conn.execute(query)}


def saved_pixels(conn: Connection, campaign_id: int, acquisition_id: str) -> set[tuple[int, int]]:
    s = samples_table.c
    query = sa.select(s.row, s.col).where(s.campaign_id == campaign_id, s.acquisition_id == acquisition_id)
    return {(row, col) for row, col in conn.execute(query)}


def count_samples(conn: Connection, where: SampleFilter) -> int:
    query = sa.select(sa.func.count()).select_from(samples_table)
    return int(conn.execute(query.where(*where.conditions(conn.dialect.name))).scalar_one())


def labellers(conn: Connection) -> list[str | None]:
    """Distinct labeller names of the samples, sorted; None last if some have no name."""
    names = list(conn.execute(sa.select(samples_table.c.labeller).distinct()).scalars())
    return sorted(n for n in names if n is not None) + ([None] if None in names else [])


def band_means(conn: Connection, where: SampleFilter, every: int) -> pd.DataFrame:
    """Mean reflectance per label (see ``Store.band_means``)."""
    s = samples_table.c
    means = [sa.func.avg(s[name]).label(name) for name in BAND_COLUMNS]
    query = (
        sa.select(s.label_value, s.label_name, sa.func.count().label("n_samples"), *means)
        .where(*where.conditions(conn.dialect.name))
        .group_by(s.label_value, s.label_name)
        .order_by(s.label_value, s.label_name)
    )
    if every > 1:
        query = query.where(s.id % int(every) == 0)
    frame = result_frame(conn.execute(query))
    dtypes = {"label_value": "float64", "label_name": "str", "n_samples": "int64"}
    return frame.astype({**dtypes, **{name: "float64" for name in BAND_COLUMNS}})


def band_spread(conn: Connection, where: SampleFilter) -> pd.DataFrame:
    """Per band: n, mean and standard deviation of the samples (see ``Store.band_spread``)."""
    s = samples_table.c
    columns = [sa.func.count().label("n")]
    for name in BAND_COLUMNS:
        value = sa.cast(s[name], sa.Float)
        columns += [sa.func.avg(value).label(f"{name}_mean"), sa.func.avg(value * value).label(f"{name}_sq")]
    row = conn.execute(sa.select(*columns).where(*where.conditions(conn.dialect.name))).one()
    rows = []
    for name in BAND_COLUMNS:
        mean, square = row._mapping[f"{name}_mean"], row._mapping[f"{name}_sq"]
        sd = None if mean is None else max(float(square) - float(mean) ** 2, 0.0) ** 0.5
        rows.append({"band": name, "n": int(row.n), "mean": mean, "sd": sd})
    return pd.DataFrame(rows).astype({"mean": "float64", "sd": "float64"})


def sample_points(conn: Connection, where: SampleFilter, limit: int) -> pd.DataFrame:
    """Up to ``limit`` distinct (lon, lat, label) of the most recent samples."""
    s = samples_table.c
    query = (
        sa.select(s.lon, s.lat, s.label_value, s.label_name)
        .where(*where.conditions(conn.dialect.name))
        .order_by(s.id.desc())
        .limit(int(limit) * 4)
    )
    frame = result_frame(conn.execute(query))
    frame = frame.astype({"lon": "float64", "lat": "float64", "label_value": "float64", "label_name": "str"})
    return frame.drop_duplicates(ignore_index=True).head(int(limit))


def counts(conn: Connection, where: SampleFilter) -> pd.DataFrame:
    """Samples per campaign, label and acquisition date (see ``Store.counts``)."""
    if where.labellers is None:  # each saved review's n_pixels is its sample count
        r, c = reviews_table.c, campaigns_table.c
        query = (
            sa.select(
                r.campaign_id,
                r.acquisition_id,
                c.label_value,
                c.label_name,
                r.acquired_at,
                r.n_pixels.label("n_samples"),
            )
            .join(campaigns_table, c.id == r.campaign_id)
            .where(r.status == SAVED, r.n_pixels > 0, *where.review_conditions(conn.dialect.name))
        )
    else:
        s = samples_table.c
        keys = (s.campaign_id, s.acquisition_id)
        query = (
            sa.select(
                *keys,
                sa.func.min(s.label_value).label("label_value"),
                sa.func.min(s.label_name).label("label_name"),
                sa.func.min(s.acquired_at).label("acquired_at"),
                sa.func.count().label("n_samples"),
            )
            .where(*where.conditions(conn.dialect.name))
            .group_by(*keys)
        )
    frame = typed(result_frame(conn.execute(query)), samples_table, {"n_samples": "int64"})
    frame["acquired_at"] = utc_times(frame["acquired_at"])
    frame["date"] = frame["acquired_at"].dt.date
    groups = ["campaign_id", "label_value", "label_name", "date"]
    out = frame.groupby(groups, sort=True, as_index=False).agg(
        n_acquisitions=("acquisition_id", "nunique"), n_samples=("n_samples", "sum")
    )
    return out.astype({"n_acquisitions": "int64", "n_samples": "int64"})


def data_version(conn: Connection) -> str:
    """``count:max id:sum of revisions`` of the campaigns (see ``Store.data_version``)."""
    c = campaigns_table.c
    query = sa.select(sa.func.count(), sa.func.max(c.id), sa.func.coalesce(sa.func.sum(c.revision), 0))
    count, top, revisions = conn.execute(query).one()
    return f"{count}:{top or 0}:{revisions}"


def review_table(conn: Connection, where: SampleFilter) -> pd.DataFrame:
    """Every review (saved or skipped, with its skip reason), oldest acquisition first."""
    r, c = reviews_table.c, campaigns_table.c
    query = (
        sa.select(
            r.campaign_id,
            c.label_value,
            c.label_name,
            r.acquisition_id,
            r.acquired_at,
            r.status,
            r.skip_reason,
            r.n_pixels,
            r.cloud_cover,
            r.tile_id,
            r.reviewed_at,
            r.labeller,
        )
        .join(campaigns_table, c.id == r.campaign_id)
        .where(*where.review_conditions(conn.dialect.name))
        .order_by(r.campaign_id, r.acquired_at, r.acquisition_id)
    )
    return typed(
        result_frame(conn.execute(query)), reviews_table, {"label_value": "float64", "label_name": "str"}
    )
