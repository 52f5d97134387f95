"""The Python entry points: check paths, a text or a DataFrame, and get a Report back.

>>> from checker.api import check_text
>>> report = check_text("AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)")
>>> report.summary()["quotes"], report.passed
(1, True)
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.config import Options
from checker.findings import SOURCE_CONTEXT_PER_RULE, column_lists, combine, context_lines, severity_counts
from checker.frame import FRAME_COLUMNS, build_frame, empty_frame, frame_numbers
from checker.inputs.detect import detect_format
from checker.inputs.sources import InputRef, RawInput, display_name, read_input, read_stream
from checker.parse import (
    Lines,
    ParseResult,
    line_array,
    line_count,
    parse_array,
    parse_lines,
    parse_text,
    split_lines,
)
from checker.profile import Profile, load_profile
from checker.read import Decoded, binary_reason, decode
from checker.report import FileResult, Report
from checker.rules.registry import Rule
from checker.validate import (
    check_quotes,
    file_finding,
    no_quotes_finding,
    unparsed_findings,
    with_decode_findings,
)

if TYPE_CHECKING:
    from checker.baseline import Baseline

# Runs with more input files than this are spread over processes when more than one job is asked
# for, if their work is worth a process start-up (about a second of imports): at least
# PARALLEL_MIN_BYTES, counting each file as PARALLEL_FILE_BYTES more than its size.
PARALLEL_MIN_FILES = 8
PARALLEL_FILE_BYTES = 8 << 10
PARALLEL_MIN_BYTES = 32 << 20
# Small text pages are checked BATCH_PAGES at a time (at most BATCH_BYTES of them): parsed,
# framed and run through the rules together, which costs about as much as one page does alone.
BATCH_PAGES = 256
BATCH_BYTES = 8 << 20
BATCH_MAX_BYTES = 1 << 20  # a page larger than this is checked on its own
# Lines longer than this are not copied into reports as source context.
MAX_SOURCE_LINE = 2000
# A str handed to check_text may hold lone surrogates, which no frame or report can carry.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(text: str, name: str = "<text>", options: Options | None = None) -> Report:
    """Check one text (a scraped page) and return its Report."""
    options = options or Options()
    name = display_name(name)
    text = _LONE_SURROGATE.sub("\ufffd", text)  # only a caller's str can hold one; no file decodes to it
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
    name = display_name(name)
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
    name = display_name(name)
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
    refs: Iterable[InputRef] = (ref for path in paths for ref in options.inputs([path]))
    if jobs > 1:
        listed = list(refs)
        if not any(ref.is_stdin for ref in listed) and worth_parallel(listed):
            from checker.parallel import check_in_parallel

            for part in check_in_parallel(listed, options, jobs):
                _add_part(run, part, on_checked)
            return _finish(run)
        refs = listed
    for part in check_inputs(refs, options, profile, run.report.rules, stdin):
        _add_part(run, part, on_checked)
    return _finish(run)


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


@dataclass
class Part:
    """What a run adds at once: the results of one input, or of a batch of pages checked together.

    `names`, `results` and `quotes` are in input order; `findings` holds every input's findings."""

    names: list[str]
    results: list[FileResult]
    findings: pd.DataFrame
    quotes: list[pd.DataFrame] = field(default_factory=list)
    sources: dict[tuple[str, int], str] = field(default_factory=dict)


def _single(name: str, checked: Checked) -> Part:
    result, findings, quotes, sources = checked
    return Part([name], [result], findings, [] if quotes is None else [quotes], sources)


@dataclass
class _Page:
    """A small text page, read and split into lines, waiting to be checked with others."""

    name: str
    lines: pa.Array
    encoding: str

    @property
    def size(self) -> int:
        return self.lines.nbytes


def check_inputs(
    refs: Iterable[InputRef],
    options: Options,
    profile: Profile,
    rules: list[Rule],
    stdin: BinaryIO | None = None,
) -> Iterator[Part]:
    """Check every input, in input order: small text pages a batch at a time, others one by one.

    The findings, results, quotes and source lines are those of checking each input on its own.
    """
    pending: list[_Page] = []
    names: set[str] = set()
    size = 0
    for ref in refs:
        prepared = _prepare(ref, options, profile, rules, stdin)
        if pending and (
            not isinstance(prepared, _Page)
            or prepared.name in names  # a batch holds a page once: repeats are found per page
            or len(pending) >= BATCH_PAGES
            or size + prepared.size > BATCH_BYTES
        ):
            yield from _check_pages(pending, options, profile, rules)
            pending, names, size = [], set(), 0
        if isinstance(prepared, _Page):
            pending.append(prepared)
            names.add(prepared.name)
            size += prepared.size
        else:
            yield _single(ref.name, prepared)
    if pending:
        yield from _check_pages(pending, options, profile, rules)


