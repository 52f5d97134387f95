"""Plausibility rules: moves beyond the circuit breaker, index levels far from any seen."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd

from checker.findings import Severity, empty_findings
from checker.numeric import aligned, format_percent
from checker.rules.consistency import corrected_numbers, exact_percent, price_not_positive
from checker.rules.registry import CheckContext, Rule, declare


@declare(
    code="QC501",
    name="circuit-breaker",
    severity=Severity.WARNING,
    summary="A stock moved more than the exchange's circuit breaker allows.",
    description=(
        "The exchange halts a stock whose daily move exceeds its circuit breaker: 5% or Rs 1 (whichever is"
        " higher) before 20 Jan 2020, 7.5% or Rs 1 from 2020, 10% or Rs 1 from mid-2024 (the history is in"
        " the feed profile). Real pages still show larger moves after corporate actions, so this is a"
        " warning. `--as-of DATE` picks the limit in force on that date; the latest by default."
    ),
    passing="TRG 70.15 Increased By ▲ 3.96 (5.98%)",
    failing="TRG 70.15 Increased By ▲ 13.96 (24.84%)",
    fields=("change",),
)
def circuit_breaker(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per stock quote whose change exceeds the limit in force."""
    breaker = ctx.profile.circuit_breaker(ctx.as_of)
    # The change with the sign QC301 finds wrong put right: the previous price depends on it.
    price, change = ctx.numbers["price"], corrected_numbers(ctx)["change"]
    stock = ~ctx.is_index & price.readable & change.readable
    if ctx.runs("QC202"):  # a price of 0 or less leaves no previous price to judge the move by
        stock &= ~price_not_positive(ctx)
    limit = Fraction(breaker.percent) / 100
    floor = Fraction(breaker.floor_rupees)
    factor = max(limit.numerator, limit.denominator, floor.denominator, 2)
    p, c, scale = aligned(price, change, headroom=factor)
    previous = p - c
    moved = np.abs(c)
    if p.dtype == object or floor.numerator * 10.0 ** float(scale.max(initial=0)) * 4 >= 2.0**62:
        units = np.power(10, scale).astype(object)
        floor_units = floor.numerator * units
    else:
        floor_units = floor.numerator * np.power(10, scale, dtype=np.int64)
    beyond_percent = (moved * limit.denominator > previous * limit.numerator).astype(bool)
    beyond_floor = (moved * floor.denominator > floor_units).astype(bool)
    mask = stock & (previous > 0).astype(bool) & beyond_percent & beyond_floor
    if not mask.any():
        return empty_findings()
    texts = ctx.texts("change_text", mask)
    limit_text = f"{breaker.percent}% or Rs {breaker.floor_rupees}, whichever is higher"
    if ctx.as_of is not None:
        when = f"in force on {ctx.as_of.isoformat()}"
    elif breaker.start is not None:
        when = f"in force since {breaker.start.isoformat()}"
    else:
        when = "in force"
    rows = np.flatnonzero(mask)
    expected = np.empty(len(rows), dtype=object)
    message = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows.tolist()):
        shown_price = Fraction(int(price.mantissa[row]), 10 ** int(price.decimals[row]))
        shown_change = Fraction(int(change.mantissa[row]), 10 ** int(change.decimals[row]))
        previous_price = shown_price - shown_change
        # The largest move in ticks (Rs 0.01) that the limit allows, with the change's sign.
        allowed = math.floor(max(previous_price * limit, floor) * 100) / Fraction(100)
        expected[i] = f"{'≥ -' if shown_change < 0 else '≤ '}{float(allowed):.2f}"
        moved = format_percent(abs(exact_percent(shown_change, shown_price)))
        message[i] = (
            f"change {texts[i]} is a move of {moved}% from the previous price {float(previous_price):.2f}, "
            f"beyond the circuit breaker of {limit_text} ({when})"
        )
    return rule.findings(ctx, mask, "change", texts, expected, message)


@declare(
    code="QC502",
    name="index-level-implausible",
    severity=Severity.WARNING,
    summary="An index level far outside the range it has been seen in.",
    description=(
        "The profile records the range of each index's level (KSE100 about 28,600 to 174,000 in 2020-2025,"
        " and so on) with a margin; a level outside it is more likely a misplaced digit than a market move."
    ),
    passing="KSE100 114,977 Increased By 172.5 (0.15%)",
    failing="KSE100 11,497 Increased By 172.5 (1.52%)",
    fields=("price",),
)
def index_level(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per index level outside its profile range, widened by the profile's margin."""
    frame = ctx.frame
    value = ctx.numbers["price"].value
    margin = float(ctx.profile.index_level_margin_percent) / 100
    low = np.full(len(frame), -np.inf)
    high = np.full(len(frame), np.inf)
    for symbol, (lo, hi) in ctx.profile.index_levels.items():
        rows = ctx.equals("symbol", symbol)
        low[rows] = lo * (1 - margin)
        high[rows] = hi * (1 + margin)
    mask = ctx.is_index & ((value < low) | (value > high))
    if ctx.runs("QC202"):  # a level of 0 or less is QC202's finding
        mask &= ~price_not_positive(ctx)
    if not mask.any():
        return empty_findings()
    expected = np.array(
        [f"{lo:,.0f} to {hi:,.0f}" for lo, hi in zip(low[mask], high[mask], strict=True)], dtype=object
    )
    texts = ctx.texts("price_text", mask)
    symbols = ctx.texts("symbol", mask)
    margin_text = f"{ctx.profile.index_level_margin_percent}%"
    message = np.array(
        [
            f"{symbol} at {level} is outside {span}, the range it has been seen in widened by {margin_text}"
            if np.isfinite(lo) or np.isfinite(hi)
            else f"{symbol} at {level} is not a level an index has"
            for symbol, level, span, lo, hi in zip(
                symbols, texts, expected, low[mask], high[mask], strict=True
            )
        ],
        dtype=object,
    )
    return rule.findings(ctx, mask, "price", texts, expected, message)
