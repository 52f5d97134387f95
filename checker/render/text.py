"""Plain text findings, one per line (`path:line:col: CODE [severity] message`), and a summary.

File names and messages hold untrusted text: each goes through render.escape.display, so a line
holds no control character and cannot start a CI workflow command.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_large_text, as_pa_array
from checker.findings import column_lists
from checker.location import location as location_of
from checker.render.escape import display
from checker.render.output import joined_bytes
from checker.report import Report

_CHUNK = 50_000  # findings formatted at a time: bounded memory


def finding_lines(report: Report) -> Iterator[str]:
    """One line per finding, in report order."""
    for block in finding_blocks(report):
        yield from block.split("\n")


def finding_blocks(report: Report) -> Iterator[str]:
    """The finding lines of up to _CHUNK findings at a time, joined by newlines (no final one)."""
    for block in finding_chunks(report):
        yield block if isinstance(block, str) else str(joined_bytes(block, "\n"), "utf-8")


def finding_chunks(report: Report) -> Iterator[str | pa.Array]:
    """The finding lines of up to _CHUNK findings at a time: an Arrow array of the lines, each
    ending with a newline, or (a chunk Arrow cannot build) one text of them joined by newlines.

    Formatted column by column with Arrow's string kernels (`display` run in Python only on the
    messages RE2 finds it may change), else, when a message, rule or severity is missing, line by
    line."""
    frame = report.findings
    for start in range(0, len(frame), _CHUNK):
        chunk = frame.iloc[start : start + _CHUNK]
        block = None
        if not (
            chunk["message"].isna().any() or chunk["rule"].isna().any() or chunk["severity"].isna().any()
        ):
            try:
                block = _joined_block(chunk)
            except (UnicodeError, pa.ArrowException):  # a name Arrow cannot hold (surrogates)
                block = None
        yield "\n".join(_lines(chunk)) if block is None else block


def _lines(chunk: pd.DataFrame) -> Iterator[str]:
    columns = column_lists(chunk, ("file", "line", "column", "rule", "severity", "message"))
    shown: dict[str, str] = {}  # a file's findings share its name: make it safe once
    for file, line, column, rule, severity, message in zip(*columns, strict=True):
        name = shown.get(file)
        if name is None:
            name = shown[file] = display(file)
        yield f"{location_of(name, line, column)}: {rule} [{severity}] {display(message)}"


# A message `display` may change, as RE2 sees it: any character but printable ASCII and the
# arrows (a doubt is a yes: `display` then decides), the runner's `##[`, or `::` anywhere.
_DOUBT_RE2 = r"[^\x20-\x7e\x{25b2}\x{25bc}]|##\[|::"


def _joined_block(chunk: pd.DataFrame) -> pa.Array:
    """The chunk's lines built by Arrow kernels, each ending with a newline: names made safe once
    per file, messages as they are (those RE2 has a doubt about through `display`)."""
    text = pa.large_string()
    files = cast(pa.DictionaryArray, pc.dictionary_encode(as_large_text(chunk["file"])))
    names = pa.array([display(name) for name in files.dictionary.to_pylist()], text)
    name = names.take(files.indices)
    line = as_pa_array(chunk["line"])  # int64, null where a finding has no line
    col = as_pa_array(chunk["column"]).fill_null(1)
    # column 0 is written 1, as `location` writes it
    col = pc.if_else(pc.equal(col, pa.scalar(0, col.type)), pa.scalar(1, col.type), col)

    def literal(value: str) -> pa.Scalar:
        return pa.scalar(value, text)

    # (the stubs want the separator to be an array like the texts; Arrow takes a scalar)
    located = pc.binary_join_element_wise(name, pc.cast(line, text), pc.cast(col, text), literal(":"))  # type: ignore[call-overload]
    where = pc.if_else(pc.is_null(line), name, located)
    rule, severity, message = (as_large_text(chunk[key]) for key in ("rule", "severity", "message"))
    doubt = pc.match_substring_regex(message, _DOUBT_RE2)
    if pc.any(doubt).as_py():
        doubtful = cast("list[str]", pc.filter(message, doubt).to_pylist())
        message = pc.replace_with_mask(message, doubt, pa.array([display(m) for m in doubtful], text))
    pieces = [where, literal(": "), rule, literal(" ["), severity, literal("] "), message, literal("\n")]
    return pc.binary_join_element_wise(*pieces, literal(""), null_handling="replace", null_replacement="")


def location(file: object, line: object, column: object) -> str:
    """`path:line:col` (or the path alone), the path made safe to show."""
    return location_of(display(file), line, column)


def summary_line(report: Report) -> str:
    """A one-line summary of the run."""
    s = report.summary()
    verdict = "passed" if s["passed"] else "failed"
    return (
        f"{counted(s['files'], 'file')}, {counted(s['quotes'], 'quote')}: {counted(s['errors'], 'error')}, "
        f"{counted(s['warnings'], 'warning')}, {counted(s['infos'], 'info')} ({verdict})"
    )


def counted(number: int, noun: str) -> str:
    """`1 quote`, `2 quotes`, `0 quotes`: a count with its noun in the right number."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
