"""Dataset page: browse, chart, map, export and prune the saved samples."""

from __future__ import annotations

import altair as alt
import streamlit as st

from labeller import export
from pages import ui

META_COLUMNS = ["campaign_id", "label_value", "label_name", "acquired_at", "row", "col", "lon", "lat",
                "cloud_cover", "source", "collection"]


def label_text(value: float, name: str | None) -> str:
    return f"{value:g} {name}".strip() if name else f"{value:g}"


@st.dialog("Delete for good?")
def confirm_delete(what: str, action) -> None:
    st.write(f"This deletes {what} from the label database. It cannot be undone.")
    if st.button("Delete", type="primary"):
        with ui.showing_errors():
            action()
            st.rerun()


def filters(campaigns) -> tuple:
    ids = campaigns["id"].tolist()
    names = {row.id: f"{row.id}: label {label_text(row.label_value, row.label_name)} · {row.source}"
             for row in campaigns.itertuples()}
    left, middle, right = st.columns(3)
    chosen = left.multiselect("Campaigns", ids, format_func=names.get, placeholder="all")
    labels = sorted(campaigns["label_value"].unique().tolist())
    chosen_labels = middle.multiselect("Labels", labels, format_func=lambda v: f"{v:g}", placeholder="all")
    period = right.date_input("Acquired between", value=(), format="YYYY-MM-DD")
    start, end = (period + (None, None))[:2] if isinstance(period, tuple) else (period, None)
    return chosen or None, chosen_labels or None, start, end


def charts(samples) -> None:
    spectra = export.mean_spectra(samples)
    spectra["label"] = [label_text(v, n) for v, n in zip(spectra.label_value, spectra.label_name, strict=True)]
    chart = (
        alt.Chart(spectra)
        .mark_line(point=True)
        .encode(
            x=alt.X("centre_nm:Q", title="Band centre wavelength (nm)"),
            y=alt.Y("reflectance:Q", title="Mean reflectance"),
            color=alt.Color("label:N", title="Label"),
            tooltip=["label", "band", "centre_nm", alt.Tooltip("reflectance:Q", format=".4f")],
        )
    )
    left, right = st.columns(2)
    left.markdown("**Mean spectrum per label**")
    left.altair_chart(chart, use_container_width=True)
    right.markdown("**Sample locations**")
    right.map(samples.drop_duplicates(["lon", "lat"]), latitude="lat", longitude="lon", size=8)


def downloads(samples) -> None:
    left, right, _ = st.columns([1, 1, 2])
    left.download_button("Download CSV", export.to_csv_bytes(samples), "s2_pixel_labels.csv", "text/csv",
                         use_container_width=True)
    right.download_button("Download Parquet", export.to_parquet_bytes(samples), "s2_pixel_labels.parquet",
                          "application/vnd.apache.parquet", use_container_width=True)


def prune(store, campaigns) -> None:
    with st.expander("Delete a campaign or one saved image"):
        ids = campaigns["id"].tolist()
        campaign_id = st.selectbox("Campaign", ids, key="delete_campaign")
        if st.button("Delete this campaign…"):
            confirm_delete(f"campaign {campaign_id} with all its reviews and samples",
                           lambda: store.delete_campaign(campaign_id))
        reviews = store.reviews(campaign_id) if campaign_id is not None else {}
        choices = sorted(reviews, key=lambda k: reviews[k].acquired_at)
        acquisition = st.selectbox(
            "Reviewed image", choices, key="delete_review",
            format_func=lambda k: f"{reviews[k].acquired_at:%Y-%m-%d %H:%M} · {reviews[k].status}, "
                                  f"{reviews[k].n_pixels} pixels",
        )
        if acquisition and st.button("Delete this image's review…"):
            confirm_delete(f"the review of {acquisition} and its samples",
                           lambda: store.delete_review(campaign_id, acquisition))


def page() -> None:
    st.title("Dataset")
    store = ui.get_store()
    campaigns = store.campaigns()
    if campaigns.empty:
        st.info("No campaigns yet. Label some pixels on the Label page first.")
        return
    st.markdown("**Campaigns**")
    st.dataframe(campaigns, hide_index=True, use_container_width=True)
    samples = store.samples(*filters(campaigns))
    st.metric("Samples", f"{len(samples):,}")
    if samples.empty:
        st.info("No samples match these filters.")
    else:
        with st.expander("Counts per campaign, label and date", expanded=False):
            st.dataframe(store.counts(), hide_index=True, use_container_width=True)
        st.dataframe(samples[META_COLUMNS + export.band_columns(samples)], hide_index=True,
                     use_container_width=True, height=300)
        charts(samples)
        downloads(samples)
    prune(store, campaigns)


with ui.showing_errors():
    page()
