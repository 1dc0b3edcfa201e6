"""Spectral tables, a toy atmosphere and the seasonal logic of the offline demo source.

Everything here is a plain function of latitude, altitude, day of year and per-pixel
parameters; the other modules of ``labeller.sources.demo`` supply those from its noise fields.

Surface reflectance endmembers (13 bands, ``L1C.band_names`` order) are *approximate
typical values after* published library spectra, read off at the band centres and
rounded, not convolved with the MSI spectral response functions:

- USGS Spectral Library Version 7 (Kokaly et al. 2017, USGS Data Series 1035): lawn and
  dry grass, conifer and aspen canopies, loam and sandy soils, asphalt, concrete, red
  roofing tile, snow of fine to coarse grain, glacier ice, clear and turbid water;
- ECOSTRESS Spectral Library 1.0 (Meerdink et al. 2019, Remote Sensing of Environment 230,
  111196): vegetation, soils, man-made materials and water.

A toy atmosphere turns surface into top-of-atmosphere (TOA) reflectance,
``toa = path + T·ρ / (1 − S·ρ)``: path reflectance lifts B01/B02 over dark targets (and
grows with the air mass, so winter scenes are hazier), B09 sits in the 940 nm
water-vapour band (low, varying with season and date), and B10 (1375 nm cirrus band)
sees almost nothing of the ground (≈0.001) except over dry cold or high ground. Path,
T and S are typical of a clear mid-latitude atmosphere (aerosol optical depth ≈0.15),
tuned so that forest and meadow match the real Level-1C sample near Ljubljana
(eo-learn example data, 2015-07-11). Clouds are given directly as TOA reflectance,
after typical thick water clouds and the cloudy dates of that sample.

Check against the real sample (TOA reflectance, medians). Real: 2015-07-11 (clear, sun
zenith ≈27°): forest = NDVI > 0.75 and B11 < 0.12; meadow = NDVI > 0.72 and B11 > 0.15;
built = NDVI < 0.35 (the few most built pixels, half garden); cloud = brightest 10 % of
2015-08-20 (a thin cloud: the ground shows through). Demo: ground-truth classes of a
clear scene at 46° N on 2020-06-20 (sun zenith 29°), natural variation included; cloud =
cloud pixels of overcast (≥ 95 %) scenes; snow = a clear late-winter scene at 62° N
(sun zenith 76°); water and bare soil have no pure counterpart in the sample::

    band          B01   B02   B03   B04   B05   B06   B07   B08   B8A   B09   B10   B11   B12
    forest real  .101  .072  .061  .034  .064  .204  .263  .262  .289  .078 .0009  .108  .045
    forest demo  .101  .072  .062  .035  .065  .201  .259  .257  .286  .090 .0008  .108  .045
    meadow real  .102  .074  .067  .038  .081  .263  .340  .337  .378  .100 .0010  .164  .069
    meadow demo  .104  .080  .073  .048  .101  .271  .348  .351  .368  .117 .0008  .180  .078
    built  real  .118  .132  .135  .139  .158  .242  .286  .275  .314  .090 .0012  .287  .178
    built  demo  .117  .105  .108  .107  .128  .178  .206  .222  .232  .081 .0008  .225  .168
    cloud  real  .350  .353  .329  .333  .344  .416  .456  .442  .476  .157 .0024  .368  .301
    cloud  demo  .575  .554  .543  .533  .543  .554  .564  .564  .564  .375  .028  .415  .296
    water  demo  .114  .095  .087  .058  .047  .028  .023  .018  .016 .0050 .0008 .0057 .0030
    bare   demo  .129  .121  .139  .176  .199  .217  .238  .257  .264  .099 .0008  .320  .260
    snow   demo  .762  .818  .842  .842  .809  .801  .792  .765  .711  .486 .0079  .098  .050

NDVI: forest .76 (real .77), meadow .76 (real .79), built .35 (real .32), bare .19,
water −.52. Demo built-up is mostly roofs and paving, darker in the NIR than the
sample's garden-mixed pixels; the demo cloud is thick (opacity 1), the sample's thin.
"""

from __future__ import annotations

import numpy as np

from labeller.bands import L1C

BAND_NAMES: tuple[str, ...] = L1C.band_names
N_BANDS = len(BAND_NAMES)


def _parse(table: str) -> dict[str, np.ndarray]:
    """Rows of a whitespace table (first line: band names) as float32 arrays by row name."""
    header, *lines = table.strip().splitlines()
    assert tuple(header.split()[1:]) == BAND_NAMES
    rows = {}
    for line in lines:
        name, *values = line.split()
        rows[name] = np.array([float(v) for v in values], dtype=np.float32)
        assert rows[name].shape == (N_BANDS,)
    return rows


