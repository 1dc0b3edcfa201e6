"""Cut ``real_chip.npz`` from the shared real Sentinel-2 Level-1C sample (run from the repo root).

    .venv/bin/python tests/data/cut_real_chip.py [path/to/s2_l1c_slovenia_2015.npz]

The chip: 12 forest and 12 meadow pixels, all 13 bands, on three dates (2015-07-11 clear,
2015-08-20 thick cloud, 2015-08-30 clear), as the exact float32 values of the sample. The
pixels are classed on the clear first date with the rules the demo's realism check uses
(forest: NDVI > 0.75 and B11 < 0.12; meadow: NDVI > 0.72 and B11 > 0.15) and picked evenly
along each class's NDVI ranking, so they span the class rather than its best examples.
Deterministic: running it again gives the same file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT.parent / "shared" / "data" / "s2_l1c_slovenia_2015.npz"
CHIP = Path(__file__).resolve().parent / "real_chip.npz"
DATES = (0, 2, 3)
"""Indices into the sample's five dates: clear, thick cloud, clear."""
PER_CLASS = 12


def classes(clear: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """(rows, cols) masks of forest and meadow on a clear image (rows, cols, 13)."""
    b = {n: clear[..., names.index(n)] for n in ("B04", "B08", "B11")}
    ndvi = (b["B08"] - b["B04"]) / (b["B08"] + b["B04"])
    return {
        "forest": (ndvi > 0.75) & (b["B11"] < 0.12),
        "meadow": (ndvi > 0.72) & (b["B11"] > 0.15),
    }, ndvi


def cut(sample: Path) -> dict[str, np.ndarray]:
    with np.load(sample) as data:
        real = {k: data[k] for k in data.files}
    names = [str(n) for n in real["band_names"]]
    masks, ndvi = classes(real["bands"][DATES[0]], names)
    rows, cols, kinds = [], [], []
    for kind, mask in masks.items():
        r, c = np.nonzero(mask)
        order = np.lexsort((c, r, ndvi[r, c]))  # by NDVI, ties by position: deterministic
        picked = order[np.linspace(0, len(order) - 1, PER_CLASS).round().astype(int)]
        rows += r[picked].tolist()
        cols += c[picked].tolist()
        kinds += [kind] * PER_CLASS
    rows, cols = np.array(rows, dtype=np.int16), np.array(cols, dtype=np.int16)
    return {
        "bands": real["bands"][list(DATES)][:, rows, cols, :],
        "band_names": real["band_names"],
        "timestamps": real["timestamps"][list(DATES)],
        "rows": rows,
        "cols": cols,
        "classes": np.array(kinds),
        "crs_epsg": real["crs_epsg"],
        "bbox_utm": real["bbox_utm"],
        "bbox_wgs84": real["bbox_wgs84"],
    }


def main() -> None:
    sample = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE
    chip = cut(sample)
    np.savez_compressed(CHIP, **chip)
    print(f"{CHIP}: {CHIP.stat().st_size} bytes, bands {chip['bands'].shape} {chip['bands'].dtype}")


if __name__ == "__main__":
    main()
