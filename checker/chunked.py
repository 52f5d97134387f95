"""Large text pages checked a chunk of lines at a time, in bounded memory, with the same findings.

A page of LARGE_FILE_BYTES or more is read in chunks of about CHUNK_BYTES cut at line breaks.
Each chunk is decoded and run through the engine (checker.engine) with its true line numbers, by
the rules whose scope is one quote; with several workers (the run's --jobs, when its files are
not spread over processes) that many chunks at once (MAX_WORKERS at most), in threads, their
results taken in order.
Page-scope rules need the whole page: the first pass keeps only each quote's page keys (symbol,
kind, line); afterwards the lines holding the quotes the page rules select are read again (from
the chunks that hold them only), and the engine runs the page rules on those quotes with the
whole page's keys, so the findings are exactly those of checking the page whole
(tests/test_fast_paths.py compares them, for one worker and two).

Used for plain (not compressed) UTF-8 text files only, and not when every quote is to be kept in
the report (`include_quotes` with `quotes_kept` "all"); with "shown", only the quotes the HTML
and SARIF reports use are kept (`_shown_quotes`). Any other input is read whole as before.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_pa_array
from checker.checked import QUOTE_SCOPE, FileCheck
from checker.config import SHOWN_QUOTES
from checker.findings import MAX_SOURCE_LINE, combine, context_lines
from checker.frame import build_frame
from checker.inputs.sources import open_regular
from checker.parse import Lines, line_array, line_count, parse_array
from checker.read import DecodeProblem, binary_reason, decode
from checker.report import FileResult
from checker.rules.registry import PageKeys
from checker.validate import no_quotes_finding, with_decode_findings
from checker.vocabulary import INDEX

if TYPE_CHECKING:
    from checker.engine import Checker

# From this size a text page is checked in chunks: in less memory than whole, and no slower (a
# chunk's lines, frame and findings stay in the caches' reach; `python -m benchmarks.floor`).
LARGE_FILE_BYTES = 16 * 2**20
CHUNK_BYTES = 4 * 2**20
# At most this many chunks are checked at once, whatever --jobs says: each holds a chunk's
# lines, frame and findings (about 75 MB at 4 MB a chunk of faulty quotes), and past a few
# threads the Python parts of a check, which hold the GIL, leave the others waiting.
MAX_WORKERS = 4
_GZIP_MAGIC = b"\x1f\x8b"


def _chunks(stream: BinaryIO, chunk_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(byte offset, bytes) of consecutive pieces of the file, each ending at a LF but the last."""
    offset = 0
    carry = b""
    stream.seek(0)
    while True:
        block = stream.read(chunk_bytes)
        if not block:
            if carry:
                yield offset, carry
            return
        data = carry + block
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        yield offset, data[: cut + 1]
        offset += cut + 1
        carry = data[cut + 1 :]


def _decode_chunk(data: bytes, first: bool) -> tuple[str, str, bool, list[DecodeProblem]]:
    """Text, encoding, BOM and problems of one chunk, located within the chunk.

    The first chunk is decoded as a whole file is (BOM, encoding guess); later ones as UTF-8, the
    encoding the first chunk settled on (other encodings are never chunked).
    """
    if first:
        decoded = decode(data)
        return decoded.text, decoded.encoding, decoded.bom, decoded.problems
    # A lone UTF-8 BOM at the start of a later chunk is text, as it would be in the whole file:
    # decode it behind a newline so that `decode` does not take it for a byte order mark.
    decoded = decode(b"\n" + data)
    problems = [
        DecodeProblem(p.byte_offset - 1, p.line - 1, p.column, p.raw, p.reason) for p in decoded.problems
    ]
    return decoded.text[1:], decoded.encoding, False, problems


def _eligible(checker: Checker, path: Path, stream: BinaryIO, size: int) -> bool:
    """Whether the file open in `stream` is one this module checks (large, plain UTF-8 text)."""
    options = checker.options
    if not LARGE_FILE_BYTES <= size <= options.max_decompressed_size:  # the cap refuses the rest
        return False
    head = stream.read(1 << 16)
    if head.startswith(_GZIP_MAGIC) or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if binary_reason(head) is not None:
        return False
    decoded = decode(head)
    if decoded.encoding != "utf-8":
        return False
    from checker.inputs.detect import detect_format

    return detect_format(str(path), decoded.text, options.input_format) == "text"


