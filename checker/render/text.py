"""Plain text findings, one per line (`path:line:col: CODE [severity] message`), and a summary."""

from __future__ import annotations

from collections.abc import Iterator

from checker.findings import column_lists
from checker.report import Report


def finding_lines(report: Report) -> Iterator[str]:
    """One line per finding, in report order."""
    frame = report.findings
    if not len(frame):
        return
    for start in range(0, len(frame), 50_000):  # a chunk at a time: bounded memory
        chunk = frame.iloc[start : start + 50_000]
        columns = column_lists(chunk, ("file", "line", "column", "rule", "severity", "message"))
        for file, line, column, rule, severity, message in zip(*columns, strict=True):
            where = file if line is None else f"{file}:{line}:{column or 1}"
            yield f"{where}: {rule} [{severity}] {message}"


def summary_line(report: Report) -> str:
    """A one-line summary of the run."""
    s = report.summary()
    verdict = "passed" if s["passed"] else "failed"
    counts = [_plural(s[key], noun) for key, noun in _COUNTED]
    return f"{counts[0]}, {counts[1]}: {counts[2]}, {counts[3]}, {counts[4]} ({verdict})"


_COUNTED = (
    ("files", "file"),
    ("quotes", "quote"),
    ("errors", "error"),
    ("warnings", "warning"),
    ("infos", "info"),
)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
