"""The yardstick for benchmarks/click_latency.py: a bare Streamlit app with the click component
inside a fragment, a 102 x 102 picture enlarged 5x (510 px, like the labeller's default area), a
click toggling a pixel's outline, and a "k pixels selected" line. Written as a person would."""

import numpy as np
import streamlit as st
from streamlit_image_coordinates import streamlit_image_coordinates

N, F = 102, 5
if "base" not in st.session_state:
    rows, cols = np.indices((N, N))
    noise = np.random.default_rng(0).integers(0, 40, (N, N, 3))
    picture = np.stack([rows * 1.5, cols * 1.5, (rows + cols) * 0.6], axis=-1) + 40 + noise
    st.session_state.base = picture.astype(np.uint8).repeat(F, axis=0).repeat(F, axis=1)
    st.session_state.picked = set()


def toggle():
    click = st.session_state.img
    pixel = (click["y"] * N // click["height"], click["x"] * N // click["width"])
    st.session_state.picked ^= {pixel}


@st.fragment
def clicker():
    image = st.session_state.base.copy()
    for r, c in st.session_state.picked:
        block = image[r * F : (r + 1) * F, c * F : (c + 1) * F]
        block[0, :] = block[-1, :] = block[:, 0] = block[:, -1] = (255, 221, 0)
    st.write(f"{len(st.session_state.picked)} pixels selected")
    streamlit_image_coordinates(image, key="img", on_click=toggle, png_compression_level=1)


st.title("Bare click app")
clicker()
