"""Which format an input is in: by its extension when that names one, else by sniffing its content."""

from __future__ import annotations

import json
import re

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
