"""Findings: one row per problem, located by file, line and column, kept as a DataFrame.

A DataFrame rather than a list of objects, because a file where every row is bad yields
millions of findings, and a column store holds them in a fraction of the memory.
"""

from __future__ import annotations

from enum import IntEnum
from itertools import pairwise
from typing import Any, cast

import numpy as np
import pandas as pd


class Severity(IntEnum):
    """How much a finding matters; ordered so that `>=` means "at least as bad"."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """The lower-case name used in reports and configuration."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity from its name (case-insensitive)."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


FINDING_COLUMNS = (
    "rule",
    "name",
    "severity",
    "file",
    "line",
    "column",
    "end_column",
    "symbol",
    "field",
    "observed",
    "expected",
    "message",
)
_STRING_COLUMNS = ("rule", "name", "severity", "file", "symbol", "field", "observed", "expected", "message")


_EMPTY: list[pd.DataFrame] = []  # the empty findings frame, built once (a run asks for it often)
_TEXT = pd.StringDtype("pyarrow")
_LOCATION = pd.Int64Dtype()


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows."""
    if not _EMPTY:
        _EMPTY.append(normalize(pd.DataFrame({name: [] for name in FINDING_COLUMNS})))
    return _EMPTY[0].copy()


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a findings frame its column order and dtypes."""
    if tuple(frame.columns) == FINDING_COLUMNS and all(
        frame[name].dtype == (_LOCATION if name in ("line", "column", "end_column") else _TEXT)
        for name in FINDING_COLUMNS
    ):
        return frame
    for name in FINDING_COLUMNS:
        if name not in frame:
            frame[name] = None
    out = frame[list(FINDING_COLUMNS)].copy()
    for name in _STRING_COLUMNS:
        if out[name].dtype != _TEXT:
            out[name] = out[name].astype("string[pyarrow]")
    for name in ("line", "column", "end_column"):
        if out[name].dtype != _LOCATION:
            # (pandas-stubs take no Series for an Int64 pd.array; pandas converts it as it is)
            out[name] = pd.array(out[name], dtype="Int64")  # type: ignore[call-overload]
    return out


def finding(
    code: str,
    file: str,
    message: str,
    *,
    line: int | None = None,
    column: int | None = None,
    end_column: int | None = None,
    symbol: str | None = None,
    field: str = "file",
    observed: str = "",
    expected: str = "",
) -> dict[str, Any]:
    """One finding as a record, for findings made one at a time (parse, input and whole-file ones).

    Only the rule's code is given: its name and severity come from the rule catalogue when the
    run's policy is applied (config.Policy.apply), so no maker of findings looks rules up."""
    return {
        "rule": code,
        "name": None,
        "severity": None,
        "file": file,
        "line": line,
        "column": column,
        "end_column": end_column,
        "symbol": symbol,
        "field": field,
        "observed": observed,
        "expected": expected,
        "message": message,
    }


def from_records(records: list[dict[str, Any]]) -> pd.DataFrame:
    """A findings frame from a few findings given one by one."""
    if not records:
        return empty_findings()
    return normalize(pd.DataFrame.from_records(records))


def combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate findings frames and sort them by file, line, column and rule code.

    Each part is put in order on its own (no copy when it already is); when the ordered parts
    then follow one another without overlapping, as the findings of one file's stages usually
    do, they are joined in that order and the whole is not sorted again: a sort is a copy, and a
    file with a million findings would otherwise hold its findings three times at once.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_findings()
    if len(parts) == 1:
        return sort(normalize(parts[0]))
    ordered = [sort(normalize(p)) for p in parts]
    keys = [(_sort_key(part, 0), _sort_key(part, len(part) - 1), at) for at, part in enumerate(ordered)]
    runs = sorted(range(len(ordered)), key=lambda at: (keys[at][0], at))
    # a stable sort of the concatenation keeps a tie between parts in the parts' own order
    if all((keys[a][1], keys[a][2]) < (keys[b][0], keys[b][2]) for a, b in pairwise(runs)):
        return pd.concat([ordered[at] for at in runs], ignore_index=True)
    return sort(pd.concat(ordered, ignore_index=True))


