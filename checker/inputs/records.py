"""CSV, TSV, JSON and JSON Lines files of already-parsed quotes, read into records with their places.

Each reader returns the usable records as a DataFrame (the quote columns, `line`, `column` and
`end_column` of the record, and `<field>_col`, the column where each field's value starts) and
findings for what could not be used. A fault spoils only its own record or row:

- JSON is read element by element, so a file cut off part-way still yields every record before
  the cut; an element that does not parse (or is nested too deeply for the decoder) is reported
  at its line and column and skipped by a bracket scan that honours strings, and reading goes on
  with the next element.
- A lone UTF-16 surrogate (`"\\ud800"`) is not a character: the record holding it is reported,
  with the escape shown as written; a quote field holding one leaves the record out, any other
  member holding one (or a key) is dropped and the record checked.
- CSV is read with the `csv` module line by line; a line longer than the field size limit is
  reported from its length without being copied, and a quote that is not closed on its line
  (and does not make a well-formed row by running on) is reported at its column, and reading
  starts again on the next line.

Every JSON record is validated against `schemas/quotes.schema.json` first; a record that
violates it draws one finding naming each violation, and is left out.
"""

from __future__ import annotations

import bisect
import csv
import json
import re
from array import array
from collections.abc import Generator, Iterator
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from checker.arrays import as_chunked, as_pd_text
from checker.findings import FINDING_COLUMNS, empty_findings, normalize
from checker.read import split_lines
from checker.resources import schema_path
from checker.vocabulary import RECORD_FIELDS, RECORD_OPTIONAL, RECORD_REQUIRED

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_MAX_SHOWN = 200
_TEXT = pd.StringDtype("pyarrow")
# A JSON text holding one of these escapes may decode to a lone surrogate; one that holds none
# cannot (the decoded file itself never holds one), so most files skip the surrogate checks.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
# csv's own limit on a field (128 KiB): a line longer than it is refused before it is copied.
MAX_CSV_LINE = csv.field_size_limit()
_FINDINGS_CHUNK = 65_536
_MAX_SHAPES = 4096


