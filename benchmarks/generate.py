"""Generate realistic scraped pages of any size, with a chosen fraction of faults of every kind.

A page mixes the feed's variants: stock and index quotes, a crawler prefix glued to the first quote
of a block, several quotes on one line, page furniture (menus, headlines that begin with an index
name, prose, number widgets, Urdu text) and an identical marquee repeat. Faulty quotes are spread
evenly over the fault kinds in FAULT_KINDS. Symbols are unique on a page except the intentional
repeats (marquee blocks, `duplicate` faults): past the real symbol list they are made from a
counter, and synthetic indices are named `PSX<n>` (an index by the profile's pattern).

The output depends only on the arguments (stdlib `random.Random(seed)`), so a page can be
regenerated instead of stored.

    python -m benchmarks.generate --lines 1000000 --faults 0.01 --seed 1 -o page.txt
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path

REAL_STOCKS = (
    "AIRLINK", "BOP", "CNERGY", "FCCL", "FFL", "FLYNG", "HUBC", "HUMNL", "KEL", "KOSM", "MLCF", "OGDC",
    "PACE", "PAEL", "PIAHCLA", "PIBTL", "POWER", "PPL", "PRL", "PTC", "SEARL", "SILK", "SSGC", "SYM",
    "TELE", "TPLP", "TRG", "WAVESAPP", "WTL", "YOUW",
)  # fmt: skip
# Index symbols with their level range (inside the profile's ranges, so no plausibility warning).
REAL_INDICES = (("BR100", 9000, 12000), ("BR30", 30000, 40000), ("KSE100", 90000, 120000),
                ("KSE30", 30000, 40000))  # fmt: skip
# Names the profile treats as indices; synthetic stock symbols skip them.
_RESERVED = {
    "ALLSHR", "BKTI", "HBLTTI", "JSGBKTI", "JSMFI", "KMIALLSHR", "MII30", "MZNPI", "NBPPGI", "NITPGI",
    "OGTI", "UPP9", "ACI", "KSEALLSHR", *REAL_STOCKS, *(name for name, _, _ in REAL_INDICES),
}  # fmt: skip

FAULT_KINDS = (
    "sign_flip",  # change sign contradicts the direction word (QC301)
    "arrow_flip",  # arrow points the other way (QC302)
    "direction_flip",  # direction word says the opposite (QC301)
    "percent_off",  # percent is not change / previous price (QC303)
    "previous_not_positive",  # change as large as the price (QC304)
    "index_grouping",  # index level grouped the Indian way (QC401)
    "stock_decimals",  # a stock price with 1 or 3 decimals (QC401)
    "change_decimals",  # a stock change with 1 decimal (QC402)
    "percent_trailing_zeros",  # `3.50` (QC403)
    "lookalike",  # Unicode minus, no-break space or full-width digit (QC404)
    "mojibake_arrow",  # `â–²` for `▲` (QC405)
    "missing_arrow",  # no arrow on a stock quote (QC406)
    "circuit_breaker",  # a move beyond the circuit breaker (QC501)
    "duplicate",  # a symbol repeated with different figures (QC305)
    "cut_off",  # a quote cut off mid-line (QC101)
    "misspelt_direction",  # `Incrased By` (QC102)
    "quote_like",  # a symbol and a number and nothing else (QC103)
    "lowercase_symbol",  # `Airlink` (QC201)
    "price_zero",  # a price of 0.00 (QC202)
    "percent_below_minus_100",  # (QC203)
    "lowercase_direction",  # `decreased by` (QC204)
    "lookalike_arrow",  # `↓` (QC205)
    "unreadable_number",  # `10.3.9` (QC206)
)

MENUS = (
    "PRINT EDITION ► BR MARKETS ► LATEST NEWS",
    "Home | Markets | Stocks | Commodities | Opinion",
    "Markets at a glance",
)
HEADLINES = (
    "KSE100 Nosedives by over 800pts as Schools Close",
    "KSE100 Edges Higher as Energy Stocks Rally",
    "BR100 ends flat in thin trading",
    "KSE30 gains on banking rally (report)",
)
PROSE = (
    "Stocks closed mixed on Tuesday as investors weighed the budget (see page 3) against earnings.",
    "The index gained 0.5% in early trade before profit-taking set in; volumes stayed thin.",
    "Analysts said the market would remain range-bound until the policy rate decision.",
    "مارکیٹ میں آج ملا جلا رجحان رہا",
    "Published 28 Mar, 2024 09:41am",
)
WIDGETS = ("28,328", "Visitors today", "1,204 comments", "")
_CRAWLER_PREFIX = " date 2024-03-28 "
_FULLWIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}


def _letters(counter: int) -> str:
    """A distinct upper-case word for each counter value (A, B, ..., Z, BA, BB, ...)."""
    digits = []
    while True:
        counter, rest = divmod(counter, 26)
        digits.append(chr(65 + rest))
        if not counter:
            break
    return "".join(reversed(digits))


def _percent_text(hundredths: int) -> str:
    """A percent as the feed shows it: 2 decimals, trailing zeros trimmed."""
    sign = "-" if hundredths < 0 else ""
    whole, frac = divmod(abs(hundredths), 100)
    text = f"{whole}.{frac:02d}".rstrip("0").rstrip(".")
    return sign + text


def _round_ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (denominator > 0)."""
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return -magnitude if numerator < 0 else magnitude


