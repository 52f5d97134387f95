"""The Python entry points: check paths, a text or a DataFrame, and get a Report back.

>>> from checker.api import check_text
>>> report = check_text("AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)")
>>> report.summary()["quotes"], report.passed
(1, True)
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from checker.config import Options
from checker.engine import Checker, Part
from checker.findings import column_lists, combine, severity_counts
from checker.frame import FRAME_COLUMNS, empty_frame, frame_numbers
from checker.inputs.sources import InputRef, display_name, inputs_of
from checker.report import FileResult, Report
from checker.rules.registry import all_rules

if TYPE_CHECKING:
    from checker.baseline import Baseline
    from checker.parallel import Beside

# Runs with more input files than this are spread over processes when more than one job is asked
# for, if their work is worth a process start-up (about a second of imports): at least
# PARALLEL_MIN_BYTES, counting each file as PARALLEL_FILE_BYTES more than its size.
PARALLEL_MIN_FILES = 8
PARALLEL_FILE_BYTES = 8 << 10
PARALLEL_MIN_BYTES = 32 << 20


def check_text(text: str, name: str = "<text>", options: Options | None = None) -> Report:
    """Check one text (a scraped page) and return its Report."""
    checker = Checker(options)
    run = _Run(_new_report(checker.options))
    _add_part(run, Part.single(checker.check_text(text, display_name(name))))
    return _finish(run)


def check_bytes(data: bytes, name: str = "<bytes>", options: Options | None = None) -> Report:
    """Check raw bytes (gzip or not, any encoding and input format) as a file's, and return the Report."""
    checker = Checker(options)
    run = _Run(_new_report(checker.options))
    _add_part(run, Part.single(checker.check_stream(display_name(name), io.BytesIO(data))))
    return _finish(run)


def check_frame(frame: pd.DataFrame, name: str = "<frame>", options: Options | None = None) -> Report:
    """Check a DataFrame of already-parsed quotes (at least symbol, price, direction, change, percent)."""
    checker = Checker(options)
    run = _Run(_new_report(checker.options))
    _add_part(run, Part.single(checker.check_records_frame(frame, display_name(name))))
    return _finish(run)


def check_paths(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    on_checked: Callable[[Path], None] | None = None,
    stdin: BinaryIO | None = None,
    jobs: int = 1,
    beside: Beside | None = None,
) -> Report:
    """Check files, directories (walked recursively) or stdin as `-`, and return one Report for the run.

    `on_checked` is called with each input file once it is checked (the CLI's progress bar); `stdin` is
    the binary stream `-` reads. With `jobs` > 1 and more than PARALLEL_MIN_FILES input files, the
    files are checked by that many processes; the report is the same, in the same order. Otherwise
    a large text page is checked `jobs` chunks at a time, in threads, with the same findings.
    `beside`, a job for a worker besides the files when there are workers (check_archive has
    the history step's calendar tables built there; see checker.parallel.Beside).
    """
    checker = Checker(options)
    options = checker.options
    run = _Run(_new_report(options))
    refs: Iterable[InputRef] = (ref for path in paths for ref in inputs_of([path], options))
    if jobs > 1:
        listed = list(refs)
        if not any(ref.is_stdin for ref in listed) and worth_parallel(listed):
            from checker.parallel import check_in_parallel

            for part in check_in_parallel(listed, checker, jobs, beside):
                _add_part(run, part, on_checked)
            return _finish(run)
        refs = listed
        checker.chunk_workers = jobs  # one process: a large page's chunks use the cores instead
    for part in checker.check_inputs(refs, stdin):
        _add_part(run, part, on_checked)
    return _finish(run)


def check_archive(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    snapshots: str | os.PathLike[str] | None = None,
    jobs: int = 1,
) -> Report:
    """Check every page as check_paths does, then the rules across snapshots over all of them.

    `snapshots` is a manifest CSV (`file,captured_at`); without one, times come from the file
    names and the crawler prefixes, or the figures. The report holds the history findings beside
    the pages' own and `report.snapshots` (each page's time, where it came from, its session).
    A manifest that cannot be read raises checker.history.run.ManifestError.
    """
    from checker.history.run import add_history, calendar_job, read_manifest_file
    from checker.parallel import Beside

    manifest = None if snapshots is None else read_manifest_file(snapshots)
    options = replace(options or Options(), include_quotes=True)
    job = calendar_job(options)
    report = check_paths(paths, options, jobs=jobs, beside=None if job is None else Beside(*job))
    add_history(report, manifest)
    return report


def worth_parallel(refs: list[InputRef]) -> bool:
    """Whether checking `refs` in several processes beats one: a process costs about a second to
    start (imports), so only runs of many files or much data are spread."""
    if len(refs) <= PARALLEL_MIN_FILES:
        return False
    work = 0
    for ref in refs:
        work += PARALLEL_FILE_BYTES
        if ref.path is not None and ref.problem is None:
            with contextlib.suppress(OSError, ValueError):
                work += os.stat(ref.path).st_size
        if work >= PARALLEL_MIN_BYTES:
            return True
    return False


def _new_report(options: Options) -> Report:
    return Report(options=options, rules=options.policy.enabled_rules(), catalogue=all_rules())


@dataclass
class _Run:
    """A report being built: findings and quotes are gathered per file and joined once at the end,
    so a run over many files does not concatenate and re-sort everything found so far per file."""

    report: Report
    findings: list[pd.DataFrame] = field(default_factory=list)
    quotes: list[pd.DataFrame] = field(default_factory=list)