def _short(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def visible(text: str) -> str:
    """`text` with each lone surrogate written as its JSON escape (`\\ud800`), so it can be shown."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json_text(value: Any) -> str:
    try:
        return visible(json.dumps(value, ensure_ascii=False, default=str))
    except (RecursionError, ValueError):
        return f"({type(value).__name__} nested too deeply to show)"


class _Findings:
    """Findings gathered as columns and turned into frames a chunk at a time (bounded memory)."""

    def __init__(self, file: str, escape: bool = False) -> None:
        self.file = file
        self.escape = escape  # whether texts may hold a lone surrogate, to be shown escaped
        self.parts: list[pd.DataFrame] = []
        self._new()

    def _new(self) -> None:
        self.rows: list[tuple] = []

    def add(
        self,
        code: str,
        line: int | None,
        column: int | None,
        field: str,
        observed: str,
        expected: str,
        message: str,
    ) -> None:
        if self.escape:
            observed, expected, message = visible(observed), visible(expected), visible(message)
        self.rows.append((code, line, column, field, observed, expected, message))
        if len(self.rows) >= _FINDINGS_CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        n = len(self.rows)
        rules, lines, columns, fields, observed, expected, messages = (
            list(c) for c in zip(*self.rows, strict=True)
        )
        self.rows.clear()  # the same list: a reader may append to it directly
        # A rule's name and severity are added with the policy, from the registry: this layer
        # names a problem by its rule code only.
        frame = pd.DataFrame(
            {
                "rule": _texts(rules),
                "name": _repeat(None, n),
                "severity": _repeat(None, n),
                "file": _repeat(self.file, n),
                "line": _ints(lines),
                "column": _ints(columns),
                "end_column": pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, np.bool_)),
                "symbol": _repeat(None, n),
                "field": _texts(fields),
                "observed": _texts(observed),
                "expected": _texts(expected),
                "message": _texts(messages),
            },
            copy=False,
        )
        self.parts.append(normalize(frame[list(FINDING_COLUMNS)]))

    def frame(self) -> pd.DataFrame:
        """The findings as one frame; its text columns are the chunks' Arrow arrays, not a copy."""
        self._flush()
        if not self.parts:
            return empty_findings()
        if len(self.parts) == 1:
            return self.parts[0]
        columns: dict[str, Any] = {}
        for name in FINDING_COLUMNS:
            if name in ("line", "column", "end_column"):
                columns[name] = pd.concat([p[name] for p in self.parts], ignore_index=True).array
                continue
            chunks = [
                chunk if chunk.type == pa.large_string() else chunk.cast(pa.large_string())
                for p in self.parts
                for chunk in as_chunked(p[name].array).chunks
            ]
            # (the stubs know only 32-bit string storage; pandas takes large_string as it is)
            columns[name] = pd.arrays.ArrowStringArray(pa.chunked_array(chunks, pa.large_string()))  # type: ignore[arg-type]
            for p in self.parts:
                del p[name]  # each column's chunks now belong to the new frame alone
        self.parts = []
        return normalize(pd.DataFrame(columns, copy=False))


def _ints(values: list[int | None]) -> pd.arrays.IntegerArray:
    """An Int64 column from int or None (numpy's conversion when there is no None: far faster)."""
    try:
        data = np.array(values, dtype=np.int64)
    except TypeError:  # a None: pandas' own conversion
        return pd.array(values, dtype="Int64")
    return pd.arrays.IntegerArray(data, np.zeros(len(data), dtype=np.bool_))


def _texts(values: list[str | None]) -> Any:
    """A text column from str or None (Arrow's conversion: several times pandas' own)."""
    return as_pd_text(pa.array(values, pa.large_string()))


def _repeat(value: str | None, n: int) -> Any:
    return as_pd_text(pa.repeat(pa.scalar(value, pa.large_string()), n))


class _Records:
    """Usable records as columns: the quote fields' values and where each starts."""

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {name: [] for name in RECORD_FIELDS}
        self.places: dict[str, list[Any]] = {
            name: [] for name in ("line", "column", "end_column", *(f"{f}_col" for f in RECORD_FIELDS))
        }

    def add(
        self, values: dict[str, Any], line: int, column: int, end_column: int, cols: dict[str, int]
    ) -> None:
        for name in RECORD_FIELDS:
            self.values[name].append(values.get(name))
            self.places[f"{name}_col"].append(cols.get(name, column))
        self.places["line"].append(line)
        self.places["column"].append(column)
        self.places["end_column"].append(max(end_column, column, *cols.values()) if cols else end_column)

    def frame(self) -> pd.DataFrame:
        """The records as a DataFrame of object columns, so numbers and strings keep their own types."""
        data: dict[str, Any] = {name: pd.Series(values, dtype=object) for name, values in self.values.items()}
        for name, places in self.places.items():
            data[name] = pd.Series(np.asarray(places, dtype=np.int64))
        return pd.DataFrame(data)


# ---------------------------------------------------------------------------------------- CSV

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")


class _Feed:
    """The file's lines from a given index, for csv.reader; stops before a line too long to copy."""

    def __init__(self, text: str, starts: array, ends: array, index: int) -> None:
        self.text, self.starts, self.ends = text, starts, ends
        self.index = index  # the next line to hand out
        self.long: int | None = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        i = self.index
        if i >= len(self.starts):
            raise StopIteration
        start, end = self.starts[i], self.ends[i]
        if end - start > MAX_CSV_LINE:
            self.long = i
            raise StopIteration
        self.index = i + 1
        return self.text[start:end]


def _field_starts(line: str, delimiter: str) -> tuple[list[int], int | None]:
    """Offsets where each field of a CSV line starts, and the offset of a quote left open, if any."""
    starts: list[int] = []
    i, n = 0, len(line)
    while True:
        starts.append(i)
        if i < n and line[i] == '"':
            j = i + 1
            while True:
                k = line.find('"', j)
                if k < 0:
                    return starts, i
                if k + 1 < n and line[k + 1] == '"':
                    j = k + 2
                    continue
                j = k + 1
                break
            d = line.find(delimiter, j)
        else:
            d = line.find(delimiter, i)
        if d < 0:
            return starts, None
        i = d + 1


def _longest_field(text: str, start: int, end: int, delimiter: str) -> tuple[int, int]:
    """(offset in the line, length) of the longest of the first fields of a line, without copying it."""
    best, best_length, position = 0, -1, start
    for _ in range(1000):
        d = text.find(delimiter, position, end)
        stop = end if d < 0 else d
        if stop - position > best_length:
            best, best_length = position - start, stop - position
        if d < 0:
            break
        position = d + 1
    return best, best_length


def csv_records(text: str, file: str, delimiter: str = ",") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of a CSV (or, with a tab delimiter, TSV) file with a header row naming the columns."""
    if text.startswith("\ufeff"):
        text = text[1:]
    starts, ends = array("q"), array("q")
    for match in _LINE.finditer(text):
        if match.end() > match.start():
            starts.append(match.start())
            ends.append(match.end())
    findings = _Findings(file)
    records = _Records()
    reader_state = _CsvState(file, delimiter, findings, records)
    index: int | None = 0
    while index is not None and index < len(starts):
        index = reader_state.read(text, starts, ends, index)
        if reader_state.stop:
            break
    return records.frame(), findings.frame()


class _CsvState:
    """Reading a CSV file from some line on; `read` returns the line to start again from, or None."""

    def __init__(self, file: str, delimiter: str, findings: _Findings, records: _Records) -> None:
        self.file, self.delimiter, self.findings, self.records = file, delimiter, findings, records
        self.header: list[str] | None = None
        self.header_line = 1
        self.positions: list[tuple[str, int]] = []
        self.stop = False

    def read(self, text: str, starts: array, ends: array, index: int) -> int | None:
        feed = _Feed(text, starts, ends, index)
        reader = csv.reader(feed, delimiter=self.delimiter)
        while True:
            first = feed.index
            try:
                row = next(reader)
            except StopIteration:
                if feed.long is None:
                    return None
                self._long_line(text, starts[feed.long], ends[feed.long], feed.long + 1)
                return feed.long + 1
            except csv.Error as error:
                self._broken_row(text[starts[first] : ends[first]], first + 1, str(error))
                return first + 1
            taken = feed.index - first
            line_text = text[starts[first] : ends[first]].rstrip("\r\n")
            field_starts, open_quote = (
                _field_starts(line_text, self.delimiter) if '"' in line_text else (None, None)
            )
            if open_quote is not None and not self._runs_on_soundly(row, taken):
                self._open_quote(line_text, first + 1, open_quote)
                return first + 1
            if not row or all(not value.strip() for value in row):
                continue
            if self.header is None:
                self._read_header(row, first + 1)
                if self.stop:
                    return None
                continue
            self._row(row, line_text, field_starts, first + 1)

    def _runs_on_soundly(self, row: list[str], taken: int) -> bool:
        """A quoted field may hold a line break; but a quote field never does, so a row that runs on
        over lines is a well-formed row only if it has the header's fields and none of its quote
        fields holds a line break. Otherwise the quote is a stray one, and the line ends the row."""
        if taken < 2 or self.header is None or len(row) != len(self.header):
            return False
        return not any("\n" in row[i] or "\r" in row[i] for _, i in self.positions)

    def _read_header(self, row: list[str], line: int) -> None:
        header = [value.strip().lower() for value in row]
        self.header, self.header_line = header, line
        missing = [name for name in RECORD_REQUIRED if name not in header]
        if missing:
            self.findings.add(
                "QC207",
                line,
                1,
                "file",
                _short(", ".join(header)),
                ", ".join((*RECORD_REQUIRED, *(f"[{name}]" for name in RECORD_OPTIONAL))),
                f"header lacks column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; no row checked",
            )
            self.stop = True
            return
        self.positions = [(name, header.index(name)) for name in RECORD_FIELDS if name in header]

    def _row(self, row: list[str], line_text: str, field_starts: list[int] | None, line: int) -> None:
        header = self.header
        assert header is not None
        if len(row) != len(header):
            self.findings.add(
                "QC906",
                line,
                1,
                "file",
                f"{len(row)} field{'s' if len(row) != 1 else ''}",
                f"{len(header)} fields, as in the header on line {self.header_line}",
                f"row has {len(row)} field{'s' if len(row) != 1 else ''}, the header has {len(header)}",
            )
        if field_starts is None:  # no quote on the line: each field is its text, then a delimiter
            field_starts, position = [], 0
            for value in row:
                field_starts.append(position)
                position += len(value) + 1
        values: dict[str, Any] = {}
        cols: dict[str, int] = {}
        for name, i in self.positions:
            if i >= len(row):
                continue
            raw = row[i]
            value = raw.strip()
            values[name] = value or None
            if value and i < len(field_starts):
                start = field_starts[i]
                cols[name] = (
                    start + 1 + (len(raw) - len(raw.lstrip()) if line_text[start : start + 1] != '"' else 0)
                )
        self.records.add(values, line, 1, max(len(line_text), 1), cols)

    def _long_line(self, text: str, start: int, end: int, line: int) -> None:
        offset, length = _longest_field(text, start, end, self.delimiter)
        self.findings.add(
            "QC906",
            line,
            offset + 1,
            "file",
            f"a line of {end - start} characters",
            f"fields of at most {MAX_CSV_LINE} characters",
            f"not valid CSV: a line of {end - start} characters (a field of {length} at column "
            f"{offset + 1}) is longer than the limit of {MAX_CSV_LINE}; the row was not read",
        )

    def _broken_row(self, line_text: str, line: int, error: str) -> None:
        line_text = line_text.rstrip("\r\n")
        _starts, open_quote = _field_starts(line_text, self.delimiter)
        if open_quote is not None:  # a field over csv's limit can only be a quote running on
            self._open_quote(line_text, line, open_quote, runs_far="field limit" in error)
            return
        self.findings.add(
            "QC906",
            line,
            1,
            "file",
            _short(line_text),
            "a well-formed CSV row",
            f"not valid CSV: {error}; the row was not read, reading goes on with the next line",
        )

    def _open_quote(self, line_text: str, line: int, offset: int, runs_far: bool = False) -> None:
        how = "runs on past the field size limit" if runs_far else "is not closed on its line"
        self.findings.add(
            "QC906",
            line,
            offset + 1,
            "file",
            _short(line_text[offset:]),
            'a closing quote (")',
            f"the quote opened at column {offset + 1} {how}; the row was not read, "
            "reading goes on with the next line",
        )


# --------------------------------------------------------------------------------------- JSON


class _SyntaxProblem(Exception):
    """JSON that does not parse, at a character offset."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


# Keywords whose verdict on a value depends only on its type, its string length up to minLength,
# whether it is an integral float, and whether it is below minimum.
_SHAPE_KEYWORDS = frozenset({"type", "minLength", "minimum", "description", "title"})
# A record schema with only these keywords ignores properties it does not name.
_RECORD_KEYWORDS = frozenset({"type", "required", "properties", "description", "title"})
_MISSING = object()


class RecordValidator:
    """jsonschema validation of quote records that remembers each record shape's verdict.

    Validating each of a million records with jsonschema costs about 40 us apiece. Two records
    whose values have the same shape (as far as the schema's keywords can tell) get the same
    verdict and the same violations, so each shape is validated by jsonschema once; a record of
    a shape seen before is judged by a dictionary look-up. Records whose shape cannot be told
    (arrays or objects as values) are validated every time.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator  # (here: a text page never needs it, 50 ms to import)

        self.validator = Draft202012Validator(schema)
        properties = schema.get("properties", {})
        self.shapes: dict[str, dict[str, Any]] = {
            name: sub
            for name, sub in properties.items()
            if isinstance(sub, dict) and set(sub) <= _SHAPE_KEYWORDS
        }
        self.cacheable = set(schema) <= _RECORD_KEYWORDS and len(self.shapes) == len(properties)
        # per property: the string length that matters (minLength) and the minimum
        self.limits = {
            name: (int(sub.get("minLength", 0)), sub.get("minimum")) for name, sub in self.shapes.items()
        }
        self.verdicts: dict[tuple, list[tuple]] = {}

    def errors(self, record: Any) -> list[tuple]:
        """The violations of a record, in a stable order (none for a valid record).

        Each is (path, keyword, keyword's value, message): `message` is jsonschema's own for a
        record whose shape cannot be told, else None (the caller words it from the record).
        """
        return self.violations(record)[0]

    def violations(self, record: Any) -> tuple[list[tuple], tuple | None]:
        """The record's violations (see `errors`) and its shape (None when it cannot be told)."""
        shape = self._shape(record)
        if shape is not None:
            found = self.verdicts.get(shape)
            if found is not None:
                return found, shape
        errors = sorted(self.validator.iter_errors(record), key=_error_order)
        found = [
            (
                tuple(error.absolute_path),
                error.validator,
                error.validator_value,
                None if shape is not None else error.message,
            )
            for error in errors
        ]
        if shape is not None and len(self.verdicts) < _MAX_SHAPES:
            self.verdicts[shape] = found
        return found, shape

    def _shape(self, record: Any) -> tuple | None:
        """What the schema's verdict on a record depends on: for each property the schema names,
        in the record's order, its type and (as far as the keywords look) its length, whether it
        is whole and whether it is below the minimum. None when that cannot be told."""
        if not self.cacheable:
            return None
        if type(record) is not dict:  # only the record's own type is judged
            if isinstance(record, list | dict):
                return None
            return ("<not an object>", type(record).__name__)
        limits = self.limits
        parts: list[tuple[Any, ...]] = []
        for name, value in record.items():
            limit = limits.get(name)
            if limit is None:
                continue
            kind = type(value)
            if kind is str:
                length = len(value)
                parts.append((name, length if length < limit[0] else limit[0]))
            elif kind is int or kind is float:
                minimum = limit[1]
                parts.append(
                    (
                        name,
                        kind,
                        kind is int or value.is_integer(),
                        None if minimum is None else bool(value < minimum),
                    )
                )
            elif kind is bool or value is None:
                parts.append((name, kind))
            else:
                return None  # arrays, objects and subclasses: validated every time
        return tuple(parts)


def _error_order(error: Any) -> tuple[list[str], str]:
    return list(map(str, error.absolute_path)), error.message


@lru_cache(maxsize=1)
def record_validator() -> RecordValidator:
    """The validator for one quote record (`$defs/quote` of schemas/quotes.schema.json)."""
    schema = json.loads(schema_path("quotes.schema.json").read_text(encoding="utf-8"))
    return RecordValidator(schema["$defs"]["quote"])


_JSON_TYPES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "object": "an object",
    "array": "an array",
    "boolean": "true or false",
    "null": "null",
}


def _expected(keyword: str, value: Any) -> str:
    if keyword == "type":
        types = value if isinstance(value, list) else [value]
        return " or ".join(_JSON_TYPES.get(str(t), str(t)) for t in types)
    if keyword == "minLength":
        return f"at least {value} character{'s' if value != 1 else ''}"
    if keyword == "minimum":
        return f">= {value}"
    if keyword == "required":
        return ", ".join(value) if isinstance(value, list) else str(value)
    return _short(_json_text(value))


class _Lines:
    """Offsets to (line, column), for offsets visited in increasing order (linear overall)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1
        self.line_start = 0

    def at(self, offset: int) -> tuple[int, int]:
        if offset < self.offset:  # never in normal use; counting from the start is always right
            self.offset, self.line, self.line_start = 0, 1, 0
        breaks = self.text.count("\n", self.offset, offset)
        if breaks:
            self.line += breaks
            self.line_start = self.text.rfind("\n", self.offset, offset) + 1
        self.offset = offset
        return self.line, offset - self.line_start + 1


def _skip(text: str, position: int) -> int:
    return _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]  # it matches ""


def _value(decoder: json.JSONDecoder, text: str, position: int) -> tuple[Any, int]:
    return _read_value(decoder.raw_decode, text, position)


def _read_value(read: Any, text: str, position: int) -> tuple[Any, int]:
    """(value, end) of the JSON value at `position`, read by `read` (a decoder's raw_decode or its
    scan_once); every way it fails is a _SyntaxProblem at the place it names."""
    try:
        return read(text, position)
    except StopIteration as stop:  # scan_once's way of saying no value starts here
        raise _SyntaxProblem(stop.value, "Expecting value") from None
    except json.JSONDecodeError as error:
        raise _SyntaxProblem(error.pos, error.msg) from None
    except ValueError as error:  # a number of more digits than Python converts
        raise _SyntaxProblem(position, _unreadable(error)) from None
    except RecursionError:
        raise _SyntaxProblem(position, "nested too deeply for the JSON decoder") from None


def _unreadable(error: ValueError) -> str:
    if "digits" in str(error):
        return "a number of more digits than can be read"
    return f"a value that cannot be read ({error})"[:_MAX_SHOWN]


_STRUCTURE = re.compile(r'["\[\]{},]')
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _value_end(text: str, position: int) -> int | None:
    """Where the value starting at `position` ends, by brackets and strings alone (no recursion):
    the offset after its closing bracket, or of the `,` or `]` that ends a scalar; None if the
    text ends first."""
    depth = 0
    bracketed = text.startswith(("[", "{"), position)
    i = position
    while True:
        match = _STRUCTURE.search(text, i)
        if match is None:
            return None
        c, i = match.group(), match.end()
        if c == '"':
            rest = _STRING_REST.match(text, i)
            if rest is None:
                return None
            i = rest.end()
        elif c in "[{":
            depth += 1
        elif c in "]}":
            if depth == 0:
                return match.start()
            depth -= 1
            if depth == 0 and bracketed:
                return i
        elif depth == 0:  # a comma between elements
            return match.start()


def _array(
    decoder: json.JSONDecoder, text: str, position: int, prefix: str, skipped: list[_SyntaxProblem]
) -> Generator[tuple[str, int, int, Any], None, int]:
    """(pointer, start, end, value) of each element of the array at `position`; returns its end.

    An element that does not decode is added to `skipped` and passed over when its end can be
    found; otherwise the problem ends the array (and the document).
    """
    position = _skip(text, position + 1)
    if text.startswith("]", position):
        return position + 1
    index = 0
    while True:
        try:
            value, end = _value(decoder, text, position)
        except _SyntaxProblem as problem:
            value_end = _value_end(text, position)
            after = None if value_end is None else _skip(text, value_end)
            if after is None or not text.startswith((",", "]"), after):
                raise
            skipped.append(problem)
            value, end = _SKIPPED, after
        yield f"{prefix}/{index}", position, end, value
        index += 1
        position = _skip(text, end)
        if position >= len(text):
            raise _SyntaxProblem(position, "the array is not closed (file cut off?)")
        if text[position] == "]":
            return position + 1
        if text[position] != ",":
            raise _SyntaxProblem(position, "expected ',' or ']' after an array element")
        position = _skip(text, position + 1)


_SKIPPED = object()


def _document(
    decoder: json.JSONDecoder, text: str, skipped: list[_SyntaxProblem]
) -> Iterator[tuple[str, int, int, Any]]:
    """The quote records of a JSON document: a top-level array, or the `quotes` array of an object."""
    position = _skip(text, 0)
    if position >= len(text):
        return
    if text[position] == "[":
        end = yield from _array(decoder, text, position, "", skipped)
        if _skip(text, end) < len(text):
            raise _SyntaxProblem(_skip(text, end), "extra text after the JSON document")
        return
    if text[position] != "{":
        value, _end = _value(decoder, text, position)
        raise _SyntaxProblem(position, f"expected an array of quote records, found {type(value).__name__}")
    position = _skip(text, position + 1)
    found = False
    while not text.startswith("}", position):
        key, position = _value(decoder, text, position)
        if not isinstance(key, str):
            raise _SyntaxProblem(position, "expected a property name")
        position = _skip(text, position)
        if not text.startswith(":", position):
            raise _SyntaxProblem(position, "expected ':' after a property name")
        position = _skip(text, position + 1)
        if key == "quotes" and text.startswith("[", position):
            found = True
            position = yield from _array(decoder, text, position, "/quotes", skipped)
        else:
            value_end = _value_end(text, position) if text.startswith(("[", "{"), position) else None
            if value_end is None:
                _unused, position = _value(decoder, text, position)
            else:
                position = value_end
        position = _skip(text, position)
        if position >= len(text):
            raise _SyntaxProblem(position, "the object is not closed (file cut off?)")
        if text[position] == ",":
            position = _skip(text, position + 1)
        elif text[position] != "}":
            raise _SyntaxProblem(position, "expected ',' or '}' after a property")
    if not found:
        raise _SyntaxProblem(0, "the object has no `quotes` array")


def _member_offsets(
    text: str, start: int, end: int, record: dict[str, Any], names: list[str]
) -> dict[str, int]:
    """Offsets of the values of the named members of the record in `text[start:end]`.

    Found with `rfind` (the last of duplicate keys is the one decoded): exact when the record's
    values are not arrays or objects and no backslash escapes a quote or a backslash, so that an
    even count of quotes before a key means the key is outside every string. Other records are
    walked member by member.
    """
    flat = text.find('\\"', start, end) < 0 and text.find("\\\\", start, end) < 0
    if flat:
        for value in record.values():
            if type(value) is list or type(value) is dict:
                flat = False
                break
    if not flat:
        return _walked_offsets(text, start, end)
    out: dict[str, int] = {}
    for name in names:
        needle = f'"{name}"'
        p = text.rfind(needle, start, end)
        if p < 0 or text.count('"', start, p) & 1:
            return _walked_offsets(text, start, end)
        q = p + len(needle)
        if text.startswith(": ", q):
            out[name] = q + 2
        else:
            colon = _COLON.match(text, q, end)
            if colon is None:
                return _walked_offsets(text, start, end)
            out[name] = colon.end()
    return out


def _member_offset(text: str, start: int, end: int, record: dict[str, Any], name: str) -> int | None:
    """The offset of one member's value (see `_member_offsets`), None when it is not found."""
    needle = f'"{name}"'
    p = text.rfind(needle, start, end)
    if (
        p >= 0
        and not text.count('"', start, p) & 1
        and text.startswith(": ", p + len(needle))
        and text.find("\\", start, end) < 0
    ):
        for value in record.values():
            if type(value) is list or type(value) is dict:
                break
        else:
            return p + len(needle) + 2  # no backslash, no nested value: the quote count is exact
    return _member_offsets(text, start, end, record, [name]).get(name)


def _walked_offsets(text: str, start: int, end: int) -> dict[str, int]:
    """Offsets of the values of an object's members, walking it member by member (slow, exact)."""
    out: dict[str, int] = {}
    i = _skip(text, start + 1)
    try:
        while i < end and text[i] == '"':
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]  # in C, not in typeshed
            colon = _COLON.match(text, i, end)
            if colon is None:
                break
            i = colon.end()
            out[key] = i
            value_end = _value_end(text, i)
            if value_end is None:
                break
            i = _skip(text, value_end)
            if not text.startswith(",", i):
                break
            i = _skip(text, i + 1)
    except (ValueError, IndexError):
        pass
    return out


