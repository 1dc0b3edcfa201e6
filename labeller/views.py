"""Views of a scene: band composites stretched per image, spectral indices with a colour map.

A composite maps three bands to red, green and blue. By default each channel is stretched per
image between robust percentiles of the valid pixels (2 % and 98 %), so a bright winter image is
not all white; the fixed stretch instead maps 0 to ``View.fixed_max`` reflectance on every date,
to compare dates. An index view shows ``(a - b) / (a + b)`` on a colour map from -1 to 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from labeller.bands import BAND_BY_NAME
from labeller.errors import InvalidInputError

PERCENTILES = (2.0, 98.0)
"""Robust stretch limits: the darkest and brightest 2 % of valid pixels saturate."""
GAMMA = 1 / 1.2
"""Applied after the stretch: lifts dark surfaces (water, forest) a little."""
Stretch = Literal["auto", "fixed"]
STRETCHES: dict[str, str] = {
    "auto": "Stretched to this image",
    "fixed": "Fixed (compare dates)",
}

Colormap = tuple[tuple[float, tuple[int, int, int]], ...]
"""Stops from -1 to 1: (value, RGB)."""
GREENS: Colormap = ((-1.0, (84, 48, 5)), (0.0, (246, 232, 195)), (0.3, (199, 234, 129)), (1.0, (0, 104, 55)))
BLUES: Colormap = ((-1.0, (140, 81, 10)), (0.0, (245, 245, 245)), (1.0, (8, 48, 107)))
SNOWS: Colormap = (
    (-1.0, (64, 0, 75)),
    (0.0, (200, 160, 120)),
    (0.5, (245, 245, 245)),
    (0.8, (0, 150, 255)),
    (1.0, (0, 60, 200)),
)
NAN_RGB = (128, 128, 128)
"""An index without a value (both bands 0): mid grey."""


@dataclass(frozen=True)
class View:
    """One way of showing a scene."""

    key: str
    """Short stable id, kept in the page address (``?view=``)."""
    name: str
    """Shown in the view list."""
    bands: tuple[str, ...]
    """Three bands (red, green, blue) for a composite, two (a, b) for an index (a - b) / (a + b)."""
    kind: Literal["composite", "index", "layer"] = "composite"
    fixed_max: float = 0.4
    """Composite, fixed stretch: reflectance shown at full brightness."""
    colormap: Colormap = field(default=GREENS)
    """Index: colour map from -1 to 1."""
    note: str = ""
    """One line on what the view is for."""


VIEWS: dict[str, View] = {
    v.key: v
    for v in (
        View("true", "True colour (B04, B03, B02)", ("B04", "B03", "B02"), note="As the eye sees it."),
        View(
            "false",
            "False colour (B08, B04, B03)",
            ("B08", "B04", "B03"),
            fixed_max=0.55,
            note="Vegetation red, water dark, built-up cyan.",
        ),
        View(
            "swir",
            "SWIR (B12, B8A, B04)",
            ("B12", "B8A", "B04"),
            fixed_max=0.55,
            note="Snow dark red-green, cloud bright; burnt areas red.",
        ),
        View(
            "snow",
            "Snow vs cloud (B11, B12, B03)",
            ("B11", "B12", "B03"),
            fixed_max=0.8,
            note="Snow deep blue (it absorbs at 1.6 and 2.2 µm), cloud white to yellow.",
        ),
        View(
            "ndvi",
            "NDVI (B08, B04)",
            ("B08", "B04"),
            kind="index",
            colormap=GREENS,
            note="Green: vegetation.",
        ),
        View(
            "ndwi", "NDWI (B03, B08)", ("B03", "B08"), kind="index", colormap=BLUES, note="Blue: open water."
        ),
        View(
            "ndsi",
            "NDSI (B03, B11)",
            ("B03", "B11"),
            kind="index",
            colormap=SNOWS,
            note="Blue: snow (about 0.6 and above); cloud stays lower, white to tan.",
        ),
    )
}
DEFAULT_VIEW = next(iter(VIEWS))
"""Key of the view shown first (true colour)."""
CLOUD_LAYER = "cloud_probability"
"""``Scene.extra`` layer of per-pixel cloud probability (0–1), where a source or the cloud
module provides one; offered as a view then (issue 10, hook for the cloud issue)."""
CLOUD_VIEW_KEY = "cloud"
REDS: Colormap = ((-1.0, (20, 20, 20)), (0.0, (120, 120, 120)), (0.4, (255, 220, 60)), (1.0, (220, 20, 20)))
INDEX_NAMES = ("NDVI", "NDWI", "NDSI")


def cloud_view() -> View:
    """The cloud-probability layer, 0 (dark) to 1 (red), on the index colour scale."""
    return View(
        CLOUD_VIEW_KEY,
        "Cloud probability",
        (CLOUD_LAYER,),
        kind="layer",
        colormap=REDS,
        note="Per-pixel cloud probability: dark 0, yellow 0.7, red 1.",
    )


def view_of_key(key: str, available: Sequence[str]) -> View:
    """The view a page address names (``true``, ``ndvi``, ``custom-B12-B11-B8A``…); the default
    view for a key it does not know (an old or mistyped address)."""
    if key in VIEWS:
        return VIEWS[key]
    if key == CLOUD_VIEW_KEY:
        return cloud_view()
    parts = key.split("-")
    if len(parts) == 4 and parts[0] == "custom":
        try:
            return custom_view(*parts[1:], available)
        except InvalidInputError:
            pass
    return VIEWS[DEFAULT_VIEW]


def custom_view(red: str, green: str, blue: str, available: Sequence[str]) -> View:
    """A composite of any three bands the scene carries, or an error saying which band is wrong."""
    chosen = (red, green, blue)
    for colour, band in zip(("red", "green", "blue"), chosen, strict=True):
        if band not in BAND_BY_NAME:
            raise InvalidInputError(
                f"{band!r} (for {colour}) is not a Sentinel-2 band; choose one of {', '.join(available)}."
            )
        if band not in available:
            raise InvalidInputError(
                f"This collection has no {band} (for {colour}); choose one of {', '.join(available)}."
            )
    return View(
        f"custom-{red}-{green}-{blue}",
        f"Custom ({red}, {green}, {blue})",
        chosen,
        fixed_max=0.5,
        note="Your own composite.",
    )


def index_view(name: str) -> View:
    """The index view named ``NDVI``, ``NDWI`` or ``NDSI``."""
    if name.lower() in VIEWS and VIEWS[name.lower()].kind == "index":
        return VIEWS[name.lower()]
    raise InvalidInputError(f"Unknown index {name!r}; choose one of {', '.join(INDEX_NAMES)}.")


# --- maths ----------------------------------------------------------------------------------


def normalised_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (a + b) as float32, NaN where a + b is 0 or either input is NaN; clipped to [-1, 1]."""
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    total = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(total != 0, (a - b) / np.where(total != 0, total, 1), np.nan)
    return np.clip(value, -1.0, 1.0).astype(np.float32)


