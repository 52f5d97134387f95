"""The Python entry points: check paths, a text or a DataFrame, and get a Report back.

>>> from checker.api import check_text
>>> report = check_text("AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)")
>>> report.summary()["quotes"], report.passed
(1, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from checker.config import Options
from checker.findings import combine, severity_counts
from checker.frame import FRAME_COLUMNS, build_frame, frame_numbers
from checker.parse import parse_lines, split_lines
from checker.profile import Profile, load_profile
from checker.read import decode
from checker.report import FileResult, Report
from checker.rules.registry import Rule
from checker.validate import check_quotes, decode_findings, file_finding, unparsed_findings

# Lines longer than this are not copied into reports as source context.
MAX_SOURCE_LINE = 2000


def check_text(text: str, name: str = "<text>", options: Options | None = None) -> Report:
    """Check one text (a scraped page) and return its Report."""
    options = options or Options()
    report = _new_report(options)
    _add(report, *_check_decoded_text(text, name, options, load_profile(options.profile), report.rules))
    return _finish(report)


def check_bytes(data: bytes, name: str = "<bytes>", options: Options | None = None) -> Report:
    """Check raw bytes (decoded as the file reader would) and return the Report."""
    options = options or Options()
    report = _new_report(options)
    _add(report, *_check_data(data, name, options, load_profile(options.profile), report.rules))
    return _finish(report)


def check_frame(frame: pd.DataFrame, name: str = "<frame>", options: Options | None = None) -> Report:
    """Check a DataFrame of already-parsed quotes (at least symbol, price, direction, change, percent)."""
    from checker.tabular import quotes_from_records

    options = options or Options()
    profile = load_profile(options.profile)
    report = _new_report(options)
    quotes, problems = quotes_from_records(frame, name, profile)
    findings = [problems, check_quotes(quotes, profile, report.rules, options.as_of)]
    result = FileResult(path=name, format="frame", lines=len(frame), quotes=len(quotes))
    _add(report, result, combine(findings), quotes, {})
    return _finish(report)


def check_paths(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    on_checked: Callable[[Path], None] | None = None,
) -> Report:
    """Check files (or stdin as `-`) and return one Report for the whole run.

    `on_checked` is called with each path once it is checked (the CLI's progress bar).
    """
    options = options or Options()
    profile = load_profile(options.profile)
    report = _new_report(options)
    for path in paths:
        _add(report, *check_path(Path(path), options, profile, report.rules))
        if on_checked is not None:
            on_checked(Path(path))
    return _finish(report)


Checked = tuple[FileResult, pd.DataFrame, pd.DataFrame | None, dict[tuple[str, int], str]]


def check_path(path: Path, options: Options, profile: Profile, rules: list[Rule]) -> Checked:
    """Check one file; an unreadable file yields a finding, never an exception."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        result = FileResult(path=name, status="unreadable", message=f"{name}: cannot read: {reason}")
        return result, file_finding("QC901", name, result.message or ""), None, {}
    return _check_data(data, name, options, profile, rules)


def _check_data(data: bytes, name: str, options: Options, profile: Profile, rules: list[Rule]) -> Checked:
    decoded = decode(data)
    result, findings, quotes, sources = _check_decoded_text(decoded.text, name, options, profile, rules)
    result.encoding = decoded.encoding
    if decoded.problems:
        findings = combine([findings, decode_findings(decoded.problems, name, decoded.encoding)])
    return result, findings, quotes, sources


def _check_decoded_text(
    text: str, name: str, options: Options, profile: Profile, rules: list[Rule]
) -> Checked:
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = split_lines(text)
    parsed = parse_lines(lines)
    quotes, numbers = build_frame(parsed.columns, name, profile)
    findings = [
        unparsed_findings(parsed.unparsed, name),
        check_quotes(quotes, profile, rules, options.as_of, numbers),
    ]
    if not len(quotes):
        findings.append(file_finding("QC903", name, f"{name}: no quote found in {len(lines)} lines"))
    combined = combine(findings)
    sources = _source_lines(combined, lines, name)
    result = FileResult(path=name, lines=len(lines) if text else 0, quotes=len(quotes))
    return result, combined, quotes, sources


def _source_lines(findings: pd.DataFrame, lines: list[str], name: str) -> dict[tuple[str, int], str]:
    numbers = findings["line"].dropna().unique()
    return {(name, int(n)): lines[int(n) - 1][:MAX_SOURCE_LINE] for n in numbers if 0 < int(n) <= len(lines)}


def _new_report(options: Options) -> Report:
    return Report(options=options, rules=options.policy.enabled_rules())


def _add(
    report: Report,
    result: FileResult,
    findings: pd.DataFrame,
    quotes: pd.DataFrame | None,
    sources: dict[tuple[str, int], str],
) -> None:
    findings = report.options.policy.apply(findings)
    if report.options.baseline is not None:
        findings, suppressed = report.options.baseline.suppress(findings)
        report.baseline_suppressed += suppressed
    result.counts = severity_counts(findings)
    report.files.append(result)
    report.findings = combine([report.findings, findings])
    report.source_lines.update(sources)
    if report.options.include_quotes and quotes is not None and len(quotes):
        report.quotes = (
            quotes if report.quotes is None else pd.concat([report.quotes, quotes], ignore_index=True)
        )


def _finish(report: Report) -> Report:
    if report.options.include_quotes and report.quotes is None:
        report.quotes = build_frame({c: [] for c in ("line",)} | _empty_columns(), "", None)[0]
    return report


def _empty_columns() -> dict[str, list]:
    from checker.parse import COLUMNS

    return {name: [] for name in COLUMNS}


__all__ = [
    "FRAME_COLUMNS",
    "check_bytes",
    "check_frame",
    "check_path",
    "check_paths",
    "check_text",
    "frame_numbers",
]
