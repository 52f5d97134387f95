"""Bytes to text: encodings, byte order marks, binary files, and the bytes that do not decode."""

from __future__ import annotations

import codecs
import re
import threading
from dataclasses import dataclass, field

_UTF16_BOMS = (
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# The most bytes one input may hold after decompression, unless the options say otherwise.
DEFAULT_MAX_DECOMPRESSED = 1 << 30  # 1 GiB
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
INVALID = "invalid"
NUL = "nul"

# Signatures of common binary formats; a text page never starts with one of these.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x7fELF", "an executable"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"BZh91AY&SY", "a bzip2 archive"),
)
# Control bytes that text does not contain (tab, line breaks, form feed and escape are allowed).
_CONTROL = bytes([*range(0, 9), *range(14, 27), *range(28, 32), 127])
_SAMPLE = 65536


@dataclass
class DecodeProblem:
    """A run of bytes that did not decode, or a run of NUL bytes (`reason` tells which)."""

    byte_offset: int
    line: int
    column: int
    raw: bytes
    reason: str = INVALID


@dataclass
class Decoded:
    """A decoded text and what went wrong decoding it."""

    text: str
    encoding: str
    problems: list[DecodeProblem] = field(default_factory=list)
    bom: bool = False


def binary_reason(data: bytes) -> str | None:
    """Why `data` is a binary file rather than text, or None when it looks like text."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"binary file ({what})"
    sample = data[:_SAMPLE]
    if not sample or _utf16_bom(data) is not None or _utf16_without_bom(data) is not None:
        return None
    control = len(sample) - len(sample.translate(None, _CONTROL))
    if control * 10 > len(sample):
        nul = sample.count(0)
        hint = "; UTF-16 without a byte order mark?" if nul * 3 > len(sample) else ""
        return f"binary file ({control} of the first {len(sample)} bytes are control bytes{hint})"
    replaced = sample.decode("utf-8", errors="replace").count("\ufffd")
    if replaced * 10 > len(sample) * 3:
        return f"binary file ({replaced} invalid UTF-8 sequences in the first {len(sample)} bytes)"
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    """utf-16-le or utf-16-be when `data` has no BOM but the NUL bytes of ASCII text in UTF-16."""
    sample = data[:_SAMPLE]
    half = len(sample) // 2
    if half < 2:
        return None
    # ASCII in UTF-16 puts a NUL in every other byte: odd bytes for little-endian, even for big.
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if odd * 10 >= half * 7 and even * 10 <= half:
        return "utf-16-le"
    if even * 10 >= half * 7 and odd * 10 <= half:
        return "utf-16-be"
    return None


def _utf16_bom(data: bytes) -> tuple[int, str] | None:
    """The UTF-16 byte order mark `data` starts with, if the rest is plausibly UTF-16."""
    for bom, name in _UTF16_BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            # Two stray bytes FF FE in front of a UTF-8 page must not turn it into CJK garbage:
            # quotes are ASCII, so UTF-16 text of this feed is full of NUL bytes; UTF-8 text has none.
            if body and body.count(0) * 16 >= len(body):
                return len(bom), name
    return None


_recording = threading.local()


def _record(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _recording.spans.append((error.start, error.end))
    return "\ufffd", error.end


codecs.register_error("quotecheck-record", _record)


def _breaks(text: str) -> tuple[int, int]:
    """How many line breaks `text` holds (LF, CRLF or lone CR) and where the last one ends."""
    count = text.count("\n") + text.count("\r") - text.count("\r\n")
    last = max(text.rfind("\n"), text.rfind("\r"))
    return count, last + 1


def decode(data: bytes) -> Decoded:
    """Decode bytes as UTF-8 (or UTF-16 with a BOM), replacing and recording undecodable bytes.

    Runs of NUL bytes are recorded too: they are valid UTF-8 but never part of a text page.
    Linear in the size of the data however many bytes are bad.
    """
    encoding, skip, bom = "utf-8", 0, False
    found = _utf16_bom(data)
    if found is not None:
        skip, encoding = found
        bom = True
    elif (guessed := _utf16_without_bom(data)) is not None:
        encoding = guessed
    elif data.startswith(codecs.BOM_UTF8):
        skip, bom = len(codecs.BOM_UTF8), True
    body = data[skip:] if skip else data
    _recording.spans = []
    try:
        text = body.decode(encoding, errors="quotecheck-record")
        spans = _merged(_recording.spans)
    finally:
        _recording.spans = []
    if "\x00" in text:
        spans.extend(_nul_spans(body, text, encoding))
        spans.sort()
    problems = _locate(body, spans, encoding, skip) if spans else []
    return Decoded(text=text, encoding=encoding, problems=problems, bom=bom)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int, str, int]]:
    """Adjacent bad byte runs as one span each, with how many replacement characters they became."""
    merged: list[tuple[int, int, str, int]] = []
    for start, end in spans:
        if merged and merged[-1][1] == start:
            first, _end, reason, count = merged[-1]
            merged[-1] = (first, end, reason, count + 1)
        else:
            merged.append((start, end, INVALID, 1))
    return merged


def _nul_spans(body: bytes, text: str, encoding: str) -> list[tuple[int, int, str, int]]:
    if encoding == "utf-8":  # a 0x00 byte is always a NUL character in UTF-8
        return [(m.start(), m.end(), NUL, m.end() - m.start()) for m in re.finditer(rb"\x00+", body)]
    spans, position, offset = [], 0, 0
    for match in re.finditer("\x00+", text):
        offset += len(text[position : match.start()].encode(encoding, errors="surrogatepass"))
        width = 2 * (match.end() - match.start())
        spans.append((offset, offset + width, NUL, match.end() - match.start()))
        offset += width
        position = match.end()
    return spans


def _locate(
    body: bytes, spans: list[tuple[int, int, str, int]], encoding: str, skip: int
) -> list[DecodeProblem]:
    """Line and column (in decoded characters) of each byte span, walking the body once."""
    problems = []
    position, line, column = 0, 1, 1
    for start, end, reason, characters in spans:
        if start < position:  # a NUL run inside an already reported span
            continue
        before = body[position:start].decode(encoding, errors="replace")
        count, last = _breaks(before)
        if count:
            line, column = line + count, 1 + len(before) - last
        else:
            column += len(before)
        problems.append(DecodeProblem(skip + start, line, column, body[start:end], reason))
        column += characters
        position = end
    return problems


def split_lines(text: str) -> list[str]:
    """Split text into lines the way an editor numbers them (LF, CRLF or a lone CR)."""
    return _LINE_BREAK.split(text)
