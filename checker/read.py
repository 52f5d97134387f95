"""Bytes to text: encodings, byte order marks, and the bytes that do not decode."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass
class DecodeProblem:
    """A run of bytes that did not decode."""

    byte_offset: int
    line: int
    column: int
    raw: bytes


@dataclass
class Decoded:
    """A decoded text and what went wrong decoding it."""

    text: str
    encoding: str
    problems: list[DecodeProblem] = field(default_factory=list)
    has_nul: bool = False


def decode(data: bytes) -> Decoded:
    """Decode bytes as UTF-8 (or UTF-16 with a BOM), replacing and recording undecodable bytes."""
    encoding = "utf-8"
    body = data
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding, body = name, data[len(bom) :]
            break
    try:
        text = body.decode(encoding)
        return Decoded(text=text, encoding=encoding, has_nul="\x00" in text)
    except UnicodeDecodeError:
        pass
    problems: list[DecodeProblem] = []
    pieces: list[str] = []
    offset_base = len(data) - len(body)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    position = 0
    line, column = 1, 1
    while position < len(body):
        try:
            chunk = decoder.decode(body[position:], final=True)
            pieces.append(chunk)
            break
        except UnicodeDecodeError as error:
            good = body[position : position + error.start].decode(encoding, errors="replace")
            pieces.append(good)
            line += good.count("\n")
            column = len(good) - good.rfind("\n") if "\n" in good else column + len(good)
            bad = body[position + error.start : position + error.end]
            problems.append(DecodeProblem(offset_base + position + error.start, line, column, bad))
            pieces.append("\ufffd")
            column += 1
            position += error.end
            decoder.reset()
    text = "".join(pieces)
    return Decoded(text=text, encoding=encoding, problems=problems, has_nul="\x00" in text)
