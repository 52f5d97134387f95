"""Bad input never costs a byte: a message naming the file, the documented exit status, the rest checked."""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.api import check_bytes, check_paths
from checker.cli import cli
from checker.config import Options
from checker.exitcodes import ExitStatus
from checker.inputs.sources import _gunzip, read_stream
from checker.read import decode

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample-page.txt"
AIRLINK = "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)"
KEL = "KEL 4.96 Decreased By ▼ -0.04 (-0.8%)"


def run(*args):
    result = CliRunner().invoke(
        cli, ["check", "--no-config", "--no-report", "--format", "text", *map(str, args)]
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def finding_lines(output, code):
    return [line for line in output.splitlines() if f" {code} [" in line]


def only(report, code):
    rows = report.findings[report.findings["rule"] == code]
    assert len(rows) == 1, report.findings[["rule", "message"]].to_string()
    return rows.iloc[0]


def test_empty_file_is_a_no_quotes_warning_naming_the_file(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = run(empty)
    assert result.exit_code == ExitStatus.OK
    assert finding_lines(result.output, "QC903") == [
        f"{empty}: QC903 [warning] {empty}: empty file (0 bytes)"
    ]
    assert run("--fail-on", "warning", empty).exit_code == ExitStatus.FINDINGS


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        bytes(range(32)) * 50,
        b"\x00" * 1000,
        bytes((i * 7919 + 13) % 256 for i in range(5000)),  # noise
    ],
)
def test_binary_file_is_unreadable_with_exit_2(tmp_path, data):
    path = tmp_path / "blob.txt"
    path.write_bytes(data)
    result = run(path)
    assert result.exit_code == ExitStatus.USAGE
    [line] = finding_lines(result.output, "QC901")
    assert line.startswith(f"{path}: QC901 [error] {path}: binary file")
    assert check_paths([path]).files[0].status == "unreadable"


def test_text_with_a_few_nul_bytes_is_checked_and_the_nuls_reported():
    data = f"{AIRLINK}\n\x00\x00{KEL}\nBOP 10.39 Decreased\x00 By ▼ -0.10 (-0.95%)\n".encode()
    report = check_bytes(data, "nul.txt")
    rows = report.findings[report.findings["rule"] == "QC902"]
    offset_1 = data.index(b"\x00")
    offset_2 = data.rindex(b"\x00")
    assert list(rows["message"]) == [f"nul.txt: 2 NUL bytes at byte offset {offset_1}"]
    assert [(int(r.line), int(r.column)) for r in rows.itertuples()] == [(2, 1)]
    assert report.summary()["quotes"] == 2  # AIRLINK and KEL; the BOP line is broken and reported
    # the NUL inside the broken BOP line is named in that line's finding, not in a second one
    (broken,) = report.findings[report.findings["rule"] == "QC102"]["message"]
    assert f"at column 20 are NUL bytes (00, at byte offset {offset_2})" in broken


def test_undecodable_bytes_are_located_by_offset_line_and_column_and_the_rest_is_checked():
    data = AIRLINK.encode() + b"\nab\xff\xfecd " + KEL.encode() + b"\n\xc3"
    report = check_bytes(data, "latin.txt")
    rows = report.findings[report.findings["rule"] == "QC902"]
    assert [(int(r.line), int(r.column), r.observed) for r in rows.itertuples()] == [
        (2, 3, "ff fe"),
        (3, 1, "c3"),
    ]
    offset = data.index(b"\xff")
    assert f"byte offset {offset}" in rows["message"].iloc[0]
    assert report.summary()["quotes"] == 2
    assert report.exit_status == ExitStatus.FINDINGS


def test_decoding_many_bad_bytes_reports_each_run_once():
    data = b"x\xff" * 20000
    decoded = decode(data)
    assert len(decoded.problems) == 20000
    assert decoded.problems[-1].byte_offset == len(data) - 1
    assert decoded.problems[-1].column == 40000


def test_file_with_no_quotes(tmp_path):
    prose = tmp_path / "prose.txt"
    prose.write_text("Markets were closed today.\nKSE100 Nosedives by over 800pts\n", encoding="utf-8")
    result = run(prose)
    assert result.exit_code == ExitStatus.OK
    assert finding_lines(result.output, "QC903") == [
        f"{prose}: QC903 [warning] {prose}: no quote found in 2 lines"
    ]