def _direction(change: int) -> tuple[str, str]:
    if change > 0:
        return "Increased By", "▲"
    if change < 0:
        return "Decreased By", "▼"
    return "No Change", "▼"


def _grouped(value: int) -> str:
    return f"{value:,}"


def _indian(value: int) -> str:
    text = str(value)
    if len(text) <= 3:
        return text
    head, tail = text[:-3], text[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


class PageGenerator:
    """Yields the lines of one page; see the module docstring."""

    def __init__(self, fault_fraction: float = 0.01, seed: int = 0, kinds: tuple[str, ...] = FAULT_KINDS):
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.random = random.Random(seed)
        self.fault_fraction = fault_fraction
        self.kinds = kinds
        self.stock_counter = 0
        self.index_counter = 0
        self.fault_counter = 0
        self.recent: list[str] = []  # the last few good quotes, for marquee repeats
        self.seen: list[tuple[str, int, int, int]] = []  # (symbol, price, change, kind 0/1) for duplicates

    # -- symbols -------------------------------------------------------------------------------------
    def _stock_symbol(self) -> str:
        while True:
            n = self.stock_counter
            self.stock_counter += 1
            name = REAL_STOCKS[n] if n < len(REAL_STOCKS) else "Q" + _letters(n - len(REAL_STOCKS))
            if name not in _RESERVED or n < len(REAL_STOCKS):
                return name

    def _index(self) -> tuple[str, int, int]:
        n = self.index_counter
        self.index_counter += 1
        if n < len(REAL_INDICES):
            return REAL_INDICES[n]
        return f"PSX{n}", 100_000, 900_000  # six digits, where Indian grouping differs

    # -- correct quotes ------------------------------------------------------------------------------
    def stock_figures(self, move_limit: float = 0.04) -> tuple[int, int]:
        """(price, change) in paisa for a plausible stock quote."""
        r = self.random
        previous = r.randint(50, 60000)
        change = round(previous * r.uniform(-move_limit, move_limit))
        if r.random() < 0.03:
            change = 0
        return previous + change, change

    @staticmethod
    def stock_text(symbol: str, price: int, change: int) -> str:
        """A correct stock quote for price and change given in paisa."""
        direction, arrow = _direction(change)
        previous = price - change
        # A previous price of 0 or less has no true percent: show what a naive scraper computes.
        hundredths = (
            _round_ratio(10000 * change, previous) if previous > 0 else -10000 * change // max(1, -previous)
        )
        sign = "-" if change < 0 else ""
        change_text = f"{sign}{abs(change) // 100}.{abs(change) % 100:02d}"
        price_text = f"{price // 100}.{price % 100:02d}"
        return f"{symbol} {price_text} {direction} {arrow} {change_text} ({_percent_text(hundredths)}%)"

    def index_quote(self, grouping: str = "western") -> str:
        """A correct index quote (level rounded to the unit, change to 1 decimal)."""
        r = self.random
        symbol, low, high = self._index()
        previous = r.randint(low * 10, high * 10)  # tenths
        change = round(previous * r.uniform(-0.02, 0.02))
        if change == 0:
            change = 1
        level = previous + change
        shown = _round_ratio(level, 10)
        hundredths = _round_ratio(10000 * change, previous)
        direction = "Increased By" if change > 0 else "Decreased By"
        sign = "-" if change < 0 else ""
        change_text = f"{sign}{abs(change) // 10}.{abs(change) % 10}"
        arrow = ""
        if r.random() < 0.2:  # older snapshots show an arrow on indices too
            arrow = " ▲" if change > 0 else " ▼"
        level_text = _indian(shown) if grouping == "indian" else _grouped(shown)
        return f"{symbol} {level_text} {direction}{arrow} {change_text} ({_percent_text(hundredths)}%)"

    def good_quote(self) -> str:
        """A correct quote: mostly stocks, now and then an index."""
        if self.random.random() < 0.02:
            return self.index_quote()
        symbol = self._stock_symbol()
        price, change = self.stock_figures()
        self.seen.append((symbol, price, change, 0))
        if len(self.seen) > 64:
            del self.seen[: len(self.seen) - 64]
        return self.stock_text(symbol, price, change)

    # -- faulty quotes -------------------------------------------------------------------------------
    def faulty_quote(self, kind: str) -> str:
        """A quote (or quote-like line) with one fault of `kind`."""
        r = self.random
        if kind == "index_grouping":
            return self.index_quote(grouping="indian")
        if kind == "duplicate" and self.seen:
            symbol, price, change, _ = self.seen[r.randrange(len(self.seen))]
            return self.stock_text(symbol, price + 1, change + 1 if change + 1 < price else change)
        symbol = self._stock_symbol()
        if kind == "circuit_breaker":
            price, change = self.stock_figures(move_limit=0.0)
            previous = price - change
            change = max(int(previous * 0.15), 200)
            return self.stock_text(symbol, previous + change, change)
        price, change = self.stock_figures()
        if change == 0 and kind in ("sign_flip", "arrow_flip", "direction_flip", "lookalike"):
            change = -7 if price > 100 else 3
            price = price + change if price + change > 0 else price
        text = self.stock_text(symbol, price, change)
        name, price_text, rest = text.split(" ", 2)
        if kind == "sign_flip":
            change_text = rest.split(" ")[-2]
            flipped = change_text[1:] if change_text.startswith("-") else "-" + change_text
            return text.replace(f" {change_text} (", f" {flipped} (")
        if kind == "arrow_flip":
            return text.replace("▲", "\0").replace("▼", "▲").replace("\0", "▼")
        if kind == "direction_flip":
            return (
                text.replace("Increased", "\0").replace("Decreased", "Increased").replace("\0", "Decreased")
            )
        if kind == "percent_off":
            head, percent = text.rsplit("(", 1)
            value = round(float(percent[:-2]) * 100) + r.choice((-3, -1, 1, 2, 7))
            return f"{head}({_percent_text(value)}%)"
        if kind == "previous_not_positive":
            return self.stock_text(symbol, price, price + r.randint(0, 150))
        if kind == "stock_decimals":
            shown = f"{price / 100:.1f}" if r.random() < 0.5 else f"{price / 100:.3f}"
            return f"{name} {shown} {rest}"
        if kind == "change_decimals":
            change_text = rest.split(" ")[-2]
            return text.replace(f" {change_text} (", f" {change_text[:-1]} (")
        if kind == "percent_trailing_zeros":
            head, percent = text.rsplit("(", 1)
            value = percent[:-2]
            padded = value + "0" if "." in value else value + ".0"
            return f"{head}({padded}%)"
        if kind == "lookalike":
            choice = r.randrange(3)
            if choice == 0 and change < 0:
                return text.replace(" -", " \u2212", 1)
            if choice == 1:
                return f"{name} {''.join(_FULLWIDTH.get(c, c) for c in price_text)} {rest}"
            return f"{name} {price_text[0]}\u00a0{price_text[1:]} {rest}" if len(price_text) > 4 else (
                f"{name} {''.join(_FULLWIDTH.get(c, c) for c in price_text)} {rest}"
            )  # fmt: skip
        if kind == "mojibake_arrow":
            return text.replace("▲", "â–²").replace("▼", "â–¼")
        if kind == "missing_arrow":
            return text.replace(" ▲", "").replace(" ▼", "")
        if kind == "cut_off":
            cut = r.randint(len(name) + len(price_text) + 4, len(text) - 2)
            return text[:cut].rstrip()
        if kind == "misspelt_direction":
            return text.replace("Increased", "Incrased").replace("Decreased", "Decresed").replace(
                "No Change", "No Chnge"
            )  # fmt: skip
        if kind == "quote_like":
            return f"{name} {price // 100}"
        if kind == "lowercase_symbol":
            return name.capitalize() + " " + price_text + " " + rest
        if kind == "price_zero":
            return f"{name} 0.00 {rest}"
        if kind == "percent_below_minus_100":
            head, _ = text.rsplit("(", 1)
            return f"{head}(-{r.randint(101, 400)}.5%)"
        if kind == "lowercase_direction":
            return text.replace("Increased By", "increased by").replace("Decreased By", "decreased by")
        if kind == "lookalike_arrow":
            return text.replace("▲", "↑").replace("▼", "↓")
        if kind == "unreadable_number":
            return f"{name} {price_text}.5 {rest}"
        return text

    # -- the page ------------------------------------------------------------------------------------
    def quote(self) -> str:
        """The next quote, faulty with the generator's fault fraction."""
        if self.random.random() < self.fault_fraction:
            kind = self.kinds[self.fault_counter % len(self.kinds)]
            self.fault_counter += 1
            return self.faulty_quote(kind)
        text = self.good_quote()
        self.recent.append(text)
        if len(self.recent) > 8:
            del self.recent[0]
        return text

    def furniture(self) -> str:
        """A line of page furniture (never a quote, never a finding)."""
        r = self.random
        pool = r.choice((MENUS, HEADLINES, PROSE, WIDGETS))
        return r.choice(pool)

    def lines(self, count: int, plain: bool = False) -> Iterator[str]:
        """Exactly `count` lines of page; `plain`: one quote a line and nothing else."""
        r = self.random
        if plain:
            for _ in range(count):
                yield self.quote()
            return
        emitted = 0
        block_start = True
        while emitted < count:
            roll = r.random()
            if roll < 0.08:
                line = self.furniture()
                block_start = True
            elif roll < 0.081 and len(self.recent) >= 4:
                # A marquee: the last few quotes again, identically (one repeat per quote).
                block = self.recent[-4:]
                self.recent.clear()
                for text in block:
                    if emitted < count:
                        yield text
                        emitted += 1
                continue
            elif roll < 0.1:
                line = " ".join(self.quote() for _ in range(r.randint(2, 3)))  # several quotes per line
            else:
                line = self.quote()
                if block_start and r.random() < 0.25:
                    line = _CRAWLER_PREFIX + line
                block_start = False
            yield line
            emitted += 1


def generate_lines(
    count: int,
    fault_fraction: float = 0.01,
    seed: int = 0,
    kinds: tuple[str, ...] = FAULT_KINDS,
    plain: bool = False,
) -> Iterator[str]:
    """The lines of a generated page (no line breaks); `plain`: one quote a line, nothing else."""
    return PageGenerator(fault_fraction, seed, kinds).lines(count, plain)


def generate_page(
    count: int, fault_fraction: float = 0.01, seed: int = 0, kinds: tuple[str, ...] = FAULT_KINDS
) -> str:
    """A generated page as one text, lines ending in LF."""
    return "".join(line + "\n" for line in generate_lines(count, fault_fraction, seed, kinds))


def write_page(
    path: str | Path,
    count: int,
    fault_fraction: float = 0.01,
    seed: int = 0,
    kinds: tuple[str, ...] = FAULT_KINDS,
    plain: bool = False,
) -> Path:
    """Write a generated page to `path` a block at a time (bounded memory for any size)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    block: list[str] = []
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for line in generate_lines(count, fault_fraction, seed, kinds, plain):
            block.append(line)
            if len(block) >= 100_000:
                handle.write("\n".join(block) + "\n")
                block.clear()
        if block:
            handle.write("\n".join(block) + "\n")
    return path


def write_directory(
    folder: str | Path, files: int, lines_per_file: int, fault_fraction: float = 0.01, seed: int = 0
) -> list[Path]:
    """A folder of `files` generated pages (each its own page, so symbols may repeat across files)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_page(folder / f"page-{i:05d}.txt", lines_per_file, fault_fraction, seed * 100_003 + i)
        for i in range(files)
    ]


def main(argv: list[str] | None = None) -> int:
    """Command line: write one page, or a folder of pages with --files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="lines per page")
    parser.add_argument("--faults", type=float, default=0.01, help="fraction of quotes that are faulty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plain", action="store_true", help="one quote a line and nothing else")
    parser.add_argument("--files", type=int, default=0, help="write this many pages into the -o folder")
    parser.add_argument("-o", "--output", required=True, help="output file (or folder with --files)")
    args = parser.parse_args(argv)
    if args.files:
        write_directory(args.output, args.files, args.lines, args.faults, args.seed)
    else:
        write_page(args.output, args.lines, args.faults, args.seed, plain=args.plain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
