"""Earth Search through the real pystac-client and GDAL over HTTP, against the local fake
(tests/fakes/stac_server.py) serving COGs made from the real sample. Nothing is patched."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest

from labeller.aoi import AreaOfInterest
from labeller.bands import L2A
from labeller.campaign import CampaignSpec
from labeller.errors import NoAcquisitionsError
from labeller.labelling import LabellingSession
from labeller.prefetch import SceneLoader
from labeller.scene_cache import SceneCache
from labeller.sources import make_source
from labeller.sources.earthsearch import EarthSearchSource
from labeller.sources.earthsearch.errors import (
    AssetForbiddenError,
    AssetUnavailableError,
    CorruptAssetError,
    MissingAssetsError,
    SearchRejectedError,
    SearchUnavailableError,
)
from labeller.sources.earthsearch.reading import native_pixels
from labeller.store import Store
from tests.fakes import s2_cogs

AOI = AreaOfInterest(*s2_cogs.SAMPLE_BBOX)
START, END = date(2015, 7, 1), date(2015, 9, 30)
DAYS = ["2015-07-11", "2015-07-31", "2015-08-20", "2015-08-30", "2015-09-09"]
TEN_M = {"B02", "B03", "B04", "B08"}


def listed(source: EarthSearchSource, **kwargs):
    return source.acquisitions(AOI, START, END, **kwargs)


def cog_requests(fake) -> Counter:
    return Counter(r.path.rsplit("/", 1)[-1].removesuffix(".tif") for r in fake.counted("/cogs"))


# --- listing ---------------------------------------------------------------------------------


def test_every_page_listed_and_same_day_items_merged(fake_es, make_es_source):
    progress = []
    acquisitions = listed(make_es_source(), progress=lambda f, text: progress.append(text))
    assert [a.time.date().isoformat() for a in acquisitions] == DAYS
    first = acquisitions[0]
    assert first.id == "S2A_T33TVL_20150711T100008_L2A+S2A_T33TVM_20150711T100008_L2A"
    assert (first.tile_id, first.processing_baseline) == ("33TVL+33TVM", "05.00")
    assert [a.cloud_cover for a in acquisitions] == [1.0, 75.0, 97.0, 2.0, 3.0]
    assert [a.tile_id for a in acquisitions[1:]] == ["33TVM"] * 4
    # 6 items, 2 per page: 3 pages and the empty last one; one landing page.
    assert [(r.method, r.path) for r in fake_es.requests] == [("GET", "/")] + [("POST", "/search")] * 4
    assert "Listing Earth Search items: 6 of 6" in progress
    assert progress[-1] == "5 Earth Search acquisitions (6 items)"


def test_cloud_limit_goes_to_the_server_as_a_query(fake_es, make_es_source):
    acquisitions = listed(make_es_source(), max_cloud=10)
    assert [a.time.date().isoformat() for a in acquisitions] == ["2015-07-11", "2015-08-30", "2015-09-09"]
    with pytest.raises(NoAcquisitionsError, match="widen the period or raise the cloud limit"):
        listed(make_es_source(), max_cloud=0.5)


def test_source_from_the_table_uses_the_configured_endpoint(fake_es):
    source = make_source("earthsearch", environ=fake_es.env())
    assert isinstance(source, EarthSearchSource) and source.collection is L2A
    assert source.cache_id == f"earthsearch|{fake_es.url}|sentinel-2-c1-l2a|cog-v1"
    assert source.test_connection().status == "ok"


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [0, 3])
def test_reflectance_is_the_native_pixel_dn_times_scale_plus_offset(fake_es, make_es_source, es_cogs, day):
    source = make_es_source()
    acquisition = listed(source)[day]
    scene = source.scene(AOI, acquisition)
    root = es_cogs[0]
    items = sorted((i for i in fake_es.items if i.time == acquisition.time), key=lambda i: i.id)
    assert scene.band_names == L2A.band_names and "B10" not in scene.band_names
    assert scene.bands.dtype == np.float32 and scene.valid.all()
    assert scene.harmonised is True and scene.sun_zenith == 30.0 and scene.sun_azimuth == 150.0
    # Expected, read from the files on disk: the first item (by id) with data gives each pixel.
    dn = {b: [s2_cogs.expected_dn(root, item, b, AOI) for item in items] for b in (*L2A.band_names, "SCL")}
    first_valid = np.zeros(AOI.shape, dtype=int)
    if len(items) == 2:
        has = np.logical_and.reduce([dn[b][0] != 0 for b in L2A.band_names])
        first_valid = np.where(has, 0, 1)
        assert 0 < has.mean() < 1, "the merge is exercised: both items give pixels"
    for k, band in enumerate(L2A.band_names):
        native = np.choose(first_valid, dn[band])
        expected = (native.astype(np.float64) * 0.0001 - 0.1).astype(np.float32)
        np.testing.assert_array_equal(scene.bands[..., k], expected, err_msg=band)
        recovered = np.round((scene.bands[..., k].astype(np.float64) + 0.1) / 0.0001).astype(np.int64)
        np.testing.assert_array_equal(recovered, native, err_msg=band)
    np.testing.assert_array_equal(scene.extra["SCL"], np.choose(first_valid, dn["SCL"]))
    if day == 0:  # the 20 m and 60 m pixels really are repeated 2 × 2 and 6 × 6 on the 10 m grid
        b01 = scene.band("B01")
        assert len(np.unique(b01)) < b01.size / 30


def test_saved_samples_hold_the_exact_reflectance(fake_es, make_es_source, es_cogs, tmp_path):
    store = Store(Store.sqlite_url(tmp_path))
    spec = CampaignSpec(AOI, 3, "forest", "", "earthsearch", L2A.id, START, END, None)
    try:
        session = LabellingSession.start(store, make_es_source(), spec, prefetch=False)
        session.index = 3  # a clear date with one item
        pixels = [(0, 0), (17, 40), (101, 101)]
        for pixel in pixels:
            session.toggle(pixel)
        session.save_and_next()
        samples = store.samples().sort_values(["row", "col"])
    finally:
        store.close()
    item = next(i for i in fake_es.items if i.time.date().isoformat() == DAYS[3])
    for band in L2A.band_names:
        dn = s2_cogs.expected_dn(es_cogs[0], item, band, AOI)
        expected = [np.float32(dn[r, c] * 0.0001 - 0.1) for r, c in pixels]
        assert samples[band].astype(np.float32).tolist() == expected, band
    assert samples["B10"].isna().all()
    row = samples.iloc[0]
    assert (row["source"], row["collection"], row["tile_id"]) == ("earthsearch", L2A.id, "33TVM")
    assert (row["processing_baseline"], bool(row["harmonised"])) == ("05.00", True)
    assert row["acquisition_id"] == item.id


def test_area_outside_the_data_gives_invalid_pixels_not_an_error(fake_es, make_es_source):
    # In the 600 m no-data border of the files (inside the items' footprint) and half beyond it.
    west, _ = s2_cogs.ORIGIN
    aoi = s2_cogs.aoi_in_files(east=(300, 900), south=(1500, 900))
    source = make_es_source()
    acquisition = source.acquisitions(aoi, START, END)[3]
    scene = source.scene(aoi, acquisition)
    x, _ = aoi.pixel_to_utm(0, np.arange(aoi.cols))
    has_data = x > west + 600
    assert 0 < has_data.mean() < 1
    np.testing.assert_array_equal(scene.valid, np.broadcast_to(has_data, aoi.shape))
    assert (scene.extra["SCL"][:, ~has_data] == 0).all()


# --- requests --------------------------------------------------------------------------------


def test_requests_per_image_and_none_on_a_revisit(fake_es, make_es_source, tmp_path):
    source = make_es_source()
    acquisition = listed(source)[1]  # one item: 13 files
    fake_es.clear()
    cache = SceneCache(tmp_path / "cache")
    SceneLoader(source, AOI, cache).get(acquisition)
    per_file = cog_requests(fake_es)
    assert set(per_file) == {*L2A.band_names, "SCL"}
    assert [r for r in fake_es.counted("/cogs") if r.method != "GET"] == [], (
        "no HEAD: size from Content-Range"
    )
    # 10 m: the header GET (which also gives the size), then one GET per tile row the window
    # touches (tiles of a row merged into one range; this area spans two rows of 256-px tiles).
    # The fake's 20 m and 60 m files are smaller than the header read: one GET.
    assert {b: per_file[b] for b in TEN_M} == dict.fromkeys(TEN_M, 3)
    assert {n: c for n, c in per_file.items() if n not in TEN_M} == dict.fromkeys(set(per_file) - TEN_M, 1)
    first = {r.path: r.range for r in reversed(fake_es.counted("/cogs"))}
    assert set(first.values()) == {"bytes=0-65535"}, "each file's first request is the header GET"
    assert not [r for r in fake_es.counted("/cogs") if r.status not in (200, 206)]
    assert not [r for r in fake_es.counted("/cogs") if r.method == "GET" and r.range is None]

    fake_es.clear()
    revisit = SceneLoader(make_es_source(), AOI, cache).get(acquisition)  # another session, same cache
    assert fake_es.requests == []
    assert revisit.extra["SCL"].dtype == np.uint8 and revisit.valid.all()


def test_area_inside_one_tile_row_costs_two_requests_per_10m_file(fake_es, make_es_source):
    """Rows 300-402 of the 10 m files: one row of 256-px tiles, two tiles of it, merged."""
    aoi = s2_cogs.aoi_in_files(east=(1990, 3000), south=(4010, 3010))
    source = make_es_source()
    acquisition = source.acquisitions(aoi, START, END)[1]
    fake_es.clear()
    scene = source.scene(aoi, acquisition)
    assert scene.valid.all()
    per_file = cog_requests(fake_es)
    assert {b: per_file[b] for b in TEN_M} == dict.fromkeys(TEN_M, 2)
    assert sum(per_file.values()) == 4 * 2 + 9 * 1


# --- faults ----------------------------------------------------------------------------------

SEARCH_FAULTS = [
    # (fault on /search, error, retryable, words the user must see, POSTs made)
    ({"status": 500}, SearchUnavailableError, True, "press Retry in a minute", 3),
    ({"status": 503, "times": 2}, None, None, None, 4 + 2),  # retried and recovered
    ({"status": 429}, SearchUnavailableError, True, "busy or failing (HTTP 429)", 3),
    ({"status": 400}, SearchRejectedError, False, "refused to list acquisitions (HTTP 400", 1),
    ({"delay": 3.0}, SearchUnavailableError, True, "did not answer in time", 3),
]


@pytest.mark.parametrize(("fault", "error", "retryable", "words", "posts"), SEARCH_FAULTS)
def test_search_faults(fake_es, make_es_source, fault, error, retryable, words, posts):
    fake_es.fault("/search", **fault)
    source = make_es_source(timeout=1.0)
    if error is None:
        assert len(listed(source)) == 5
    else:
        with pytest.raises(error) as caught:
            listed(source)
        assert caught.value.retryable is retryable
        assert words in str(caught.value)
    assert len([a for a in fake_es.arrivals if a[1] == "/search"]) == posts


ASSET_FAULTS = [
    # (fault on the B04 file, error, retryable, words the user must see, most requests to B04)
    ({"status": 403}, AssetForbiddenError, False, "B04 file of this date (B04.tif) answered HTTP 403", 1),
    ({"status": 404}, AssetForbiddenError, False, "answered HTTP 404: it is not available. Skip", 1),
    (
        {"status": 503},
        AssetUnavailableError,
        True,
        "could not be fetched (S3 said: Please reduce your request rate.); press Retry",
        3,
    ),
    # GDAL reads a failed multi-tile read again tile by tile: header, 2 + 4 tile reads.
    ({"truncate": 0.3}, CorruptAssetError, True, "arrived truncated or corrupt; press Retry", 8),
    ({"corrupt": 0.3}, CorruptAssetError, True, "arrived truncated or corrupt", 8),
]


@pytest.mark.parametrize(("fault", "error", "retryable", "words", "most"), ASSET_FAULTS)
def test_asset_faults_then_retry(fake_es, make_es_source, fault, error, retryable, words, most):
    source = make_es_source()
    acquisition = listed(source)[1]
    rule = fake_es.fault("/B04.tif", **fault)
    with pytest.raises(error) as caught:
        source.scene(AOI, acquisition)
    assert caught.value.retryable is retryable
    assert words in str(caught.value)
    assert 1 <= len([a for a in fake_es.arrivals if a[1].endswith("/B04.tif")]) <= most, "no retry storm"
    fake_es.faults.remove(rule)  # the file is fine again: Retry fetches it anew
    assert source.scene(AOI, acquisition).valid.all()


def test_item_without_the_expected_assets(fake_es, make_es_source):
    fake_es.drop_assets = {"rededge2", "scl"}
    source = make_es_source()
    acquisition = listed(source)[1]
    with pytest.raises(MissingAssetsError) as caught:
        source.scene(AOI, acquisition)
    assert caught.value.retryable is False
    assert "lacks the files of B06, SCL" in str(caught.value) and "Skip it" in str(caught.value)
    assert fake_es.counted("/cogs") == []


def test_no_connection_says_so(make_es_source):
    source = EarthSearchSource("http://127.0.0.1:9", retries=1, backoff=0.01, timeout=1.0)
    result = source.test_connection()
    assert result.status == "unreachable"
    assert "Could not reach Earth Search at http://127.0.0.1:9" in result.message
    assert "internet connection" in result.message
    with pytest.raises(SearchUnavailableError, match="internet connection"):
        listed(source)


def test_scene_after_a_restart_finds_its_items_by_id(fake_es, make_es_source):
    acquisition = listed(make_es_source())[0]
    fresh = make_es_source()  # a new process: the listing is not in memory
    fake_es.clear()
    scene = fresh.scene(AOI, acquisition)
    assert scene.valid.all()
    assert [(r.method, r.path) for r in fake_es.requests if not r.path.startswith("/cogs")] == [
        ("GET", "/"),
        ("POST", "/search"),
        ("POST", "/search"),
    ]


# --- another UTM zone ------------------------------------------------------------------------


def test_pixels_in_another_zone_take_the_native_pixel_their_centre_lies_in():
    from affine import Affine
    from pyproj import Transformer

    aoi = AreaOfInterest(18.001, 45.80, 18.012, 45.81)  # zone 34 grid (centre east of 18°E)
    assert aoi.epsg == 32634
    transform = Affine(20, 0, 699960, 0, -20, 5100000)  # a zone 33 tile's 20 m grid
    rows, cols = native_pixels(aoi, 32633, transform)
    x, y = aoi.pixel_to_utm(*np.indices(aoi.shape))
    x33, y33 = Transformer.from_crs(32634, 32633, always_xy=True).transform(x, y)
    left, top = 699960 + cols * 20, 5100000 - rows * 20
    assert ((left <= x33) & (x33 < left + 20) & (top - 20 < y33) & (y33 <= top)).all()