def value_places(
    text: str, starts: list[tuple[int, int]]
) -> dict[tuple[int, int], dict[str, tuple[int, int]]]:
    """For each object starting at a (line, column) of a JSON document (as the reader places a
    record: lines counted at LF, columns in characters, the byte order mark removed), the (line,
    column) of each of its members' values, found by walking the object member by member (exact;
    the last of duplicate keys, as decoded). A place where no object starts is left out."""
    breaks = [0, *(m.end() for m in re.finditer("\n", text))]
    out: dict[tuple[int, int], dict[str, tuple[int, int]]] = {}
    for line, column in starts:
        if not 1 <= line <= len(breaks) or column < 1:
            continue
        start = breaks[line - 1] + column - 1
        if not text.startswith("{", start):
            continue
        end = _value_end(text, start)
        if end is None:
            continue
        places = {}
        for name, offset in _walked_offsets(text, start, end).items():
            at = bisect.bisect_right(breaks, offset)
            places[name] = (at, offset - breaks[at - 1] + 1)
        out[(line, column)] = places
    return out


def _surrogate_members(record: dict[str, Any]) -> list[str]:
    """Members whose key or value holds a lone surrogate (values looked into without recursion)."""
    bad = []
    for key, value in record.items():
        if _SURROGATE.search(key):
            bad.append(key)
            continue
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    bad.append(key)
                    break
            elif isinstance(item, dict):
                if any(_SURROGATE.search(k) for k in item):
                    bad.append(key)
                    break
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return bad


