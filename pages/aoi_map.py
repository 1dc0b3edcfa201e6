"""The folium map on which the user draws the area of interest (one rectangle at a time)."""

from __future__ import annotations

import folium
from branca.element import MacroElement
from folium.plugins import Draw
from jinja2 import Template


class OneRectangleAtATime(MacroElement):
    """Starting a new rectangle removes the previous drawing, so the map shows one AOI.

    streamlit-folium reports ``window.drawnItems`` as ``all_drawings``.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on('draw:drawstart', function () {
            if (window.drawnItems) { window.drawnItems.clearLayers(); }
        });
        {% endmacro %}"""
    )


def aoi_map() -> folium.Map:
    """The same map every run (a changed map would remount and lose its drawing)."""
    fmap = folium.Map(location=[0, 0], zoom_start=2, tiles="OpenStreetMap")
    Draw(
        draw_options={k: False for k in ("polyline", "polygon", "circle", "marker", "circlemarker")}
        | {"rectangle": {"shapeOptions": {"color": "#ff7800"}}},
        edit_options={"edit": False},
        show_geometry_on_click=False,
    ).add_to(fmap)
    OneRectangleAtATime().add_to(fmap)
    return fmap


def aoi_outline(bbox: tuple[float, float, float, float] | None) -> folium.FeatureGroup:
    """The AOI in use, drawn in blue; added without remounting the map."""
    group = folium.FeatureGroup(name="AOI")
    if bbox is not None:
        west, south, east, north = bbox
        folium.Rectangle([[south, west], [north, east]], color="#1f6feb", weight=2, fill=False).add_to(group)
    return group


if __name__ == "__main__":  # opened as a page: a stray /aoi_map link on a fresh server
    from pages import ui

    ui.run_through_app()