def check_large_file(
    checker: Checker,
    path: Path,
    name: str,
    chunk_bytes: int | None = None,
    force: bool = False,
    workers: int = 1,
) -> FileCheck | None:
    """Check a large text file chunk by chunk; None when the file is not one to chunk.

    `chunk_bytes` defaults to CHUNK_BYTES; `force` chunks a file of any size (for tests). The
    file is opened once, as the whole-file reader opens it (regular files only, without
    blocking), and every pass reads that descriptor:
    a file swapped for another, or for a FIFO, between the passes is never read. One that cannot
    be opened, or fails to read, is left to the whole-file reader (None), which says why.
    """
    if not force:
        options = checker.options
        if options.include_quotes and options.quotes_kept != "shown":  # every quote: read whole
            return None
        try:
            if path.stat().st_size < LARGE_FILE_BYTES:  # most pages: no need to open them here
                return None
        except OSError:
            return None
    opened = open_regular(path)
    if isinstance(opened, str):
        return None
    stream, size = opened
    with stream:
        try:
            if not force and not _eligible(checker, path, stream, size):
                return None
            workers = max(1, min(workers, MAX_WORKERS))
            return _check_chunks(checker, stream, name, chunk_bytes or CHUNK_BYTES, workers)
        except OSError:
            return None


@dataclass
class _Chunk:
    """One chunk checked by the quote-scope rules, with what the page's passes keep of it."""

    offset: int
    first_line: int
    lines: pa.LargeStringArray
    findings: pd.DataFrame
    problems: list[DecodeProblem]
    encoding: str
    bom: bool
    has_text: bool
    line_total: int
    symbols: pa.Array
    kinds: pa.Array
    quote_lines: np.ndarray
    quotes: pd.DataFrame | None  # the chunk's quote frame, when some of its quotes are kept


def _line_breaks(data: bytes) -> int | None:
    """How many lines a chunk that is not the last holds, from its bytes; None when a CR is in it
    (then the lines are only known once it is decoded and split as line_array splits them)."""
    return None if b"\r" in data else data.count(b"\n")


def _check_chunk(
    checker: Checker, name: str, index: int, offset: int, data: bytes, first_line: int, last: bool
) -> _Chunk | None:
    """Decode, split and check one chunk (safe to run beside others: it shares no state)."""
    text, encoding, bom, problems = _decode_chunk(data, index == 0)
    if index and encoding != "utf-8":  # decode took a later chunk for UTF-16: read it whole
        return None
    if index == 0 and text.startswith("\ufeff"):
        text = text[1:]
    lines = line_array(text)
    if not last:  # the chunk ends with its last line's break: no empty line after it
        lines = lines.slice(0, len(lines) - 1)
    chunk = checker.check_lines(lines, name, first_line, QUOTE_SCOPE)
    findings = chunk.findings
    if problems:
        moved = [
            DecodeProblem(p.byte_offset + offset, p.line + first_line - 1, p.column, p.raw, p.reason)
            for p in problems
        ]
        findings = with_decode_findings(findings, moved, name, encoding)
    frame = chunk.quotes
    return _Chunk(
        offset=offset,
        first_line=first_line,
        lines=lines,
        findings=findings,
        problems=problems,
        encoding=encoding,
        bom=bom,
        has_text=bool(text),
        line_total=line_count(lines) if last else len(lines),
        symbols=as_pa_array(frame["symbol"]).cast(pa.string()),  # 32-bit offsets: half the size
        # build_frame's kinds are INDEX or STOCK: one byte a quote is enough to tell them apart.
        kinds=pc.equal(as_pa_array(frame["kind"]), pa.scalar(INDEX, pa.large_string())).cast(pa.int8()),
        quote_lines=frame["line"].to_numpy(),
        quotes=frame if checker.options.include_quotes else None,
    )


