"""Parsed quotes to the typed pandas frame that the schema and the rules check."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from checker.numeric import Numbers, read_numbers
from checker.parse import COLUMNS
from checker.profile import Profile

ARROW_UP, ARROW_DOWN = "▲", "▼"
# What each arrow text means; mojibake keeps its meaning but is reported.
ARROW_MEANING = {
    "▲": ARROW_UP,
    "▼": ARROW_DOWN,
    "â–²": ARROW_UP,
    "â–¼": ARROW_DOWN,
    "â\u0096²": ARROW_UP,
    "â\u0096¼": ARROW_DOWN,
}
MOJIBAKE_ARROWS = frozenset(t for t in ARROW_MEANING if t not in (ARROW_UP, ARROW_DOWN))
_SPACES = re.compile(r"\s+")
NUMBER_FIELDS = ("price", "change", "percent")
FIELDS = ("symbol", "price", "direction", "arrow", "change", "percent")

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


def build_frame(
    columns: dict[str, list], file: str, profile: Profile | None
) -> tuple[pd.DataFrame, dict[str, Numbers]]:
    """Build the typed quote frame from parsed columns (see parse.COLUMNS), with its numbers."""
    n = len(columns["line"])
    text = pd.DataFrame(
        {f"{name}_text": pd.array(columns[f"{name}_text"], dtype="string[pyarrow]") for name in FIELDS},
    )
    frame = pd.DataFrame(
        {
            "file": pd.Categorical([file] * n) if n else pd.Categorical([]),
            "line": np.asarray(columns["line"], dtype=np.int64),
            "column": np.asarray(columns["column"], dtype=np.int64),
            "end_column": np.asarray(columns["end_column"], dtype=np.int64),
        }
    )
    frame["symbol"] = text["symbol_text"]
    frame["symbol_col"] = np.asarray(columns["symbol_col"], dtype=np.int64)
    if profile is not None and n:
        unique = pd.unique(text["symbol_text"].to_numpy(dtype=object))
        kinds = {s: ("index" if profile.is_index(s) else "stock") for s in unique}
        frame["kind"] = text["symbol_text"].map(kinds).astype("string[pyarrow]")
    else:
        frame["kind"] = pd.array(["stock"] * n, dtype="string[pyarrow]")
    numbers = {name: read_numbers(text[f"{name}_text"]) for name in NUMBER_FIELDS}
    for name in NUMBER_FIELDS:
        frame[name] = numbers[name].value
    direction_text = text["direction_text"]
    frame["direction"] = direction_text.str.replace(_SPACES.pattern, " ", regex=True)
    frame["direction_text"] = direction_text
    frame["direction_col"] = np.asarray(columns["direction_col"], dtype=np.int64)
    arrow_text = text["arrow_text"]
    frame["arrow"] = arrow_text.map(ARROW_MEANING).fillna(arrow_text).astype("string[pyarrow]")
    frame["arrow_text"] = arrow_text
    frame["arrow_col"] = pd.array(columns["arrow_col"], dtype="Int64")
    for name in NUMBER_FIELDS:
        frame[f"{name}_text"] = text[f"{name}_text"]
        frame[f"{name}_col"] = np.asarray(columns[f"{name}_col"], dtype=np.int64)
        frame[f"{name}_decimals"] = numbers[name].decimals
    return frame[list(FRAME_COLUMNS)], numbers


def frame_numbers(frame: pd.DataFrame) -> dict[str, Numbers]:
    """Decode the shown numbers of a frame from its `*_text` columns."""
    return {name: read_numbers(frame[f"{name}_text"]) for name in NUMBER_FIELDS}
