"""The engine: the one pipeline from an input to its findings, used by every path of a run.

A `Checker` is built once from the run's Options (the profile loaded, the enabled rules
chosen). Its core is one step, `check_parsed`: parsed quotes (with their lines) become the
quote frame, and every rule of the asked scopes runs on it. Everything else feeds that step:

- a whole text page is one chunk (`check_text`); an HTML page is the chunk of its visible text;
- a large page is many chunks (checker.chunked), each run through the quote-scope rules, then
  the page-scope rules once on the quotes they select from the whole page's keys;
- small pages are checked a batch at a time, as one chunk whose quotes carry their page;
- CSV and JSON records are framed by checker.tabular and checked by `check_frame`;
- the parallel path (checker.parallel) builds one Checker per worker process.

Rules say what they look at (`Rule.scope`): one quote, or a whole page; page rules name the
quotes they need (`Rule.select`), so the engine can give them those of a page it never holds
whole. The Python API (checker.api) gathers the engine's results into a Report.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa

from checker.arrays import as_large_text
from checker.checked import (
    QUOTE_SCOPE,
    ChunkResult,
    FileCheck,
    Part,
    Sources,
    internal_error,
)
from checker.config import Options
from checker.findings import MAX_SOURCE_LINE, SOURCE_CONTEXT_PER_RULE, column_lists, combine, context_lines
from checker.frame import build_frame
from checker.inputs.detect import detect_format
from checker.inputs.sources import InputRef, RawInput, read_input, read_stream
from checker.numeric import Numbers
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
from checker.report import FileResult
from checker.rules.registry import PageKeys, Rule, Scope
from checker.validate import (
    ALL_SCOPES,
    check_quotes,
    file_finding,
    no_quotes_finding,
    unparsed_findings,
    with_decode_findings,
)

# Small text pages are checked BATCH_PAGES at a time (at most BATCH_BYTES of them): parsed,
# framed and run through the rules together, which costs about as much as one page does alone.
BATCH_PAGES = 256
BATCH_BYTES = 8 << 20
BATCH_MAX_BYTES = 1 << 20  # a page larger than this is checked on its own
# A str handed to check_text may hold lone surrogates, which no frame or report can carry.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class _Page:
    """A small text page, read and split into lines, waiting to be checked with others."""

    name: str
    lines: pa.LargeStringArray
    encoding: str

    @property
    def size(self) -> int:
        return int(self.lines.nbytes)


class Checker:
    """The pipeline for one run's options: the profile and the enabled rules, chosen once."""

    def __init__(self, options: Options | None = None, profile: Profile | None = None) -> None:
        self.options = options or Options()
        self.profile = profile or load_profile(self.options.profile)
        self.rules: list[Rule] = self.options.policy.enabled_rules()
        self.page_rules = [rule for rule in self.rules if rule.scope == "page"]
        # Threads a large page's chunks are checked in (checker.chunked); the run sets it to its
        # --jobs when the files themselves are not spread over processes.
        self.chunk_workers = 1

    # -- the core -------------------------------------------------------------------------------
    def check_frame(
        self,
        quotes: pd.DataFrame,
        numbers: dict[str, Numbers] | None = None,
        scopes: frozenset[Scope] = ALL_SCOPES,
        page: PageKeys | None = None,
    ) -> pd.DataFrame:
        """The findings of the enabled rules of `scopes` on a quote frame (see validate)."""
        return check_quotes(quotes, self.profile, self.rules, self.options.as_of, numbers, page, scopes)

    def check_parsed(
        self, parsed: ParseResult, name: str, scopes: frozenset[Scope] = ALL_SCOPES
    ) -> ChunkResult:
        """Parsed quotes of one chunk framed and checked; the unparsed stretches are findings too."""
        quotes, numbers = build_frame(parsed.columns, name, self.profile)
        findings = combine(
            [unparsed_findings(parsed.unparsed, name), self.check_frame(quotes, numbers, scopes)]
        )
        return ChunkResult(quotes, numbers, findings)

    def check_lines(
        self,
        lines: pa.LargeStringArray,
        name: str,
        first_line: int = 1,
        scopes: frozenset[Scope] = ALL_SCOPES,
    ) -> ChunkResult:
        """One chunk of a page's lines (an Arrow string array; `first_line` is its first's number)."""
        return self.check_parsed(parse_array(lines, first_line), name, scopes)

    def page_rows(self, page: PageKeys) -> np.ndarray:
        """Which quotes of a page the enabled page rules need in full (a boolean mask)."""
        wanted = np.zeros(len(page), dtype=bool)
        for rule in self.page_rules:
            if rule.select is not None and rule.check is not None:
                wanted |= rule.select(page)
        return wanted

    def page_findings(
        self, quotes: pd.DataFrame, numbers: dict[str, Numbers], page: PageKeys
    ) -> pd.DataFrame:
        """The page rules' findings on the quotes they selected (`page.rows` of the page's keys).

        Every enabled rule runs on those quotes, so a page rule that defers to another rule's
        finding on the same quote sees it; only the page rules' findings are kept."""
        found = self.check_frame(quotes, numbers, ALL_SCOPES, page)
        codes = [rule.code for rule in self.page_rules]
        return found[found["rule"].isin(codes)].reset_index(drop=True)

    # -- one input -------------------------------------------------------------------------------
    def check_input(self, ref: InputRef, stdin: BinaryIO | None = None) -> FileCheck:
        """Check one input (a file, stdin or an empty directory); every failure becomes a finding."""
        try:
            if ref.path is not None and not ref.is_stdin and ref.problem is None:
                from checker.chunked import check_large_file

                checked = check_large_file(self, Path(ref.path), ref.name, workers=self.chunk_workers)
                if checked is not None:  # a large text page, checked a chunk at a time
                    return checked
            raw = read_input(ref, self.options.max_decompressed_size, stdin)
            return self.check_raw(raw, ref.name)
        except Exception as error:  # the last resort: a finding and exit status 3, never a traceback
            return internal_error(ref.name, error)

    def check_stream(self, name: str, stream: BinaryIO) -> FileCheck:
        """Check the bytes of a binary stream (gzip or not, any encoding and input format)."""
        try:
            return self.check_raw(read_stream(name, stream, self.options.max_decompressed_size), name)
        except Exception as error:  # the last resort: a finding, never a traceback
            return internal_error(name, error)

    def check_text(self, text: str, name: str) -> FileCheck:
        """Check one decoded text page."""
        try:
            text = _LONE_SURROGATE.sub("\ufffd", text)  # only a caller's str can hold one
            return self._text(text, name)
        except Exception as error:  # the last resort: a finding, never a traceback
            return internal_error(name, error)

    def check_records_frame(self, frame: pd.DataFrame, name: str) -> FileCheck:
        """Check a DataFrame of already-parsed quotes (at least symbol, price, direction, change, percent)."""
        from checker.tabular import quotes_from_records

        try:
            quotes, problems = quotes_from_records(frame, name, self.profile)
            findings = combine([problems, self.check_frame(quotes)])
            result = FileResult(path=name, format="frame", lines=len(frame), quotes=len(quotes))
            return FileCheck(result, findings, quotes)
        except Exception as error:  # the last resort: a finding, never a traceback
            return internal_error(name, error)

    def check_raw(self, raw: RawInput, name: str) -> FileCheck:
        """Check the bytes read from an input; a read problem is a QC901 finding beside whatever was read."""
        if not raw.complete:
            message = raw.problem or f"{name}: cannot read"
            result = FileResult(path=name, status="unreadable", message=message)
            return FileCheck(result, file_finding("QC901", name, message))
        checked = self._data(raw.data, name)
        if raw.problem:
            checked.result.status, checked.result.message = "unreadable", raw.problem
            checked.findings = combine([checked.findings, file_finding("QC901", name, raw.problem)])
        return checked

    def _data(self, data: bytes, name: str) -> FileCheck:
        if not data:
            result = FileResult(path=name, format=self.options.input_format or "text")
            return FileCheck(result, file_finding("QC903", name, f"{name}: empty file (0 bytes)"))
        decoded = decode(data)
        input_format = detect_format(name, decoded.text, self.options.input_format)
        return self._decoded(data, decoded, input_format, name)

    def _decoded(self, data: bytes, decoded: Decoded, input_format: str, name: str) -> FileCheck:
        if input_format == "text":
            checked = self._text(decoded.text, name)
        elif input_format == "html":
            checked = self._html(decoded.text, name)
        else:
            checked = self._records(decoded.text, name, input_format)
        result = checked.result
        result.format = input_format
        result.encoding = f"{decoded.encoding} with BOM" if decoded.bom else decoded.encoding
        if decoded.problems:
            checked.findings = with_decode_findings(
                checked.findings, decoded.problems, name, decoded.encoding
            )
            lines = split_lines(decoded.text)
            for line in {p.line for p in decoded.problems}:
                if 0 < line <= len(lines) and input_format != "html":
                    checked.sources.setdefault((name, line), lines[line - 1][:MAX_SOURCE_LINE])
        reason = binary_reason(data)
        if reason is not None:
            # A binary file is unreadable; but quotes found in it are kept, so a page with junk
            # spliced in never loses its quotes to the verdict.
            if not result.quotes:
                message = f"{name}: {reason}; not checked"
                result = FileResult(path=name, status="unreadable", message=message, format="binary")
                return FileCheck(result, file_finding("QC901", name, message))
            message = f"{name}: {reason}; the {result.quotes} quotes found in it were checked"
            result.status, result.message = "unreadable", message
            checked.findings = combine([checked.findings, file_finding("QC901", name, message)])
        return checked

    def _text(self, text: str, name: str) -> FileCheck:
        if text.startswith("\ufeff"):
            text = text[1:]
        parsed, lines = parse_text(text)
        return self._page(self.check_parsed(parsed, name), lines, bool(text), name)

    def _html(self, text: str, name: str) -> FileCheck:
        """Check an HTML page: its visible text, with findings at the lines of the HTML source."""
        from checker.inputs.htmlpage import html_text, remap

        if text.startswith("\ufeff"):
            text = text[1:]
        page = html_text(text)
        parsed = remap(parse_lines(page.texts), page)
        checked = self._page(self.check_parsed(parsed, name), page.source_lines, bool(text), name)
        if page.stopped is None:
            return checked
        line, column, why = page.stopped
        message = f"the HTML parser gave up here ({why}); text after it was not checked"
        stopped = file_finding("QC906", name, message, line=line)
        stopped["column"] = pd.array([column], dtype="Int64")
        checked.findings = combine([checked.findings, stopped])
        return checked

    def _records(self, text: str, name: str, input_format: str) -> FileCheck:
        """Check a CSV, TSV, JSON or JSON Lines file of already-parsed quotes."""
        from checker.inputs.records import csv_records, json_records
        from checker.tabular import quotes_from_records

        lines = split_lines(text)
        if input_format in ("csv", "tsv"):
            records, problems = csv_records(text, name, "\t" if input_format == "tsv" else ",")
        else:
            records, problems = json_records(text, name, input_format == "jsonl", lines)
        quotes, record_problems = quotes_from_records(records, name, self.profile)
        del records  # in `quotes` now: freed before the findings are joined
        findings = [problems, record_problems, self.check_frame(quotes)]
        del problems, record_problems  # held by `findings` alone from here
        if not len(quotes):
            findings.append(no_quotes_finding(name, line_count(lines), records=True))
        combined = combine(findings)
        result = FileResult(path=name, lines=line_count(lines), quotes=len(quotes))
        return FileCheck(result, combined, quotes, source_lines(combined, lines, name))

    def _page(self, chunk: ChunkResult, lines: list[str] | Lines, has_text: bool, name: str) -> FileCheck:
        """A page checked whole as one chunk: its QC903 when it holds no quote, its source lines."""
        findings = chunk.findings
        if not len(chunk.quotes):
            findings = combine([findings, no_quotes_finding(name, line_count(lines))])
        result = FileResult(path=name, lines=line_count(lines) if has_text else 0, quotes=len(chunk.quotes))
        return FileCheck(result, findings, chunk.quotes, source_lines(findings, lines, name))

    # -- many inputs -----------------------------------------------------------------------------
    def check_inputs(self, refs: Iterable[InputRef], stdin: BinaryIO | None = None) -> Iterator[Part]:
        """Check every input, in input order: small text pages a batch at a time, others one by one.

        The findings, results, quotes and source lines are those of checking each input on its own.
        """
        pending: list[_Page] = []
        names: set[str] = set()
        size = 0
        for ref in refs:
            prepared = self._prepare(ref, stdin)
            if pending and (
                not isinstance(prepared, _Page)
                or prepared.name in names  # a batch holds a page once: repeats are found per page
                or len(pending) >= BATCH_PAGES
                or size + prepared.size > BATCH_BYTES
            ):
                yield from self._check_pages(pending)
                pending, names, size = [], set(), 0
            if isinstance(prepared, _Page):
                pending.append(prepared)
                names.add(prepared.name)
                size += prepared.size
            else:
                yield Part.single(prepared)
        if pending:
            yield from self._check_pages(pending)

    def _prepare(self, ref: InputRef, stdin: BinaryIO | None) -> _Page | FileCheck:
        """A small plain text page ready for a batch; any other input checked (as check_input does)."""
        if ref.path is None or ref.problem is not None:
            return self.check_input(ref, stdin)
        try:
            info = os.stat(ref.path)
        except (OSError, ValueError):
            return self.check_input(ref, stdin)
        if not stat.S_ISREG(info.st_mode) or info.st_size > BATCH_MAX_BYTES:
            return self.check_input(ref, stdin)
        name = ref.name
        try:
            raw = read_input(ref, self.options.max_decompressed_size, stdin)
            if not raw.complete or raw.problem or not raw.data or len(raw.data) > BATCH_MAX_BYTES:
                return self.check_raw(raw, name)
            data = raw.data
            decoded = decode(data)
            input_format = detect_format(name, decoded.text, self.options.input_format)
            text = decoded.text[1:] if decoded.text.startswith("\ufeff") else decoded.text
            if (
                input_format != "text"
                or decoded.problems
                or not text
                or text.startswith("\ufeff")
                or binary_reason(data) is not None
            ):
                return self._decoded(data, decoded, input_format, name)
            encoding = f"{decoded.encoding} with BOM" if decoded.bom else decoded.encoding
            return _Page(name, line_array(text), encoding)
        except Exception as error:  # the last resort: a finding and exit status 3, never a traceback
            return internal_error(name, error)

    def _check_pages(self, pages: list[_Page]) -> list[Part]:
        """Check pages together; should that fail, each on its own (so a failure is one page's finding)."""
        try:
            return [self._check_batch(pages)]
        except Exception:
            return [Part.single(self._check_page(page, None)) for page in pages]

    def _check_page(self, page: _Page, parsed: ParseResult | None) -> FileCheck:
        """One page on its own (parsed already, or not yet), as a text page is checked."""
        try:
            if parsed is None:
                parsed = parse_array(page.lines)
            checked = self._page(self.check_parsed(parsed, page.name), Lines(page.lines), True, page.name)
            checked.result.format, checked.result.encoding = "text", page.encoding
            return checked
        except Exception as error:  # the last resort: a finding and exit status 3, never a traceback
            return internal_error(page.name, error)

    def _check_batch(self, pages: list[_Page]) -> Part:
        """Check pages as one chunk: one parse, one frame and one pass of the rules for all of them.

        Quote rules look at one quote at a time; a page whose quotes a page rule selects (a
        repeated symbol) is checked on its own, so each page rule sees its page alone, as is a
        page with no quote (its finding is about the page).
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
        if len(page_of) and self.page_rules:
            symbols = as_large_text(columns["symbol_text"])
            keys = PageKeys(page_of.astype(np.int64), symbols, symbols, columns["line"])
            alone[np.unique(page_of[self.page_rows(keys)])] = True
        batched = ~alone
        in_batch = batched[page_of]
        batch_index = np.cumsum(batched) - 1  # each batched page's code in the frame's file column
        findings = [
            unparsed_findings(unparsed[i], pages[i].name) for i in np.flatnonzero(batched) if unparsed[i]
        ]
        quotes = None
        if batched.any():
            rows = np.flatnonzero(in_batch)
            taken = _take(columns, rows if len(rows) < len(page_of) else slice(0, len(page_of)))
            quotes, numbers = build_frame(taken, "", self.profile)
            names = [pages[i].name for i in np.flatnonzero(batched)]
            quotes["file"] = pd.Categorical.from_codes(batch_index[page_of[rows]], categories=pd.Index(names))
            findings.append(self.check_frame(quotes, numbers, QUOTE_SCOPE))
        batch_findings = combine(findings)
        wanted = _context_by_file(batch_findings)
        part = Part([page.name for page in pages], [], batch_findings)
        parts_of_findings = [batch_findings]
        include_quotes = self.options.include_quotes
        quote_row = 0  # where the next batched page's quotes start in the frame
        segment_start = 0
        for i, page in enumerate(pages):
            if alone[i]:
                if include_quotes and quotes is not None and quote_row > segment_start:
                    part.quotes.append(quotes.iloc[segment_start:quote_row])
                segment_start = quote_row
                page_columns = _take(columns, slice(int(quote_starts[i]), int(quote_starts[i + 1])))
                own = ParseResult(columns=page_columns, unparsed=unparsed[i], lines=len(page.lines))
                checked = self._check_page(page, own)
                result = checked.result
                parts_of_findings.append(checked.findings)
                if checked.quotes is not None and len(checked.quotes):
                    part.quotes.append(checked.quotes)
                part.sources.update(checked.sources)
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
        if include_quotes and quotes is not None and quote_row > segment_start:
            part.quotes.append(quotes if segment_start == 0 else quotes.iloc[segment_start:quote_row])
        if len(parts_of_findings) > 1:
            part.findings = pd.concat(
                [p for p in parts_of_findings if len(p)] or [batch_findings], ignore_index=True
            )
        return part


def source_lines(findings: pd.DataFrame, lines: list[str] | Lines, name: str) -> Sources:
    """The source text of the lines a report shows as the findings' context."""
    wanted = sorted(n for n in context_lines(findings, {}) if 0 < n <= len(lines))
    if isinstance(lines, Lines):  # one Arrow take instead of one lookup per line
        texts = lines.texts([n - 1 for n in wanted])
        return {(name, n): text[:MAX_SOURCE_LINE] for n, text in zip(wanted, texts, strict=True)}
    return {(name, n): lines[n - 1][:MAX_SOURCE_LINE] for n in wanted}


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


__all__ = ["BATCH_PAGES", "Checker", "ChunkResult", "FileCheck", "Part", "internal_error"]
