"""The quote ledger (check --ledger, --export) and `quotecheck history` over ledgers, with a state."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from checker.cli import cli
from checker.history.ledger import safe_cell
from tests.history_pages import STOCKS, Quote, write_archive

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
DAYS = ("2024-12-02", "2024-12-03", "2024-12-04", "2024-12-05")  # Monday to Thursday, all sessions


def _sessions(broken: dict[str, str] | None = None) -> dict[str, list[Quote]]:
    """Four consecutive closing pages whose previous closes chain; `broken` maps a day to a stock
    whose previous close on that day's page is 5 paisa off yesterday's close."""
    pages: dict[str, list[Quote]] = {}
    closes = {s: 1000 + 37 * i for i, s in enumerate(STOCKS[:8])}
    for n, day in enumerate(DAYS):
        quotes = []
        for i, (symbol, previous) in enumerate(closes.items()):
            price = previous + ((n * 7 + i * 3) % 11) - 5
            shown_previous = previous + 5 if (broken or {}).get(day) == symbol else previous
            quotes.append(Quote(symbol, price, shown_previous))
            closes[symbol] = price
        pages[f"page {day}T1545.txt"] = quotes
    return pages


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout, result.stderr


def _ledger(folder: Path, paths: list[Path], *extra: str) -> Path:
    before = set(folder.glob("ledger-*.parquet")) if folder.exists() else set()
    code, _, stderr = _run(["check", "--no-report", "-q", "--ledger", str(folder), *extra, *map(str, paths)])
    assert code in (0, 1), stderr
    (new,) = set(folder.glob("ledger-*.parquet")) - before
    return new


def _history(*args: str) -> tuple[int, dict]:
    code, stdout, stderr = _run(["history", "--format", "json", *args])
    assert stdout.startswith("{"), stderr
    return code, json.loads(stdout)


def _keys(report: dict) -> list[tuple]:
    return sorted(
        (f["rule"], Path(f["file"]).name, f["line"], f["column"], f["message"]) for f in report["findings"]
    )


def test_the_ledger_holds_every_quote_exactly_with_time_session_and_findings(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions({"2024-12-04": "BOP"}))
    ledger = _ledger(tmp_path / "ledger", paths, "--history")
    assert ledger.name == "ledger-1.parquet"
    table = pq.read_table(ledger)
    assert table.num_rows == 4 * 8
    assert str(table.schema.field("price").type) == "decimal128(38, 6)"
    assert str(table.schema.field("captured_at").type).startswith("timestamp[")
    assert "Asia/Karachi" in str(table.schema.field("captured_at").type)
    rows = table.to_pylist()
    bop = next(r for r in rows if r["symbol"] == "BOP" and r["file"].endswith("2024-12-04T1545.txt"))
    assert bop["findings"] == ["QC601"]
    assert str(bop["session"]) == "2024-12-04" and bop["time_source"] == "file name"
    assert bop["price"] == Decimal(bop["price_text"])
    assert bop["previous_close_low"] == bop["previous_close_high"] == bop["price"] - bop["change"]
    assert bop["captured_at"].isoformat().startswith("2024-12-04T15:45:00+05:00")
    clean = [r for r in rows if r is not bop]
    assert all(r["findings"] == [] for r in clean)


def test_a_second_run_never_overwrites_the_first_ledger(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions())
    first = _ledger(tmp_path / "ledger", paths)
    content = first.read_bytes()
    second = _ledger(tmp_path / "ledger", paths)
    assert second.name == "ledger-2.parquet" and first.read_bytes() == content
    assert not [p for p in (tmp_path / "ledger").iterdir() if p.name.startswith(".")]


def test_ledger_without_history_has_times_but_reports_no_history_finding(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions({"2024-12-04": "BOP"}))
    code, stdout, stderr = _run(
        ["check", "--no-report", "--json", "-", "--ledger", str(tmp_path / "l"), *map(str, paths)]
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert not [f for f in report["findings"] if f["rule"].startswith("QC6")] and "snapshots" not in report
    rows = pq.read_table(tmp_path / "l" / "ledger-1.parquet").to_pylist()
    assert {str(r["session"]) for r in rows} == set(DAYS)
    assert all(r["findings"] == [] for r in rows)


def test_export_csv_is_quoted_inert_and_has_valid(tmp_path, monkeypatch):
    pages = _sessions({"2024-12-04": "BOP"})
    paths = write_archive(tmp_path / "pages", pages)
    hostile = tmp_path / "pages" / '=cmd,"x" 2024-12-06T1545.txt'
    hostile.write_text(paths[-1].read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "quotes.csv"
    monkeypatch.chdir(tmp_path / "pages")
    names = [p.name for p in paths] + [hostile.name]
    code, _, stderr = _run(["check", "--no-report", "-q", "--history", "--export", str(out), *names])
    assert code == 1, stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 5 * 8
    bad = [r for r in rows if r["valid"] == "false"]
    assert [(r["symbol"], r["findings"]) for r in bad] == [("BOP", "QC601")]
    odd = [r for r in rows if "=cmd" in r["file"]]
    assert odd and all(r["file"] == "'" + hostile.name for r in odd)
    negative = next(r for r in rows if r["change_text"].startswith("'-"))
    assert negative["change"].startswith("-") and Decimal(negative["change"]) < 0


def test_export_parquet_and_refused_extension(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions())
    out = tmp_path / "quotes.parquet"
    code, _, _ = _run(["check", "--no-report", "-q", "--export", str(out), *map(str, paths)])
    assert code == 0
    table = pq.read_table(out)
    assert table.num_rows == 32 and all(table.column("valid").to_pylist())
    code, _, stderr = _run(
        ["check", "--no-report", "-q", "--export", str(tmp_path / "q.xlsx"), *map(str, paths)]
    )
    assert code == 2 and ".csv or .parquet" in stderr


def test_safe_cell():
    texts = ("=1+1", "+1", "-1", "@x", "\tx", "\rx", "ok", "\x1b[31mX", "a\u202eb", "=\x07cmd", "▲ 6.71")
    assert [safe_cell(t) for t in texts] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@x",
        "\\tx",  # a tab or a carriage return shown as an escape starts no formula either
        "\\rx",
        "ok",
        "\\x1b[31mX",
        "a\\u202eb",
        "'=\\x07cmd",
        "▲ 6.71",
    ]


def test_the_csv_export_holds_no_raw_control_character_of_a_name_or_a_field(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page \x1b]0;title\x07 2024-12-03T1545.txt").write_text(
        "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)\n", encoding="utf-8"
    )
    (tmp_path / "fields.csv").write_text(
        "symbol,price,direction,change,percent\n\x1bX,1.00,Increased By,0.10,11.11\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--no-report",
            "--export",
            "q.csv",
            "page \x1b]0;title\x07 2024-12-03T1545.txt",
            "fields.csv",
        ],
    )
    assert result.exit_code == 1, result.output
    text = (tmp_path / "q.csv").read_text(encoding="utf-8")
    assert "\\x1b]0;title\\x07" in text and "\\x1bX" in text
    assert not [c for c in text if (ord(c) < 32 and c not in "\r\n") or c == "\x7f"]


def test_history_over_a_ledger_finds_what_check_history_finds(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions({"2024-12-04": "BOP"}))
    ledger = _ledger(tmp_path / "ledger", paths)
    code, stdout, _ = _run(["check", "--no-report", "--history", "--json", "-", *map(str, paths)])
    direct = json.loads(stdout)
    hcode, report = _history(str(ledger))
    assert hcode == code == 1
    jsonschema.validate(report, SCHEMA)
    assert _keys(report) == _keys(
        {"findings": [f for f in direct["findings"] if f["rule"].startswith("QC6")]}
    )
    assert [f["session"] for f in report["files"]] == list(DAYS)


def test_two_runs_with_a_state_find_what_one_run_over_both_finds(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions({"2024-12-04": "BOP", "2024-12-05": "FFL"}))
    first = _ledger(tmp_path / "a", paths[:2])
    second = _ledger(tmp_path / "b", paths[2:])
    _, whole = _history(str(first), str(second))
    state = tmp_path / "state.json"
    code1, one = _history(str(first), "--state", str(state))
    assert code1 == 0 and json.loads(state.read_text())["session"] == "2024-12-03"
    code2, two = _history(str(second), "--state", str(state))
    assert code2 == 1
    assert _keys(one) + _keys(two) == _keys(whole)
    assert {f["rule"] for f in whole["findings"]} == {"QC601"} and len(whole["findings"]) == 2
    # the boundary break names the state's figure and where it stands
    boundary = next(f for f in two["findings"] if f["symbol"] == "BOP")
    assert "page 2024-12-03T1545.txt:" in boundary["expected"]


def test_a_bad_day_does_not_move_the_state_and_its_repair_is_compared_with_the_day_before(tmp_path):
    bad = write_archive(tmp_path / "bad", _sessions({"2024-12-04": "BOP"}))
    good = write_archive(tmp_path / "good", _sessions())
    state = tmp_path / "state.json"
    code, report = _history(str(_ledger(tmp_path / "l1", bad[:3])), "--state", str(state))
    assert code == 1 and [f["symbol"] for f in report["findings"]] == ["BOP"]
    saved = json.loads(state.read_text())
    assert saved["session"] == "2024-12-03" and saved["last_seen"] == "2024-12-04"
    # the repaired 2024-12-04 page (same name) and the next day: compared with 2024-12-03, clean
    repaired = tmp_path / "repaired"
    repaired.mkdir()
    fixed = []
    for path in good[2:]:
        target = repaired / path.name
        target.write_bytes(path.read_bytes())
        fixed.append(target)
    code, report = _history(str(_ledger(tmp_path / "l2", fixed)), "--state", str(state))
    assert code == 0 and report["findings"] == []
    assert json.loads(state.read_text())["session"] == "2024-12-05"


def test_baselined_findings_let_the_state_move(tmp_path):
    bad = write_archive(tmp_path / "bad", _sessions({"2024-12-04": "BOP"}))
    ledger = _ledger(tmp_path / "l", bad)
    baseline = tmp_path / "baseline.json"
    code, _stdout, _ = _run(["history", "--json", str(baseline), str(ledger)])
    assert code == 1 and baseline.exists()
    state = tmp_path / "state.json"
    code, report = _history(str(ledger), "--baseline", str(baseline), "--state", str(state))
    assert code == 0 and report["findings"] == []
    assert json.loads(state.read_text())["session"] == "2024-12-05"


def test_history_refuses_what_is_not_a_ledger_or_a_state(tmp_path):
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet", encoding="utf-8")
    code, _, stderr = _run(["history", str(junk)])
    assert code == 2 and "not a quote ledger" in stderr
    paths = write_archive(tmp_path / "pages", _sessions())
    ledger = _ledger(tmp_path / "l", paths)
    state = tmp_path / "state.json"
    state.write_text('{"state_version": 1, "snapshots": [{"file": 3}]}', encoding="utf-8")
    code, _, stderr = _run(["history", str(ledger), "--state", str(state)])
    assert code == 2 and "not a usable state" in stderr
    table = pq.read_table(ledger)
    wrong = table.set_column(table.column_names.index("price"), "price", pa.array(["=1"] * table.num_rows))
    pq.write_table(wrong, tmp_path / "wrong.parquet")
    code, _, stderr = _run(["history", str(tmp_path / "wrong.parquet")])
    assert code == 2 and "column `price` is string" in stderr


def test_history_over_a_folder_reads_its_ledgers_in_number_order(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions({"2024-12-05": "FFL"}))
    _ledger(tmp_path / "l", paths[:2])
    _ledger(tmp_path / "l", paths[2:])
    code, report = _history(str(tmp_path / "l"))
    assert code == 1 and [f["symbol"] for f in report["findings"]] == ["FFL"]
    assert [f["session"] for f in report["files"]] == list(DAYS)


def test_json_files_entries_carry_each_page_time_and_session(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions())
    code, stdout, _ = _run(["check", "--no-report", "--history", "--json", "-", *map(str, paths)])
    assert code == 0
    report = json.loads(stdout)
    jsonschema.validate(report, SCHEMA)
    assert [(f["captured_at"], f["time_source"], f["session"]) for f in report["files"]] == [
        (f"{day}T15:45", "file name", day) for day in DAYS
    ]
    _code, stdout, _ = _run(["check", "--no-report", "--json", "-", *map(str, paths)])
    assert "captured_at" not in json.loads(stdout)["files"][0]


def test_history_prints_like_check_in_text_and_github_formats(tmp_path):
    paths = write_archive(tmp_path / "pages", _sessions({"2024-12-04": "BOP"}))
    ledger = _ledger(tmp_path / "l", paths)
    code, stdout, _ = _run(["history", "--format", "github", str(ledger)])
    assert code == 1
    (line,) = [x for x in stdout.splitlines() if x.startswith("::")]
    assert line.startswith("::error ") and "QC601" in line and "2024-12-04T1545.txt" in line
    code, stdout, _ = _run(["history", str(ledger)])
    assert code == 1 and ":5:" in stdout and "QC601 [error]" in stdout
    code, _, _ = _run(["history", "--fail-on", "never", str(ledger)])
    assert code == 0


def test_the_ledger_with_the_dask_output_dir_elsewhere_than_its_ledger_folder_is_refused(tmp_path):
    from click.testing import CliRunner

    from checker.cli import cli

    page = tmp_path / "page 2024-12-03T1545.txt"
    page.write_text("AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)\n", encoding="utf-8")
    args = ["check", "--no-report", "--ledger", str(tmp_path / "ledger"), "--engine", "dask"]
    result = CliRunner().invoke(cli, [*args, "--output-dir", str(tmp_path / "out"), str(page)])
    assert result.exit_code == 2
    assert "the ledger is written in" in result.output  # DIR/ledger of --output-dir DIR
    assert not (tmp_path / "ledger").exists()
