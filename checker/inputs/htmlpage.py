"""HTML pages as scrapers save them: the visible text, line by line, mapped back to the HTML source.

The page is parsed with lxml's recovering HTML parser (malformed markup still yields its text,
entities are decoded). Text is taken in document order; `script`, `style`, `noscript`, `template`
and the `head` are dropped; block elements and `<br>` end a line, table cells are separated by a
space and a table row is one line even when its cells hold blocks (so a ticker laid out as a table
row stays one quote), and runs of white space collapse to one space as a browser shows them.

Locations: every word of the extracted text is looked up verbatim in the HTML source, starting at
the position of the previous word and no earlier than the line lxml gives for its element. A
finding's line is the line of the HTML file where its quote starts; its column is the column in
that source line where the text appears verbatim. Text that is not verbatim in the source (written
with entities such as `&#9650;`) gets the line of the text around it and the column just after the
previous word. When a quote spans several source lines (one table cell per line), a field on
another line than the quote's start is given the quote's start column.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from checker.parse import COLUMNS, Column, ParseResult, Unparsed
from checker.read import split_lines

SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "title"})
BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu",
        "nav", "ol", "option", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
        "tr", "ul",
    }
)  # fmt: skip
CELLS = frozenset({"td", "th"})
_WORD = re.compile(r"\S+")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
# How far past the previous word a word is looked for when lxml's lines give no tighter bound;
# a word that may have been written with entities (not plain ASCII) is looked for only nearby,
# so that failing to find it costs little however many such words a page has.
_WINDOW = 65536
_NEAR = 1024
_PLAIN = re.compile(r"[!#-%(-;=?-~]+")  # printable ASCII but & < > " '
# libxml2's HTML parser stops counting lines at 65535; later lines give no bound at all.
_MAX_SOURCELINE = 65535


@dataclass
class TextLine:
    """One line of extracted text and, for each of its words, where the word is in the source."""

    text: str
    starts: list[int] = field(default_factory=list)  # 0-based start of each word in `text`
    lines: list[int] = field(default_factory=list)  # source line of each word
    columns: list[int] = field(default_factory=list)  # 1-based source column of each word


@dataclass
class HtmlText:
    """The visible text of an HTML page, one extracted line at a time, with the source lines."""

    lines: list[TextLine]
    source_lines: list[str]
    # Where lxml gave up (a fatal error such as nesting deeper than it allows): line, column, why.
    stopped: tuple[int, int, str] | None = None

    @property
    def texts(self) -> list[str]:
        """The extracted lines as plain strings, for the parser."""
        return [line.text for line in self.lines]

    def locate(self, line: int, column: int) -> tuple[int, int]:
        """Source (line, column) of a 1-based (line, column) in the extracted text."""
        entry = self.lines[line - 1]
        if not entry.starts:
            return 1, 1
        i = max(bisect.bisect_right(entry.starts, column - 1) - 1, 0)
        return entry.lines[i], entry.columns[i] + max(column - 1 - entry.starts[i], 0)


class _Source:
    """The HTML source text with a cursor: where the last located word ended."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        self.cursor = 0

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def start_of(self, line: int) -> int:
        return self.line_starts[min(max(line, 1), len(self.line_starts)) - 1]

    def end_of(self, line: int) -> int:
        return self.line_starts[line] if line < len(self.line_starts) else len(self.text)

    def find(self, word: str, low_line: int | None, high_line: int | None) -> tuple[int, int]:
        """Source (line, column) of `word`, searched from the cursor; moves the cursor past it."""
        text = self.text
        low = self.cursor
        if low_line is not None:
            low = max(low, self.start_of(low_line))
        position = low
        while position < len(text) and text[position].isspace():
            position += 1
        if not text.startswith(word, position):
            high = low + (_WINDOW if _PLAIN.fullmatch(word) else _NEAR)
            if high_line is not None and high_line >= self.line_of(low):
                high = min(high, self.end_of(high_line))
            position = self._find_outside_tags(word, low, max(high, low + len(word)))
        if position < 0:
            line = self.line_of(low)
            return line, low - self.start_of(line) + 1
        self.cursor = position + len(word)
        line = self.line_of(position)
        return line, position - self.line_starts[line - 1] + 1

    def _find_outside_tags(self, word: str, low: int, high: int) -> int:
        text = self.text
        position = text.find(word, low, high + len(word))
        while position >= 0 and text.rfind("<", low, position) > text.rfind(">", low, position):
            position = text.find(word, position + 1, high + len(word))
        return position


