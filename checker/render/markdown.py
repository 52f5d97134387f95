"""A Markdown job summary: the verdict, the counts, findings by rule and the first findings.

Meant for a CI job's summary page (GitHub renders `$GITHUB_STEP_SUMMARY` as Markdown with HTML
allowed), so every piece of scraped text is escaped: a line holding `<script>` stays text.
"""

from __future__ import annotations

import html
import os

from checker.findings import column_lists
from checker.render.output import atomic_writer
from checker.report import TOOL_NAME, Report

TOP_FINDINGS = 20


def cell(text: object) -> str:
    """Text made safe for a Markdown table cell: HTML escaped, pipes and line breaks neutralised."""
    escaped = html.escape(str(text), quote=False)
    for character, replacement in (("|", "\\|"), ("`", "&#96;"), ("*", "\\*"), ("_", "\\_")):
        escaped = escaped.replace(character, replacement)
    escaped = escaped.replace("[", "\\[").replace("]", "\\]")
    return " ".join(escaped.split())  # CR, LF and tabs would end the table row


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
        lines += [f"- {cell(f.message or f.path)}" for f in unreadable]
        lines.append("")
    counts = report.rule_counts()
    if counts:
        rules = {rule.code: rule for rule in report.rules}
        policy = report.options.policy
        lines += ["### Findings by rule", "", "| rule | name | severity | count |", "|---|---|---|---:|"]
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            rule = rules.get(code)
            name = f"`{rule.name}`" if rule else ""
            severity = policy.severity_of(rule) if rule else ""
            lines.append(f"| {code} | {name} | {severity} | {count} |")
        lines.append("")
        shown = report.findings.head(top)
        heading = "### Findings" if len(report.findings) <= top else f"### First {top} findings"
        lines += [heading, "", "| location | rule | severity | message |", "|---|---|---|---|"]
        columns = column_lists(shown, ("file", "line", "column", "rule", "severity", "message"))
        for file, line, column, rule, severity, message in zip(*columns, strict=True):
            where = file if line is None else f"{file}:{line}:{column or 1}"
            lines.append(f"| {cell(where)} | {rule} | {severity} | {cell(message)} |")
        if len(report.findings) > top:
            lines += ["", f"{len(report.findings) - top} more findings are in the JSON report."]
        lines.append("")
    else:
        lines += ["No findings.", ""]
    return "\n".join(lines)


def save_markdown(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the job summary to `path` atomically."""
    with atomic_writer(path) as stream:
        stream.write(markdown_summary(report))


def append_markdown(report: Report, path: str | os.PathLike[str]) -> None:
    """Append the job summary to `path` (GitHub's step summary file collects several steps)."""
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(markdown_summary(report))
