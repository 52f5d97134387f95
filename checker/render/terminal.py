"""Terminal output with rich: coloured finding lines, a summary table, statistics, a progress bar.

The finding lines are the plain `path:line:col: CODE [severity] message` lines of render.text,
styled; rich drops the styles when the output is not a terminal, and the CLI asks for no styles
at all when NO_COLOR is set, so piped output is exactly the plain text. Every piece of untrusted
text (file names, messages, the baseline's path) goes through render.escape.display first, so the
only escape sequences on a terminal are rich's own colours. rich is imported inside the
functions: `quotecheck --help` and the JSON-only paths do not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker.findings import column_lists
from checker.render.escape import display
from checker.render.text import finding_chunks, location, summary_line
from checker.report import Report

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}

# A progress bar is worth drawing only for runs this long.
PROGRESS_MIN_FILES = 20
PROGRESS_MIN_BYTES = 20_000_000


def make_console(
    file: Any = None,
    width: int | None = None,
    color_system: str | None = "auto",
    force_terminal: bool | None = None,
) -> Console:
    """A Console for findings: no markup, emoji or highlighting from the data, lines never wrapped."""
    from rich.console import Console

    return Console(
        file=file,
        width=width,
        force_terminal=force_terminal,
        color_system=color_system,  # type: ignore[arg-type]
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=True,
    )


def _write_plain(report: Report, console: Console) -> None:
    """Finding lines to a console that adds no style: exactly what rich prints, without its cost.

    rich takes a fraction of a millisecond per line, which is most of a run with many findings
    when the output is a pipe or a file. The lines hold no control character (render.text makes
    them safe), so rich would print them unchanged.
    """
    from checker.render.output import binary_under, joined_bytes, one_ahead, write_utf8

    stream = console.file
    binary = binary_under(stream)
    for block in one_ahead(finding_chunks(report)):
        if isinstance(block, str):
            stream.write(block + "\n")
        else:  # the lines are UTF-8 already: written as they are
            write_utf8(stream, binary, joined_bytes(block, "\n"))
            stream.write("\n")


def finding_texts(report: Report) -> Iterator[Text]:
    """One styled line per finding, in report order."""
    from rich.text import Text

    frame = report.findings
    if not len(frame):
        return
    columns = column_lists(frame, ("file", "line", "column", "rule", "severity", "message"))
    for file, line, column, rule, severity, message in zip(*columns, strict=True):
        text = Text()
        text.append(location(file, line, column), style="bold")
        text.append(": ")
        text.append(str(rule), style="bold magenta")
        text.append(" ")
        text.append(f"[{severity}]", style=SEVERITY_STYLES.get(str(severity), ""))
        text.append(f" {display(message)}")
        yield text


def statistics_table(report: Report) -> Any:
    """Findings counted by rule, most frequent first (like `ruff --statistics`)."""
    from rich import box
    from rich.table import Table

    names = {rule.code: rule for rule in report.rules}
    policy = report.options.policy
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
    table.add_column("count", justify="right")
    table.add_column("code")
    table.add_column("name")
    table.add_column("severity")
    counts = sorted(report.rule_counts().items(), key=lambda item: (-item[1], item[0]))
    for code, count in counts:
        rule = names.get(code)
        severity = policy.severity_of(rule) if rule else ""
        table.add_row(
            str(count),
            code,
            rule.name if rule else "",
            severity,
            style=SEVERITY_STYLES.get(severity) if severity == "error" else None,
        )
    return table


def summary_table(report: Report) -> Any:
    """The run's figures as a one-row table."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    summary = report.summary()
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
    headings = ["files", "quotes", "errors", "warnings", "infos"]
    if summary["baseline_suppressed"]:
        headings.append("baseline_suppressed")
    if summary.get("fixes_applied") or summary.get("fixes_remaining"):
        headings += ["fixes_applied", "fixes_remaining"]  # repairs (--fix) done and still available
    for heading in headings:
        table.add_column(heading.replace("_", " "), justify="right")
    styles = {"errors": "bold red", "warnings": "yellow", "infos": "cyan"}
    cells = [
        Text(str(summary[heading]), style=(styles.get(heading, "") if summary[heading] else ""))
        for heading in headings
    ]
    table.add_row(*cells)
    return table


def verdict_text(report: Report) -> Text:
    """The one-line summary, green when the run passed and red when it failed."""
    from rich.text import Text

    return Text(summary_line(report), style="bold green" if report.passed else "bold red")


def render_terminal(
    report: Report,
    console: Console,
    quiet: bool = False,
    statistics: bool = False,
    show_findings: bool = True,
) -> None:
    """Print a report: finding lines (or statistics), then the summary table and the verdict.

    `quiet` leaves out the finding lines and the statistics; the summary is always printed.
    `show_findings=False` is for callers that printed the findings in a format of their own.
    """
    if not quiet:
        if statistics:
            if len(report.findings):
                console.print(statistics_table(report))
                console.print()
        elif show_findings and len(report.findings):
            if console.is_terminal or console.color_system is not None:
                for text in finding_texts(report):
                    console.print(text)
            else:
                _write_plain(report, console)
            console.print()
    console.print(summary_table(report))
    if report.baseline_suppressed and report.options.baseline is not None:
        from rich.text import Text

        count = report.baseline_suppressed
        console.print(
            Text(
                f"{count} known finding{'s' if count != 1 else ''} not counted "
                f"(in the baseline {display(report.options.baseline.path)})",
                style="dim",
            )
        )
    console.print(verdict_text(report))


def wants_progress(paths: list[str], stderr_is_terminal: bool) -> bool:
    """Whether a run is long enough for a progress bar, which is drawn only on a terminal."""
    if not stderr_is_terminal:
        return False
    if len(paths) >= PROGRESS_MIN_FILES:
        return True
    return _total_size(paths) >= PROGRESS_MIN_BYTES


def _total_size(paths: list[str]) -> int:
    total = 0
    for path in paths:
        try:
            total += Path(path).stat().st_size
        except OSError:
            continue  # an unreadable file is reported by the check itself
    return total


@contextmanager
def progress_bar(paths: list[str], console: Console) -> Iterator[Any]:
    """A transient progress bar over the input files; yields the callback to call per file."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        SpinnerColumn(),
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task("check", total=len(paths))

    def checked(_path: Path) -> None:
        progress.advance(task, 1)

    with progress:
        yield checked
