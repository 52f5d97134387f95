"""The Python API writes a Report in every format the command line writes, and the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.api import check_paths, save_report
from checker.cli import cli
from checker.config import Options
from checker.render.output import ReportWriteError

ROOT = Path(__file__).resolve().parents[1]
FAULTY = ROOT / "samples" / "faulty-page.txt"


def test_save_report_writes_the_json_the_command_line_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    from_cli = tmp_path / "cli.json"
    CliRunner().invoke(
        cli, ["check", "--no-config", "--no-report", "--json", str(from_cli), "samples/faulty-page.txt"]
    )
    from_api = tmp_path / "api.json"
    save_report(check_paths(["samples/faulty-page.txt"]), from_api)
    assert from_api.read_bytes() == from_cli.read_bytes()


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("report.json", lambda text: json.loads(text)["summary"]["errors"] > 0),
        ("report.html", lambda text: text.startswith("<!DOCTYPE html>") and "AIRLINK" in text),
        ("report.sarif", lambda text: json.loads(text)["version"] == "2.1.0"),
        ("report.xml", lambda text: "<testsuites" in text and "<failure" in text),
        ("report.md", lambda text: text.startswith("## ❌ quotecheck: failed")),
        ("report.txt", lambda text: "QC303 [error]" in text and "(failed)" in text),
    ],
)
def test_save_report_picks_the_format_from_the_extension(tmp_path, name, check):
    report = check_paths([FAULTY], Options(include_quotes=True))
    target = tmp_path / name
    save_report(report, target)
    assert check(target.read_text(encoding="utf-8"))


def test_save_report_with_an_unknown_extension_asks_for_the_format(tmp_path):
    report = check_paths([FAULTY])
    with pytest.raises(ValueError, match="format="):
        save_report(report, tmp_path / "report.out")
    save_report(report, tmp_path / "report.out", format="json")
    assert json.loads((tmp_path / "report.out").read_text(encoding="utf-8"))["summary"]["files"] == 1


def test_save_report_to_a_path_that_cannot_be_written_raises_naming_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ReportWriteError, match="file"):
        save_report(check_paths([FAULTY]), blocker / "report.json")
