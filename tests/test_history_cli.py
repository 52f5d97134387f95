"""The command line of the checks across snapshots: check --history and --snapshots, timeline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from checker.cli import cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "history"
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))


def _copy(case: str, folder: Path, names: dict[str, str] | None = None) -> list[str]:
    """The pages of a fixture archive copied into folder (renamed as `names` says)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for page in sorted((FIXTURES / case).glob("*.txt")):
        target = folder / (names or {}).get(page.name, page.name)
        shutil.copyfile(page, target)
        paths.append(str(target))
    return paths


def _check(args: list[str]) -> tuple[int, dict, str]:
    result = CliRunner().invoke(cli, ["check", "--no-report", "--json", "-", *args])
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, report, result.stderr


def test_check_history_adds_the_findings_and_the_snapshot_table(tmp_path):
    paths = _copy("QC601-fail", tmp_path)
    code, report, stderr = _check(["--history", *paths])
    assert code == 1
    jsonschema.validate(report, SCHEMA)
    (finding,) = [f for f in report["findings"] if f["rule"] == "QC601"]
    assert finding["file"].endswith("page 2024-12-04T1545.txt") and finding["line"] == 5
    assert [s["session"] for s in report["snapshots"]] == ["2024-12-03", "2024-12-04"]
    assert {s["time_source"] for s in report["snapshots"]} == {"file name"}
    assert report["summary"]["errors"] == 1
    later = next(f for f in report["files"] if f["path"].endswith("2024-12-04T1545.txt"))
    assert later["errors"] == 1
    assert "History: 2 sessions (2 from time stamps" in stderr


def test_without_history_the_same_pages_pass(tmp_path):
    code, report, _ = _check(_copy("QC601-fail", tmp_path))
    assert code == 0 and "snapshots" not in report


def test_the_policy_applies_to_history_findings(tmp_path):
    paths = _copy("QC601-fail", tmp_path)
    code, report, _ = _check(["--history", "--severity", "previous-close-break=warning", *paths])
    assert code == 0 and report["summary"]["warnings"] == 1
    code, report, _ = _check(["--history", "--ignore", "QC6", *paths])
    assert code == 0 and not report["findings"]


def test_a_manifest_times_pages_whose_names_carry_none(tmp_path):
    paths = _copy(
        "QC601-fail", tmp_path, {"page 2024-12-03T1545.txt": "a.txt", "page 2024-12-04T1545.txt": "b.txt"}
    )
    manifest = tmp_path / "captured.csv"
    manifest.write_text(
        "file,captured_at\na.txt,2024-12-03T10:45:00+00:00\nb.txt,2024-12-04T15:45\ngone.txt,2024-12-05\n"
        "a.txt,someday\n",
        encoding="utf-8",
    )
    code, report, stderr = _check(["--snapshots", str(manifest), *paths])
    assert code == 1
    assert [(s["captured_at"], s["time_source"]) for s in report["snapshots"]] == [
        ("2024-12-03T15:45", "manifest"),
        ("2024-12-04T15:45", "manifest"),
    ]
    assert [f["rule"] for f in report["findings"]] == ["QC601"]
    assert "captured.csv:4: 'gone.txt' names no input" in stderr
    assert "captured.csv:5: captured_at 'someday' is not an ISO 8601" in stderr


def test_a_file_that_is_no_manifest_is_a_usage_error(tmp_path):
    paths = _copy("QC601-pass", tmp_path)
    bad = tmp_path / "times.csv"
    bad.write_text("name,when\n", encoding="utf-8")
    for manifest in (str(bad), str(tmp_path / "missing.csv")):
        result = CliRunner().invoke(cli, ["check", "--no-report", "--snapshots", manifest, *paths])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output


