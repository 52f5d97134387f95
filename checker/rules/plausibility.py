"""Plausibility rules: moves beyond the circuit breaker, index levels far from any seen."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from checker.findings import Severity, empty_findings
from checker.numeric import aligned
from checker.rules.registry import REGISTRY, CheckContext, declare


@declare(
    "QC501",
    "circuit-breaker",
    Severity.WARNING,
    "A stock moved more than the exchange's circuit breaker allows.",
    "The exchange halts a stock whose daily move exceeds its circuit breaker: 5% or Rs 1 (whichever "
    "is higher) before 20 Jan 2020, 7.5% or Rs 1 from 2020, 10% or Rs 1 from mid-2024 (the history "
    "is in the feed profile). Real pages still show larger moves after corporate actions, so this "
    "is a warning. `--as-of DATE` picks the limit in force on that date; the latest by default.",
    "TRG 70.15 Increased By ▲ 3.96 (5.98%)",
    "TRG 70.15 Increased By ▲ 13.96 (24.84%)",
    ("change",),
)
def circuit_breaker(ctx: CheckContext) -> pd.DataFrame:
    """One finding per stock quote whose change exceeds the limit in force."""
    breaker = ctx.profile.circuit_breaker(ctx.as_of)
    price, change = ctx.numbers["price"], ctx.numbers["change"]
    stock = ~ctx.is_index & price.readable & change.readable
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
    limit_text = f"{breaker.percent}% or Rs {breaker.floor_rupees}"
    message = "change " + texts + f" exceeds the circuit breaker of {limit_text} in force"
    return REGISTRY["QC501"].findings(ctx, mask, "change", texts, f"within {limit_text}", message)


@declare(
    "QC502",
    "index-level-implausible",
    Severity.WARNING,
    "An index level far outside the range it has been seen in.",
    "The profile records the range of each index's level (KSE100 about 28,600 to 174,000 in "
    "2020-2025, and so on) with a margin; a level outside it is more likely a misplaced digit than "
    "a market move.",
    "KSE100 114,977 Increased By 172.5 (0.15%)",
    "KSE100 11,497 Increased By 172.5 (1.52%)",
    ("price",),
)
def index_level(ctx: CheckContext) -> pd.DataFrame:
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
    if not mask.any():
        return empty_findings()
    expected = np.array(
        [f"{lo:,.0f} to {hi:,.0f}" for lo, hi in zip(low[mask], high[mask], strict=True)], dtype=object
    )
    texts = ctx.texts("price_text", mask)
    message = "index level " + texts + " is outside the range seen"
    return REGISTRY["QC502"].findings(ctx, mask, "price", texts, expected, message)