_UNKNOWN = object()


class _JsonReader:
    """Validating decoded JSON records and keeping the usable ones with their places."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.escapes = bool(_SURROGATE_ESCAPE.search(text))
        self.findings = _Findings(file, escape=self.escapes)
        self.records = _Records()
        self.validator = record_validator()
        self.templates: dict[tuple, _Template] = {}
        self.number = 0

    def record(
        self,
        value: Any,
        text: str,
        start: int,
        end: int,
        pointer: str,
        where: Any,
        shape: Any = _UNKNOWN,
    ) -> None:
        """Check one decoded element; `where(offset)` gives (line, column) for offsets in order.

        `shape` is the validator's shape of `value` when the caller has it already."""
        self.number += 1
        is_record = type(value) is dict
        validator = self.validator
        if self.escapes and is_record:
            bad = _surrogate_members(value)
            if bad and not self._surrogates(value, bad, text, start, end, pointer, where):
                return
            shape = _UNKNOWN if bad else shape  # members were dropped: the shape may have changed
        if shape is _UNKNOWN:
            shape = validator._shape(value)
        errors = None if shape is None else validator.verdicts.get(shape)
        if errors is None:
            errors, shape = validator.violations(value)
        if errors:
            self._invalid(value, errors, shape, text, start, end, pointer, where)
            return
        names = [name for name in RECORD_FIELDS if name in value]
        offsets = _member_offsets(text, start, end, value, names)
        if type(where) is _OnLine:  # a JSON Lines record: all on its line
            cols = {name: offset + 1 for name, offset in offsets.items()}
            self.records.add(value, where.line, start + 1, end, cols)
            return
        line, column = where(start)
        cols = {}
        for name, offset in sorted(offsets.items(), key=lambda kv: kv[1]):
            member_line, member_column = where(offset)
            if member_line == line:
                cols[name] = member_column
        end_line, end_column = where(end - 1) if end > start else (line, column)
        if end_line != line:
            end_column = _line_end(text, start) - (start - column + 1)
        self.records.add(value, line, column, end_column, cols)

    def _place(
        self, value: Any, name: str | None, text: str, start: int, end: int, where: Any
    ) -> tuple[int, int]:
        """(line, column) of a member's value, or of the record when there is no such member."""
        offset = (
            None if name is None or type(value) is not dict else _member_offset(text, start, end, value, name)
        )
        return where(start if offset is None else offset)

    def _surrogates(
        self,
        value: dict[str, Any],
        bad: list[str],
        text: str,
        start: int,
        end: int,
        pointer: str,
        where: Any,
    ) -> bool:
        """Report the members holding a lone surrogate; True when the record can still be checked."""
        quote_fields = [name for name in bad if name in RECORD_FIELDS]
        first = quote_fields[0] if quote_fields else bad[0]
        line, column = self._place(value, first if first in RECORD_FIELDS else None, text, start, end, where)
        shown = ", ".join(f"`{visible(name)}`: {_short(_json_text(value[name]))}" for name in bad)
        if quote_fields:
            outcome = "the record is left out"
        elif len(bad) == 1:
            outcome = "the member is ignored and the record checked"
        else:
            outcome = "the members are ignored and the record checked"
        where_text = f" at {pointer}" if pointer else ""
        self.findings.add(
            "QC906",
            line,
            column,
            first if first in RECORD_FIELDS else "record",
            _short(_json_text(value[first])),
            "text without lone surrogates (\\ud800-\\udfff)",
            f"record {self.number}{where_text}: a lone surrogate escape is not a character, "
            f"in {shown}; {outcome}",
        )
        if quote_fields:
            return False
        for name in bad:
            value.pop(name, None)
        return True

    def _invalid(
        self,
        value: Any,
        errors: list[tuple],
        shape: tuple | None,
        text: str,
        start: int,
        end: int,
        pointer: str,
        where: Any,
    ) -> None:
        """One finding for an invalid record: at its first offending member, naming every violation."""
        template = None if shape is None else self.templates.get(shape)
        if template is None:
            template = _Template(errors, value)
            if shape is not None and len(self.templates) < _MAX_SHAPES:
                self.templates[shape] = template
        name = template.field_member
        offset = None if name is None else _member_offset(text, start, end, value, name)
        line, column = where(start if offset is None else offset)
        self.findings.add(
            "QC905",
            line,
            column,
            template.field,
            template.observed(value),
            template.expected,
            template.message(value, self.number, f" at {pointer}" if pointer else ""),
        )

    def syntax(self, line: int, column: int, message: str, text: str, offset: int) -> None:
        self.findings.add(
            "QC906",
            line,
            column,
            "file",
            _short(text[offset : offset + 40]) or "(end of file)",
            "well-formed JSON",
            f"invalid JSON at line {line}, column {column}: {message}",
        )


