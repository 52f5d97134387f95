"""Policy: exit statuses follow --fail-on, --max-errors, select/ignore and severity overrides;
configuration files and their precedence; baselines; `quotecheck explain`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from quote_pages import FAULTY_PAGE

from checker.baseline import BaselineError, load_baseline
from checker.cli import cli

WARNING_PAGE = """AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)
HUBC 132.30 Increased By 4.49 (3.51%)
"""
CLEAN_PAGE = """AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)
BOP 10.39 Decreased By ▼ -0.10 (-0.95%)
KSE100 114,977 Increased By 172.5 (0.15%)
"""
REPO = Path(__file__).resolve().parents[1]
ENV = {"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": "", "NO_COLOR": "1"}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def check(args: list[str], cwd: Path | None = None):
    """Run `quotecheck check --no-report` in `cwd` (configuration is searched from there).

    Without `cwd` no configuration file is read, unless `--config` names one.
    """
    runner = CliRunner()
    if cwd is None:
        isolate = [] if "--config" in args else ["--no-config"]
        return runner.invoke(cli, ["check", "--no-report", *isolate, *args], env=ENV)
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, ["check", "--no-report", *args], env=ENV)
    finally:
        os.chdir(previous)


def codes(output: str) -> list[str]:
    return [line.split(": ")[1].split()[0] for line in output.splitlines() if ": QC" in line]


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    return write(tmp_path, "faulty.txt", FAULTY_PAGE)


@pytest.fixture
def warnings_only(tmp_path: Path) -> Path:
    return write(tmp_path, "warnings.txt", WARNING_PAGE)


# --- exit statuses from the command line ------------------------------------------------------


def test_clean_page_exits_0_and_errors_exit_1(tmp_path, faulty):
    assert check([str(write(tmp_path, "clean.txt", CLEAN_PAGE))]).exit_code == 0
    assert check([str(faulty)]).exit_code == 1


@pytest.mark.parametrize(("fail_on", "status"), [("error", 0), ("warning", 1), ("info", 1), ("never", 0)])
def test_fail_on_decides_whether_warnings_fail(warnings_only, fail_on, status):
    result = check([str(warnings_only), "--fail-on", fail_on])
    assert codes(result.output) == ["QC406"]
    assert result.exit_code == status


def test_fail_on_never_passes_a_page_full_of_errors(faulty):
    assert check([str(faulty), "--fail-on", "never"]).exit_code == 0


@pytest.mark.parametrize(("limit", "status"), [(2, 1), (3, 0), (10, 0), (0, 1)])
def test_max_errors_fails_only_above_the_threshold(faulty, limit, status):
    result = check([str(faulty), "--max-errors", str(limit)])
    assert "3 errors" in result.output
    assert result.exit_code == status


def test_select_runs_only_the_named_rules(faulty):
    result = check([str(faulty), "--select", "QC303"])
    assert codes(result.output) == ["QC303", "QC303"]
    by_name = check([str(faulty), "--select", "arrow-mismatch,missing-arrow"])
    assert codes(by_name.output) == ["QC302", "QC406"]


def test_ignore_drops_rules_and_can_turn_a_failure_into_a_pass(faulty):
    result = check([str(faulty), "--ignore", "QC303", "--ignore", "QC302"])
    assert codes(result.output) == ["QC406"]
    assert result.exit_code == 0


def test_severity_override_changes_the_label_and_the_exit_status(faulty):
    result = check([str(faulty), "--severity", "QC303=warning", "--severity", "arrow-mismatch=info"])
    assert "QC303 [warning]" in result.output and "QC302 [info]" in result.output
    assert result.exit_code == 0
    assert check([str(faulty), "--severity", "QC406=error", "--ignore", "QC3"]).exit_code == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--select", "QC999"],
        ["--ignore", "no-such-rule"],
        ["--severity", "QC303=fatal"],
        ["--severity", "QC303"],
    ],
)
def test_bad_policy_flags_are_usage_errors(faulty, args):
    result = check([str(faulty), *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "guess"),
    [
        (["--select", "QC3O3"], "unknown rule 'QC3O3'; did you mean QC303 (percent-mismatch)?"),
        (
            ["--ignore", "percent-mismach"],
            "unknown rule 'percent-mismach'; did you mean QC303 (percent-mismatch)?",
        ),
        (
            ["--severity", "missing-arow=error"],
            "unknown rule 'missing-arow'; did you mean QC406 (missing-arrow)?",
        ),
        (["--select", "qc3o2"], "did you mean QC302 (arrow-mismatch)?"),
    ],
)
def test_an_unknown_rule_names_the_closest_one(faulty, args, guess):
    result = check([str(faulty), *args])
    assert result.exit_code == 2
    assert guess in result.output


def test_an_unknown_rule_nothing_like_any_rule_has_no_guess(faulty):
    result = check([str(faulty), "--select", "zzzz"])
    assert result.exit_code == 2
    assert "unknown rule 'zzzz'" in result.output and "did you mean" not in result.output


def test_explain_an_unknown_rule_names_the_closest_one():
    result = CliRunner().invoke(cli, ["explain", "QC3O3"])
    assert result.exit_code == 2
    assert "did you mean QC303 (percent-mismatch)?" in result.output


# --- configuration files --------------------------------------------------------------------


def test_quotecheck_toml_is_read_and_flags_win(tmp_path, warnings_only):
    write(tmp_path, "quotecheck.toml", 'fail-on = "warning"\n')
    assert check([str(warnings_only)], cwd=tmp_path).exit_code == 1
    assert check([str(warnings_only), "--fail-on", "error"], cwd=tmp_path).exit_code == 0
    assert check([str(warnings_only), "--no-config"], cwd=tmp_path).exit_code == 0


def test_pyproject_table_is_found_from_a_subfolder(tmp_path, faulty):
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.quotecheck]\nignore = ["QC303"]\n')
    sub = tmp_path / "data" / "incoming"
    sub.mkdir(parents=True)
    assert codes(check([str(faulty)], cwd=sub).output) == ["QC302", "QC406"]


def test_pyproject_without_the_table_is_passed_over(tmp_path, faulty):
    write(tmp_path, "quotecheck.toml", 'select = ["QC406"]\n')
    sub = tmp_path / "project"
    write(sub, "pyproject.toml", '[project]\nname = "x"\n')
    assert codes(check([str(faulty)], cwd=sub).output) == ["QC406"]


def test_quotecheck_toml_wins_over_pyproject_in_the_same_folder(tmp_path, faulty):
    write(tmp_path, "pyproject.toml", '[tool.quotecheck]\nselect = ["QC302"]\n')
    write(tmp_path, "quotecheck.toml", 'select = ["QC406"]\n')
    assert codes(check([str(faulty)], cwd=tmp_path).output) == ["QC406"]


def test_config_severity_table_and_cli_overrides_merge(tmp_path, faulty):
    write(tmp_path, "quotecheck.toml", '[severity]\npercent-mismatch = "warning"\nQC302 = "warning"\n')
    result = check([str(faulty)], cwd=tmp_path)
    assert "QC303 [warning]" in result.output and "QC302 [warning]" in result.output
    assert result.exit_code == 0
    result = check([str(faulty), "--severity", "QC303=error"], cwd=tmp_path)
    assert "QC303 [error]" in result.output and "QC302 [warning]" in result.output
    assert result.exit_code == 1


def test_config_max_errors_select_and_as_of(tmp_path, faulty):
    write(
        tmp_path,
        "quotecheck.toml",
        'max-errors = 5\nselect = "QC3,QC4"\nas-of = 2024-03-28\nprofile = "br-psx"\n',
    )
    result = check([str(faulty), "--json", str(tmp_path / "r.json")], cwd=tmp_path)
    assert result.exit_code == 0
    options = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["options"]
    assert options["max_errors"] == 5
    assert options["as_of"] == "2024-03-28"
    assert options["select"] == ["QC3", "QC4"]


def test_config_include_and_exclude_pick_files_in_folders(tmp_path):
    incoming = tmp_path / "incoming"
    write(incoming, "today.txt", FAULTY_PAGE)
    write(incoming, "old/yesterday.txt", FAULTY_PAGE)
    write(incoming, "notes.md", FAULTY_PAGE)
    write(tmp_path, "quotecheck.toml", 'include = ["*.txt", "*.md"]\nexclude = ["old/*"]\n')
    result = check(["incoming", "--json", str(tmp_path / "r.json")], cwd=tmp_path)
    files = [f["path"] for f in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["files"]]
    assert sorted(Path(f).name for f in files) == ["notes.md", "today.txt"]
    assert result.exit_code == 1
    flags_win = check(["incoming", "--include", "*.txt", "--json", str(tmp_path / "r.json")], cwd=tmp_path)
    files = [f["path"] for f in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["files"]]
    assert [Path(f).name for f in files] == ["today.txt"]
    assert flags_win.exit_code == 1


def test_explicit_config_file(tmp_path, warnings_only):
    config = write(tmp_path / "ci", "strict.toml", 'fail-on = "warning"\n')
    assert check([str(warnings_only), "--config", str(config)]).exit_code == 1
    missing = check([str(warnings_only), "--config", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2
    assert "nope.toml" in missing.output
    both = check([str(warnings_only), "--config", str(config), "--no-config"])
    assert both.exit_code == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('fail-on = "sometimes"\n', "fail-on: must be one of error, warning, info, never"),
        ("max-errors = -1\n", "max-errors: expected a whole number"),
        ('max-errors = "3"\n', "max-errors: expected a whole number"),
        ('colour = "always"\n', "unknown key colour"),
        ('select = ["QC999"]\n', "unknown rule 'QC999'"),
        ('[severity]\nQC303 = "fatal"\n', "unknown severity 'fatal'"),
        ('[severity]\nQC999 = "error"\n', "unknown rule 'QC999'"),
        ('as-of = "yesterday"\n', "as-of: 'yesterday' is not a date"),
        ("select = [\n", "not valid TOML"),
        ('include = "*.txt"\n', "include: expected a list of glob patterns"),
    ],
)
def test_bad_configuration_is_a_usage_error_naming_the_file(tmp_path, faulty, content, message):
    config = write(tmp_path, "quotecheck.toml", content)
    result = check([str(faulty)], cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert str(config) in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_pyproject_table_names_the_table(tmp_path, faulty):
    write(tmp_path, "pyproject.toml", '[tool.quotecheck]\nfail_on = "error"\n')
    result = check([str(faulty)], cwd=tmp_path)
    assert result.exit_code == 2
    assert "pyproject.toml [tool.quotecheck]: unknown key fail_on" in result.output


# --- baselines ------------------------------------------------------------------------------


def record_baseline(page: Path, folder: Path) -> Path:
    target = folder / "baseline.json"
    result = check([str(page), "--json", str(target)])
    assert result.exit_code == 1
    return target


def summary_of(report: Path) -> dict:
    return json.loads(report.read_text(encoding="utf-8"))["summary"]


def test_baseline_suppresses_known_findings(tmp_path, faulty):
    baseline = record_baseline(faulty, tmp_path)
    out = tmp_path / "second.json"
    result = check([str(faulty), "--baseline", str(baseline), "--json", str(out)])
    assert result.exit_code == 0
    assert codes(result.output) == []
    assert f"4 known findings not counted (in the baseline {baseline})" in result.output
    summary = summary_of(out)
    assert summary["baseline_suppressed"] == 4
    assert summary["findings"] == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["options"]["baseline"] == str(baseline)
    jsonschema.validate(
        document, json.loads((REPO / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    )


def test_baseline_matches_a_finding_whose_line_moved(tmp_path, faulty):
    baseline = record_baseline(faulty, tmp_path)
    faulty.write_text("PRINT EDITION ► BR MARKETS ► LATEST NEWS\n\n" + FAULTY_PAGE, encoding="utf-8")
    result = check([str(faulty), "--baseline", str(baseline)])
    assert result.exit_code == 0
    assert codes(result.output) == []


def test_baseline_reports_new_problems_only(tmp_path, faulty):
    baseline = record_baseline(faulty, tmp_path)
    # a new wrong percent, and a known one whose figure changed (a different problem)
    faulty.write_text(
        FAULTY_PAGE.replace("(3.36%)", "(3.37%)") + "PPL 190.90 Decreased By ▼ -1.83 (-0.96%)\n",
        encoding="utf-8",
    )
    out = tmp_path / "third.json"
    result = check([str(faulty), "--baseline", str(baseline), "--json", str(out)])
    assert result.exit_code == 1
    findings = json.loads(out.read_text(encoding="utf-8"))["findings"]
    assert [(f["rule"], f["symbol"], f["observed"]) for f in findings] == [
        ("QC303", "AIRLINK", "3.37"),
        ("QC303", "PPL", "-0.96"),
    ]
    assert summary_of(out)["baseline_suppressed"] == 3


def test_baseline_counts_repeats(tmp_path):
    once = write(tmp_path, "page.txt", "AIRLINK 207.00 Increased By ▲ 6.71 (3.36%)\n")
    baseline = record_baseline(once, tmp_path)
    once.write_text("AIRLINK 207.00 Increased By ▲ 6.71 (3.36%)\n" * 2, encoding="utf-8")
    out = tmp_path / "twice.json"
    result = check([str(once), "--baseline", str(baseline), "--json", str(out)])
    findings = json.loads(out.read_text(encoding="utf-8"))["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("QC306", 2), ("QC303", 2)]
    assert summary_of(out)["baseline_suppressed"] == 1
    assert result.exit_code == 1


def test_baseline_from_configuration_is_relative_to_the_file(tmp_path, faulty):
    record_baseline(faulty, tmp_path)
    write(tmp_path, "quotecheck.toml", 'baseline = "baseline.json"\n')
    sub = tmp_path / "work"
    sub.mkdir()
    assert check([str(faulty)], cwd=sub).exit_code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ('{"summary": {}}', "not a quotecheck JSON report"),
        ('{"findings": [{"line": 3}]}', "finding 0 has no rule code"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_bad_baseline_is_a_usage_error_naming_the_file(tmp_path, faulty, content, message):
    path = tmp_path / "old-report.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = check([str(faulty), "--baseline", str(path)])
    assert result.exit_code == 2
    assert f"baseline {path}" in result.output and message in result.output
    with pytest.raises(BaselineError):
        load_baseline(path)


# --- explain --------------------------------------------------------------------------------


def test_explain_by_code_and_by_name():
    runner = CliRunner()
    by_code = runner.invoke(cli, ["explain", "QC303"])
    by_name = runner.invoke(cli, ["explain", "percent-mismatch"])
    lower = runner.invoke(cli, ["explain", "qc303"])
    assert by_code.exit_code == by_name.exit_code == lower.exit_code == 0
    assert by_code.output == by_name.output == lower.output
    assert by_code.output.startswith("QC303 percent-mismatch (consistency, default severity error)")
    assert "Passes:" in by_code.output and "Fails:" in by_code.output


def test_explain_unknown_code_is_a_usage_error():
    result = CliRunner().invoke(cli, ["explain", "QC999"])
    assert result.exit_code == 2
    assert "unknown rule 'QC999'" in result.output
