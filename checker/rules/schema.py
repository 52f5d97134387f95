"""Types and ranges, checked by a pandera DataFrameSchema and mapped to rule codes.

Each built-in check carries its rule code as its `error=` string (pandera reports that, not the
check's name); structural failures are mapped by their `reason_code`, never by message text.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.findings import Severity, combine, empty_findings, finding, from_records
from checker.rules.registry import REGISTRY, CheckContext, Rule, declare

if TYPE_CHECKING:
    import pandera.pandas as pa

SYMBOL_PATTERN = r"^[A-Z][A-Z0-9]*$"
DIRECTIONS = ("Increased By", "Decreased By", "No Change")
ARROWS = ("▲", "▼")

for _code, _name, _summary, _description, _passing, _failing, _field in (
    (
        "QC201",
        "symbol-invalid",
        "A symbol that is not upper-case letters and digits.",
        "Symbols are upper-case ASCII letters and digits, starting with a letter.",
        "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
        "Airlink 207.00 Increased By ▲ 6.71 (3.35%)",
        "symbol",
    ),
    (
        "QC202",
        "price-not-positive",
        "A price of zero or less.",
        "A quoted price is always above zero.",
        "SILK 0.97 Decreased By ▼ -0.02 (-2.02%)",
        "SILK 0.00 Decreased By ▼ -0.02 (-100%)",
        "price",
    ),
    (
        "QC203",
        "percent-out-of-range",
        "A percent change that is not a finite number above -100%.",
        "A price cannot fall by 100% or more, so the percent change is finite and above -100.",
        "SILK 0.97 Decreased By ▼ -0.02 (-2.02%)",
        "SILK 0.97 Decreased By ▼ -0.02 (-120%)",
        "percent",
    ),
    (
        "QC204",
        "direction-invalid",
        "A direction word other than `Increased By`, `Decreased By` or `No Change`.",
        "The direction is one of the feed's three phrases, spelt and capitalised exactly as the feed "
        "does (runs of spaces inside it are allowed).",
        "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
        "BOP 10.39 decreased by ▼ -0.10 (-0.95%)",
        "direction",
    ),
    (
        "QC205",
        "arrow-invalid",
        "An arrow other than `▲` or `▼`.",
        "The feed marks moves with `▲` (up) and `▼` (down); look-alike glyphs such as `△` or `↑` mean "
        "the page was re-encoded or hand-edited.",
        "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
        "BOP 10.39 Decreased By ↓ -0.10 (-0.95%)",
        "arrow",
    ),
    (
        "QC206",
        "number-unreadable",
        "A price, change or percent that is not a number.",
        "The text in a number's place does not read as a decimal number (`1.2.3`, `,5`, `7.`), so "
        "none of the arithmetic on it can be checked.",
        "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
        "BOP 10.3.9 Decreased By ▼ -0.10 (-0.95%)",
        "price",
    ),
    (
        "QC207",
        "schema-structure",
        "A frame of quotes that lacks a column or has a column of the wrong type.",
        "Frames handed to the Python API (or read from CSV and JSON) must carry the quote columns "
        "with the right types; this names the column that is missing or mistyped.",
        "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
        "(a frame without a `percent` column)",
        "file",
    ),
):
    declare(
        code=_code,
        name=_name,
        severity=Severity.ERROR,
        summary=_summary,
        description=_description,
        passing=_passing,
        failing=_failing,
        fields=(_field,),
    )(None)

# Structural failures by reason code (pandera.errors.SchemaErrorReason names).
REASON_CODES = {
    "SERIES_CONTAINS_NULLS": "QC206",
    "COLUMN_NOT_IN_DATAFRAME": "QC207",
    "WRONG_DATATYPE": "QC207",
    "DATATYPE_COERCION": "QC207",
    "WRONG_FIELD_NAME": "QC207",
}


@lru_cache(maxsize=4)
def quote_schema(kinds: tuple[str, ...]) -> pa.DataFrameSchema:
    """The pandera schema of the quote frame (imported lazily: pandera is slow to import)."""
    import pandera.pandas as pa

    text = "string[pyarrow]"
    return pa.DataFrameSchema(
        {
            "line": pa.Column("int64", pa.Check.ge(1)),
            "symbol": pa.Column(text, pa.Check.str_matches(SYMBOL_PATTERN, error="QC201")),
            "kind": pa.Column(text, pa.Check.isin(list(kinds), error="QC207")),
            "price": pa.Column("float64", pa.Check.gt(0, error="QC202"), nullable=False),
            "direction": pa.Column(text, pa.Check.isin(list(DIRECTIONS), error="QC204")),
            "arrow": pa.Column(text, pa.Check.isin(list(ARROWS), error="QC205"), nullable=True),
            "change": pa.Column("float64", nullable=False),
            "percent": pa.Column("float64", pa.Check.gt(-100, error="QC203"), nullable=False),
        },
        name="quotes",
    )


def _field_of(column: str | None) -> str:
    return column if column in ("symbol", "price", "direction", "arrow", "change", "percent") else "file"


# The failing rows are validated this many at a time, so that pandera's failure-case tables (one
# row per failing cell) stay small however many rows fail.
_SLICE = 25_000
_TEXT = pd.StringDtype("pyarrow")
_EXPECTED_DTYPES = {
    "line": np.dtype(np.int64),
    "symbol": _TEXT,
    "kind": _TEXT,
    "price": np.dtype(np.float64),
    "direction": _TEXT,
    "arrow": _TEXT,
    "change": np.dtype(np.float64),
    "percent": np.dtype(np.float64),
}


def suspect_rows(frame: pd.DataFrame, kinds: tuple[str, ...]) -> np.ndarray | None:
    """Rows that any check of the schema could fail (a superset, computed with vectorised kernels).

    None when the frame's columns or dtypes are not the ones the schema expects: then only pandera
    itself can say what is wrong, and it validates the whole frame.
    """
    for name, dtype in _EXPECTED_DTYPES.items():
        if name not in frame or frame[name].dtype != dtype:
            return None

    def text(name: str) -> pa.Array:
        values = pa.array(frame[name].array)
        return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values

    def holds(values: pa.Array) -> np.ndarray:
        return pc.fill_null(values, False).to_numpy(zero_copy_only=False)

    arrow = text("arrow")
    good = (
        (frame["line"].to_numpy() >= 1)
        & holds(pc.match_substring_regex(text("symbol"), SYMBOL_PATTERN))
        & holds(pc.is_in(text("kind"), value_set=pa.array(list(kinds), arrow.type)))
        & (frame["price"].to_numpy() > 0)
        & holds(pc.is_in(text("direction"), value_set=pa.array(list(DIRECTIONS), arrow.type)))
        & (holds(pc.is_in(arrow, value_set=pa.array(list(ARROWS), arrow.type))) | holds(pc.is_null(arrow)))
        & ~np.isnan(frame["change"].to_numpy())
        & (frame["percent"].to_numpy() > -100)
    )
    return ~good


def schema_findings(ctx: CheckContext) -> pd.DataFrame:
    """Validate the frame with pandera (lazily, collecting every failure) and map to findings.

    Rows that no check can fail (found with vectorised kernels, see `suspect_rows`) are not handed
    to pandera: it validates the others, a slice at a time, and reports their failures exactly as it
    would within the whole frame. A frame whose columns are not as expected is validated whole.
    """
    frame = ctx.frame
    if not len(frame):
        return empty_findings()
    kinds = tuple(ctx.profile.kinds)
    suspect = suspect_rows(frame, kinds)
    if suspect is None:
        return _pandera_findings(ctx, frame, kinds, frame_level=True)
    rows = np.flatnonzero(suspect)
    columns = list(_EXPECTED_DTYPES)
    return combine(
        [
            _pandera_findings(ctx, frame.iloc[rows[start : start + _SLICE]][columns], kinds, start == 0)
            for start in range(0, len(rows), _SLICE)
        ]
    )


def _pandera_findings(
    ctx: CheckContext, validated: pd.DataFrame, kinds: tuple[str, ...], frame_level: bool
) -> pd.DataFrame:
    """Findings for the pandera failures of `validated` (rows of ctx.frame, same index labels)."""
    import pandera.errors as pe

    frame = ctx.frame
    try:
        quote_schema(kinds).validate(validated, lazy=True)
        return empty_findings()
    except pe.SchemaErrors as errors:
        parts = []
        for error in errors.schema_errors:
            reason = getattr(error.reason_code, "name", str(error.reason_code))
            check = error.check
            code = getattr(check, "error", None) if not isinstance(check, str) else None
            code = code if code in REGISTRY else REASON_CODES.get(reason)
            if code is None:
                continue
            column = getattr(error.schema, "name", None)
            rule = REGISTRY[code]
            cases = error.failure_cases
            if not isinstance(cases, pd.DataFrame) or "index" not in cases or cases["index"].isna().all():
                if frame_level:
                    parts.append(_frame_level(ctx, rule, str(column or cases), reason))
                continue
            mask = np.zeros(len(frame), dtype=bool)
            positions = frame.index.get_indexer(cases["index"].dropna().unique())
            mask[positions[positions >= 0]] = True
            mask &= ~_explained_elsewhere(ctx, code)
            if not mask.any():
                continue
            field_name = _field_of(column)
            source = f"{field_name}_text" if f"{field_name}_text" in frame else field_name
            observed = (
                ctx.texts(source, mask) if source in frame else np.full(int(mask.sum()), "", dtype=object)
            )
            expected, message = _explain(ctx, code, mask, field_name, observed)
            parts.append(rule.findings(ctx, mask, field_name, observed, expected, message))
        return combine(parts)


def _explained_elsewhere(ctx: CheckContext, code: str) -> np.ndarray:
    """Rows on which `code` abstains because another rule's finding explains the same fault."""
    from checker.rules.consistency import _percent, previous_not_positive, price_not_positive

    none = np.zeros(len(ctx.frame), dtype=bool)
    if code == "QC202":  # a zero cut short of its decimals (`0.0`) is QC401's finding
        price = ctx.numbers["price"]
        return price.readable & (np.nan_to_num(price.value, nan=1.0) <= 0) & ~price_not_positive(ctx)
    if code != "QC203":
        return none
    # -100% or less is what a price of 0 (QC202) or a change as large as the price (QC304) gives.
    explained = none
    if ctx.runs("QC304"):
        explained = explained | previous_not_positive(ctx)
    if ctx.runs("QC202"):
        check = _percent(ctx)
        explained = explained | (price_not_positive(ctx) & check.checked & check.consistent)
    return explained


