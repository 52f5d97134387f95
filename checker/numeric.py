"""Shown numbers: their exact values, their shown decimals, and the rounding they imply.

All arithmetic that decides a finding is done on integers (a shown number is an integer
mantissa and a count of decimals), so no float rounding can move a value across a boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_large_text

# Characters scrapers put inside numbers that are not ASCII: full-width digits, the Unicode
# minus sign and no-break or thin spaces used as digit-group separators.
LOOKALIKE_TABLE = str.maketrans(
    {
        **{chr(0xFF10 + d): str(d) for d in range(10)},
        "\u2212": "-",
        "\u00a0": "",
        "\u202f": "",
        "\u2009": "",
    }
)
_PLAIN = r"[-+]?[0-9]+(?:\.[0-9]+)?"
_WESTERN = r"[-+]?[0-9]{1,3}(?:,[0-9]{3})*(?:\.[0-9]+)?"
# More digits than this cannot be held exactly in a 64-bit mantissa together with the scaling.
_MAX_DIGITS = 15


@dataclass
class Numbers:
    """A column of shown numbers, decoded."""

    value: np.ndarray  # float64, NaN where unreadable
    mantissa: np.ndarray  # int64, the digits without point or commas (0 where unreadable)
    decimals: np.ndarray  # int64, digits after the point
    readable: np.ndarray  # bool
    lookalike: np.ndarray  # bool: held a non-ASCII digit, minus or space
    grouped: np.ndarray  # bool: held a comma
    grouping_ok: np.ndarray  # bool: commas, if any, group by three (Western grouping)
    integer_digits: np.ndarray  # int64, digits before the point
    plus_sign: np.ndarray  # bool


_LOOKALIKE_CLASS = r"[\x{ff10}-\x{ff19}\x{2212}\x{a0}\x{202f}\x{2009}]"


def _large_texts(texts: pd.Series | pa.Array | pa.ChunkedArray | list[str | None]) -> pa.LargeStringArray:
    """A column of texts as one pyarrow large_string array, nulls as empty strings."""
    filled = pc.fill_null(as_large_text(texts), pa.scalar("", pa.large_string()))
    return cast(pa.LargeStringArray, filled)


def read_numbers(column: pd.Series | pa.Array) -> Numbers:
    """Decode a column of number texts as shown in the source (vectorised with Arrow kernels)."""
    texts = _large_texts(column)
    # Look-alikes are not ASCII: the regex runs only on the (few) texts that are not.
    lookalike = ~pc.string_is_ascii(texts).to_numpy(zero_copy_only=False)
    if lookalike.any():
        rows = np.flatnonzero(lookalike)
        found = pc.match_substring_regex(texts.take(pa.array(rows, pa.int64())), _LOOKALIKE_CLASS)
        lookalike[rows] = found.to_numpy(zero_copy_only=False)
    normalized = texts
    if lookalike.any():  # rare: translate only those texts, in Python
        rows = np.flatnonzero(lookalike)
        shown = cast("list[str]", texts.take(pa.array(rows, pa.int64())).to_pylist())  # nulls were filled
        fixed = [t.translate(LOOKALIKE_TABLE) for t in shown]
        normalized = pc.replace_with_mask(texts, pa.array(lookalike), pa.array(fixed, pa.large_string()))
        lookalike = pc.not_equal(normalized, texts).to_numpy(zero_copy_only=False)
    grouped = pc.match_substring(normalized, ",").to_numpy(zero_copy_only=False)
    grouping_ok = ~grouped
    if grouped.any():  # the grouping pattern only where there is a comma
        rows = np.flatnonzero(grouped)
        western = pc.match_substring_regex(normalized.take(pa.array(rows, pa.int64())), f"^(?:{_WESTERN})$")
        grouping_ok[rows] = western.to_numpy(zero_copy_only=False)
    plain = pc.replace_substring(normalized, ",", "") if grouped.any() else normalized
    readable = pc.match_substring_regex(plain, f"^(?:{_PLAIN})$").to_numpy(zero_copy_only=False)
    unsigned = pc.utf8_ltrim(plain, "+-")
    point_at = pc.find_substring(unsigned, ".").to_numpy(zero_copy_only=False).astype(np.int64)
    has_point = point_at >= 0
    length = pc.utf8_length(unsigned).to_numpy(zero_copy_only=False).astype(np.int64)
    decimals = np.where(has_point, length - point_at - 1, 0)
    integer_digits = np.where(has_point, point_at, length)
    readable &= (length - has_point) <= _MAX_DIGITS
    digits = pc.replace_substring(unsigned, ".", "")
    digits = pc.if_else(pa.array(readable), digits, pa.scalar("0", pa.large_string()))
    mantissa = cast(pa.Int64Array, pc.cast(digits, pa.int64())).to_numpy(zero_copy_only=False)
    negative = pc.starts_with(plain, "-").to_numpy(zero_copy_only=False)
    mantissa = np.where(negative, -mantissa, mantissa)
    decimals = np.where(readable, decimals, 0).astype(np.int64)
    value = np.where(readable, mantissa / np.power(10.0, decimals), np.nan)
    return Numbers(
        value=value,
        mantissa=mantissa,
        decimals=decimals,
        readable=readable,
        lookalike=lookalike,
        grouped=grouped,
        grouping_ok=grouping_ok,
        integer_digits=np.where(readable, integer_digits, 0).astype(np.int64),
        plus_sign=pc.starts_with(plain, "+").to_numpy(zero_copy_only=False),
    )


# Exact integer arithmetic runs on int64 when every intermediate value provably stays below this
# bound (checked from the magnitudes of the inputs before computing), else on Python ints.
_INT64_SAFE = float(2**62)


def _magnitude(mantissa: np.ndarray, shift: np.ndarray) -> float:
    """An upper bound of |mantissa| x 10^shift over a column, as a float."""
    if not len(mantissa):
        return 0.0
    return float(np.max(np.abs(mantissa).astype(np.float64) * np.power(10.0, shift)))


def scaled(mantissa: np.ndarray, decimals: np.ndarray, scale: int, dtype: object = object) -> np.ndarray:
    """Mantissas brought to `scale` decimals (exact: Python ints by default, or int64 if asked)."""
    shift = np.clip(scale - decimals, 0, None)
    if dtype is object:
        return mantissa.astype(object) * np.power(10, shift).astype(object)
    return mantissa.astype(np.int64) * np.power(10, shift, dtype=np.int64)


def half_unit(decimals: np.ndarray, scale: int, exact: np.ndarray, dtype: object = object) -> np.ndarray:
    """Half a unit of the last shown digit at `scale` decimals; 0 where the figure is exact."""
    shift = np.clip(scale - decimals - 1, 0, None)
    if dtype is object:
        return np.where(exact, 0, 5 * np.power(10, shift).astype(object)).astype(object)
    return np.where(exact, 0, 5 * np.power(10, shift, dtype=np.int64)).astype(np.int64)


def aligned(
    first: Numbers, second: Numbers, headroom: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both columns' mantissas at each row's common scale (the larger decimals), exactly.

    int64 when the values times `headroom` provably fit, Python ints otherwise. Returns the two
    aligned columns and the scale of each row.
    """
    scale = np.maximum(first.decimals, second.decimals)
    shift_first, shift_second = scale - first.decimals, scale - second.decimals
    bound = max(_magnitude(first.mantissa, shift_first), _magnitude(second.mantissa, shift_second))
    if bound * max(headroom, 1.0) * 4 < _INT64_SAFE:
        return (
            first.mantissa * np.power(10, shift_first, dtype=np.int64),
            second.mantissa * np.power(10, shift_second, dtype=np.int64),
            scale,
        )
    return (
        first.mantissa.astype(object) * np.power(10, shift_first).astype(object),
        second.mantissa.astype(object) * np.power(10, shift_second).astype(object),
        scale,
    )


