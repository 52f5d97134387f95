"""The column-wise writers and cell reads give what the value-by-value ones do, on large inputs."""

from __future__ import annotations

import io
import json

import pandas as pd

from checker.api import Options
from checker.findings import normalize
from checker.profile import load_profile
from checker.render import json as json_writer
from checker.render.escape import display
from checker.render.output import binary_under
from checker.render.text import finding_lines
from checker.report import Report
from checker.rules.registry import CheckContext


def _findings(messages: list[str], columns: list[int] | None = None) -> pd.DataFrame:
    n = len(messages)
    frame = pd.DataFrame(
        {
            "rule": ["QC905"] * n,
            "severity": ["error"] * n,
            "file": ["f.txt"] * n,
            "line": list(range(1, n + 1)),
            "column": columns if columns is not None else [3] * n,
            "message": messages,
        }
    )
    return normalize(frame)


def test_many_strings_with_quotes_and_backslashes_are_written_as_json_dumps_writes_them():
    # more than the writer escapes one by one, a few with a control character among them
    texts = [f'say "{i}" \\ {i}' if i % 50 else f'bell\x07 {i} "q"' for i in range(3000)]
    frame = pd.DataFrame({"text": pd.array(texts, dtype="string[pyarrow]")})
    stream = io.StringIO()
    json_writer._write_array(stream, "rows", json_writer._encoded_rows(frame, ("text",)))
    rows = json.loads("{" + stream.getvalue() + "}")["rows"]
    assert [row["text"] for row in rows] == texts
    expected = ",\n    ".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts)
    assert stream.getvalue() == f'  "rows": [\n    {expected}\n  ]'


def test_a_few_messages_to_escape_among_many_leave_the_others_as_they_are():
    messages = [f"percent {i}%" for i in range(1200)]
    messages[7] = "price 2\u00a059.26 holds U+00A0"
    messages[900] = "::error::x"
    report = Report(options=Options(), rules=[], findings=_findings(messages))
    lines = list(finding_lines(report))
    assert lines == [f"f.txt:{n}:3: QC905 [error] {display(m)}" for n, m in enumerate(messages, start=1)]
    assert lines[7].endswith("price 2\u00a059.26 holds U+00A0")  # a doubt, shown as it is
    assert lines[900].endswith("[error] \\x3a:error::x")


def test_a_finding_at_column_0_is_located_at_column_1_whichever_way_its_line_is_built():
    for messages in (["fine", "fine"], ["fine", "\x1b escaped"], ["fine", None]):
        report = Report(options=Options(), rules=[], findings=_findings(messages, columns=[0, 2]))
        assert [line.split(": ", 1)[0] for line in finding_lines(report)] == ["f.txt:1:1", "f.txt:2:2"]


def test_cells_of_a_large_column_are_its_values_read_in_any_order():
    values = [None if i % 7 == 0 else f"S{i}" for i in range(10_000)]
    frame = pd.DataFrame({"symbol": pd.array(values, dtype="string[pyarrow]")})
    ctx = CheckContext(frame=frame, numbers={}, profile=load_profile())
    rows = [9_999, 0, 4_097, 2_048, 2_047, 5, 9_998, 4_096]
    assert [ctx.cell("symbol", row) for row in rows] == [values[row] for row in rows]
    assert [ctx.cell("symbol", row) for row in range(10_000)] == values


def test_a_missing_severity_is_shown_as_line_by_line_shows_it():
    frame = _findings(["fine", "\x1b escaped"])
    frame["severity"] = pd.array([None, "error"], dtype="string[pyarrow]")
    report = Report(options=Options(), rules=[], findings=frame)
    assert list(finding_lines(report)) == [
        "f.txt:1:3: QC905 [None] fine",
        "f.txt:2:3: QC905 [error] \\x1b escaped",
    ]


def test_a_json_report_written_to_a_file_as_arrow_bytes_is_the_text_written_to_a_text_stream(tmp_path):
    # Two chunks of rows, one of them holding a row json_safe must change (the text path).
    messages = [f"percent {i}% ▲" for i in range(2 * json_writer._CHUNK + 10)]
    messages[json_writer._CHUNK + 3] = "bidi \u202e here"
    report = Report(options=Options(), rules=[], findings=_findings(messages))
    text = io.StringIO()
    json_writer.write_json(report, text)
    target = tmp_path / "report.json"
    with target.open("w", encoding="utf-8") as stream:
        assert binary_under(stream) is not None  # the bytes go to the file as they are
        json_writer.write_json(report, stream)
    assert target.read_text(encoding="utf-8") == text.getvalue()
    rows = json.loads(text.getvalue())["findings"]
    assert [row["message"] for row in rows][:3] == messages[:3]
    assert rows[json_writer._CHUNK + 3]["message"] == "bidi \u202e here"
    assert '"bidi \\u202e here"' in text.getvalue()  # escaped in the text, never raw
    with (tmp_path / "latin.json").open("w", encoding="latin-1") as stream:
        assert binary_under(stream) is None  # not UTF-8 underneath: written as text


def test_finding_lines_written_to_a_file_as_arrow_bytes_are_the_lines_written_as_text(tmp_path):
    from checker.render.terminal import make_console, render_terminal

    messages = [f"percent {i}% ▲" for i in range(json_writer._CHUNK + 10)]
    messages[3], messages[json_writer._CHUNK + 2] = "bidi \u202e here", "::error::x"
    report = Report(options=Options(), rules=[], findings=_findings(messages))
    text = io.StringIO()
    render_terminal(report, make_console(file=text, width=100, color_system=None))
    target = tmp_path / "lines.txt"
    with target.open("w", encoding="utf-8") as stream:
        render_terminal(report, make_console(file=stream, width=100, color_system=None))
    written = target.read_text(encoding="utf-8")
    assert written == text.getvalue()
    lines = written.splitlines()
    assert lines[: len(messages)] == [
        f"f.txt:{n}:3: QC905 [error] {display(m)}" for n, m in enumerate(messages, 1)
    ]
    assert "\u202e" not in written and lines[3].endswith("bidi \\u202e here")
