"""Already-parsed quotes (a DataFrame, CSV or JSON records) to the quote frame.

Numbers given as text keep their shown form, so the format rules still apply. Numbers given as
numbers have no shown form: they are written as the feed would show them at their own precision
(`207.0` for a stock becomes `207.00`; `207.005` stays `207.005` and is reported).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from checker.findings import combine, from_records
from checker.frame import build_frame
from checker.parse import COLUMNS
from checker.profile import Profile
from checker.vocabulary import INDEX, QUOTE_FIELDS, RECORD_REQUIRED, STOCK, place_column, text_column

# A record that cannot be used (a column or a value missing).
INCOMPLETE_RECORD = "QC207"


def _shown(value: object, min_decimals: int, trim: bool) -> str | None:
    """The text of a value as the feed would show it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        text = str(int(value))
    elif isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            return str(value)
        text = repr(float(value))
        if "e" in text or "E" in text:
            text = format(float(value), "f")
    else:
        return str(value)
    whole, _, fraction = text.partition(".")
    if trim:
        fraction = fraction.rstrip("0")
    elif len(fraction) < min_decimals:
        fraction = fraction.ljust(min_decimals, "0")
    return f"{whole}.{fraction}" if fraction else whole


def _places(records: pd.DataFrame, name: str, n: int) -> list[int | None]:
    """A column of 1-based places as ints (None where missing or not a positive whole number)."""
    if name not in records.columns:
        return [None] * n
    out: list[int | None] = []
    for value in records[name].tolist():
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            number = 0
        out.append(number if number > 0 else None)
    return out


def quotes_from_records(
    records: pd.DataFrame, file: str, profile: Profile, first_record: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The quote frame of tabular records, and findings for records that cannot be used.

    A record's location is its `line` column when given, else its record number; its `column`,
    `end_column` and `<field>_col` columns (1-based characters in that line) place the record and
    each of its fields when given, else column 1.
    """
    missing = [c for c in RECORD_REQUIRED if c not in records.columns]
    if missing:
        # The rule's name and severity are added with the policy, from the registry.
        finding = from_records(
            [
                {
                    "rule": INCOMPLETE_RECORD,
                    "file": file,
                    "line": None,
                    "field": "file",
                    "observed": ", ".join(map(str, records.columns)),
                    "expected": ", ".join(RECORD_REQUIRED),
                    "message": f"{file}: missing columns: {', '.join(missing)}",
                }
            ]
        )
        return build_frame({c: [] for c in COLUMNS}, file, profile)[0], finding
    n = len(records)
    symbols = [
        None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
        for v in records["symbol"]
    ]
    kinds = [INDEX if s and profile.is_index(s) else STOCK for s in symbols]
    columns: dict[str, list] = {name: [] for name in COLUMNS}
    lines = (
        records["line"].tolist() if "line" in records.columns else list(range(first_record, first_record + n))
    )
    problems = []
    # The columns as lists of the very values .iat gives, taken once: indexing the frame per row
    # and field cost most of the time of reading a large CSV or JSON file.
    values = {name: list(records[name].array) for name in ("price", "direction", "change", "percent")}
    arrows = list(records["arrow"].array) if "arrow" in records.columns else [None] * n
    starts = _places(records, "column", n)
    ends = _places(records, "end_column", n)
    field_cols = {name: _places(records, place_column(name), n) for name in QUOTE_FIELDS}
    for i in range(n):
        kind = profile.kinds[kinds[i]]
        line = lines[i]
        try:
            line = int(line)
        except (TypeError, ValueError):
            line = first_record + i
        arrow = arrows[i]
        texts = {
            "symbol": symbols[i],
            "price": _shown(values["price"][i], min(kind.price.decimals), False),
            "direction": None if values["direction"][i] is None else str(values["direction"][i]),
            "arrow": None
            if arrow is None or (isinstance(arrow, float) and math.isnan(arrow)) or arrow == ""
            else str(arrow),
            "change": _shown(values["change"][i], min(kind.change.decimals), False),
            "percent": _shown(values["percent"][i], 0, True),
        }
        empty = [k for k in RECORD_REQUIRED if not texts[k]]
        if empty:
            problems.append(
                {
                    "rule": INCOMPLETE_RECORD,
                    "file": file,
                    "line": line,
                    "column": field_cols[empty[0]][i] or starts[i] or 1,
                    "symbol": texts["symbol"],
                    "field": empty[0],
                    "observed": "",
                    "expected": "a value",
                    "message": f"record {first_record + i}: no value for {', '.join(empty)}",
                }
            )
            continue
        start = starts[i] or 1
        places = {name: field_cols[name][i] or start for name in QUOTE_FIELDS}
        columns["line"].append(line)
        columns["column"].append(start)
        columns["end_column"].append(max(ends[i] or start, *places.values()))
        for name, text in texts.items():
            columns[text_column(name)].append(text)
            columns[place_column(name)].append(places[name] if text is not None else None)
    frame, _numbers = build_frame(columns, file, profile)
    return frame, combine([from_records(problems)])
