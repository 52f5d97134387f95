"""The Python entry points: check paths, a text or a DataFrame, and get a Report back.

>>> from checker.api import check_text
>>> report = check_text("AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)")
>>> report.summary()["quotes"], report.passed
(1, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from checker.config import Options
from checker.findings import combine, context_lines, severity_counts
from checker.frame import FRAME_COLUMNS, build_frame, empty_frame, frame_numbers
from checker.inputs.detect import detect_format
from checker.inputs.sources import InputRef, RawInput, expand_paths, read_input, read_stream
from checker.parse import Lines, ParseResult, line_count, parse_lines, parse_text, split_lines
from checker.profile import Profile, load_profile
from checker.read import binary_reason, decode
from checker.report import FileResult, Report
from checker.rules.registry import Rule
from checker.validate import (
    check_quotes,
    file_finding,
    no_quotes_finding,
    unparsed_findings,
    with_decode_findings,
)

# Runs with more input files than this are spread over processes when more than one job is asked for.
PARALLEL_MIN_FILES = 8
# Lines longer than this are not copied into reports as source context.
MAX_SOURCE_LINE = 2000


def check_text(text: str, name: str = "<text>", options: Options | None = None) -> Report:
    """Check one text (a scraped page) and return its Report."""
    options = options or Options()
    run = _Run(_new_report(options))
    profile = load_profile(options.profile)
    try:
        _add(run, *_check_decoded_text(text, name, options, profile, run.report.rules))
    except Exception as error:  # the last resort: a finding, never a traceback
        _add(run, *_internal_error(name, error))
    return _finish(run)


def check_bytes(data: bytes, name: str = "<bytes>", options: Options | None = None) -> Report:
    """Check raw bytes (gzip or not, any encoding and input format) as a file's, and return the Report."""
    import io

    options = options or Options()
    run = _Run(_new_report(options))
    profile = load_profile(options.profile)
    try:
        raw = read_stream(name, io.BytesIO(data), options.max_decompressed_size)
        _add(run, *_check_raw(raw, name, options, profile, run.report.rules))
    except Exception as error:  # the last resort: a finding, never a traceback
        _add(run, *_internal_error(name, error))
    return _finish(run)


def check_frame(frame: pd.DataFrame, name: str = "<frame>", options: Options | None = None) -> Report:
    """Check a DataFrame of already-parsed quotes (at least symbol, price, direction, change, percent)."""
    from checker.tabular import quotes_from_records

    options = options or Options()
    profile = load_profile(options.profile)
    run = _Run(_new_report(options))
    try:
        quotes, problems = quotes_from_records(frame, name, profile)
        findings = [problems, check_quotes(quotes, profile, run.report.rules, options.as_of)]
        result = FileResult(path=name, format="frame", lines=len(frame), quotes=len(quotes))
        _add(run, result, combine(findings), quotes, {})
    except Exception as error:  # the last resort: a finding, never a traceback
        _add(run, *_internal_error(name, error))
    return _finish(run)


def check_paths(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    on_checked: Callable[[Path], None] | None = None,
    stdin: BinaryIO | None = None,
    jobs: int = 1,
) -> Report:
    """Check files, directories (walked recursively) or stdin as `-`, and return one Report for the run.

    `on_checked` is called with each input file once it is checked (the CLI's progress bar); `stdin` is
    the binary stream `-` reads. With `jobs` > 1 and more than PARALLEL_MIN_FILES input files, the
    files are checked by that many processes; the report is the same, in the same order.
    """
    options = options or Options()
    profile = load_profile(options.profile)
    run = _Run(_new_report(options))
    refs: Iterable[InputRef] = (
        ref
        for path in paths
        for ref in expand_paths([path], options.include, options.exclude, options.report_paths)
    )
    if jobs > 1:
        listed = list(refs)
        if len(listed) > PARALLEL_MIN_FILES and not any(ref.is_stdin for ref in listed):
            from checker.parallel import check_in_parallel

            for ref, checked in check_in_parallel(listed, options, jobs):
                _add(run, *checked)
                if on_checked is not None:
                    on_checked(Path(ref.name))
            return _finish(run)
        refs = listed
    for ref in refs:
        _add(run, *check_input(ref, options, profile, run.report.rules, stdin))
        if on_checked is not None:
            on_checked(Path(ref.name))
    return _finish(run)


Checked = tuple[FileResult, pd.DataFrame, pd.DataFrame | None, dict[tuple[str, int], str]]


