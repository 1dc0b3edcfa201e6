"""The offline demo source: deterministic, seamless, seasonal, cloudy and physically plausible.

Test sites are found by a deterministic scan of candidate AOIs and dates, not hard-coded,
so that tuning the synthetic world does not silently empty a test.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from labeller.aoi import MAX_SIDE_PX, AreaOfInterest
from labeller.bands import L1C
from labeller.errors import NoAcquisitionsError, SourceError
from labeller.scenes import Acquisition, Scene
from labeller.sources.demo import DemoSource, LandCover
from labeller.sources.demo.cells import EPOCH
from labeller.sources.demo.land import land
from labeller.sources.demo.listing import MAX_SUN_ZENITH
from labeller.sources.demo.sun import julian_day, solar_angles

SRC = DemoSource()
BAND = {name: i for i, name in enumerate(L1C.band_names)}


def box(lon: float, lat: float, px: int = 60) -> AreaOfInterest:
    """An AOI of about px × px 10 m pixels (at most what an AOI may have) centred on (lon, lat)."""
    half_m = min(px, MAX_SIDE_PX - 8) * 10 / 2 - 35  # leave room for the 60 m snapping
    dlat = half_m / 110574.0
    dlon = half_m / (111320.0 * math.cos(math.radians(lat)))
    return AreaOfInterest(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def centre_lon(aoi: AreaOfInterest) -> float:
    return (aoi.min_lon + aoi.max_lon) / 2


def local_solar(aoi: AreaOfInterest, acq: Acquisition) -> datetime:
    """Local mean solar time of an acquisition at the AOI centre."""
    return acq.time + timedelta(hours=centre_lon(aoi) / 15.0)


def ndvi(x: np.ndarray) -> np.ndarray:
    return (x[..., BAND["B08"]] - x[..., BAND["B04"]]) / (x[..., BAND["B08"]] + x[..., BAND["B04"]])


def ndsi(x: np.ndarray) -> np.ndarray:
    return (x[..., BAND["B03"]] - x[..., BAND["B11"]]) / (x[..., BAND["B03"]] + x[..., BAND["B11"]])


def first(candidates: Iterable, found: Callable):
    """The first non-None ``found(candidate)``; fails the test if there is none."""
    for candidate in candidates:
        result = found(candidate)
        if result is not None:
            return result
    pytest.fail("no suitable test site among the candidates: the demo world lacks a feature")


def longitudes(n: int = 40) -> Iterable[float]:
    """Deterministic candidate longitudes spread around the globe."""
    return ((-170.0 + 37.3 * i) % 340.0 - 170.0 for i in range(n))


@dataclass
class Shot:
    aoi: AreaOfInterest
    acq: Acquisition
    scene: Scene
    truth: np.ndarray

    def pixels(self, cls: LandCover) -> np.ndarray:
        """(n, 13) spectra of valid pixels of a class."""
        return self.scene.bands[(self.truth == cls) & self.scene.valid]


def shoot(aoi: AreaOfInterest, acq: Acquisition) -> Shot:
    return Shot(aoi, acq, SRC.scene(aoi, acq), SRC.ground_truth(aoi, acq))


def clear_shot(aoi: AreaOfInterest, start: date, end: date) -> Shot | None:
    """The first acquisition with cloud cover 0 and all pixels valid, if any."""
    try:
        acqs = SRC.acquisitions(aoi, start, end, max_cloud=0)
    except NoAcquisitionsError:
        return None
    for acq in acqs:
        shot = shoot(aoi, acq)
        if shot.scene.valid.all():
            return shot
    return None


# --- sites (module-scoped: found once) ------------------------------------------------


@pytest.fixture(scope="module")
def summer_site() -> tuple[Shot, Shot]:
    """A mid-latitude AOI with every land class, clear in summer and in winter."""

    def found(lon: float):
        aoi = box(lon, 46.0, 120)
        counts = np.bincount(land(aoi).cover, minlength=8)
        wanted = (
            LandCover.WATER,
            LandCover.FOREST,
            LandCover.GRASSLAND,
            LandCover.BUILT_UP,
            LandCover.BARE_SOIL,
        )
        if min(counts[c] for c in wanted) < 100:
            return None
        summer = clear_shot(aoi, date(2020, 6, 20), date(2020, 8, 10))
        winter = clear_shot(aoi, date(2020, 12, 10), date(2021, 2, 20))
        if summer is None or winter is None or (winter.truth == LandCover.GRASSLAND).sum() < 100:
            return None
        return summer, winter

    return first(longitudes(80), found)


@pytest.fixture(scope="module")
def snow_site() -> tuple[Shot, Shot]:
    """A cold AOI (≈62° N) without glaciers, mostly snow-covered on a clear late-winter date."""

    def found(lon: float):
        aoi = box(lon, 62.0, 60)
        if (land(aoi).cover == LandCover.SNOW_ICE).any():
            return None  # permanent ice: not the seasonal snow looked for
        winter = clear_shot(aoi, date(2021, 2, 15), date(2021, 3, 31))
        if winter is None or (winter.truth == LandCover.SNOW_ICE).mean() < 0.5:
            return None
        summer = clear_shot(aoi, date(2021, 7, 1), date(2021, 8, 15))
        return None if summer is None else (winter, summer)

    return first(longitudes(), found)


@pytest.fixture(scope="module")
def year_of_shots() -> list[Shot]:
    """A year of every acquisition at three mid-latitude places."""
    shots = []
    for lon, lat in ((14.5, 46.0), (-95.0, 40.0), (120.0, 30.0)):
        aoi = box(lon, lat, 50)
        shots += [shoot(aoi, acq) for acq in SRC.acquisitions(aoi, date(2021, 1, 1), date(2021, 12, 31))]
    return shots


# --- determinism and seamlessness ----------------------------------------------------


def _same(a: Scene, b: Scene) -> bool:
    return (
        a.bands.tobytes() == b.bands.tobytes()
        and np.array_equal(a.valid, b.valid)
        and (a.sun_zenith, a.sun_azimuth) == (b.sun_zenith, b.sun_azimuth)
    )


def test_the_same_request_gives_the_same_bits_across_calls_and_instances():
    aoi = box(14.52, 46.05, 80)
    acqs = SRC.acquisitions(aoi, date(2021, 3, 1), date(2021, 6, 30))
    assert acqs == DemoSource().acquisitions(aoi, date(2021, 3, 1), date(2021, 6, 30))
    cloudy = [a for a in acqs if 0 < a.cloud_cover < 100][:2]
    assert cloudy, "the period should hold a partly cloudy acquisition"
    for acq in [acqs[0], *cloudy]:
        one = SRC.scene(aoi, acq)
        land.cache_clear()  # recompute the landscape from scratch, too
        two = DemoSource().scene(aoi, acq)
        assert _same(one, two)
        assert np.array_equal(SRC.ground_truth(aoi, acq), DemoSource().ground_truth(aoi, acq))


def test_an_acquisition_rebuilt_from_stored_fields_gives_the_same_scene():
    aoi = box(-3.7, 40.4, 50)
    acq = SRC.acquisitions(aoi, date(2022, 5, 1), date(2022, 5, 31))[2]
    rebuilt = Acquisition(id=acq.id, time=acq.time, cloud_cover=acq.cloud_cover)
    assert _same(SRC.scene(aoi, acq), SRC.scene(aoi, rebuilt))


def test_a_time_off_the_cadence_is_refused():
    aoi = box(-3.7, 40.4, 50)
    acq = SRC.acquisitions(aoi, date(2022, 5, 1), date(2022, 5, 31))[0]
    stray = Acquisition(id="X", time=acq.time + timedelta(days=2), cloud_cover=0.0)
    with pytest.raises(SourceError):
        SRC.scene(aoi, stray)


def _offset(a: AreaOfInterest, b: AreaOfInterest) -> tuple[int, int]:
    """(rows, cols) of b's grid origin in a's grid (both in one UTM zone)."""
    assert a.epsg == b.epsg
    return round((a.utm_bounds[3] - b.utm_bounds[3]) / 10), round((b.utm_bounds[0] - a.utm_bounds[0]) / 10)


def test_overlapping_aois_agree_on_every_shared_pixel_on_every_date():
    a = box(9.61, 47.2, 70)
    b = box(9.6135, 47.2025, 70)  # shifted by about 260 m east and 280 m north
    dr, dc = _offset(a, b)
    assert dr < 0 < dc  # b's origin lies north-east of a's
    rows, cols = min(a.rows, b.rows + dr), min(a.cols, b.cols + dc)
    window_a = (slice(0, rows), slice(dc, cols))
    window_b = (slice(-dr, rows - dr), slice(0, cols - dc))
    seen = {"cloud edge": False, "shadow": False, "swath gap": False}
    for acq in SRC.acquisitions(a, date(2021, 1, 1), date(2021, 12, 31)):
        sa, sb = SRC.scene(a, acq), SRC.scene(b, acq)
        ta, tb = SRC.ground_truth(a, acq)[window_a], SRC.ground_truth(b, acq)[window_b]
        assert np.array_equal(sa.bands[window_a], sb.bands[window_b]), acq.id
        assert np.array_equal(sa.valid[window_a], sb.valid[window_b]), acq.id
        assert np.array_equal(ta, tb), acq.id
        seen["cloud edge"] |= bool((ta == LandCover.CLOUD).any() and (ta != LandCover.CLOUD).any())
        seen["shadow"] |= bool((ta == LandCover.CLOUD_SHADOW).any())
        seen["swath gap"] |= bool(0 < sa.valid[window_a].sum() < rows * (cols - dc))
    assert all(seen.values()), f"the year should show all of these in the overlap: {seen}"


# --- the cadence, times and the sun ------------------------------------------------------


def test_one_acquisition_every_five_days_within_the_period():
    aoi = box(14.5, 60.0, 120)  # wider in longitude than the swath gaps: never lost in one
    start, end = date(2020, 3, 2), date(2020, 6, 30)
    acqs = SRC.acquisitions(aoi, start, end)
    days = [local_solar(aoi, a).date() for a in acqs]
    expected = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    expected = [d for d in expected if (d - EPOCH).days % 5 == 0]
    assert days == expected
    assert all(start <= a.time.date() <= end for a in acqs)
    assert [a.time for a in acqs] == sorted(a.time for a in acqs)
    assert len({a.id for a in acqs}) == len(acqs)


def test_nothing_before_the_first_acquisition_date():
    aoi = box(14.5, 60.0, 120)
    acqs = SRC.acquisitions(aoi, date(2015, 1, 1), date(2015, 7, 20))
    assert [local_solar(aoi, a).date() for a in acqs] == [EPOCH + timedelta(days=5 * i) for i in range(5)]


@pytest.mark.parametrize(
    "lon, lat", [(-120.3, 37.0), (-3.0, 55.0), (14.5, 46.0), (100.2, 13.7), (175.0, -41.0)]
)
def test_acquisitions_are_near_1030_local_solar_time(lon, lat):
    aoi = box(lon, lat, 40)
    start, end = date(2021, 1, 1), date(2021, 1, 31)
    acqs = SRC.acquisitions(aoi, start, end)
    assert len(acqs) >= 5
    for acq in acqs:
        local = local_solar(aoi, acq)
        minutes = local.hour * 60 + local.minute + local.second / 60
        assert abs(minutes - 630) <= 6, (acq.id, local)
        assert start <= acq.time.date() <= end  # in UTC, even where 10:30 local is the day before
        assert acq.time.tzinfo is not None and acq.time.utcoffset() == timedelta(0)


def _sun(lat: float, start: date, end: date) -> tuple[float, float]:
    aoi = box(10.0, lat, 40)
    scene = SRC.scene(aoi, SRC.acquisitions(aoi, start, end)[0])
    return scene.sun_zenith, scene.sun_azimuth


def test_sun_angles_follow_season_and_hemisphere():
    zen, az = _sun(46.0, date(2021, 6, 15), date(2021, 6, 30))
    assert 25 <= zen <= 35 and 120 <= az <= 150  # high, south-east
    zen, az = _sun(46.0, date(2021, 12, 12), date(2021, 12, 31))
    assert 65 <= zen <= 75 and 150 <= az <= 170  # low, nearly south
    zen, az = _sun(-46.0, date(2021, 6, 15), date(2021, 6, 30))
    assert 65 <= zen <= 75 and 10 <= az <= 30  # southern winter: low, nearly north
    zen, az = _sun(-46.0, date(2021, 12, 12), date(2021, 12, 31))
    assert 25 <= zen <= 35 and 30 <= az <= 60  # southern summer: high, north-east


def test_noaa_sun_is_overhead_on_the_tropic_at_the_june_solstice_noon():
    jd = julian_day(datetime(2021, 6, 21, 12, 1, 47))  # solar noon at lon 0 (equation of time −1.8 min)
    zen, _ = solar_angles(23.44, 0.0, jd)
    assert float(zen) < 0.3
    zen, az = solar_angles(0.0, 90.0, jd)  # sunset at the equator, 90° E
    assert abs(float(zen) - 90.0) < 1.0 and abs(float(az) - 293.4) < 1.0


# --- ids, metadata, filters, errors --------------------------------------------------------


def test_ids_tiles_and_processing_baselines():
    aoi = box(14.5, 46.0, 40)
    acqs = SRC.acquisitions(aoi, date(2021, 12, 1), date(2022, 2, 28))
    for acq in acqs:
        assert re.fullmatch(r"DEMO_\d{8}T\d{6}_T\d{2}[C-X][A-Z]{2}", acq.id), acq.id
        assert acq.id == f"DEMO_{acq.time:%Y%m%dT%H%M%S}_{acq.tile_id}"
        assert acq.processing_baseline == ("05.10" if acq.time.date() >= date(2022, 1, 25) else "03.01")
        assert 0 <= acq.cloud_cover <= 100
    assert {a.processing_baseline for a in acqs} == {"03.01", "05.10"}


def test_max_cloud_keeps_exactly_the_acquisitions_at_or_below_it():
    aoi = box(14.5, 46.0, 40)
    every = SRC.acquisitions(aoi, date(2021, 1, 1), date(2021, 12, 31))
    some = SRC.acquisitions(aoi, date(2021, 1, 1), date(2021, 12, 31), max_cloud=20)
    assert some == [a for a in every if a.cloud_cover <= 20]
    assert 0 < len(some) < len(every)


def test_no_acquisitions_raises_with_advice():
    aoi = box(14.5, 46.0, 40)
    message = "widen the period or raise the cloud limit"
    off_cadence = EPOCH + timedelta(days=5 * 400 + 2)
    with pytest.raises(NoAcquisitionsError, match=message):
        SRC.acquisitions(aoi, off_cadence, off_cadence + timedelta(days=1))
    with pytest.raises(NoAcquisitionsError, match=message):
        SRC.acquisitions(aoi, date(2014, 1, 1), date(2015, 6, 26))
    cloudy = next(a for a in SRC.acquisitions(aoi, date(2021, 1, 1), date(2021, 12, 31)) if a.cloud_cover > 0)
    with pytest.raises(NoAcquisitionsError, match=message):
        SRC.acquisitions(aoi, cloudy.time.date(), cloudy.time.date(), max_cloud=0)


def test_progress_is_reported_from_0_to_1():
    calls: list[tuple[float, str]] = []
    SRC.acquisitions(
        box(14.5, 46.0, 40), date(2021, 1, 1), date(2021, 3, 1), progress=lambda f, t: calls.append((f, t))
    )
    assert calls == [
        (0.0, "Listing demo acquisitions"),
        (0.9, "Listing demo acquisitions"),
        (1.0, "12 demo acquisitions"),
    ]


# --- spectra of the classes ---------------------------------------------------------------


def test_summer_classes_have_plausible_ndvi(summer_site):
    summer, _ = summer_site
    assert summer.acq.cloud_cover == 0
    for cls in (LandCover.FOREST, LandCover.GRASSLAND):
        assert np.mean(ndvi(summer.pixels(cls)) > 0.6) >= 0.9, cls.name
    water = ndvi(summer.pixels(LandCover.WATER))
    assert np.mean(water < 0) >= 0.99
    vegetation = min(np.median(ndvi(summer.pixels(c))) for c in (LandCover.FOREST, LandCover.GRASSLAND))
    for cls in (LandCover.BUILT_UP, LandCover.BARE_SOIL):
        assert np.max(water) < np.median(ndvi(summer.pixels(cls))) < min(0.6, vegetation), cls.name


def test_top_of_atmosphere_effects(summer_site):
    summer, _ = summer_site
    forest = np.median(summer.pixels(LandCover.FOREST), axis=0)
    water = np.median(summer.pixels(LandCover.WATER), axis=0)
    assert forest[BAND["B01"]] > forest[BAND["B02"]] > forest[BAND["B04"]]  # path radiance over dark targets
    assert water[BAND["B01"]] > water[BAND["B04"]]
    assert forest[BAND["B09"]] < 0.5 * forest[BAND["B8A"]]  # 940 nm water-vapour absorption
    land = summer.scene.bands[summer.scene.valid]
    assert 0.0005 <= np.median(land[:, BAND["B10"]]) <= 0.005  # the cirrus band sees little of the ground


def test_grassland_is_greener_in_summer_than_in_winter(summer_site):
    summer, winter = summer_site
    grass_summer = np.median(ndvi(summer.pixels(LandCover.GRASSLAND)))
    grass_winter = np.median(ndvi(winter.pixels(LandCover.GRASSLAND)))
    assert grass_winter < grass_summer - 0.2
    forest_drop = np.median(ndvi(summer.pixels(LandCover.FOREST))) - np.median(
        ndvi(winter.pixels(LandCover.FOREST))
    )
    assert 0 < forest_drop < grass_summer - grass_winter  # mixed forest: a smaller amplitude


def _grass_ndvi_jan_jul(lat: float) -> tuple[float, float]:
    """Median grassland NDVI of clear January and July scenes at the first suitable place."""

    def found(lon: float):
        aoi = box(lon, lat, 60)
        jan = clear_shot(aoi, date(2021, 1, 1), date(2021, 1, 31))
        jul = clear_shot(aoi, date(2021, 7, 1), date(2021, 7, 31))
        if jan is None or jul is None:
            return None
        grass = [shot.pixels(LandCover.GRASSLAND) for shot in (jan, jul)]
        if min(len(g) for g in grass) < 100:
            return None
        return tuple(float(np.median(ndvi(g))) for g in grass)

    return first(longitudes(), found)


def test_southern_seasons_are_half_a_year_off_and_the_tropics_stay_green():
    jan, jul = _grass_ndvi_jan_jul(-42.0)
    assert jan > jul + 0.2  # southern summer in January
    jan, jul = _grass_ndvi_jan_jul(3.0)
    assert abs(jan - jul) < 0.1 and min(jan, jul) > 0.6


def test_snow_is_bright_with_high_ndsi_and_dark_in_swir(snow_site):
    winter, _ = snow_site
    snow = winter.pixels(LandCover.SNOW_ICE)
    assert len(snow) > 500
    assert np.mean(ndsi(snow) > 0.4) >= 0.95
    assert np.mean((snow[:, [BAND["B02"], BAND["B03"], BAND["B04"]]] > 0.3).all(axis=1)) >= 0.9
    assert np.mean(snow[:, BAND["B11"]] < 0.15) >= 0.9


def test_seasonal_snow_melts_by_summer(snow_site):
    _, summer = snow_site
    assert not (summer.truth == LandCover.SNOW_ICE).any()
    ground = summer.scene.bands[summer.scene.valid & (summer.truth != LandCover.WATER)]
    assert np.median(ndsi(ground)) < 0  # land without snow reflects more at 1.6 µm than in green


def test_snow_and_thick_cloud_are_both_bright_but_differ_in_swir(snow_site, year_of_shots):
    winter, _ = snow_site
    overcast = [s for s in year_of_shots if s.acq.cloud_cover >= 95]
    assert overcast
    cloud = np.concatenate([s.pixels(LandCover.CLOUD) for s in overcast])
    assert np.mean((cloud[:, [BAND["B02"], BAND["B03"], BAND["B04"]]] > 0.3).all(axis=1)) >= 0.9
    assert np.mean(cloud[:, BAND["B11"]] > 0.25) >= 0.9
    snow_b11 = np.median(winter.pixels(LandCover.SNOW_ICE)[:, BAND["B11"]])
    assert snow_b11 < 0.15 < 0.25 < np.median(cloud[:, BAND["B11"]])


def _real_forest_and_meadow(clear: np.ndarray) -> dict[LandCover, np.ndarray]:
    """Median spectra of forest and meadow among real (n, 13) pixels of a clear date."""
    real_ndvi = ndvi(clear)
    forest = (real_ndvi > 0.75) & (clear[:, BAND["B11"]] < 0.12)
    meadow = (real_ndvi > 0.72) & (clear[:, BAND["B11"]] > 0.15)
    return {
        LandCover.FOREST: np.median(clear[forest], axis=0),
        LandCover.GRASSLAND: np.median(clear[meadow], axis=0),
    }


def _assert_demo_matches(summer: Shot, reference: dict[LandCover, np.ndarray]) -> None:
    compared = [b for b in L1C.band_names if b not in ("B09", "B10")]  # water vapour varies by date
    for cls, real in reference.items():
        ours = np.median(summer.pixels(cls), axis=0)
        for b in compared:
            i = BAND[b]
            assert abs(ours[i] - real[i]) <= 0.01 + 0.15 * real[i], (cls.name, b, ours[i], real[i])


def test_demo_spectra_match_the_real_chip(summer_site, real_chip):
    """Forest and meadow of the demo (46° N, summer) against the real pixels shipped in
    tests/data (2015-07-11, near Ljubljana): runs in every clone."""
    assert str(real_chip["timestamps"][0]) == "2015-07-11T10:00:08"
    clear = real_chip["bands"][0]
    reference = _real_forest_and_meadow(clear)
    # The chip's own class labels are what the rules find: 12 forest and 12 meadow pixels.
    for cls, name in ((LandCover.FOREST, "forest"), (LandCover.GRASSLAND, "meadow")):
        mine = clear[real_chip["classes"] == name]
        assert len(mine) == 12
        assert np.array_equal(np.median(mine, axis=0), reference[cls])
    _assert_demo_matches(summer_site[0], reference)


def test_demo_spectra_match_the_full_real_sample(summer_site, real_sample):
    """The same against every pixel of the full sample in ../shared (skips without it)."""
    _assert_demo_matches(summer_site[0], _real_forest_and_meadow(real_sample["bands"][0].reshape(-1, 13)))


def test_demo_spectra_would_fail_against_another_class(summer_site, real_chip):
    """The check can fail: demo forest against real meadow is refused."""
    reference = _real_forest_and_meadow(real_chip["bands"][0])
    swapped = {LandCover.FOREST: reference[LandCover.GRASSLAND]}
    with pytest.raises(AssertionError):
        _assert_demo_matches(summer_site[0], swapped)


# --- clouds and cloud metadata -----------------------------------------------------------


def test_cloud_cover_metadata_matches_the_clouds_in_the_scene(year_of_shots):
    clear = [s for s in year_of_shots if s.acq.cloud_cover == 0]
    overcast = [s for s in year_of_shots if s.acq.cloud_cover >= 95]
    assert clear and overcast
    for s in clear:
        assert not (s.truth == LandCover.CLOUD).any(), s.acq.id
    for s in overcast:
        assert (s.truth == LandCover.CLOUD).mean() >= 0.8, s.acq.id
    # Heavier reported cloud means more cloud over the AOI, on average.
    light = [(s.truth == LandCover.CLOUD).mean() for s in year_of_shots if 0 < s.acq.cloud_cover < 20]
    heavy = [(s.truth == LandCover.CLOUD).mean() for s in year_of_shots if 50 <= s.acq.cloud_cover < 95]
    assert np.mean(light) < np.mean(heavy)


def test_a_year_has_clear_and_cloudy_acquisitions(year_of_shots):
    covers = np.array([s.acq.cloud_cover for s in year_of_shots])
    assert 0.3 <= np.mean(covers == 0) <= 0.7
    assert 0.25 <= np.mean(covers > 1) <= 0.6  # "a third to half cloudy in some way"
    thin = [s for s in year_of_shots if 0 < s.acq.cloud_cover < 95 and s.pixels(LandCover.CLOUD).size]
    assert thin, "some clouds should be partial"
    brightness = np.concatenate([s.pixels(LandCover.CLOUD)[:, BAND["B02"]] for s in thin])
    assert brightness.min() < 0.25 < brightness.max()  # from thin veils to thick cloud


def _mosaic(aois: list[AreaOfInterest], acqs: list[Acquisition]) -> np.ndarray:
    """(dates, rows, cols) ground truth of adjacent AOIs pasted on their common UTM grid (−1: none)."""
    west = min(a.utm_bounds[0] for a in aois)
    north = max(a.utm_bounds[3] for a in aois)
    east = max(a.utm_bounds[2] for a in aois)
    south = min(a.utm_bounds[1] for a in aois)
    out = np.full((len(acqs), round((north - south) / 10), round((east - west) / 10)), -1, dtype=np.int8)
    for aoi in aois:
        r, c = round((north - aoi.utm_bounds[3]) / 10), round((aoi.utm_bounds[0] - west) / 10)
        for i, acq in enumerate(acqs):
            out[i, r : r + aoi.rows, c : c + aoi.cols] = SRC.ground_truth(aoi, acq)
    return out


def _shift_of(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """(rows, cols) by which mask a must move to best cover mask b (FFT cross-correlation)."""
    shape = [2 * n for n in a.shape]
    corr = np.fft.irfft2(np.conj(np.fft.rfft2(a, shape)) * np.fft.rfft2(b, shape), shape)
    r, c = np.unravel_index(np.argmax(corr), corr.shape)
    return (r if r < a.shape[0] else r - shape[0]), (c if c < a.shape[1] else c - shape[1])


def test_cloud_shadows_are_cast_away_from_the_sun():
    """On a 3 × 3 mosaic of AOIs, the shadow mask is the cloud mask moved away from the sun."""
    step = 0.011
    aois = [
        box(9.6 + i * step / math.cos(math.radians(47.2)), 47.2 + j * step, 128)
        for i in range(3)
        for j in range(3)
    ]
    acqs = [
        a for a in SRC.acquisitions(aois[4], date(2021, 4, 1), date(2021, 9, 30)) if 0 < a.cloud_cover < 90
    ]
    truth = _mosaic(aois, acqs)
    checked = 0
    for acq, t in zip(acqs, truth, strict=True):
        cloud, shadow = (t == LandCover.CLOUD), (t == LandCover.CLOUD_SHADOW)
        if not (0.01 < cloud.mean() < 0.7 and shadow.mean() > 0.01):
            continue
        dr, dc = _shift_of(cloud.astype(float), shadow.astype(float))
        towards = math.degrees(math.atan2(dc, -dr)) % 360  # direction of the move, clockwise from north
        azimuth = SRC.scene(aois[4], acq).sun_azimuth
        assert abs((towards - azimuth) % 360 - 180) < 25, (acq.id, towards, azimuth)
        checked += 1
    assert checked >= 2


# --- validity ---------------------------------------------------------------------------


def test_swath_gaps_cut_some_scenes_and_are_zero_in_every_band():
    aoi = box(14.5, 46.0, 100)
    acqs = SRC.acquisitions(aoi, date(2020, 1, 1), date(2021, 12, 31))
    cut = []
    for acq in acqs:
        scene = SRC.scene(aoi, acq)
        if not scene.valid.all():
            cut.append(scene)
            assert scene.valid.any()  # acquisitions with no valid pixel are not listed
            assert not scene.bands[~scene.valid].any()
            assert (scene.bands[scene.valid][:, BAND["B02"]] > 0).all()
    assert 0.03 <= len(cut) / len(acqs) <= 0.2
    # The gap's edge is a straight line: in every row, valid pixels form one run on one side.
    valid = cut[0].valid
    edges = [np.flatnonzero(np.diff(row.astype(np.int8))) for row in valid]
    assert all(len(e) <= 2 for e in edges)


# --- any place, any date ---------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    lon=st.floats(-179.0, 179.0),
    lat=st.floats(-80.0, 80.0),
    px=st.integers(3, 40),
    day=st.integers(0, 3650),
)
def test_any_small_aoi_gives_finite_reflectance_on_its_grid(lon, lat, px, day):
    aoi = box(lon, lat, px + 8)
    start = EPOCH + timedelta(days=day)
    try:
        acqs = SRC.acquisitions(aoi, start, start + timedelta(days=10))
    except NoAcquisitionsError:
        assume(False)  # polar night, or the AOI lies in a swath gap on both dates
    scene = SRC.scene(aoi, acqs[0])
    assert scene.bands.shape == (*aoi.shape, 13) and scene.bands.dtype == np.float32
    assert scene.band_names == L1C.band_names
    assert np.isfinite(scene.bands).all()
    assert scene.bands.min() >= 0.0 and scene.bands.max() <= 1.5
    assert scene.valid.shape == aoi.shape and scene.valid.dtype == bool
    assert not scene.bands[~scene.valid].any()
    truth = SRC.ground_truth(aoi, acqs[0])
    assert truth.shape == aoi.shape and set(np.unique(truth)) <= set(LandCover)
    assert 0 <= scene.sun_zenith <= MAX_SUN_ZENITH + 1 and 0 <= scene.sun_azimuth < 360
