"""Spectral tables, a toy atmosphere and the seasonal logic of the offline demo source.

Everything here is a plain function of latitude, altitude, day of year and per-pixel
parameters; ``labeller.sources.demo`` supplies those from its noise fields.

Surface reflectance endmembers (13 bands, ``L1C.band_names`` order) are *approximate
typical values after* published library spectra, read off at the band centres and
rounded, not convolved with the MSI spectral response functions:

- USGS Spectral Library Version 7 (Kokaly et al. 2017, USGS Data Series 1035): lawn and
  dry grass, conifer and aspen canopies, loam and sandy soils, asphalt, concrete, red
  roofing tile, snow of fine to coarse grain, glacier ice, clear and turbid water;
- ECOSTRESS Spectral Library 1.0 (Meerdink et al. 2019, Remote Sensing of Environment 230,
  111196): vegetation, soils, man-made materials and water.

A toy atmosphere turns surface into top-of-atmosphere (TOA) reflectance,
``toa = path + T·ρ / (1 − S·ρ)``: path reflectance lifts B01/B02 over dark targets,
B09 sits in the 940 nm water-vapour band (low, varying by date), and B10 (1375 nm
cirrus band) sees almost nothing of the ground (≈0.001) except at high altitude. Path,
T and S are typical of a clear mid-latitude atmosphere (aerosol optical depth ≈0.15),
tuned so forest and meadow match the real Level-1C sample near Ljubljana (eo-learn
example data, 2015-07-11). Clouds are given directly as TOA reflectance, after the
overcast dates of that sample (2015-07-31, 2015-08-20) and typical thick water clouds.

Check against the real sample (TOA reflectance, median of the pixels of each kind;
"real" = sample 2015-07-11 clear, forest NDVI > 0.75 & B11 < 0.12, meadow NDVI > 0.72 &
B11 > 0.15, built-up = the most built pixels (NDVI < 0.35, mixed with gardens), cloud =
brightest 10 % of 2015-08-20, which is thin: the ground still shows through; "demo" =
this module at 46° N in mid July, nadir sun 30°, pure class pixels, thick cloud)::

    band        B01   B02   B03   B04   B05   B06   B07   B08   B8A   B09   B10    B11   B12
    forest real .101  .072  .061  .034  .064  .204  .263  .262  .289  .078  .0009  .108  .045
    forest demo .101  .072  .061  .034  .064  .203  .262  .262  .289  .078  .0012  .108  .045
    meadow real .102  .074  .067  .038  .081  .263  .341  .337  .378  .100  .0010  .165  .069
    meadow demo .103  .077  .073  .044  .096  .283  .363  .361  .389  .101  .0013  .181  .079
    built  real .118  .132  .135  .139  .159  .242  .286  .275  .314  .091  .0012  .287  .178
    built  demo .132  .120  .119  .117  .134  .164  .183  .201  .209  .063  .0013  .233  .185
    cloud  real .350  .353  .329  .333  .344  .416  .456  .442  .476  .157  .0024  .368  .301
    cloud  demo .580  .560  .550  .540  .550  .560  .570  .570  .570  .380  .008+  .420  .300

The demo's built-up is pure urban material; the sample's few built pixels are half
garden, hence their higher NIR. The demo cloud is a thick cloud (the sample's is thin).
"""

from __future__ import annotations

import numpy as np

from labeller.bands import L1C

BAND_NAMES: tuple[str, ...] = L1C.band_names
N_BANDS = len(BAND_NAMES)


def _table(rows: dict[str, tuple[float, ...]]) -> tuple[tuple[str, ...], np.ndarray]:
    names = tuple(rows)
    table = np.array([rows[n] for n in names], dtype=np.float32)
    assert table.shape == (len(names), N_BANDS)
    return names, table


