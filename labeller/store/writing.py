"""The write transactions: opening campaigns, saving and skipping acquisitions, importing.

Each function here runs inside one write transaction that ``Database.write`` opens. Writes
to one campaign take turns on its row lock (``lock_campaign``), and each bumps the
campaign's ``revision`` (``touch``), which ``Store.data_version()`` reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from labeller.aoi import AreaOfInterest
from labeller.campaign import CampaignSpec
from labeller.errors import InvalidInputError, ReviewConflictError, StoreError
from labeller.identity import identity_key
from labeller.scenes import Acquisition
from labeller.store.bulk_insert import insert_samples
from labeller.store.records import ANY_REVIEW, ImportReport, Review
from labeller.store.schema import SAVED, SKIPPED, campaigns_table, drafts_table, reviews_table, samples_table
from labeller.tables import ImportRows

_LABEL_FIELDS = ("label_value", "label_name", "source", "collection")
"""Campaign fields copied into each of its samples."""


def now() -> datetime:
    return datetime.now(UTC)


def require_utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInputError(f"The {what} {value} has no time zone; the source must give UTC times.")
    return value.astimezone(UTC)


def missing_campaign(campaign_id: int) -> StoreError:
    return StoreError(
        f"Campaign {campaign_id} no longer exists (it may have been deleted in another tab). "
        "Reload the page and open the campaign again."
    )


# --- Campaigns ----------------------------------------------------------------------------


def open_campaign(conn: Connection, spec: CampaignSpec, when: datetime) -> sa.Row:
    """The campaign row with this spec's identity, inserted if new; an existing one takes
    the spec's period, notes and cloud limit."""
    key = identity_key(spec)
    by_key = sa.select(campaigns_table).where(campaigns_table.c.identity_key == key)
    found = conn.execute(by_key).one_or_none()
    if found is None:
        conn.execute(sa.insert(campaigns_table).values(**_new_campaign(spec, key, when)))
    else:
        conn.execute(
            sa.update(campaigns_table)
            .where(campaigns_table.c.id == found.id)
            .values(**_resumed_campaign(spec, when))
        )
    return conn.execute(by_key).one()


def _resumed_campaign(spec: CampaignSpec, when: datetime) -> dict[str, Any]:
    """The campaign fields a spec may change when the campaign is opened again."""
    return {
        "start_date": spec.start,
        "end_date": spec.end,
        "notes": spec.notes,
        "max_cloud": spec.max_cloud,
        "cloud_threshold": spec.cloud_threshold,
        "max_area_cloud": spec.max_area_cloud,
        "updated_at": when,
    }


def _new_campaign(spec: CampaignSpec, key: str, when: datetime) -> dict[str, Any]:
    aoi = spec.aoi
    return {
        "identity_key": key,
        "min_lon": float(aoi.min_lon),
        "min_lat": float(aoi.min_lat),
        "max_lon": float(aoi.max_lon),
        "max_lat": float(aoi.max_lat),
        "epsg": aoi.epsg,
        "rows": aoi.rows,
        "cols": aoi.cols,
        "label_value": spec.label_value,
        "label_name": spec.label_name,
        "source": spec.source,
        "collection": spec.collection,
        "created_at": when,
        **_resumed_campaign(spec, when),
    }


def lock_campaign(conn: Connection, campaign_id: int, required: bool = True) -> sa.RowMapping | None:
    """The campaign's row, locked until commit so that writes to one campaign take turns.

    PostgreSQL needs this: under READ COMMITTED two saves of one acquisition could
    otherwise interleave their deletes and inserts and leave a mix of both. SQLite's
    ``BEGIN IMMEDIATE`` already serialises all writes (and ignores FOR UPDATE).
    """
    query = sa.select(campaigns_table).where(campaigns_table.c.id == campaign_id).with_for_update()
    row = conn.execute(query).mappings().one_or_none()
    if row is None and required:
        raise missing_campaign(campaign_id)
    return row


def touch(conn: Connection, campaign_id: int, when: datetime) -> None:
    """Record a change to the campaign's reviews or samples (see ``Store.data_version``)."""
    c = campaigns_table.c
    conn.execute(
        sa.update(campaigns_table).where(c.id == campaign_id).values(updated_at=when, revision=c.revision + 1)
    )


def set_draft(conn: Connection, campaign_id: int, session: str, text: str, when: datetime) -> None:
    """Keep ``text`` as the unsaved selection of this labelling session of the campaign;
    other sessions' drafts are left alone."""
    exists = conn.execute(sa.select(campaigns_table.c.id).where(campaigns_table.c.id == campaign_id))
    if exists.one_or_none() is None:
        raise missing_campaign(campaign_id)
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(conn.dialect.name)
    row = {"campaign_id": campaign_id, "session": session, "pixels": text, "updated_at": when}
    if insert is None:  # another backend: no concurrent tabs of one session expected there
        d = drafts_table.c
        conn.execute(sa.delete(drafts_table).where(d.campaign_id == campaign_id, d.session == session))
        conn.execute(sa.insert(drafts_table).values(**row))
        return
    upsert = insert(drafts_table).values(**row)
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=["campaign_id", "session"],
            set_={"pixels": upsert.excluded.pixels, "updated_at": upsert.excluded.updated_at},
        )
    )


