"""The JSON report (schemas/report.schema.json), streamed to disk finding by finding.

Strict JSON for any input: no NaN or Infinity (a value that is not finite is null), and no raw
control, bidi or separator character and no lone surrogate (render.escape.json_safe).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from typing import IO, Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_pa_array
from checker.findings import FINDING_COLUMNS, column_lists
from checker.render.escape import json_safe
from checker.render.output import atomic_writer, binary_under, joined_bytes, one_ahead, write_utf8
from checker.report import Report

# The columns of the quote frame a JSON report lists for each quote.
QUOTE_COLUMNS = (
    "file", "line", "column", "symbol", "kind",
    "price", "price_text", "price_col",
    "direction", "direction_col", "arrow", "arrow_text", "arrow_col",
    "change", "change_text", "change_col",
    "percent", "percent_text", "percent_col",
)  # fmt: skip
_CHUNK = 50_000


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or Infinity
    return value


def _strict(value: Any) -> Any:
    """A header value with every float that is not finite (nested too) made null."""
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _header_value(value: Any) -> str:
    """A header value encoded; walked by _strict only when it holds a float that is not finite
    (the encoder refuses those), which on a large history report saves a walk of every page's
    figures."""
    try:
        return _ENCODE(value)
    except ValueError:
        return _ENCODE(_strict(value))


# One encoder for every row: json.dumps() builds a new one per call when given options.
# allow_nan=False: a NaN that got past _clean is a bug to hear of, not invalid JSON to write.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
# What that encoder writes for a str (its own string encoder) and for None.
_STRING = json.encoder.encode_basestring
_NULL = "null"
# What that string encoder escapes (ensure_ascii=False): a quote, a backslash, C0 controls.
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'
_CONTROL = r"[\x00-\x1f]"


def _column_values(chunk: pd.DataFrame, column: str) -> list[Any]:
    values = column_lists(chunk, [column])[0]
    if isinstance(chunk[column].dtype, pd.StringDtype):
        return values  # str or None already
    return [_clean(v) for v in values]


def _encoded_column(chunk: pd.DataFrame, column: str) -> tuple[pa.Array, pa.BooleanArray | None]:
    """One column of a chunk as the JSON text of each of its values, as `_ENCODE` writes them,
    with the values json_safe would change (None: there are none).

    Text in Arrow storage and whole numbers are encoded a column at a time: each distinct string
    once (most columns repeat a few values), integers by Arrow's cast to decimal text. Any other
    column is encoded value by value, made `json_safe` first: Arrow text cannot hold the lone
    surrogate such a value may have (and `json_safe` of the whole block leaves it as it is).
    """
    series = chunk[column]
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        text = as_pa_array(series).cast(pa.string())
        # One scan for the usual column, with nothing in it but text to quote.
        special = pc.match_substring_regex(text, _SPECIAL)
        if not pc.any(special).as_py():
            return _quoted(text), None
        raw = cast(
            pa.BooleanArray, pc.fill_null(pc.match_substring_regex(text, _JSON_RAW_RE2), pa.scalar(False))
        )
        needs = _needs_escape(text)
        if (pc.sum(_controls(text, needs).cast(pa.int64())).as_py() or 0) <= _ESCAPED_ONE_BY_ONE:
            return _encoded_strings(text, needs), raw  # (most columns: nothing for Python to encode)
        encoded = text.dictionary_encode(null_encoding="encode")
        return pc.take(_encoded_strings(encoded.dictionary), encoded.indices), raw
    if isinstance(dtype, pd.Int64Dtype) or (isinstance(dtype, np.dtype) and dtype.kind in "iu"):
        numbers = pa.array(series.array if isinstance(dtype, pd.Int64Dtype) else series.to_numpy())
        return pc.fill_null(pc.cast(numbers, pa.string()), _NULL), None
    return pa.array([json_safe(_ENCODE(v)) for v in _column_values(chunk, column)], pa.string()), None


def _quoted(words: pa.Array) -> pa.Array:
    """Words with nothing to escape in quotes (null for a missing one)."""
    # (the stubs take no plain string among the strings joined)
    quoted = pc.binary_join_element_wise('"', words, '"', "")  # type: ignore[call-overload]
    return cast(pa.Array, pc.fill_null(quoted, _NULL))


# Up to this many values of a column needing Python's escaping are encoded one by one; with more,
# each distinct value once (a column of repeated odd values costs one encoding per value).
_ESCAPED_ONE_BY_ONE = 1000


def _needs_escape(words: pa.Array) -> pa.BooleanArray:
    return cast(
        pa.BooleanArray, pc.fill_null(pc.match_substring_regex(words, _NEEDS_ESCAPE), pa.scalar(False))
    )


def _controls(words: pa.Array, needs: pa.BooleanArray) -> pa.BooleanArray:
    """Which of `words` hold a C0 control (only those that need escaping at all can)."""
    if not pc.any(needs).as_py():
        return needs
    found = cast(pa.BooleanArray, pc.fill_null(pc.match_substring_regex(words, _CONTROL), pa.scalar(False)))
    return pc.and_(needs, found)


def _encoded_strings(words: pa.Array, needs: pa.BooleanArray | None = None) -> pa.Array:
    """`_STRING` of each of `words` (null for a missing one): a word with nothing to escape is
    quoted by Arrow, one with a quote or backslash but no control escaped by Arrow too, the
    others encoded by Python."""
    words = words.cast(pa.string())  # a chunk's words, even from large_string storage
    if needs is None:
        needs = _needs_escape(words)
    # (the stubs take no plain string among the strings joined)
    quoted = pc.binary_join_element_wise('"', words, '"', "")  # type: ignore[call-overload]
    if pc.any(needs).as_py():
        controls = _controls(words, needs)
        simple = pc.and_(needs, pc.invert(controls))
        if pc.any(simple).as_py():
            # what _STRING writes for a text whose only escapes are `\\` and `\"`
            escaped = pc.replace_substring(pc.replace_substring(words, "\\", "\\\\"), '"', '\\"')
            quoted = pc.if_else(simple, pc.binary_join_element_wise('"', escaped, '"', ""), quoted)  # type: ignore[call-overload]
        if pc.any(controls).as_py():
            # (a word that needs escaping is there: no null)
            shown = cast("list[str]", pc.filter(words, controls).to_pylist())
            escaped_by_python = pa.array([_STRING(word) for word in shown], pa.string())
            quoted = pc.replace_with_mask(quoted, controls, escaped_by_python)
    return pc.fill_null(quoted, _NULL)


_SEPARATOR = ",\n    "


def _encoded_rows(frame: pd.DataFrame, columns: tuple[str, ...]) -> Iterator[str | pa.Array]:
    """The rows of a frame as JSON text, `_ENCODE(row)` of each row's dict, a chunk at a time:
    each chunk either one text of its rows joined by `_SEPARATOR`, or (the usual case) an Arrow
    string array of the rows, each ending with `_SEPARATOR`, written from its buffer as it is.

    Each row is joined by Arrow from the encoded columns and the keys as constant text.
    """
    keys = [("{" if at == 0 else ", ") + _ENCODE(name) + ": " for at, name in enumerate(columns)]
    for start in range(0, len(frame), _CHUNK):
        chunk = frame.iloc[start : start + _CHUNK]
        pieces: list[Any] = []
        raws: list[pa.BooleanArray] = []
        for key, column in zip(keys, columns, strict=True):
            encoded, raw_values = _encoded_column(chunk, column)
            pieces += [pa.scalar(key, pa.string()), encoded]
            if raw_values is not None:
                raws.append(raw_values)
        pieces.append(pa.scalar("}" + _SEPARATOR, pa.string()))
        rows = pc.binary_join_element_wise(*pieces, "")
        # Made json_safe row by row, the rows holding a value it would change only (`##[` cannot
        # span two values: each is in quotes).
        raw = pa.array(np.zeros(len(chunk), dtype=bool))
        for raw_values in raws:
            raw = pc.or_(raw, raw_values)
        if pc.any(raw).as_py() or rows.null_count or rows.nbytes > _JOIN_IN_ARROW_BYTES:
            texts = cast("list[str]", rows.to_pylist())
            for at in np.flatnonzero(raw.to_numpy(zero_copy_only=False)).tolist():
                texts[at] = json_safe(texts[at])
            yield "".join(texts)[: -len(_SEPARATOR)] if texts else ""
        else:
            yield rows


_JOIN_IN_ARROW_BYTES = 1 << 30


# What render.escape.json_safe changes, as RE2 sees it (Arrow text holds no lone surrogate).
_JSON_RAW_RE2 = (
    r"[\x{7f}-\x{9f}\x{61c}\x{200e}\x{200f}\x{2028}\x{2029}\x{202a}-\x{202e}\x{2066}-\x{2069}]|##\["
)
# A text value that needs more than its quotes: an escape of the encoder's, or json_safe's.
_SPECIAL = f"{_NEEDS_ESCAPE}|{_JSON_RAW_RE2}"


def write_json(report: Report, stream: IO[str]) -> None:
    """Write the report as JSON; findings and quotes are streamed, not built whole in memory."""
    header = report.header()
    stream.write("{\n")
    for key, value in header.items():
        stream.write(f"  {json.dumps(key)}: {json_safe(_header_value(value))},\n")
    blocks = (rows for frame in report.finding_frames() for rows in _encoded_rows(frame, FINDING_COLUMNS))
    _write_array(stream, "findings", one_ahead(blocks))
    if report.quotes is not None:
        stream.write(",\n")
        _write_array(stream, "quotes", one_ahead(_encoded_rows(report.quotes, QUOTE_COLUMNS)))
    stream.write("\n}\n")


def _write_array(stream: IO[str], key: str, blocks: Iterator[str | pa.Array]) -> None:
    stream.write(f"  {json.dumps(key)}: [")
    binary = binary_under(stream)
    first = True
    for block in blocks:
        if not len(block):
            continue
        stream.write("\n    " if first else _SEPARATOR)
        first = False
        if isinstance(block, str):
            stream.write(block)
            continue
        write_utf8(stream, binary, joined_bytes(block, _SEPARATOR))
    stream.write("\n  ]" if not first else "]")


def save_json(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the JSON report to `path` atomically."""
    with atomic_writer(path) as stream:
        write_json(report, stream)
