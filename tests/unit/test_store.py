"""The label store against a real SQLite file and, when reachable, a real PostgreSQL server."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from labeller.aoi import AreaOfInterest
from labeller.bands import ALL_BAND_NAMES, L2A
from labeller.errors import InvalidInputError, StoreError
from labeller.store import CampaignRecord, Review, Store
from labeller.store.schema import SCHEMA_VERSION
from tests.unit.store_builders import (
    AOI,
    L1C,
    _engine,
    backend,
    make_acquisition,
    make_scene,
    make_spec,
    pick,
    table_count,
    valid_only,
)

# --- Schema and campaigns -----------------------------------------------------------------


def test_schema_created_and_version_recorded(url: str, stores) -> None:
    stores()
    stores()  # opening again keeps the schema and the single version row
    engine = _engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT key, value FROM meta").all() == [
            ("schema_version", str(SCHEMA_VERSION))
        ]
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"meta", "campaigns", "reviews", "samples"} <= tables


def test_newer_schema_version_is_refused(url: str, stores) -> None:
    stores().close()
    engine = _engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    engine.dispose()
    newer = f"schema version {SCHEMA_VERSION + 1}.*up to {SCHEMA_VERSION}. Update the app"
    with pytest.raises(StoreError, match=newer):
        Store(url)


def test_open_campaign_creates_then_gets(store: Store) -> None:
    spec = make_spec()
    first = store.open_campaign(spec)
    again = store.open_campaign(spec)
    assert isinstance(first, CampaignRecord)
    assert again.id == first.id
    assert first.spec == spec and store.campaign(first.id).spec == spec
    assert first.created_at.tzinfo == UTC and again.created_at == first.created_at
    # Any part of the identity makes another campaign...
    assert store.open_campaign(make_spec(label=2.0)).id != first.id
    assert store.open_campaign(make_spec(name="ice")).id != first.id
    assert store.open_campaign(make_spec(collection="sentinel-2-l2a")).id != first.id
    # ...but the same numbers written as ints are the same campaign.
    same_box = AreaOfInterest(10, 45, 10.006, 45.004)
    assert store.open_campaign(make_spec(aoi=same_box, label=1)).id == first.id
    assert len(store.campaigns()) == 4


def test_open_campaign_resumes_with_new_period_notes_and_cloud(store: Store) -> None:
    first = store.open_campaign(make_spec())
    resumed_spec = make_spec(
        start=date(2023, 6, 1), end=date(2024, 6, 30), notes="second pass", max_cloud=20.0
    )
    resumed = store.open_campaign(resumed_spec)
    assert resumed.id == first.id
    assert resumed.spec == resumed_spec
    assert store.campaign(first.id).spec == resumed_spec
    assert resumed.created_at == first.created_at
    assert resumed.updated_at >= first.updated_at
    row = store.campaigns().iloc[0]
    assert (row["notes"], row["max_cloud"], row["start_date"]) == ("second pass", 20.0, date(2023, 6, 1))


def test_missing_campaign_is_none(store: Store) -> None:
    assert store.campaign(12345) is None


def test_racing_sessions_open_one_campaign(stores) -> None:
    a, b = stores(), stores()
    spec = make_spec()
    ids: list[int] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def work(store: Store) -> None:
        try:
            barrier.wait()
            ids.extend(store.open_campaign(spec).id for _ in range(5))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(ids) == 10 and len(set(ids)) == 1
    assert len(a.campaigns()) == 1


# --- Saving -------------------------------------------------------------------------------


def test_save_writes_exactly_the_valid_pixels_with_all_bands(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    pixels = pick(scene, n_valid=40, n_invalid=8)
    expected = valid_only(scene, pixels)
    assert len(expected) == 40

    review = store.save(campaign.id, AOI, scene, pixels + pixels[:5])  # repeats count once

    assert review.status == "saved" and review.n_pixels == 40
    assert store.saved_pixels(campaign.id, "A1") == expected
    df = store.samples()
    assert len(df) == 40
    assert set(zip(df["row"], df["col"], strict=True)) == expected
    assert not df[list(ALL_BAND_NAMES)].isna().any().any()
    lon, lat = AOI.pixel_to_lonlat(df["row"].to_numpy(), df["col"].to_numpy())
    np.testing.assert_allclose(df["lon"], lon, rtol=0, atol=1e-10)
    np.testing.assert_allclose(df["lat"], lat, rtol=0, atol=1e-10)
    r0, c0 = int(df["row"].iloc[0]), int(df["col"].iloc[0])
    assert (df["lon"].iloc[0], df["lat"].iloc[0]) == pytest.approx(AOI.pixel_to_lonlat(r0, c0), abs=1e-10)
    x, y = AOI.pixel_to_utm(df["row"].to_numpy(), df["col"].to_numpy())
    np.testing.assert_array_equal(df["utm_x"], x)
    np.testing.assert_array_equal(df["utm_y"], y)
    first = df.iloc[0]
    acq = scene.acquisition
    assert first["epsg"] == AOI.epsg
    assert (first["label_value"], first["label_name"]) == (1.0, "snow")
    assert (first["source"], first["collection"]) == ("test", L1C)
    assert first["acquired_at"] == pd.Timestamp(acq.time)
    assert (first["cloud_cover"], first["tile_id"], first["processing_baseline"]) == (12.5, "T32TNR", "05.10")
    assert (first["sun_zenith"], first["sun_azimuth"], first["harmonised"]) == (62.25, 163.5, True)
    assert store.reviews(campaign.id) == {"A1": review}


def test_spectra_round_trip_bit_for_bit(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene(seed=7)
    awkward = np.array(
        [
            1 / 3,
            1e-40,
            3.4028235e38,
            1.17549435e-38,
            0.1,
            -7.25e-3,
            12345.678,
            2.0**-24,
            0.7,
            0.2,
            0.3,
            0.9,
            -0.0,
        ],
        dtype=np.float32,
    )
    scene.bands[0, :13, :] = awkward[np.newaxis, :]  # every awkward value in every band
    scene.valid[0, :13] = True
    pixels = [(0, c) for c in range(13)] + pick(scene, 200, 0)
    store.save(campaign.id, AOI, scene, pixels)

    df = store.samples()
    got = df[list(ALL_BAND_NAMES)].to_numpy(dtype=np.float64).astype(np.float32)
    want = scene.spectra(df["row"], df["col"])
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    # Bit for bit too, except that SQLite keeps no sign on a zero (-0.0 reads back as 0.0).
    signed_zero = (want == 0) & np.signbit(want)
    assert signed_zero.sum() == 13
    np.testing.assert_array_equal(got.view(np.uint32)[~signed_zero], want.view(np.uint32)[~signed_zero])


def test_level2a_scene_leaves_b10_empty_and_maps_bands_by_name(store: Store) -> None:
    campaign = store.open_campaign(make_spec(collection=L2A.id))
    names = tuple(reversed(L2A.band_names))  # a band order unlike the table's
    scene = make_scene(band_names=names)
    pixels = pick(scene, 10, 2)
    store.save(campaign.id, AOI, scene, pixels)
    df = store.samples()
    assert df["B10"].isna().all()
    for i, name in enumerate(names):
        want = scene.bands[df["row"], df["col"], i]
        np.testing.assert_array_equal(df[name].to_numpy().astype(np.float32), want)


def test_saving_again_replaces_the_acquisition(url: str, store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    other = make_scene(make_acquisition("A2", datetime(2024, 1, 8, 10, 30, tzinfo=UTC)), seed=3)
    store.save(campaign.id, AOI, other, pick(other, 5, 0))
    first = pick(scene, 30, 3, seed=1)
    second = first[10:20] + pick(scene, 15, 3, seed=2)  # overlaps the first
    store.save(campaign.id, AOI, scene, first)
    review = store.save(campaign.id, AOI, scene, second)

    assert store.saved_pixels(campaign.id, "A1") == valid_only(scene, second)
    assert review.n_pixels == len(valid_only(scene, second))
    df = store.samples()
    a1 = df[df["acquisition_id"] == "A1"]
    assert len(a1) == review.n_pixels
    assert not a1.duplicated(["row", "col"]).any()
    assert (df["acquisition_id"] == "A2").sum() == 5  # the other acquisition is untouched
    assert table_count(url, "samples") == review.n_pixels + 5
    assert table_count(url, "reviews") == 2


def test_unique_keys_reject_duplicates(url: str, store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    store.save(campaign.id, AOI, scene, pick(scene, 3, 0))
    engine = _engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    try:
        for name in ("samples", "reviews", "campaigns"):
            table = tables.tables[name]
            with engine.connect() as conn:
                row = conn.execute(sa.select(table).limit(1)).mappings().one()
            copy = {k: v for k, v in row.items() if k != "id"}
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(sa.insert(table).values(**copy))
    finally:
        engine.dispose()


def test_skip_deletes_the_acquisitions_samples(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    store.save(campaign.id, AOI, scene, pick(scene, 12, 0))
    review = store.skip(campaign.id, scene.acquisition)
    assert review == Review("A1", scene.acquisition.time, "skipped", 0, review.reviewed_at)
    assert store.reviews(campaign.id) == {"A1": review}
    assert store.saved_pixels(campaign.id, "A1") == set()
    assert store.samples().empty
    row = store.campaigns().iloc[0]
    assert (row["n_saved"], row["n_skipped"], row["n_samples"]) == (0, 1, 0)


def _reject_negative_b02(url: str) -> None:
    """Install a trigger that makes the database reject a sample with a negative B02."""
    engine = _engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                'CREATE TRIGGER reject_negative BEFORE INSERT ON samples WHEN NEW."B02" < 0 '
                "BEGIN SELECT RAISE(ABORT, 'negative reflectance rejected'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION reject_negative() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.\"B02\" < 0 THEN RAISE EXCEPTION 'negative reflectance rejected'; END IF; "
                "RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER reject_negative BEFORE INSERT ON samples "
                "FOR EACH ROW EXECUTE FUNCTION reject_negative()"
            )
    engine.dispose()


def test_failed_save_rolls_back_and_keeps_the_previous_rows(url: str, store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    pixels = pick(scene, 25, 0)
    first = store.save(campaign.id, AOI, scene, pixels)
    before = store.samples()
    _reject_negative_b02(url)

    statements: list[str] = []
    sa.event.listen(store._db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    bad = make_scene(seed=9)
    r, c = pixels[-1]
    bad.bands[r, c, ALL_BAND_NAMES.index("B02")] = -1.0
    with pytest.raises(StoreError, match="negative reflectance rejected") as caught:
        store.save(campaign.id, AOI, bad, pixels)

    assert isinstance(caught.value.__cause__, sa.exc.DBAPIError)
    assert str(caught.value).startswith(f"Could not write to the label database at {store.display_url()}")
    # It failed after deleting: the samples are inserted (executemany on SQLite, COPY on
    # PostgreSQL, which SQLAlchemy's events do not see) after the old ones are deleted.
    failed = caught.value.__cause__.statement
    assert failed.startswith("INSERT INTO samples" if backend(url) == "sqlite" else "COPY samples")
    deleted = [i for i, s in enumerate(statements) if s.startswith("DELETE FROM samples")]
    assert deleted and (failed in statements[deleted[0] :]) == (backend(url) == "sqlite")
    pd.testing.assert_frame_equal(store.samples(), before)
    assert store.reviews(campaign.id) == {"A1": first}


def test_pixels_outside_the_grid_are_refused_and_change_nothing(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    pixels = pick(scene, 5, 0)
    store.save(campaign.id, AOI, scene, pixels)
    before = store.samples()
    for outside in [(AOI.rows, 0), (0, AOI.cols), (-1, 3)]:
        with pytest.raises(InvalidInputError, match="outside"):
            store.save(campaign.id, AOI, scene, [*pixels[:2], outside])
    pd.testing.assert_frame_equal(store.samples(), before)


def test_scene_on_another_grid_or_campaign_is_refused(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    other_aoi = AreaOfInterest(10.0, 45.0, 10.005, 45.004)
    with pytest.raises(StoreError, match="grid"):
        store.save(campaign.id, AOI, make_scene(aoi=other_aoi), [(0, 0)])
    with pytest.raises(StoreError, match="does not match campaign"):
        store.save(campaign.id, other_aoi, make_scene(aoi=other_aoi), [(0, 0)])
    with pytest.raises(StoreError, match="no longer exists"):
        store.save(999, AOI, make_scene(), [(0, 0)])
    with pytest.raises(StoreError, match="no longer exists"):
        store.skip(999, make_acquisition())
    assert store.samples().empty


def test_only_invalid_pixels_save_an_empty_review(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    review = store.save(campaign.id, AOI, scene, pick(scene, 0, 6))
    assert (review.status, review.n_pixels) == ("saved", 0)
    assert store.samples().empty


# --- Draft, deletion, queries -------------------------------------------------------------


def test_draft_round_trip(stores) -> None:
    store = stores()
    campaign = store.open_campaign(make_spec())
    assert store.draft(campaign.id) == set()
    store.set_draft(campaign.id, [(1, 2), (np.int64(3), np.int64(4)), (1, 2)])
    assert stores().draft(campaign.id) == {(1, 2), (3, 4)}  # a reloaded session sees it
    store.set_draft(campaign.id, set())
    assert store.draft(campaign.id) == set()
    with pytest.raises(StoreError, match="no longer exists"):
        store.set_draft(999, [(0, 0)])


def test_each_labelling_session_has_its_own_draft(stores) -> None:
    store = stores()
    campaign = store.open_campaign(make_spec())
    store.set_draft(campaign.id, [(5, 5), (5, 6)], session="alice-tab-1")
    store.set_draft(campaign.id, [(30, 30)], session="bob-tab-000")
    reopened = stores()
    assert reopened.draft(campaign.id, "alice-tab-1") == {(5, 5), (5, 6)}
    assert reopened.draft(campaign.id, "bob-tab-000") == {(30, 30)}
    assert reopened.draft(campaign.id, "someone-new") == set() == reopened.draft(campaign.id)
    store.set_draft(campaign.id, [], session="bob-tab-000")
    assert reopened.draft(campaign.id, "alice-tab-1") == {(5, 5), (5, 6)}
    store.delete_campaign(campaign.id)  # drafts go with their campaign
    assert table_count(store._db.url.render_as_string(hide_password=False), "drafts") == 0


def test_delete_campaign_cascades(url: str, store: Store) -> None:
    gone = store.open_campaign(make_spec())
    kept = store.open_campaign(make_spec(label=2.0))
    scene = make_scene()
    for campaign in (gone, kept):
        store.save(campaign.id, AOI, scene, pick(scene, 8, 0))
        store.skip(campaign.id, make_acquisition("A2"))

    store.delete_campaign(gone.id)

    assert store.campaign(gone.id) is None
    assert store.reviews(gone.id) == {}
    assert table_count(url, "reviews", gone.id) == 0  # removed by the database's cascade
    assert table_count(url, "samples", gone.id) == 0
    assert len(store.reviews(kept.id)) == 2
    assert table_count(url, "samples", kept.id) == 8
    assert store.campaigns()["id"].tolist() == [kept.id]
    assert store.open_campaign(make_spec()).id not in (gone.id, kept.id)  # ids are never reused


def test_delete_review(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    scene = make_scene()
    other = make_scene(make_acquisition("A2"), seed=4)
    store.save(campaign.id, AOI, scene, pick(scene, 8, 0))
    store.save(campaign.id, AOI, other, pick(other, 4, 0))
    store.delete_review(campaign.id, "A1")
    assert list(store.reviews(campaign.id)) == ["A2"]
    assert store.samples()["acquisition_id"].unique().tolist() == ["A2"]


def test_times_are_timezone_aware_utc(store: Store) -> None:
    campaign = store.open_campaign(make_spec())
    cest = timezone(timedelta(hours=2))
    when = datetime(2024, 1, 5, 12, 30, 15, 250000, tzinfo=cest)
    scene = make_scene(make_acquisition(when=when))
    store.save(campaign.id, AOI, scene, pick(scene, 3, 0))

    df = store.samples()
    assert str(df["acquired_at"].dtype) == "datetime64[us, UTC]"
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"
    assert df["acquired_at"].iloc[0] == pd.Timestamp("2024-01-05 10:30:15.25", tz="UTC")
    review = store.reviews(campaign.id)["A1"]
    assert review.acquired_at == when and review.acquired_at.tzinfo == UTC
    assert review.reviewed_at.tzinfo == UTC
    assert store.campaign(campaign.id).updated_at.tzinfo == UTC
    assert str(store.campaigns()["created_at"].dtype) == "datetime64[us, UTC]"
    naive = make_scene(make_acquisition(when=datetime(2024, 1, 5, 10)))
    with pytest.raises(InvalidInputError, match="time zone"):
        store.save(campaign.id, AOI, naive, [(0, 0)])


def _filter_fixture(store: Store) -> tuple[int, int]:
    snow = store.open_campaign(make_spec(label=1.0, name="snow")).id
    water = store.open_campaign(make_spec(label=2.5, name="water")).id
    acquisitions = [
        (snow, make_acquisition("S1", datetime(2024, 1, 5, 10, 30, tzinfo=UTC))),
        (snow, make_acquisition("S2", datetime(2024, 1, 10, 23, 59, 59, tzinfo=UTC))),
        (water, make_acquisition("W1", datetime(2024, 1, 11, 0, 0, tzinfo=UTC))),
    ]
    for i, (campaign_id, acquisition) in enumerate(acquisitions):
        scene = make_scene(acquisition, seed=i)
        store.save(campaign_id, AOI, scene, pick(scene, 4 + i, 1))
    return snow, water


def test_samples_filters(store: Store) -> None:
    snow, water = _filter_fixture(store)

    def acquisitions(**filters) -> list[str]:
        return sorted(store.samples(**filters)["acquisition_id"].unique())

    assert len(store.samples()) == 4 + 5 + 6
    assert acquisitions(campaign_ids=[snow]) == ["S1", "S2"]
    assert acquisitions(campaign_ids=[snow, water]) == ["S1", "S2", "W1"]
    assert acquisitions(label_values=[2.5]) == ["W1"]
    assert acquisitions(start=date(2024, 1, 10)) == ["S2", "W1"]
    assert acquisitions(end=date(2024, 1, 10)) == ["S1", "S2"]  # end day included to 23:59:59
    assert acquisitions(start=date(2024, 1, 10), end=date(2024, 1, 10)) == ["S2"]
    assert acquisitions(start=date(2024, 1, 11), end=date(2024, 1, 11)) == ["W1"]
    assert acquisitions(campaign_ids=[water], label_values=[1.0]) == []
    empty = store.samples(campaign_ids=[])
    assert empty.empty
    assert empty.dtypes.equals(store.samples().dtypes)


def test_campaigns_and_counts(store: Store) -> None:
    snow, water = _filter_fixture(store)
    store.skip(water, make_acquisition("W2", datetime(2024, 1, 12, tzinfo=UTC)))

    listed = store.campaigns().set_index("id")
    assert listed.loc[snow, ["n_saved", "n_skipped", "n_samples"]].tolist() == [2, 0, 9]
    assert listed.loc[water, ["n_saved", "n_skipped", "n_samples"]].tolist() == [1, 1, 6]
    assert listed.loc[water, "label_name"] == "water"

    counts = store.counts()
    assert list(counts.columns) == [
        "campaign_id",
        "label_value",
        "label_name",
        "date",
        "n_acquisitions",
        "n_samples",
    ]
    rows = [tuple(r) for r in counts.itertuples(index=False)]
    assert rows == [
        (snow, 1.0, "snow", date(2024, 1, 5), 1, 4),
        (snow, 1.0, "snow", date(2024, 1, 10), 1, 5),
        (water, 2.5, "water", date(2024, 1, 11), 1, 6),
    ]


# --- Concurrency --------------------------------------------------------------------------


def test_two_stores_saving_concurrently_lose_nothing(stores) -> None:
    first, second = stores(), stores()
    campaign = first.open_campaign(make_spec())
    expected: dict[str, set[tuple[int, int]]] = {}
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def work(store: Store, worker: int) -> None:
        try:
            barrier.wait()
            for i in range(8):
                acq = make_acquisition(f"W{worker}-{i}", datetime(2024, 1, 1 + i, 10, worker, tzinfo=UTC))
                scene = make_scene(acq, seed=100 * worker + i)
                pixels = pick(scene, 150, 10, seed=i)
                expected[acq.id] = valid_only(scene, pixels)
                store.save(campaign.id, AOI, scene, pixels)
                store.set_draft(campaign.id, pixels[:3])
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    reviews = second.reviews(campaign.id)
    assert set(reviews) == set(expected) and len(expected) == 16
    for acq_id, pixels in expected.items():
        assert first.saved_pixels(campaign.id, acq_id) == pixels
        assert reviews[acq_id].n_pixels == 150
    assert len(first.samples()) == 16 * 150


# --- SQLite specifics and errors ----------------------------------------------------------


def test_sqlite_url_creates_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    url = Store.sqlite_url(folder)
    assert folder.is_dir()
    assert url == f"sqlite:///{(folder / 'labels.sqlite').resolve().as_posix()}"


def test_sqlite_connection_settings(sqlite_store: Store) -> None:
    engine = sqlite_store._db.engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_sqlite_writes_begin_immediate_and_reads_do_not(sqlite_store: Store) -> None:
    statements: list[str] = []
    sa.event.listen(sqlite_store._db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    campaign = sqlite_store.open_campaign(make_spec())
    scene = make_scene()
    sqlite_store.save(campaign.id, AOI, scene, pick(scene, 3, 0))
    assert statements.count("BEGIN IMMEDIATE") == 2 and "BEGIN" not in statements
    statements.clear()
    sqlite_store.samples()
    sqlite_store.reviews(campaign.id)
    assert statements.count("BEGIN") == 2 and "BEGIN IMMEDIATE" not in statements


def test_unreadable_sqlite_file_gives_an_actionable_error(tmp_path: Path) -> None:
    url = Store.sqlite_url(tmp_path)
    (tmp_path / "labels.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as caught:
        Store(url)
    message = str(caught.value)
    assert message.startswith(f"Could not write to the label database at {url}: ")
    assert "Check the data folder" in message
    assert isinstance(caught.value.__cause__, sa.exc.SQLAlchemyError)


def test_passwords_are_never_shown() -> None:
    with pytest.raises(StoreError) as caught:
        Store("postgresql://labeller:pa55-Secret@127.0.0.1:1/labels?connect_timeout=3")
    assert "pa55-Secret" not in str(caught.value)
    assert "labeller:***@127.0.0.1:1" in str(caught.value)
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)


def test_display_url_hides_the_password(pg_url: str) -> None:
    with_password = sa.make_url(pg_url).set(password="pa55-Secret").render_as_string(hide_password=False)
    store = Store(with_password)  # the test server trusts local connections, so any password works
    try:
        assert "pa55-Secret" not in store.display_url() and "***" in store.display_url()
    finally:
        store.close()


def test_bad_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="not valid"):
        Store("no url at all")
    with pytest.raises(StoreError, match="No database driver"):
        Store("nosuchdb://x/y")


def test_racing_saves_of_one_acquisition_leave_one_consistent_result(stores) -> None:
    first, second = stores(), stores()
    campaign = first.open_campaign(make_spec())
    scene = make_scene()
    choices = [pick(scene, 300, 0, seed=1), pick(scene, 200, 0, seed=2)]
    choices[1] = [p for p in choices[1] if p not in set(choices[0])]  # disjoint selections
    assert len(choices[1]) > 50
    errors: list[Exception] = []

    def work(store: Store, pixels: list[tuple[int, int]], barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            store.save(campaign.id, AOI, scene, pixels)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    for _ in range(6):
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=work, args=(s, p, barrier))
            for s, p in zip((first, second), choices, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        saved = first.saved_pixels(campaign.id, "A1")
        assert saved in (set(choices[0]), set(choices[1]))  # one whole save, never a mix
        assert first.reviews(campaign.id)["A1"].n_pixels == len(saved)