# Surface reflectance endmembers.       B01    B02    B03    B04    B05    B06    B07    B08    B8A    B09    B10    B11    B12
ENDMEMBER_NAMES, ENDMEMBERS = _table({
    "water_clear":   (0.045, 0.050, 0.050, 0.028, 0.020, 0.012, 0.010, 0.008, 0.007, 0.004, 0.002, 0.003, 0.002),
    "water_turbid":  (0.050, 0.065, 0.095, 0.075, 0.065, 0.030, 0.025, 0.020, 0.018, 0.010, 0.005, 0.006, 0.003),
    "forest_summer": (0.026, 0.024, 0.036, 0.019, 0.058, 0.218, 0.280, 0.278, 0.318, 0.270, 0.200, 0.118, 0.051),
    "forest_winter": (0.028, 0.030, 0.042, 0.036, 0.060, 0.115, 0.140, 0.150, 0.165, 0.150, 0.150, 0.125, 0.062),
    "grass_green":   (0.028, 0.032, 0.050, 0.030, 0.095, 0.305, 0.390, 0.390, 0.420, 0.360, 0.250, 0.198, 0.090),
    "grass_dormant": (0.050, 0.060, 0.082, 0.100, 0.130, 0.170, 0.200, 0.220, 0.235, 0.225, 0.220, 0.290, 0.190),
    "soil":          (0.070, 0.090, 0.130, 0.180, 0.210, 0.230, 0.250, 0.270, 0.285, 0.290, 0.300, 0.350, 0.300),
    "rock":          (0.120, 0.135, 0.155, 0.175, 0.185, 0.195, 0.205, 0.215, 0.220, 0.225, 0.240, 0.260, 0.220),
    "built":         (0.055, 0.075, 0.100, 0.115, 0.135, 0.170, 0.190, 0.210, 0.225, 0.220, 0.200, 0.255, 0.212),
    "snow_fresh":    (0.950, 0.955, 0.945, 0.925, 0.905, 0.885, 0.860, 0.830, 0.800, 0.680, 0.350, 0.110, 0.060),
    "snow_old":      (0.780, 0.800, 0.800, 0.780, 0.760, 0.740, 0.710, 0.680, 0.650, 0.520, 0.200, 0.050, 0.025),
    "glacier_ice":   (0.580, 0.600, 0.590, 0.550, 0.520, 0.500, 0.470, 0.440, 0.420, 0.350, 0.150, 0.035, 0.025),
})  # fmt: skip
EM = {name: i for i, name in enumerate(ENDMEMBER_NAMES)}

# Toy atmosphere at the reference air mass (sun zenith 30°, nadir view).
#                          B01     B02     B03     B04     B05     B06     B07     B08     B8A     B09     B10     B11     B12
PATH = np.array(         (0.0850, 0.0550, 0.0330, 0.0180, 0.0150, 0.0110, 0.0090, 0.0070, 0.0060, 0.0030, 0.0008, 0.0020, 0.0010), np.float32)  # noqa: E501
TRANSMITTANCE = np.array((0.6200, 0.7200, 0.8000, 0.8600, 0.8600, 0.8800, 0.9000, 0.9100, 0.8900, 0.2800, 0.0020, 0.9000, 0.8600), np.float32)  # noqa: E501
SPHERICAL_ALBEDO = np.array((0.20, 0.17, 0.13, 0.09, 0.08, 0.07, 0.06, 0.05, 0.05, 0.04, 0.01, 0.02, 0.01), np.float32)  # noqa: E501
DIFFUSE_SHARE = np.array((0.50, 0.42, 0.33, 0.27, 0.25, 0.22, 0.20, 0.19, 0.18, 0.17, 0.15, 0.12, 0.10), np.float32)  # noqa: E501
"""Share of ground irradiance that is diffuse sky light: what is left in a cloud shadow."""
CLOUD_TOA = np.array((0.58, 0.56, 0.55, 0.54, 0.55, 0.56, 0.57, 0.57, 0.57, 0.38, 0.0, 0.42, 0.30), np.float32)  # noqa: E501
"""Thick water cloud, TOA; B10 is set per date from the cloud-top height."""
B09, B10 = BAND_NAMES.index("B09"), BAND_NAMES.index("B10")
REFERENCE_AIR_MASS = 1.0 + 1.0 / np.cos(np.radians(30.0))

YEAR_DAYS = 365.2425
LAPSE_RATE = 6.5e-3
"""Temperature fall with altitude, °C per metre (standard atmosphere)."""


def atmosphere(sun_zenith: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 13) path reflectance and transmittance for sun zenith angles (n,), degrees.

    A longer path through the air (low sun) raises path reflectance and lowers
    transmittance; B09 and B10 are set per pixel by ``vapour_transmittance``.
    """
    air_mass = relative_air_mass(sun_zenith)[:, None]
    return PATH[None, :] * np.sqrt(air_mass), TRANSMITTANCE[None, :] ** air_mass


def relative_air_mass(sun_zenith: np.ndarray) -> np.ndarray:
    """Two-way (sun and nadir view) air mass relative to the reference, float32."""
    zen = np.radians(np.minimum(sun_zenith, 80.0))
    return ((1.0 + 1.0 / np.cos(zen)) / REFERENCE_AIR_MASS).astype(np.float32)


def water_vapour(lat: np.ndarray, doy: float, altitude: np.ndarray, factor: float) -> np.ndarray:
    """Column water vapour above the ground (cm): more in warm air (≈2.8 cm in a
    mid-latitude summer, ≈0.7 in winter, ≈4 in the tropics), less over high ground
    (scale height 2 km); ``factor`` is the date's weather (0.7…1.3)."""
    return factor * 2.5 * np.exp(0.06 * (sea_level_temperature(lat, doy) - 20.0) - altitude / 2000.0)


