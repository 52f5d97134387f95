"""Format rules: how each number is shown, per the profile's conventions for its kind."""

from __future__ import annotations

import unicodedata
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_large_text
from checker.findings import Severity, combine, empty_findings
from checker.numeric import Numbers
from checker.profile import NumberFormat
from checker.rules.consistency import price_not_positive
from checker.rules.registry import CheckContext, Rule, as_mask, declare
from checker.vocabulary import ARROW_DOWN, ARROW_UP, MOJIBAKE_ARROWS, NUMBER_FIELDS, place_column, text_column


def _canonical(value: float, decimals: int, grouping: bool) -> str:
    return f"{value:,.{decimals}f}" if grouping else f"{value:.{decimals}f}"


_SPACES = "\u00a0\u202f\u2009"


def _spaced(texts: pa.LargeStringArray) -> np.ndarray:
    """Texts whose digit groups are parted by a no-break or thin space (QC404's finding)."""
    return as_mask(pc.match_substring_regex(texts, f"[{_SPACES}]"))


def _filled(texts: pa.LargeStringArray) -> pa.LargeStringArray:
    """Texts with nulls as empty strings (the stubs lose the array's type through fill_null)."""
    return cast(pa.LargeStringArray, texts.fill_null(""))


def _number_format_mask(
    numbers: Numbers,
    texts: pa.LargeStringArray,
    spec: NumberFormat,
    rows: np.ndarray,
    signed: bool,
    exempt: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows (among `rows`) whose number breaks `spec`, with why: the index of the first reason."""
    bad = np.zeros(len(rows), dtype=bool)
    why = np.full(len(rows), -1, dtype=np.int64)
    reasons: list[str] = []

    def flag(mask: np.ndarray, reason: str) -> None:
        nonlocal bad
        mask = mask & rows & ~bad
        bad |= mask
        why[mask] = len(reasons)
        reasons.append(reason)

    readable = numbers.readable
    flag(readable & ~np.isin(numbers.decimals, spec.decimals), _decimals_reason(spec.decimals))
    flag(readable & ~numbers.grouping_ok, "digits grouped wrongly (Western grouping is 1,234,567)")
    if spec.grouping == "required":
        # A space in a comma's place is one fault, the look-alike character (QC404), not two.
        # (a space in a number is a look-alike character: only those texts are searched)
        spaced = np.zeros(len(texts), dtype=bool)
        odd = np.flatnonzero(numbers.lookalike)
        if len(odd):
            spaced[odd] = _spaced(texts.take(pa.array(odd, pa.int64())))
        flag(
            readable & ~numbers.grouped & ~spaced & (numbers.integer_digits > 3),
            "thousands not grouped with commas",
        )
    elif spec.grouping == "forbidden":
        flag(readable & numbers.grouped, "no thousands separator expected")
    flag(readable & numbers.plus_sign, "a '+' sign (rises are shown unsigned)")
    if not signed:
        # A negative price is QC202's finding when that rule runs.
        negative = readable & (numbers.mantissa < 0)
        flag(negative & ~exempt if exempt is not None else negative, "a sign on a price")
    unsigned = pc.utf8_ltrim(_filled(texts), "+-\u2212")
    leading_zero = pc.starts_with(unsigned, "0").to_numpy(zero_copy_only=False) & (numbers.integer_digits > 1)
    flag(readable & leading_zero, "a leading zero")
    return bad, why, reasons


def _decimals_reason(allowed: tuple[int, ...]) -> str:
    if len(allowed) == 1:
        return (
            f"{allowed[0]} decimal{'s' if allowed[0] != 1 else ''} expected"
            if allowed[0]
            else "a whole number expected"
        )
    return f"{', '.join(map(str, allowed[:-1]))} or {allowed[-1]} decimals expected"


def _kind_format_findings(rule: Rule, ctx: CheckContext, field_name: str, signed: bool) -> pd.DataFrame:
    numbers = ctx.numbers[field_name]
    column = text_column(field_name)
    texts = as_large_text(ctx.frame[column])
    parts = []
    for kind_name, kind in ctx.profile.kinds.items():
        spec: NumberFormat = getattr(kind, field_name)
        rows = ctx.equals("kind", kind_name)
        if not rows.any():
            continue
        exempt = price_not_positive(ctx) if field_name == "price" and ctx.runs("QC202") else None
        bad, why, reasons = _number_format_mask(numbers, texts, spec, rows, signed, exempt)
        if not bad.any():
            continue
        decimals = spec.decimals[0] if len(spec.decimals) == 1 else None
        grouping = spec.grouping == "required"
        shown = ctx.texts(column, bad)
        values = numbers.value[bad]
        if decimals is None:
            places = np.clip(numbers.decimals[bad], min(spec.decimals), max(spec.decimals)).tolist()
        else:
            places = [decimals] * len(values)
        expected = np.array(
            [_canonical(v, d, grouping) for v, d in zip(values.tolist(), places, strict=True)], dtype=object
        )
        message = f"{kind_name} {field_name} " + shown + ": " + np.array(reasons, dtype=object)[why[bad]]
        parts.append(rule.findings(ctx, bad, field_name, shown, expected, message))
    return combine(parts)


@declare(
    code="QC401",
    name="price-format",
    severity=Severity.ERROR,
    summary="A price not shown the way its kind is shown.",
    description=(
        "Stock prices show exactly 2 decimals (`207.00`, `0.97`); index levels are whole numbers with"
        " Western thousands grouping (`114,977`; `1,14,977`, `114977` and `11,4977` are wrong). No sign, no"
        " leading zero."
    ),
    passing="KSE100 114,977 Increased By 172.5 (0.15%)",
    failing="KSE100 1,14,977 Increased By 172.5 (0.15%)",
    fields=("price",),
)
def price_format(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per price that breaks its kind's format."""
    return _kind_format_findings(rule, ctx, "price", signed=False)


@declare(
    code="QC402",
    name="change-format",
    severity=Severity.ERROR,
    summary="A change not shown the way its kind is shown.",
    description=(
        "Stock changes show exactly 2 decimals with a `-` sign when down and no `+`; index changes show 0,"
        " 1 or 2 decimals. Digit grouping, if any, is Western."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    failing="BOP 10.39 Decreased By ▼ -0.1 (-0.95%)",
    fields=("change",),
)
def change_format(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per change that breaks its kind's format."""
    return _kind_format_findings(rule, ctx, "change", signed=True)


@declare(
    code="QC403",
    name="percent-format",
    severity=Severity.ERROR,
    summary="A percent not rounded to 2 decimals with trailing zeros trimmed.",
    description=(
        "The percent is rounded to 2 decimals and shown with trailing zeros trimmed: `3.5`, `3`, `0`, `-1`;"
        " never `3.50`, `3.0` or `3.351`, never a `+` sign or a thousands separator."
    ),
    passing="KEL 4.96 Decreased By ▼ -0.04 (-0.8%)",
    failing="KEL 4.96 Decreased By ▼ -0.04 (-0.80%)",
    fields=("percent",),
)
def percent_format(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per percent with too many decimals, untrimmed zeros, a plus sign or grouping."""
    numbers = ctx.numbers["percent"]
    texts = _filled(as_large_text(ctx.frame["percent_text"]))
    readable = numbers.readable
    max_decimals = ctx.profile.percent_max_decimals
    too_many = readable & (numbers.decimals > max_decimals)
    untrimmed = readable & (numbers.decimals > 0) & pc.ends_with(texts, "0").to_numpy(zero_copy_only=False)
    plus = readable & numbers.plus_sign
    grouped = readable & numbers.grouped
    unsigned = pc.utf8_ltrim(texts, "+-\u2212")
    leading_zero = (
        readable & pc.starts_with(unsigned, "0").to_numpy(zero_copy_only=False) & (numbers.integer_digits > 1)
    )
    mask = too_many | untrimmed | plus | grouped | leading_zero
    if not mask.any():
        return empty_findings()
    why = np.select(
        [too_many[mask], untrimmed[mask], plus[mask], grouped[mask]],
        [
            f"more than {max_decimals} decimals",
            "trailing zeros are trimmed in this feed",
            "a '+' sign (rises are shown unsigned)",
            "a thousands separator",
        ],
        "a leading zero",
    ).astype(object)
    expected = np.array([_trimmed(v, max_decimals) for v in numbers.value[mask].tolist()], dtype=object)
    shown = ctx.texts("percent_text", mask)
    message = "percent " + shown + "%: " + why
    return rule.findings(ctx, mask, "percent", shown, expected, message)


def _trimmed(value: float, decimals: int) -> str:
    from checker.numeric import format_percent

    return format_percent(value, decimals)


def describe_lookalikes(text: str) -> str:
    """Name the non-ASCII characters in a number (`U+2212 MINUS SIGN`)."""
    seen = dict.fromkeys(ch for ch in text if ord(ch) > 127)
    return ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, '?')}" for ch in seen)


@declare(
    code="QC404",
    name="lookalike-characters",
    severity=Severity.ERROR,
    summary="A number holds a look-alike character: a Unicode minus, a no-break space or a full-width digit.",
    description=(
        "Scrapers and word processors swap `-` for `−` (U+2212), put no-break spaces between digit groups,"
        " or emit full-width digits (`１２３`). The number is read as its ASCII twin so the other rules still"
        " check it, but a database loader would misread or reject it, so it is an error."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    failing="BOP 10.39 Decreased By ▼ −0.10 (-0.95%)",
    fields=NUMBER_FIELDS,
)
def lookalike_characters(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per row with a look-alike character in its price, change or percent."""
    flags = [ctx.numbers[name].lookalike for name in NUMBER_FIELDS]
    mask = flags[0] | flags[1] | flags[2]
    if not mask.any():
        return empty_findings()
    field_name = np.select(flags[:2], list(NUMBER_FIELDS[:2]), NUMBER_FIELDS[2])
    rows = np.flatnonzero(mask)
    observed = np.empty(len(rows), dtype=object)
    expected = np.empty(len(rows), dtype=object)
    column = np.empty(len(rows), dtype=np.int64)
    message = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows.tolist()):
        name = str(field_name[row])
        text = str(ctx.cell(text_column(name), row))
        observed[i] = text
        column[i] = ctx.cell(place_column(name), row)
        grouping = "forbidden"
        if name != "percent":
            kind = ctx.profile.kinds.get(str(ctx.cell("kind", row)))
            grouping = getattr(kind, name).grouping if kind is not None else "optional"
        expected[i] = ascii_twin(text, grouping)
        message[i] = f"{name} {text} holds {describe_lookalikes(text)}; {expected[i]} expected"
    out = rule.findings(ctx, mask, "price", observed, expected, message, column=column)
    out["field"] = pd.array(field_name[mask], dtype=out["field"].dtype)
    return out


def ascii_twin(text: str, grouping: str) -> str:
    """A number with look-alike characters replaced by the ASCII ones the feed uses.

    A space between digit groups stands for a thousands separator: it becomes a comma where the
    kind groups its digits (regrouped in threes if the spaces stood elsewhere), and goes where
    the kind does not.
    """
    if grouping == "forbidden" or not any(ch in _SPACES for ch in text):
        return text.translate(_ASCII_TABLE)
    marked = text.translate({ord(ch): "," for ch in _SPACES}).translate(_ASCII_TABLE)
    sign, digits = (marked[0], marked[1:]) if marked[:1] in "+-" else ("", marked)
    whole, point, decimals = digits.partition(".")
    plain = whole.replace(",", "")
    if not plain.isdigit():
        return text.translate(_ASCII_TABLE)
    return f"{sign}{int(plain):,}{point}{decimals}" if len(plain) > 3 or "," in whole else marked


from checker.numeric import LOOKALIKE_TABLE as _ASCII_TABLE  # noqa: E402


@declare(
    code="QC405",
    name="arrow-mojibake",
    severity=Severity.WARNING,
    summary="An arrow garbled by a wrong text encoding (`â–²` for `▲`).",
    description=(
        "The page was decoded as Windows-1252 or Latin-1 somewhere between the site and the file, which"
        " turns `▲` into `â–²` and `▼` into `â–¼`. The arrow is read for what it means, and the rest of the"
        " page's non-ASCII text is likely garbled too."
    ),
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="AIRLINK 207.00 Increased By â–² 6.71 (3.35%)",
    fields=("arrow",),
)
def arrow_mojibake(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per arrow that is the mojibake of `▲` or `▼`."""
    arrows = pa.array(sorted(MOJIBAKE_ARROWS), pa.large_string())
    texts = as_large_text(ctx.frame["arrow_text"])
    mask = as_mask(pc.is_in(texts, value_set=arrows))
    if not mask.any():
        return empty_findings()
    shown = ctx.texts("arrow_text", mask)
    meaning = ctx.texts("arrow", mask)
    message = "arrow " + shown + " is the mojibake of " + meaning
    return rule.findings(ctx, mask, "arrow", shown, meaning, message)


@declare(
    code="QC406",
    name="missing-arrow",
    severity=Severity.WARNING,
    summary="A stock quote without its arrow.",
    description=(
        "Stock quotes carry `▲` or `▼` after the direction word (`▼` for `No Change`); index quotes may"
        " omit it. A missing arrow usually means the scraper dropped an image or an icon font."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    failing="BOP 10.39 Decreased By -0.10 (-0.95%)",
    fields=("arrow",),
)
def missing_arrow(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per quote of a kind that requires an arrow but shows none."""
    required = [name for name, kind in ctx.profile.kinds.items() if kind.arrow == "required"]
    frame = ctx.frame
    mask = frame["kind"].isin(required).to_numpy(dtype=bool) & frame["arrow_text"].isna().to_numpy()
    if not mask.any():
        return empty_findings()
    from checker.rules.consistency import arrows_wanted

    wanted = arrows_wanted(ctx, mask)
    expected = np.where(wanted != "", wanted, f"{ARROW_UP} or {ARROW_DOWN}").astype(object)
    message = (
        "no arrow between " + ctx.texts("direction_text", mask) + " and the change; " + expected + " expected"
    )
    return rule.findings(ctx, mask, "arrow", "", expected, message, column=frame["change_col"])