# Surface reflectance endmembers.
_ENDMEMBERS = _parse("""
name           B01   B02   B03   B04   B05   B06   B07   B08   B8A   B09   B10   B11   B12
water_clear   .045  .050  .050  .028  .020  .012  .010  .008  .007  .004  .002  .003  .002
water_turbid  .050  .065  .095  .075  .065  .030  .025  .020  .018  .010  .005  .006  .003
forest_summer .026  .024  .036  .019  .058  .218  .280  .278  .318  .270  .200  .118  .051
forest_winter .028  .030  .042  .036  .060  .115  .140  .150  .165  .150  .150  .125  .062
grass_green   .028  .032  .046  .026  .095  .305  .390  .390  .420  .360  .250  .185  .075
grass_dormant .050  .060  .082  .100  .130  .170  .200  .220  .235  .225  .220  .290  .190
soil          .070  .090  .130  .180  .210  .230  .250  .270  .285  .290  .300  .350  .300
rock          .120  .135  .155  .175  .185  .195  .205  .215  .220  .225  .240  .260  .220
built         .055  .075  .100  .115  .135  .170  .190  .210  .225  .220  .200  .255  .212
snow_fresh    .950  .955  .945  .925  .905  .885  .860  .830  .800  .680  .350  .110  .060
snow_old      .780  .800  .800  .780  .760  .740  .710  .680  .650  .520  .200  .050  .025
glacier_ice   .580  .600  .590  .550  .520  .500  .470  .440  .420  .350  .150  .035  .025
""")
ENDMEMBER_NAMES: tuple[str, ...] = tuple(_ENDMEMBERS)
ENDMEMBERS = np.stack(list(_ENDMEMBERS.values()))
EM = {name: i for i, name in enumerate(ENDMEMBER_NAMES)}

# Toy atmosphere at the reference air mass (sun zenith 30°, nadir view); a thick cloud.
_ATMOSPHERE = _parse("""
name           B01    B02    B03    B04    B05    B06    B07    B08    B8A    B09    B10    B11    B12
path          .0850  .0550  .0330  .0180  .0150  .0110  .0090  .0070  .0060  .0030  .0008  .0020  .0010
transmittance .6200  .7200  .8000  .8600  .8600  .8800  .9000  .9100  .8900  .2800  .0020  .9000  .8600
sph_albedo    .20    .17    .13    .09    .08    .07    .06    .05    .05    .04    .01    .02    .01
diffuse       .50    .42    .33    .27    .25    .22    .20    .19    .18    .17    .15    .12    .10
cloud         .58    .56    .55    .54    .55    .56    .57    .57    .57    .38    .00    .42    .30
""")
PATH = _ATMOSPHERE["path"]
"""Path (atmospheric) reflectance."""
TRANSMITTANCE = _ATMOSPHERE["transmittance"]
"""Two-way transmittance; B09 and B10 are replaced by ``vapour_transmittance``."""
SPHERICAL_ALBEDO = _ATMOSPHERE["sph_albedo"]
DIFFUSE_SHARE = _ATMOSPHERE["diffuse"]
"""Share of ground irradiance that is diffuse sky light: what is left in a cloud shadow."""
CLOUD_TOA = _ATMOSPHERE["cloud"]
"""Thick water cloud, TOA; B10 is set per date from the cloud-top height."""
B09, B10 = BAND_NAMES.index("B09"), BAND_NAMES.index("B10")
REFERENCE_AIR_MASS = 1.0 + 1.0 / np.cos(np.radians(30.0))

YEAR_DAYS = 365.2425
LAPSE_RATE = 6.5e-3
"""Temperature fall with altitude, °C per metre (standard atmosphere)."""


def atmosphere(sun_zenith: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 13) path reflectance and transmittance for sun zenith angles (n,), degrees.

    A longer path through the air (low sun) raises path reflectance in proportion
    (single scattering) and lowers the total (direct + diffuse) transmittance more
    gently, as light scattered out of the direct beam still reaches the ground; B09 and
    B10 are set per pixel by ``vapour_transmittance``.
    """
    air_mass = relative_air_mass(sun_zenith)[:, None]
    return PATH[None, :] * air_mass, TRANSMITTANCE[None, :] ** np.sqrt(air_mass)


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
    """TOA reflectance of surface reflectance: ``path + T·ρ / (1 − S·ρ)`` (one new array)."""
    toa = SPHERICAL_ALBEDO * surface
    np.subtract(1.0, toa, out=toa)
    np.divide(surface, toa, out=toa)
    toa *= transmittance
    toa += path
    return toa


def annual_mean_temperature(lat: np.ndarray, altitude: np.ndarray) -> np.ndarray:
    """Annual mean temperature (°C) at a latitude and altitude (metres).

    Falls from 27.5 °C on the equator to about 1 °C at 60° and −19 °C at 80° (sea level).
    """
    return 27.5 - 0.0072 * np.abs(lat) ** 2 - LAPSE_RATE * altitude


def coldest_day(lat: np.ndarray) -> np.ndarray:
    """Day of year of the coldest weather: 20 January in the north, half a year later south."""
    return np.where(np.asarray(lat) >= 0, 20.0, 20.0 + YEAR_DAYS / 2)


def sea_level_temperature(lat: np.ndarray, doy: np.ndarray | float) -> np.ndarray:
    """Climatological near-surface temperature (°C) at sea level for a day of year.

    The seasonal swing grows with latitude (±11.5 °C at 46°), so the tropics hardly change.
    """
    phase = 2 * np.pi * (doy - coldest_day(lat)) / YEAR_DAYS
    return annual_mean_temperature(lat, 0.0) - 0.25 * np.abs(lat) * np.cos(phase)


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
    winter = np.cos(2 * np.pi * (doy - coldest_day(lat)) / YEAR_DAYS)
    itcz = 0.15 * np.exp(-((alat / 10.0) ** 2))
    desert = -0.35 * np.exp(-(((alat - 24.0) / 8.0) ** 2))
    midlat = 0.12 * winter * np.clip((alat - 30.0) / 20.0, 0.0, 1.0)
    return itcz + desert + midlat
