"""CSV, TSV, JSON and JSON Lines files of already-parsed quotes, read into records with their lines.

Each reader returns the usable records as a DataFrame (the quote columns plus `line`, the line of
the record in the file) and findings for what could not be used. JSON is read element by element,
so a file cut off part-way still yields every record before the cut, and a syntax error is
reported at its line and column. Every JSON record is validated against
`schemas/quotes.schema.json` first; a record that violates it is reported and left out.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Generator, Iterator
from functools import lru_cache
from typing import Any

import pandas as pd
from jsonschema import Draft202012Validator

from checker.findings import from_records
from checker.parse import split_lines
from checker.resources import schema_path
from checker.rules.registry import REGISTRY
from checker.tabular import OPTIONAL, REQUIRED

RECORD_COLUMNS = (*REQUIRED, "arrow")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_MAX_SHOWN = 200


def _finding(code: str, file: str, line: int | None, column: int | None, **values: Any) -> dict[str, Any]:
    rule = REGISTRY[code]
    return {
        "rule": rule.code,
        "name": rule.name,
        "severity": rule.severity.label,
        "file": file,
        "line": line,
        "column": column,
        "end_column": None,
        "symbol": None,
        "field": "file",
        "observed": "",
        "expected": "",
        "message": "",
        **values,
    }


def _short(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _frame(rows: list[dict[str, Any]], lines: list[int]) -> pd.DataFrame:
    """The records as a DataFrame of object columns, so numbers and strings keep their own types."""
    data = {name: pd.Series([row.get(name) for row in rows], dtype=object) for name in RECORD_COLUMNS}
    data["line"] = pd.Series(lines, dtype="int64")
    return pd.DataFrame(data)


# ---------------------------------------------------------------------------------------- CSV


def csv_records(text: str, file: str, delimiter: str = ",") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of a CSV (or, with a tab delimiter, TSV) file with a header row naming the columns."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    header: list[str] | None = None
    header_line = 1
    last_line = 0
    try:
        for row in reader:
            line = last_line + 1
            last_line = reader.line_num
            if not row or all(not value.strip() for value in row):
                continue
            if header is None:
                header, header_line = [value.strip().lower() for value in row], line
                missing = [name for name in REQUIRED if name not in header]
                if missing:
                    problems.append(_missing_columns(file, line, header, missing))
                    return _frame([], []), from_records(problems)
                continue
            if len(row) != len(header):
                problems.append(
                    _finding(
                        "QC906",
                        file,
                        line,
                        1,
                        observed=f"{len(row)} fields",
                        expected=f"{len(header)} fields, as in the header on line {header_line}",
                        message=f"row has {len(row)} fields, the header has {len(header)}",
                    )
                )
            values = {name: value.strip() or None for name, value in zip(header, row, strict=False)}
            rows.append(values)
            lines.append(line)
    except csv.Error as error:
        problems.append(
            _finding(
                "QC906",
                file,
                last_line + 1,
                1,
                observed=_short(str(error)),
                expected="a well-formed CSV row",
                message=f"not valid CSV: {error}; the rows after it were not read",
            )
        )
    return _frame(rows, lines), from_records(problems)


def _missing_columns(file: str, line: int, header: list[str], missing: list[str]) -> dict[str, Any]:
    return _finding(
        "QC207",
        file,
        line,
        1,
        observed=_short(", ".join(header)),
        expected=", ".join((*REQUIRED, *(f"[{name}]" for name in OPTIONAL))),
        message=f"header lacks column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; no row checked",
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


class RecordValidator:
    """jsonschema validation of quote records that remembers which record shapes are valid.

    Validating each of a million records with jsonschema costs about 40 us apiece. Two records
    whose values have the same shape (as far as the schema's keywords can tell) get the same
    verdict, so once a shape has been found valid, records of that shape are not validated again;
    an invalid record is always validated in full, so its findings are jsonschema's own.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.validator = Draft202012Validator(schema)
        properties = schema.get("properties", {})
        self.shapes: dict[str, dict[str, Any]] = {
            name: sub
            for name, sub in properties.items()
            if isinstance(sub, dict) and set(sub) <= _SHAPE_KEYWORDS
        }
        self.cacheable = set(schema) <= _RECORD_KEYWORDS and len(self.shapes) == len(properties)
        self.valid_shapes: set[tuple] = set()

    def errors(self, record: Any) -> list[Any]:
        """jsonschema's errors for a record, in a stable order (none for a record of a valid shape)."""
        shape = self._shape(record)
        if shape is not None and shape in self.valid_shapes:
            return []
        errors = sorted(self.validator.iter_errors(record), key=_error_order)
        if shape is not None and not errors:
            self.valid_shapes.add(shape)
        return errors

    def _shape(self, record: Any) -> tuple | None:
        if not self.cacheable or not isinstance(record, dict):
            return None
        parts = []
        for name in sorted(self.shapes.keys() & record.keys()):
            sub, value = self.shapes[name], record[name]
            minimum = sub.get("minimum")
            if isinstance(value, str):
                parts.append((name, "str", min(len(value), sub.get("minLength", 0))))
            elif isinstance(value, bool) or value is None:
                parts.append((name, type(value).__name__))
            elif isinstance(value, int | float):
                integral = isinstance(value, int) or value.is_integer()
                below = None if minimum is None else bool(value < minimum)
                parts.append((name, type(value).__name__, integral, below))
            else:
                return None  # arrays and objects: validated every time
        return tuple(parts)


def _error_order(error: Any) -> tuple[list[str], str]:
    return list(map(str, error.absolute_path)), error.message


@lru_cache(maxsize=1)
def record_validator() -> RecordValidator:
    """The validator for one quote record (`$defs/quote` of schemas/quotes.schema.json)."""
    schema = json.loads(schema_path("quotes.schema.json").read_text(encoding="utf-8"))
    return RecordValidator(schema["$defs"]["quote"])


class _Lines:
    """Offsets to (line, column), for offsets visited in increasing order (linear overall)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1
        self.line_start = 0

    def at(self, offset: int) -> tuple[int, int]:
        if offset < self.offset:  # only after an error; rare, so counting from the start is fine
            self.offset, self.line, self.line_start = 0, 1, 0
        breaks = self.text.count("\n", self.offset, offset)
        if breaks:
            self.line += breaks
            self.line_start = self.text.rfind("\n", self.offset, offset) + 1
        self.offset = offset
        return self.line, offset - self.line_start + 1


def _skip(text: str, position: int) -> int:
    return _WHITESPACE.match(text, position).end()


def _value(decoder: json.JSONDecoder, text: str, position: int) -> tuple[Any, int]:
    try:
        return decoder.raw_decode(text, position)
    except json.JSONDecodeError as error:
        raise _SyntaxProblem(error.pos, error.msg) from None
    except RecursionError:
        raise _SyntaxProblem(position, "nested too deeply") from None


def _array(
    decoder: json.JSONDecoder, text: str, position: int, prefix: str
) -> Generator[tuple[str, int, Any], None, int]:
    """(pointer, offset, value) of each element of the array at `position`; returns the offset after it."""
    position = _skip(text, position + 1)
    if text.startswith("]", position):
        return position + 1
    index = 0
    while True:
        value, end = _value(decoder, text, position)
        yield f"{prefix}/{index}", position, value
        index += 1
        position = _skip(text, end)
        if position >= len(text):
            raise _SyntaxProblem(position, "the array is not closed (file cut off?)")
        if text[position] == "]":
            return position + 1
        if text[position] != ",":
            raise _SyntaxProblem(position, "expected ',' or ']' after an array element")
        position = _skip(text, position + 1)


def _document(decoder: json.JSONDecoder, text: str) -> Iterator[tuple[str, int, Any]]:
    """The quote records of a JSON document: a top-level array, or the `quotes` array of an object."""
    position = _skip(text, 0)
    if position >= len(text):
        return
    if text[position] == "[":
        end = yield from _array(decoder, text, position, "")
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
            position = yield from _array(decoder, text, position, "/quotes")
        else:
            _unused, position = _value(decoder, text, position)
        position = _skip(text, position)
        if position >= len(text):
            raise _SyntaxProblem(position, "the object is not closed (file cut off?)")
        if text[position] == ",":
            position = _skip(text, position + 1)
        elif text[position] != "}":
            raise _SyntaxProblem(position, "expected ',' or '}' after a property")
    if not found:
        raise _SyntaxProblem(0, "the object has no `quotes` array")


def json_records(text: str, file: str, lines_format: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of a JSON document or, with `lines_format`, a JSON Lines file; each one validated first."""
    if text.startswith("\ufeff"):
        text = text[1:]
    problems: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    validator = record_validator()
    entries = _jsonl_entries(text, file, problems) if lines_format else _json_entries(text, file, problems)
    for number, (pointer, line, column, value) in enumerate(entries, start=1):
        errors = validator.errors(value)
        if errors:
            problems.extend(_schema_finding(file, line, column, number, pointer, error) for error in errors)
            continue
        rows.append(value)
        lines.append(line)
    return _frame(rows, lines), from_records(problems)


def _json_entries(
    text: str, file: str, problems: list[dict[str, Any]]
) -> Iterator[tuple[str, int, int, Any]]:
    decoder = json.JSONDecoder()
    where = _Lines(text)
    try:
        for pointer, offset, value in _document(decoder, text):
            line, column = where.at(offset)
            yield pointer, line, column, value
    except _SyntaxProblem as problem:
        line, column = _Lines(text).at(min(problem.offset, len(text)))
        problems.append(_syntax_finding(file, line, column, problem.message, text, problem.offset))


def _jsonl_entries(
    text: str, file: str, problems: list[dict[str, Any]]
) -> Iterator[tuple[str, int, int, Any]]:
    decoder = json.JSONDecoder()
    for number, line_text in enumerate(split_lines(text), start=1):
        start = _skip(line_text, 0)
        if start >= len(line_text):
            continue
        try:
            value, end = _value(decoder, line_text, start)
            end = _skip(line_text, end)
            if end < len(line_text):
                raise _SyntaxProblem(end, "extra text after the JSON value")
        except _SyntaxProblem as problem:
            problems.append(
                _syntax_finding(file, number, problem.offset + 1, problem.message, line_text, problem.offset)
            )
            continue
        yield "", number, start + 1, value


def _syntax_finding(
    file: str, line: int, column: int, message: str, text: str, offset: int
) -> dict[str, Any]:
    return _finding(
        "QC906",
        file,
        line,
        column,
        observed=_short(text[offset : offset + 40]) or "(end of file)",
        expected="well-formed JSON",
        message=f"invalid JSON at line {line}, column {column}: {message}",
    )


def _schema_finding(
    file: str, line: int, column: int, number: int, pointer: str, error: Any
) -> dict[str, Any]:
    path = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path)
    where = f"{pointer}{path}" or "/"
    field = str(error.absolute_path[0]) if error.absolute_path else "record"
    return _finding(
        "QC905",
        file,
        line,
        column,
        field=field,
        observed=_short(json.dumps(error.instance, ensure_ascii=False, default=str)),
        expected=_short(json.dumps(error.schema, ensure_ascii=False, default=str)),
        message=_short(f"record {number} at {where}: {_json_message(error)}"),
    )


def _json_message(error: Any) -> str:
    """jsonschema's message with the values it shows written as JSON (`true`, `null`), not Python."""

    def shown(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    value = error.validator_value
    if error.validator == "type":
        types = [value] if isinstance(value, str) else list(value)
        return f"{shown(error.instance)} is not of type {' or '.join(shown(t) for t in types)}"
    if error.validator == "required" and isinstance(error.instance, dict):
        for name in value:
            if name not in error.instance and str(error.message).startswith(repr(name)):
                return f"{shown(name)} is a required property"
    return str(error.message).replace(repr(error.instance), shown(error.instance), 1)
