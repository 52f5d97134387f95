"""A Markdown job summary: the verdict, the counts, findings by rule and the first findings.

Meant for a CI job's summary page (GitHub renders `$GITHUB_STEP_SUMMARY` as GitHub Flavored
Markdown with HTML allowed, and links bare `https://...`, `www.` and e-mail text), so every piece
of scraped text is shown in a code span: there nothing is markup, no tag, image or link is made,
and GitHub adds no mention or issue link either. A `|` is escaped so that it cannot end a cell.
"""

from __future__ import annotations

import os
import re
import stat

from checker.findings import column_lists
from checker.render.escape import display
from checker.render.output import atomic_writer
from checker.render.text import location
from checker.report import TOOL_NAME, Report

TOP_FINDINGS = 20
_BACKTICKS = re.compile("`+")


def code(text: object, in_table: bool = False) -> str:
    """Untrusted text as inert Markdown: a code span, on one line.

    The text is made safe to show first (render.escape.display: no control character, so no line
    break). The code span's fence is one backtick longer than the longest run in the text, as
    CommonMark wants. A table splits a cell at a `|` even inside a code span, unless it is written
    `\\|` (which the table turns back into `|`); outside a table it stays as it is.
    """
    shown = display(text)
    if in_table:
        shown = shown.replace("|", "\\|")
    if not shown:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(shown)), default=0) + 1)
    if shown[0] in "` " or shown[-1] in "` ":
        shown = f" {shown} "  # CommonMark strips one space from each end, keeping the text whole
    return f"{fence}{shown}{fence}"


def cell(text: object) -> str:
    """Untrusted text as an inert Markdown table cell."""
    return code(text, in_table=True)


def markdown_summary(report: Report, top: int = TOP_FINDINGS) -> str:
    """The job summary of a report."""
    summary = report.summary()
    verdict = "passed" if summary["passed"] else "failed"
    mark = "✅" if summary["passed"] else "❌"
    lines = [
        f"## {mark} {TOOL_NAME}: {verdict}",
        "",
        "| files | quotes | errors | warnings | infos | baseline suppressed |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {summary['files']} | {summary['quotes']} | {summary['errors']} | {summary['warnings']} "
        f"| {summary['infos']} | {summary['baseline_suppressed']} |",
        "",
    ]
    unreadable = [f for f in report.files if f.status != "checked"]
    if unreadable:
        lines += ["**Inputs not checked:**", ""]
        lines += [f"- {code(f.message or f.path)}" for f in unreadable]
        lines.append("")
    counts = report.rule_counts()
    if counts:
        rules = {rule.code: rule for rule in report.rules}
        policy = report.options.policy
        lines += ["### Findings by rule", "", "| rule | name | severity | count |", "|---|---|---|---:|"]
        for rule_code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            rule = rules.get(rule_code)
            name = f"`{rule.name}`" if rule else ""
            severity = policy.severity_of(rule) if rule else ""
            lines.append(f"| {rule_code} | {name} | {severity} | {count} |")
        lines.append("")
        shown = report.findings.head(top)
        total = report.summary()["findings"]  # a report may hold only its first findings
        heading = "### Findings" if total <= top else f"### First {top} findings"
        lines += [heading, "", "| location | rule | severity | message |", "|---|---|---|---|"]
        columns = column_lists(shown, ("file", "line", "column", "rule", "severity", "message"))
        for file, line, column, rule, severity, message in zip(*columns, strict=True):
            lines.append(f"| {cell(location(file, line, column))} | {rule} | {severity} | {cell(message)} |")
        if total > top:
            lines += ["", f"{total - top} more findings are in the JSON report."]
        lines.append("")
    else:
        lines += ["No findings.", ""]
    return "\n".join(lines)


def save_markdown(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the job summary to `path` atomically."""
    with atomic_writer(path) as stream:
        stream.write(markdown_summary(report))


def append_markdown(report: Report, path: str | os.PathLike[str]) -> None:
    """Append the job summary to `path` (GitHub's step summary file collects several steps).

    Only a regular file is appended to: the file is opened without blocking (a FIFO nobody reads
    would otherwise hang the run) and anything else is refused with an OSError.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, 0o666)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{os.fspath(path)} is not a regular file")
        os.set_blocking(descriptor, True)
        stream = os.fdopen(descriptor, "a", encoding="utf-8")
    except BaseException:
        os.close(descriptor)
        raise
    with stream:
        stream.write(markdown_summary(report))