def _sort_key(frame: pd.DataFrame, row: int) -> tuple[str, int, int, str, str]:
    """A row's key in `sort`'s order (missing text as "", a missing place as 0)."""

    def text(name: str) -> str:
        value = frame[name].array[row]
        return "" if pd.isna(value) else str(value)

    def place(name: str) -> int:
        value = frame[name].array[row]
        return 0 if pd.isna(value) else int(value)

    return (text("file"), place("line"), place("column"), text("rule"), text("message"))


def sort(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable, deterministic order: file, line, column, rule code, then message."""
    if not len(frame):
        return frame
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(name: str) -> pa.Array | pa.ChunkedArray:
        # The column's own Arrow data where it has some (a million messages are not copied to
        # be sorted), missing values as "".
        values = frame[name]
        if values.dtype != _TEXT:
            values = values.astype(_TEXT)
        # (pandas' Arrow text hands over its chunks as they are, by the Arrow protocol)
        data = cast(pa.ChunkedArray, values.array.__arrow_array__())
        return (
            cast(pa.ChunkedArray, pc.fill_null(data, pa.scalar("", data.type))) if data.null_count else data
        )

    def place(name: str) -> pa.Array:
        return pa.array(frame[name].fillna(0).to_numpy(dtype=np.int64))

    keys = pa.table(
        [text("file"), place("line"), place("column"), text("rule"), text("message")],
        names=["file", "line", "column", "rule", "message"],
    )
    # Arrow's sort is stable, and orders strings by code point as Python does.
    order = pc.sort_indices(keys, sort_keys=[(name, "ascending") for name in keys.column_names]).to_numpy()
    if np.array_equal(order, np.arange(len(order))):  # already in order (re-sorted reports): no copy
        return frame.reset_index(drop=True)
    return frame.iloc[order].reset_index(drop=True)


def column_lists(frame: pd.DataFrame, names: tuple[str, ...] | list[str]) -> list[list[Any]]:
    """The named columns as Python lists, missing values as None: what row-by-row writers iterate."""
    return [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in names]


def severity_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many findings of each severity."""
    counts: dict[str, int] = {}
    if len(frame):
        counts = {str(label): int(count) for label, count in frame["severity"].value_counts().items()}
    return {s.label: counts.get(s.label, 0) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}


# The HTML report shows the first few hundred findings of each rule (render.html's cap is 200);
# source lines are kept for the first this-many of each rule only, so the memory a run needs for
# context does not grow with its number of findings.
SOURCE_CONTEXT_PER_RULE = 1000
# Lines longer than this are not copied into reports as source context.
MAX_SOURCE_LINE = 2000


def context_lines(
    findings: pd.DataFrame, kept: dict[str, int], cap: int = SOURCE_CONTEXT_PER_RULE
) -> set[int]:
    """Lines whose source text a report keeps: those of each rule's first `cap` findings.

    `kept` counts, by rule, the findings already given context (by earlier chunks of the same
    page); it is updated in place. `findings` must be in report order.
    """
    n = len(findings)
    if not n:
        return set()
    # Each finding's place among its rule's findings, by sorting integer codes (a groupby over
    # the rule texts as Python objects costs most of a second for a million findings).
    codes, names = pd.factorize(findings["rule"], use_na_sentinel=False)
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, n])
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n) - np.repeat(starts, sizes)
    earlier = np.array([kept.get(str(name), 0) for name in names], dtype=np.int64)[codes]
    chosen = (position + earlier) < cap
    for name, count in zip(names, np.bincount(codes[chosen], minlength=len(names)).tolist(), strict=True):
        if count:
            kept[str(name)] = kept.get(str(name), 0) + count
    lines = findings["line"].to_numpy(dtype=np.float64, na_value=np.nan)[chosen]
    return {int(line) for line in np.unique(lines[~np.isnan(lines)])}
