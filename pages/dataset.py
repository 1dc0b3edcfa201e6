"""Dataset page: browse, chart, map, export, import and prune the saved samples.

Built for a million samples: the database counts, averages and picks the rows shown
(cached until the data changes), and export files are built only when a download
button is clicked, streamed from the database in pieces.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from labeller import export, importing, spectra
from labeller.bands import by_wavelength
from labeller.store import SampleFilter, Store
from pages import ui

META_COLUMNS = [
    "campaign_id",
    "label_value",
    "label_name",
    "acquired_at",
    "row",
    "col",
    "lon",
    "lat",
    "cloud_cover",
    "cloud_probability",
    "scl_class",
    "cloud_flagged",
    "cloud_included",
    "source",
    "collection",
    "labeller",
]
PREVIEW_ROWS = 1000
MAP_POINTS = 5000
MEAN_OF_AT_MOST = 200_000  # beyond this many samples, mean spectra use every n-th sample
NO_NAME = "(no name)"
IMPORT_ROUND = "_import_round"


def label_text(value: float, name: str | None) -> str:
    return f"{value:g} {name}".strip() if name else f"{value:g}"


@st.cache_data(show_spinner="Reading the samples…", max_entries=32)
def summary(_store: Store, database: str, version: str, key: str, _where: SampleFilter) -> dict:
    """What the page shows of the filtered samples; recomputed only when the data changes."""
    count = _store.count_samples(_where)
    every = -(-count // MEAN_OF_AT_MOST) if count > MEAN_OF_AT_MOST else 1
    return {
        "count": count,
        "every": every,
        "means": _store.band_means(_where, every),
        "points": _store.sample_points(_where, MAP_POINTS),
        "preview": _store.sample_preview(_where, PREVIEW_ROWS),
        "counts": _store.counts(_where),
    }


@st.dialog("Delete for good?")
def confirm_delete(what: str, action) -> None:
    st.write(f"This deletes {what} from the label database. It cannot be undone.")
    if st.button("Delete", type="primary"):
        with ui.showing_errors():
            action()
            st.rerun()


def filters(campaigns, labellers: list[str | None]) -> SampleFilter:
    ids = campaigns["id"].tolist()
    names = {
        row.id: f"{row.id}: label {label_text(row.label_value, row.label_name)} · {row.source}"
        for row in campaigns.itertuples()
    }
    first, second, third, fourth = st.columns(4)
    chosen = first.multiselect("Campaigns", ids, format_func=names.get, placeholder="all")
    labels = sorted(campaigns["label_value"].unique().tolist())
    chosen_labels = second.multiselect("Labels", labels, format_func=lambda v: f"{v:g}", placeholder="all")
    period = third.date_input("Acquired between", value=(), format="YYYY-MM-DD")
    start, end = (period + (None, None))[:2] if isinstance(period, tuple) else (period, None)
    people = fourth.multiselect(
        "Labellers", labellers, format_func=lambda n: NO_NAME if n is None else n, placeholder="all"
    )
    return SampleFilter.of(chosen or None, chosen_labels or None, start, end, people or None)


def charts(means, points, count: int, every: int) -> None:
    # B10 (1375 nm) sees cirrus in the atmosphere, not the surface: left out of the chart so
    # the line does not dip through it.
    lines = spectra.label_spectra(means)
    lines = lines[lines["band"] != "B10"]
    lines["label"] = [label_text(v, n) for v, n in zip(lines.label_value, lines.label_name, strict=True)]
    chart = (
        alt.Chart(lines)
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
    left.altair_chart(chart, width="stretch")
    left.caption("B10 (cirrus, 1375 nm) is left out of the chart; it is in every export.")
    if every > 1:
        left.caption(
            f"Means of every {every}th sample ({count // every:,} of {count:,}), spread over all saves."
        )
    right.markdown("**Sample locations**")
    right.map(points, latitude="lat", longitude="lon", size=8)
    right.caption(
        f"{len(points):,} distinct locations of {count:,} samples (the most recent ones, at most 5,000)."
    )


def downloads(store: Store, where: SampleFilter, campaigns, count: int) -> None:
    """Five buttons; each file is built from the database only when its button is clicked."""
    st.markdown("**Download** (built when you click; a million samples take a few seconds)")
    files = [
        ("Download CSV", "csv", "text/csv", lambda: export.to_csv_bytes(store.sample_batches(where))),
        (
            "Download Parquet",
            "parquet",
            "application/vnd.apache.parquet",
            lambda: export.to_parquet_bytes(store.sample_batches(where), campaigns),
        ),
        (
            "Download GeoJSON",
            "geojson",
            "application/geo+json",
            lambda: export.to_geojson_bytes(store.sample_batches(where)),
        ),
        (
            "Download ML-ready Parquet",
            "ml.parquet",
            "application/vnd.apache.parquet",
            lambda: export.to_ml_parquet_bytes(store.sample_batches(where), campaigns),
        ),
        (
            "Download reviews CSV",
            "reviews.csv",
            "text/csv",
            lambda: export.to_csv_bytes(store.review_table(where)),
        ),
    ]
    helps = {
        "Download CSV": export.CSV_FORMULA_NOTE,
        "Download reviews CSV": "One row per reviewed image: saved or skipped, and why it was skipped.",
        "Download Parquet": "Typed columns with units, wavelengths and CRS in the file; import it elsewhere.",
        "Download GeoJSON": "Points in WGS84 with every column as properties.",
        "Download ML-ready Parquet": "With grouping keys (campaign, acquisition, native 20 m and 60 m pixel) "
        "so that a train/test split can keep neighbours together.",
    }
    too_big = count > export.GEOJSON_MAX_ROWS
    for column, (label, suffix, mime, build) in zip(st.columns(len(files)), files, strict=True):
        disabled = suffix == "geojson" and too_big
        column.download_button(
            label,
            data=_reporting(build),
            file_name=f"s2_pixel_labels.{suffix}",
            mime=mime,
            on_click="ignore",
            width="stretch",
            disabled=disabled,
            help=(
                f"GeoJSON is offered up to {export.GEOJSON_MAX_ROWS:,} samples; filter, or use Parquet."
                if disabled
                else helps.get(label)
            ),
        )


def _reporting(build):
    """The builder, with its failure logged (the browser only says the download failed)."""

    def run() -> bytes:
        try:
            return build()
        except Exception as error:
            ui.log.error("Download failed: %s", ui.message_for(error))
            raise

    return run


def importer(store: Store, expanded: bool) -> None:
    with st.expander("Import a Parquet export", expanded=expanded):
        st.caption(
            "Merge samples exported on another machine (Download Parquet). Campaigns are matched by "
            "area and label; samples already here are left as they are, so importing twice adds nothing."
        )
        key = f"import_file_{st.session_state.get(IMPORT_ROUND, 0)}"
        uploaded = st.file_uploader("Parquet export", type=["parquet"], key=key)
        st.button("Import", disabled=uploaded is None, on_click=ui.callback(import_file), args=(store, key))


def import_file(store: Store, key: str) -> None:
    uploaded = st.session_state.get(key)
    if uploaded is None:
        return
    report = store.import_samples(importing.read_import(uploaded.getvalue()))
    ui.flash(f"Imported {uploaded.name}: {report.describe()}", kind="success")
    st.session_state[IMPORT_ROUND] = st.session_state.get(IMPORT_ROUND, 0) + 1  # a fresh uploader


def prune(store: Store, campaigns) -> None:
    with st.expander("Delete a campaign or one saved image"):
        ids = campaigns["id"].tolist()
        campaign_id = st.selectbox("Campaign", ids, key="delete_campaign")
        if st.button("Delete this campaign…"):
            confirm_delete(
                f"campaign {campaign_id} with all its reviews and samples",
                lambda: store.delete_campaign(campaign_id),
            )
        reviews = store.reviews(campaign_id) if campaign_id is not None else {}
        choices = sorted(reviews, key=lambda k: reviews[k].acquired_at)
        acquisition = st.selectbox(
            "Reviewed image",
            choices,
            key="delete_review",
            format_func=lambda k: (
                f"{reviews[k].acquired_at:%Y-%m-%d %H:%M} · {reviews[k].status}, "
                f"{reviews[k].n_pixels} pixels" + (f" · {reviews[k].labeller}" if reviews[k].labeller else "")
            ),
        )
        if acquisition and st.button("Delete this image's review…"):
            shown = reviews[acquisition]  # refused if someone changes it before the confirmation
            confirm_delete(
                f"the review of {acquisition} and its samples",
                lambda: store.delete_review(campaign_id, acquisition, expected=shown),
            )


def page() -> None:
    st.title("Dataset")
    ui.storage_warning()
    ui.show_flashes()
    store = ui.get_store()
    campaigns = store.campaigns()
    if campaigns.empty:
        st.info("No campaigns yet. Label some pixels on the Label page first, or import an export.")
        importer(store, expanded=True)
        return
    st.markdown("**Campaigns**")
    st.dataframe(campaigns, hide_index=True, width="stretch")
    where = filters(campaigns, store.labellers())
    shown = summary(store, store.display_url(), store.data_version(), repr(where), where)
    count = shown["count"]
    st.metric("Samples", f"{count:,}")
    if count == 0:
        st.info("No samples match these filters.")
    else:
        with st.expander("Counts per campaign, label and date", expanded=False):
            st.dataframe(shown["counts"], hide_index=True, width="stretch")
        preview = shown["preview"]
        if count > len(preview):
            st.caption(
                f"The {len(preview):,} most recently saved of {count:,} samples; download them all below."
            )
        st.dataframe(
            preview[META_COLUMNS + by_wavelength(preview.columns)],
            hide_index=True,
            width="stretch",
            height=300,
        )
        included = int(preview["cloud_included"].fillna(False).sum())
        st.caption(
            "Per sample: cloud_probability (s2cloudless, Level-1C) or scl_class (Level-2A), "
            f"cloud_flagged and cloud_included. {included:,} of these {len(preview):,} samples were "
            "saved although they looked cloudy (included on purpose)."
        )
        charts(shown["means"], shown["points"], count, shown["every"])
        downloads(store, where, campaigns, count)
    importer(store, expanded=False)
    prune(store, campaigns)


ui.run_through_app()
with ui.showing_errors():
    page()
