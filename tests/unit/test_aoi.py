import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeller.aoi import MAX_SIDE_PX, AreaOfInterest, bbox_of_geojson, utm_epsg, validate_bbox
from labeller.errors import InvalidAOIError
from tests.fakes.grid import aoi_on_grid

LJUBLJANA = (14.5514, 45.8659, 14.5642, 45.8750)


def test_grid_of_a_known_box_is_snapped_to_60_m_and_sized_in_pixels():
    aoi = AreaOfInterest(*LJUBLJANA)
    assert aoi.epsg == 32633
    minx, miny, maxx, maxy = aoi.utm_bounds
    assert all(v % 60 == 0 for v in aoi.utm_bounds)
    assert aoi.shape == ((maxy - miny) / 10, (maxx - minx) / 10)
    assert 100 <= aoi.rows <= 110 and 100 <= aoi.cols <= 110  # about 1 km a side


@pytest.mark.parametrize(
    "lon, lat, epsg",
    [(14.5, 45.9, 32633), (-0.1, 51.5, 32630), (-70.6, -33.4, 32719), (179.9, 10, 32660), (-180, 0, 32601)],
)
def test_utm_zone_of_centre(lon, lat, epsg):
    assert utm_epsg(lon, lat) == epsg


@pytest.mark.parametrize(
    "bbox, words",
    [
        ((10, 95, 10.01, 95.01), "latitude"),
        ((190, 45, 190.01, 45.01), "longitude"),
        ((10.01, 45, 10, 45.01), "min lon"),
        ((10, 45.01, 10.01, 45), "min lat"),
        ((10, 45, 10, 45.01), "zero area"),
        ((10, 45, 10.000001, 45.01), "zero area"),
        ((179.99, 45, -179.99, 45.01), "antimeridian"),
        ((float("nan"), 45, 10, 45.01), "finite"),
        ((None, 45, 10, 45.01), "finite"),
        ((10, 45, 10.5, 45.5), "smaller box"),
    ],
)
def test_bad_boxes_are_refused_with_what_to_change(bbox, words):
    with pytest.raises(InvalidAOIError, match=words):
        AreaOfInterest(*bbox)


@settings(max_examples=150, deadline=None)
@given(
    lon=st.floats(-179.9, 179.9),
    lat=st.floats(-83.9, 83.9),
    width=st.floats(-0.05, 0.05),
    height=st.floats(-0.05, 0.05),
)
def test_any_box_is_either_valid_with_a_bounded_grid_or_refused(lon, lat, width, height):
    bbox = (lon, lat, lon + width, lat + height)
    try:
        aoi = AreaOfInterest(*bbox)
    except InvalidAOIError as error:
        assert str(error)  # a message, always
        assert (
            bbox[2] - bbox[0] < 1e-5
            or bbox[3] - bbox[1] < 1e-5
            or not -180 <= bbox[2] <= 180
            or not -84 <= bbox[3] <= 84
            or max(_side_px(bbox)) > MAX_SIDE_PX - 12
        )
        return
    assert bbox[2] - bbox[0] >= 1e-5 and bbox[3] - bbox[1] >= 1e-5
    rows, cols = aoi.shape
    assert 1 <= rows <= MAX_SIDE_PX and 1 <= cols <= MAX_SIDE_PX
    # The grid covers the whole box: every corner (nudged just inside) falls on a pixel of the grid.
    dx, dy = min(1e-7, (bbox[2] - bbox[0]) / 4), min(1e-7, (bbox[3] - bbox[1]) / 4)
    w, s, e, n = bbox[0] + dx, bbox[1] + dy, bbox[2] - dx, bbox[3] - dy
    for cx, cy in ((w, s), (e, n), (w, n), (e, s)):
        row, col = aoi.lonlat_to_pixel(cx, cy)
        assert 0 <= row < rows and 0 <= col < cols


def _side_px(bbox):
    """Rough size in 10 m pixels, independent of the implementation."""
    lat = math.radians((bbox[1] + bbox[3]) / 2)
    return (abs(bbox[2] - bbox[0]) * 111_320 * math.cos(lat) / 10, abs(bbox[3] - bbox[1]) * 110_574 / 10)


@settings(max_examples=60, deadline=None)
@given(lon=st.floats(-179, 179), lat=st.floats(-80, 80), data=st.data())
def test_pixel_lonlat_utm_round_trips(lon, lat, data):
    aoi = AreaOfInterest(lon, lat, lon + 0.01, lat + 0.01)
    rows, cols = aoi.shape
    row = data.draw(st.integers(0, rows - 1))
    col = data.draw(st.integers(0, cols - 1))
    x, y = aoi.pixel_to_utm(row, col)
    assert tuple(map(int, aoi.utm_to_pixel(x, y))) == (row, col)
    plon, plat = aoi.pixel_to_lonlat(row, col)
    assert tuple(map(int, aoi.lonlat_to_pixel(plon, plat))) == (row, col)
    # Neighbouring pixel centres lie 10 m apart on the ground.
    x2, _ = aoi.pixel_to_utm(row, col + 1)
    assert x2 - x == pytest.approx(10.0)


