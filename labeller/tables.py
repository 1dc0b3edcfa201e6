"""What the store and the exports share: the conventions of the samples table.

The store (``labeller.store``) writes and reads the table; the exports (``labeller.export``)
and the import checks (``labeller.importing``) turn it into files and back. Both sides
import this module and neither imports the other, so the direction is one way:
``store -> tables <- export``. No SQL and no file format here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from labeller.bands import ALL_BAND_NAMES
from labeller.campaign import CampaignSpec

SCHEMA_VERSION = 4
"""Version of the store's tables (see ``labeller.store.migrations``); exports record it."""
BAND_COLUMNS: tuple[str, ...] = ALL_BAND_NAMES
"""The band columns of a sample, in order of centre wavelength (``bands.by_wavelength``)."""
CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "campaign_key",
    "campaign_min_lon",
    "campaign_min_lat",
    "campaign_max_lon",
    "campaign_max_lat",
)
"""Added to every sample frame: the campaign's identity, so an export can be imported
elsewhere (campaign ids are local to one database; the key is the same everywhere)."""
_PANDAS_TYPES = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan), pa.bool_(): pd.BooleanDtype()}


def utc_times(series: pd.Series) -> pd.Series:
    """Timezone-aware UTC microsecond times from datetimes or ISO 8601 text."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        out = series.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(series.dtype):
        out = series.dt.tz_localize("UTC")
    elif len(series) and isinstance(series.iloc[0], str):
        out = pd.to_datetime(series, format="ISO8601", utc=True)
    else:
        out = pd.to_datetime(series, utc=True)
    return out.dt.as_unit("us")


def utc_timestamps(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every datetime column in UTC (naive columns are taken to be UTC)."""
    out = df.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            out[name] = column.dt.tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(column.dtype):
            out[name] = column.dt.tz_localize("UTC")
    return out


def arrow_to_frame(item: pa.RecordBatch | pa.Table) -> pd.DataFrame:
    """Arrow data as a DataFrame: text as pyarrow strings, booleans nullable, times in µs."""
    frame = item.to_pandas(types_mapper=_PANDAS_TYPES.get)
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.as_unit("us")
    return frame


@dataclass(frozen=True)
class ImportRows:
    """Samples from elsewhere, checked and ready to merge (``importing.read_import``
    builds it; ``Store.import_samples`` writes it)."""

    groups: tuple[tuple[CampaignSpec, pd.DataFrame], ...]
    """Per campaign: its spec and its sample rows, with stable dtypes and on its grid."""
    n_input: int
    """Rows in the input, repeats included (those not added count as duplicates)."""
