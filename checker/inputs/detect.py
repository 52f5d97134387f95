"""Which format an input is in: by its extension when that names one, else by sniffing its content."""

from __future__ import annotations

import json
import re

from checker.vocabulary import ARROWS, LOOKALIKE_ARROWS, QUOTE_FIELDS

# The input formats, as `--input-format` names them.
FORMATS = ("text", "html", "csv", "tsv", "json", "jsonl")
EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
GZIP_SUFFIXES = (".gz",)
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|div|p|table|span|ul|section|article|main|header|a)[\s>/]",
    re.IGNORECASE,
)
# A page of prose may start with a bracket; JSON of quote records starts with a record or a key.
_JSON_ARRAY = re.compile(r"\[\s*[{\]]")
_JSON_OBJECT = re.compile(r"\{\s*[\"}]")
_SNIFF = 4096
_MAX_FIRST_LINE = 1 << 20


def format_from_name(name: str) -> str | None:
    """The format an input's name gives (`.gz` looked through), or None when it names none."""
    lower = name.lower()
    for suffix in GZIP_SUFFIXES:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    dot = lower.rfind(".")
    if dot < 0 or "/" in lower[dot:] or "\\" in lower[dot:]:
        return None
    return EXTENSIONS.get(lower[dot:])


def sniff_format(text: str) -> str:
    """The format of a decoded text judged by its content: HTML, JSON, JSON Lines, CSV, TSV or text."""
    head = text[:_SNIFF].lstrip("\ufeff \t\r\n")
    if head.startswith("<") and (_HTML_START.match(head) or head.startswith(("<?xml", "<!--"))):
        return "html" if _HTML_START.search(head) else "text"
    if _JSON_ARRAY.match(head):
        return "json"
    if _JSON_OBJECT.match(head):
        return "jsonl" if _looks_like_lines(text.lstrip("\ufeff \t\r\n")) else "json"
    first = head.split("\n", 1)[0].strip().lower()
    for delimiter, name in (("\t", "tsv"), (",", "csv")):
        columns = {c.strip().strip('"') for c in first.split(delimiter)}
        if delimiter in first and {"symbol", "price"} <= columns:
            return name
    return "text"


def _looks_like_lines(text: str) -> bool:
    """True when the first line is a whole JSON value and another line follows it."""
    first, newline, rest = text.partition("\n")
    if not newline or not rest.strip() or len(first) > _MAX_FIRST_LINE:
        return False
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def detect_format(name: str, text: str, override: str | None = None) -> str:
    """The format to read an input in: `override`, else its extension, else its content."""
    if override:
        return override
    return format_from_name(name) or sniff_format(text)


# ------------------------------------------------------------------------------ own reports

# The reports quotecheck writes, told by how each begins (checker/report.py's TOOL_NAME).
_OWN_REPORT_HEADS = (
    # JSON report: {"report_version": "1.0", "tool": {"name": "quotecheck", ...
    re.compile(
        rb'\A\s*\{\s*(?:"report_version"\s*:\s*"[^"]*"\s*,\s*)?"tool"\s*:\s*\{\s*"name"\s*:\s*"quotecheck"'
    ),
    # SARIF log: {"$schema": "...sarif...", "version": "2.1.0", "runs": [{"tool": {"driver": {"name": ...
    re.compile(
        rb'\A\s*\{\s*"\$schema"\s*:\s*"[^"]*sarif[^"]*".*?"driver"\s*:\s*\{\s*"name"\s*:\s*"quotecheck"',
        re.S,
    ),
    # JUnit XML: <testsuites name="quotecheck" ...
    re.compile(rb"\A\s*(?:<\?xml[^>]*\?>\s*)?<testsuites\s+name=\"quotecheck\""),
    # HTML report: <!DOCTYPE html> ... <title>quotecheck: passed (...)</title>
    re.compile(rb"\A\s*<!DOCTYPE html>.{0,2000}?<title>quotecheck: (?:passed|failed)\b", re.S | re.I),
    # Markdown job summary: ## ✅ quotecheck: passed
    re.compile(rb"\A## \S+ quotecheck: (?:passed|failed)\b"),
)


