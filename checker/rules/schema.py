"""Types and ranges, checked by a pandera DataFrameSchema and mapped to rule codes.

Each schema rule is declared once, by `schema_rule`: its catalogue entry, the pandera check (whose
`error=` string is the rule's code: pandera reports that, not the check's name), the vectorised
pre-check that tells which rows it cannot fail, the value a finding expects and how a failure is
put in the quote's own terms. Structural failures (a missing or mistyped column, a number that
did not read) are mapped by their `reason_code`, never by message text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_large_text
from checker.findings import Severity, combine, empty_findings, finding, from_records
from checker.rules.registry import CheckContext, Rule, as_mask, declare
from checker.vocabulary import ARROW_DOWN, ARROW_UP, ARROWS, DIRECTION_WORDS, QUOTE_FIELDS, text_column

if TYPE_CHECKING:
    import pandera.pandas as pandera

SYMBOL_PATTERN = r"^[A-Z][A-Z0-9]*$"

_TEXT = pd.StringDtype("pyarrow")
# The frame's columns as the schema wants them (dtype, and whether a value may be missing).
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
_NULLABLE = frozenset({"arrow"})


class _Columns:
    """The frame's columns as Arrow arrays and numpy, for the pre-checks."""

    def __init__(self, frame: pd.DataFrame, kinds: tuple[str, ...]) -> None:
        self.frame = frame
        self.kinds = kinds

    def text(self, name: str) -> pa.LargeStringArray:
        return as_large_text(self.frame[name])

    def numbers(self, name: str) -> np.ndarray:
        return self.frame[name].to_numpy()

    def among(self, name: str, allowed: tuple[str, ...] | list[str]) -> np.ndarray:
        column = self.text(name)
        return as_mask(pc.is_in(column, value_set=pa.array(list(allowed), column.type)))


