"""GitHub Actions workflow commands: one `::error file=F,line=L,col=C,title=T::message` per finding.

Escaping follows the Actions toolkit: in the message `%`, CR and LF are percent-encoded; in a
property value `:` and `,` are too, since they separate the properties.
"""

from __future__ import annotations

from collections.abc import Iterator

from checker.findings import column_lists
from checker.report import Report

# GitHub has error, warning and notice annotations; an info finding is a notice.
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(report: Report) -> Iterator[str]:
    """One workflow command per finding, in report order."""
    frame = report.findings
    if not len(frame):
        return
    columns = column_lists(
        frame, ("file", "line", "column", "end_column", "rule", "name", "severity", "message")
    )
    for file, line, column, end_column, rule, name, severity, message in zip(*columns, strict=True):
        properties = [f"file={escape_property(str(file))}"]
        if line is not None:
            properties.append(f"line={int(line)}")
            if column is not None:
                properties.append(f"col={int(column)}")
                if end_column is not None and int(end_column) >= int(column):
                    properties.append(f"endColumn={int(end_column)}")
        properties.append(f"title={escape_property(f'{rule} {name}')}")
        command = COMMANDS.get(str(severity), "error")
        yield f"::{command} {','.join(properties)}::{escape_data(str(message))}"