def _checked_chunks(
    checker: Checker, stream: BinaryIO, name: str, pieces: list[tuple[int, int]], workers: int
) -> Iterator[_Chunk | None]:
    """Every chunk checked, in order; with `workers` > 1, that many at once in threads (the
    kernels of Arrow and numpy, which do most of the work, run outside the GIL), each chunk read
    and handed out once the ones before it have their first line number, and the next one read
    only once the oldest in flight is done (at most `workers` chunks in memory)."""
    first_line = 1
    if workers <= 1:
        for index, (offset, data) in enumerate(_read_pieces(stream, pieces)):
            chunk = _check_chunk(checker, name, index, offset, data, first_line, index == len(pieces) - 1)
            if chunk is None:
                yield None
                return
            first_line += len(chunk.lines)
            yield chunk
        return
    from concurrent.futures import Future, ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="quotecheck-chunk") as pool:
        pending: list[Future[_Chunk | None]] = []
        for index, (offset, data) in enumerate(_read_pieces(stream, pieces)):
            last = index == len(pieces) - 1
            pending.append(pool.submit(_check_chunk, checker, name, index, offset, data, first_line, last))
            breaks = _line_breaks(data)
            if breaks is None:  # lines counted only by splitting the chunk: wait for it
                chunk = pending[-1].result()
                breaks = len(chunk.lines) if chunk is not None else 0
            first_line += breaks
            if len(pending) >= workers:  # no more chunks in memory than threads to check them
                chunk = pending.pop(0).result()
                yield chunk
                if chunk is None:
                    return
        for future in pending:
            yield future.result()


def _check_chunks(
    checker: Checker, stream: BinaryIO, name: str, chunk_bytes: int, workers: int = 1
) -> FileCheck | None:
    """check_large_file's work on the open file."""
    parts: list[pd.DataFrame] = []
    sources: dict[tuple[str, int], str] = {}
    context_kept: dict[str, int] = {}  # findings given source context so far, by rule
    symbols: list[pa.Array] = []
    kinds: list[pa.Array] = []
    quote_lines: list[np.ndarray] = []
    encoding, bom, total_lines, has_text = "utf-8", False, 0, False
    pieces = list(_chunk_offsets(stream, chunk_bytes))
    spans: list[tuple[int, int]] = []  # each chunk's first line and number of lines
    kept: list[pd.DataFrame] = []  # the quotes the reports show (Options.quotes_kept "shown")
    quotes_before = 0
    for index, chunk in enumerate(_checked_chunks(checker, stream, name, pieces, workers)):
        if chunk is None:
            return None
        if index == 0:
            encoding, bom = chunk.encoding, chunk.bom
        has_text = has_text or chunk.has_text
        parts.append(chunk.findings)
        first_line, lines = chunk.first_line, chunk.lines
        context = context_lines(chunk.findings, context_kept)
        _add_sources_for(sources, context, lines, first_line, name)
        if chunk.quotes is not None:
            kept.append(_shown_quotes(chunk.quotes, context, quotes_before))
        quotes_before += len(chunk.symbols)
        if chunk.problems:
            lines_with = {p.line + first_line - 1 for p in chunk.problems}
            _add_sources_for(sources, lines_with, lines, first_line, name)
        symbols.append(chunk.symbols)
        kinds.append(chunk.kinds)
        quote_lines.append(chunk.quote_lines)
        spans.append((first_line, len(lines)))
        total_lines += chunk.line_total
        del chunk, lines
    quotes = sum(len(s) for s in symbols)
    if checker.page_rules and quotes:
        page = PageKeys(
            file_codes=np.zeros(quotes, dtype=np.int64),
            kinds=pa.concat_arrays(kinds),
            symbols=pa.concat_arrays(symbols),
            lines=np.concatenate(quote_lines),
        )
        # the page's keys hold them from here
        symbols.clear()
        kinds.clear()
        quote_lines.clear()
        found, reread = _page_findings(checker, stream, name, pieces, spans, page, sources)
        parts.append(found)
        if checker.options.include_quotes and reread is not None:
            kept.append(_shown_quotes(reread, context_lines(found, context_kept), quotes))
    if not quotes:
        parts.append(no_quotes_finding(name, total_lines))
    result = FileResult(path=name, lines=total_lines if has_text else 0, quotes=quotes)
    result.format = "text"
    result.encoding = f"{encoding} with BOM" if bom else encoding
    return FileCheck(
        result, combine(parts), _joined_quotes(kept) if checker.options.include_quotes else None, sources
    )


