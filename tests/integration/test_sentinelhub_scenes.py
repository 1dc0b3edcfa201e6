"""Scenes from the Process API: one request per image, cached on disk, prefetched, exact values.

The real sentinelhub-py client talks HTTP to the local fake (``tests/fakes``)."""

from __future__ import annotations

import json
import time
from datetime import date

import numpy as np
import pytest

from labeller.aoi import AreaOfInterest
from labeller.bands import L1C, L2A
from labeller.campaign import CampaignSpec
from labeller.labelling import LabellingSession
from labeller.scene_cache import SceneCache
from labeller.scenes import Acquisition
from labeller.sources.demo import DemoSource
from labeller.sources.sentinelhub import evalscript, output_ids
from labeller.store import Store
from tests.conftest import SHARED_DATA
from tests.fakes.sentinelhub_server import RealScene

AOI = AreaOfInterest(10.0, 46.0, 10.008, 46.006)
START, END = date(2020, 6, 1), date(2020, 7, 31)
REAL_INSIDE = AreaOfInterest(14.5530, 45.8670, 14.5620, 45.8740)
"""A box inside the real sample's extent: every pixel has real data."""
REAL_PAGE_DEFAULT = AreaOfInterest(14.5514, 45.8659, 14.5642, 45.8750)
"""The label page's default box: its grid sticks out of the real extent at two edges."""


def spec(aoi=AOI, collection=L1C.id, start=START, end=END, source="sentinelhub") -> CampaignSpec:
    return CampaignSpec(
        aoi=aoi,
        label_value=1,
        label_name="test",
        notes="",
        source=source,
        collection=collection,
        start=start,
        end=end,
    )


@pytest.fixture
def store(tmp_path):
    return Store(Store.sqlite_url(tmp_path / "labels"))


@pytest.fixture
def cache(tmp_path):
    return SceneCache(tmp_path / "scenes", limit_mb=50)


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_one_request_per_image_viewed_none_on_revisit_or_reload(fake_sh, make_sh_source, store, cache):
    source = make_sh_source()
    session = LabellingSession.start(store, source, spec(), cache=cache, prefetch=False)
    assert len(session.acquisitions) >= 4
    catalog_pages = fake_sh.counts["catalog"]

    for expected in (1, 2, 3):
        session.scene()
        assert fake_sh.counts["process"] == expected
        session.skip()
    session.back()
    session.back()
    session.scene()
    assert fake_sh.counts["process"] == 3, "a revisit is served from memory or disk"

    reloaded = LabellingSession(
        store, make_sh_source(), session.campaign, session.acquisitions, cache=cache, prefetch=False
    )
    for acquisition in session.acquisitions[:3]:
        reloaded.scene(acquisition)
    assert fake_sh.counts["process"] == 3, "a new loader (a page reload) reads the disk cache"
    assert fake_sh.counts["catalog"] == catalog_pages, "viewing images lists nothing again"


def test_prefetch_makes_the_next_two_images_ready(fake_sh, make_sh_source, store, cache):
    session = LabellingSession.start(store, make_sh_source(), spec(), cache=cache, prefetch=True)
    nxt, after = session.acquisitions[1:3]
    wait_until(lambda: session.loader.is_ready(nxt) and session.loader.is_ready(after))
    session.scene()
    assert fake_sh.counts["process"] == 3

    session.save_and_next()
    assert session.loader.is_ready(session.current)
    session.scene()  # shown at once, no request
    wait_until(lambda: session.loader.is_ready(session.acquisitions[3]))
    assert fake_sh.counts["process"] == 4


def test_level_1c_scene_is_the_demo_scene_bit_for_bit(fake_sh, make_sh_source):
    source = make_sh_source()
    acquisition = source.acquisitions(AOI, START, END)[0]
    scene = source.scene(AOI, acquisition)

    demo = DemoSource()
    twin = next(a for a in demo.acquisitions(AOI, START, END) if a.time.date() == acquisition.time.date())
    expected = demo.scene(AOI, twin)
    assert scene.band_names == L1C.band_names and len(scene.band_names) == 13
    assert scene.bands.dtype == np.float32 and scene.bands.shape == (*AOI.shape, 13)
    np.testing.assert_array_equal(scene.bands, expected.bands)
    np.testing.assert_array_equal(scene.valid, expected.valid)
    assert scene.sun_zenith == pytest.approx(expected.sun_zenith, abs=0.01)
    assert scene.sun_azimuth == pytest.approx(expected.sun_azimuth, abs=0.01)
    # harmonizeValues is requested, but a 2020 tile (baseline before 04.00) has no offset to remove.
    assert acquisition.processing_baseline < "04.00" and scene.harmonised is False and scene.extra == {}
    assert fake_sh.counts["process"] == 1


