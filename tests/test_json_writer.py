"""The JSON report's column-at-a-time writer writes what `json.dumps` of each row would."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.findings import FINDING_COLUMNS, empty_findings, normalize
from checker.render import json as json_writer
from checker.render.escape import json_safe

HOSTILE = [
    "plain",
    "",
    'a "quoted" \\ back\\slash',
    "\x00\x01\x1b[2J\x1f tab\tnew\nline\rcr\b\f",
    "\x7f del \x85 next \x9b c1",
    "\u202e bidi \u2066 isolate \u2069 \u200e \u200f \u061c",
    "\u2028 line \u2029 para",
    "##[error] legacy ## [ #[ ###[",
    "::error::x %0A %25 %s %d %%",
    "▲ 1.37 (2.27%) کراچی 株価 😀",
    "</script><b>&amp;",
    "x" * 600,
]


def _reference(frame: pd.DataFrame, columns: tuple[str, ...]) -> str:
    """The array's rows written the straightforward way: json.dumps of a dict per row."""
    rows = []
    for record in frame.astype(object).to_dict("records"):
        row = {}
        for name in columns:
            value = record[name]
            if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            row[name] = value
        rows.append(json.dumps(row, ensure_ascii=False, allow_nan=False))
    return json_safe(",\n    ".join(rows))


def _fast(frame: pd.DataFrame, columns: tuple[str, ...]) -> str:
    stream = io.StringIO()
    json_writer._write_array(stream, "rows", json_writer._encoded_rows(frame, columns))
    text = stream.getvalue()
    head = '  "rows": ['
    assert text.startswith(head)
    body = text[len(head) :]
    if body == "]":
        return ""
    assert body.startswith("\n    ") and body.endswith("\n  ]")
    return body[len("\n    ") : -len("\n  ]")]


def _findings(texts: list[str | None]) -> pd.DataFrame:
    n = len(texts)
    frame = pd.DataFrame(
        {
            "rule": ["QC905", "QC101"] * (n // 2) + ["QC905"] * (n % 2),
            "name": [f"name-{i % 3}" for i in range(n)],
            "severity": ["error"] * n,
            "file": ["a/ファイル\x1b.jsonl"] * n,
            "line": [None if i % 4 == 0 else i for i in range(n)],
            "column": [i * 7 for i in range(n)],
            "end_column": [None] * n,
            "symbol": texts[::-1],
            "field": [None if i % 5 == 0 else "price" for i in range(n)],
            "observed": texts,
            "expected": [t if i % 2 else "a number" for i, t in enumerate(texts)],
            "message": [None if t is None else f"record {i}: {t}" for i, t in enumerate(texts)],
        }
    )
    return normalize(frame)


def test_findings_are_written_as_json_dumps_writes_each_row(monkeypatch):
    texts = [*HOSTILE, None, *HOSTILE[::-1], None]
    frame = _findings(texts * 3)
    monkeypatch.setattr(json_writer, "_CHUNK", 7)  # several chunks, one of them short
    fast = _fast(frame, FINDING_COLUMNS)
    assert fast == _reference(frame, FINDING_COLUMNS)
    rows = json.loads("[" + fast + "]")
    assert [row["observed"] for row in rows] == texts * 3
    assert "\x1b" not in fast and "\u202e" not in fast and "##[" not in fast and "\x85" not in fast


def test_no_findings_is_an_empty_array():
    assert _fast(empty_findings(), FINDING_COLUMNS) == ""


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=1, max_size=30))
def test_any_text_is_written_as_json_dumps_writes_it(texts):
    frame = _findings(texts)
    assert _fast(frame, FINDING_COLUMNS) == _reference(frame, FINDING_COLUMNS)


def test_columns_of_other_types_are_written_value_by_value():
    """Floats (not finite ones as null), booleans, numpy ints and object text with a lone
    surrogate, as in the quotes frame."""
    frame = pd.DataFrame(
        {
            "price": [1.5, float("nan"), float("inf"), 207.0, 1e-7, None],
            "count": pd.Series([1, 2, 3, 4, 5, 6], dtype="int64"),
            "flag": pd.array([True, False, None, True, False, True], dtype="boolean"),
            "text": pd.Series(["ok", "lone \udc80 byte", "\ud800", None, "\x1b", "▲"], dtype=object),
            "kind": pd.array(["stock", None, "index", "stock", "a\u2028b", "##["], dtype="string[python]"),
        }
    )
    columns = tuple(frame.columns)
    fast = _fast(frame, columns)
    assert fast == _reference(frame, columns)
    assert [row["price"] for row in json.loads("[" + fast + "]")] == [1.5, None, None, 207.0, 1e-7, None]
    assert "\\\\xdc80" not in fast and "lone \\\\x80 byte" in fast  # the byte a surrogate stands for


def test_a_whole_report_is_json_dumps_of_its_rows(tmp_path):
    """write_json end to end: the findings array of a report reads back as each finding's row."""
    from checker.api import check_paths

    page = tmp_path / "hostile.jsonl"
    lines = [json.dumps({"symbol": text, "price": text}) for text in HOSTILE]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = check_paths([page])
    stream = io.StringIO()
    json_writer.write_json(report, stream)
    document = json.loads(stream.getvalue())
    assert len(document["findings"]) == len(report.findings) > len(HOSTILE) - 1
    expected = json.loads("[" + _reference(report.findings, FINDING_COLUMNS) + "]")
    assert document["findings"] == expected
