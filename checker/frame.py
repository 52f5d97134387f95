"""Parsed quotes to the typed pandas frame that the schema and the rules check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_large_text, as_pd_text
from checker.numeric import Numbers, read_numbers
from checker.parse import COLUMNS, Column
from checker.profile import Profile
from checker.vocabulary import ARROW_MEANING, DIRECTION_WORDS, INDEX, NUMBER_FIELDS, QUOTE_FIELDS, STOCK
from checker.vocabulary import MOJIBAKE_ARROWS as MOJIBAKE_ARROWS  # rules.format's name for them

_SPACES = re.compile(r"\s+")

# The columns of the quote frame, in order. `*_text` is the source text, `*_col` its column.
FRAME_COLUMNS = (
    "file",
    "line",
    "column",
    "end_column",
    "symbol",
    "symbol_col",
    "kind",
    "price",
    "price_text",
    "price_col",
    "price_decimals",
    "direction",
    "direction_text",
    "direction_col",
    "arrow",
    "arrow_text",
    "arrow_col",
    "change",
    "change_text",
    "change_col",
    "change_decimals",
    "percent",
    "percent_text",
    "percent_col",
    "percent_decimals",
)


def empty_frame() -> pd.DataFrame:
    """A quote frame with no rows and the right columns."""
    return build_frame({name: [] for name in COLUMNS}, "", None)[0]


def _text_array(values: Column | pa.ChunkedArray) -> pa.LargeStringArray:
    """A parsed text column (list or Arrow array) as a pyarrow large_string array."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return as_large_text(values)
    return pa.array(list(values), pa.large_string())


def _optional_ints(values: Column) -> pd.arrays.IntegerArray:
    """A parsed column with gaps (list with None, or Arrow int64 with nulls) as pandas Int64."""
    if isinstance(values, pa.Array):
        # (pandas-stubs do not declare the Arrow protocol of an extension dtype)
        return pd.Int64Dtype().__from_arrow__(values.cast(pa.int64()))  # type: ignore[attr-defined]
    return pd.array(list(values), dtype="Int64")


def kind_of_symbols(symbols: pa.LargeStringArray, profile: Profile) -> pa.LargeStringArray:
    """`index` or `stock` for each symbol, by the profile's index list and patterns."""
    index: pa.BooleanArray = pc.is_in(
        symbols, value_set=pa.array(sorted(profile.index_symbols), pa.large_string())
    )
    for pattern in profile.index_patterns:
        try:  # re.match semantics: anchored at the start
            matched = pc.match_substring_regex(symbols, f"^(?:{pattern.pattern})")
        except pa.ArrowInvalid:  # not an RE2 pattern: ask Python, once per distinct symbol
            unique = pc.unique(symbols)
            hits = [s for s in unique.to_pylist() if s is not None and pattern.match(s)]
            matched = pc.is_in(symbols, value_set=pa.array(hits, pa.large_string()))
        index = pc.or_(index, matched)
    index = cast(pa.BooleanArray, pc.fill_null(index, pa.scalar(False)))
    return pc.if_else(index, pa.scalar(INDEX, pa.large_string()), pa.scalar(STOCK, pa.large_string()))


def _collapse_spaces(directions: pa.LargeStringArray) -> pd.arrays.ArrowStringArray:
    """Direction texts with each run of white space made one space (Python's `\\s`, as always)."""
    words = pa.array(DIRECTION_WORDS, pa.large_string())
    spelt = cast(pa.BooleanArray, pc.fill_null(pc.is_in(directions, value_set=words), pa.scalar(True)))
    odd = np.flatnonzero(~spelt.to_numpy(zero_copy_only=False))
    if len(odd):  # only texts not already in the feed's spelling: those few go through `re`
        fixed = [
            None if t is None else _SPACES.sub(" ", t)
            for t in directions.take(pa.array(odd, pa.int64())).to_pylist()
        ]
        mask = np.zeros(len(directions), dtype=bool)
        mask[odd] = True
        directions = pc.replace_with_mask(directions, pa.array(mask), pa.array(fixed, pa.large_string()))
    return as_pd_text(directions)


def build_frame(
    columns: Mapping[str, Column], file: str, profile: Profile | None
) -> tuple[pd.DataFrame, dict[str, Numbers]]:
    """Build the typed quote frame from parsed columns (see parse.COLUMNS), with its numbers.

    Columns may be lists (the reference parser's form) or arrays (the fast parser's: Arrow for
    texts and `arrow_col`, numpy for the other columns).
    """
    n = len(columns["line"])
    texts = {name: _text_array(columns[f"{name}_text"]) for name in QUOTE_FIELDS}
    strings = {name: as_pd_text(texts[name]) for name in QUOTE_FIELDS}
    data: dict[str, object] = {
        "file": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[file])  # type: ignore[call-overload]
        if n
        else pd.Categorical([]),
        "line": np.asarray(columns["line"], dtype=np.int64),
        "column": np.asarray(columns["column"], dtype=np.int64),
        "end_column": np.asarray(columns["end_column"], dtype=np.int64),
        "symbol": strings["symbol"],
        "symbol_col": np.asarray(columns["symbol_col"], dtype=np.int64),
    }
    if profile is not None and n:
        data["kind"] = as_pd_text(kind_of_symbols(texts["symbol"], profile))
    else:
        data["kind"] = pd.array([STOCK] * n, dtype="string[pyarrow]")
    numbers = {name: read_numbers(texts[name]) for name in NUMBER_FIELDS}
    for name in NUMBER_FIELDS:
        data[name] = numbers[name].value
    data["direction"] = _collapse_spaces(texts["direction"])
    data["direction_text"] = strings["direction"]
    data["direction_col"] = np.asarray(columns["direction_col"], dtype=np.int64)
    arrow = texts["arrow"]
    odd_arrows = [shown for shown, meaning in ARROW_MEANING.items() if shown != meaning]
    if not pc.any(pc.is_in(arrow, value_set=pa.array(odd_arrows, arrow.type))).as_py():
        odd_arrows = []  # (the usual page: no mojibake arrow, nothing to map)
    for shown, meaning in ARROW_MEANING.items():
        if shown in odd_arrows:
            is_shown = cast(
                pa.BooleanArray, pc.fill_null(pc.equal(texts["arrow"], pa.scalar(shown)), pa.scalar(False))
            )
            arrow = pc.if_else(is_shown, pa.scalar(meaning, pa.large_string()), arrow)
    data["arrow"] = as_pd_text(arrow.cast(pa.large_string()))
    data["arrow_text"] = strings["arrow"]
    data["arrow_col"] = _optional_ints(columns["arrow_col"])
    for name in NUMBER_FIELDS:
        data[f"{name}_text"] = strings[name]
        data[f"{name}_col"] = np.asarray(columns[f"{name}_col"], dtype=np.int64)
        data[f"{name}_decimals"] = numbers[name].decimals
    frame = pd.DataFrame({name: data[name] for name in FRAME_COLUMNS}, copy=False)
    return frame, numbers


def frame_numbers(frame: pd.DataFrame) -> dict[str, Numbers]:
    """Decode the shown numbers of a frame from its `*_text` columns."""
    return {name: read_numbers(frame[f"{name}_text"]) for name in NUMBER_FIELDS}
