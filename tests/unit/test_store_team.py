"""Schema version 2 of the store: migrations, labeller names, filters, the data version,
and importing another machine's export. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from labeller import export, spectra
from labeller.bands import L2A
from labeller.errors import InvalidInputError, StoreError
from labeller.identity import campaign_key, identity_key
from labeller.importing import read_import
from labeller.store import MAX_LABELLER, SampleFilter, Store, batches, clean_labeller, sqlite_reader
from labeller.store.frames import arrow_to_frame
from labeller.store.migrations import MIGRATIONS
from labeller.store.records import ImportReport
from labeller.store.schema import CAMPAIGN_COLUMNS, INSERT_COLUMNS, SAMPLE_SCHEMA, SCHEMA_VERSION
from tests.unit.reference import mean_spectra, read_csv_export, sample_chunks
from tests.unit.store_builders import (
    AOI,
    _engine,
    make_acquisition,
    make_scene,
    make_spec,
    pick,
    schema_version,
)
from tests.unit.store_v1 import V1_SAMPLES, WHEN, make_v1_database

# --- Migrations ---------------------------------------------------------------------------


def _columns(url: str, table: str) -> list[str]:
    engine = _engine(url)
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns(table)]
    finally:
        engine.dispose()


def test_one_migration_per_version_step() -> None:
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION))


def test_version_1_database_is_upgraded_in_place_with_its_rows(url: str) -> None:
    make_v1_database(url)
    assert "labeller" not in _columns(url, "samples")

    store = Store(url)
    try:
        assert schema_version(url) == SCHEMA_VERSION
        assert "labeller" in _columns(url, "samples") and "labeller" in _columns(url, "reviews")
        assert "revision" in _columns(url, "campaigns")
        # The old rows are all there and read as before.
        record = store.campaign(1)
        assert record.spec == make_spec(notes="v1 notes", max_cloud=30.0)
        assert record.created_at == WHEN
        assert store.draft(1) == {(1, 2)}
        reviews = store.reviews(1)
        assert {k: (r.status, r.n_pixels, r.labeller) for k, r in reviews.items()} == {
            "A1": ("saved", 3, None),
            "A2": ("skipped", 0, None),
        }
        assert reviews["A1"].acquired_at == WHEN
        old = store.samples()
        assert list(zip(old["row"], old["col"], old["B02"], strict=True)) == V1_SAMPLES
        assert old["labeller"].isna().all() and (old["B12"] == 0.75).all()
        assert (old["acquired_at"] == pd.Timestamp(WHEN)).all()
        assert old["campaign_key"].iloc[0] == campaign_key(identity_key(make_spec()))
        # The upgraded database takes new, named work next to the old.
        scene = make_scene(make_acquisition("A3"))
        store.save(1, AOI, scene, pick(scene, 4, 0), labeller="ana")
        assert len(store.samples(labellers=["ana"])) == 4
        assert len(store.samples(labellers=[None])) == 3
        assert store.open_campaign(make_spec()).id == 1  # the same identity, resumed
    finally:
        store.close()
    again = Store(url)  # opening the upgraded database changes nothing
    try:
        assert schema_version(url) == SCHEMA_VERSION and len(again.samples()) == 7
    finally:
        again.close()


def test_version_2_database_gets_per_session_drafts_keeping_its_one_draft(url: str) -> None:
    make_v1_database(url)
    engine = _engine(url)
    with engine.begin() as conn:  # a version 2 database, as the app of version 2 left it
        MIGRATIONS[1](conn)
        conn.exec_driver_sql("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        conn.exec_driver_sql("UPDATE campaigns SET draft_selection = '[[7, 8], [1, 2]]'")
    engine.dispose()
    assert "drafts" not in sa.inspect(_engine(url)).get_table_names()

    store = Store(url)
    try:
        assert schema_version(url) == SCHEMA_VERSION
        assert store.draft(1) == {(1, 2), (7, 8)}  # the campaign's one draft, under session ""
        assert store.draft(1, "a-new-session") == set()
        store.set_draft(1, [(3, 3)], "a-new-session")
        assert store.draft(1) == {(1, 2), (7, 8)}
        assert store.draft(1, "a-new-session") == {(3, 3)}
    finally:
        store.close()


def test_a_failing_migration_leaves_the_version_1_database_untouched(url: str, monkeypatch) -> None:
    make_v1_database(url)

    def half_then_fail(conn) -> None:
        conn.exec_driver_sql("ALTER TABLE reviews ADD COLUMN labeller TEXT")
        raise sa.exc.OperationalError("ALTER TABLE", None, Exception("disk full (simulated)"))

    monkeypatch.setitem(MIGRATIONS, 1, half_then_fail)
    with pytest.raises(StoreError, match="disk full"):
        Store(url)
    assert "labeller" not in _columns(url, "reviews")  # the DDL was rolled back with the rest
    engine = _engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT value FROM meta").scalar_one() == "1"
    engine.dispose()
    monkeypatch.undo()
    store = Store(url)
    assert schema_version(url) == SCHEMA_VERSION and len(store.samples()) == 3
    store.close()


def test_sessions_opening_an_old_database_at_once_upgrade_it_once(url: str) -> None:
    make_v1_database(url)
    opened: list[Store] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def open_it() -> None:
        try:
            barrier.wait()
            opened.append(Store(url))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(opened) == 4 and schema_version(url) == SCHEMA_VERSION
        assert _columns(url, "samples").count("labeller") == 1
    finally:
        for s in opened:
            s.close()


def test_a_foreign_database_is_refused(url: str) -> None:
    engine = _engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE samples (x INTEGER)")
    engine.dispose()
    with pytest.raises(StoreError, match="not made by this app"):
        Store(url)


# --- Labeller names -----------------------------------------------------------------------


def test_clean_labeller() -> None:
    assert clean_labeller(None) is None
    assert clean_labeller("   ") is None
    assert clean_labeller("  Ana   Novak ") == "Ana Novak"
    assert clean_labeller("Žiga Šuštar") == "Žiga Šuštar"
    assert clean_labeller("x" * MAX_LABELLER) == "x" * MAX_LABELLER
    with pytest.raises(InvalidInputError, match="longer than"):
        clean_labeller("x" * (MAX_LABELLER + 1))
    with pytest.raises(InvalidInputError, match="control characters"):
        clean_labeller("ana\x00")
    with pytest.raises(InvalidInputError, match="text"):
        clean_labeller(42)  # type: ignore[arg-type]


def test_labeller_is_stored_with_reviews_and_samples(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    review = store.save(campaign.id, AOI, scene, pick(scene, 5, 0), labeller=" ana ")
    skipped = store.skip(campaign.id, make_acquisition("A2"), labeller="bo")
    other = make_scene(make_acquisition("A3"), seed=2)
    store.save(campaign.id, AOI, other, pick(other, 2, 0))  # no name: the old API

    assert review.labeller == "ana" and skipped.labeller == "bo"
    reviews = store.reviews(campaign.id)
    assert {k: r.labeller for k, r in reviews.items()} == {"A1": "ana", "A2": "bo", "A3": None}
    df = store.samples()
    assert df.groupby("acquisition_id")["labeller"].agg(lambda s: s.unique().tolist()).to_dict() == {
        "A1": ["ana"],
        "A3": [np.nan],
    }
    assert store.labellers() == ["ana", None]
    assert sorted(store.samples(labellers=["ana"])["acquisition_id"].unique()) == ["A1"]
    assert len(store.samples(labellers=[None])) == 2
    assert len(store.samples(labellers=["ana", None])) == 7
    assert store.samples(labellers=["nobody"]).empty
    with pytest.raises(InvalidInputError):
        store.save(campaign.id, AOI, scene, pick(scene, 5, 0), labeller="x" * 200)
    assert store.reviews(campaign.id)["A1"].labeller == "ana"  # the refused save changed nothing


# --- Reading for the Dataset page ---------------------------------------------------------


def _two_labels(store: Store) -> tuple[int, int]:
    snow = store.open_campaign(make_spec(label=1.0, name="snow")).id
    water = store.open_campaign(make_spec(label=2.5, name="water", collection=L2A.id)).id
    plan = [
        (snow, "S1", datetime(2024, 1, 5, tzinfo=UTC), "ana", None),
        (snow, "S2", datetime(2024, 1, 9, tzinfo=UTC), "bo", None),
        (water, "W1", datetime(2024, 1, 11, tzinfo=UTC), "ana", L2A.band_names),
    ]
    for i, (campaign_id, acq_id, when, name, bands) in enumerate(plan):
        kwargs = {"band_names": bands} if bands else {}
        scene = make_scene(make_acquisition(acq_id, when), seed=i, **kwargs)
        store.save(campaign_id, AOI, scene, pick(scene, 10 + i, 0), labeller=name)
    return snow, water


def test_counts_preview_and_means_follow_the_filter(store: Store) -> None:
    snow, water = _two_labels(store)
    everything = store.samples()
    assert store.count_samples() == len(everything) == 10 + 11 + 12
    ana = SampleFilter.of(labellers=["ana"])
    assert store.count_samples(ana) == 22
    assert store.count_samples(SampleFilter.of(campaign_ids=[snow], start=date(2024, 1, 6))) == 11

    preview = store.sample_preview(limit=5)
    assert len(preview) == 5 and list(preview.columns) == list(everything.columns)
    assert preview["id"].tolist() == sorted(everything["id"], reverse=True)[:5]  # newest first

    means = store.band_means(ana)
    by_hand = (
        everything[everything["labeller"] == "ana"]
        .groupby(["label_value", "label_name"])
        .mean(numeric_only=True)
    )
    assert means["label_value"].tolist() == [1.0, 2.5] and means["n_samples"].tolist() == [10, 12]
    for band in ("B02", "B8A", "B12"):
        np.testing.assert_allclose(means[band], by_hand[band], rtol=1e-12)
    assert np.isnan(means.loc[means["label_value"] == 2.5, "B10"]).all()  # Level-2A: no B10
    lines = spectra.label_spectra(means)
    assert lines.equals(mean_spectra(everything[everything["labeller"] == "ana"]).astype(lines.dtypes))

    points = store.sample_points(limit=7)
    assert len(points) == 7 and not points.duplicated().any()
    counts = store.counts(SampleFilter.of(labellers=["bo"]))
    assert [tuple(r) for r in counts.itertuples(index=False)] == [
        (snow, 1.0, "snow", date(2024, 1, 9), 1, 11)
    ]


def test_sample_batches_stream_the_same_rows_in_chunks(store: Store) -> None:
    _two_labels(store)
    whole = store.samples()
    chunks = list(sample_chunks(store, chunk_rows=7))
    assert [len(c) for c in chunks] == [7, 7, 7, 7, 5]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)
    assert list(whole.columns[-len(CAMPAIGN_COLUMNS) :]) == list(CAMPAIGN_COLUMNS)
    empty = list(sample_chunks(store, SampleFilter.of(labellers=["nobody"])))
    assert len(empty) == 1 and empty[0].empty and empty[0].dtypes.equals(whole.dtypes)


def test_data_version_changes_with_every_write_and_only_then(store: Store) -> None:
    versions = [store.data_version()]

    def changed() -> bool:
        versions.append(store.data_version())
        return versions[-1] != versions[-2]

    campaign = store.open_campaign(make_spec())
    assert changed()
    scene = make_scene()
    store.save(campaign.id, AOI, scene, pick(scene, 3, 0))
    assert changed()
    store.samples(), store.campaigns(), store.count_samples()
    store.set_draft(campaign.id, [(1, 1)])
    assert not changed()  # reads and drafts leave the samples as they are
    store.save(campaign.id, AOI, scene, pick(scene, 3, 0))  # the same pixels again
    assert changed()
    store.skip(campaign.id, make_acquisition("A2"))
    assert changed()
    store.delete_review(campaign.id, "A2")
    assert changed()
    other = store.open_campaign(make_spec(label=9.0))
    assert changed()
    store.delete_campaign(other.id)
    assert changed()
    assert len(set(versions)) == len(versions) - 2  # every change gave a version never seen before


# --- Import -------------------------------------------------------------------------------


@pytest.fixture
def other(tmp_path):
    """A second machine's store (SQLite)."""
    made = Store(Store.sqlite_url(tmp_path / "other"))
    yield made
    made.close()


