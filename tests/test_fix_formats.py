"""Repairs of pretty-printed JSON records (each member where it stands, on its own line) and of
compressed files (a repaired copy with --fix-to, compressed again; never in place)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.cli import cli
from checker.config import Options
from checker.repair import repair_bytes

_AIRLINK = {"symbol": "AIRLINK", "price": 207.0, "direction": "Increased By", "arrow": "▲"}
_BOP = {"symbol": "BOP", "price": 10.39, "direction": "Decreased By", "arrow": "▼"}
_KEL = {"symbol": "KEL", "price": "4.96", "direction": "Decreased By", "arrow": "▼"}
_OGDC = {"symbol": "OGDC", "price": "221.20", "direction": "Decreased By", "arrow": "▼"}
CLEAN = [
    {**_AIRLINK, "change": 6.71, "percent": 3.35},
    {**_BOP, "change": -0.1, "percent": -0.95},
    {**_KEL, "change": "-0.04", "percent": "-0.8"},
    {**_OGDC, "change": "-0.95", "percent": "-0.43"},
]


def _faulty() -> list[dict]:
    records = json.loads(json.dumps(CLEAN))
    records[0]["arrow"] = "▼"  # an arrow against the figures (a string member)
    records[1]["percent"] = 0.95  # a percent's sign alone (a number member)
    records[2]["percent"] = "-0.80"  # an untrimmed zero
    records[3]["price"] = "221.2"  # a stock price's format
    return records


def _pretty(records: list[dict], indent: int | str = 2, newline: str = "\n", bom: bool = False) -> bytes:
    text = json.dumps({"quotes": records}, indent=indent, ensure_ascii=False)
    return (("\ufeff" if bom else "") + text.replace("\n", newline) + newline).encode("utf-8")


@pytest.mark.parametrize(
    ("indent", "newline", "bom"),
    [(2, "\n", False), (4, "\r\n", False), ("\t", "\n", True), (1, "\r\n", True)],
)
def test_pretty_printed_json_records_are_repaired_member_by_member(indent, newline, bom):
    faulty = _pretty(_faulty(), indent, newline, bom)
    clean = _pretty(CLEAN, indent, newline, bom)
    assert faulty != clean
    result = repair_bytes(faulty, "page.json", Options())
    assert result.repaired == clean  # each member back, every other byte as it was
    assert {f.rule for f in result.applied} == {"QC302", "QC301", "QC403", "QC401"}
    assert repair_bytes(result.repaired, "page.json", Options()).repaired == result.repaired


def test_a_record_half_on_its_first_line_and_duplicate_keys():
    # The members on the record's first line are placed by the reader, the others by the walk; of
    # two `arrow` keys the last is the one decoded, and the one repaired.
    text = (
        '{"quotes": [\n'
        '  {"symbol": "BOP", "price": "10.39",\n'
        '   "direction": "Decreased By", "arrow": "▼",\n'
        '   "change": "-0.10", "arrow": "▲",\n'
        '   "percent": "-0.95"}\n'
        "]}\n"
    )
    result = repair_bytes(text.encode("utf-8"), "page.json", Options())
    assert result.repaired.decode("utf-8") == text.replace('"arrow": "▲"', '"arrow": "▼"')


def test_a_member_written_with_an_escape_is_not_edited():
    text = (
        '{"quotes": [\n {\n  "symbol": "BOP", "price": "10.39", "direction": "Decreased By",\n'
        '  "arrow": "\\u25b2",\n  "change": "-0.10",\n  "percent": "-0.95"\n }\n]}\n'
    )
    data = text.encode("utf-8")
    result = repair_bytes(data, "page.json", Options())
    assert result.repaired == data and not result.applied


def test_pretty_json_with_lone_cr_line_breaks_is_left_alone():
    # The reader counts lines at LF; a lone CR would put the members on other lines for the editor.
    data = _pretty(_faulty(), 2, "\r")
    assert repair_bytes(data, "page.json", Options()).repaired == data


def _run(args: list[str], folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli, ["check", *args, "--no-report"])
    return result.exit_code, result.stderr


PAGE = "BOP 10.39 Decreased By ▲ -0.10 (-0.95%)\nKEL 4.96 Decreased By ▼ -0.04 (-0.80%)\n"
FIXED = "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\nKEL 4.96 Decreased By ▼ -0.04 (-0.8%)\n"


def test_a_compressed_file_gets_a_repaired_copy_compressed_again(tmp_path, monkeypatch):
    raw = gzip.compress(PAGE.encode("utf-8"), mtime=1234)
    (tmp_path / "page.txt.gz").write_bytes(raw)
    (tmp_path / "clean.txt.gz").write_bytes(gzip.compress(FIXED.encode("utf-8"), mtime=99))
    status, err = _run(["page.txt.gz", "clean.txt.gz", "--fix-to", "out"], tmp_path, monkeypatch)
    assert status == 0, err
    assert (tmp_path / "page.txt.gz").read_bytes() == raw  # the archive untouched
    copy = (tmp_path / "out" / "page.txt.gz").read_bytes()
    assert gzip.decompress(copy) == FIXED.encode("utf-8")
    assert copy == gzip.compress(FIXED.encode("utf-8"), mtime=0)  # the same repair, the same bytes
    # a compressed file with nothing to repair is copied as it is
    assert (tmp_path / "out" / "clean.txt.gz").read_bytes() == (tmp_path / "clean.txt.gz").read_bytes()
    status, _ = _run(["out/page.txt.gz", "--fix-to", "again"], tmp_path, monkeypatch)
    assert (tmp_path / "again" / "out" / "page.txt.gz").read_bytes() == copy


@pytest.mark.parametrize(("flag", "why"), [("--fix", "not repaired in place"), ("--diff", "no diff shown")])
def test_a_compressed_file_is_not_repaired_in_place_nor_diffed(tmp_path, monkeypatch, flag, why):
    raw = gzip.compress(PAGE.encode("utf-8"))
    (tmp_path / "page.txt.gz").write_bytes(raw)
    status, err = _run(["page.txt.gz", flag], tmp_path, monkeypatch)
    assert (tmp_path / "page.txt.gz").read_bytes() == raw
    assert why in err and "--fix-to DIR" in err and "Traceback" not in err
    assert status in (1, 2)


def test_a_broken_compressed_file_is_named_not_a_traceback(tmp_path, monkeypatch):
    (tmp_path / "page.txt.gz").write_bytes(gzip.compress(PAGE.encode("utf-8"))[:-9])
    status, err = _run(["page.txt.gz", "--fix-to", "out"], tmp_path, monkeypatch)
    assert "Traceback" not in err and status != 3
    assert not (tmp_path / "out" / "page.txt.gz").exists() or gzip.decompress(
        (tmp_path / "out" / "page.txt.gz").read_bytes()
    )


def test_fix_on_standard_input_prints_the_repaired_text_and_the_findings_on_stderr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = "KSE100 114977 Increased By 172.5 (0.15%)\n" + PAGE
    result = CliRunner().invoke(cli, ["check", "-", "--fix", "--no-report"], input=page.encode("utf-8"))
    assert result.stdout_bytes == ("KSE100 114,977 Increased By 172.5 (0.15%)\n" + FIXED).encode("utf-8")
    assert "Repairs: 3 applied" in result.stderr and "0 errors" in result.stderr  # the repaired text checked
    assert result.exit_code == 0
    # what remains is reported (on stderr) and fails the run
    bad = PAGE + "PIBTL 15.48 Increased By ▲ 0.24 (1.58%)\n"
    result = CliRunner().invoke(cli, ["check", "-", "--fix", "--no-report"], input=bad.encode("utf-8"))
    assert result.stdout_bytes == (FIXED + "PIBTL 15.48 Increased By ▲ 0.24 (1.58%)\n").encode("utf-8")
    assert "<stdin>:3" in result.stderr and result.exit_code == 1


def test_diff_on_standard_input_is_labelled_dash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "-", "--diff", "--no-report"], input=PAGE.encode("utf-8"))
    assert result.exit_code == 1
    assert result.stdout.startswith("--- -\n+++ -\n@@ -1,2 +1,2 @@\n")
    assert "+BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\n" in result.stdout


def test_standard_input_repairs_never_let_content_act(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostile = PAGE + "\x1b]0;owned\x07 ##[error]x\n"
    result = CliRunner().invoke(cli, ["check", "-", "--fix", "--no-report"], input=hostile.encode("utf-8"))
    assert result.exit_code == 2 and "\x1b" not in result.output and not result.stdout_bytes
    assert "repair it as a file" in result.stderr
    result = CliRunner().invoke(cli, ["check", "-", "--diff", "--no-report"], input=hostile.encode("utf-8"))
    assert "\x1b" not in result.output and "diff not shown" in result.stderr


def test_fix_on_standard_input_refuses_a_report_on_stdout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for extra in (["--format", "json"], ["--json", "-"]):
        result = CliRunner().invoke(cli, ["check", "-", "--fix", "--no-report", *extra], input=PAGE)
        assert result.exit_code == 2 and not result.stdout
        assert "repaired text to stdout" in result.stderr


_RISE = {"direction": "Increased By", "arrow": "▲"}


def test_the_json_report_lists_the_repairs_left_on_pretty_printed_records(tmp_path, monkeypatch):
    # A change's sign alone (unsafe) and a percent nine prices could explain (display-only), each
    # on a member's line below its record's first: the report lists both as what remains.
    records = [
        {**_RISE, "symbol": "BOP", "price": "10.51", "change": "-0.12", "percent": "1.15"},
        {**_RISE, "symbol": "PIBTL", "price": "15.48", "change": "0.24", "percent": "1.58"},
    ]
    page = tmp_path / "page.json"
    page.write_bytes(_pretty(records))
    status, err = _run(["page.json", "--fix", "--json", "report.json"], tmp_path, monkeypatch)
    assert status == 1, err
    assert page.read_bytes() == _pretty(records)  # nothing safe to apply
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    left = {(f["rule"], f["applicability"]) for f in report["fixes"]}
    assert left == {("QC301", "unsafe"), ("QC303", "display-only")}
    assert report["summary"]["fixes_remaining"] == 2
    lines = _pretty(records).decode("utf-8").splitlines()
    (unsafe,) = [f for f in report["fixes"] if f["applicability"] == "unsafe"]
    (edit,) = unsafe["edits"]
    assert lines[edit["line"] - 1].strip() == '"change": "-0.12",'  # on the member's own line
    assert lines[edit["line"] - 1][edit["column"] - 1 : edit["end_column"]] == edit["before"] == "-0.12"
    # A report without a repair flag gives the same repairs, in JSON and in SARIF.
    status, err = _run(["page.json", "--json", "plain.json", "--sarif", "plain.sarif"], tmp_path, monkeypatch)
    assert status == 1, err
    plain = json.loads((tmp_path / "plain.json").read_text(encoding="utf-8"))
    key = lambda fix: (fix["rule"], fix["applicability"], json.dumps(fix["edits"]))  # noqa: E731
    assert sorted(map(key, plain["fixes"])) == sorted(map(key, report["fixes"]))
    sarif = json.loads((tmp_path / "plain.sarif").read_text(encoding="utf-8"))
    with_fixes = {r["ruleId"] for r in sarif["runs"][0]["results"] if r.get("fixes")}
    assert "QC301" in with_fixes


@pytest.mark.parametrize("flag", [["--fix"], ["--fix-to", "out"]])
def test_the_json_report_lists_what_remains_when_no_other_report_is_written(tmp_path, monkeypatch, flag):
    # --no-report: the run holds no quotes for the reports, yet its JSON lists the repairs left
    # (a change's sign, unsafe; a percent several figures could explain, display-only).
    page = tmp_path / "page.txt"
    text = "BOP 10.51 Increased By ▲ -0.12 (1.15%)\nPIBTL 15.48 Increased By ▲ 0.24 (1.58%)\n"
    page.write_text(text, encoding="utf-8")
    status, err = _run(["page.txt", *flag, "--json", "report.json"], tmp_path, monkeypatch)
    assert status == 1, err
    assert "2 remaining (1 unsafe, 1 display-only)" in err
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["fixes_remaining"] == 2
    left = {(f["rule"], f["applicability"], f["status"]) for f in report["fixes"]}
    assert left == {("QC301", "unsafe", "available"), ("QC303", "display-only", "available")}
    (edit,) = next(f for f in report["fixes"] if f["rule"] == "QC301")["edits"]
    assert text.splitlines()[edit["line"] - 1][edit["column"] - 1 : edit["end_column"]] == edit["before"]