# (ctx, failing rows, the failing values as shown, field) -> (expected, message) for each row
Explain = Callable[[CheckContext, np.ndarray, np.ndarray, str], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SchemaCheck:
    """What the schema does for one rule: declared with the rule, in `schema_rule`."""

    code: str
    expected: str
    explain: Explain
    column: str | None = None  # the frame column its pandera check is on (None: structural)
    check: Callable[[Any, tuple[str, ...]], Any] | None = None  # (pandera, kinds) -> pandera Check
    passes: Callable[[_Columns], np.ndarray] | None = None  # rows its check cannot fail


SCHEMA_CHECKS: dict[str, SchemaCheck] = {}


def schema_rule(
    *,
    code: str,
    name: str,
    summary: str,
    description: str,
    passing: str,
    failing: str,
    field: str,
    expected: str,
    explain: Explain,
    column: str | None = None,
    check: Callable[[Any, tuple[str, ...]], Any] | None = None,
    passes: Callable[[_Columns], np.ndarray] | None = None,
) -> None:
    """Declare a schema rule: its catalogue entry and everything the schema does for it."""
    declare(
        code=code,
        name=name,
        severity=Severity.ERROR,
        summary=summary,
        description=description,
        passing=passing,
        failing=failing,
        fields=(field,),
    )(None)
    SCHEMA_CHECKS[code] = SchemaCheck(code, expected, explain, column, check, passes)


def _symbol_explained(
    ctx: CheckContext, mask: np.ndarray, shown: np.ndarray, field: str
) -> tuple[np.ndarray, np.ndarray]:
    why = np.array([_symbol_fault(str(s)) for s in shown], dtype=object)
    fixed = np.array([_fixed_symbol(str(s)) for s in shown], dtype=object)
    expected = np.where(fixed != "", fixed, SCHEMA_CHECKS["QC201"].expected)
    return expected, "symbol " + shown + " " + why


def _price_explained(
    ctx: CheckContext, mask: np.ndarray, shown: np.ndarray, field: str
) -> tuple[np.ndarray, np.ndarray]:
    return _same(shown, "QC202"), "price " + shown + " is not above 0"


def _percent_explained(
    ctx: CheckContext, mask: np.ndarray, shown: np.ndarray, field: str
) -> tuple[np.ndarray, np.ndarray]:
    from checker.rules.consistency import expected_percents

    percents, reason = expected_percents(ctx, mask)
    expected = np.where(percents != "", percents, _same(shown, "QC203"))
    tail = np.where(reason != "", "; " + reason, "").astype(object)
    return expected, "percent " + shown + "%: a price cannot fall by 100% or more" + tail


def _direction_explained(
    ctx: CheckContext, mask: np.ndarray, shown: np.ndarray, field: str
) -> tuple[np.ndarray, np.ndarray]:
    wanted = _direction_wanted(ctx, mask, shown)
    expected = np.where(wanted != "", wanted, _same(shown, "QC204"))
    return expected, "direction " + shown + " is not one of " + ", ".join(DIRECTION_WORDS)


def _arrow_explained(
    ctx: CheckContext, mask: np.ndarray, shown: np.ndarray, field: str
) -> tuple[np.ndarray, np.ndarray]:
    from checker.rules.consistency import arrows_wanted

    wanted = arrows_wanted(ctx, mask)
    either, neither = f"{ARROW_UP} or {ARROW_DOWN}", f"neither {ARROW_UP} nor {ARROW_DOWN}"
    return np.where(wanted != "", wanted, either), "arrow " + shown + " is " + neither


def _number_explained(
    ctx: CheckContext, mask: np.ndarray, shown: np.ndarray, field: str
) -> tuple[np.ndarray, np.ndarray]:
    shown_or_empty = np.where(shown == "", "(empty)", shown).astype(object)
    return _same(shown, "QC206"), field + " " + shown_or_empty + " is not a number"


def _structure_explained(
    ctx: CheckContext, mask: np.ndarray, shown: np.ndarray, field: str
) -> tuple[np.ndarray, np.ndarray]:
    return _same(shown, "QC207"), field + " " + shown + " does not fit the quote frame"


def _same(shown: np.ndarray, code: str) -> np.ndarray:
    return np.full(len(shown), SCHEMA_CHECKS[code].expected, dtype=object)


schema_rule(
    code="QC201",
    name="symbol-invalid",
    summary="A symbol that is not upper-case letters and digits.",
    description="Symbols are upper-case ASCII letters and digits, starting with a letter.",
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="Airlink 207.00 Increased By ▲ 6.71 (3.35%)",
    field="symbol",
    expected="upper-case letters and digits",
    explain=_symbol_explained,
    column="symbol",
    check=lambda pandera, kinds: pandera.Check.str_matches(SYMBOL_PATTERN, error="QC201"),
    passes=lambda c: as_mask(pc.match_substring_regex(c.text("symbol"), SYMBOL_PATTERN)),
)
schema_rule(
    code="QC202",
    name="price-not-positive",
    summary="A price of zero or less.",
    description="A quoted price is always above zero.",
    passing="SILK 0.97 Decreased By ▼ -0.02 (-2.02%)",
    failing="SILK 0.00 Decreased By ▼ -0.02 (-100%)",
    field="price",
    expected="> 0",
    explain=_price_explained,
    column="price",
    check=lambda pandera, kinds: pandera.Check.gt(0, error="QC202"),
    passes=lambda c: c.numbers("price") > 0,
)
schema_rule(
    code="QC203",
    name="percent-out-of-range",
    summary="A percent change that is not a finite number above -100%.",
    description="A price cannot fall by 100% or more, so the percent change is finite and above -100.",
    passing="SILK 0.97 Decreased By ▼ -0.02 (-2.02%)",
    failing="SILK 0.97 Decreased By ▼ -0.02 (-120%)",
    field="percent",
    expected="> -100",
    explain=_percent_explained,
    column="percent",
    check=lambda pandera, kinds: pandera.Check.gt(-100, error="QC203"),
    passes=lambda c: c.numbers("percent") > -100,
)
schema_rule(
    code="QC204",
    name="direction-invalid",
    summary="A direction word other than `Increased By`, `Decreased By` or `No Change`.",
    description=(
        "The direction is one of the feed's three phrases, spelt and capitalised exactly as the feed "
        "does (runs of spaces inside it are allowed)."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    failing="BOP 10.39 decreased by ▼ -0.10 (-0.95%)",
    field="direction",
    expected=" | ".join(DIRECTION_WORDS),
    explain=_direction_explained,
    column="direction",
    check=lambda pandera, kinds: pandera.Check.isin(list(DIRECTION_WORDS), error="QC204"),
    passes=lambda c: c.among("direction", DIRECTION_WORDS),
)
schema_rule(
    code="QC205",
    name="arrow-invalid",
    summary="An arrow other than `▲` or `▼`.",
    description=(
        "The feed marks moves with `▲` (up) and `▼` (down); look-alike glyphs such as `△` or `↑` mean "
        "the page was re-encoded or hand-edited."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    failing="BOP 10.39 Decreased By ↓ -0.10 (-0.95%)",
    field="arrow",
    expected=" | ".join(ARROWS),
    explain=_arrow_explained,
    column="arrow",
    check=lambda pandera, kinds: pandera.Check.isin(list(ARROWS), error="QC205"),
    passes=lambda c: c.among("arrow", ARROWS) | as_mask(pc.is_null(c.text("arrow"))),
)
schema_rule(
    code="QC206",
    name="number-unreadable",
    summary="A price, change or percent that is not a number.",
    description=(
        "The text in a number's place does not read as a decimal number (`1.2.3`, `,5`, `7.`), so "
        "none of the arithmetic on it can be checked."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    failing="BOP 10.3.9 Decreased By ▼ -0.10 (-0.95%)",
    field="price",
    expected="a decimal number",
    explain=_number_explained,
    # structural: a number that did not read is a null where none may be (SERIES_CONTAINS_NULLS)
    passes=lambda c: ~np.isnan(c.numbers("change")),  # price and percent: QC202, QC203's checks
)
schema_rule(
    code="QC207",
    name="schema-structure",
    summary="A frame of quotes that lacks a column or has a column of the wrong type.",
    description=(
        "Frames handed to the Python API (or read from CSV and JSON) must carry the quote columns "
        "with the right types; this names the column that is missing or mistyped."
    ),
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="(a frame without a `percent` column)",
    field="file",
    expected="the quote columns",
    explain=_structure_explained,
    column="kind",
    check=lambda pandera, kinds: pandera.Check.isin(list(kinds), error="QC207"),
    passes=lambda c: c.among("kind", c.kinds) & (c.numbers("line") >= 1),
)

# Structural failures by reason code (pandera.errors.SchemaErrorReason names).
REASON_CODES = {
    "SERIES_CONTAINS_NULLS": "QC206",
    "COLUMN_NOT_IN_DATAFRAME": "QC207",
    "WRONG_DATATYPE": "QC207",
    "DATATYPE_COERCION": "QC207",
    "WRONG_FIELD_NAME": "QC207",
}


@lru_cache(maxsize=4)
def quote_schema(kinds: tuple[str, ...]) -> pandera.DataFrameSchema:
    """The pandera schema of the quote frame (imported lazily: pandera is slow to import)."""
    import pandera.pandas as pandera

    checks: dict[str, list[Any]] = {name: [] for name in _EXPECTED_DTYPES}
    checks["line"].append(pandera.Check.ge(1))
    for spec in SCHEMA_CHECKS.values():
        if spec.column is not None and spec.check is not None:
            checks[spec.column].append(spec.check(pandera, kinds))
    columns = {
        name: pandera.Column(
            "string[pyarrow]" if dtype == _TEXT else str(dtype), checks[name], nullable=name in _NULLABLE
        )
        for name, dtype in _EXPECTED_DTYPES.items()
    }
    return pandera.DataFrameSchema(columns, name="quotes")


def _field_of(column: str | None) -> str:
    return column if column in QUOTE_FIELDS else "file"


# The failing rows are validated this many at a time, so that pandera's failure-case tables (one
# row per failing cell) stay small however many rows fail.
_SLICE = 100_000


def suspect_rows(frame: pd.DataFrame, kinds: tuple[str, ...]) -> np.ndarray | None:
    """Rows that any check of the schema could fail (a superset, computed with vectorised kernels).

    None when the frame's columns or dtypes are not the ones the schema expects: then only pandera
    itself can say what is wrong, and it validates the whole frame.
    """
    for name, dtype in _EXPECTED_DTYPES.items():
        if name not in frame or frame[name].dtype != dtype:
            return None
    columns = _Columns(frame, kinds)
    good = np.ones(len(frame), dtype=bool)
    for spec in SCHEMA_CHECKS.values():
        if spec.passes is not None:
            good &= spec.passes(columns)
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
            code = code if code in SCHEMA_CHECKS else REASON_CODES.get(reason)
            if code is None:
                continue
            column = getattr(error.schema, "name", None)
            rule = _rule(code)
            cases = error.failure_cases
            if not isinstance(cases, pd.DataFrame) or "index" not in cases or cases["index"].isna().all():
                if frame_level:
                    parts.append(_frame_level(ctx, rule, str(column or cases), reason))
                continue
            mask = np.zeros(len(frame), dtype=bool)
            positions = frame.index.get_indexer(pd.Index(cases["index"].dropna().unique()))
            mask[positions[positions >= 0]] = True
            mask &= ~_explained_elsewhere(ctx, code)
            if not mask.any():
                continue
            field_name = _field_of(column)
            source = text_column(field_name) if text_column(field_name) in frame else field_name
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
    spelt = {d.lower(): d for d in DIRECTION_WORDS}
    return np.array(
        [spelt.get(" ".join(str(s).split()).lower(), str(w)) for s, w in zip(shown, by_signs, strict=True)],
        dtype=object,
    )


def _explain(
    ctx: CheckContext, code: str, mask: np.ndarray, field_name: str, observed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For the failing rows of `code`: the value that would make each quote consistent, and what
    is wrong with it, in the quote's own terms."""
    return SCHEMA_CHECKS[code].explain(ctx, mask, observed.astype(object), field_name)


def _rule(code: str) -> Rule:
    from checker.rules.registry import REGISTRY

    return REGISTRY[code]


def _expected(code: str) -> str:
    return SCHEMA_CHECKS[code].expected


def _frame_level(ctx: CheckContext, rule: Rule, column: str, reason: str) -> pd.DataFrame:
    files = ctx.frame["file"].astype(str).unique() if "file" in ctx.frame else [""]
    message = f"quote frame: {reason.lower().replace('_', ' ')}: {column}"
    return from_records(
        [
            finding(rule.code, str(file), message, observed=column, expected=_expected(rule.code))
            for file in files
        ]
    )
