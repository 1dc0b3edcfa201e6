"""``Store``: the one object pages and the labelling loop use. It checks inputs and hands the
work to ``writing`` (write transactions), ``queries`` and ``batches`` (reads)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa

from labeller.aoi import AreaOfInterest
from labeller.campaign import CampaignSpec
from labeller.cloud_guard import SKIP_REASONS
from labeller.errors import InvalidInputError
from labeller.identity import clean_labeller
from labeller.scenes import Acquisition, Scene
from labeller.store import batches, queries, writing
from labeller.store.drafts import DraftWriter
from labeller.store.engine import Database, sqlite_url
from labeller.store.frames import arrow_to_frame
from labeller.store.migrations import init_schema
from labeller.store.pixels import check_scene, pixel_tuples, pixel_values, valid_pixels
from labeller.store.records import ANY_REVIEW, CampaignRecord, ImportReport, Review, SampleFilter
from labeller.store.schema import SAMPLE_ORDER, SAMPLE_SCHEMA, SAVED, SKIPPED
from labeller.tables import ImportRows


class Store:
    """Campaigns, reviews and samples in one SQL database. Thread-safe; share one per URL."""

    def __init__(self, url: str) -> None:
        self._db = Database(url)
        self._db.write(lambda conn: init_schema(conn, self._db.display_url()))
        self._drafts = DraftWriter()

    @staticmethod
    def sqlite_url(folder: Path) -> str:
        """``sqlite:///<folder>/labels.sqlite`` with an absolute path, creating the folder."""
        return sqlite_url(folder)

    def display_url(self) -> str:
        """The database URL with any password masked; safe to log and show."""
        return self._db.display_url()

    def close(self) -> None:
        """Write pending drafts and close pooled connections (the store reconnects if used
        again, and then writes drafts at once)."""
        self._drafts.close()
        self._db.engine.dispose()

    # --- Campaigns ------------------------------------------------------------------------

    def open_campaign(self, spec: CampaignSpec) -> CampaignRecord:
        """The campaign with this spec's identity, created if new; on resume the period,
        notes and cloud limit are updated to the spec's."""
        now = writing.now()
        # A concurrent session may insert the same identity first: re-read and resume it.
        row = self._db.write(lambda conn: writing.open_campaign(conn, spec, now), retries=1)
        return CampaignRecord.from_row(row)

    def campaign(self, campaign_id: int) -> CampaignRecord | None:
        return self._db.fetch(queries.campaign, campaign_id)

    def campaigns(self) -> pd.DataFrame:
        """One row per campaign (oldest first) with n_saved, n_skipped and n_samples."""
        return self._db.fetch(queries.campaigns)

    def delete_campaign(self, campaign_id: int) -> None:
        """Delete a campaign; its reviews and samples go with it (ON DELETE CASCADE)."""
        self._db.write(lambda conn: writing.delete_campaign(conn, campaign_id))

    # --- Draft selection ------------------------------------------------------------------

    def set_draft(self, campaign_id: int, pixels: Iterable[tuple[int, int]], session: str = "") -> None:
        """Keep a labelling session's unsaved selection so that a reloaded tab loses
        nothing. ``session`` is the session's draft token: each session of a campaign has
        its own draft, and one never touches another's. Returns once it is written."""
        self.keep_draft(campaign_id, pixels, session)
        self._drafts.wait((campaign_id, str(session)))

    def keep_draft(self, campaign_id: int, pixels: Iterable[tuple[int, int]], session: str = "") -> None:
        """``set_draft`` without waiting: written in the background, newest per session (see
        ``drafts``); a failure is raised by the session's next ``keep_draft`` or ``draft``."""
        text = json.dumps(sorted([int(r), int(c)] for r, c in set(pixel_tuples(pixels))))
        session = str(session)
        self._drafts.keep(
            (campaign_id, session),
            lambda: self._db.write(
                lambda conn: writing.set_draft(conn, campaign_id, session, text, writing.now())
            ),
        )

    def draft(self, campaign_id: int, session: str = "") -> set[tuple[int, int]]:
        """The unsaved selection of this labelling session of the campaign (empty if none),
        including a draft still being written."""
        self._drafts.wait((campaign_id, str(session)))
        return self._db.fetch(queries.draft, campaign_id, str(session))

    # --- Reviews and samples --------------------------------------------------------------

    def reviews(self, campaign_id: int) -> dict[str, Review]:
        """Reviews of a campaign by acquisition id, oldest acquisition first."""
        return self._db.fetch(queries.reviews, campaign_id)

    def save(
        self,
        campaign_id: int,
        aoi: AreaOfInterest,
        scene: Scene,
        pixels: Iterable[tuple[int, int]],
        labeller: str | None = None,
        expected: Review | None = ANY_REVIEW,
        flagged: Iterable[tuple[int, int]] = (),
    ) -> Review:
        """Replace this acquisition's review and samples with the given pixels, in one
        transaction. Pixels not valid in the scene are dropped; the rest get one sample each.
        ``labeller`` (a person's name, optional) is stored with the review and the samples.
        ``flagged``: pixels the cloud guard flagged that are saved on purpose (each sample
        also keeps its cloud probability or SCL class from the scene).

        ``expected`` is the review the caller last saw (None: none): when another one is
        stored by then, nothing is written and ``ReviewConflictError`` says whose it is
        (compared under the campaign's lock, in the same transaction as the write). The
        default, ``ANY_REVIEW``, replaces whatever is there."""
        labeller = clean_labeller(labeller)
        check_scene(aoi, scene)
        rows, cols = valid_pixels(aoi, scene, pixels)
        acquisition = scene.acquisition
        review = Review(
            acquisition_id=acquisition.id,
            acquired_at=writing.require_utc(acquisition.time, "acquisition time"),
            status=SAVED,
            n_pixels=len(rows),
            reviewed_at=writing.now(),
            labeller=labeller,
        )
        values = pixel_values(aoi, scene, rows, cols, review, frozenset(pixel_tuples(flagged)))
        # Two sessions saving the same acquisition at once: the loser retries over the winner.
        return self._db.write(
            lambda conn: writing.save(conn, campaign_id, aoi, acquisition, review, values, expected),
            retries=1,
        )

    def skip(
        self,
        campaign_id: int,
        acquisition: Acquisition,
        labeller: str | None = None,
        expected: Review | None = ANY_REVIEW,
        reason: str | None = None,
    ) -> Review:
        """Mark an acquisition skipped (``reason``: one of ``SKIP_REASONS``, optional) and
        delete any samples saved from it (``expected`` as for ``save``)."""
        if reason is not None and reason not in SKIP_REASONS:
            raise InvalidInputError(
                f"Unknown skip reason {reason!r}; choose one of: {', '.join(SKIP_REASONS)}."
            )
        review = Review(
            acquisition_id=acquisition.id,
            acquired_at=writing.require_utc(acquisition.time, "acquisition time"),
            status=SKIPPED,
            n_pixels=0,
            reviewed_at=writing.now(),
            labeller=clean_labeller(labeller),
            skip_reason=reason,
        )
        return self._db.write(
            lambda conn: writing.skip(conn, campaign_id, acquisition, review, expected), retries=1
        )

    def delete_review(
        self, campaign_id: int, acquisition_id: str, expected: Review | None = ANY_REVIEW
    ) -> None:
        """Forget an acquisition's review and its samples (``expected`` as for ``save``)."""
        self._db.write(lambda conn: writing.delete_review(conn, campaign_id, acquisition_id, expected))

    def review_table(self, where: SampleFilter | None = None) -> pd.DataFrame:
        """Every review with its status and skip reason (for the reviews export)."""
        return self._db.fetch(queries.review_table, where or SampleFilter())

    def saved_pixels(self, campaign_id: int, acquisition_id: str) -> set[tuple[int, int]]:
        return self._db.fetch(queries.saved_pixels, campaign_id, acquisition_id)

    # --- Reading samples ------------------------------------------------------------------

    def samples(
        self,
        campaign_ids: Iterable[int] | None = None,
        label_values: Iterable[float] | None = None,
        start: date | None = None,
        end: date | None = None,
        labellers: Iterable[str | None] | None = None,
    ) -> pd.DataFrame:
        """Samples, one row each, filtered by campaign, label value, acquisition date (UTC,
        start and end inclusive) and labeller (None in ``labellers``: saved without a name);
        a None filter keeps all. Sorted by campaign, acquisition time, acquisition, row and
        column; ends with the CAMPAIGN_COLUMNS. All in memory: for large datasets use
        ``sample_batches``."""
        where = SampleFilter.of(campaign_ids, label_values, start, end, labellers)
        parts = list(self.sample_batches(where, fast=False))
        frame = arrow_to_frame(pa.Table.from_batches(parts, schema=SAMPLE_SCHEMA))
        return frame.sort_values(list(SAMPLE_ORDER), kind="stable", ignore_index=True)

    def sample_batches(
        self,
        where: SampleFilter | None = None,
        batch_rows: int = 65_536,
        newest_first: bool = False,
        limit: int | None = None,
        fast: bool = True,
    ) -> Iterator[pa.RecordBatch]:
        """The samples as Arrow record batches of ``batch_rows`` rows (the last may be
        shorter; at least one, maybe empty) with schema SAMPLE_SCHEMA, in the order they
        were saved (or the reverse), read by one statement, i.e. one consistent snapshot.

        With ``fast`` (and no ``limit``) the ADBC drivers read straight into Arrow, tens of
        times faster than Python rows: PostgreSQL in this process, a SQLite file in a
        helper process (the driver brings its own SQLite library, and two SQLite libraries
        must never open one file in one process). Otherwise, and where the drivers are not
        installed, SQLAlchemy reads."""
        where = where or SampleFilter()
        return batches.sample_batches(self._db, where, batch_rows, newest_first, limit, fast)

    def sample_preview(self, where: SampleFilter | None = None, limit: int = 1000) -> pd.DataFrame:
        """The ``limit`` most recently saved samples (newest first), columns as ``samples()``."""
        parts = list(self.sample_batches(where, max(int(limit), 1), newest_first=True, limit=int(limit)))
        return arrow_to_frame(pa.Table.from_batches(parts, schema=SAMPLE_SCHEMA))

    def count_samples(self, where: SampleFilter | None = None) -> int:
        return self._db.fetch(queries.count_samples, where or SampleFilter())

    def labellers(self) -> list[str | None]:
        """Distinct labeller names of the samples, sorted; None last if some have no name."""
        return self._db.fetch(queries.labellers)

    def band_means(self, where: SampleFilter | None = None, every: int = 1) -> pd.DataFrame:
        """Mean reflectance per label, computed by the database: columns label_value,
        label_name, n_samples and one per band (NaN where a label has no value). With
        ``every`` > 1 only every so many samples (by id, so spread over all saves) count:
        a systematic sample that keeps a chart of a million samples quick."""
        return self._db.fetch(queries.band_means, where or SampleFilter(), every)

    def band_spread(self, where: SampleFilter | None = None) -> pd.DataFrame:
        """Per band (rows): n, mean and standard deviation (population) of the samples."""
        return self._db.fetch(queries.band_spread, where or SampleFilter())

    def sample_points(self, where: SampleFilter | None = None, limit: int = 5000) -> pd.DataFrame:
        """Up to ``limit`` distinct (lon, lat, label) of the most recent samples, for a map."""
        return self._db.fetch(queries.sample_points, where or SampleFilter(), limit)

    def counts(self, where: SampleFilter | None = None) -> pd.DataFrame:
        """Samples per campaign, label and acquisition date (UTC): columns campaign_id,
        label_value, label_name, date, n_acquisitions, n_samples.

        Without a labeller filter the reviews answer (each saved review's n_pixels is its
        sample count: saves and imports keep it so), which is quick at any size."""
        return self._db.fetch(queries.counts, where or SampleFilter())

    def data_version(self) -> str:
        """Changes whenever any sample or review changes: a cache key for derived data.

        Every write to a campaign's reviews or samples bumps its revision; deleting a
        campaign lowers the count, and ids are never reused, so no two states share one.
        """
        return self._db.fetch(queries.data_version)

    # --- Import ---------------------------------------------------------------------------

    def import_samples(self, rows: ImportRows) -> ImportReport:
        """Merge samples exported elsewhere, read and checked by ``importing.read_import``
        (the store knows no file format), into this database, in one transaction.

        Campaigns are matched by identity (area, label, source, collection) and created
        when missing; acquisitions without a review here get one. A sample whose campaign,
        acquisition, row and column are already here is a duplicate and is left as it is.
        """
        now = writing.now()
        # A campaign created concurrently by another session: retry, matching it this time.
        return self._db.write(lambda conn: writing.import_groups(conn, rows, now), retries=1)
