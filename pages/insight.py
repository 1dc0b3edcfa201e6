"""Beside and below the image: the selected pixels' spectra, the clicked pixel's details, and an
index through the campaign's dates (click a date to go there)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from labeller import spectra, views
from labeller.labelling import LabellingSession
from labeller.store import SampleFilter
from labeller.timeseries import series_rows

SERIES_INDEX_KEY, SERIES_CHART_KEY = "series_index", "series_chart"
REFRESH_KEY = "s2_refresh_beside"
"""A hidden button that reruns the spectra fragment; the page's click queue presses it once a
click's new image is shown and clicks pause (pages/click_queue.html, which also hides it)."""
SESSION = "labelling"
"""Where the Label page keeps its LabellingSession (pages/label.py: SESSION)."""
STATE_COLOURS = {"domain": ["clear", "flagged (cloud)"], "range": ["#1f6feb", "#d62728"]}
WAVELENGTH = {"field": "wavelength_nm", "type": "quantitative", "title": "band centre (nm)"}


@st.fragment
def beside_image() -> None:
    """Spectra and pixel details. Redrawn on full runs and after clicks on the image: once the
    clicked image is shown and clicks pause, the click queue presses the hidden refresh button.
    Not in the click fragment (drawing the chart there made clicks ~2x slower), not rerun by
    the click's callback (the browser then draws the chart before the new image: clicks 2.6x
    slower), not after every click (1.4-1.6x) and not polled (a page busy forever)."""
    st.button("Refresh spectra", key=REFRESH_KEY)
    labelling = st.session_state.get(SESSION)
    if labelling is None or labelling.finished:
        return
    spectra_chart(labelling)
    pixel_details(labelling)


def spectra_chart(labelling: LabellingSession) -> None:
    """The selected pixels' spectra on this date with the label's saved mean ± 1 sd.

    The data go in named datasets and the spec stays the same from click to click, so the
    browser updates the drawn chart's data instead of building the chart anew (which took
    100-200 ms of the browser's time on each click)."""
    scene = labelling.scene()
    lines = spectra.selection_spectra(scene, labelling.selection, labelling.verdict().flagged)
    reference = spectra.reference_band(label_spread(labelling), scene.band_names)
    layers = []
    if not reference.empty:
        data = {"name": "reference"}
        y = {"field": "low", "type": "quantitative", "title": "reflectance"}
        layers += [
            {"data": data, "mark": {"type": "area", "opacity": 0.2, "color": "#444"},
             "encoding": {"x": WAVELENGTH, "y": y, "y2": {"field": "high"}}},
            {"data": data, "mark": {"type": "line", "strokeDash": [5, 3], "color": "#444"},
             "encoding": {"x": WAVELENGTH, "y": {"field": "mean", "type": "quantitative"}}},
        ]  # fmt: skip
    layers.append(
        {
            "data": {"name": "lines"},
            "mark": {"type": "line", "point": {"size": 12}, "strokeWidth": 1, "opacity": 0.8},
            "encoding": {
                "x": WAVELENGTH,
                "y": {"field": "reflectance", "type": "quantitative", "title": "reflectance"},
                "detail": {"field": "pixel"},
                "color": {"field": "state", "title": None, "scale": STATE_COLOURS},
                "tooltip": [
                    {"field": "pixel"},
                    {"field": "band"},
                    {"field": "reflectance", "format": ".3f"},
                ],
            },
        }
    )
    shown = lines["pixel"].nunique() if not lines.empty else 0
    saved = "" if reference.empty else " · dashed: the label's saved mean ± 1 sd"
    st.markdown(f"**Spectra** of {shown} selected pixel{'s' if shown != 1 else ''}{saved}")
    if lines.empty and reference.empty:
        st.caption("Click pixels to see their spectra here.")
        return
    spec = {
        "datasets": {"lines": lines, "reference": reference},
        "layer": layers,
        "height": 260,  # the plot, its axes and a legend of two lines
        # one entry per line: side by side, "flagged (cloud)" was cut off in the narrow column
        "config": {"legend": {"orient": "bottom", "direction": "vertical"}},
    }
    st.vega_lite_chart(spec=spec, width="stretch")


@st.cache_data(show_spinner=False, max_entries=64)
def _spread(_store, url: str, version: str, label_value: float):
    return _store.band_spread(SampleFilter.of(label_values=[label_value]))


def label_spread(labelling: LabellingSession):
    """The label's saved spectra, mean and sd per band; recomputed only when data changes."""
    store = labelling.store
    return _spread(store, store.display_url(), store.data_version(), labelling.campaign.spec.label_value)


def pixel_details(labelling: LabellingSession) -> None:
    """Row/col, lon/lat and band values of the pixel clicked last."""
    if labelling.last_pixel is None:
        return
    flag = labelling.flag_of(labelling.last_pixel)
    d = spectra.pixel_details(labelling.scene(), labelling.aoi, labelling.last_pixel, flag)
    state = "no data" if not d["has data"] else f"flagged ({flag})" if d["flagged (cloud)"] else "clear"
    values = " ".join(f"{b} {v:.3f}" for b, v in d["bands"].items() if v == v)  # v == v: not NaN
    where = f"row {d['row']}, col {d['col']} · {d['lon']:.5f}, {d['lat']:.5f}"
    st.caption(f"**Last clicked**: {where} · {state}  \n{values}")