def _explain(
    ctx: CheckContext, code: str, mask: np.ndarray, field_name: str, observed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For the failing rows of `code`: the value that would make each quote consistent, and what
    is wrong with it, in the quote's own terms."""
    shown = observed.astype(object)
    expected = np.full(len(shown), _expected(code), dtype=object)
    if code == "QC201":
        why = np.array([_symbol_fault(str(s)) for s in shown], dtype=object)
        fixed = np.array([_fixed_symbol(str(s)) for s in shown], dtype=object)
        expected = np.where(fixed != "", fixed, expected)
        return expected, "symbol " + shown + " " + why
    if code == "QC202":
        return expected, "price " + shown + " is not above 0"
    if code == "QC203":
        from checker.rules.consistency import expected_percents

        percents, reason = expected_percents(ctx, mask)
        expected = np.where(percents != "", percents, expected)
        tail = np.where(reason != "", "; " + reason, "").astype(object)
        return expected, "percent " + shown + "%: a price cannot fall by 100% or more" + tail
    if code == "QC204":
        wanted = _direction_wanted(ctx, mask, shown)
        expected = np.where(wanted != "", wanted, expected)
        return expected, "direction " + shown + " is not one of " + _expected(code).replace(" | ", ", ")
    if code == "QC205":
        from checker.rules.consistency import arrows_wanted

        wanted = arrows_wanted(ctx, mask)
        expected = np.where(wanted != "", wanted, "▲ or ▼")
        return expected, "arrow " + shown + " is neither ▲ nor ▼"
    if code == "QC206":
        return expected, field_name + " " + np.where(shown == "", "(empty)", shown).astype(
            object
        ) + " is not a number"
    return expected, field_name + " " + shown + " does not fit the quote frame"


def _symbol_fault(symbol: str) -> str:
    """What keeps `symbol` from being upper-case letters and digits starting with a letter."""
    if not symbol:
        return "is empty"
    others = dict.fromkeys(ch for ch in symbol if not ("A" <= ch <= "Z" or "0" <= ch <= "9" or ch.islower()))
    if others:
        return "holds " + ", ".join(repr_char(ch) for ch in others)
    if any(ch.islower() for ch in symbol):
        return "has lower-case letters"
    return "starts with a digit"


def repr_char(ch: str) -> str:
    """A character as a message shows it: itself, or its code point when it is not ASCII."""
    return json.dumps(ch) if ch.isascii() and ch.isprintable() else f"U+{ord(ch):04X}"


def _fixed_symbol(symbol: str) -> str:
    """The symbol upper-cased, when that alone makes it valid; else ''."""
    candidate = symbol.upper()
    return candidate if candidate.isascii() and re.fullmatch(SYMBOL_PATTERN, candidate) else ""


def _direction_wanted(ctx: CheckContext, mask: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """The feed's spelling of a mis-spelt direction (case and spaces), else what the signs say."""
    from checker.rules.consistency import directions_wanted

    by_signs = directions_wanted(ctx, mask)
    spelt = {d.lower(): d for d in DIRECTIONS}
    return np.array(
        [spelt.get(" ".join(str(s).split()).lower(), str(w)) for s, w in zip(shown, by_signs, strict=True)],
        dtype=object,
    )


def _expected(code: str) -> str:
    return {
        "QC201": "upper-case letters and digits",
        "QC202": "> 0",
        "QC203": "> -100",
        "QC204": " | ".join(DIRECTIONS),
        "QC205": " | ".join(ARROWS),
        "QC206": "a decimal number",
        "QC207": "the quote columns",
    }[code]


def _frame_level(ctx: CheckContext, rule: Rule, column: str, reason: str) -> pd.DataFrame:
    files = ctx.frame["file"].astype(str).unique() if "file" in ctx.frame else [""]
    message = f"quote frame: {reason.lower().replace('_', ' ')}: {column}"
    return from_records(
        [
            finding(rule.code, str(file), message, observed=column, expected=_expected(rule.code))
            for file in files
        ]
    )
