"""The history step of a run: read the manifest and the tops of the pages, run the rules across
snapshots, and add their findings and the snapshot table to the run's Report."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa

from checker.config import Options
from checker.findings import MAX_SOURCE_LINE, combine, finding, from_records, severity_counts
from checker.history.calendar import LibraryTables, history_settings, library_tables, remember_tables
from checker.history.engine import HistoryResult, history_findings
from checker.history.times import PREFIX_SEARCH_CHARS, Manifest, read_manifest
from checker.inputs.sources import open_regular
from checker.parse import split_lines
from checker.profile import ProfileError, load_profile
from checker.read import decode
from checker.report import FileResult, Report
from checker.userfiles import UserFileError, read_user_bytes

MAX_MANIFEST_BYTES = 1 << 30
# Source lines of history findings are read back from at most this many pages, of at most
# MAX_SOURCE_PAGE bytes each (the HTML report shows them beside the findings).
MAX_SOURCE_PAGES = 1000
MAX_SOURCE_PAGE = 1 << 20
# The calendar tables a worker builds cover the years from this one to the next: archives older
# than that have theirs built by the history step itself.
TABLE_FIRST_YEAR = 1990


class ManifestError(ValueError):
    """A manifest that cannot be read at all (its rows' problems are reported, not raised)."""


def read_manifest_file(path: str | os.PathLike[str]) -> Manifest:
    """Read a manifest CSV (`file,captured_at`); raises ManifestError naming the file and why."""
    where = os.fspath(path)
    try:  # a regular file only, opened without blocking (a FIFO or a device is refused)
        data = read_user_bytes(path, "manifest", MAX_MANIFEST_BYTES)
    except UserFileError as error:
        raise ManifestError(str(error)) from None
    text = data.decode("utf-8", errors="replace")
    try:
        return read_manifest(text, where, Path(os.path.abspath(where)).parent)
    except ValueError as error:
        raise ManifestError(str(error)) from None


def page_heads(names: list[str]) -> dict[str, str]:
    """The first few KB of each page that is a readable file (gzip or not): where the crawler
    prefix stands. A page that cannot be read has none."""
    heads: dict[str, str] = {}
    for name in names:
        if name == "-" or name.startswith("<"):
            continue
        text = _read_page(name, PREFIX_SEARCH_CHARS * 4)
        if text is not None:
            heads[name] = text[:PREFIX_SEARCH_CHARS]
    return heads


class PageHeads(Mapping[str, str]):
    """page_heads read on demand: the history step asks for the head of a page only when neither
    a manifest nor its name gives its time, so pages named with their time are not read again."""

    def __init__(self, names: list[str]) -> None:
        self._names = [n for n in dict.fromkeys(names) if n != "-" and not n.startswith("<")]
        self._known = frozenset(self._names)
        self._read: dict[str, str | None] = {}

    def _head(self, name: str) -> str | None:
        if name not in self._known:
            return None
        if name not in self._read:
            text = _read_page(name, PREFIX_SEARCH_CHARS * 4)
            self._read[name] = text[:PREFIX_SEARCH_CHARS] if text is not None else None
        return self._read[name]

    def __getitem__(self, name: str) -> str:
        head = self._head(name)
        if head is None:
            raise KeyError(name)
        return head

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._names if self._head(name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # (without reading every page, as len would)
        return bool(self._names)


def _read_page(name: str, limit: int) -> str | None:
    """Up to `limit` bytes of a page (gzip or not) as text; None when it cannot be read. Only a
    regular file is read, opened without blocking: a FIFO or a device put where a page was (or
    named as a page) never holds the run up."""
    if name == "-" or name.startswith("<"):
        return None
    opened = open_regular(name)
    if isinstance(opened, str):
        return None
    handle, _size = opened
    try:
        with handle:
            start = handle.read(2)
            handle.seek(0)
            if start == b"\x1f\x8b":
                with gzip.open(handle) as unzipped:
                    data = unzipped.read(limit)
            else:
                data = handle.read(limit)
    except (OSError, EOFError, ValueError):
        return None
    return decode(data).text


def _add_source_lines(report: Report, findings: pd.DataFrame) -> None:
    """The source lines of the history findings, for the reports that show them."""
    wanted: dict[str, set[int]] = {}
    for file, line in zip(findings["file"].tolist(), findings["line"].tolist(), strict=True):
        if line is not None and line is not pd.NA and (file, int(line)) not in report.source_lines:
            wanted.setdefault(str(file), set()).add(int(line))
    for name in sorted(wanted)[:MAX_SOURCE_PAGES]:
        text = _read_page(name, MAX_SOURCE_PAGE)
        if text is None:
            continue
        lines = split_lines(text[1:] if text.startswith("\ufeff") else text)
        for number in wanted[name]:
            if 0 < number <= len(lines):
                report.source_lines[(name, number)] = lines[number - 1][:MAX_SOURCE_LINE]


def _cut_off(report: Report) -> set[str]:
    """Pages with a line that starts like a quote and does not parse (a block cut off)."""
    findings = report.findings
    if not len(findings):
        return set()
    parse = findings["rule"].astype(str).str.startswith("QC1").to_numpy(dtype=bool, na_value=False)
    return {str(f) for f in findings["file"][parse].dropna().unique()}


def calendar_job(
    options: Options,
) -> tuple[Callable[[], LibraryTables], Callable[[LibraryTables], None]] | None:
    """The job a worker can do for a run with a history step to come (a checker.parallel.Beside):
    the calendar libraries' tables of the profile's exchange built there (importing the libraries
    costs about 0.25 s, which this process then never spends), and what keeps them here for the
    step (calendar.remember_tables). None when the profile cannot be read: the history step
    reports that itself."""
    try:
        code = history_settings(load_profile(options.profile)).calendar
    except Exception:
        return None
    this_year = dt.date.today().year
    job = functools.partial(library_tables, code, TABLE_FIRST_YEAR, this_year + 1)
    return job, remember_tables


def snapshot_times(report: Report, manifest: Manifest | None = None) -> HistoryResult:
    """The history step's result over the run's quotes without adding anything to the report
    (what the ledger needs: each page's time, its source and session)."""
    quotes = report.quotes
    if quotes is None:
        raise ValueError("the history step needs the run's quotes (Options(include_quotes=True))")
    names = [f.path for f in report.files]
    resolve = (  # absolute paths only to match a manifest's rows
        {name: os.path.abspath(name) for name in names if not name.startswith("<") and name != "-"}
        if manifest is not None
        else None
    )
    profile = load_profile(report.options.profile)
    return history_findings(
        quotes,
        report.files,
        profile,
        manifest=manifest,
        page_texts=PageHeads(names),
        cut_off=_cut_off(report),
        resolve=resolve,
    )


def run_ledger(report: Report, snapshots: pd.DataFrame | None, valid: bool = False) -> pa.Table:
    """The run's ledger (checker.history.ledger): every quote with its page's time and session
    (from `snapshots`, the history step's table) and the codes of the report's findings on it."""
    from checker.history.ledger import ledger_table

    profile = load_profile(report.options.profile)
    exact = {name for name, kind in profile.kinds.items() if kind.exact}
    quotes = report.quotes if report.quotes is not None else pd.DataFrame()
    return ledger_table(quotes, report.findings, snapshots, exact, _cut_off(report), valid=valid)


def add_history(report: Report, manifest: Manifest | None = None) -> HistoryResult:
    """Run the rules across snapshots over the run's quotes (the report must hold them) and add
    their findings, with the run's policy and baseline applied, and the snapshot table."""
    options = report.options
    if report.quotes is None:
        raise ValueError("the history step needs the run's quotes (Options(include_quotes=True))")
    try:
        result = snapshot_times(report, manifest)
    except ProfileError:
        raise
    except Exception as error:  # the last resort: a finding, never a traceback
        message = f"the checks across snapshots failed: {type(error).__name__}: {error}"[:500]
        failure = options.policy.apply(from_records([finding("QC904", "<history>", message)]))
        result = HistoryResult(failure, pd.DataFrame(), pd.DataFrame(), "", [])
        report.findings = combine([report.findings, result.findings])
        return result
    add_history_result(report, result)
    return result


def add_history_result(report: Report, result: HistoryResult) -> None:
    """The history step's findings added to the report (the policy and the baseline applied,
    each file's counts, their source lines), and its snapshot table."""
    options = report.options
    findings = options.policy.apply(result.findings)
    if options.baseline is not None and len(findings):
        findings, suppressed = options.baseline.suppress(findings)
        report.baseline_suppressed += suppressed
    if len(findings):
        entries: dict[str, list[FileResult]] = {}
        for entry in report.files:
            entries.setdefault(entry.path, []).append(entry)
        for path, rows in findings.groupby(findings["file"].astype(str), sort=False):
            added = severity_counts(rows)
            for entry in entries.get(str(path), []):
                entry.counts = {key: entry.counts.get(key, 0) + added[key] for key in added}
        report.findings = combine([report.findings, findings])
        _add_source_lines(report, findings)
    report.snapshots = result.snapshots
