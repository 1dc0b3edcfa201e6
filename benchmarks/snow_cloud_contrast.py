"""How well each view tells snow from cloud on the demo winter image (issue 10).

Distance between the mean rendered colour of the snow pixels and of the cloud pixels (0–441 in
RGB), by the demo's ground truth, for every view, auto and fixed stretch. Goal: >= 150 in the
best view (the fixed gains of before scored 51 in their best view, SWIR).

    .venv/bin/python benchmarks/snow_cloud_contrast.py
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from labeller.aoi import AreaOfInterest  # noqa: E402
from labeller.render import composite  # noqa: E402
from labeller.sources.demo import DemoSource, LandCover  # noqa: E402
from labeller.views import VIEWS, Display  # noqa: E402

WINTER_BBOX = (28.6706, 58.2911, 28.6850, 58.2990)
WINTER_DAY = date(2026, 2, 14)


def winter_scene():
    """The demo scene of 2026-02-14 over the winter area, and its ground truth."""
    source, aoi = DemoSource(), AreaOfInterest(*WINTER_BBOX)
    (acquisition,) = [a for a in source.acquisitions(aoi, WINTER_DAY, WINTER_DAY)]
    return source.scene(aoi, acquisition), source.ground_truth(aoi, acquisition)


def snow_cloud_distance(rgb: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    """Euclidean distance between the mean colours of snow and of cloud pixels."""
    snow = rgb[(truth == LandCover.SNOW_ICE) & valid].astype(float).mean(axis=0)
    cloud = rgb[(truth == LandCover.CLOUD) & valid].astype(float).mean(axis=0)
    return float(np.linalg.norm(snow - cloud))


def main() -> None:
    scene, truth = winter_scene()
    print(
        f"demo {WINTER_DAY}, bbox {WINTER_BBOX}: snow {int((truth == LandCover.SNOW_ICE).sum())} px, "
        f"cloud {int((truth == LandCover.CLOUD).sum())} px"
    )
    for view in VIEWS.values():
        scores = [
            snow_cloud_distance(composite(scene, Display(view, stretch)), truth, scene.valid)
            for stretch in ("auto", "fixed")
        ]
        print(f"{view.name:34s} auto {scores[0]:6.1f}   fixed {scores[1]:6.1f}")


if __name__ == "__main__":
    main()
