"""Text to quotes with exact locations, plus the quote-like text that failed to parse.

The grammar is deliberately looser than the feed's format (any case in the direction words,
any digits, signs and spaces inside numbers, look-alike arrows), so that a wrongly formatted
quote is still read and then reported by the rule that names its fault, instead of vanishing
as an unparsed line. Every pattern here is free of nested quantifiers over the same
characters, so matching stays linear in the length of a line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from checker.read import split_lines
from checker.vocabulary import ARROW_TEXTS, ARROWS, DIRECTION_WORDS, QUOTE_FIELDS

if TYPE_CHECKING:  # numpy and pyarrow are imported where they are used: `import checker` stays light
    import numpy as np
    import pyarrow as pa

# A parsed column: a list (the reference parser's), or a numpy int64 or pyarrow array (the fast one's).
Column: TypeAlias = "list[Any] | np.ndarray | pa.Array"

# Characters that may appear inside a number as scraped: ASCII and full-width digits, grouping
# commas, the decimal point, and no-break / thin spaces between digits (reported, not misread).
_DIGIT = r"[0-9\uff10-\uff19]"
_NUMBER = rf"[-+\u2212]?{_DIGIT}(?:[0-9\uff10-\uff19,.]|[\u00a0\u202f\u2009](?={_DIGIT}))*"
# Field separators: any white space but a line break.
_SP = r"[^\S\r\n]"
# The feed's direction words, each space standing for any run of spaces.
_SPELT = "|".join(word.replace(" ", f"{_SP}+") for word in DIRECTION_WORDS)
_DIRECTION = "(?i:" + "|".join(word.lower().replace(" ", f"{_SP}+") for word in DIRECTION_WORDS) + ")"
# Arrows as published, their look-alikes, and the mojibake scrapers make of them (ARROW_TEXTS).
_ARROW = "|".join(re.escape(a) for a in sorted(ARROW_TEXTS, key=len, reverse=True))
# Any other lone symbol where the arrow goes (`►`, `^`, `?`) is read as an arrow, so that the
# quote is checked and the arrow reported as invalid; signs, points and brackets are not.
_ODD_ARROW = r"[^\w\s()\[\]%+\-\u2212.,]"
# A symbol is the whole run of word characters before the price, so that a mangled symbol
# (`1AIRLINK`, `AIR-LINK`, `Airlink`) is read whole and reported rather than read as its tail.
# The one exception is a crawler's date glued to the first symbol (`2024-03-28AIRLINK`).
_GLUED_DATE = r"(?<=[0-9]{4}-[0-9]{2}-[0-9]{2})"
_SYMBOL = rf"(?:(?<![\w.&-])(?![0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[A-Za-z])|{_GLUED_DATE})[\w.&-]+"

QUOTE_PATTERN = re.compile(
    rf"(?P<symbol>{_SYMBOL})"
    rf"(?P<s1>{_SP}+)(?P<price>{_NUMBER})"
    rf"(?P<s2>{_SP}+)(?P<direction>{_DIRECTION})"
    rf"(?P<s3>{_SP}*)(?P<arrow>{_ARROW}|{_ODD_ARROW})?"
    rf"(?P<s4>{_SP}*)(?P<change>{_NUMBER})"
    rf"(?P<s5>{_SP}*\({_SP}*)(?P<percent>{_NUMBER})(?P<s6>{_SP}*%{_SP}*\))"
)
# Where something starts to look like a quote: an upper-case symbol, then a number that ends
# at a space, the end of the line, an arrow or a parenthesis.
_ARROW_CHARS = "".join(ARROWS)
_START = re.compile(
    rf"(?:(?<![A-Za-z0-9])|{_GLUED_DATE})(?P<symbol>[A-Z][A-Z0-9]*){_SP}+(?P<number>{_NUMBER})(?=$|{_SP}|[({_ARROW_CHARS}])"
)
# Things only a quote has; a start followed by one of them is a broken quote, not prose.
_QUOTE_TOKEN = re.compile(rf"{_DIRECTION}|{_ARROW}|\({_SP}*{_NUMBER}{_SP}*%|%{_SP}*\)")


def _prefixes(word: str) -> str:
    """A pattern matching any non-empty prefix of `word` (spaces as any run of spaces)."""
    alternatives = [re.escape(word[:n]).replace(r"\ ", f"{_SP}+") for n in range(len(word), 0, -1)]
    return "(?i:" + "|".join(alternatives) + ")"


_DIRECTION_PREFIX = "|".join(_prefixes(w) for w in DIRECTION_WORDS)
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
_TAIL = re.compile(rf"(?:{_SPELT}){_SP}*(?:{_ARROW})?{_SP}*{_NUMBER}{_SP}*\({_SP}*{_NUMBER}{_SP}*%{_SP}*\)")
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

    columns: dict[str, Column] = field(default_factory=lambda: _empty_columns())
    unparsed: list[Unparsed] = field(default_factory=list)
    lines: int = 0

    def __len__(self) -> int:
        return len(self.columns["line"])


def _empty_columns() -> dict[str, Column]:
    return {name: [] for name in COLUMNS}


# One entry per quote: its line, where it starts and ends, and each field's text and column.
COLUMNS = (
    "line",
    "column",
    "end_column",
    *(f"{name}_{part}" for name in QUOTE_FIELDS for part in ("text", "col")),
)

_PARTS = (
    ("price", re.compile(rf"{_SP}+{_NUMBER}")),
    ("direction word", re.compile(rf"{_SP}+{_DIRECTION}")),
    ("arrow", re.compile(rf"{_SP}*(?:{_ARROW}|{_ODD_ARROW})")),
    ("change", re.compile(rf"{_SP}*{_NUMBER}")),
    ("percent", re.compile(rf"{_SP}*\({_SP}*{_NUMBER}{_SP}*%{_SP}*\)")),
)
_SYMBOL_START = re.compile(r"[\w.&-]+")


def diagnose(text: str) -> str:
    """What keeps a quote-like stretch from being a quote, part by part: `the change is missing
    after Decreased By ▼`, or `"Incrased" stands where the direction word belongs`."""
    symbol = _SYMBOL_START.match(text)
    if symbol is None:
        return "no symbol where the quote starts"
    position, last = symbol.end(), f"the symbol {symbol.group()}"
    for name, pattern in _PARTS:
        found = pattern.match(text, position)
        if found is None:
            if name == "arrow":
                continue  # optional
            rest = text[position:].strip()
            if not rest:
                missing = "is missing" if name == "percent" else "and what follows are missing"
                return f"it ends after {last}: the {name} {missing}"
            token = json.dumps(rest.split(None, 1)[0][:40], ensure_ascii=False)
            return f"{token} stands after {last}, where the {name} belongs"
        position = found.end()
        last = f"the {name} {found.group().strip()}"
    return f"it does not read as a whole quote after {last}"


def line_count(lines: list[str] | Lines | object) -> int:
    """How many lines a text has, from its split lines: a final line break ends the last line and
    starts no new one (`a\nb\n` has 2 lines, as `wc -l` counts), and a last line without a break
    still counts (`a\nb` has 2 too). An empty text has none."""
    count = len(lines)  # type: ignore[arg-type]
    if not count:
        return 0
    last = lines[count - 1]  # type: ignore[index]
    last = last.as_py() if hasattr(last, "as_py") else last  # a line_array's element
    return count - 1 if last == "" else count


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
        # A line that begins like a quote, or that ends right after a symbol and a number (a quote
        # cut off after a whole-number price, behind a crawler prefix), is never passed over.
        if whole_line and (begin == leading or number_end >= end):
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
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    unparsed: list[Unparsed] = []
    for index, text in enumerate(lines):
        _parse_line(text, first_line + index, columns, unparsed)
    return ParseResult(columns=dict[str, Column](columns), unparsed=unparsed, lines=len(lines))


def _parse_line(text: str, line_no: int, cols: dict[str, list[Any]], unparsed: list[Unparsed]) -> None:
    """The reference parse of one line, appending to `cols` and `unparsed`."""
    position = 0
    if "(" in text:  # every quote has a parenthesis: skip the regex on most prose
        for match in QUOTE_PATTERN.finditer(text):
            if match.start() > position:
                problem = _check_stretch(text[position : match.start()], position, line_no, False)
                if problem is not None:
                    unparsed.append(problem)
            cols["line"].append(line_no)
            cols["column"].append(match.start() + 1)
            cols["end_column"].append(match.end())
            for name in QUOTE_FIELDS:
                value = match.group(name)
                cols[f"{name}_text"].append(value)
                cols[f"{name}_col"].append(match.start(name) + 1 if value is not None else None)
            position = match.end()
    if position < len(text):
        # What ends a line is judged as a line of its own, after a quote too: a quote cut off
        # right after its price (`KEL 4.96`, `BKTI 987`) is never dropped in silence.
        problem = _check_stretch(text[position:], position, line_no, True)
        if problem is not None:
            unparsed.append(problem)


# -- the fast path -------------------------------------------------------------------------------
# Most lines of a page are one quote in the feed's own spelling, alone on its line or after a
# crawler prefix. Those are recognised by one vectorised (RE2, DFA-only) match over all lines and
# cut into fields by splitting on single spaces; every other line that could hold a quote or a
# broken one goes through the reference parser above, so the result is the reference's exactly
# (tests/test_fast_paths.py compares them). The strict pattern only accepts lines on which the
# reference regex provably finds this one quote with these field boundaries: ASCII fields with
# single ASCII spaces, and a prefix without "(" (every quote has one, so none can start there).
_RE2_SP = "[" + "".join(f"\\x{{{c:x}}}" for c in (
    9, 11, 12, 28, 29, 30, 31, 32, 133, 160, 5760, *range(8192, 8203), 8232, 8233, 8239, 8287, 12288
)) + "]"  # fmt: skip
_STRICT_NUMBER = r"[-+]?[0-9][0-9,.]*"
_STRICT_ARROW = "|".join(re.escape(a) for a in ARROW_TEXTS).replace("\u0096", "\\x{96}")
_WORDS_AS_SPELT = "|".join(DIRECTION_WORDS)
_STRICT_QUOTE = (
    rf"^(?:[^(]* )?[A-Za-z_.&-][A-Za-z0-9_.&-]* {_STRICT_NUMBER} (?:{_WORDS_AS_SPELT})"
    rf"(?: (?:{_STRICT_ARROW}))? {_STRICT_NUMBER} \({_STRICT_NUMBER}%\)\n?$"
)
_STRICT_BARE = _STRICT_QUOTE.replace("^(?:[^(]* )?", "^", 1)
# A superset of where _START can match (RE2 has no look-around): the lines without "(" that the
# reference parser must look at.
_STARTISH = rf"[A-Z][A-Z0-9]*{_RE2_SP}+[-+\x{{2212}}]?[0-9\x{{ff10}}-\x{{ff19}}]"
_ARROW_SET = None  # set on first use: a pyarrow array of ARROW_TEXTS
_UPPER = re.compile("[A-Z]")
_FALLBACK_BATCH = 20_000


class Lines:
    """The lines of a text, held in one Arrow array (each with its line break, if any)."""

    def __init__(self, array: pa.LargeStringArray) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: int) -> str:
        value = self.array[index].as_py()
        return value[:-1] if value.endswith("\n") else value

    def texts(self, indices: list[int]) -> list[str]:
        """The lines at these 0-based indices, without their line breaks, in one Arrow take."""
        values = _texts_at(self.array, indices)
        return [v[:-1] if v.endswith("\n") else v for v in values]


def _texts_at(lines: pa.LargeStringArray, rows: list[int] | np.ndarray) -> list[str]:
    """The lines at these 0-based rows as Python strings (an array of lines holds no null)."""
    import pyarrow as pa

    return cast("list[str]", lines.take(pa.array(rows, pa.int64())).to_pylist())


def line_array(text: str) -> pa.LargeStringArray:
    """The lines of `text` as a pyarrow large_string array; each keeps its trailing LF.

    Without CR line breaks the lines are cut from the UTF-8 bytes with numpy (no Python string
    per line); with them, the reference splitter is used.
    """
    import numpy as np
    import pyarrow as pa

    if "\r" in text:
        return pa.array(split_lines(text), pa.large_string())
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: let Arrow see the reference split instead
        lines = [line.encode("utf-8", "replace").decode() for line in split_lines(text)]
        return pa.array(lines, pa.large_string())
    breaks = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    offsets = np.empty(len(breaks) + 2, dtype=np.int64)
    offsets[0] = 0
    offsets[1:-1] = breaks + 1
    offsets[-1] = len(data)
    # (the stubs give from_buffers a StringArray, and py_buffer no ndarray: both are wrong)
    array = pa.LargeStringArray.from_buffers(
        len(offsets) - 1,
        pa.py_buffer(offsets),  # type: ignore[arg-type]
        pa.py_buffer(data),
    )
    return cast("pa.LargeStringArray", array)


def _strict_fields(lines: pa.LargeStringArray, rows: np.ndarray) -> dict[str, Any]:
    """Fields and columns of the strict lines `rows` (numpy indices), cut at single spaces."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    global _ARROW_SET
    if _ARROW_SET is None:
        _ARROW_SET = pa.array(ARROW_TEXTS, pa.large_string())
    strict = pc.utf8_rtrim(lines.take(pa.array(rows)), "\n")
    line_length = pc.utf8_length(strict).to_numpy()
    tokens = pc.split_pattern(strict, " ")
    values = tokens.values
    ends = tokens.offsets.to_numpy()[1:]
    # The quote's tokens but the arrow are ASCII (the strict pattern's): their lengths in bytes
    # are their lengths in characters, read from the offsets of every token at once.
    lengths = pc.binary_length(values).to_numpy()  # type: ignore[call-overload]
    arrow = cast("pa.LargeStringArray", values.take(pa.array(ends - 3)))
    has_arrow = pc.is_in(arrow, value_set=_ARROW_SET).to_numpy(zero_copy_only=False)
    shift = has_arrow.astype(np.int64)

    def token(from_end: np.ndarray | int) -> tuple[pa.LargeStringArray, np.ndarray]:
        at = ends - from_end
        return cast("pa.LargeStringArray", values.take(pa.array(at))), lengths[at]

    percent_token, percent_len = token(1)
    change, change_len = token(2)
    arrow_len = pc.utf8_length(arrow).to_numpy()
    by, by_len = token(3 + shift)
    word, word_len = token(4 + shift)
    price, price_len = token(5 + shift)
    symbol, symbol_len = token(6 + shift)
    direction_len = word_len + 1 + by_len
    quote_len = symbol_len + price_len + direction_len + change_len + percent_len + 4
    quote_len += np.where(has_arrow, arrow_len + 1, 0)
    column = line_length - quote_len + 1
    price_col = column + symbol_len + 1
    direction_col = price_col + price_len + 1
    arrow_col = direction_col + direction_len + 1
    change_col = np.where(has_arrow, arrow_col + arrow_len + 1, arrow_col)
    return {
        "column": column,
        "end_column": line_length,
        "symbol_text": symbol,
        "symbol_col": column,
        "price_text": price,
        "price_col": price_col,
        # (the stubs want the separator to be an array like the strings)
        "direction_text": pc.binary_join_element_wise(word, by, pa.scalar(" ", pa.large_string())),  # type: ignore[call-overload]
        "direction_col": direction_col,
        "arrow_text": pc.if_else(pa.array(has_arrow), arrow, pa.scalar(None, pa.large_string())),
        "arrow_col": pa.array(arrow_col, mask=~has_arrow),
        "change_text": change,
        "change_col": change_col,
        "percent_text": pc.utf8_slice_codeunits(percent_token, 1, -2),
        "percent_col": change_col + change_len + 2,
    }