def check_path(path: Path, options: Options, profile: Profile, rules: list[Rule]) -> Checked:
    """Check one file; an unreadable file yields a finding, never an exception."""
    return check_input(InputRef(str(path), path), options, profile, rules)


def check_input(
    ref: InputRef, options: Options, profile: Profile, rules: list[Rule], stdin: BinaryIO | None = None
) -> Checked:
    """Check one input (a file, stdin or an empty directory); every failure becomes a finding."""
    try:
        if ref.path is not None and not ref.is_stdin and ref.problem is None:
            from checker.chunked import check_large_file

            checked = check_large_file(Path(ref.path), ref.name, options, profile, rules)
            if checked is not None:  # a large text page, checked a chunk at a time
                return checked
        raw = read_input(ref, options.max_decompressed_size, stdin)
        return _check_raw(raw, ref.name, options, profile, rules)
    except Exception as error:  # the last resort: a finding and exit status 3, never a traceback
        return _internal_error(ref.name, error)


def _internal_error(name: str, error: BaseException) -> Checked:
    message = f"{name}: internal error: {type(error).__name__}: {error}"[:500]
    result = FileResult(path=name, status="failed", message=message)
    return result, file_finding("QC904", name, message), None, {}


def _check_raw(raw: RawInput, name: str, options: Options, profile: Profile, rules: list[Rule]) -> Checked:
    """Check the bytes read from an input; a read problem is a QC901 finding beside whatever was read."""
    if not raw.complete:
        message = raw.problem or f"{name}: cannot read"
        result = FileResult(path=name, status="unreadable", message=message)
        return result, file_finding("QC901", name, message), None, {}
    result, findings, quotes, sources = _check_data(raw.data, name, options, profile, rules)
    if raw.problem:
        result.status, result.message = "unreadable", raw.problem
        findings = combine([findings, file_finding("QC901", name, raw.problem)])
    return result, findings, quotes, sources


def _check_data(data: bytes, name: str, options: Options, profile: Profile, rules: list[Rule]) -> Checked:
    if not data:
        result = FileResult(path=name, format=options.input_format or "text")
        return result, file_finding("QC903", name, f"{name}: empty file (0 bytes)"), None, {}
    decoded = decode(data)
    input_format = detect_format(name, decoded.text, options.input_format)
    check = _FORMAT_CHECKS[input_format]
    result, findings, quotes, sources = check(decoded.text, name, options, profile, rules)
    result.format = input_format
    result.encoding = f"{decoded.encoding} with BOM" if decoded.bom else decoded.encoding
    if decoded.problems:
        findings = with_decode_findings(findings, decoded.problems, name, decoded.encoding)
        lines = split_lines(decoded.text)
        for line in {p.line for p in decoded.problems}:
            if 0 < line <= len(lines) and input_format != "html":
                sources.setdefault((name, line), lines[line - 1][:MAX_SOURCE_LINE])
    reason = binary_reason(data)
    if reason is not None:
        # A binary file is unreadable; but quotes found in it are kept, so a page with junk
        # spliced in never loses its quotes to the verdict.
        if not result.quotes:
            message = f"{name}: {reason}; not checked"
            result = FileResult(path=name, status="unreadable", message=message, format="binary")
            return result, file_finding("QC901", name, message), None, {}
        message = f"{name}: {reason}; the {result.quotes} quotes found in it were checked"
        result.status, result.message = "unreadable", message
        findings = combine([findings, file_finding("QC901", name, message)])
    return result, findings, quotes, sources


def _check_decoded_text(
    text: str, name: str, options: Options, profile: Profile, rules: list[Rule]
) -> Checked:
    if text.startswith("\ufeff"):
        text = text[1:]
    parsed, lines = parse_text(text)
    return _check_parsed(parsed, lines, bool(text), name, options, profile, rules)


def _check_html(text: str, name: str, options: Options, profile: Profile, rules: list[Rule]) -> Checked:
    """Check an HTML page: its visible text, with findings at the lines of the HTML source."""
    from checker.inputs.htmlpage import html_text, remap

    if text.startswith("\ufeff"):
        text = text[1:]
    page = html_text(text)
    parsed = remap(parse_lines(page.texts), page)
    checked = _check_parsed(parsed, page.source_lines, bool(text), name, options, profile, rules)
    if page.stopped is None:
        return checked
    line, column, why = page.stopped
    message = f"the HTML parser gave up here ({why}); text after it was not checked"
    stopped = file_finding("QC906", name, message, line=line)
    stopped["column"] = pd.array([column], dtype="Int64")
    result, findings, quotes, sources = checked
    return result, combine([findings, stopped]), quotes, sources