def _prepare(
    ref: InputRef, options: Options, profile: Profile, rules: list[Rule], stdin: BinaryIO | None
) -> _Page | Checked:
    """A small plain text page ready for a batch; any other input checked (as check_input does)."""
    if ref.path is None or ref.problem is not None:
        return check_input(ref, options, profile, rules, stdin)
    try:
        info = os.stat(ref.path)
    except (OSError, ValueError):
        return check_input(ref, options, profile, rules, stdin)
    if not stat.S_ISREG(info.st_mode) or info.st_size > BATCH_MAX_BYTES:
        return check_input(ref, options, profile, rules, stdin)
    name = ref.name
    try:
        raw = read_input(ref, options.max_decompressed_size, stdin)
        if not raw.complete or raw.problem or not raw.data or len(raw.data) > BATCH_MAX_BYTES:
            return _check_raw(raw, name, options, profile, rules)
        data = raw.data
        decoded = decode(data)
        input_format = detect_format(name, decoded.text, options.input_format)
        text = decoded.text[1:] if decoded.text.startswith("\ufeff") else decoded.text
        if (
            input_format != "text"
            or decoded.problems
            or not text
            or text.startswith("\ufeff")
            or binary_reason(data) is not None
        ):
            return _check_decoded(data, decoded, input_format, name, options, profile, rules)
        encoding = f"{decoded.encoding} with BOM" if decoded.bom else decoded.encoding
        return _Page(name, line_array(text), encoding)
    except Exception as error:  # the last resort: a finding and exit status 3, never a traceback
        return _internal_error(name, error)


def _check_pages(pages: list[_Page], options: Options, profile: Profile, rules: list[Rule]) -> list[Part]:
    """Check pages together; should that fail, each on its own (so a failure is one page's finding)."""
    try:
        return [_check_batch(pages, options, profile, rules)]
    except Exception:
        return [_single(page.name, _check_page(page, None, options, profile, rules)) for page in pages]


def _check_page(
    page: _Page, parsed: ParseResult | None, options: Options, profile: Profile, rules: list[Rule]
) -> Checked:
    """One page on its own (parsed already, or not yet), as _check_data checks a text page."""
    try:
        if parsed is None:
            parsed = parse_array(page.lines)
        result, findings, quotes, sources = _check_parsed(
            parsed, Lines(page.lines), True, page.name, options, profile, rules
        )
        result.format, result.encoding = "text", page.encoding
        return result, findings, quotes, sources
    except Exception as error:  # the last resort: a finding and exit status 3, never a traceback
        return _internal_error(page.name, error)


def _take(columns: dict[str, Any], rows: np.ndarray | slice) -> dict[str, Any]:
    """The parsed columns (numpy or Arrow arrays) at `rows` (an index array or a slice)."""
    out: dict[str, Any] = {}
    for key, values in columns.items():
        if isinstance(values, np.ndarray):
            out[key] = values[rows]
        elif isinstance(rows, slice):
            out[key] = values.slice(rows.start, rows.stop - rows.start)
        else:
            out[key] = values.take(pa.array(rows))
    return out