_WHOLE = object()  # in a template part: the value shown is the whole record


class _Template:
    """The wording of an invalid record's finding, made once per record shape.

    Records of one shape have the same violations of the same members in the same order; only
    the values shown differ, so those are filled in per record.
    """

    def __init__(self, errors: list[tuple[tuple[Any, ...], str, Any, str | None]], record: Any) -> None:
        required = [names for path, keyword, names, _message in errors if keyword == "required" and not path]
        missing = _missing_names(required[0], record) if required else []
        members = [e for e in errors if not (e[1] == "required" and not e[0])]
        if type(record) is dict:
            order = {name: i for i, name in enumerate(record)}
            members.sort(key=lambda e: order.get(e[0][0], len(order)) if e[0] else -1)
        self.parts: list[tuple[str, Any, str]] = [_part(*member, record) for member in members]
        if missing:
            names = [f"`{name}`" for name in missing]
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            self.parts.append((f"lacks {listed}", None, ""))
        self.field_member: str | None = None
        self.observed_member: str | None = None
        if members:
            path, keyword, v, _message = members[0]
            if path:
                self.field_member = self.observed_member = str(path[0])
                self.needle = f'"{self.field_member}": '
            self.field = str(path[0]) if path else "record"
            self.expected = _expected(keyword, v)
            self.fixed_observed: str | None = None
        else:
            self.field = "record"
            self.expected = ", ".join(missing)
            self.fixed_observed = "no " + ", ".join(missing)

        # the message as a %-format: the record's number, where it is, then each value shown
        texts, self.shown = [], []
        for prefix, name, suffix in self.parts:
            if name is None:
                texts.append(prefix.replace("%", "%%"))
            else:
                texts.append(prefix.replace("%", "%%") + "%s" + suffix.replace("%", "%%"))
                self.shown.append(name)
        self.format = "record %d%s: " + "; ".join(texts)

    def observed(self, record: Any) -> str:
        if self.observed_member is None:
            return self.fixed_observed if self.fixed_observed is not None else _short(_json_text(record))
        return _short(_scalar_json(record[self.observed_member]))

    def message(self, record: Any, number: int, where: str) -> str:
        values = tuple(
            _short(_scalar_json(record if name is _WHOLE else record[name])) for name in self.shown
        )
        message = self.format % (number, where, *values)
        return message if len(message) <= _MAX_SHOWN else _short(message)

    def finding(self, record: dict[str, Any], number: int) -> tuple[str, str]:
        """(observed, message) for a record of this template's shape in a JSON Lines file."""
        member = self.observed_member
        if member is None or len(self.shown) != 1 or self.shown[0] != member:
            return self.observed(record), self.message(record, number, "")
        value = _scalar_json(record[member])
        if len(value) > _MAX_SHOWN:
            value = _short(value)
        message = self.format % (number, "", value)
        return value, message if len(message) <= _MAX_SHOWN else _short(message)