class _Builder:
    """Collects words into extracted lines."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.lines: list[TextLine] = []
        self.parts: list[str] = []
        self.length = 0
        self.current = TextLine("")
        self.space = False

    def text(self, value: str, low_line: int | None, high_line: int | None, pre: bool) -> None:
        pieces = _LINE_BREAK.split(value) if pre else [value]
        for n, piece in enumerate(pieces):
            if n:
                self.end_line()
            position = 0
            for match in _WORD.finditer(piece):
                if match.start() > position:
                    self.space = True
                self.word(match.group(), low_line, high_line)
                position = match.end()
            if position < len(piece):
                self.space = True

    def word(self, word: str, low_line: int | None, high_line: int | None) -> None:
        if self.space and self.parts:
            self.parts.append(" ")
            self.length += 1
        self.space = False
        line, column = self.source.find(word, low_line, high_line)
        self.current.starts.append(self.length)
        self.current.lines.append(line)
        self.current.columns.append(column)
        self.parts.append(word)
        self.length += len(word)

    def separate(self) -> None:
        self.space = True

    def end_line(self) -> None:
        if self.parts:
            self.current.text = "".join(self.parts)
            self.lines.append(self.current)
        self.current = TextLine("")
        self.parts = []
        self.length = 0
        self.space = False


def html_text(text: str) -> HtmlText:
    """The visible text of an HTML page (decoded text), with every word's place in the source."""
    source = _Source(text)
    builder = _Builder(source)
    # libxml2 stops at a NUL; a same-length stand-in keeps every later column where it was.
    data = text.replace("\x00", "\ufffd").encode("utf-8", errors="replace")
    parser = etree.HTMLParser(
        recover=True, huge_tree=True, encoding="utf-8", remove_comments=True, remove_pis=True
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    if root is not None:
        _walk(root, builder)
    builder.end_line()
    fatal = [e for e in parser.error_log if e.level_name == "FATAL"]
    stopped = (fatal[0].line, max(fatal[0].column, 1), fatal[0].message) if fatal else None
    return HtmlText(lines=builder.lines, source_lines=split_lines(text), stopped=stopped)


def _line(element: etree._Element | None) -> int | None:
    line = None if element is None else element.sourceline
    return line if line is not None and line < _MAX_SOURCELINE else None


def _walk(root: etree._Element, builder: _Builder) -> None:
    starts = [_line(element) for element in root.iter()]
    started = 0  # how many elements have had their start event: the next one's index in `starts`
    pre = 0
    row = 0  # inside a table row, blocks in cells do not break the line: the row shows as one line
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            started += 1
            if tag in SKIPPED:
                walker.skip_subtree()
                started += sum(1 for _ in element.iter()) - 1
                continue
            if tag == "tr":
                builder.end_line()
                row += 1
            elif tag in BLOCKS and not (row and tag != "table"):
                builder.end_line()
            elif tag in CELLS or tag in BLOCKS:
                builder.separate()
            if tag == "pre":
                pre += 1
            if element.text:
                following = starts[started] if started < len(starts) else None
                builder.text(element.text, _line(element), following, pre > 0)
        else:
            if tag == "pre":
                pre -= 1
            if tag == "tr":
                builder.end_line()
                row -= 1
            elif tag in BLOCKS and not (row and tag != "table"):
                builder.end_line()
            elif tag in CELLS or tag in BLOCKS:
                builder.separate()
            if element.tail:
                following = starts[started] if started < len(starts) else None
                sibling_line = _line(element.getnext())
                low = None if sibling_line is None else sibling_line - element.tail.count("\n")
                builder.text(element.tail, low, following, pre > 0)


def remap(parsed: ParseResult, page: HtmlText) -> ParseResult:
    """Move the locations of parsed quotes and unparsed text from the extracted text to the source."""
    columns = parsed.columns
    cols: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    fields = [name[: -len("_col")] for name in columns if name.endswith("_col")]
    for i, line in enumerate(columns["line"]):
        start = columns["column"][i]
        quote_line, quote_column = page.locate(line, start)
        cols["line"].append(quote_line)
        cols["column"].append(quote_column)
        end_line, end_column = page.locate(line, columns["end_column"][i])
        span = columns["end_column"][i] - start
        cols["end_column"].append(end_column if end_line == quote_line else quote_column + span)
        for name in fields:
            cols[f"{name}_text"].append(columns[f"{name}_text"][i])
            col = columns[f"{name}_col"][i]
            if col is None:
                cols[f"{name}_col"].append(None)
                continue
            field_line, field_column = page.locate(line, col)
            cols[f"{name}_col"].append(field_column if field_line == quote_line else quote_column)
    out = ParseResult(columns=dict[str, Column](cols), lines=len(page.source_lines))
    for item in parsed.unparsed:
        line, column = page.locate(item.line, item.column)
        out.unparsed.append(Unparsed(item.kind, line, column, item.symbol, item.text))
    return out
