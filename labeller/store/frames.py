"""DataFrames from query results and Arrow batches, with the dtypes the store has always given."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from labeller.store.schema import UTCDateTime
from labeller.tables import arrow_to_frame, utc_times

__all__ = ["arrow_to_frame", "result_frame", "typed"]


def result_frame(result: sa.CursorResult) -> pd.DataFrame:
    """All rows of a result, columns named as in the query."""
    return pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))


def typed(frame: pd.DataFrame, table: sa.Table, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """Give the frame's columns stable dtypes from the table's types (also when empty);
    ``extra`` gives other columns' dtypes."""
    dtypes = dict(extra or {})
    for column in table.c:
        if column.name not in frame.columns or column.name in dtypes:
            continue
        if isinstance(column.type, UTCDateTime):
            frame[column.name] = utc_times(frame[column.name])
        elif isinstance(column.type, sa.Double):
            dtypes[column.name] = "float64"
        elif isinstance(column.type, sa.Boolean):
            dtypes[column.name] = "boolean"
        elif isinstance(column.type, sa.Integer):
            dtypes[column.name] = "Int64" if column.nullable else "int64"
        elif isinstance(column.type, sa.String | sa.Text):
            dtypes[column.name] = "str"
    return frame.astype(dtypes)