def _check_batch(pages: list[_Page], options: Options, profile: Profile, rules: list[Rule]) -> Part:
    """Check pages as one frame: one parse, one frame and one pass of the rules for all of them.

    Every rule is row-wise or grouped by file, except what tells an altered repeat of a symbol
    from the real one (it weighs the page's ticker order as a whole), so a page that repeats a
    symbol is checked on its own, as is a page with no quote (its finding is about the page).
    """
    line_counts = np.array([len(page.lines) for page in pages], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(line_counts)])
    parsed = parse_array(pa.concat_arrays([page.lines for page in pages]))
    columns: dict[str, Any] = parsed.columns  # numpy and Arrow arrays
    global_line = np.asarray(columns["line"], dtype=np.int64)
    page_of = np.searchsorted(starts, global_line - 1, side="right") - 1
    columns["line"] = global_line - starts[page_of]
    quote_counts = np.bincount(page_of, minlength=len(pages))
    quote_starts = np.concatenate([[0], np.cumsum(quote_counts)])
    unparsed: list[list] = [[] for _ in pages]
    for item in parsed.unparsed:
        index = int(np.searchsorted(starts, item.line - 1, side="right") - 1)
        unparsed[index].append(replace(item, line=item.line - int(starts[index])))
    alone = quote_counts == 0
    if len(page_of):
        symbols = pc.dictionary_encode(_arrow(columns["symbol_text"])).indices
        codes = pc.fill_null(symbols, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        key = np.sort(page_of * (int(codes.max()) + 2) + codes + 1)
        alone[key[1:][key[1:] == key[:-1]] // (int(codes.max()) + 2)] = True
    batched = ~alone
    in_batch = batched[page_of]
    batch_index = np.cumsum(batched) - 1  # each batched page's code in the frame's file column
    findings = [unparsed_findings(unparsed[i], pages[i].name) for i in np.flatnonzero(batched) if unparsed[i]]
    quotes = None
    if batched.any():
        rows = np.flatnonzero(in_batch)
        taken = _take(columns, rows if len(rows) < len(page_of) else slice(0, len(page_of)))
        quotes, numbers = build_frame(taken, "", profile)
        names = [pages[i].name for i in np.flatnonzero(batched)]
        quotes["file"] = pd.Categorical.from_codes(batch_index[page_of[rows]], categories=names)
        findings.append(check_quotes(quotes, profile, rules, options.as_of, numbers))
    batch_findings = combine(findings)
    wanted = _context_by_file(batch_findings)
    part = Part([page.name for page in pages], [], batch_findings)
    parts_of_findings = [batch_findings]
    quote_row = 0  # where the next batched page's quotes start in the frame
    segment_start = 0
    for i, page in enumerate(pages):
        if alone[i]:
            if options.include_quotes and quotes is not None and quote_row > segment_start:
                part.quotes.append(quotes.iloc[segment_start:quote_row])
            segment_start = quote_row
            page_columns = _take(columns, slice(int(quote_starts[i]), int(quote_starts[i + 1])))
            own = ParseResult(columns=page_columns, unparsed=unparsed[i], lines=len(page.lines))
            result, found, page_quotes, sources = _check_page(page, own, options, profile, rules)
            parts_of_findings.append(found)
            if page_quotes is not None and len(page_quotes):
                part.quotes.append(page_quotes)
            part.sources.update(sources)
        else:
            count = int(quote_counts[i])
            result = FileResult(path=page.name, lines=line_count(page.lines), quotes=count)
            result.format, result.encoding = "text", page.encoding
            quote_row += count
            numbers_wanted = sorted(n for n in wanted.get(page.name, ()) if 0 < n <= len(page.lines))
            if numbers_wanted:
                texts = Lines(page.lines).texts([n - 1 for n in numbers_wanted])
                for n, text in zip(numbers_wanted, texts, strict=True):
                    part.sources[(page.name, n)] = text[:MAX_SOURCE_LINE]
        part.results.append(result)
    if options.include_quotes and quotes is not None and quote_row > segment_start:
        part.quotes.append(quotes if segment_start == 0 else quotes.iloc[segment_start:quote_row])
    if len(parts_of_findings) > 1:
        part.findings = pd.concat(
            [p for p in parts_of_findings if len(p)] or [batch_findings], ignore_index=True
        )
    return part


def _arrow(values: object) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(list(values), pa.large_string())  # type: ignore[call-overload]


def _context_by_file(findings: pd.DataFrame, cap: int = SOURCE_CONTEXT_PER_RULE) -> dict[str, set[int]]:
    """For each file, the lines whose source a report keeps (see findings.context_lines), in one pass
    over findings of many files in report order: those of each rule's first `cap` in that file."""
    wanted: dict[str, set[int]] = {}
    if not len(findings):
        return wanted
    kept: dict[tuple[str, str], int] = {}
    files, codes, lines = column_lists(findings, ("file", "rule", "line"))
    for file, code, line in zip(files, codes, lines, strict=True):
        key = (file, code)
        count = kept.get(key, 0)
        if count < cap:
            kept[key] = count + 1
            if line is not None:
                wanted.setdefault(file, set()).add(int(line))
    return wanted


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
    return _check_decoded(data, decoded, input_format, name, options, profile, rules)


def _check_decoded(
    data: bytes,
    decoded: Decoded,
    input_format: str,
    name: str,
    options: Options,
    profile: Profile,
    rules: list[Rule],
) -> Checked:
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
    del records  # in `quotes` now: freed before the findings are joined
    findings = [problems, record_problems, check_quotes(quotes, profile, rules, options.as_of)]
    del problems, record_problems  # held by `findings` alone from here
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
    _add_part(run, _single(result.path, (result, findings, quotes, sources)))


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
    files = findings["file"].to_numpy(dtype=object, na_value=None)
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
        if len(run.quotes) == 1:  # one file: no copy of its quotes
            report.quotes = run.quotes[0]
        else:
            report.quotes = pd.concat(run.quotes, ignore_index=True) if run.quotes else empty_frame()
        files = report.quotes["file"]
        if isinstance(files.dtype, pd.CategoricalDtype) and len(files.cat.categories) > 1:
            # Pages checked together share one categorical; files checked apart join as text.
            report.quotes["file"] = files.astype(object)
    return report


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
    "Part",
    "check_bytes",
    "check_frame",
    "check_input",
    "check_inputs",
    "check_path",
    "check_paths",
    "check_text",
    "frame_numbers",
    "save_report",
]