@dataclass
class PercentCheck:
    """Whether each shown percent agrees with change / previous price."""

    checked: np.ndarray  # bool: the arithmetic could be done (readable, previous price > 0)
    consistent: np.ndarray  # bool
    low: np.ndarray  # float64: smallest percent the shown price and change admit
    high: np.ndarray  # float64: largest one


def _percent_int64_safe(
    price: Numbers, change: Numbers, percent: Numbers, scale: int, p_scale: int
) -> np.ndarray:
    """Rows whose every product in `percent_check` provably stays within int64 (a float bound)."""

    def magnitude(numbers: Numbers, at: int) -> np.ndarray:
        return np.abs(numbers.mantissa).astype(np.float64) * np.power(
            10.0, np.clip(at - numbers.decimals, 0, None)
        )

    # |corner price| + |corner change| bounds the previous price and each corner on its own.
    corners = magnitude(price, scale) + magnitude(change, scale) + 2 * 10.0**scale
    shown_percent = magnitude(percent, p_scale) + 10.0**p_scale
    biggest = corners * np.maximum(shown_percent, 100 * 10.0**p_scale)
    return biggest * 4 < _INT64_SAFE


def _widened(half: np.ndarray, loose: np.ndarray, scale: int, dtype: object) -> np.ndarray:
    """Half-widths with a whole unit at `loose` decimals where that is given (>= 0)."""
    if not (loose >= 0).any():
        return half
    shift = np.clip(scale - loose, 0, None)
    unit = np.power(10, shift).astype(object) if dtype is object else np.power(10, shift, dtype=np.int64)
    return np.where(loose >= 0, unit, half).astype(half.dtype)