_KEY = ["campaign_key", "acquisition_id", "row", "col"]
_COMPARED = [c for c in INSERT_COLUMNS if c != "campaign_id"] + list(CAMPAIGN_COLUMNS)


def _same_samples(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """The same samples, whatever their local ids."""
    left = a[_COMPARED].sort_values(_KEY, ignore_index=True)
    right = b[_COMPARED].sort_values(_KEY, ignore_index=True)
    pd.testing.assert_frame_equal(left, right)


def merge(store: Store, data) -> ImportReport:
    """Import an export (Parquet bytes or a frame) as the Dataset page does."""
    return store.import_samples(read_import(data))


def test_export_import_round_trip_and_second_import_adds_nothing(other: Store, store: Store) -> None:
    snow, water = _two_labels(other)
    other.skip(snow, make_acquisition("S0", datetime(2024, 1, 2, tzinfo=UTC)))
    other.open_campaign(make_spec(label=1.0, name="snow", notes="from the field", max_cloud=40.0))
    exported = export.to_parquet_bytes(sample_chunks(other, chunk_rows=10), other.campaigns())

    report = merge(store, exported)

    assert report == ImportReport(added=33, duplicates=0, campaigns_created=2, reviews_created=3)
    _same_samples(store.samples(), other.samples())
    campaigns = store.campaigns().set_index("label_value")
    assert campaigns.loc[1.0, "notes"] == "from the field" and campaigns.loc[1.0, "max_cloud"] == 40.0
    assert campaigns.loc[1.0, "start_date"] == date(2024, 1, 1)  # the exported period, not the samples'
    mine = store.campaigns()["id"].tolist()
    for campaign_id in mine:
        reviews = store.reviews(campaign_id)
        counts = store.samples(campaign_ids=[campaign_id]).groupby("acquisition_id").size().to_dict()
        assert {k: r.n_pixels for k, r in reviews.items()} == counts  # never a partial review
        assert {r.status for r in reviews.values()} == {"saved"}
    assert store.reviews(mine[0])["S1"].labeller == "ana"

    again = merge(store, exported)
    assert again == ImportReport(added=0, duplicates=33, campaigns_created=0, reviews_created=0)
    assert store.count_samples() == 33


def test_two_machines_combine_without_duplicates(tmp_path, store: Store) -> None:
    machines = [Store(Store.sqlite_url(tmp_path / name)) for name in ("a", "b")]
    try:
        scene = make_scene(make_acquisition("SHARED"))
        shared = pick(scene, 20, 0, seed=5)
        for i, machine in enumerate(machines):
            campaign = machine.open_campaign(make_spec())
            machine.save(campaign.id, AOI, scene, shared[:15] if i == 0 else shared[5:])  # overlap 10
            own = make_scene(make_acquisition(f"OWN{i}"), seed=10 + i)
            machine.save(campaign.id, AOI, own, pick(own, 6, 0), labeller=f"m{i}")
        first, second = (merge(store, export.to_parquet_bytes(m.samples())) for m in machines)
    finally:
        for machine in machines:
            machine.close()

    assert (first.added, first.duplicates, first.campaigns_created) == (21, 0, 1)
    assert (second.added, second.duplicates, second.campaigns_created) == (11, 10, 0)
    df = store.samples()
    assert len(df) == 32 and not df.duplicated(["campaign_id", "acquisition_id", "row", "col"]).any()
    assert set(
        zip(
            df.loc[df.acquisition_id == "SHARED", "row"],
            df.loc[df.acquisition_id == "SHARED", "col"],
            strict=True,
        )
    ) == set(shared)
    reviews = store.reviews(int(df["campaign_id"].iloc[0]))
    assert {k: r.n_pixels for k, r in reviews.items()} == {"SHARED": 20, "OWN0": 6, "OWN1": 6}


def test_import_into_a_skipped_acquisition_saves_it(other: Store, store: Store) -> None:
    scene = make_scene()
    mine = store.open_campaign(make_spec())
    store.skip(mine.id, scene.acquisition)
    theirs = other.open_campaign(make_spec())
    other.save(theirs.id, AOI, scene, pick(scene, 4, 0))
    report = merge(store, other.samples())  # a frame works as well as Parquet bytes
    assert (report.added, report.campaigns_created, report.reviews_created) == (4, 0, 0)
    review = store.reviews(mine.id)["A1"]
    assert (review.status, review.n_pixels) == ("saved", 4)


def test_import_of_a_csv_export_read_back(other: Store, store: Store) -> None:
    _two_labels(other)
    back = read_csv_export(export.to_csv_bytes(other.samples()))
    assert merge(store, back).added == 33
    _same_samples(store.samples(), other.samples())


def test_bad_imports_are_refused_and_change_nothing(other: Store, store: Store) -> None:
    _two_labels(other)
    good = other.samples()
    with pytest.raises(InvalidInputError, match="not a readable Parquet"):
        merge(store, b"PAR1 but not really")
    with pytest.raises(InvalidInputError, match="lacks the columns campaign_min_lon"):
        merge(store, good.drop(columns=["campaign_min_lon"]))
    with pytest.raises(InvalidInputError, match="empty values in acquired_at"):
        merge(store, good.assign(acquired_at=pd.NaT))
    off_grid = good.copy()
    off_grid.loc[off_grid.index[-1], "utm_x"] += 10.0  # one sample moved by a pixel
    with pytest.raises(InvalidInputError, match="1 samples for campaign .* do not lie on its 10 m grid"):
        merge(store, export.to_parquet_bytes(off_grid))
    parquet = export.to_parquet_bytes(good)
    with pytest.raises(InvalidInputError, match="not a readable Parquet file"):
        merge(store, parquet[: len(parquet) // 2])  # truncated (a broken upload)
    with pytest.raises(InvalidInputError, match="not a readable Parquet file"):
        merge(store, good.to_csv(index=False).encode())  # a CSV renamed .parquet
    with pytest.raises(InvalidInputError, match="not a readable Parquet file"):
        merge(store, b"")
    with pytest.raises(InvalidInputError, match="values of the wrong kind"):
        merge(store, export.to_parquet_bytes(good.astype({"B04": "str"}).assign(B04="bright")))
    with pytest.raises(InvalidInputError, match="values of the wrong kind .*row must hold whole numbers"):
        merge(store, good.assign(row=good["row"] + 0.5))
    other_grid = good.assign(epsg=32634)  # the same numbers in another UTM zone
    with pytest.raises(InvalidInputError, match="do not lie on its 10 m grid"):
        merge(store, export.to_parquet_bytes(other_grid))
    with pytest.raises(InvalidInputError, match="holds no samples"):
        merge(store, export.to_parquet_bytes(iter([good.iloc[:0]])))
    with pytest.raises(InvalidInputError, match="Cannot import the samples with box .*: .*latitude"):
        merge(store, good.assign(campaign_min_lat=-95.0))
    assert store.count_samples() == 0 and store.campaigns().empty  # all or nothing


# --- The Arrow readers --------------------------------------------------------------------


def _awkward(store: Store) -> None:
    """Samples with every kind of missing value and times with and without fractions."""
    campaign = store.open_campaign(make_spec(collection=L2A.id))
    bare = make_acquisition("BARE", datetime(2024, 1, 7, 9, 0, 0, tzinfo=UTC), cloud=None)
    bare = type(bare)(bare.id, bare.time, None, tile_id=None, processing_baseline=None)
    scene = make_scene(bare, band_names=L2A.band_names)
    scene = type(scene)(
        scene.acquisition, scene.band_names, scene.bands, scene.valid, 0.0, 359.5, harmonised=None
    )
    store.save(campaign.id, AOI, scene, pick(scene, 70, 0))  # no name, no B10, no tile, no flag
    full = make_scene(make_acquisition("FULL", datetime(2024, 1, 8, 10, 30, 15, 250001, tzinfo=UTC)), seed=3)
    store.save(store.open_campaign(make_spec()).id, AOI, full, pick(full, 30, 0), labeller='Žiga, "Ž"')


def test_fast_and_plain_readers_agree(store: Store, monkeypatch) -> None:
    _awkward(store)
    assert batches.fast_route(store._db) == store._db.backend  # the ADBC route is installed and taken
    where = SampleFilter.of(start=date(2024, 1, 7))
    fast = pa.Table.from_batches(list(store.sample_batches(where, batch_rows=16)), schema=SAMPLE_SCHEMA)
    plain = pa.Table.from_batches(list(store.sample_batches(where, fast=False)), schema=SAMPLE_SCHEMA)
    assert fast.num_rows == 100
    assert fast.equals(plain), fast.to_pandas().compare(plain.to_pandas())
    frame = arrow_to_frame(fast)
    assert frame["B10"].isna().sum() == 70 and frame["tile_id"].isna().sum() == 70
    assert frame["harmonised"].isna().sum() == 70 and frame["labeller"].isna().sum() == 70
    assert (frame["labeller"].dropna() == 'Žiga, "Ž"').all()
    assert frame["acquired_at"].max() == pd.Timestamp("2024-01-08 10:30:15.250001", tz="UTC")
    newest = list(store.sample_batches(newest_first=True))[0]
    assert newest.column("id").to_pylist() == sorted(frame["id"], reverse=True)
    monkeypatch.setattr(batches, "USE_ADBC", False)
    assert batches.fast_route(store._db) is None
    pd.testing.assert_frame_equal(pd.concat(list(sample_chunks(store, where)), ignore_index=True), frame)


def test_a_failing_reader_helper_is_a_store_error(sqlite_store: Store, monkeypatch) -> None:
    _awkward(sqlite_store)
    monkeypatch.setattr(sqlite_reader, "_HELPER_SCRIPT", "import sys; sys.exit('disk I/O error (simulated)')")
    with pytest.raises(StoreError, match=r"Could not read the label database .*disk I/O error \(simulated\)"):
        list(sqlite_store.sample_batches())


def test_counts_from_reviews_equal_counts_from_samples(store: Store) -> None:
    snow, water = _two_labels(store)
    store.skip(water, make_acquisition("W9", datetime(2024, 1, 12, tzinfo=UTC)))
    filters = [
        SampleFilter(),
        SampleFilter.of(campaign_ids=[snow]),
        SampleFilter.of(label_values=[2.5]),
        SampleFilter.of(start=date(2024, 1, 9), end=date(2024, 1, 11)),
    ]
    for where in filters:
        by_reviews = store.counts(where)
        everyone = dataclasses.replace(where, labellers=("ana", "bo", None))  # forces the samples route
        pd.testing.assert_frame_equal(by_reviews, store.counts(everyone))
    assert store.counts(filters[3])["n_samples"].tolist() == [11, 12]


def test_band_means_of_every_nth_sample(store: Store) -> None:
    _two_labels(store)
    every = store.band_means(every=3)
    df = store.samples()
    kept = df[df["id"] % 3 == 0].groupby("label_value")["B02"].mean()
    np.testing.assert_allclose(every["B02"], kept.to_numpy(), rtol=1e-12)
    assert every["n_samples"].sum() == (df["id"] % 3 == 0).sum()
