"""The Process API: one request per acquisition for everything a scene needs, and the scene
made from its answer.

The evalscript is sentinelhub-py's own (``generate_evalscript``): every band of the collection
as FLOAT32 reflectance in one output, ``bands``, in ``Collection.band_names`` order; then one
output per meta band, named after it: ``dataMask`` (UINT8), ``sunZenithAngles`` and
``sunAzimuthAngles`` (FLOAT32 degrees) and, for Level-2A, ``SCL`` (UINT8). The request asks for
each output as a TIFF (one tar in all), on the AOI's own 10 m UTM grid, for the acquisition's
whole UTC day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import numpy as np
from sentinelhub import CRS, BBox, DataCollection, MimeType, MosaickingOrder, SentinelHubRequest, SHConfig
from sentinelhub.evalscript import generate_evalscript
from sentinelhub.time_utils import parse_time_interval

from labeller.aoi import AreaOfInterest
from labeller.bands import L1C, L2A, Collection, offset_removed
from labeller.scenes import Acquisition, Scene

REQUEST_VERSION = "process-v1"
"""Names what a request returns in the scene cache key: change it when the pixels a scene
gets could change (the outputs' layout alone may change: the cached scene stays the same)."""
DATA_COLLECTIONS: dict[str, DataCollection] = {
    L1C.id: DataCollection.SENTINEL2_L1C.define_from("LABELLER_S2_L1C", service_url=None),
    L2A.id: DataCollection.SENTINEL2_L2A.define_from("LABELLER_S2_L2A", service_url=None),
}
"""Copies of the stock collections without their service_url (services.sentinel-hub.com),
which would win over the configured base URL (CDSE, a test server)."""
BANDS_OUTPUT = "bands"
"""The output carrying every band of the collection."""
META_BANDS = ("dataMask", "sunZenithAngles", "sunAzimuthAngles")
"""Meta bands every scene needs, one output each; Level-2A adds ``SCL``."""


def meta_bands(collection: Collection) -> list[str]:
    """The meta bands requested for a collection, each an output of its own."""
    return [*META_BANDS, "SCL"] if collection.id == L2A.id else list(META_BANDS)


def output_ids(collection: Collection) -> list[str]:
    """The identifiers of the evalscript's outputs, in its order, as the request asks for them."""
    return [BANDS_OUTPUT, *meta_bands(collection)]


def evalscript(collection: Collection) -> str:
    """Bands as reflectance, the data mask, the sun angles (and SCL for Level-2A)."""
    return generate_evalscript(
        DATA_COLLECTIONS[collection.id],
        bands=list(collection.band_names),
        meta_bands=meta_bands(collection),
        merged_bands_output=BANDS_OUTPUT,
        prioritize_dn=False,
    )


def process_request(
    aoi: AreaOfInterest, acquisition: Acquisition, collection: Collection, config: SHConfig
) -> SentinelHubRequest:
    """The Process API request for an acquisition on the AOI's grid (built, not sent)."""
    rows, cols = aoi.shape
    day = acquisition.time.astimezone(UTC).date()
    return SentinelHubRequest(
        evalscript=evalscript(collection),
        input_data=[
            SentinelHubRequest.input_data(
                data_collection=DATA_COLLECTIONS[collection.id],
                time_interval=parse_time_interval(day),  # 00:00:00 to 23:59:59 UTC
                mosaicking_order=MosaickingOrder.LEAST_CC,
                other_args={
                    "processing": {
                        "upsampling": "NEAREST",
                        "downsampling": "NEAREST",
                        "harmonizeValues": True,
                    }
                },
            )
        ],
        responses=[SentinelHubRequest.output_response(oid, MimeType.TIFF) for oid in output_ids(collection)],
        bbox=BBox(aoi.utm_bounds, crs=CRS(aoi.epsg)),
        size=(cols, rows),
        config=config,
    )


def scene_from(
    data: Mapping[str, Any], aoi: AreaOfInterest, acquisition: Acquisition, collection: Collection
) -> Scene:
    """A Scene from the decoded tar of a Process API answer (``<output id>.tif`` each)."""
    rows, cols = aoi.shape
    try:
        bands = np.asarray(data[f"{BANDS_OUTPUT}.tif"])
        layers = {name: _single(data[f"{name}.tif"], rows, cols) for name in meta_bands(collection)}
    except KeyError as exc:
        raise ValueError(f"the answer lacks {exc}") from exc
    if bands.ndim == 2:
        bands = bands[..., None]
    if bands.shape != (rows, cols, len(collection.band_names)):
        raise ValueError(f"unexpected image shape {bands.shape} for a {rows} × {cols} grid")
    valid = layers["dataMask"].astype(bool)
    extra = {"SCL": layers["SCL"].astype(np.uint8)} if "SCL" in layers else {}
    return Scene(
        acquisition=acquisition,
        band_names=collection.band_names,
        bands=bands.astype(np.float32, copy=False),
        valid=valid,
        sun_zenith=_mean(layers["sunZenithAngles"], valid),
        sun_azimuth=_mean(layers["sunAzimuthAngles"], valid),
        # harmonizeValues is always requested; it changes values only where a tile carries
        # the baseline-04.00 offset, so say what it actually did.
        harmonised=offset_removed(acquisition.processing_baseline),
        extra=extra,
    )


def _single(image: Any, rows: int, cols: int) -> np.ndarray:
    """A one-band output as a (rows, cols) array (a TIFF may carry it as rows × cols × 1)."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.shape != (rows, cols):
        raise ValueError(f"unexpected image shape {array.shape} for a {rows} × {cols} grid")
    return array


def _mean(values: np.ndarray, valid: np.ndarray) -> float:
    return float(np.mean(values[valid], dtype=np.float64)) if valid.any() else math.nan
