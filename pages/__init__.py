"""Streamlit pages, listed by ``app.py`` with ``st.navigation``. Thin: widgets in, ``labeller`` calls out."""