def test_row_zero_is_north_and_col_zero_is_west():
    aoi = AreaOfInterest(*LJUBLJANA)
    lon0, lat0 = aoi.pixel_to_lonlat(0, 0)
    lon1, lat1 = aoi.pixel_to_lonlat(aoi.rows - 1, aoi.cols - 1)
    assert lat0 > lat1 and lon0 < lon1
    lons, lats = aoi.grid_lonlat()
    assert lons.shape == lats.shape == aoi.shape
    assert np.all(np.diff(lats[:, 0]) < 0)


def test_drawn_rectangle_gives_its_bbox():
    feature = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[14.55, 45.86], [14.55, 45.87], [14.56, 45.87], [14.56, 45.86], [14.55, 45.86]]],
        },
    }
    assert bbox_of_geojson(feature) == (14.55, 45.86, 14.56, 45.87)
    with pytest.raises(InvalidAOIError, match="draw a rectangle again"):
        bbox_of_geojson({"geometry": {"coordinates": []}})


def test_validate_accepts_a_good_box():
    assert validate_bbox(*LJUBLJANA) is None


def test_the_fakes_rebuild_an_aoi_with_the_same_grid_from_a_request():
    aoi = AreaOfInterest(*LJUBLJANA)
    again = aoi_on_grid(aoi.epsg, aoi.utm_bounds)
    assert again.utm_bounds == aoi.utm_bounds and again.shape == aoi.shape and again.epsg == aoi.epsg
    assert np.allclose(again.pixel_to_lonlat(3, 4), aoi.pixel_to_lonlat(3, 4))


@pytest.mark.parametrize("span", [0.001, 0.012, 0.1, 2.0])
def test_map_zoom_shows_the_box_at_a_useful_size(span):
    from labeller.aoi import map_zoom

    zoom = map_zoom((10.0, 46.0, 10.0 + span, 46.0 + span / 2))
    shown_px = span / 360 * 256 * 2**zoom
    assert 125 <= shown_px <= 250 or zoom == 18


def test_typed_boxes_are_parsed_naming_the_bad_box() -> None:
    from labeller.aoi import BBOX_FIELDS, parse_bbox

    assert parse_bbox(["14.5514", " 45.8659 ", "14.5642", "45.875"]) == (14.5514, 45.8659, 14.5642, 45.875)
    assert parse_bbox([14.5, 45, "−14", "1e-3"]) == (14.5, 45.0, -14.0, 0.001)  # numbers, a typographic minus
    cases = {
        "abc": "'abc' is not a number",
        "nan": "nan is not a finite number",
        "-inf": "-inf is not a finite number",
        "1e309": "1e309 is not a finite number",
        "": "is empty",
        None: "is empty",
        "45,87": "Use a point, not a comma",
    }
    for position, name in enumerate(BBOX_FIELDS):
        for bad, words in cases.items():
            values = ["14.5514", "45.8659", "14.5642", "45.875"]
            values[position] = bad
            with pytest.raises(InvalidAOIError) as refused:
                parse_bbox(values)
            assert str(refused.value).startswith(name) and words in str(refused.value), (bad, refused.value)


def test_box_text_reads_back_as_the_same_number() -> None:
    from labeller.aoi import format_degrees, parse_bbox

    bbox = (14.551412345678901, -45.0, 0.1 + 0.2, -0.0)
    assert parse_bbox(map(format_degrees, bbox)) == bbox  # a campaign put back in the form resumes
    assert [format_degrees(v) for v in (14.5514, 45.0, -0.0, 1e-05)] == ["14.5514", "45", "0", "1e-05"]


def test_boxes_outside_sentinel2_coverage_get_a_warning() -> None:
    from labeller.aoi import coverage_warning

    assert coverage_warning(AreaOfInterest(10.0, -80.004, 10.02, -80.0)) is not None
    assert "56°S to 84°N" in coverage_warning(AreaOfInterest(10.0, -56.01, 10.01, -56.005))
    assert coverage_warning(AreaOfInterest(10.0, -56.001, 10.01, -55.995)) is None  # touches the edge
    assert coverage_warning(AreaOfInterest(14.5514, 45.8659, 14.5642, 45.875)) is None
    assert coverage_warning(AreaOfInterest(10.0, 83.99, 10.05, 84.0)) is None