def test_level_2a_scene_has_12_bands_and_scl(fake_sh, make_sh_source):
    source = make_sh_source(L2A)
    acquisition = source.acquisitions(AOI, START, END)[0]
    scene = source.scene(AOI, acquisition)
    assert (
        scene.band_names == L2A.band_names and len(scene.band_names) == 12 and "B10" not in scene.band_names
    )
    assert scene.bands.shape == (*AOI.shape, 12)
    scl = scene.extra["SCL"]
    assert scl.dtype == np.uint8 and scl.shape == AOI.shape
    assert set(np.unique(scl[scene.valid])) <= {3, 4, 5, 6, 9, 11} and not scl[~scene.valid].any()
    assert fake_sh.counts["process"] == 1


def test_one_request_carries_every_output_on_the_aoi_grid(fake_sh, make_sh_source):
    source = make_sh_source(L2A)
    acquisition = source.acquisitions(AOI, START, END)[0]
    source.scene(AOI, acquisition)

    body = fake_sh.bodies["process"][0]
    bounds = body["input"]["bounds"]
    assert bounds["properties"]["crs"].endswith(f"/EPSG/0/{AOI.epsg}")
    assert bounds["bbox"] == list(AOI.utm_bounds)
    assert (body["output"]["width"], body["output"]["height"]) == (AOI.cols, AOI.rows)
    data = body["input"]["data"][0]
    day = f"{acquisition.time:%Y-%m-%d}"
    assert data["type"] == "sentinel-2-l2a"
    assert data["dataFilter"]["timeRange"] == {"from": f"{day}T00:00:00Z", "to": f"{day}T23:59:59Z"}
    assert data["dataFilter"]["mosaickingOrder"] == "leastCC"
    assert data["processing"]["harmonizeValues"] is True
    assert [r["identifier"] for r in body["output"]["responses"]] == output_ids(L2A)
    assert body["evalscript"] == evalscript(L2A)


OUTPUTS = {
    L1C.id: [
        ("bands", (*AOI.shape, 13), np.float32),
        ("dataMask", AOI.shape, np.uint8),
        ("sunZenithAngles", AOI.shape, np.float32),
        ("sunAzimuthAngles", AOI.shape, np.float32),
    ],
    L2A.id: [
        ("bands", (*AOI.shape, 12), np.float32),
        ("dataMask", AOI.shape, np.uint8),
        ("sunZenithAngles", AOI.shape, np.float32),
        ("sunAzimuthAngles", AOI.shape, np.float32),
        ("SCL", AOI.shape, np.uint8),
    ],
}
"""What a scene needs from the Process API: output id, image shape, sample type."""


@pytest.mark.parametrize("collection", [L1C, L2A], ids=lambda c: c.id)
def test_the_request_declares_exactly_the_outputs_the_fake_answers(fake_sh, make_sh_source, collection):
    """The fake answers the outputs the request declares, by name, without reading the
    evalscript; so here the evalscript (sentinelhub-py's ``generate_evalscript``) is read as
    text: it must declare those same outputs, in that order, with the bands' units."""
    source = make_sh_source(collection)
    acquisition = source.acquisitions(AOI, START, END)[0]
    request = source.process_request(AOI, acquisition)
    expected = OUTPUTS[collection.id]

    declared = [r["identifier"] for r in request.payload["output"]["responses"]]
    assert declared == [oid for oid, _, _ in expected]
    answer = request.get_data()[0]
    assert list(answer) == [f"{oid}.tif" for oid, _, _ in expected]
    assert [(answer[f"{oid}.tif"].shape, answer[f"{oid}.tif"].dtype) for oid, _, _ in expected] == [
        (shape, np.dtype(kind)) for _, shape, kind in expected
    ]

    script = request.payload["evalscript"]
    sample_type = {np.float32: "FLOAT32", np.uint8: "UINT8"}
    declared_in_script = ", ".join(
        f'{{id: "{oid}", bands: {shape[2] if len(shape) == 3 else 1}, sampleType: "{sample_type[kind]}"}}'
        for oid, shape, kind in expected
    )
    assert f"output: [{declared_in_script}]" in script
    inputs = [*collection.band_names, *(oid for oid, _, _ in expected[1:])]
    units = ["REFLECTANCE"] * len(collection.band_names) + ["DN", "DEGREES", "DEGREES"]
    units += ["DN"] if collection.id == L2A.id else []
    assert f"bands: {json.dumps(inputs)}," in script and f"units: {json.dumps(units)}\n" in script


