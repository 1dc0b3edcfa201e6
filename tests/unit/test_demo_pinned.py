"""The demo world pinned bit for bit: reshaping the demo's code must not change a single value.

The digests were taken from the demo as it was before its split into modules (commit
634cc67). A failure here means the synthetic world changed: that is a decision (update the
pins and say why), never a side effect of a refactoring.
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
    # date: (cloud cover, pixels per LandCover code, valid pixels, digest of bands, valid, truth, sun)
    "alps": {
        date(2021, 1, 21): (0.0, [990, 3, 530, 0, 0, 2437, 0, 0], 3960, "b9d5c01baee414a0"),  # snow
        date(2021, 4, 1): (13.28, [203, 3, 1344, 0, 0, 0, 1757, 653], 3960, "bda3d3026e99b679"),  # cloud edge
        date(2021, 7, 5): (0.0, [990, 3, 2967, 0, 0, 0, 0, 0], 434, "a9b7e3f6c009eaa9"),  # swath gap
        date(2021, 8, 24): (14.45, [3, 0, 1690, 0, 0, 0, 631, 1636], 3960, "988eb8000f79c040"),  # shadow
    },
    "new zealand": {
        date(2021, 1, 5): (0.0, [0, 156, 409, 0, 11, 0, 0, 0], 576, "7a0ac5f74279d93c"),  # clear summer
        date(2021, 2, 9): (93.36, [0, 0, 0, 0, 0, 0, 576, 0], 576, "a0425acd0bd0bfc1"),  # overcast
    },
}


@pytest.mark.parametrize("site", SITES)
def test_the_demo_world_is_unchanged(site):
    aoi, start, end = SITES[site]
    acqs = SRC.acquisitions(aoi, start, end)
    assert (len(acqs), digest(acqs)) == LISTINGS[site]
    got = {}
    for acq in acqs:
        if acq.time.date() in SCENES[site]:
            scene, truth = SRC.scene(aoi, acq), SRC.ground_truth(aoi, acq)
            got[acq.time.date()] = (
                acq.cloud_cover,
                np.bincount(truth.ravel(), minlength=8).tolist(),
                int(scene.valid.sum()),
                digest(scene.bands, scene.valid, truth, scene.sun_zenith, scene.sun_azimuth),
            )
    assert got == SCENES[site]


def test_one_pixel_of_a_cloudy_alpine_morning_has_these_exact_values():
    """A readable pin: one grassland pixel beside a cloud edge, every band as float32."""
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
    assert scene.bands[20, 30].tolist() == [
        0.11749118566513062, 0.08957577496767044, 0.07896840572357178, 0.06230171024799347,
        0.09389996528625488, 0.18090344965457916, 0.22142373025417328, 0.22834865748882294,
        0.2382061630487442, 0.10673490166664124, 0.0009499400621280074, 0.16360753774642944,
        0.0848342552781105,
    ]  # fmt: skip
    assert SRC.ground_truth(aoi, acq)[20, 30] == 2  # grassland
    assert (scene.sun_zenith, scene.sun_azimuth) == (46.85466118561049, 147.86888010722447)
