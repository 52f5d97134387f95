"""The baseline workflow as a team meets it: recording over the baseline being read keeps what it
suppressed, paths relative to the baseline's folder match from any folder, the summary says what
was suppressed, and `quotecheck baseline record | update | prune`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from quote_pages import FAULTY_PAGE

from checker.cli import cli

REPO = Path(__file__).resolve().parents[1]
ENV = {"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": "", "NO_COLOR": "1"}
NEW_PROBLEM = "PPL 190.90 Decreased By ▼ -1.83 (-0.96%)\n"  # a wrong percent
OTHER_PAGE = "AIRLINK 207.00 Increased By ▲ 6.71 (3.36%)\n"  # a wrong percent
FIXED_OTHER = "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)\n"


@contextmanager
def inside(folder: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def qc(args: list[str], cwd: Path):
    with inside(cwd):
        return CliRunner().invoke(cli, args, env=ENV)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository: incoming/ pages, a configuration naming reports/baseline.json."""
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "faulty.txt").write_text(FAULTY_PAGE, encoding="utf-8")
    (tmp_path / "incoming" / "other.txt").write_text(OTHER_PAGE, encoding="utf-8")
    (tmp_path / "quotecheck.toml").write_text('baseline = "reports/baseline.json"\n', encoding="utf-8")
    return tmp_path