def test_directory_with_no_inputs_exits_2_and_the_other_inputs_are_still_checked(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("nothing", encoding="utf-8")
    result = run(empty, SAMPLE)
    assert result.exit_code == ExitStatus.USAGE
    [line] = finding_lines(result.output, "QC901")
    assert line == f"{empty}: QC901 [error] {empty}: directory holds no input file (known input extensions)"
    assert "2 files, 34 quotes" in result.output


def test_missing_path_exits_2_and_the_other_files_are_still_checked(tmp_path):
    missing = tmp_path / "missing.txt"
    result = run(missing, SAMPLE)
    assert result.exit_code == ExitStatus.USAGE
    assert finding_lines(result.output, "QC901") == [
        f"{missing}: QC901 [error] {missing}: cannot read: No such file or directory"
    ]
    assert "2 files, 34 quotes" in result.output


def test_unreadable_file_exits_2(tmp_path, monkeypatch):
    import checker.inputs.sources as sources

    locked = tmp_path / "locked.txt"
    locked.write_text(AIRLINK, encoding="utf-8")
    real_open = os.open

    def denied(path, *args, **kwargs):  # what chmod 0 does to anyone but root
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(sources.os, "open", denied)
    result = run(locked, SAMPLE)
    assert result.exit_code == ExitStatus.USAGE
    assert "Permission denied" in finding_lines(result.output, "QC901")[0]


def test_a_path_that_is_a_directory_given_to_the_engine_is_a_finding(tmp_path):
    from checker.engine import Checker
    from checker.inputs.sources import InputRef

    checked = Checker(Options()).check_input(InputRef(str(tmp_path), tmp_path))
    findings = checked.findings
    assert checked.result.status == "unreadable"
    assert list(findings["rule"]) == ["QC901"]
    assert str(tmp_path) in findings["message"].iloc[0]


def test_long_single_line_keeps_every_quote():
    line = " ".join([AIRLINK.replace("AIRLINK", f"S{i}") for i in range(20000)])
    report = check_bytes(line.encode(), "long.txt")
    assert report.summary()["quotes"] == 20000
    assert report.summary()["lines"] == 1


def test_truncated_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('[\n  {"symbol": "AIRLINK", "price": "207.00",\n   "direction": "Incr', encoding="utf-8")
    result = run(path)
    assert result.exit_code == ExitStatus.FINDINGS
    [line] = finding_lines(result.output, "QC906")
    assert line.startswith(
        f"{path}:3:17: QC906 [error] invalid JSON at line 3, column 17: Unterminated string"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100000, "nested too deeply"),
        ('{"other": 1}', "the object has no `quotes` array"),
        ("42", "expected an array of quote records"),
        ('[{"symbol": "X"}] trailing', "extra text after the JSON document"),
        ('[{"symbol": "X"} {"symbol": "Y"}]', "expected ',' or ']'"),
    ],
)
def test_malformed_json_documents_are_findings(text, message):
    report = check_bytes(text.encode(), "bad.json")
    row = only(report, "QC906")
    assert message in row["message"]
    assert report.exit_status == ExitStatus.FINDINGS


def test_csv_missing_columns_and_bad_values_name_file_and_line(tmp_path):
    missing = tmp_path / "missing.csv"
    missing.write_text("symbol,price\nBOP,10.39\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("symbol,price,direction,arrow,change,percent\nBOP,1O.39,Decreased By,▼,-0.10,-0.95\n")
    result = run(missing, bad)
    assert result.exit_code == ExitStatus.FINDINGS
    [line] = finding_lines(result.output, "QC207")
    assert line.startswith(f"{missing}:1:1: QC207 [error] header lacks columns direction, change, percent")
    assert finding_lines(result.output, "QC206")[0].startswith(f"{bad}:2:5: QC206 [error]")  # the price cell


def test_csv_syntax_error_keeps_rows_before_it():
    text = (
        "symbol,price,direction,arrow,change,percent\n"
        + "KEL,4.96,Decreased By,▼,-0.04,-0.8\n"
        + ('BOP,"10.39' + "x" * 200000 + "\n")
    )
    report = check_bytes(text.encode(), "big.csv")
    assert report.summary()["quotes"] == 1
    assert "not valid CSV" in only(report, "QC906")["message"]


# ---------------------------------------------------------------------------------- gzip


def test_decompression_bomb_is_refused_without_inflating_it(tmp_path):
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(b"\x00" * (50 << 20), compresslevel=9))
    result = run("--max-decompressed-size", 1 << 20, bomb, SAMPLE)
    assert result.exit_code == ExitStatus.USAGE
    [line] = finding_lines(result.output, "QC901")
    assert f"{bomb}: decompresses to more than 1048576 bytes (--max-decompressed-size); refused" in line
    assert "2 files, 34 quotes" in result.output


