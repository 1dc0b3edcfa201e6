"""Listing acquisitions from the Catalog API: paging, same-day merging, the cloud filter, errors.

The real sentinelhub-py client talks HTTP to the local fake (``tests/fakes``)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from labeller.aoi import AreaOfInterest
from labeller.bands import L1C, L2A
from labeller.errors import NoAcquisitionsError
from labeller.sources.sentinelhub import (
    cloud_filter,
    merge_features,
    parse_time,
    processing_baseline,
    tile_id,
)

AOI = AreaOfInterest(10.0, 46.0, 10.008, 46.006)
START, END = date(2020, 6, 1), date(2020, 8, 31)


def listed(fake, collection=L1C.id, aoi=AOI, start=START, end=END):
    return fake.features(collection, aoi.bbox, *_day_bounds(start, end))


def _day_bounds(start, end):
    return datetime(start.year, start.month, start.day, tzinfo=UTC), datetime(
        end.year, end.month, end.day, 23, 59, 59, tzinfo=UTC
    )


def test_every_catalog_page_is_read_once_with_one_token(fake_sh, make_sh_source):
    features = listed(fake_sh)
    source = make_sh_source()

    acquisitions = source.acquisitions(AOI, START, END)

    pages = math.ceil(len(features) / fake_sh.max_page)
    assert pages >= 3
    assert fake_sh.counts["catalog"] == pages
    assert fake_sh.counts["token"] == 1
    assert [body.get("next") for body in fake_sh.bodies["catalog"]] == [None, *range(5, 5 * pages, 5)]
    first = fake_sh.bodies["catalog"][0]
    assert first["collections"] == ["sentinel-2-l1c"] and first["bbox"] == pytest.approx(list(AOI.bbox))
    assert first["datetime"] == "2020-06-01T00:00:00Z/2020-08-31T23:59:59Z"
    assert len(acquisitions) == len({parse_time(f["properties"]["datetime"]).date() for f in features})


def test_tiles_of_one_day_merge_into_one_acquisition(fake_sh, make_sh_source):
    features = listed(fake_sh)
    acquisitions = make_sh_source().acquisitions(AOI, START, END)

    days = [a.time.date() for a in acquisitions]
    assert days == sorted(set(days))
    merged = [a for a in acquisitions if "," in (a.tile_id or "")]
    assert merged, "the fake lists two tiles on every other date"
    for acquisition in acquisitions:
        tiles = [
            f for f in features if parse_time(f["properties"]["datetime"]).date() == acquisition.time.date()
        ]
        assert acquisition.time == min(parse_time(f["properties"]["datetime"]) for f in tiles)
        assert acquisition.cloud_cover == max(f["properties"]["eo:cloud_cover"] for f in tiles)
        assert acquisition.tile_id == ",".join(sorted(tile_id(f) for f in tiles))
        assert acquisition.processing_baseline in ("03.01", "05.10")
        assert acquisition.id == f"S2_{acquisition.time:%Y%m%d}"
        assert acquisition.time.tzinfo is not None


def test_cloud_limit_is_sent_as_a_filter_and_applied(fake_sh, make_sh_source):
    limit = 10.0
    features = [f for f in listed(fake_sh) if f["properties"]["eo:cloud_cover"] <= limit]
    assert 0 < len(features) < len(listed(fake_sh))

    acquisitions = make_sh_source().acquisitions(AOI, START, END, max_cloud=limit)

    assert fake_sh.bodies["catalog"][0]["filter"] == "eo:cloud_cover <= 10"
    assert fake_sh.bodies["catalog"][0]["filter-lang"] == "cql2-text"
    assert {a.time.date() for a in acquisitions} == {
        parse_time(f["properties"]["datetime"]).date() for f in features
    }
    assert all(a.cloud_cover <= limit for a in acquisitions)
    assert fake_sh.counts["catalog"] == math.ceil(len(features) / fake_sh.max_page)


def test_empty_catalog_says_what_to_change(fake_sh, make_sh_source):
    with pytest.raises(NoAcquisitionsError, match="No acquisitions for this area, period and cloud limit"):
        make_sh_source().acquisitions(AOI, date(2015, 1, 1), date(2015, 2, 1))
    assert fake_sh.counts["catalog"] == 1


def test_listing_reports_progress(fake_sh, make_sh_source):
    seen = []
    make_sh_source().acquisitions(AOI, START, END, progress=lambda f, text: seen.append((f, text)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert "Sentinel Hub catalog" in seen[0][1] and "acquisitions" in seen[-1][1]


def test_level_2a_lists_its_own_collection(fake_sh, make_sh_source):
    acquisitions = make_sh_source(L2A).acquisitions(AOI, START, END)
    assert fake_sh.bodies["catalog"][0]["collections"] == ["sentinel-2-l2a"]
    assert len(acquisitions) == 18  # one every 5 days, 2020-06-05 to 2020-08-29
    assert [(a.id, a.tile_id) for a in acquisitions[:4]] == [
        ("S2_20200605", "T32TBZ"),
        ("S2_20200610", "T32TBA,T32TBZ"),  # two tiles of one day: merged
        ("S2_20200615", "T32TBZ"),
        ("S2_20200620", "T32TBA,T32TBZ"),
    ]
    assert {a.tile_id for a in acquisitions} == {"T32TBZ", "T32TBA,T32TBZ"}


# --- metadata parsing, on feature shapes the real services return --------------------------------


@pytest.mark.parametrize(
    ("feature", "baseline", "tile"),
    [
        # Sentinel Hub catalog: no baseline or tile property; both are in the product id.
        (
            {"id": "S2B_MSIL2A_20201229T101329_N0214_R022_T33TUK_20201229T115442", "properties": {}},
            "02.14",
            "T33TUK",
        ),
        # CDSE: ids end with .SAFE; reprocessed products carry a later baseline.
        (
            {"id": "S2A_MSIL2A_20220709T105041_N0509_R051_T31UES_20221214T145059.SAFE", "properties": {}},
            "05.09",
            "T31UES",
        ),
        # STAC-style properties, where a catalog has them, win.
        (
            {"id": "x", "properties": {"s2:processing_baseline": "05.10", "s2:mgrs_tile": "32TNS"}},
            "05.10",
            "T32TNS",
        ),
        (
            {"id": "x", "properties": {"processing:version": "05.11", "grid:code": "MGRS-20QRF"}},
            "05.11",
            "T20QRF",
        ),
        ({"id": "unparseable", "properties": {}}, None, None),
    ],
)
def test_baseline_and_tile_come_from_properties_or_the_product_id(feature, baseline, tile):
    assert processing_baseline(feature) == baseline
    assert tile_id(feature) == tile


def test_merge_keeps_every_tile_and_baseline_of_a_day():
    def feature(fid, when, cloud):
        return {"id": fid, "properties": {"datetime": when, "eo:cloud_cover": cloud}}

    merged = merge_features(
        [
            feature(
                "S2A_MSIL1C_20220709T105041_N0400_R051_T31UFS_20220709T1", "2022-07-09T10:57:04.507Z", 12.5
            ),
            feature(
                "S2A_MSIL1C_20220709T105041_N0509_R051_T31UES_20221214T1", "2022-07-09T10:57:08.699Z", 3.0
            ),
            feature("S2A_MSIL1C_20220704T105041_N0400_R051_T31UES_20220704T1", "2022-07-04T10:57:08Z", 40.0),
        ]
    )
    assert [a.id for a in merged] == ["S2_20220704", "S2_20220709"]
    day = merged[1]
    assert day.tile_id == "T31UES,T31UFS" and day.processing_baseline == "04.00/05.09"
    assert day.cloud_cover == 12.5 and day.time == datetime(2022, 7, 9, 10, 57, 4, 507000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("limit", "text"),
    [
        (None, None),
        (100, None),
        (30, "eo:cloud_cover <= 30"),
        (12.5, "eo:cloud_cover <= 12.5"),
        (0, "eo:cloud_cover <= 0"),
    ],
)
def test_cloud_filter_text(limit, text):
    assert cloud_filter(limit) == text