def findings_of(path: Path) -> list[tuple[str, str, str]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return [(f["file"], f["rule"], f["symbol"]) for f in document["findings"]]


def test_recording_over_the_baseline_read_keeps_what_it_suppressed(project):
    baseline = project / "reports" / "baseline.json"
    # The README's recipe: the configured baseline does not exist yet, and that is fine while recording.
    first = qc(["check", "incoming", "--no-report", "--json", str(baseline), "--fail-on", "never"], project)
    assert first.exit_code == 0, first.output
    recorded = findings_of(baseline)
    assert len(recorded) == 5
    before = baseline.read_bytes()
    # Recording again over the baseline it reads: nothing new, and nothing it suppressed is lost.
    second = qc(["check", "incoming", "--no-report", "--json", str(baseline), "--fail-on", "never"], project)
    assert second.exit_code == 0, second.output
    assert "5 known findings not counted" in second.output
    assert baseline.read_bytes() == before
    # A new problem is counted, and recorded beside the old ones.
    with (project / "incoming" / "faulty.txt").open("a", encoding="utf-8") as stream:
        stream.write(NEW_PROBLEM)
    third = qc(["check", "incoming", "--no-report", "--json", str(baseline)], project)
    assert third.exit_code == 1
    assert len(findings_of(baseline)) == 6


def test_baseline_paths_are_relative_to_its_folder_and_match_from_a_subfolder(project):
    assert qc(["baseline", "record", "incoming"], project).exit_code == 0
    baseline = project / "reports" / "baseline.json"
    assert {f for f, _rule, _symbol in findings_of(baseline)} == {
        "../incoming/faulty.txt",
        "../incoming/other.txt",
    }
    for cwd, target in (
        (project, "incoming"),
        (project / "incoming", "."),
        (project / "reports", "../incoming"),
    ):
        result = qc(["check", target, "--no-report"], cwd)
        assert result.exit_code == 0, (cwd, result.output)
        assert "5 known findings not counted" in result.output


def test_a_baseline_of_an_older_release_still_matches_from_where_it_was_recorded(project):
    baseline = project / "reports" / "baseline.json"
    baseline.parent.mkdir()
    # a plain JSON report written from the project folder: its names are relative to that folder
    qc(["check", "incoming", "--no-report", "--no-config", "--json", str(baseline)], project)
    assert {f for f, _r, _s in findings_of(baseline)} == {"incoming/faulty.txt", "incoming/other.txt"}
    result = qc(["check", "incoming", "--no-report"], project)
    assert result.exit_code == 0, result.output


def test_a_missing_baseline_only_read_is_exit_2_with_the_way_out(project):
    result = qc(["check", "incoming", "--no-report"], project)
    assert result.exit_code == 2
    assert "baseline reports/baseline.json: no such file" in result.output or "no such file" in result.output
    assert "quotecheck baseline record" in result.output and "--no-baseline" in result.output
    assert qc(["check", "incoming", "--no-report", "--no-baseline"], project).exit_code == 1


def test_no_baseline_ignores_the_configured_one(project):
    assert qc(["baseline", "record", "incoming"], project).exit_code == 0
    assert qc(["check", "incoming", "--no-report"], project).exit_code == 0
    result = qc(["check", "incoming", "--no-report", "--no-baseline"], project)
    assert result.exit_code == 1
    assert "known finding" not in result.output
    both = qc(["check", "incoming", "--no-report", "--no-baseline", "--baseline", "x.json"], project)
    assert both.exit_code == 2 and "exclude each other" in both.output


def test_a_baseline_that_matches_nothing_is_warned_about(project):
    assert qc(["baseline", "record", "incoming/other.txt"], project).exit_code == 0
    result = qc(["check", "incoming/faulty.txt", "--no-report"], project)
    assert result.exit_code == 1
    assert "reports/baseline.json matched none of this run's findings" in result.stderr


def test_a_folder_walk_does_not_check_the_baseline_itself(project):
    (project / "quotecheck.toml").write_text('baseline = "baseline.json"\n', encoding="utf-8")
    assert qc(["baseline", "record", "incoming"], project).exit_code == 0
    result = qc(["check", ".", "--no-report"], project)
    assert result.exit_code == 0, result.output
    assert "2 files, 6 quotes" in result.output  # incoming/*.txt, not baseline.json


# --- quotecheck baseline record | update | prune ------------------------------------------------


def test_record_twice_gives_the_same_file(project):
    baseline = project / "reports" / "baseline.json"
    first = qc(["baseline", "record", "incoming"], project)
    assert first.exit_code == 0, first.output
    assert "reports/baseline.json: 5 findings recorded" in first.output
    before = baseline.read_bytes()
    schema = json.loads((REPO / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(before), schema, cls=jsonschema.Draft202012Validator)
    assert qc(["baseline", "record", "incoming"], project).exit_code == 0
    assert baseline.read_bytes() == before
    # and from another folder, with the same baseline named by path
    again = qc(["baseline", "record", ".", "--baseline", "../reports/baseline.json"], project / "incoming")
    assert again.exit_code == 0, again.output
    assert baseline.read_bytes() == before


def test_update_adds_new_findings_and_drops_fixed_ones(project):
    assert qc(["baseline", "record", "incoming"], project).exit_code == 0
    (project / "incoming" / "other.txt").write_text(FIXED_OTHER + NEW_PROBLEM, encoding="utf-8")
    result = qc(["baseline", "update", "incoming"], project)
    assert result.exit_code == 0, result.output
    assert "5 findings recorded (1 new, 1 no longer found, dropped)" in result.output
    symbols = [
        s for f, _r, s in findings_of(project / "reports" / "baseline.json") if f.endswith("other.txt")
    ]
    assert symbols == ["PPL"]


def test_prune_drops_what_no_longer_occurs_and_adds_nothing(project):
    assert qc(["baseline", "record", "incoming"], project).exit_code == 0
    (project / "incoming" / "other.txt").write_text(FIXED_OTHER + NEW_PROBLEM, encoding="utf-8")
    result = qc(["baseline", "prune", "incoming"], project)
    assert result.exit_code == 0, result.output
    assert "4 findings kept, 1 no longer found (dropped)" in result.output
    recorded = findings_of(project / "reports" / "baseline.json")
    assert len(recorded) == 4 and not any(s == "PPL" for _f, _r, s in recorded)
    # the new problem is not in the baseline, so a check counts it
    assert qc(["check", "incoming", "--no-report"], project).exit_code == 1


def test_update_and_prune_keep_what_the_baseline_knows_of_files_not_checked(project):
    assert qc(["baseline", "record", "incoming"], project).exit_code == 0
    before = findings_of(project / "reports" / "baseline.json")
    for command in ("prune", "update"):
        result = qc(["baseline", command, "incoming/faulty.txt"], project)
        assert result.exit_code == 0, result.output
        assert "0 no longer found" in result.output
        assert findings_of(project / "reports" / "baseline.json") == before


def test_baseline_commands_need_a_baseline_file(project):
    (project / "quotecheck.toml").unlink()
    result = qc(["baseline", "record", "incoming"], project)
    assert result.exit_code == 2 and "give --baseline FILE" in result.output
    result = qc(["baseline", "update", "incoming", "--baseline", "missing.json"], project)
    assert result.exit_code == 2 and "record it first" in result.output


def test_only_the_json_report_may_go_to_the_baseline(project):
    assert qc(["baseline", "record", "incoming"], project).exit_code == 0
    before = (project / "reports" / "baseline.json").read_bytes()
    for flag in ("--sarif", "--junit", "--markdown", "--output-file"):
        result = qc(["check", "incoming", "--no-report", flag, "reports/baseline.json"], project)
        assert result.exit_code == 2, result.output
        assert "over the baseline" in result.output
    assert (project / "reports" / "baseline.json").read_bytes() == before


def test_the_default_json_report_is_never_silently_the_baseline(project):
    (project / "quotecheck.toml").write_text('baseline = "reports/report.json"\n', encoding="utf-8")
    assert qc(["baseline", "record", "incoming", "--baseline", "reports/report.json"], project).exit_code == 0
    result = qc(["check", "incoming"], project)
    assert result.exit_code == 2
    assert "is the baseline" in result.output


def test_a_baseline_that_cannot_be_written_is_exit_2_naming_it(project):
    result = qc(
        ["baseline", "record", "incoming", "--baseline", "incoming/faulty.txt/baseline.json"], project
    )
    assert result.exit_code == 2
    assert "cannot write the report incoming/faulty.txt/baseline.json" in result.output
    assert (project / "incoming" / "faulty.txt").read_text(encoding="utf-8") == FAULTY_PAGE