def test_gunzip_stops_reading_at_the_cap():
    # a stream that would decompress to 1 GiB: reading must stop after the first few chunks
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\x00" * (1 << 20)
    consumed = 0

    def chunks():
        nonlocal consumed
        yield compressor.compress(zeros)
        for _ in range(1024):
            consumed += 1
            yield compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)

    raw = _gunzip("bomb.gz", chunks(), 4 << 20)
    assert not raw.complete and "refused" in (raw.problem or "")
    assert consumed < 10


def test_truncated_gzip_checks_what_was_read_and_exits_2(tmp_path):
    packed = gzip.compress(SAMPLE.read_bytes())
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    report = check_paths([cut])
    assert report.exit_status == ExitStatus.USAGE
    assert "gzip data cut off after" in only(report, "QC901")["message"]
    assert 0 < report.summary()["quotes"] < 34


def test_corrupt_gzip_is_unreadable(tmp_path):
    corrupt = tmp_path / "corrupt.txt.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 100)
    report = check_paths([corrupt])
    assert report.exit_status == ExitStatus.USAGE
    messages = list(report.findings["message"])
    assert any(m.startswith(f"{corrupt}: corrupt gzip data after 0 decompressed bytes") for m in messages)
    assert report.summary()["quotes"] == 0


def test_gzip_magic_in_front_of_a_page_does_not_lose_its_quotes():
    report = check_bytes(b"\x1f\x8b" + SAMPLE.read_bytes(), "page.txt")
    assert report.summary()["quotes"] == 34
    assert report.exit_status == ExitStatus.USAGE
    assert "read as uncompressed bytes instead" in only(report, "QC901")["message"]


def test_binary_looking_file_keeps_the_quotes_it_holds():
    junk = bytes(range(1, 9)) * 200
    report = check_bytes(junk + b"\n" + AIRLINK.encode() + b"\n" + junk, "mixed.txt")
    assert report.exit_status == ExitStatus.USAGE
    assert report.summary()["quotes"] == 1
    assert "binary file" in only(report, "QC901")["message"]


def test_size_cap_applies_to_plain_input_too():
    raw = read_stream("big.txt", io.BytesIO(b"x" * 1000), max_size=999)
    assert not raw.complete and "larger than the cap of 999 bytes" in (raw.problem or "")
    assert read_stream("ok.txt", io.BytesIO(b"x" * 999), max_size=999).data == b"x" * 999


# -------------------------------------------------------------------------- internal errors