def delete_campaign(conn: Connection, campaign_id: int) -> None:
    conn.execute(sa.delete(campaigns_table).where(campaigns_table.c.id == campaign_id))


# --- Reviews and samples ------------------------------------------------------------------


def save(
    conn: Connection,
    campaign_id: int,
    aoi: AreaOfInterest,
    acquisition: Acquisition,
    review: Review,
    values: pd.DataFrame,
    expected=ANY_REVIEW,
) -> Review:
    """Replace the acquisition's review and samples with ``review`` and ``values``, if the
    stored review is still ``expected`` (see ``check_expected``)."""
    campaign = lock_campaign(conn, campaign_id)
    if tuple(campaign[k] for k in ("min_lon", "min_lat", "max_lon", "max_lat")) != aoi.bbox:
        raise StoreError(
            f"This scene's area does not match campaign {campaign_id}; reload the campaign "
            "and select the pixels again."
        )
    check_expected(conn, campaign_id, acquisition.id, expected)
    _replace_review(conn, campaign_id, acquisition, review)
    if len(values):
        label = {k: campaign[k] for k in _LABEL_FIELDS}
        insert_samples(conn, values.assign(campaign_id=campaign_id, **label))
    touch(conn, campaign_id, review.reviewed_at)
    return review


def skip(
    conn: Connection, campaign_id: int, acquisition: Acquisition, review: Review, expected=ANY_REVIEW
) -> Review:
    """Record the acquisition as skipped, deleting any samples saved from it, if the stored
    review is still ``expected``."""
    lock_campaign(conn, campaign_id)
    check_expected(conn, campaign_id, acquisition.id, expected)
    _replace_review(conn, campaign_id, acquisition, review)
    touch(conn, campaign_id, review.reviewed_at)
    return review


def delete_review(conn: Connection, campaign_id: int, acquisition_id: str, expected=ANY_REVIEW) -> None:
    if lock_campaign(conn, campaign_id, required=False) is not None:
        check_expected(conn, campaign_id, acquisition_id, expected, AFTER_REFUSED_DELETE)
        _delete_acquisition(conn, campaign_id, acquisition_id)
        touch(conn, campaign_id, now())


def stored_review(conn: Connection, campaign_id: int, acquisition_id: str) -> Review | None:
    r = reviews_table.c
    query = sa.select(
        r.acquisition_id, r.acquired_at, r.status, r.n_pixels, r.reviewed_at, r.labeller, r.skip_reason
    ).where(r.campaign_id == campaign_id, r.acquisition_id == acquisition_id)
    row = conn.execute(query).one_or_none()
    return None if row is None else Review(**row._asdict())


AFTER_REFUSED_PRESS = (
    "Your selection is kept: press again to replace that review with yours, "
    "or go Back and forth to see theirs."
)
AFTER_REFUSED_DELETE = "Nothing was deleted: look at it again, and delete it if you still mean to."


def check_expected(
    conn: Connection, campaign_id: int, acquisition_id: str, expected, then: str = AFTER_REFUSED_PRESS
) -> None:
    """Refuse the write unless the acquisition's stored review is ``expected`` (None: no
    review), the one the writer last saw; ``ANY_REVIEW`` checks nothing. ``then`` ends the
    message: what the user can do now.

    Called with the campaign locked, so no other write can land between this check and
    the write: two sessions never replace each other's reviews silently.
    """
    if expected is ANY_REVIEW:
        return
    current = stored_review(conn, campaign_id, acquisition_id)
    if current == expected:
        return
    raise ReviewConflictError(f"{conflict_message(current)} {then}", current=current)


def conflict_message(current: Review | None) -> str:
    """Who changed the image's review, and when (UTC)."""
    if current is None:
        what = "This image's review was deleted in another session."
    else:
        who = f" by {current.labeller}" if current.labeller else ""
        pixels = f"{current.n_pixels} pixel{'' if current.n_pixels == 1 else 's'}"
        done = "skipped" if current.status == SKIPPED else f"saved with {pixels}"
        what = f"This image was {done}{who} in another session at {current.reviewed_at:%H:%M:%S} UTC."
    return what


def _delete_acquisition(conn: Connection, campaign_id: int, acquisition_id: str) -> None:
    for table in (samples_table, reviews_table):
        conn.execute(
            sa.delete(table).where(
                table.c.campaign_id == campaign_id, table.c.acquisition_id == acquisition_id
            )
        )