# --- time series ---------------------------------------------------------------------------


def review_status(labelling: LabellingSession, i: int) -> str:
    review = labelling.review_of(labelling.acquisitions[i])
    return "not reviewed" if review is None else review.status


def time_series(labelling: LabellingSession) -> None:
    """Index of the selection's mean and of the last clicked pixel over the fetched dates."""
    names = list(views.INDEX_NAMES)
    st.session_state.setdefault(SERIES_INDEX_KEY, names[0])
    index = views.index_view(st.session_state[SERIES_INDEX_KEY])
    if labelling.series.automatic:
        labelling.series.fetch_missing(index)
    done, total = labelling.series.progress(index)
    (series_live if done < total and labelling.series.automatic else series_still)()


def fill_series(labelling: LabellingSession, index: views.View) -> None:
    """The user asked for the missing dates of the series (a billed source, or prefetch off)."""
    labelling.series.automatic = True
    labelling.series.fetch_missing(index)


def series_body(live: bool = False) -> None:
    labelling = st.session_state.get(SESSION)
    if labelling is None or labelling.finished:
        return
    names = list(views.INDEX_NAMES)
    head, pick = st.columns([3, 1])
    pick.selectbox("Index", names, key=SERIES_INDEX_KEY, label_visibility="collapsed")
    index = views.index_view(st.session_state[SERIES_INDEX_KEY])
    maps = labelling.series.maps(index)
    done, total = labelling.series.progress(index)
    fetching = labelling.series.automatic and done < total
    note = f" · fetching dates in the background: {done} of {total}" if fetching else ""
    head.markdown(f"**{index.name.split(' ')[0]} through the season** (click a date to go there){note}")
    if done < total and not labelling.series.automatic:
        missing = total - done
        st.button(
            f"Fetch the {missing} other date{'s' if missing != 1 else ''} for this chart",
            help=f"One request per date to {labelling.source.title}; they count against your quota. "
            "Dates you step to are fetched anyway.",
            on_click=fill_series,
            args=(labelling, index),
            key="fill_series",
        )
    statuses = [review_status(labelling, i) for i in range(len(labelling.acquisitions))]
    rows = series_rows(labelling.acquisitions, maps, statuses, labelling.selection, labelling.last_pixel)
    if not rows:
        st.caption("Select pixels to follow them through the season.")
    else:
        draw_series(labelling, rows)
    if live and done >= total:
        st.rerun(scope="app")  # all dates in: once more in full, and stop polling


series_live = st.fragment(run_every=2.0)(lambda: series_body(live=True))
"""Redrawn every 2 s while dates are being fetched, so the progress and new dates show."""
series_still = st.fragment(series_body)


def draw_series(labelling: LabellingSession, rows: list[dict]) -> None:
    """The series with the current date marked. The data go in named datasets and the spec
    stays the same from image to image, so after Save & next the browser updates the drawn
    chart's data instead of building the chart anew (a long task that held back the paint
    of the next image)."""
    current = pd.DataFrame({"date": [labelling.current.time.strftime("%Y-%m-%d")]})
    x = {"field": "date", "type": "temporal", "title": None}
    spec = {
        "datasets": {"current": current, "rows": pd.DataFrame(rows)},
        "height": 170,
        "layer": [
            {"data": {"name": "current"},
             "mark": {"type": "rule", "color": "#f0a000", "strokeWidth": 2}, "encoding": {"x": x}},
            {"data": {"name": "rows"}, "mark": {"type": "line", "opacity": 0.6},
             "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": None},
                          "color": {"field": "series", "title": None}}},
            {"data": {"name": "rows"}, "mark": {"type": "point", "filled": True, "size": 60},
             "params": [{"name": "pick", "select": {"type": "point", "fields": ["i"]}}],
             "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"},
                          "color": {"field": "series", "title": None},
                          "shape": {"field": "status", "title": None,
                                    "scale": {"domain": ["saved", "skipped", "not reviewed"],
                                              "range": ["circle", "cross", "triangle"]}},
                          "tooltip": [{"field": "date"}, {"field": "series"}, {"field": "status"},
                                      {"field": "value", "format": ".2f"}]}},
        ],
        "config": {"legend": {"orient": "bottom"}},
    }  # fmt: skip
    event = st.vega_lite_chart(spec=spec, width="stretch", on_select="rerun", key=SERIES_CHART_KEY)
    picked = (event or {}).get("selection", {}).get("pick") or []
    if picked and "i" in picked[0] and labelling.jump_to(int(picked[0]["i"])):
        st.session_state.pop(SERIES_CHART_KEY, None)
        st.rerun(scope="app")
