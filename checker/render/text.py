"""Plain text findings, one per line (`path:line:col: CODE [severity] message`), and a summary.

File names and messages hold untrusted text: each goes through render.escape.display, so a line
holds no control character and cannot start a CI workflow command.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from checker.findings import column_lists
from checker.location import location as location_of
from checker.render.escape import display, has_acting
from checker.report import Report


def finding_lines(report: Report) -> Iterator[str]:
    """One line per finding, in report order."""
    frame = report.findings
    if not len(frame):
        return
    for start in range(0, len(frame), 50_000):  # a chunk at a time: bounded memory
        chunk = frame.iloc[start : start + 50_000]
        columns = column_lists(chunk, ("file", "line", "column", "rule", "severity", "message"))
        shown: dict[str, str] = {}  # a file's findings share its name: make it safe once
        safe = _all_shown_as_they_are(columns[5])
        for file, line, column, rule, severity, message in zip(*columns, strict=True):
            name = shown.get(file)
            if name is None:
                name = shown[file] = display(file)
            where = location_of(name, line, column)
            yield f"{where}: {rule} [{severity}] {message if safe else display(message)}"


_APART = "\uffff"  # joins a chunk's messages: neither acting nor blank, in no `##[` or `::`
_COMMAND_START = re.compile(f"(?:^|{_APART})\\s*::")


def _all_shown_as_they_are(messages: list[str | None]) -> bool:
    """Whether `display` leaves every one of `messages` as it is (one scan of them all instead of
    one per message; a doubt, such as a message holding `_APART`, is a no)."""
    shown = [message for message in messages if message is not None]
    if len(shown) < len(messages):
        return False
    joined = _APART.join(shown)
    return not has_acting(joined) and "##[" not in joined and _COMMAND_START.search(joined) is None


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
