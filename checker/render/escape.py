"""How untrusted text (scraped pages, CSV/JSON fields and keys, file names) is made safe to show.

Every renderer that writes text for a terminal, a CI log or a summary page passes each piece of
untrusted text through `display`; the JSON report uses `json_safe` on its encoded text.

The scheme, in one place:

- Characters that act instead of showing are written as visible escapes: C0 controls and DEL
  (`\\t`, `\\n`, `\\r`, else `\\x1b` ...), C1 controls (`\\x9b`), the bidirectional controls
  U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C and the line and paragraph separators
  U+2028/2029 (`\\u202e`), and lone surrogates. A surrogate U+DC80-U+DCFF is what Python makes of
  an undecodable byte of a file name (surrogateescape), so it is shown as that byte, `\\x80`..`\\xff`;
  any other lone surrogate as `\\ud800`.
- In CI logs a line is a command when it starts with `::` (after blanks), or anywhere it holds
  `##[` (the runner's older syntax), so `display` also writes a leading `::` as `\\x3a:` and
  `##[` as `#\\x23[`.
- Everything else is kept as is, ordinary non-ASCII (`▲`, Urdu) included, and so is a backslash:
  a displayed `\\x1b` may therefore be those four characters in the data. The JSON report is the
  exact record: there controls are JSON escapes, and only lone surrogates (which UTF-8 cannot
  carry) are replaced by their visible form.
"""

from __future__ import annotations

import re

# The characters that act: C0, DEL, C1, the bidi controls and marks, the line and paragraph
# separators, and lone surrogates.
_ACTING = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ACTING_CHARACTER = re.compile(f"[{_ACTING}]")
# What `display` rewrites: an acting character, or the runner's `##[` command prefix.
_UNSAFE = re.compile(f"[{_ACTING}]|##\\[")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_character(character: str) -> str:
    code = ord(character)
    if character in _NAMED:
        return _NAMED[character]
    if code < 0x100:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name, as surrogateescape keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def _escape_match(match: re.Match[str]) -> str:
    text = match.group()
    return "#\\x23[" if text == "##[" else _escape_character(text)


def visible(text: str) -> str:
    """`text` with every acting character written as a visible escape (and nothing else changed)."""
    if _ACTING_CHARACTER.search(text) is None:
        return text
    return _ACTING_CHARACTER.sub(lambda match: _escape_character(match.group()), text)


def display(text: object) -> str:
    """Untrusted text made safe for a terminal, a text report or a CI log, on one line.

    Acting characters become visible escapes, and nothing in it can start a CI workflow command.
    """
    shown = str(text)
    if _UNSAFE.search(shown) is not None:
        shown = _UNSAFE.sub(_escape_match, shown)
    if shown[:1] == ":" or shown[:1].isspace():
        stripped = shown.lstrip()
        if stripped.startswith("::"):
            at = len(shown) - len(stripped)
            shown = f"{shown[:at]}\\x3a{shown[at + 1 :]}"
    return shown


def has_acting(text: str) -> bool:
    """Whether `text` holds a character `visible` would escape."""
    return _ACTING_CHARACTER.search(text) is not None


# In encoded JSON text: what the encoder leaves raw (it escapes only C0, `"` and `\\`), and the
# runner's `##[` (a JSON report can be printed to a CI log).
_JSON_RAW = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]|##\\["
)


def _json_escape(match: re.Match[str]) -> str:
    if match.group() == "##[":
        return "#\\u0023["  # the same text to a JSON parser, no command to a CI log
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        # JSON could write `\udc80`, but a lone surrogate is no character: strict parsers refuse
        # it. Write its visible form as a JSON string's text instead (a backslash is `\\`).
        return "\\" + _escape_character(match.group())
    return f"\\u{code:04x}"  # the exact character, as a JSON escape


def json_safe(encoded: str) -> str:
    """JSON text (from an encoder with `ensure_ascii=False`) with no raw acting character left.

    Controls, bidi controls and separators become JSON `\\u` escapes, and `##[` is written
    `#\\u0023[`, so a parser gets them back exactly; lone surrogates become their visible escape
    (`\\x80`), so the text is valid UTF-8.
    """
    if _JSON_RAW.search(encoded) is None:
        return encoded
    return _JSON_RAW.sub(_json_escape, encoded)
