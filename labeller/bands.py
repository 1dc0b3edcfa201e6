"""Sentinel-2 MSI bands and the collections that carry them.

Centre wavelengths are the Sentinel-2A values of the ESA Sentinel-2 User Handbook
(MSI spectral response, ESA 2015), in nanometres.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    """One MSI band."""

    name: str
    """Sentinel-2 name, e.g. ``B8A``."""
    centre_nm: float
    """Centre wavelength in nanometres (Sentinel-2A)."""
    resolution_m: int
    """Native ground sampling distance in metres."""


BANDS: tuple[Band, ...] = (
    Band("B01", 442.7, 60),
    Band("B02", 492.4, 10),
    Band("B03", 559.8, 10),
    Band("B04", 664.6, 10),
    Band("B05", 704.1, 20),
    Band("B06", 740.5, 20),
    Band("B07", 782.8, 20),
    Band("B08", 832.8, 10),
    Band("B8A", 864.7, 20),
    Band("B09", 945.1, 60),
    Band("B10", 1373.5, 60),
    Band("B11", 1613.7, 20),
    Band("B12", 2202.4, 20),
)
BAND_BY_NAME: dict[str, Band] = {b.name: b for b in BANDS}


def by_wavelength(names) -> list[str]:
    """The Sentinel-2 band names among ``names``, in order of centre wavelength (the one
    band order of the store, the exports and the charts); other names are left out."""
    return sorted((n for n in names if n in BAND_BY_NAME), key=lambda n: BAND_BY_NAME[n].centre_nm)


ALL_BAND_NAMES: tuple[str, ...] = tuple(by_wavelength(b.name for b in BANDS))
"""All thirteen bands, in order of centre wavelength (B08 before B8A)."""


@dataclass(frozen=True)
class Collection:
    """A Sentinel-2 product level as a source serves it."""

    id: str
    """API id as Sentinel Hub names it, e.g. ``sentinel-2-l1c``."""
    title: str
    """Human name for the selector."""
    band_names: tuple[str, ...]
    """Bands in the order scenes carry them."""


L1C = Collection("sentinel-2-l1c", "Level-1C (top of atmosphere, 13 bands)", ALL_BAND_NAMES)
L2A = Collection(
    "sentinel-2-l2a",
    "Level-2A (bottom of atmosphere, 12 bands)",
    tuple(n for n in ALL_BAND_NAMES if n != "B10"),
)
COLLECTIONS: dict[str, Collection] = {c.id: c for c in (L1C, L2A)}


OFFSET_BASELINE = (4, 0)
"""ESA processing baseline 04.00 (25 January 2022) added +1000 to every Level-1C and
Level-2A digital number; harmonising removes it again."""


def offset_removed(baselines: str | None) -> bool | None:
    """What harmonising did to the values of an acquisition with these baselines (one, or
    several joined by ``/``): True when some tile carried the +1000 offset, which was removed;
    False when none did (values delivered as they were); None when the baseline is unknown."""
    parsed = []
    for text in (baselines or "").split("/"):
        try:
            major, minor = text.strip().split(".")
            parsed.append((int(major), int(minor)))
        except ValueError:
            continue
    if not parsed:
        return None
    return any(b >= OFFSET_BASELINE for b in parsed)
