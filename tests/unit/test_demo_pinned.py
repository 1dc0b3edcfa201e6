"""The demo world pinned: reshaping the demo's code must not change a single value.

What is whole-numbered (listings, land cover, valid pixels) is pinned bit for bit; band values
to 1 part in 10^5. Bit for bit they differ between CPUs: numpy's float32 transcendental
functions take other SIMD paths with and without AVX-512, a last-bit change (0.23820615 against
0.23820616). The pins agree with the demo as it was before its split into modules (commit
634cc67), whose bit-for-bit digests these replaced. A failure here means the synthetic world
changed: that is a decision (update the pins and say why), never a side effect of a refactoring.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, date, datetime

import numpy as np
import pytest

from labeller.aoi import AreaOfInterest
from labeller.scenes import Acquisition
from labeller.sources.demo import DemoSource

SRC = DemoSource()


def box(lon: float, lat: float, px: int) -> AreaOfInterest:
    """An AOI of about px × px pixels centred on (lon, lat)."""
    half_m = px * 10 / 2 - 35
    dlat = half_m / 110574.0
    dlon = half_m / (111320.0 * math.cos(math.radians(lat)))
    return AreaOfInterest(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def digest(*parts) -> str:
    """First 16 hex digits of the SHA-256 of arrays' bytes and other values' repr."""
    h = hashlib.sha256()
    for part in parts:
        h.update(
            np.ascontiguousarray(part).tobytes() if isinstance(part, np.ndarray) else repr(part).encode()
        )
    return h.hexdigest()[:16]


SITES = {
    "alps": (box(9.61, 47.2, 64), date(2021, 1, 1), date(2021, 12, 31)),
    "new zealand": (box(175.0, -41.0, 24), date(2021, 1, 1), date(2021, 2, 28)),
}
LISTINGS = {"alps": (73, "e847e24de46b30ec"), "new zealand": (11, "6d9efe11753e61b3")}
"""Number of acquisitions and digest of their list (ids, times, cloud cover, tiles, baselines)."""
SCENES = {
    # date: (cloud cover, pixels per LandCover code, valid pixels, digest of valid and truth,
    #        per-band sums of reflectance (6 significant digits), sun zenith and azimuth)
    "alps": {
        date(2021, 1, 21): (  # snow
            0.0, [990, 3, 530, 0, 0, 2437, 0, 0], 3960, "d1977475d2e52308",
            [1962.97, 2044.48, 2087.22, 2043.48, 1963.65, 1924.76, 1892.91, 1825.62, 1699.87, 761.659,
             6.13599, 279.035, 150.498], (70.84461924697997, 154.56632915680984)),
        date(2021, 4, 1): (  # cloud edge
            13.28, [203, 3, 1344, 0, 0, 0, 1757, 653], 3960, "dd62576871923351",
            [782.214, 681.863, 640.709, 571.556, 650.312, 865.335, 978.825, 990.597, 1012.35, 539.479,
             21.9126, 709.546, 424.269], (46.85466118561049, 147.86888010722447)),
        date(2021, 7, 5): (  # swath gap
            0.0, [990, 3, 2967, 0, 0, 0, 0, 0], 434, "abb6d359882bbaf2",
            [44.9821, 34.5291, 31.1517, 19.146, 42.9599, 120.584, 155.099, 155.909, 163.725, 49.5708,
             0.349394, 75.6794, 30.8563], (31.1461678305984, 133.38085822489566)),
        date(2021, 8, 24): (  # shadow
            14.45, [3, 0, 1690, 0, 0, 0, 631, 1636], 3960, "aa9890815a5cbc6d",
            [625.341, 523.522, 478.038, 378.823, 487.025, 837.475, 995.858, 991.622, 1021.97, 393.356,
             9.02687, 527.06, 266.899], (40.8844767966426, 145.09015754338617)),
    },
    "new zealand": {
        date(2021, 1, 5): (  # clear summer
            0.0, [0, 156, 409, 0, 11, 0, 0, 0], 576, "283395292d55e6c5",
            [58.725, 44.5532, 40.0136, 24.4679, 52.1622, 148.365, 190.769, 191.491, 203.734, 63.1202,
             0.455392, 91.0729, 38.049], (27.010335330060432, 53.92214792266934)),
        date(2021, 2, 9): (  # overcast
            93.36, [0, 0, 0, 0, 0, 0, 576, 0], 576, "ae80939c2a40016b",
            [295.283, 282.335, 276.368, 268.082, 278.878, 304.399, 318.385, 318.539, 321.146, 196.628,
             3.23724, 223.932, 154.135], (34.982356785744024, 48.01414533326451)),
    },
}  # fmt: skip


@pytest.mark.parametrize("site", SITES)
def test_the_demo_world_is_unchanged(site):
    aoi, start, end = SITES[site]
    acqs = SRC.acquisitions(aoi, start, end)
    assert (len(acqs), digest(acqs)) == LISTINGS[site]
    seen = set()
    for acq in acqs:
        if acq.time.date() in SCENES[site]:
            scene, truth = SRC.scene(aoi, acq), SRC.ground_truth(aoi, acq)
            cover, classes, n_valid, masks, band_sums, sun = SCENES[site][acq.time.date()]
            assert acq.cloud_cover == cover
            assert np.bincount(truth.ravel(), minlength=8).tolist() == classes
            assert (int(scene.valid.sum()), digest(scene.valid, truth)) == (n_valid, masks)
            sums = np.nansum(scene.bands.astype(np.float64), axis=(0, 1)).tolist()
            assert sums == pytest.approx(band_sums, rel=1e-5)
            assert (scene.sun_zenith, scene.sun_azimuth) == pytest.approx(sun, rel=1e-9)
            seen.add(acq.time.date())
    assert seen == set(SCENES[site])


def test_one_pixel_of_a_cloudy_alpine_morning_has_these_exact_values():
    """A readable pin: one grassland pixel beside a cloud edge, every band as float32 (to a
    part in 10^6: the last bit depends on the CPU, see the module's note)."""
    aoi, _, _ = SITES["alps"]
    acq = Acquisition(
        id="DEMO_20210401T095342_T32TRN",
        time=datetime(2021, 4, 1, 9, 53, 42, tzinfo=UTC),
        cloud_cover=13.28,
        tile_id="T32TRN",
        processing_baseline="03.01",
    )
    assert SRC.acquisitions(aoi, date(2021, 4, 1), date(2021, 4, 1)) == [acq]
    scene = SRC.scene(aoi, acq)
    assert scene.bands[20, 30].tolist() == pytest.approx([
        0.11749118566513062, 0.08957577496767044, 0.07896840572357178, 0.06230171024799347,
        0.09389996528625488, 0.18090344965457916, 0.22142373025417328, 0.22834865748882294,
        0.2382061630487442, 0.10673490166664124, 0.0009499400621280074, 0.16360753774642944,
        0.0848342552781105,
    ], rel=1e-6)  # fmt: skip
    assert SRC.ground_truth(aoi, acq)[20, 30] == 2  # grassland
    assert (scene.sun_zenith, scene.sun_azimuth) == pytest.approx(
        (46.85466118561049, 147.86888010722447), rel=1e-9
    )
