"""Test-side helpers the app itself does not need: a reference computation of the mean
spectra, a CSV export read back for an import, and the store's samples as DataFrame chunks."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pandas as pd

from labeller import spectra
from labeller.bands import by_wavelength
from labeller.store import Store
from labeller.store.frames import arrow_to_frame
from labeller.store.records import SampleFilter

TEXT_COLUMNS = (
    "acquisition_id",
    "label_name",
    "source",
    "collection",
    "tile_id",
    "processing_baseline",
    "labeller",
    "campaign_key",
)
"""Columns that hold text even when they look like numbers (e.g. baseline ``05.10``)."""


def mean_spectra(samples: pd.DataFrame) -> pd.DataFrame:
    """Reference for ``spectra.label_spectra(store.band_means())``: the same long-format
    spectra from means computed in pandas from every sample."""
    bands = by_wavelength(samples.columns)
    if samples.empty or not bands:
        return spectra.label_spectra(pd.DataFrame(columns=["label_value", "label_name"]))
    means = samples.groupby(["label_value", "label_name"], sort=True, dropna=False)[bands].mean()
    return spectra.label_spectra(means.reset_index())


def read_csv_export(data: bytes) -> pd.DataFrame:
    """A CSV export read back as a person would, with its text columns as text."""
    return pd.read_csv(io.BytesIO(data), dtype={name: "str" for name in TEXT_COLUMNS})


def sample_chunks(
    store: Store, where: SampleFilter | None = None, chunk_rows: int = 65_536
) -> Iterator[pd.DataFrame]:
    """``store.sample_batches`` as DataFrames with the dtypes of ``store.samples()``."""
    for batch in store.sample_batches(where, chunk_rows):
        yield arrow_to_frame(batch)
