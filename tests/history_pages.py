"""Snapshot pages in the feed's format, for the tests of the checks across snapshots.

A page is written from exact figures: stocks in paisa, indices in hundredths of a point (the
level a page shows is rounded to the unit and the change to one decimal, as the feed does).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path


@dataclass
class Quote:
    """One line: a symbol, its price and its previous close (exact, in hundredths)."""

    symbol: str
    price: int
    previous: int
    index: bool = False


def _percent(change: Decimal, previous: Decimal) -> str:
    value = (change / previous * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quote_line(quote: Quote) -> str:
    """The quote as the feed prints it."""
    if quote.index:
        price = (Decimal(quote.price) / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        change = (Decimal(quote.price - quote.previous) / 100).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        if change == 0:
            change = Decimal("0.1") if quote.price >= quote.previous else Decimal("-0.1")
        percent = _percent(change, price - change)
        word = "Increased By" if change > 0 else "Decreased By"
        return f"{quote.symbol} {price:,} {word} {change} ({percent}%)"
    price = Decimal(quote.price) / 100
    change = Decimal(quote.price - quote.previous) / 100
    if change == 0:
        return f"{quote.symbol} {price:.2f} No Change ▼ 0.00 (0%)"
    percent = _percent(change, price - change)
    if change > 0:
        return f"{quote.symbol} {price:.2f} Increased By ▲ {change:.2f} ({percent}%)"
    return f"{quote.symbol} {price:.2f} Decreased By ▼ {change:.2f} ({percent}%)"


def page_text(quotes: list[Quote], prefix: str | None = None) -> str:
    """A page: the ticker block, then a line of prose (with an optional crawler prefix)."""
    lines = [quote_line(q) for q in quotes]
    if prefix and lines:
        lines[0] = f" date {prefix} {lines[0]}"
    return "\n".join([*lines, "", "Markets closed the day on a quiet note.", ""])


def write_archive(folder: Path, pages: dict[str, list[Quote]]) -> list[Path]:
    """Write pages (file name -> quotes) into folder; their paths in the given order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, quotes in pages.items():
        path = folder / name
        path.write_text(page_text(quotes), encoding="utf-8")
        paths.append(path)
    return paths


STOCKS = ("AIRLINK", "BOP", "CNERGY", "FCCL", "FFL", "HUBC", "KEL", "OGDC", "PPL", "PRL", "SSGC", "TRG")
