"""pandas and pyarrow columns as Apache Arrow arrays, without a copy where none is needed.

The one place that turns a column (a pandas Series or extension array, a pyarrow Array or
ChunkedArray) into contiguous Arrow data; it imports no other module of the package.
"""

from __future__ import annotations

from typing import Any, cast

import pandas as pd
import pyarrow as pa

_TEXT = pd.StringDtype("pyarrow")


def as_pa_array(values: Any) -> pa.Array:
    """A column as one contiguous pyarrow Array: a pyarrow-backed pandas column gives its own
    data (one chunk: no copy), chunks are joined, any other column is converted by pyarrow."""
    if isinstance(values, pd.Series | pd.Index):
        values = values.array
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values)
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    return values


def as_chunked(values: Any) -> pa.ChunkedArray:
    """A column as a pyarrow ChunkedArray, its chunks kept as they are (no copy)."""
    if isinstance(values, pd.Series | pd.Index):
        values = values.array
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values)
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])


def as_large_text(values: Any) -> pa.LargeStringArray:
    """A text column as one contiguous large_string Arrow array, nulls kept: Arrow data and
    pyarrow-backed pandas text as they are (cast if 32-bit), any other column through pandas'
    `string[pyarrow]` conversion."""
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
        if not isinstance(series.dtype, pd.StringDtype) or series.dtype.storage != "pyarrow":
            series = series.astype("string[pyarrow]")
        values = series
    array = as_pa_array(values)
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    return cast(pa.LargeStringArray, array)


def as_pd_text(values: pa.Array | pa.ChunkedArray) -> pd.arrays.ArrowStringArray:
    """Arrow text as a pandas `string[pyarrow]` array over the same data (no copy)."""
    # (pandas-stubs know no Arrow input to pd.array; pandas takes it as it is)
    return pd.array(values, dtype=_TEXT)  # type: ignore[call-overload]
