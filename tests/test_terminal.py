"""Terminal output: plain finding lines when piped, colour only on a terminal, summary, --quiet,
--statistics, and the progress bar kept off piped output."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from quote_pages import FAULTY_PAGE

from checker.api import check_paths, check_text
from checker.cli import cli
from checker.render.terminal import make_console, render_terminal, wants_progress
from checker.render.text import finding_lines, summary_line

ANSI = re.compile(r"\x1b\[[0-9;]*m")
FINDING_LINE = re.compile(
    r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>QC\d{3}) \[(error|warning|info)\] .+$"
)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "page.txt"
    path.write_text(FAULTY_PAGE, encoding="utf-8")
    return path


def run(args: list[str], env: dict[str, str] | None = None):
    base = {"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": "", "NO_COLOR": "", "FORCE_COLOR": None}
    return CliRunner().invoke(cli, ["check", "--no-report", "--no-config", *args], env=base | (env or {}))


def test_piped_output_is_plain_finding_lines_then_summary(page):
    result = run([str(page)])
    assert result.exit_code == 1
    assert not ANSI.search(result.output)
    lines = result.output.splitlines()
    findings = [line for line in lines if FINDING_LINE.match(line)]
    assert [FINDING_LINE.match(line)["code"] for line in findings] == ["QC303", "QC302", "QC406", "QC303"]
    assert (
        findings[0]
        == f"{page}:2:37: QC303 [error] percent 3.36% but change 6.71 over previous price 200.29 is 3.35%"
    )
    assert lines[-1] == "1 file, 5 quotes: 3 errors, 1 warning, 0 infos (failed)"


def test_terminal_lines_are_the_plain_text_lines(page):
    report = check_paths([page])
    stream = io.StringIO()
    render_terminal(report, make_console(file=stream, width=100, color_system=None))
    printed = stream.getvalue().splitlines()
    assert printed[: len(report.findings)] == list(finding_lines(report))


def test_colour_on_a_terminal_and_the_same_text_underneath(page):
    report = check_paths([page])
    stream = io.StringIO()
    console = make_console(file=stream, width=100, color_system="standard", force_terminal=True)
    render_terminal(report, console)
    output = stream.getvalue()
    assert ANSI.search(output), "a terminal gets colour"
    assert "\x1b[1;31m" in output, "errors are bold red"
    plain = ANSI.sub("", output).splitlines()
    assert plain[: len(report.findings)] == list(finding_lines(report))


def test_no_color_gives_plain_output_even_on_a_forced_terminal(page):
    coloured = run([str(page)], env={"FORCE_COLOR": "1"})
    assert ANSI.search(coloured.output), "FORCE_COLOR makes rich treat the output as a terminal"
    plain = run([str(page)], env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not ANSI.search(plain.output)
    assert plain.exit_code == coloured.exit_code == 1


def test_summary_table_is_stable_with_a_pinned_console():
    report = check_text(FAULTY_PAGE, name="page.txt")
    stream = io.StringIO()
    render_terminal(report, make_console(file=stream, width=80, color_system=None), quiet=True)
    assert stream.getvalue() == (
        "files   quotes   errors   warnings   infos\n"
        "──────────────────────────────────────────\n"
        "    1        5        3          1       0\n"
        "1 file, 5 quotes: 3 errors, 1 warning, 0 infos (failed)\n"
    )


def test_quiet_prints_no_finding_line_but_the_summary_and_keeps_the_exit_status(page):
    result = run([str(page), "--quiet"])
    assert result.exit_code == 1
    assert not any(FINDING_LINE.match(line) for line in result.output.splitlines())
    assert "3 errors, 1 warning" in result.output


def test_statistics_count_findings_by_rule_instead_of_lines(page):
    result = run([str(page), "--statistics"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert not any(FINDING_LINE.match(line) for line in lines)
    rows = [line.split() for line in lines if re.match(r"^\s*\d+\s+QC\d{3}\s", line)]
    assert rows == [
        ["2", "QC303", "percent-mismatch", "error"],
        ["1", "QC302", "arrow-mismatch", "error"],
        ["1", "QC406", "missing-arrow", "warning"],
    ]


def test_markup_in_a_file_name_is_printed_as_is(tmp_path):
    path = tmp_path / "page[bold red]x.txt"
    path.write_text(FAULTY_PAGE, encoding="utf-8")
    result = run([str(path)])
    assert f"{path}:2:37: QC303" in result.output


def test_long_lines_are_not_wrapped_when_piped(tmp_path):
    path = tmp_path / ("long-name-" * 12 + ".txt")
    path.write_text(FAULTY_PAGE, encoding="utf-8")
    result = run([str(path)])
    assert f"{path}:2:37: QC303 [error] percent 3.36% but change 6.71" in result.output


def test_progress_bar_only_for_long_runs_on_a_terminal(tmp_path):
    many = []
    for number in range(25):
        path = tmp_path / f"page-{number}.txt"
        path.write_text(FAULTY_PAGE, encoding="utf-8")
        many.append(str(path))
    assert wants_progress(many, stderr_is_terminal=True)
    assert not wants_progress(many, stderr_is_terminal=False)
    assert not wants_progress(many[:2], stderr_is_terminal=True)


def test_a_piped_long_run_draws_no_progress_bar(tmp_path):
    paths = []
    for number in range(25):
        path = tmp_path / f"page-{number}.txt"
        path.write_text(FAULTY_PAGE, encoding="utf-8")
        paths.append(str(path))
    result = CliRunner().invoke(
        cli, ["check", "--no-report", "--no-config", "-q", *paths], env={"NO_COLOR": ""}
    )
    assert "checking" not in result.stderr
    assert not ANSI.search(result.stderr)
    assert "25 files, 125 quotes" in result.output


def test_check_paths_reports_each_checked_file(tmp_path):
    paths = []
    for number in range(3):
        path = tmp_path / f"page-{number}.txt"
        path.write_text(FAULTY_PAGE, encoding="utf-8")
        paths.append(path)
    seen: list[Path] = []
    check_paths(paths, on_checked=seen.append)
    assert seen == paths


def test_summary_line_counts_in_the_singular_and_the_plural():
    one = check_text("AIRLINK 207.00 Increased By ▼ 6.71 (3.35%)", name="one.txt")
    assert summary_line(one) == "1 file, 1 quote: 1 error, 0 warnings, 0 infos (failed)"
