"""Beside and below the image: the selected pixels' spectra, the clicked pixel's details, and an
index through the campaign's dates (click a date to go there)."""

from __future__ import annotations

import streamlit as st

from labeller import spectra, views
from labeller.labelling import LabellingSession
from labeller.store import SampleFilter
from labeller.timeseries import series_rows

SERIES_INDEX_KEY, SERIES_CHART_KEY = "series_index", "series_chart"
BESIDE_EVERY_S = 1.5
SESSION = "labelling"
"""Where the Label page keeps its LabellingSession (pages/label.py: SESSION)."""
STATE_COLOURS = {"domain": ["clear", "flagged (cloud)"], "range": ["#1f6feb", "#d62728"]}
WAVELENGTH = {"field": "wavelength_nm", "type": "quantitative", "title": "band centre (nm)"}


@st.fragment(run_every=BESIDE_EVERY_S)
def beside_image() -> None:
    """Spectra and pixel details, redrawn every ``BESIDE_EVERY_S`` (the selection changes in
    the click fragment, which must stay small: drawn there, the chart made clicks ~2x slower)."""
    labelling = st.session_state.get(SESSION)
    if labelling is None or labelling.finished:
        return
    spectra_chart(labelling)
    pixel_details(labelling)


def spectra_chart(labelling: LabellingSession) -> None:
    """The selected pixels' spectra on this date with the label's saved mean ± 1 sd."""
    scene = labelling.scene()
    lines = spectra.selection_spectra(scene, labelling.selection)
    reference = spectra.reference_band(label_spread(labelling), scene.band_names)
    layers = []
    if not reference.empty:
        data = {"values": reference.to_dict("records")}
        y = {"field": "low", "type": "quantitative", "title": "reflectance"}
        layers += [
            {"data": data, "mark": {"type": "area", "opacity": 0.2, "color": "#444"},
             "encoding": {"x": WAVELENGTH, "y": y, "y2": {"field": "high"}}},
            {"data": data, "mark": {"type": "line", "strokeDash": [5, 3], "color": "#444"},
             "encoding": {"x": WAVELENGTH, "y": {"field": "mean", "type": "quantitative"}}},
        ]  # fmt: skip
    if not lines.empty:
        layers.append(
            {
                "data": {"values": lines.to_dict("records")},
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
    if not layers:
        st.caption("Click pixels to see their spectra here.")
        return
    spec = {"layer": layers, "height": 210, "config": {"legend": {"orient": "bottom"}}}
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
    d = spectra.pixel_details(labelling.scene(), labelling.aoi, labelling.last_pixel)
    state = "no data" if not d["has data"] else "flagged (cloud)" if d["flagged (cloud)"] else "clear"
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
    labelling.series.fetch_missing(index)
    done, total = labelling.series.progress(index)
    (series_live if done < total else series_still)()


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
    note = "" if done >= total else f" · fetching dates in the background: {done} of {total}"
    head.markdown(f"**{index.name.split(' ')[0]} through the season** (click a date to go there){note}")
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
    current = labelling.current.time.strftime("%Y-%m-%d")
    x = {"field": "date", "type": "temporal", "title": None}
    spec = {
        "height": 170,
        "layer": [
            {"data": {"values": [{"date": current}]},
             "mark": {"type": "rule", "color": "#f0a000", "strokeWidth": 2}, "encoding": {"x": x}},
            {"data": {"values": rows}, "mark": {"type": "line", "opacity": 0.6},
             "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": None},
                          "color": {"field": "series", "title": None}}},
            {"data": {"values": rows}, "mark": {"type": "point", "filled": True, "size": 60},
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
    if picked and "i" in picked[0] and int(picked[0]["i"]) != labelling.index:
        labelling.go(int(picked[0]["i"]))
        st.session_state.pop(SERIES_CHART_KEY, None)
        st.rerun(scope="app")