def _part(path: tuple, keyword: str, value: Any, message: str | None, record: Any) -> tuple[str, Any, str]:
    """A violation in words, as (text before the value, member whose value is shown, text after)."""
    if message is not None:
        return (message, None, "")
    if not path:
        if keyword == "type":
            types = value if isinstance(value, list) else [value]
            wanted = " or ".join(_JSON_TYPES.get(str(t), str(t)) for t in types)
            return ("the record is ", _WHOLE, f", not {wanted}")
        return (f"the record fails `{keyword}`: {_short(_json_text(value))}", None, "")
    name = str(path[0])
    if keyword == "type":
        types = value if isinstance(value, list) else [value]
        wanted = " or ".join(_JSON_TYPES.get(str(t), str(t)) for t in types)
        return (f"`{name}` is ", name, f", not {wanted}")
    if keyword == "minLength":
        return (
            f"`{name}` is empty" if value == 1 else f"`{name}` is shorter than {value} characters",
            None,
            "",
        )
    if keyword == "minimum":
        return (f"`{name}` is ", name, f", below the minimum of {value}")
    return (f"`{name}` fails `{keyword}`: {_short(_json_text(value))}", None, "")


_ENCODE_STRING = json.encoder.encode_basestring


def _scalar_json(value: Any) -> str:
    """A decoded JSON value as JSON again (fast for the scalars records hold)."""
    kind = type(value)
    if kind is str:
        return _ENCODE_STRING(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is int:
        return str(value)
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        return repr(value)
    return _json_text(value)


def _missing_names(names: Any, record: Any) -> list[str]:
    if not isinstance(record, dict):
        return []
    names = names if isinstance(names, list) else [names]
    return [name for name in names if name not in record]


def _line_end(text: str, offset: int) -> int:
    found = text.find("\n", offset)
    return len(text) if found < 0 else found


def json_records(
    text: str, file: str, lines_format: bool = False, lines: list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of a JSON document or, with `lines_format`, a JSON Lines file; each one validated first.

    `lines` is `text` split as read.split_lines splits it, when the caller has it already (a JSON
    Lines file is read line by line: splitting a large one twice costs as much as a tenth of it)."""
    if text.startswith("\ufeff"):
        text = text[1:]
        lines = None  # split without the byte order mark
    reader = _JsonReader(text, file)
    if lines_format:
        _jsonl_entries(text, reader, split_lines(text) if lines is None else lines)
    else:
        _json_entries(text, reader)
    return reader.records.frame(), reader.findings.frame()


def _json_entries(text: str, reader: _JsonReader) -> None:
    decoder = json.JSONDecoder()
    lines = _Lines(text)
    skipped: list[_SyntaxProblem] = []
    try:
        for pointer, start, end, value in _document(decoder, text, skipped):
            if value is _SKIPPED:
                problem = skipped.pop()
                line, column = lines.at(problem.offset)
                reader.syntax(
                    line, column, f"{problem.message}; the element was skipped", text, problem.offset
                )
                continue
            reader.record(value, text, start, end, pointer, lines.at)
    except _SyntaxProblem as problem:
        line, column = _Lines(text).at(min(problem.offset, len(text)))
        reader.syntax(line, column, problem.message, text, problem.offset)


def _jsonl_entries(text: str, reader: _JsonReader, lines: list[str]) -> None:
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set by __init__, not in typeshed
    record = reader.record
    blank = " \t\r\n"
    escapes, templates = reader.escapes, reader.templates
    # With no surrogate escape in the file, _Findings.add would only append: append here
    rows, flush = reader.findings.rows, reader.findings._flush
    shape_of = reader.validator._shape
    for number, line_text in enumerate(lines, start=1):
        if not line_text:
            continue
        start = _skip(line_text, 0) if line_text[0] in blank else 0
        if start >= len(line_text):
            continue
        try:
            value, end = _read_value(scan, line_text, start)
            if end < len(line_text):
                after = _skip(line_text, end)
                if after < len(line_text):
                    raise _SyntaxProblem(after, "extra text after the JSON value")
        except _SyntaxProblem as problem:
            reader.syntax(number, problem.offset + 1, problem.message, line_text, problem.offset)
            continue
        if type(value) is dict and not escapes:
            # a record of an invalid shape seen before: its finding from the shape's template
            shape = shape_of(value)
            template = None if shape is None else templates.get(shape)
            if template is not None:
                reader.number += 1
                name = template.field_member
                if name is None:
                    offset = start
                else:
                    # As _member_offset, with the checks that keep rfind exact done as scans of
                    # the line: no backslash, and no `{` or `[` inside the record (no nested value).
                    needle = template.needle
                    offset = line_text.rfind(needle, start, end)
                    if (
                        offset < 0
                        or "\\" in line_text
                        or line_text.find("{", start + 1, end) >= 0
                        or line_text.find("[", start, end) >= 0
                        or line_text.count('"', start, offset) & 1
                    ):
                        found = _member_offset(line_text, start, end, value, name)
                        offset = start if found is None else found
                    else:
                        offset += len(needle)
                observed, message = template.finding(value, reader.number)
                field, expected = template.field, template.expected
                rows.append(("QC905", number, offset + 1, field, observed, expected, message))
                if len(rows) >= _FINDINGS_CHUNK:
                    flush()
                continue
            record(value, line_text, start, end, "", _OnLine(number), shape)
            continue
        record(value, line_text, start, end, "", _OnLine(number))


class _OnLine:
    """(line, column) of offsets within one line of the file."""

    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line

    def __call__(self, offset: int) -> tuple[int, int]:
        return self.line, offset + 1
