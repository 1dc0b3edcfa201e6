"""S2 Pixel Labeller domain: geometry, sources, rendering, selection, store. No Streamlit here."""