def test_internal_error_is_a_finding_with_exit_3_and_other_files_are_still_checked(tmp_path, monkeypatch):
    from checker.engine import Checker

    broken = tmp_path / "broken.html"
    broken.write_text(f"<p>{AIRLINK}</p>", encoding="utf-8")

    def explode(*_args, **_kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(Checker, "_html", explode)
    result = run(broken, SAMPLE)
    assert result.exit_code == ExitStatus.INTERNAL
    assert finding_lines(result.output, "QC904") == [
        f"{broken}: QC904 [error] {broken}: internal error: RuntimeError: simulated failure"
    ]
    assert "2 files, 34 quotes" in result.output
    assert "Traceback" not in result.output


def test_check_bytes_never_raises(monkeypatch):
    import checker.engine

    monkeypatch.setattr(checker.engine, "decode", lambda _data: 1 / 0)
    report = check_bytes(b"AIRLINK", "x.txt")
    assert report.exit_status == ExitStatus.INTERNAL
    assert "ZeroDivisionError" in only(report, "QC904")["message"]


# ------------------------------------------------------------------------------ safe output


def test_report_over_an_input_is_refused_and_names_both(tmp_path):
    page = tmp_path / "page.txt"
    page.write_bytes(SAMPLE.read_bytes())
    for option in ("--json", "--html", "--sarif", "--junit", "--markdown"):
        result = CliRunner().invoke(cli, ["check", "--no-config", option, str(page), str(page)])
        assert result.exit_code == ExitStatus.USAGE, option
        assert f"refusing to write the report {page} over the input {page}" in result.output
        assert page.read_bytes() == SAMPLE.read_bytes()
    other = tmp_path / "other" / ".." / "page.txt"  # the same file by another name
    result = CliRunner().invoke(cli, ["check", "--no-config", "--json", str(other), str(page)])
    assert result.exit_code == ExitStatus.USAGE


def test_reports_are_written_atomically(tmp_path, monkeypatch):
    import checker.render.json as json_render

    target = tmp_path / "report.json"
    target.write_text('{"old": true}', encoding="utf-8")

    def half_then_fail(_report, stream):
        stream.write('{"half": ')
        raise KeyboardInterrupt

    monkeypatch.setattr(json_render, "write_json", half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        json_render.save_json(check_bytes(AIRLINK.encode()), target)
    assert json.loads(target.read_text(encoding="utf-8")) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_every_report_writer_goes_through_the_atomic_writer():
    import ast

    render = Path(__file__).resolve().parent.parent / "checker" / "render"
    for module in sorted(render.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("save_"):
                calls = {
                    n.func.id
                    for n in ast.walk(node)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                }
                assert "atomic_writer" in calls, f"{module.name}: {node.name} does not write atomically"


def test_fifo_in_a_folder_is_reported_not_read(tmp_path):
    (tmp_path / "page.txt").write_bytes(SAMPLE.read_bytes())
    os.mkfifo(tmp_path / "pipe.txt")  # opening it would block until a writer came
    result = run(tmp_path)
    assert result.exit_code == ExitStatus.USAGE
    assert finding_lines(result.output, "QC901") == [
        f"{tmp_path / 'pipe.txt'}: QC901 [error] {tmp_path / 'pipe.txt'}: "
        "a FIFO (named pipe), not a regular file; skipped"
    ]
    assert "2 files, 34 quotes" in result.output


def test_unlistable_subfolder_is_reported(tmp_path, monkeypatch):
    (tmp_path / "page.txt").write_bytes(SAMPLE.read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def denied(path="."):  # what chmod 0 does to anyone but root
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    report = check_paths([tmp_path])
    assert report.exit_status == ExitStatus.USAGE
    assert "cannot read" in only(report, "QC901")["message"]


def test_check_text_and_check_frame_never_raise(monkeypatch):
    import pandas as pd

    import checker.api
    from checker.engine import Checker

    monkeypatch.setattr(Checker, "_text", lambda *_args: 1 / 0)
    report = checker.api.check_text(AIRLINK, "t.txt")
    assert report.exit_status == ExitStatus.INTERNAL
    assert "ZeroDivisionError" in only(report, "QC904")["message"]
    frame = checker.api.check_frame(pd.DataFrame({"symbol": [object()], "price": [[1]]}), "f")
    assert frame.exit_status in (ExitStatus.INTERNAL, ExitStatus.FINDINGS)


def test_html_nested_past_the_parser_limit_is_reported_where_it_gave_up():
    page = f"<p>{KEL}</p>\n" + "<div>" * 3000 + AIRLINK + "</div>" * 3000
    report = check_bytes(page.encode(), "deep.html")
    assert report.summary()["quotes"] == 1  # KEL, before the point where the parser stopped
    row = only(report, "QC906")
    assert int(row["line"]) == 2
    assert "the HTML parser gave up here (Excessive depth" in row["message"]


def test_a_broken_stretch_on_a_huge_line_is_clipped_in_the_finding():
    unit = "AIRLINK 207.00 Increased By ▲ 6.71 (3.35 "
    line = unit * 50000
    report = check_bytes(line.encode(), "near.txt")
    row = only(report, "QC102")
    assert len(row["observed"]) == 200 and line.startswith(row["observed"][:-1])
    assert int(row["end_column"]) == len(line.rstrip())


def test_bytes_after_the_gzip_data_are_reported_but_zero_padding_is_not():
    packed = gzip.compress(SAMPLE.read_bytes())
    padded = read_stream("padded.txt.gz", io.BytesIO(packed + b"\x00" * 512))
    assert padded.problem is None and padded.data == SAMPLE.read_bytes()
    report = check_bytes(packed + b"junk", "junk.txt.gz")
    assert report.summary()["quotes"] == 34
    assert (
        only(report, "QC901")["message"]
        == "junk.txt.gz: 4 bytes after the end of the gzip data were not read"
    )
    assert report.exit_status == ExitStatus.USAGE