def test_timeline_prints_the_sessions_in_order(tmp_path):
    names = {"page 2024-12-03T1545.txt": "x.txt", "page 2024-12-04T1545.txt": "y.txt"}
    paths = _copy("QC601-pass", tmp_path, names)
    result = CliRunner().invoke(cli, ["timeline", *reversed(paths)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "1. session F1 (figures)" and lines[1].strip().endswith("x.txt  no time (figures)")
    assert lines[2] == "2. session F2 (figures)" and lines[3].strip().endswith("y.txt  no time (figures)")
    assert lines[-1].startswith("History: 2 sessions (0 from time stamps, 2 from the figures)")


def test_a_failure_of_the_history_step_is_a_finding_not_a_traceback(tmp_path, monkeypatch):
    from checker.history import run

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(run, "history_findings", broken)
    code, report, _ = _check(["--history", *_copy("QC601-pass", tmp_path)])
    assert code == 1
    assert [(f["rule"], f["file"]) for f in report["findings"]] == [("QC904", "<history>")]
    assert "boom" in report["findings"][0]["message"]


def test_history_findings_carry_their_source_line_for_the_reports(tmp_path):
    from checker.api import check_paths
    from checker.config import Options
    from checker.history.run import add_history

    paths = _copy("QC601-fail", tmp_path)
    report = check_paths(paths, Options(include_quotes=True))
    add_history(report)
    later = next(p for p in paths if p.endswith("2024-12-04T1545.txt"))
    assert report.source_lines[(later, 5)] == Path(later).read_text(encoding="utf-8").splitlines()[4]
    assert report.snapshots is not None and len(report.snapshots) == 2


def test_history_with_the_dask_output_dir_gives_the_local_report(tmp_path):
    pytest.importorskip("distributed")
    pages = _copy("QC601-fail", tmp_path)
    local = ["check", "--no-report", "--history", "--jobs", "1", "--json", str(tmp_path / "local.json")]
    assert CliRunner().invoke(cli, [*local, *pages]).exit_code == 1
    args = ["check", "--no-report", "--history", "--engine", "dask", "--jobs", "1", "--output-dir"]
    args += [str(tmp_path / "o"), "--json", str(tmp_path / "dask.json")]
    result = CliRunner().invoke(cli, [*args, *pages])
    assert result.exit_code == 1, result.output
    assert (tmp_path / "dask.json").read_bytes() == (tmp_path / "local.json").read_bytes()
    assert b'"QC601"' in (tmp_path / "dask.json").read_bytes()


def test_an_archive_checked_by_several_processes_gives_the_report_of_one(tmp_path, monkeypatch):
    # Workers check the pages (one builds the calendar tables for the history step beside them):
    # the report is the one of a single process, byte for byte.
    import checker.api as api
    import checker.engine as engine
    from checker.render.json import save_json

    for case in sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name.endswith("-fail")):
        _copy(case, tmp_path / "archive", {n: f"{case} {n}" for n in ("a.txt", "b.txt")})
    one = api.check_archive([tmp_path / "archive"], jobs=1)
    monkeypatch.setattr(api, "PARALLEL_MIN_BYTES", 0)  # spread even this small archive
    monkeypatch.setattr(engine, "BATCH_PAGES", 2)
    several = api.check_archive([tmp_path / "archive"], jobs=2)
    assert len(one.files) > api.PARALLEL_MIN_FILES
    assert one.findings["rule"].astype(str).str.startswith("QC6").any()  # history findings
    save_json(one, tmp_path / "one.json")
    save_json(several, tmp_path / "several.json")
    assert (tmp_path / "several.json").read_bytes() == (tmp_path / "one.json").read_bytes()


def _quotecheck(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """quotecheck in a process of its own, stopped after a minute: a run that blocks fails."""
    return subprocess.run(
        [sys.executable, "-m", "checker", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", ["check", "timeline"])
def test_a_fifo_among_the_pages_is_skipped_by_the_history_step_too(tmp_path, command):
    # The history step reads the top of a page whose name has no time (its crawler prefix): a
    # FIFO there must be passed over, never opened to wait for a writer.
    _copy("QC601-fail", tmp_path / "pages")
    os.mkfifo(tmp_path / "pages" / "pipe.txt")
    args = ["check", "--no-report", "--history", "pages"] if command == "check" else ["timeline", "pages"]
    done = _quotecheck(args, tmp_path)
    assert done.returncode == 2  # an input that cannot be read
    assert "a FIFO (named pipe), not a regular file; skipped" in done.stdout + done.stderr
    assert "History:" in done.stdout + done.stderr


@pytest.mark.parametrize("flag", ["--snapshots", "--state"])
def test_a_fifo_named_as_manifest_or_state_is_refused_not_read(tmp_path, flag):
    _copy("QC601-fail", tmp_path / "pages")
    os.mkfifo(tmp_path / "pipe")
    extra = ["--fix"] if flag == "--state" else []  # (--state goes with a repair flag)
    done = _quotecheck(["check", "--no-report", "--history", *extra, flag, "pipe", "pages"], tmp_path)
    assert done.returncode == 2
    assert "FIFO" in done.stderr
    assert "Traceback" not in done.stderr


def test_quotecheck_history_refuses_a_fifo_as_its_state(tmp_path):
    _copy("QC601-fail", tmp_path / "pages")
    assert _quotecheck(["check", "--no-report", "--ledger", "ledger", "pages"], tmp_path).returncode == 0
    os.mkfifo(tmp_path / "state.json")
    done = _quotecheck(["history", "ledger", "--state", "state.json"], tmp_path)
    assert done.returncode == 2
    assert "FIFO" in done.stderr and "Traceback" not in done.stderr