def stretch_limits(stack: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(2, channels) low and high stretch limits: the robust percentiles over valid pixels only.

    A channel whose percentiles coincide (a nearly constant image) takes its maximum as the
    high limit; a truly constant channel keeps low == high, which ``apply_stretch`` shows at the
    fixed stretch. No valid pixel: zeros.
    """
    channels = stack.shape[-1]
    values = stack[valid]
    values = values[np.isfinite(values).all(axis=-1)]
    if not len(values):
        return np.zeros((2, channels), dtype=np.float32)
    low, high = np.percentile(values, PERCENTILES, axis=0)
    high = np.where(high > low, high, values.max(axis=0))
    return np.stack([low, high]).astype(np.float32)


def apply_stretch(
    stack: np.ndarray, limits: np.ndarray, fixed_max: float, brightness: float = 1.0
) -> np.ndarray:
    """Reflectance (rows, cols, ch) → 0..1: (v - low) / (high - low) per channel, or v / fixed_max
    where low == high; then times ``brightness``, clipped, gamma applied."""
    low, high = limits
    span = high - low
    flat = span <= 0
    scaled = np.where(flat, stack / fixed_max, (stack - low) / np.where(flat, 1.0, span))
    return np.clip(np.nan_to_num(scaled * brightness, nan=0.0), 0.0, 1.0) ** GAMMA


def colorize(values: np.ndarray, colormap: Colormap) -> np.ndarray:
    """Index values in [-1, 1] → (…, 3) uint8 on the colour map; NaN → ``NAN_RGB``."""
    stops = np.array([s for s, _ in colormap], dtype=np.float32)
    colours = np.array([c for _, c in colormap], dtype=np.float32)
    v = np.nan_to_num(np.clip(values, -1.0, 1.0), nan=0.0)
    rgb = np.stack([np.interp(v, stops, colours[:, k]) for k in range(3)], axis=-1)
    rgb = np.where(np.isnan(values)[..., None], np.array(NAN_RGB, dtype=np.float32), rgb)
    return (rgb + 0.5).astype(np.uint8)


def legend(view: View, width: int = 240, height: int = 14) -> np.ndarray:
    """(height, width, 3) uint8 colour bar from -1 (left) to 1 (right) of an index view."""
    ramp = colorize(np.linspace(-1.0, 1.0, width, dtype=np.float32), view.colormap)
    return np.repeat(ramp[None, :, :], height, axis=0)


@dataclass(frozen=True)
class Display:
    """How the chosen view is drawn."""

    view: View
    stretch: Stretch = "auto"
    brightness: float = 1.0
    """Multiplies the stretched values: 1 as computed, 1.5 brighter, 0.7 darker."""


def band_stack(bands: np.ndarray, band_names: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """(rows, cols, len(wanted)) float32 of the wanted bands, or an error naming a missing one."""
    missing = [b for b in wanted if b not in band_names]
    if missing:
        raise InvalidInputError(
            f"This image has no {', '.join(missing)}; choose another view (it has {', '.join(band_names)})."
        )
    return np.stack([bands[..., list(band_names).index(b)] for b in wanted], axis=-1).astype(np.float32)


def to_rgb(
    bands: np.ndarray,
    band_names: Sequence[str],
    valid: np.ndarray,
    display: Display,
    limits: np.ndarray | None = None,
    layers: dict | None = None,
) -> np.ndarray:
    """(rows, cols, 3) uint8 of the display's view (invalid pixels not yet masked). ``limits``
    from ``stretch_limits`` may be passed in to reuse them (computed once per scene and view);
    ``layers``: a scene's extra layers, for a layer view."""
    view = display.view
    if view.kind == "layer":
        layer = (layers or {}).get(view.bands[0])
        if layer is None:
            raise InvalidInputError(f"This image has no {view.name.lower()} layer; choose another view.")
        return colorize(np.asarray(layer, dtype=np.float32) * 2.0 - 1.0, view.colormap)
    stack = band_stack(bands, band_names, view.bands)
    if view.kind == "index":
        return colorize(normalised_difference(stack[..., 0], stack[..., 1]), view.colormap)
    if display.stretch == "fixed":
        limits = np.zeros((2, 3), dtype=np.float32)  # low == high everywhere: v / fixed_max
    elif limits is None:
        limits = stretch_limits(stack, valid)
    return (apply_stretch(stack, limits, view.fixed_max, display.brightness) * 255.0 + 0.5).astype(np.uint8)