def _add_part(run: _Run, part: Part, on_checked: Callable[[Path], None] | None = None) -> None:
    """Add a Part's results to the run: the policy and the baseline applied, each file's counts."""
    report = run.report
    findings = report.options.policy.apply(part.findings)
    if report.options.baseline is not None:
        findings, suppressed = _suppress(report.options.baseline, findings, part.results)
        report.baseline_suppressed += suppressed
    if len(part.results) == 1:
        part.results[0].counts = severity_counts(findings)
    else:
        counts = _counts_by_file(findings)
        for result in part.results:
            result.counts = counts.get(result.path) or {"error": 0, "warning": 0, "info": 0}
    report.files.extend(part.results)
    run.findings.append(findings)
    report.source_lines.update(part.sources)
    if report.options.include_quotes:
        run.quotes.extend(q for q in part.quotes if len(q))
    if on_checked is not None:
        for name in part.names:
            on_checked(Path(name))


def _suppress(
    baseline: Baseline, findings: pd.DataFrame, results: list[FileResult]
) -> tuple[pd.DataFrame, int]:
    """The baseline applied to each file's findings on their own, as a run of one file applies it."""
    if len(results) == 1 or not len(findings):
        return baseline.suppress(findings)
    # (pandas-stubs reject na_value=None, which pandas takes: missing names as None)
    files = findings["file"].to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    kept, suppressed = [], 0
    for result in results:
        rows = np.flatnonzero(files == result.path)
        if len(rows):
            remaining, count = baseline.suppress(findings.iloc[rows].reset_index(drop=True))
            kept.append(remaining)
            suppressed += count
    return combine(kept) if kept else findings.iloc[:0], suppressed


def _counts_by_file(findings: pd.DataFrame) -> dict[str, dict[str, int]]:
    """severity_counts for each file of a findings frame."""
    out: dict[str, dict[str, int]] = {}
    if not len(findings):
        return out
    for file, severity in zip(*column_lists(findings, ("file", "severity")), strict=True):
        counts = out.get(file)
        if counts is None:
            counts = out[file] = {"error": 0, "warning": 0, "info": 0}
        if severity in counts:
            counts[severity] += 1
    return out


def _finish(run: _Run) -> Report:
    report = run.report
    report.findings = combine(run.findings)
    if report.options.include_quotes:
        if len(run.quotes) == 1:  # one batch: no copy of its quotes
            report.quotes = run.quotes[0]
        else:
            report.quotes = _joined(run.quotes) if run.quotes else empty_frame()
    return report


def _joined(quotes: list[pd.DataFrame]) -> pd.DataFrame:
    """The quote frames of a run's batches as one, the file column one categorical of every file
    in order (a join of the batches' own categoricals, not of 10,000s of repeated path texts)."""
    files = [q["file"] for q in quotes]
    if not all(isinstance(f.dtype, pd.CategoricalDtype) for f in files):
        joined = pd.concat(quotes, ignore_index=True)
        joined["file"] = joined["file"].astype(object)
        return joined
    rest = pd.concat([q.drop(columns="file") for q in quotes], ignore_index=True)
    column = pd.Series(union_categoricals(files, ignore_order=True), index=rest.index, copy=False)
    rest.insert(list(quotes[0].columns).index("file"), "file", column)
    return rest


# Report formats by file extension, for save_report.
REPORT_FORMATS = {
    ".json": "json",
    ".html": "html",
    ".htm": "html",
    ".sarif": "sarif",
    ".xml": "junit",
    ".md": "markdown",
    ".txt": "text",
}


def save_report(report: Report, path: str | os.PathLike[str], format: str | None = None) -> None:
    """Write a Report to `path` as the command line does: json, html, sarif, junit, markdown or text.

    Without `format`, the file's extension picks it (.json, .html, .sarif, .xml for JUnit, .md,
    .txt). The file is written whole or not at all; a path that cannot be written raises
    checker.render.output.ReportWriteError, naming the path and the reason.
    """
    chosen = format or REPORT_FORMATS.get(Path(path).suffix.lower())
    if chosen is None:
        known = ", ".join(sorted(REPORT_FORMATS))
        raise ValueError(f"{os.fspath(path)}: say format=... or use a known extension ({known})")
    if chosen == "json":
        from checker.render.json import save_json

        save_json(report, path)
    elif chosen == "html":
        from checker.render.html import save_html

        save_html(report, path)
    elif chosen == "sarif":
        from checker.render.sarif import save_sarif

        save_sarif(report, path, base=Path.cwd())
    elif chosen == "junit":
        from checker.render.junit import save_junit

        save_junit(report, path)
    elif chosen == "markdown":
        from checker.render.markdown import save_markdown

        save_markdown(report, path)
    elif chosen == "text":
        from checker.render.output import atomic_writer
        from checker.render.terminal import make_console, render_terminal

        with atomic_writer(path) as stream:
            render_terminal(report, make_console(file=stream, color_system=None, force_terminal=False))
    else:
        raise ValueError(f"unknown report format {chosen!r} (json, html, sarif, junit, markdown, text)")


__all__ = [
    "FRAME_COLUMNS",
    "Checker",
    "Part",
    "check_archive",
    "check_bytes",
    "check_frame",
    "check_paths",
    "check_text",
    "frame_numbers",
    "save_report",
]