def parse_array(lines: pa.LargeStringArray, first_line: int = 1) -> ParseResult:
    """Find every quote in an Arrow array of lines (see `line_array`), with columns as arrays.

    Text columns are pyarrow large_string arrays (`arrow_text` null where absent), `arrow_col` a
    pyarrow int64 array (null where absent), the other columns numpy int64 arrays.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    count = len(lines)
    result = ParseResult(lines=count)
    if not count:
        result.columns = _arrays_from_lists(result.columns)
        return result
    # Most lines are a bare quote: the cheaper anchored pattern first, the one allowing a prefix
    # only on the lines with a "(" that it left.
    strict = pc.match_substring_regex(lines, _STRICT_BARE).to_numpy(zero_copy_only=False)
    paren = pc.match_substring(lines, "(").to_numpy(zero_copy_only=False)
    maybe = np.flatnonzero(paren & ~strict)
    if len(maybe):
        with_prefix = pc.match_substring_regex(lines.take(pa.array(maybe, pa.int64())), _STRICT_QUOTE)
        strict[maybe] = with_prefix.to_numpy(zero_copy_only=False)
    # Lines without "(" go to the reference parser when they start like a quote (the few of them
    # a page has: only those are matched).
    bare = np.flatnonzero(~paren)
    startish = np.zeros(count, dtype=bool)
    if len(bare):
        found = pc.match_substring_regex(lines.take(pa.array(bare, pa.int64())), _STARTISH)
        startish[bare] = found.to_numpy(zero_copy_only=False)
    strict_rows = np.flatnonzero(strict)
    other_rows = np.flatnonzero(~strict & (paren | startish))
    fast = _strict_fields(lines, strict_rows)
    # The reference parser for the other lines.
    # In batches, each turned into arrays at once: millions of Python strings held at the same
    # time would cost far more memory than the page itself.
    unparsed: list[Unparsed] = []
    batches: list[dict[str, Column]] = []
    for start in range(0, len(other_rows), _FALLBACK_BATCH):
        rows = other_rows[start : start + _FALLBACK_BATCH]
        slow: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        for row, text in zip(rows.tolist(), _texts_at(lines, rows), strict=True):
            _parse_line(text[:-1] if text.endswith("\n") else text, first_line + row, slow, unparsed)
        batches.append(_arrays_from_lists(dict[str, Column](slow)))
    # A crawler prefix before a strict quote is checked as the reference checks it.
    prefixed = np.flatnonzero(fast["column"] > 1)
    if len(prefixed):
        texts = _texts_at(lines, strict_rows[prefixed])
        for row, text, start in zip(
            strict_rows[prefixed].tolist(), texts, fast["column"][prefixed].tolist(), strict=True
        ):
            # Only an upper-case symbol can start a broken quote in a prefix (which has no "(").
            if not _UPPER.search(text, 0, start - 1):
                continue
            problem = _check_stretch(text[: start - 1], 0, first_line + row, False)
            if problem is not None:
                unparsed.append(problem)
    unparsed.sort(key=lambda item: item.line)
    result.unparsed = unparsed
    # Merge both in line order (the two sets of lines are disjoint; a sort by line is stable).
    if not batches:  # every quote on a strict line: already in line order, nothing to merge
        kept: dict[str, Column] = {"line": strict_rows + first_line}
        for name in COLUMNS[1:]:
            value = fast[name]
            kept[name] = np.asarray(value, dtype=np.int64) if isinstance(value, np.ndarray) else value
        result.columns = kept
        return result
    slow_arrays = _concat_batches(batches)
    line_numbers = np.concatenate([strict_rows + first_line, slow_arrays["line"]])
    order = np.argsort(line_numbers, kind="stable")
    columns: dict[str, Column] = {"line": line_numbers[order]}
    taker = pa.array(order)
    for name in COLUMNS[1:]:
        first, second = fast[name], slow_arrays[name]
        if isinstance(second, np.ndarray):
            columns[name] = np.concatenate([np.asarray(first, dtype=np.int64), second])[order]
        else:
            assert isinstance(second, pa.Array)  # the batches' text columns and `arrow_col`
            columns[name] = pa.concat_arrays([first.cast(second.type), second]).take(taker)
    result.columns = columns
    return result


def _concat_batches(batches: list[dict[str, Column]]) -> dict[str, Column]:
    import numpy as np
    import pyarrow as pa

    return {
        name: np.concatenate([b[name] for b in batches])
        if isinstance(batches[0][name], np.ndarray)
        else pa.concat_arrays([cast("pa.Array", b[name]) for b in batches])
        for name in batches[0]
    }


def _arrays_from_lists(cols: dict[str, Column]) -> dict[str, Column]:
    import numpy as np
    import pyarrow as pa

    out: dict[str, Column] = {}
    for name, values in cols.items():
        if name.endswith("_text"):
            out[name] = pa.array(values, pa.large_string())
        elif name == "arrow_col":
            out[name] = pa.array(values, pa.int64())
        else:
            out[name] = np.asarray(values, dtype=np.int64)
    return out


def as_lists(result: ParseResult) -> ParseResult:
    """The same result with plain Python lists as columns (the reference's form)."""
    import numpy as np

    columns: dict[str, Column] = {}
    for name, values in result.columns.items():
        columns[name] = values if isinstance(values, list) else (
            values.tolist() if isinstance(values, np.ndarray) else values.to_pylist()
        )  # fmt: skip
    return ParseResult(columns=columns, unparsed=result.unparsed, lines=result.lines)


def parse_lines(lines: list[str], first_line: int = 1) -> ParseResult:
    """Find every quote in `lines`; line numbers start at `first_line`. Columns are lists."""
    import pyarrow as pa

    return as_lists(parse_array(pa.array(lines, pa.large_string()), first_line))


def parse_text(text: str, first_line: int = 1) -> tuple[ParseResult, Lines]:
    """Find every quote in a decoded text (a leading BOM is ignored); columns are arrays.

    Also returns the text's lines, which reports quote as source context.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = line_array(text)
    return parse_array(lines, first_line), Lines(lines)