def _check_records_text(
    text: str, name: str, options: Options, profile: Profile, rules: list[Rule], input_format: str
) -> Checked:
    """Check a CSV, TSV, JSON or JSON Lines file of already-parsed quotes."""
    from checker.inputs.records import csv_records, json_records
    from checker.tabular import quotes_from_records

    if input_format in ("csv", "tsv"):
        records, problems = csv_records(text, name, "\t" if input_format == "tsv" else ",")
    else:
        records, problems = json_records(text, name, lines_format=input_format == "jsonl")
    quotes, record_problems = quotes_from_records(records, name, profile)
    findings = [problems, record_problems, check_quotes(quotes, profile, rules, options.as_of)]
    lines = split_lines(text)
    if not len(quotes):
        findings.append(no_quotes_finding(name, line_count(lines), records=True))
    combined = combine(findings)
    result = FileResult(path=name, lines=line_count(lines), quotes=len(quotes))
    return result, combined, quotes, _source_lines(combined, lines, name)


def _check_parsed(
    parsed: ParseResult,
    lines: list[str] | Lines,
    has_text: bool,
    name: str,
    options: Options,
    profile: Profile,
    rules: list[Rule],
) -> Checked:
    """Findings of parsed quotes located in `lines` (a text page, or an HTML page's source)."""
    quotes, numbers = build_frame(parsed.columns, name, profile)
    findings = [
        unparsed_findings(parsed.unparsed, name),
        check_quotes(quotes, profile, rules, options.as_of, numbers),
    ]
    if not len(quotes):
        findings.append(no_quotes_finding(name, line_count(lines)))
    combined = combine(findings)
    sources = _source_lines(combined, lines, name)
    result = FileResult(path=name, lines=line_count(lines) if has_text else 0, quotes=len(quotes))
    return result, combined, quotes, sources


def _format_check(input_format: str) -> Callable[..., Checked]:
    def check(text: str, name: str, options: Options, profile: Profile, rules: list[Rule]) -> Checked:
        return _check_records_text(text, name, options, profile, rules, input_format)

    return check


_FORMAT_CHECKS: dict[str, Callable[..., Checked]] = {
    "text": _check_decoded_text,
    "html": _check_html,
    **{name: _format_check(name) for name in ("csv", "tsv", "json", "jsonl")},
}


def _source_lines(findings: pd.DataFrame, lines: list[str] | Lines, name: str) -> dict[tuple[str, int], str]:
    wanted = sorted(n for n in context_lines(findings, {}) if 0 < n <= len(lines))
    if isinstance(lines, Lines):  # one Arrow take instead of one lookup per line
        texts = lines.texts([n - 1 for n in wanted])
        return {(name, n): text[:MAX_SOURCE_LINE] for n, text in zip(wanted, texts, strict=True)}
    return {(name, n): lines[n - 1][:MAX_SOURCE_LINE] for n in wanted}


def _new_report(options: Options) -> Report:
    return Report(options=options, rules=options.policy.enabled_rules())


@dataclass
class _Run:
    """A report being built: findings and quotes are gathered per file and joined once at the end,
    so a run over many files does not concatenate and re-sort everything found so far per file."""

    report: Report
    findings: list[pd.DataFrame] = field(default_factory=list)
    quotes: list[pd.DataFrame] = field(default_factory=list)


def _add(
    run: _Run,
    result: FileResult,
    findings: pd.DataFrame,
    quotes: pd.DataFrame | None,
    sources: dict[tuple[str, int], str],
) -> None:
    report = run.report
    findings = report.options.policy.apply(findings)
    if report.options.baseline is not None:
        findings, suppressed = report.options.baseline.suppress(findings)
        report.baseline_suppressed += suppressed
    result.counts = severity_counts(findings)
    report.files.append(result)
    run.findings.append(findings)
    report.source_lines.update(sources)
    if report.options.include_quotes and quotes is not None and len(quotes):
        run.quotes.append(quotes)


def _finish(run: _Run) -> Report:
    report = run.report
    report.findings = combine(run.findings)
    if report.options.include_quotes:
        if len(run.quotes) == 1:  # one file: no copy of its quotes
            report.quotes = run.quotes[0]
        else:
            report.quotes = pd.concat(run.quotes, ignore_index=True) if run.quotes else empty_frame()
    return report


__all__ = [
    "FRAME_COLUMNS",
    "check_bytes",
    "check_frame",
    "check_input",
    "check_path",
    "check_paths",
    "check_text",
    "frame_numbers",
]