def _shown_quotes(frame: pd.DataFrame, lines: set[int], before: int) -> pd.DataFrame:
    """The quotes of a chunk the reports use: among the page's first SHOWN_QUOTES (`before` of
    its quotes come ahead of the chunk's), or on one of `lines` (those of each rule's first
    findings, whose repairs the reports list)."""
    wanted = np.isin(frame["line"].to_numpy(), np.fromiter(lines, dtype=np.int64, count=len(lines)))
    wanted[: max(SHOWN_QUOTES - before, 0)] = True
    return frame[wanted]


def _joined_quotes(kept: list[pd.DataFrame]) -> pd.DataFrame | None:
    """The kept quotes of a page in page order, each once (the page rules' pass reads some again)."""
    if not kept:
        return None
    joined = pd.concat(kept, ignore_index=True)
    joined = joined.drop_duplicates(subset=["line", "column"], keep="first")
    return joined.sort_values(["line", "column"], kind="stable").reset_index(drop=True)


def _chunk_offsets(stream: BinaryIO, chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """(offset, length) of each chunk, cut at LFs, without keeping the data."""
    for offset, data in _chunks(stream, chunk_bytes):
        yield offset, len(data)


def _read_pieces(stream: BinaryIO, pieces: list[tuple[int, int]]) -> Iterator[tuple[int, bytes]]:
    for offset, length in pieces:
        stream.seek(offset)
        yield offset, stream.read(length)


def _add_sources_for(
    sources: dict[tuple[str, int], str],
    numbers: set[int],
    lines: pa.LargeStringArray,
    first_line: int,
    name: str,
) -> None:
    wanted = sorted(n for n in numbers if first_line <= n < first_line + len(lines))
    if not wanted:
        return
    texts = Lines(lines).texts([n - first_line for n in wanted])
    for number, text in zip(wanted, texts, strict=True):
        sources.setdefault((name, number), text[:MAX_SOURCE_LINE])


def _page_findings(
    checker: Checker,
    stream: BinaryIO,
    name: str,
    pieces: list[tuple[int, int]],
    spans: list[tuple[int, int]],
    page: PageKeys,
    sources: dict[tuple[str, int], str],
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The page rules' findings over the whole file, with the quotes read again for them (None:
    no quote was): the lines of the quotes they select read again (`spans`: each chunk's first
    line and number of lines, from the first pass)."""
    selected = checker.page_rows(page)
    if not selected.any():
        return combine([]), None
    wanted = np.unique(page.lines[selected])
    rows = np.flatnonzero(np.isin(page.lines, wanted))  # every quote on those lines, in page order
    texts: list[pa.LargeStringArray] = []
    for index, (offset, length) in enumerate(pieces):
        first_line, count = spans[index]
        inside = wanted[(wanted >= first_line) & (wanted < first_line + count)]
        if not len(inside):
            continue
        stream.seek(offset)
        text = _decode_chunk(stream.read(length), index == 0)[0]
        if index == 0 and text.startswith("\ufeff"):
            text = text[1:]
        lines = line_array(text)
        texts.append(lines.take(pa.array(inside - first_line, pa.int64())))
    picked = pa.concat_arrays(texts)
    parsed = parse_array(picked, 1)
    columns = dict(parsed.columns)
    columns["line"] = wanted[np.asarray(columns["line"]) - 1]
    frame, numbers = build_frame(columns, name, checker.profile)
    if len(frame) != len(rows):  # cannot happen: the same lines parse the same way
        raise RuntimeError(f"{name}: {len(frame)} quotes on re-read lines, {len(rows)} on the first pass")
    found = checker.page_findings(frame, numbers, page.at(rows))
    needed = {int(n) for n in found["line"].dropna().unique()}
    at = [i for i, number in enumerate(wanted.tolist()) if number in needed]
    for i, text in zip(at, Lines(picked).texts(at), strict=True):
        sources.setdefault((name, int(wanted[i])), text[:MAX_SOURCE_LINE])
    return found, frame
