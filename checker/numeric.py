"""Shown numbers: their exact values, their shown decimals, and the rounding they imply.

All arithmetic that decides a finding is done on integers (a shown number is an integer
mantissa and a count of decimals), so no float rounding can move a value across a boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

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


def read_numbers(texts: pd.Series) -> Numbers:
    """Decode a column of number texts as shown in the source."""
    texts = texts.astype("string[pyarrow]").fillna("")
    normalized = texts.str.translate(LOOKALIKE_TABLE)
    lookalike = (normalized != texts).to_numpy(dtype=bool)
    grouped = normalized.str.contains(",", regex=False).to_numpy(dtype=bool)
    grouping_ok = normalized.str.fullmatch(_WESTERN).to_numpy(dtype=bool) | ~grouped
    plain = normalized.str.replace(",", "", regex=False)
    readable = plain.str.fullmatch(_PLAIN).to_numpy(dtype=bool)
    unsigned = plain.str.lstrip("+-")
    has_point = unsigned.str.contains(".", regex=False).to_numpy(dtype=bool)
    length = unsigned.str.len().to_numpy(dtype=np.int64)
    point_at = unsigned.str.find(".").to_numpy(dtype=np.int64)
    decimals = np.where(has_point, length - point_at - 1, 0)
    integer_digits = np.where(has_point, point_at, length)
    readable &= (length - has_point) <= _MAX_DIGITS
    digits = unsigned.str.replace(".", "", regex=False).where(readable, "0")
    mantissa = pd.to_numeric(digits.astype(object), errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    negative = plain.str.startswith("-").to_numpy(dtype=bool)
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
        plus_sign=plain.str.startswith("+").to_numpy(dtype=bool),
    )


def scaled(mantissa: np.ndarray, decimals: np.ndarray, scale: int) -> np.ndarray:
    """Mantissas brought to `scale` decimals (object dtype, i.e. exact Python ints)."""
    shift = np.clip(scale - decimals, 0, None)
    return mantissa.astype(object) * np.power(10, shift).astype(object)


def half_unit(decimals: np.ndarray, scale: int, exact: np.ndarray) -> np.ndarray:
    """Half a unit of the last shown digit at `scale` decimals; 0 where the figure is exact."""
    shift = np.clip(scale - decimals - 1, 0, None)
    return np.where(exact, 0, 5 * np.power(10, shift).astype(object)).astype(object)


@dataclass
class PercentCheck:
    """Whether each shown percent agrees with change / previous price."""

    checked: np.ndarray  # bool: the arithmetic could be done (readable, previous price > 0)
    consistent: np.ndarray  # bool
    low: np.ndarray  # float64: smallest percent the shown price and change admit
    high: np.ndarray  # float64: largest one


def percent_check(
    price: Numbers, change: Numbers, percent: Numbers, exact: np.ndarray, rounding_decimals: int
) -> PercentCheck:
    """Test each percent against the interval the shown price and change admit.

    Exact figures (stocks) admit one value; rounded ones (indices) admit every value within half
    a unit of their last shown digit. The shown percent stands for every value within half a unit
    of its rounding (`rounding_decimals`, trailing zeros being trimmed). The two intervals must
    meet. Ties (a value exactly half-way) are accepted, so either rounding convention passes.
    """
    n = len(exact)
    scale = int(max(price.decimals.max(initial=0), change.decimals.max(initial=0))) + 1
    p_scale = int(max(percent.decimals.max(initial=0), rounding_decimals)) + 1
    p = scaled(price.mantissa, price.decimals, scale)
    c = scaled(change.mantissa, change.decimals, scale)
    hp = half_unit(price.decimals, scale, exact)
    hc = half_unit(change.decimals, scale, exact)
    q = scaled(percent.mantissa, percent.decimals, p_scale)
    hq = half_unit(np.maximum(percent.decimals, rounding_decimals), p_scale, np.zeros(n, dtype=bool))
    q_low, q_high = q - hq, q + hq
    hundred = 100 * 10**p_scale
    # previous = price - change is smallest at (price - hp, change + hc).
    checked = price.readable & change.readable & percent.readable
    checked &= ((p - hp) - (c + hc) > 0).astype(bool)
    some_at_least_low = np.zeros(n, dtype=bool)
    some_at_most_high = np.zeros(n, dtype=bool)
    low = np.full(n, np.inf)
    high = np.full(n, -np.inf)
    safe = np.where(checked, 1, 0).astype(object)
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


def exact_percent(change_mantissa: int, price_mantissa: int, scale_change: int, scale_price: int) -> Fraction:
    """change / (price - change) x 100 as an exact fraction, from shown mantissas."""
    change = Fraction(change_mantissa, 10**scale_change)
    price = Fraction(price_mantissa, 10**scale_price)
    return change / (price - change) * 100
