"""The rules across snapshots on their fixture archives: each draws its finding on its line, column
and severity, and its passing archive draws nothing (tests/fixtures/history, see generate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.api import check_paths
from checker.config import Options
from checker.history.engine import HistoryResult, history_findings
from checker.profile import load_profile

FIXTURES = Path(__file__).parent / "fixtures" / "history"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def run_archive(folder: Path, **kwargs) -> HistoryResult:
    """Check every page of a folder, then the history rules over them."""
    pages = sorted(p for p in folder.iterdir() if p.suffix == ".txt")
    report = check_paths([str(p) for p in pages], Options(include_quotes=True))
    assert report.counts["error"] == 0, report.findings[["file", "rule", "message"]].to_string()
    assert report.counts["warning"] == 0, report.findings[["file", "rule", "message"]].to_string()
    return history_findings(report.quotes, report.files, load_profile(), **kwargs)


def located(result: HistoryResult) -> set[tuple[str, str, int, int, str]]:
    return {
        (r.rule, Path(r.file).name, int(r.line), int(r.column), r.severity)
        for r in result.findings.itertuples()
    }


def test_every_rule_has_a_passing_and_a_failing_archive():
    codes = {f"QC60{n}" for n in range(1, 9)}
    assert {c for c in codes if f"{c}-pass" in CASES} == codes
    assert {c for c in codes if f"{c}-fail" in CASES} == codes


@pytest.mark.parametrize("case", CASES)
def test_archive_draws_exactly_the_expected_history_findings(case):
    expect = json.loads((FIXTURES / case / "expect.json").read_text(encoding="utf-8"))
    result = run_archive(FIXTURES / case)
    wanted = {(e["rule"], e["file"], e["line"], e["column"], e["severity"]) for e in expect}
    assert located(result) == wanted, result.findings[["rule", "file", "line", "message"]].to_string()


def test_a_break_names_the_earlier_close_and_where_it_stands():
    result = run_archive(FIXTURES / "QC601-fail")
    (finding,) = result.findings.itertuples()
    assert finding.symbol == "FFL"
    assert finding.message.startswith("previous close ")
    assert "but 2024-12-03's close is " in finding.message
    assert finding.expected.endswith("page 2024-12-03T1545.txt:5:5)")


def test_the_snapshot_table_holds_each_page_time_and_session():
    result = run_archive(FIXTURES / "QC603-pass")
    table = result.snapshots.set_index(result.snapshots["file"].map(lambda f: Path(f).name))
    saturday = table.loc["page 2024-12-07T1000.txt"]
    assert saturday["captured_at"] == "2024-12-07T10:00"
    assert saturday["time_source"] == "file name"
    assert saturday["session"] == "2024-12-06"  # a closed day shows the last session
    assert bool(saturday["closing"]) is True
    friday = table.loc["page 2024-12-06T1545.txt"]
    # Friday's session closes at 16:30 (the profile's Friday hours): 15:45 is before its close
    assert friday["session"] == "2024-12-06" and bool(friday["closing"]) is False


def test_crawler_prefixes_time_the_pages_when_the_names_do_not():
    folder = FIXTURES / "QC601-prefix-fail"
    texts = {str(p): p.read_text(encoding="utf-8")[:4096] for p in folder.glob("*.txt")}
    result = run_archive(folder, page_texts=texts)
    assert set(result.snapshots["time_source"]) == {"crawler prefix"}
    assert set(result.snapshots["session"]) == {"2024-12-03", "2024-12-04"}


@pytest.mark.parametrize("case", ["QC601-fail", "QC603-fail", "QC604-fail", "QC606-fail", "QC608-fail"])
def test_lookups_by_bisection_find_what_the_table_finds(case, monkeypatch):
    from checker.history import engine

    with_table = located(run_archive(FIXTURES / case))
    monkeypatch.setattr(engine, "DENSE_MIN", 0)
    monkeypatch.setattr(engine, "DENSE_FACTOR", 0)
    assert located(run_archive(FIXTURES / case)) == with_table != set()


def test_a_block_repeated_on_a_page_counts_once_at_its_first_quote(tmp_path):
    for page in (FIXTURES / "QC601-fail").glob("*.txt"):
        block = page.read_text(encoding="utf-8").split("\n\n")[0]
        (tmp_path / page.name).write_text(f"{block}\n{block}\n\nprose\n", encoding="utf-8")
    pages = sorted(str(p) for p in tmp_path.iterdir())
    report = check_paths(pages, Options(include_quotes=True))
    result = history_findings(report.quotes, report.files, load_profile())
    assert {(r.rule, int(r.line)) for r in result.findings.itertuples()} == {("QC601", 5)}


def test_the_python_api_checks_an_archive_as_the_command_line_does(tmp_path):
    from checker.api import check_archive

    folder = FIXTURES / "QC601-fail"
    pages = sorted(str(p) for p in folder.iterdir() if p.suffix == ".txt")
    report = check_archive(pages)
    history = report.findings[report.findings["rule"].str.startswith("QC6")]
    assert located(run_archive(folder)) == {
        (r.rule, Path(r.file).name, int(r.line), int(r.column), r.severity) for r in history.itertuples()
    }
    assert set(history["name"]) == {"previous-close-break"}  # named by the policy, as every finding
    assert report.snapshots is not None and len(report.snapshots) == len(pages)
    assert not report.passed
