"""Rules raised while reading and parsing: broken quotes, unreadable input."""

from __future__ import annotations

from checker.findings import Severity
from checker.rules.registry import declare

declare(
    "QC101",
    "truncated-quote",
    Severity.ERROR,
    "A quote stops part-way through its line.",
    "The line holds a symbol and a price and then the beginning of a quote, but ends before the "
    "quote is complete: the usual sign of a scrape cut off mid-line. The quote is not in the frame, "
    "so none of its figures are checked.",
    "PIBTL 9.80 Decreased By ▼ -0.10 (-1.01%)",
    "PIBTL 9.80 Decreased By ▼ -0.1",
    ("line",),
)(None)

declare(
    "QC102",
    "malformed-quote",
    Severity.ERROR,
    "A line starts like a quote and holds quote parts, but does not parse.",
    "A symbol and a number are followed by parts only a quote has (a direction word, an arrow or a "
    "parenthesised percent), yet the parts are not in the order SYMBOL PRICE DIRECTION [ARROW] "
    "CHANGE (PERCENT%). Misspelt direction words and missing fields land here.",
    "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    "AIRLINK 207.00 Incrased By ▲ 6.71 (3.35%)",
    ("line",),
)(None)

declare(
    "QC103",
    "quote-like-text",
    Severity.WARNING,
    "A symbol and a number that do not go on as a quote.",
    "A line begins the way a quote does (an upper-case symbol, then a number), or ends right after "
    "a symbol and a number (a quote cut off after a whole-number price, perhaps behind a crawler "
    "prefix), but nothing after them belongs to a quote. It is often a headline "
    "(`KSE100 1,200 points lower`); it is reported so that a quote mangled beyond recognition is "
    "never dropped in silence.",
    "KSE100 Nosedives by over 800pts as Schools Close",
    "PIBTL 9",
    ("line",),
)(None)

declare(
    "QC901",
    "unreadable-input",
    Severity.ERROR,
    "An input cannot be read at all.",
    "The path does not exist, cannot be opened, is a binary file, is a directory holding no input, "
    "is a compressed file that is corrupt or decompresses beyond the size cap "
    "(`--max-decompressed-size`). Whatever could be read is still checked; the run exits with "
    "status 2.",
    "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    "\x00\x01\x02",
    ("file",),
)(None)

declare(
    "QC902",
    "undecodable-bytes",
    Severity.ERROR,
    "Bytes that are not valid text in the file's encoding.",
    "The file is decoded as UTF-8 (or UTF-16, told by its byte order mark or its NUL bytes). Bytes "
    "that do not decode, and NUL bytes (valid UTF-8 but never part of a page), are reported with "
    "their byte offset; the rest of the file is still checked.",
    "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    "AIRLINK 207.00 Increased By \xff 6.71 (3.35%)",
    ("file",),
)(None)

declare(
    "QC903",
    "no-quotes",
    Severity.WARNING,
    "A file holds no quote at all.",
    "The file was read but not one quote was found in it: a scrape that fetched the wrong page, an "
    "empty file, or a page whose ticker did not load.",
    "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    "Markets were closed today.",
    ("file",),
)(None)

declare(
    "QC904",
    "internal-error",
    Severity.ERROR,
    "quotecheck failed on this input; please report it.",
    "An unexpected error happened while checking this file. The other files are still checked. The "
    "message names the error; the run exits with status 3.",
    "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    "(no input is known to cause it)",
    ("file",),
)(None)

declare(
    "QC905",
    "invalid-record",
    Severity.ERROR,
    "A JSON quote record does not match schemas/quotes.schema.json.",
    "JSON and JSON Lines input is validated against the published schema of quote records before "
    "anything else. Each violation is reported at the record's line with its JSON pointer "
    "(`/3/price`); the record is left out, and every valid record is still checked.",
    '{"symbol": "AIRLINK", "price": "207.00", "direction": "Increased By", "arrow": "▲", '
    '"change": "6.71", "percent": "3.35"}',
    '{"symbol": "AIRLINK", "price": true, "direction": "Increased By", "change": "6.71"}',
    ("record",),
)(None)

declare(
    "QC906",
    "malformed-data",
    Severity.ERROR,
    "A CSV, TSV, JSON or JSON Lines file (or HTML) that is not well-formed where reported.",
    "The file breaks its format's syntax at the reported line and column: JSON cut off part-way "
    "(a truncated download), a JSON Lines line that is not JSON, a CSV row with more or fewer fields "
    "than the header, HTML nested deeper than the parser allows. Everything before the fault (and, "
    "for line-based formats, after it) is still checked.",
    '[{"symbol": "BOP", "price": "10.39", "direction": "Decreased By", "arrow": "▼", '
    '"change": "-0.10", "percent": "-0.95"}]',
    '[{"symbol": "BOP", "price": "10.39", "direction": "Decre',
    ("file",),
)(None)