def test_saved_samples_record_source_collection_baseline_tile_and_sun(fake_sh, make_sh_source, store, cache):
    session = LabellingSession.start(
        store, make_sh_source(L2A), spec(collection=L2A.id), cache=cache, prefetch=False
    )
    rows, cols = np.nonzero(session.scene().valid)
    session.toggle((int(rows[0]), int(cols[0])))
    scene, acquisition = session.scene(), session.current
    session.save_and_next()

    sample = store.samples().iloc[0]
    assert sample["source"] == "sentinelhub" and sample["collection"] == "sentinel-2-l2a"
    assert sample["processing_baseline"] == acquisition.processing_baseline
    assert sample["tile_id"] == acquisition.tile_id and sample["harmonised"] == False  # noqa: E712 - 2020: no offset
    assert sample["sun_zenith"] == pytest.approx(scene.sun_zenith)
    assert sample["sun_azimuth"] == pytest.approx(scene.sun_azimuth)
    assert np.isnan(sample["B10"])
    assert np.float32(sample["B04"]) == scene.band("B04")[rows[0], cols[0]]


def test_an_image_without_valid_data_is_delivered_empty(fake_sh, make_sh_source):
    source = make_sh_source()
    nothing = Acquisition("S2_20150101", AOI_time := _utc(2015, 1, 1), 0.0)  # before the demo's first date
    scene = source.scene(AOI, nothing)
    assert scene.acquisition.time == AOI_time
    assert not scene.valid.any() and np.isnan(scene.sun_zenith)
    assert fake_sh.counts["process"] == 1


def _utc(*parts):
    from datetime import UTC, datetime

    return datetime(*parts, tzinfo=UTC)


# --- the real scene ---------------------------------------------------------------------------


@pytest.fixture
def real():
    if not SHARED_DATA.is_file():
        pytest.skip(
            f"real Sentinel-2 sample not found at {SHARED_DATA} (shared/ is not beside this checkout)"
        )
    return RealScene(SHARED_DATA)


def test_real_scene_values_arrive_exactly(real, fake_sh, make_sh_source):
    source = make_sh_source()
    acquisitions = source.acquisitions(REAL_INSIDE, date(2015, 7, 1), date(2015, 9, 30))
    assert [a.time for a in acquisitions] == real.times
    assert [a.cloud_cover for a in acquisitions] == [1.0, 75.0, 97.0, 2.0, 3.0]

    for index in (0, 3):
        scene = source.scene(REAL_INSIDE, acquisitions[index])
        assert scene.valid.all()
        expected, _ = real.values(REAL_INSIDE, index)
        np.testing.assert_array_equal(scene.bands, expected)
        # One pixel by hand: the real pixel holding the grid pixel's centre.
        x, y = REAL_INSIDE.pixel_to_utm(7, 11)
        minx, miny, maxx, maxy = real.bbox_utm
        col = int((x - minx) // ((maxx - minx) / real.cols))
        row = int((maxy - y) // ((maxy - miny) / real.rows))
        np.testing.assert_array_equal(scene.bands[7, 11], real.bands[index, row, col])


def test_partial_coverage_pixels_cannot_be_selected_or_saved(real, fake_sh, make_sh_source, store, cache):
    aoi = REAL_PAGE_DEFAULT
    session = LabellingSession.start(
        store,
        make_sh_source(),
        spec(aoi, start=date(2015, 7, 1), end=date(2015, 9, 30)),
        cache=cache,
        prefetch=False,
    )
    valid = session.scene().valid
    assert not valid.all() and valid.mean() > 0.95
    assert not valid[0].any(), "the grid's top row lies north of the real extent"
    invalid = tuple(int(v) for v in np.argwhere(~valid)[0])
    assert "has no data" in session.toggle(invalid)
    session.toggle((50, 50))
    session.save_and_next()
    assert store.count_samples() == 1


def test_a_single_output_comes_back_as_one_tiff(fake_sh):
    """The fake's TIFF answer, through sentinelhub-py's own ``get_data`` path: an output of any
    other name than a band's is every band of the collection, in order."""
    from sentinelhub import CRS, BBox, DataCollection, MimeType, SentinelHubRequest, SHConfig
    from sentinelhub.evalscript import generate_evalscript

    config = SHConfig(
        use_defaults=True,
        sh_client_id=fake_sh.client_id,
        sh_client_secret=fake_sh.client_secret,
        sh_base_url=fake_sh.url,
        sh_token_url=fake_sh.token_url,
    )
    collection = DataCollection.SENTINEL2_L1C.define_from("LABELLER_S2_L1C", service_url=None)
    demo = DemoSource()
    acquisition = demo.acquisitions(AOI, START, END)[0]
    request = SentinelHubRequest(
        evalscript=generate_evalscript(collection, merged_bands_output="default", prioritize_dn=False),
        input_data=[SentinelHubRequest.input_data(collection, time_interval=acquisition.time.date())],
        responses=[SentinelHubRequest.output_response("default", MimeType.TIFF)],
        bbox=BBox(AOI.utm_bounds, crs=CRS(AOI.epsg)),
        size=(AOI.cols, AOI.rows),
        config=config,
    )
    image = request.get_data()[0]
    assert image.dtype == np.float32 and image.shape == (*AOI.shape, 13)
    np.testing.assert_array_equal(image, demo.scene(AOI, acquisition).bands)
    assert fake_sh.counts == {"token": 1, "process": 1}
