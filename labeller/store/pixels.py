"""From a scene and the chosen pixels to the sample values a save writes. No SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from labeller.aoi import AreaOfInterest
from labeller.bands import BAND_BY_NAME
from labeller.clouds import CloudLayer
from labeller.errors import InvalidInputError, StoreError
from labeller.scenes import Scene
from labeller.store.records import Review
from labeller.store.schema import BAND_COLUMNS


def pixel_tuples(pixels: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    for pixel in pixels:
        row, col = pixel
        yield int(row), int(col)


def check_scene(aoi: AreaOfInterest, scene: Scene) -> None:
    """Refuse a scene that is not on the AOI's grid or carries unknown bands."""
    expected = (*aoi.shape, len(scene.band_names))
    if scene.bands.shape != expected or scene.valid.shape != aoi.shape:
        raise StoreError(
            f"The scene's arrays {scene.bands.shape} do not match the area's grid {expected}; "
            "reload the scene and try again."
        )
    unknown = [name for name in scene.band_names if name not in BAND_BY_NAME]
    if unknown or len(set(scene.band_names)) != len(scene.band_names):
        raise StoreError(f"The scene has unknown or repeated bands {scene.band_names}; it cannot be saved.")


def valid_pixels(aoi: AreaOfInterest, scene: Scene, pixels) -> tuple[np.ndarray, np.ndarray]:
    """Sorted rows and cols of the distinct pixels that are valid in the scene."""
    chosen = sorted(set(pixel_tuples(pixels)))
    n_rows, n_cols = aoi.shape
    outside = [(r, c) for r, c in chosen if not (0 <= r < n_rows and 0 <= c < n_cols)]
    if outside:
        raise InvalidInputError(
            f"Pixel {outside[0]} lies outside this area's {n_rows} × {n_cols} grid; "
            "clear the selection and select the pixels again."
        )
    coords = np.array(chosen, dtype=np.int64).reshape(-1, 2)
    rows, cols = coords[:, 0], coords[:, 1]
    keep = np.asarray(scene.valid, dtype=bool)[rows, cols]
    return rows[keep], cols[keep]


def pixel_values(
    aoi: AreaOfInterest,
    scene: Scene,
    rows: np.ndarray,
    cols: np.ndarray,
    review: Review,
    flagged: frozenset[tuple[int, int]] = frozenset(),
) -> pd.DataFrame:
    """One row per pixel: every sample column except the campaign's id and label fields.
    ``flagged``: the pixels the cloud guard flagged that are saved on purpose."""
    n = len(rows)
    lon, lat = aoi.pixel_to_lonlat(rows, cols)
    utm_x, utm_y = aoi.pixel_to_utm(rows, cols)
    # float32 -> float64 is exact, so reading back and casting to float32 restores every bit.
    spectra = scene.spectra(rows, cols).astype(np.float64).reshape(n, len(scene.band_names))
    acquisition = scene.acquisition
    columns: dict[str, Any] = {
        "acquisition_id": acquisition.id,
        "row": rows.astype(np.int64),
        "col": cols.astype(np.int64),
        "lon": np.asarray(lon, dtype=np.float64).reshape(n),
        "lat": np.asarray(lat, dtype=np.float64).reshape(n),
        "utm_x": np.asarray(utm_x, dtype=np.float64).reshape(n),
        "utm_y": np.asarray(utm_y, dtype=np.float64).reshape(n),
        "epsg": aoi.epsg,
        "acquired_at": review.acquired_at,
        "cloud_cover": acquisition.cloud_cover,
        "sun_zenith": float(scene.sun_zenith),
        "sun_azimuth": float(scene.sun_azimuth),
        "tile_id": acquisition.tile_id,
        "processing_baseline": acquisition.processing_baseline,
        "harmonised": scene.harmonised,
        "created_at": review.reviewed_at,
        "labeller": review.labeller,
    }
    columns.update(cloud_columns(scene, rows, cols, flagged))
    index = {name: i for i, name in enumerate(scene.band_names)}
    for name in BAND_COLUMNS:
        columns[name] = spectra[:, index[name]] if name in index else np.full(n, np.nan)
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def cloud_columns(
    scene: Scene, rows: np.ndarray, cols: np.ndarray, flagged: frozenset[tuple[int, int]]
) -> dict[str, Any]:
    """cloud_probability (Level-1C) or scl_class (Level-2A) at each pixel, and whether the
    guard flagged it and it was included on purpose (unknown, NULL, without cloud data)."""
    layer = CloudLayer.of(scene)
    prob, scl = layer.value_at(rows, cols)
    is_flagged = np.array([(int(r), int(c)) in flagged for r, c in zip(rows, cols, strict=True)], dtype=bool)
    known = layer.available
    return {
        "cloud_probability": prob,
        "scl_class": scl,
        "cloud_flagged": pd.array(is_flagged if known else [None] * len(rows), dtype="boolean"),
        "cloud_included": pd.array(is_flagged if known else [None] * len(rows), dtype="boolean"),
    }
