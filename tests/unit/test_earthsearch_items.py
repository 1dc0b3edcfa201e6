"""Earth Search item JSON → what a read needs; same-day merging. Pure, no network."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from labeller.bands import L2A
from labeller.sources.earthsearch.errors import MissingAssetsError, read_error, search_error
from labeller.sources.earthsearch.items import ASSET_OF_BAND, parse_item
from labeller.sources.earthsearch.listing import merge_by_day


def item(id="S2B_T33TVM_20230815T100559_L2A", when="2023-08-15T10:05:59.123Z", baseline="05.09", offset=-0.1):
    raster = {"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": offset}
    assets = {
        key: {"href": f"https://x/{key}.tif", "raster:bands": [raster]} for key in ASSET_OF_BAND.values()
    }
    assets["scl"] = {"href": "https://x/SCL.tif", "raster:bands": [{"nodata": 0, "data_type": "uint8"}]}
    return {
        "id": id,
        "properties": {
            "datetime": when,
            "eo:cloud_cover": 12.5,
            "s2:processing_baseline": baseline,
            "mgrs:utm_zone": 33,
            "mgrs:latitude_band": "T",
            "mgrs:grid_square": "VM",
            "view:sun_elevation": 55.0,
            "view:sun_azimuth": 160.0,
        },
        "assets": assets,
    }


def test_parse_item_reads_scale_offset_tile_and_sun():
    info = parse_item(item())
    assert info.time == datetime(2023, 8, 15, 10, 5, 59, 123000, tzinfo=UTC)
    assert (info.tile_id, info.processing_baseline, info.cloud_cover) == ("33TVM", "05.09", 12.5)
    assert (info.sun_zenith, info.sun_azimuth) == (35.0, 160.0)
    assert list(info.bands) == list(L2A.band_names) and "B10" not in info.bands
    assert (info.bands["B8A"].href, info.bands["B8A"].scale, info.bands["B8A"].offset) == (
        "https://x/nir08.tif",
        0.0001,
        -0.1,
    )
    assert info.scl.href == "https://x/SCL.tif" and info.missing == ()
    assert info.harmonised is True
    info.check_complete()


@pytest.mark.parametrize(
    ("baseline", "offset", "harmonised"),
    [("05.09", -0.1, True), ("05.09", 0.0, False), ("03.01", 0.0, True), ("03.01", -0.1, False)],
)
def test_harmonised_only_when_the_offset_matches_the_baseline(baseline, offset, harmonised):
    assert parse_item(item(baseline=baseline, offset=offset)).harmonised is harmonised


def test_missing_assets_are_named():
    data = copy.deepcopy(item())
    del data["assets"]["rededge2"], data["assets"]["scl"]
    info = parse_item(data)
    assert info.missing == ("B06", "SCL")
    with pytest.raises(
        MissingAssetsError, match=r"lacks the files of B06, SCL, so this date cannot be shown; Skip it\."
    ):
        info.check_complete()


def test_same_day_items_merge_into_one_acquisition():
    a = parse_item(item("S2B_T33TVM_20230815_L2A", "2023-08-15T10:05:59Z"))
    b = parse_item(item("S2B_T33TUM_20230815_L2A", "2023-08-15T10:05:49Z"))
    c = parse_item(item("S2A_T33TVM_20230820_L2A", "2023-08-20T10:05:59Z", baseline="05.10"))
    merged = merge_by_day([c, a, b, a])
    assert [acq.id for acq, _ in merged] == [
        "S2B_T33TUM_20230815_L2A+S2B_T33TVM_20230815_L2A",
        "S2A_T33TVM_20230820_L2A",
    ]
    first, items = merged[0]
    assert [i.id for i in items] == ["S2B_T33TUM_20230815_L2A", "S2B_T33TVM_20230815_L2A"]
    assert first.time == datetime(2023, 8, 15, 10, 5, 49, tzinfo=UTC)
    assert (first.tile_id, first.processing_baseline) == ("33TVM", "05.09")
    assert merged[1][0].processing_baseline == "05.10"


def test_error_messages_say_what_to_do():
    class Api(Exception):
        status_code = 502

    assert search_error(Api("bad gateway"), "https://es", "list acquisitions").retryable is True
    assert "press Retry in a minute" in str(search_error(Api("x"), "https://es", "list acquisitions"))
    assert "internet connection" in str(search_error(OSError("Name or service not known"), "https://es", "x"))
    forbidden = read_error(OSError("HTTP response code: 403"), "B04", "https://x/y/B04.tif")
    assert (forbidden.retryable, str(forbidden)) == (
        False,
        "The B04 file of this date (B04.tif) answered HTTP 403: it is not available. Skip this date.",
    )
    assert read_error(OSError("TIFFReadEncodedTile() failed"), "B04", "https://x/B04.tif").retryable is True