def vapour_transmittance(air_mass: np.ndarray, vapour_cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-way transmittance of B09 (940 nm) and B10 (1375 nm) for a water-vapour column.

    Band-averaged absorption follows a square-root-like law in the absorber amount
    ``exp(−c·(w·m)^0.6)``: B09 passes ≈0.3 in a mid-latitude summer, more in dry
    winters; B10 passes almost nothing except over dry, cold or high ground.
    """
    amount = (vapour_cm * air_mass) ** 0.6
    return np.exp(-0.65 * amount).astype(np.float32), np.exp(-7.0 * amount).astype(np.float32)


def toa_reflectance(surface: np.ndarray, path: np.ndarray, transmittance: np.ndarray) -> np.ndarray:
    """TOA reflectance of surface reflectance: ``path + T·ρ / (1 − S·ρ)``."""
    return path + transmittance * (surface / (1.0 - SPHERICAL_ALBEDO * surface))


def sea_level_temperature(lat: np.ndarray, doy: np.ndarray | float) -> np.ndarray:
    """Climatological near-surface temperature (°C) at sea level for a day of year.

    Annual mean falls from 27.5 °C at the equator to about 1 °C at 60° and −19 °C at 80°;
    the seasonal swing grows with latitude, coldest around 20 January in the north and
    half a year later in the south (the tropics hardly change).
    """
    alat = np.abs(lat)
    mean = 27.5 - 0.0072 * alat**2
    swing = 0.25 * alat
    coldest = np.where(lat >= 0, 20.0, 20.0 + YEAR_DAYS / 2)
    return mean - swing * np.cos(2 * np.pi * (doy - coldest) / YEAR_DAYS)


def annual_mean_temperature(lat: np.ndarray, altitude: np.ndarray) -> np.ndarray:
    """Annual mean temperature (°C) at a latitude and altitude (metres)."""
    return 27.5 - 0.0072 * np.abs(lat) ** 2 - LAPSE_RATE * altitude


def permanent_ice(lat: np.ndarray, altitude: np.ndarray) -> np.ndarray:
    """Where glaciers and ice caps lie: annual mean below −13 °C (high mountains, polar)."""
    return annual_mean_temperature(lat, altitude) < -13.0


def greenness(temperature: np.ndarray) -> np.ndarray:
    """Vegetation greenness 0 (dormant) … 1 (full leaf) from the season's temperature."""
    return np.clip((temperature - 4.0) / 11.0, 0.0, 1.0)


def snow_fraction(temperature: np.ndarray, patchiness: np.ndarray) -> np.ndarray:
    """Fraction of the ground under snow: cold spots are snowy, with a sharp snow line.

    Half cover at −2 °C (a date's temperature is a climatological mean, snow needs
    colder than that to lie); ``patchiness`` in [0, 1] (a static noise field: exposure,
    drifts) shifts the local threshold by ±1.5 °C so that the snow line is ragged.
    """
    return np.clip(0.5 - (temperature + 2.0 + 3.0 * (patchiness - 0.5)) / 1.2, 0.0, 1.0)


def snow_age(temperature: np.ndarray) -> np.ndarray:
    """0 for fresh cold powder, 1 for old wet coarse-grained snow near 0 °C."""
    return np.clip((temperature + 10.0) / 10.0, 0.0, 1.0)


def cloudiness_climate(lat: np.ndarray, doy: float) -> np.ndarray:
    """Offset to the large-scale cloudiness: wetter tropics, clear subtropical deserts,
    cloudier mid-latitude winters."""
    alat = np.abs(lat)
    winter = np.cos(2 * np.pi * (doy - np.where(lat >= 0, 20.0, 20.0 + YEAR_DAYS / 2)) / YEAR_DAYS)
    itcz = 0.15 * np.exp(-((alat / 10.0) ** 2))
    desert = -0.35 * np.exp(-(((alat - 24.0) / 8.0) ** 2))
    midlat = 0.12 * winter * np.clip((alat - 30.0) / 20.0, 0.0, 1.0)
    return itcz + desert + midlat