def is_own_report(head: bytes) -> bool:
    """Whether the first bytes of a file are those of a report quotecheck wrote (JSON, SARIF,
    JUnit, HTML or Markdown), so that a folder walk never reads its own reports back as input."""
    return any(pattern.match(head) for pattern in _OWN_REPORT_HEADS)


# ------------------------------------------------------------------------------ foreign files

QUOTE_COLUMNS = frozenset(QUOTE_FIELDS)
_ARROW_CLASS = "[" + "".join((*ARROWS, *LOOKALIKE_ARROWS)) + "]"
# What any quote, broken quote or quote-like text holds (checker/parse.py): a direction word, an
# arrow or one of its look-alikes or mojibake (also as an HTML entity), a percent in parentheses,
# or an upper-case symbol and a number at the start or the end of a line. A superset of the
# parser's tokens, so a file without any of them has no quote and nothing like one.
_QUOTE_HINT = re.compile(
    r"(?i:increased\s+by|decreased\s+by|no\s+change)"
    rf"|{_ARROW_CLASS}|â–|â\u0096"
    r"|(?i:&(?:#9650|#9660|#9651|#9661|#8593|#8595|#x25b2|#x25bc|#x25b3|#x25bd|#x2191|#x2193"
    r"|uarr|darr|blacktriangle|blacktriangledown|utrif|dtrif);)"
    r"|\(\s*[+\-\u2212]?[\d.,]+\s*%|%\s*\)"
    r"|^[^\S\n]*[A-Z][A-Z0-9]*[^\S\n]+[+\-]?\d"
    r"|(?<![A-Za-z0-9])[A-Z][A-Z0-9]*[^\S\n]+[+\-]?[\d.,]*\d[^\S\n]*$",
    re.MULTILINE,
)
_FIELD_SEPARATORS = re.compile(r"[,;\t|]")


def foreign_reason(name: str, data: bytes) -> str | None:
    """Why a file is plainly not a quote file, or None when it is one (or may be one).

    Plainly not: one of quotecheck's reports; a CSV/TSV whose header names fewer than two of the
    quote columns; JSON or JSON Lines none of whose records names two quote fields (an object
    with a `quotes` array is a quote file); a text or HTML file with no quote and nothing
    quote-like in it (see _QUOTE_HINT); an empty file. Anything that cannot be told (JSON that
    does not parse, say) is a quote file, so that it is checked and its fault reported.
    """
    if is_own_report(data[:4096]):
        return "a quotecheck report"
    from checker.read import decode

    text = decode(data).text.lstrip("\ufeff")
    if not text.strip():
        return "empty"
    input_format = detect_format(name, text)
    if input_format in ("csv", "tsv"):
        header = text.lstrip().split("\n", 1)[0]
        named = {c.strip().strip("\"'").strip().lower() for c in _FIELD_SEPARATORS.split(header)}
        return None if len(named & QUOTE_COLUMNS) >= 2 else "a table without quote columns"
    if input_format in ("json", "jsonl"):
        return _foreign_json(text, input_format == "jsonl")
    return None if _QUOTE_HINT.search(text) else "no quote and nothing quote-like"


def _quote_record(value: object) -> bool:
    return isinstance(value, dict) and len({str(k).lower() for k in value} & QUOTE_COLUMNS) >= 2


def _foreign_json(text: str, lines: bool) -> str | None:
    try:
        if lines:
            values = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            values = [json.loads(text)]
    except (ValueError, RecursionError):
        return None  # broken JSON: checked, so that the fault is reported
    for value in values:
        if isinstance(value, dict) and "quotes" in value:
            return None
        records = value if isinstance(value, list) and not lines else [value]
        if any(_quote_record(record) for record in records):
            return None
    return "JSON without quote records"
