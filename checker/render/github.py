"""GitHub Actions workflow commands: one `::error file=F,line=L,col=C,title=T::message` per finding.

Escaping follows the Actions toolkit: in the message `%`, CR and LF are percent-encoded; in a
property value `:` and `,` are too, since they separate the properties. Before that, every value
goes through render.escape.display: control characters (CR and LF included) become visible
escapes and the runner's `##[` prefix is broken, so no value can end the command or start another.
"""

from __future__ import annotations

from collections.abc import Iterator

from checker.findings import column_lists
from checker.render.escape import display
from checker.report import Report

# GitHub has error, warning and notice annotations; an info finding is a notice.
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a workflow command's message (the toolkit's escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (the toolkit's escapeProperty)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def data(text: object) -> str:
    """Untrusted text as a workflow command's message: made safe to show, then escaped."""
    return escape_data(display(text))


def property_value(text: object) -> str:
    """Untrusted text as a workflow command's property value: made safe to show, then escaped."""
    return escape_property(display(text))


def github_lines(report: Report) -> Iterator[str]:
    """One workflow command per finding, in report order."""
    frame = report.findings
    if not len(frame):
        return
    columns = column_lists(
        frame, ("file", "line", "column", "end_column", "rule", "name", "severity", "message")
    )
    files: dict[str, str] = {}  # a file's findings share its name: escape it once
    for file, line, column, end_column, rule, name, severity, message in zip(*columns, strict=True):
        shown = files.get(file)
        if shown is None:
            shown = files[file] = property_value(file)
        properties = [f"file={shown}"]
        if line is not None:
            properties.append(f"line={int(line)}")
            if column is not None:
                properties.append(f"col={int(column)}")
                if end_column is not None and int(end_column) >= int(column):
                    properties.append(f"endColumn={int(end_column)}")
        properties.append(f"title={property_value(f'{rule} {name}')}")
        command = COMMANDS.get(str(severity), "error")
        yield f"::{command} {','.join(properties)}::{data(message)}"
