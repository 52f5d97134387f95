"""Text to quotes with exact locations, plus the quote-like text that failed to parse.

The grammar is deliberately looser than the feed's format (any case in the direction words,
any digits, signs and spaces inside numbers, look-alike arrows), so that a wrongly formatted
quote is still read and then reported by the rule that names its fault, instead of vanishing
as an unparsed line. Every pattern here is free of nested quantifiers over the same
characters, so matching stays linear in the length of a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Characters that may appear inside a number as scraped: ASCII and full-width digits, grouping
# commas, the decimal point, and no-break / thin spaces between digits (reported, not misread).
_DIGIT = r"[0-9\uff10-\uff19]"
_NUMBER = rf"[-+\u2212]?{_DIGIT}(?:[0-9\uff10-\uff19,.]|[\u00a0\u202f\u2009](?={_DIGIT}))*"
# Field separators: any white space but a line break.
_SP = r"[^\S\r\n]"
_DIRECTION = rf"(?i:increased{_SP}+by|decreased{_SP}+by|no{_SP}+change)"
# Arrows as published, their look-alikes, and the mojibake scrapers make of them.
ARROW_TEXTS = ("▲", "▼", "△", "▽", "↑", "↓", "â–²", "â–¼", "â\u0096²", "â\u0096¼")
_ARROW = "|".join(re.escape(a) for a in sorted(ARROW_TEXTS, key=len, reverse=True))
# A symbol is the whole run of word characters before the price, so that a mangled symbol
# (`1AIRLINK`, `AIR-LINK`, `Airlink`) is read whole and reported rather than read as its tail.
_SYMBOL = r"(?<![\w.&-])[\w.&-]+"

QUOTE_PATTERN = re.compile(
    rf"(?P<symbol>{_SYMBOL})"
    rf"(?P<s1>{_SP}+)(?P<price>{_NUMBER})"
    rf"(?P<s2>{_SP}+)(?P<direction>{_DIRECTION})"
    rf"(?P<s3>{_SP}*)(?P<arrow>{_ARROW})?"
    rf"(?P<s4>{_SP}*)(?P<change>{_NUMBER})"
    rf"(?P<s5>{_SP}*\({_SP}*)(?P<percent>{_NUMBER})(?P<s6>{_SP}*%{_SP}*\))"
)
QUOTE_FIELDS = ("symbol", "price", "direction", "arrow", "change", "percent")

# Where something starts to look like a quote: an upper-case symbol, then a number that ends
# at a space, the end of the line, an arrow or a parenthesis.
_START = re.compile(
    rf"(?<![A-Za-z0-9])(?P<symbol>[A-Z][A-Z0-9]*){_SP}+(?P<number>{_NUMBER})(?=$|{_SP}|[(▲▼])"
)
# Things only a quote has; a start followed by one of them is a broken quote, not prose.
_QUOTE_TOKEN = re.compile(rf"{_DIRECTION}|{_ARROW}|\({_SP}*{_NUMBER}{_SP}*%|%{_SP}*\)")


def _prefixes(word: str) -> str:
    """A pattern matching any non-empty prefix of `word` (spaces as any run of spaces)."""
    alternatives = [re.escape(word[:n]).replace(r"\ ", f"{_SP}+") for n in range(len(word), 0, -1)]
    return "(?i:" + "|".join(alternatives) + ")"


_DIRECTION_PREFIX = "|".join(_prefixes(w) for w in ("Increased By", "Decreased By", "No Change"))
# A quote that stops early: every field present up to some point, the last one possibly cut.
_TRUNCATED = re.compile(
    rf"[A-Z][A-Z0-9]*{_SP}+{_NUMBER}"
    rf"(?:{_SP}+(?:{_DIRECTION_PREFIX})"
    rf"(?:{_SP}*(?:{_ARROW}))?"
    rf"(?:{_SP}*{_NUMBER}"
    rf"(?:{_SP}*\({_SP}*(?:{_NUMBER}(?:{_SP}*%(?:{_SP}*\))?)?)?)?)?)?"
    rf"{_SP}*"
)
_PRICE_LIKE = re.compile(r"[.,]")
# The end of a quote (direction, arrow, change and percent) with no readable symbol and price
# before it: a quote all the same, never to be dropped in silence. The direction is taken only
# as the feed spells it, so that prose ("profits increased by 12 (15%)") is left alone.
_TAIL = re.compile(
    rf"(?:Increased{_SP}+By|Decreased{_SP}+By|No{_SP}+Change){_SP}*(?:{_ARROW})?{_SP}*{_NUMBER}{_SP}*\({_SP}*{_NUMBER}{_SP}*%{_SP}*\)"
)
_HEAD_TOKEN = re.compile(rf"(?<!\S)\S+{_SP}*$")

TRUNCATED = "truncated"
MALFORMED = "malformed"
QUOTE_LIKE = "quote-like"


@dataclass
class Unparsed:
    """A stretch of a line that starts like a quote but could not be read as one."""

    kind: str  # TRUNCATED, MALFORMED or QUOTE_LIKE
    line: int
    column: int
    symbol: str
    text: str


@dataclass
class ParseResult:
    """Quotes found in one text, column by column, with what failed to parse."""

    columns: dict[str, list] = field(default_factory=lambda: {name: [] for name in COLUMNS})
    unparsed: list[Unparsed] = field(default_factory=list)
    lines: int = 0

    def __len__(self) -> int:
        return len(self.columns["line"])


# One entry per quote: its line, where it starts and ends, and each field's text and column.
COLUMNS = (
    "line",
    "column",
    "end_column",
    *(f"{name}_{part}" for name in QUOTE_FIELDS for part in ("text", "col")),
)

_LINE_BREAK = re.compile(r"\r\n|\n|\r")


def split_lines(text: str) -> list[str]:
    """Split text into lines the way an editor numbers them (LF, CRLF or a lone CR)."""
    return _LINE_BREAK.split(text)


def _check_stretch(stretch: str, offset: int, line_no: int, whole_line: bool) -> Unparsed | None:
    """Classify text that is not part of any quote: a broken quote, quote-like text, or prose."""
    end = len(stretch.rstrip())
    # Where the last quote-only token starts; found once so each start below costs O(1) extra.
    last_token = -1
    for token in _QUOTE_TOKEN.finditer(stretch):
        last_token = token.start()
    leading = len(stretch) - len(stretch.lstrip())
    for start in _START.finditer(stretch):
        begin = start.start()
        column = offset + begin + 1
        symbol = start.group("symbol")
        number_end = start.end("number")
        if _TRUNCATED.fullmatch(stretch, begin, end) and (
            number_end < end or _PRICE_LIKE.search(start.group("number"))
        ):
            return Unparsed(TRUNCATED, line_no, column, symbol, stretch[begin:end])
        if last_token >= number_end:
            return Unparsed(MALFORMED, line_no, column, symbol, stretch[begin:end])
        if whole_line and begin == leading:
            return Unparsed(QUOTE_LIKE, line_no, column, symbol, stretch[begin:end])
    tail = _TAIL.search(stretch) if last_token >= 0 else None
    if tail is not None:
        # Report from where the symbol and price should be: up to two tokens before the tail.
        begin = tail.start()
        for _ in range(2):
            head = _HEAD_TOKEN.search(stretch, 0, begin)
            if head is None:
                break
            begin = head.start()
        begin = max(begin, leading)
        symbol = stretch[begin:].split(None, 1)[0] if stretch[begin:].strip() else ""
        return Unparsed(MALFORMED, line_no, offset + begin + 1, symbol, stretch[begin:end])
    return None


def parse_lines_reference(lines: list[str], first_line: int = 1) -> ParseResult:
    """Find every quote in `lines`, one line at a time in Python: the reference the fast path matches."""
    result = ParseResult(lines=len(lines))
    cols = result.columns
    for index, text in enumerate(lines):
        line_no = first_line + index
        position = 0
        matched = False
        if "(" in text:  # every quote has a parenthesis: skip the regex on most prose
            for match in QUOTE_PATTERN.finditer(text):
                matched = True
                if match.start() > position:
                    problem = _check_stretch(text[position : match.start()], position, line_no, False)
                    if problem is not None:
                        result.unparsed.append(problem)
                cols["line"].append(line_no)
                cols["column"].append(match.start() + 1)
                cols["end_column"].append(match.end())
                for name in QUOTE_FIELDS:
                    value = match.group(name)
                    cols[f"{name}_text"].append(value)
                    cols[f"{name}_col"].append(match.start(name) + 1 if value is not None else None)
                position = match.end()
        if position < len(text):
            problem = _check_stretch(text[position:], position, line_no, not matched)
            if problem is not None:
                result.unparsed.append(problem)
    return result


def parse_lines(lines: list[str], first_line: int = 1) -> ParseResult:
    """Find every quote in `lines`; line numbers start at `first_line`."""
    return parse_lines_reference(lines, first_line)


def parse_text(text: str) -> ParseResult:
    """Find every quote in a decoded text (a leading BOM is ignored)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_lines(split_lines(text))