def _replace_review(conn: Connection, campaign_id: int, acquisition: Acquisition, review: Review) -> None:
    """Delete the acquisition's samples and review, then insert ``review``."""
    _delete_acquisition(conn, campaign_id, acquisition.id)
    conn.execute(
        sa.insert(reviews_table).values(
            campaign_id=campaign_id,
            acquisition_id=acquisition.id,
            acquired_at=review.acquired_at,
            cloud_cover=acquisition.cloud_cover,
            tile_id=acquisition.tile_id,
            processing_baseline=acquisition.processing_baseline,
            status=review.status,
            n_pixels=review.n_pixels,
            reviewed_at=review.reviewed_at,
            labeller=review.labeller,
            skip_reason=review.skip_reason,
        )
    )


# --- Import -------------------------------------------------------------------------------


def import_groups(conn: Connection, data: ImportRows, when: datetime) -> ImportReport:
    """Merge each campaign's checked sample rows (``importing.read_import``), skipping
    duplicates."""
    added = created = new_reviews = 0
    for spec, rows in data.groups:
        campaign, is_new = _campaign_for_import(conn, spec, when)
        created += is_new
        before = _count_campaign_samples(conn, campaign["id"])
        label = {k: campaign[k] for k in _LABEL_FIELDS}
        insert_samples(conn, rows.assign(campaign_id=campaign["id"], **label), ignore_duplicates=True)
        added += _count_campaign_samples(conn, campaign["id"]) - before
        new_reviews += _reviews_for_import(conn, campaign["id"], rows)
        touch(conn, campaign["id"], when)
    return ImportReport(
        added=added, duplicates=data.n_input - added, campaigns_created=created, reviews_created=new_reviews
    )


def _campaign_for_import(conn: Connection, spec: CampaignSpec, when: datetime) -> tuple[sa.RowMapping, bool]:
    """The campaign with the spec's identity, locked; created (second value True) if missing."""
    key = identity_key(spec)
    query = sa.select(campaigns_table).where(campaigns_table.c.identity_key == key).with_for_update()
    found = conn.execute(query).mappings().one_or_none()
    if found is not None:
        return found, False
    conn.execute(sa.insert(campaigns_table).values(**_new_campaign(spec, key, when)))
    return conn.execute(query).mappings().one(), True


def _count_campaign_samples(conn: Connection, campaign_id: int) -> int:
    query = sa.select(sa.func.count()).select_from(samples_table)
    return int(conn.execute(query.where(samples_table.c.campaign_id == campaign_id)).scalar_one())


def _reviews_for_import(conn: Connection, campaign_id: int, rows: pd.DataFrame) -> int:
    """Give each imported acquisition a saved review whose n_pixels is its sample count
    (a new review is dated by its newest sample); returns how many reviews were created."""
    r, s = reviews_table.c, samples_table.c
    counts: dict[str, int] = {}
    reviewed: dict[str, str] = {}
    ids = rows["acquisition_id"].unique().tolist()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        counted = conn.execute(
            sa.select(s.acquisition_id, sa.func.count())
            .where(s.campaign_id == campaign_id, s.acquisition_id.in_(part))
            .group_by(s.acquisition_id)
        )
        counts.update((acquisition_id, n) for acquisition_id, n in counted)
        statuses = conn.execute(
            sa.select(r.acquisition_id, r.status).where(
                r.campaign_id == campaign_id, r.acquisition_id.in_(part)
            )
        )
        reviewed.update((acquisition_id, status) for acquisition_id, status in statuses)
    new = []
    for acquisition_id, group in rows.groupby("acquisition_id", sort=False):
        n = counts.get(acquisition_id, 0)
        if acquisition_id in reviewed:
            conn.execute(
                sa.update(reviews_table)
                .where(r.campaign_id == campaign_id, r.acquisition_id == acquisition_id)
                .values(n_pixels=n, status=SAVED if n else reviewed[acquisition_id])
            )
            continue
        first = group.iloc[0]
        names = group["labeller"].unique()
        new.append(
            {
                "campaign_id": campaign_id,
                "acquisition_id": acquisition_id,
                "acquired_at": first["acquired_at"].to_pydatetime(),
                "cloud_cover": None if pd.isna(first["cloud_cover"]) else float(first["cloud_cover"]),
                "tile_id": None if pd.isna(first["tile_id"]) else str(first["tile_id"]),
                "processing_baseline": (
                    None if pd.isna(first["processing_baseline"]) else str(first["processing_baseline"])
                ),
                "status": SAVED,
                "n_pixels": n,
                "reviewed_at": group["created_at"].max().to_pydatetime(),
                "labeller": str(names[0]) if len(names) == 1 and not pd.isna(names[0]) else None,
            }
        )
    if new:
        conn.execute(sa.insert(reviews_table), new)
    return len(new)
