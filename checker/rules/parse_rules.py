"""Rules raised while reading and parsing: broken quotes, unreadable input."""

from __future__ import annotations

from checker.findings import Severity
from checker.rules.registry import declare

declare(
    code="QC101",
    name="truncated-quote",
    severity=Severity.ERROR,
    summary="A quote stops part-way through its line.",
    description=(
        "The line holds a symbol and a price and then the beginning of a quote, but ends before the quote"
        " is complete: the usual sign of a scrape cut off mid-line. The quote is not in the frame, so none"
        " of its figures are checked."
    ),
    passing="PIBTL 9.80 Decreased By ▼ -0.10 (-1.01%)",
    failing="PIBTL 9.80 Decreased By ▼ -0.1",
    fields=("line",),
)(None)

declare(
    code="QC102",
    name="malformed-quote",
    severity=Severity.ERROR,
    summary="A line starts like a quote and holds quote parts, but does not parse.",
    description=(
        "A symbol and a number are followed by parts only a quote has (a direction word, an arrow or a"
        " parenthesised percent), yet the parts are not in the order SYMBOL PRICE DIRECTION [ARROW] CHANGE"
        " (PERCENT%). Misspelt direction words and missing fields land here."
    ),
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="AIRLINK 207.00 Incrased By ▲ 6.71 (3.35%)",
    fields=("line",),
)(None)

declare(
    code="QC103",
    name="quote-like-text",
    severity=Severity.WARNING,
    summary="A symbol and a number that do not go on as a quote.",
    description=(
        "A line begins the way a quote does (an upper-case symbol, then a number), or ends right after a"
        " symbol and a number (a quote cut off after a whole-number price, perhaps behind a crawler"
        " prefix), but nothing after them belongs to a quote. It is often a headline (`KSE100 1,200 points"
        " lower`); it is reported so that a quote mangled beyond recognition is never dropped in silence."
    ),
    passing="KSE100 Nosedives by over 800pts as Schools Close",
    failing="PIBTL 9",
    fields=("line",),
)(None)

declare(
    code="QC901",
    name="unreadable-input",
    severity=Severity.ERROR,
    summary="An input cannot be read at all.",
    description=(
        "The path does not exist, cannot be opened, is a binary file, is a directory holding no input, is a"
        " compressed file that is corrupt or decompresses beyond the size cap (`--max-decompressed-size`)."
        " Whatever could be read is still checked; the run exits with status 2."
    ),
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="\x00\x01\x02",
    fields=("file",),
)(None)

declare(
    code="QC902",
    name="undecodable-bytes",
    severity=Severity.ERROR,
    summary="Bytes that are not valid text in the file's encoding.",
    description=(
        "The file is decoded as UTF-8 (or UTF-16, told by its byte order mark or its NUL bytes). Bytes that"
        " do not decode, and NUL bytes (valid UTF-8 but never part of a page), are reported with their byte"
        " offset; the rest of the file is still checked."
    ),
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="AIRLINK 207.00 Increased By \xff 6.71 (3.35%)",
    fields=("file",),
)(None)

declare(
    code="QC903",
    name="no-quotes",
    severity=Severity.WARNING,
    summary="A file holds no quote at all.",
    description=(
        "The file was read but not one quote was found in it: a scrape that fetched the wrong page, an"
        " empty file, or a page whose ticker did not load."
    ),
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="Markets were closed today.",
    fields=("file",),
)(None)

declare(
    code="QC904",
    name="internal-error",
    severity=Severity.ERROR,
    summary="quotecheck failed on this input; please report it.",
    description=(
        "An unexpected error happened while checking this file. The other files are still checked. The"
        " message names the error; the run exits with status 3."
    ),
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="(no input is known to cause it)",
    fields=("file",),
)(None)

declare(
    code="QC905",
    name="invalid-record",
    severity=Severity.ERROR,
    summary="A JSON quote record does not match schemas/quotes.schema.json.",
    description=(
        "JSON and JSON Lines input is validated against the published schema of quote records before"
        " anything else. Each violation is reported at the record's line with its JSON pointer"
        " (`/3/price`); the record is left out, and every valid record is still checked."
    ),
    passing=(
        '{"symbol": "AIRLINK", "price": "207.00", "direction": "Increased By", "arrow":'
        ' "▲", "change": "6.71", "percent": "3.35"}'
    ),
    failing='{"symbol": "AIRLINK", "price": true, "direction": "Increased By", "change": "6.71"}',
    fields=("record",),
)(None)

declare(
    code="QC906",
    name="malformed-data",
    severity=Severity.ERROR,
    summary="A CSV, TSV, JSON or JSON Lines file (or HTML) that is not well-formed where reported.",
    description=(
        "The file breaks its format's syntax at the reported line and column: JSON cut off part-way (a"
        " truncated download), a JSON Lines line that is not JSON, a CSV row with more or fewer fields than"
        " the header, HTML nested deeper than the parser allows. Everything before the fault (and, for"
        " line-based formats, after it) is still checked."
    ),
    passing=(
        '[{"symbol": "BOP", "price": "10.39", "direction": "Decreased By", "arrow": "▼",'
        ' "change": "-0.10", "percent": "-0.95"}]'
    ),
    failing='[{"symbol": "BOP", "price": "10.39", "direction": "Decre',
    fields=("file",),
)(None)
