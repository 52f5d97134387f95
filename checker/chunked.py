"""Large text pages checked a chunk of lines at a time, in bounded memory, with the same findings.

A page bigger than LARGE_FILE_BYTES is read in chunks of about CHUNK_BYTES cut at line breaks.
Each chunk is decoded and run through the engine (checker.engine) with its true line numbers, by
the rules whose scope is one quote. Page-scope rules need the whole page: the first pass keeps
only each quote's page keys (symbol, kind, line); afterwards the lines holding the quotes the
page rules select are read again, and the engine runs the page rules on those quotes with the
whole page's keys, so the findings are exactly those of checking the page whole
(tests/test_fast_paths.py compares them).

Used for plain (not compressed) UTF-8 text files only, and not when every quote is to be kept in
the report (`include_quotes`); any other input is read whole as before.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_pa_array
from checker.checked import QUOTE_SCOPE, FileCheck
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

LARGE_FILE_BYTES = 64 * 2**20
CHUNK_BYTES = 8 * 2**20
# Between these sizes a page is chunked only when its findings are dense: memory grows with the
# number of findings, and checking a page whole is faster, so a mostly clean page is read whole.
DENSE_FILE_BYTES = 16 * 2**20
SAMPLE_BYTES = 1 * 2**20
DENSE_FINDINGS_PER_QUOTE = 0.25
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


def _dense(checker: Checker, stream: BinaryIO, name: str) -> bool:
    """Whether the page's first SAMPLE_BYTES draw more than DENSE_FINDINGS_PER_QUOTE findings a quote
    (by the quote-scope rules: a sample says nothing of the page as a whole)."""
    stream.seek(0)
    data = stream.read(SAMPLE_BYTES)
    cut = data.rfind(b"\n")
    text = (data[: cut + 1] if cut >= 0 else data).decode("utf-8", errors="replace")
    lines = line_array(text)
    chunk = checker.check_lines(lines.slice(0, max(len(lines) - 1, 0)), name, 1, QUOTE_SCOPE)
    return len(chunk.findings) > DENSE_FINDINGS_PER_QUOTE * max(len(chunk.quotes), 1)


def _eligible(checker: Checker, path: Path, stream: BinaryIO, size: int) -> bool:
    """Whether the file open in `stream` is one this module checks (large, plain UTF-8 text)."""
    options = checker.options
    if not DENSE_FILE_BYTES <= size <= options.max_decompressed_size:  # the cap refuses the rest
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

    if detect_format(str(path), decoded.text, options.input_format) != "text":
        return False
    return size >= LARGE_FILE_BYTES or _dense(checker, stream, str(path))


def check_large_file(
    checker: Checker, path: Path, name: str, chunk_bytes: int = CHUNK_BYTES, force: bool = False
) -> FileCheck | None:
    """Check a large text file chunk by chunk; None when the file is not one to chunk.

    `force` chunks a file of any size (for tests). The file is opened once, as the whole-file
    reader opens it (regular files only, without blocking), and every pass reads that descriptor:
    a file swapped for another, or for a FIFO, between the passes is never read. One that cannot
    be opened, or fails to read, is left to the whole-file reader (None), which says why.
    """
    if not force:
        if checker.options.include_quotes:
            return None
        try:
            if path.stat().st_size < DENSE_FILE_BYTES:  # most pages: no need to open them here
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
            return _check_chunks(checker, stream, name, chunk_bytes)
        except OSError:
            return None


def _check_chunks(checker: Checker, stream: BinaryIO, name: str, chunk_bytes: int) -> FileCheck | None:
    """check_large_file's work on the open file."""
    parts: list[pd.DataFrame] = []
    sources: dict[tuple[str, int], str] = {}
    context_kept: dict[str, int] = {}  # findings given source context so far, by rule
    symbols: list[pa.Array] = []
    kinds: list[pa.Array] = []
    quote_lines: list[np.ndarray] = []
    first_line = 1
    encoding, bom, total_lines, has_text = "utf-8", False, 0, False
    pieces = list(_chunk_offsets(stream, chunk_bytes))
    for index, (offset, data) in enumerate(_read_pieces(stream, pieces)):
        last = index == len(pieces) - 1
        text, chunk_encoding, chunk_bom, problems = _decode_chunk(data, index == 0)
        if index and chunk_encoding != "utf-8":  # decode took a later chunk for UTF-16: read it whole
            return None
        if index == 0:
            encoding, bom = chunk_encoding, chunk_bom
            if text.startswith("\ufeff"):
                text = text[1:]
        has_text = has_text or bool(text)
        lines = line_array(text)
        if not last:  # the chunk ends with its last line's break: no empty line after it
            lines = lines.slice(0, len(lines) - 1)
        chunk = checker.check_lines(lines, name, first_line, QUOTE_SCOPE)
        chunk_findings = chunk.findings
        if problems:
            moved = [
                DecodeProblem(p.byte_offset + offset, p.line + first_line - 1, p.column, p.raw, p.reason)
                for p in problems
            ]
            chunk_findings = with_decode_findings(chunk_findings, moved, name, chunk_encoding)
        parts.append(chunk_findings)
        _add_sources_for(sources, context_lines(chunk_findings, context_kept), lines, first_line, name)
        if problems:
            _add_sources_for(sources, {p.line + first_line - 1 for p in problems}, lines, first_line, name)
        frame = chunk.quotes
        symbols.append(as_pa_array(frame["symbol"]).cast(pa.string()))  # 32-bit offsets: half the size
        # build_frame's kinds are INDEX or STOCK: one byte a quote is enough to tell them apart.
        kinds.append(
            pc.equal(as_pa_array(frame["kind"]), pa.scalar(INDEX, pa.large_string())).cast(pa.int8())
        )
        quote_lines.append(frame["line"].to_numpy())
        first_line += len(lines)
        total_lines += line_count(lines) if last else len(lines)
        del frame, chunk, lines, text
        pa.default_memory_pool().release_unused()  # hand the chunk's memory back before the next
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
        parts.append(_page_findings(checker, stream, name, pieces, page, sources))
    if not quotes:
        parts.append(no_quotes_finding(name, total_lines))
    result = FileResult(path=name, lines=total_lines if has_text else 0, quotes=quotes)
    result.format = "text"
    result.encoding = f"{encoding} with BOM" if bom else encoding
    return FileCheck(result, combine(parts), None, sources)


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
    page: PageKeys,
    sources: dict[tuple[str, int], str],
) -> pd.DataFrame:
    """The page rules' findings over the whole file: the lines of the quotes they select read again."""
    selected = checker.page_rows(page)
    if not selected.any():
        return combine([])
    wanted = np.unique(page.lines[selected])
    rows = np.flatnonzero(np.isin(page.lines, wanted))  # every quote on those lines, in page order
    texts: list[pa.LargeStringArray] = []
    first_line = 1
    for index, (_offset, data) in enumerate(_read_pieces(stream, pieces)):
        text = _decode_chunk(data, index == 0)[0]
        if index == 0 and text.startswith("\ufeff"):
            text = text[1:]
        lines = line_array(text)
        if index < len(pieces) - 1:
            lines = lines.slice(0, len(lines) - 1)
        inside = wanted[(wanted >= first_line) & (wanted < first_line + len(lines))]
        if len(inside):
            texts.append(lines.take(pa.array(inside - first_line, pa.int64())))
        first_line += len(lines)
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
    return found
