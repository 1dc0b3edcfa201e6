"""S2 Pixel Labeller: label single Sentinel-2 pixels through a time series.

Run with ``streamlit run app.py``.
"""

import streamlit as st

st.set_page_config(page_title="S2 Pixel Labeller", page_icon=":material/satellite_alt:", layout="wide")

# Less empty space above the page, so the enlarged image fits a laptop screen.
st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}</style>")

from pages import ui  # noqa: E402 - after set_page_config

# Shared by both pages: who is labelling (sidebar, kept in the URL).
with ui.showing_errors():
    ui.labeller_name()

navigation = st.navigation(
    [
        st.Page("pages/label.py", title="Label", icon=":material/ads_click:", url_path="label", default=True),
        st.Page("pages/dataset.py", title="Dataset", icon=":material/table_chart:", url_path="dataset"),
    ]
)
navigation.run()
ui.freeze_startup_objects()
