"""S2 Pixel Labeller: label single Sentinel-2 pixels through a time series.

Run with ``streamlit run app.py``.
"""

import streamlit as st

st.set_page_config(page_title="S2 Pixel Labeller", page_icon="🛰️", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/label.py", title="Label", icon="🖱️", url_path="label", default=True),
        st.Page("pages/dataset.py", title="Dataset", icon="📊", url_path="dataset"),
    ]
)
navigation.run()
