"""What each column of an export means, written into the Parquet schema as field metadata
(text keys ``units``, ``description`` and, for bands, ``centre_wavelength_nm`` and
``native_resolution_m``): the samples table's columns and the ML-ready export's grouping keys."""

from __future__ import annotations

from labeller.bands import BAND_BY_NAME

_UTM_NOTE = "metres; CRS is WGS84 / UTM, EPSG code in column epsg"
_COLUMN_NOTES: dict[str, dict[str, str]] = {
    "id": {"description": "row id in the exporting database (not stable across databases)"},
    "campaign_id": {"description": "campaign id in the exporting database (see campaign_key)"},
    "campaign_key": {"description": "stable id of the campaign's identity (area, label, source, collection)"},
    "acquisition_id": {"description": "image source's id of the acquisition"},
    "row": {"description": "pixel row on the campaign's 10 m grid, 0 = north edge"},
    "col": {"description": "pixel column on the campaign's 10 m grid, 0 = west edge"},
    "lon": {"units": "degrees, WGS84 (EPSG:4326)", "description": "longitude of the pixel centre"},
    "lat": {"units": "degrees, WGS84 (EPSG:4326)", "description": "latitude of the pixel centre"},
    "utm_x": {"units": _UTM_NOTE, "description": "easting of the pixel centre"},
    "utm_y": {"units": _UTM_NOTE, "description": "northing of the pixel centre"},
    "epsg": {"description": "EPSG code of the UTM zone of utm_x, utm_y (326zz north, 327zz south)"},
    "label_value": {"description": "the label: a class id or a regression target"},
    "label_name": {"description": "human name of the label (may be empty)"},
    "acquired_at": {"units": "UTC", "description": "sensing time of the acquisition"},
    "cloud_cover": {"units": "percent", "description": "cloud cover of the acquisition (source metadata)"},
    "sun_zenith": {"units": "degrees", "description": "mean sun zenith angle over the area"},
    "sun_azimuth": {"units": "degrees clockwise from north", "description": "mean sun azimuth over the area"},
    "tile_id": {"description": "Sentinel-2 tile or granule id"},
    "processing_baseline": {"description": "ESA processing baseline"},
    "harmonised": {
        "description": "true: the source removed the +1000 DN offset of processing baseline 04.00 and later; "
        "false: values left as delivered (no offset to remove before 04.00, or not harmonised); "
        "empty: unknown or synthetic"
    },
    "cloud_probability": {
        "units": "probability 0-1",
        "description": "s2cloudless cloud probability of the pixel on its date (Level-1C; empty: "
        "Level-2A or not measured)",
    },
    "scl_class": {
        "description": "Level-2A scene classification code of the pixel, a whole number (0 no data, "
        "3 cloud shadow, 4 vegetation, 5 not vegetated, 6 water, 8/9 cloud, 10 thin cirrus, 11 snow; "
        "empty: Level-1C)"
    },
    "cloud_flagged": {
        "description": "the cloud guard judged the pixel cloud, cirrus or cloud shadow on its date "
        "(empty: no cloud information)"
    },
    "cloud_included": {
        "description": "saved although flagged, because the labeller included it on purpose "
        "(empty: no cloud information)"
    },
    "created_at": {"units": "UTC", "description": "when the sample was saved"},
    "labeller": {"description": "name of the person who saved it (empty: not given)"},
    "campaign_min_lon": {"units": "degrees, WGS84 (EPSG:4326)", "description": "campaign box, west"},
    "campaign_min_lat": {"units": "degrees, WGS84 (EPSG:4326)", "description": "campaign box, south"},
    "campaign_max_lon": {"units": "degrees, WGS84 (EPSG:4326)", "description": "campaign box, east"},
    "campaign_max_lat": {"units": "degrees, WGS84 (EPSG:4326)", "description": "campaign box, north"},
    "group_campaign": {"description": "grouping key: the campaign (campaign_key)"},
    "group_acquisition": {"description": "grouping key: source/collection/acquisition id"},
    "pixel10_id": {"description": "grouping key: the 10 m pixel, epsg*1e14 + floor(x/10)*1e7 + floor(y/10)"},
    "pixel20_id": {
        "description": "grouping key: the native 20 m pixel, epsg*1e14 + floor(x/20)*1e7 + floor(y/20)"
    },
    "pixel60_id": {
        "description": "grouping key: the native 60 m pixel, epsg*1e14 + floor(x/60)*1e7 + floor(y/60)"
    },
}


def column_metadata(name: str) -> dict[str, str]:
    """What a column holds, as Parquet field metadata (text keys and values)."""
    band = BAND_BY_NAME.get(name)
    if band is not None:
        return {
            "units": "reflectance",
            "description": f"Sentinel-2 MSI band {band.name} reflectance, 0–1 nominal",
            "centre_wavelength_nm": f"{band.centre_nm:g}",
            "native_resolution_m": str(band.resolution_m),
        }
    return dict(_COLUMN_NOTES.get(name, {}))