def percent_check(
    price: Numbers,
    change: Numbers,
    percent: Numbers,
    exact: np.ndarray,
    rounding_decimals: int,
    loose: tuple[np.ndarray, np.ndarray] | None = None,
) -> PercentCheck:
    """Test each percent against the interval the shown price and change admit.

    Exact figures (stocks) admit one value; rounded ones (indices) admit every value within half
    a unit of their last shown digit. The shown percent stands for every value within half a unit
    of the feed's rounding (`rounding_decimals`, trailing zeros being trimmed; extra digits shown
    are a format finding, not a narrower interval). The two intervals must
    meet. Ties (a value exactly half-way) are accepted, so either rounding convention passes.
    Rows whose magnitudes allow it are computed on int64, the others on Python ints: exact either way.

    `loose` gives, for the price and for the change, the decimals whose unit a figure may be off
    by, or -1: a figure of an exact kind shown with other decimals than the kind's (`-20.1` for
    `-20.16`, `207.005` for `207.00`) was cut off, rounded or padded, so it stands for every value
    within that unit of it, and its format finding is not also a percent mismatch.
    """
    n = len(exact)
    if loose is None:
        loose = (np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64))
    scale = int(max(price.decimals.max(initial=0), change.decimals.max(initial=0))) + 1
    p_scale = int(max(percent.decimals.max(initial=0), rounding_decimals)) + 1
    safe = _percent_int64_safe(price, change, percent, scale, p_scale)
    if safe.all():
        return _percent_rows(
            price, change, percent, exact, rounding_decimals, scale, p_scale, np.int64, loose
        )
    if not safe.any():
        return _percent_rows(price, change, percent, exact, rounding_decimals, scale, p_scale, object, loose)
    out = PercentCheck(
        checked=np.zeros(n, dtype=bool),
        consistent=np.zeros(n, dtype=bool),
        low=np.full(n, np.nan),
        high=np.full(n, np.nan),
    )
    for rows, dtype in ((safe, np.int64), (~safe, object)):
        part = _percent_rows(
            _subset(price, rows), _subset(change, rows), _subset(percent, rows), exact[rows],
            rounding_decimals, scale, p_scale, dtype, (loose[0][rows], loose[1][rows]),
        )  # fmt: skip
        out.checked[rows], out.consistent[rows] = part.checked, part.consistent
        out.low[rows], out.high[rows] = part.low, part.high
    return out


def _subset(numbers: Numbers, rows: np.ndarray) -> Numbers:
    """The same decoded numbers for the rows of a mask only."""
    return Numbers(**{name: getattr(numbers, name)[rows] for name in Numbers.__dataclass_fields__})


def _percent_rows(
    price: Numbers,
    change: Numbers,
    percent: Numbers,
    exact: np.ndarray,
    rounding_decimals: int,
    scale: int,
    p_scale: int,
    dtype: type,
    loose: tuple[np.ndarray, np.ndarray],
) -> PercentCheck:
    """`percent_check` at fixed scales, with integers of `dtype` (int64 or object)."""
    n = len(exact)
    p = scaled(price.mantissa, price.decimals, scale, dtype)
    c = scaled(change.mantissa, change.decimals, scale, dtype)
    hp = half_unit(price.decimals, scale, exact, dtype)
    hc = half_unit(change.decimals, scale, exact, dtype)
    hp = _widened(hp, loose[0], scale, dtype)
    hc = _widened(hc, loose[1], scale, dtype)
    q = scaled(percent.mantissa, percent.decimals, p_scale, dtype)
    # The feed rounds every percent to `rounding_decimals`; a percent shown with more digits is the
    # format rule's finding, so it is not also read as a tighter claim about the arithmetic.
    hq = half_unit(np.full(n, rounding_decimals), p_scale, np.zeros(n, dtype=bool), dtype)
    q_low, q_high = q - hq, q + hq
    hundred = 100 * 10**p_scale
    # previous = price - change is smallest at (price - hp, change + hc).
    checked = price.readable & change.readable & percent.readable
    checked &= ((p - hp) - (c + hc) > 0).astype(bool)
    some_at_least_low = np.zeros(n, dtype=bool)
    some_at_most_high = np.zeros(n, dtype=bool)
    low = np.full(n, np.inf)
    high = np.full(n, -np.inf)
    safe: np.ndarray = np.where(checked, 1, 0).astype(dtype)
    for sp in (-1, 1):
        for sc in (-1, 1):
            corner_p = p + sp * hp
            corner_c = c + sc * hc
            previous = np.where(checked, corner_p - corner_c, safe)
            numerator = hundred * corner_c
            some_at_least_low |= (numerator >= q_low * previous).astype(bool)
            some_at_most_high |= (numerator <= q_high * previous).astype(bool)
            with np.errstate(divide="ignore", invalid="ignore"):
                as_float = (corner_c * 100).astype(float) / previous.astype(float)
            low = np.minimum(low, as_float)
            high = np.maximum(high, as_float)
    consistent = ~checked | (some_at_least_low & some_at_most_high)
    return PercentCheck(
        checked=checked,
        consistent=consistent,
        low=np.where(checked, low, np.nan),
        high=np.where(checked, high, np.nan),
    )


def format_percent(value: Fraction | Decimal | float, decimals: int = 2) -> str:
    """A percent as the feed shows it: rounded half up, trailing zeros trimmed (`3.5`, `3`, `0`)."""
    exact = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(str(value))
    )
    text = format(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
