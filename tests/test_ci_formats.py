"""CI formats on the same Report: GitHub workflow commands, JUnit XML, SARIF 2.1.0, Markdown, JSON."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import cmarkgfm
import jsonschema
import pytest
from click.testing import CliRunner
from cmarkgfm.cmark import Options as MarkdownOptions
from junitparser import Failure, JUnitXml

from checker.api import check_paths
from checker.cli import cli
from checker.config import Options, Policy
from checker.render.escape import visible
from checker.render.github import escape_data, escape_property, github_lines
from checker.render.junit import junit_tree, xml_text
from checker.render.markdown import cell, markdown_summary
from checker.render.sarif import artifact_uri, sarif_document
from checker.repair import attach_fixes
from checker.rules.registry import all_rules

REPO = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = REPO.parent / "shared" / "data" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = REPO / "schemas" / "report.schema.json"

# Real-looking quotes with injected faults: a wrong percent (QC303), an arrow the wrong way
# (QC302), a stock without its arrow (QC406, warning), a cut-off last quote (QC101).
FAULTY_PAGE = """Markets at a glance
AIRLINK 207.00 Increased By ▲ 6.71 (3.36%)
BOP 10.39 Decreased By ▼ -0.10 (-0.95%)
FFL 17.17 Decreased By ▲ -0.25 (-1.44%)
HUBC 132.30 Increased By 4.49 (3.51%)
KEL 4.96 Decreased By ▼ -0.04 (-0.8%)
PIBTL 9.80 Decreased By ▼ -0.1
"""
CLEAN_PAGE = """AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)
BOP 10.39 Decreased By ▼ -0.10 (-0.95%)
KSE100 114,977 Increased By 172.5 (0.15%)
"""
# GitHub's workflow-command syntax: ::command key=value,key=value::message, where neither the
# property values nor the message may hold a raw CR or LF, and values hold no raw `,` or `:`.
WORKFLOW_COMMAND = re.compile(
    r"^::(?P<command>error|warning|notice) "
    r"file=(?P<file>[^,:\r\n]+)(?:,line=(?P<line>\d+))?(?:,col=(?P<col>\d+))?(?:,endColumn=(?P<end>\d+))?"
    r",title=(?P<title>[^,:\r\n]+)::(?P<message>[^\r\n]*)$"
)
CLEAN_ENV = {"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": "", "NO_COLOR": "1"}


@pytest.fixture
def page(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    path = folder / "page.txt"
    path.write_text(FAULTY_PAGE, encoding="utf-8")
    return path


def run(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(
        cli, ["check", "--no-report", "--no-config", *args], env=CLEAN_ENV | (env or {})
    )


# --- GitHub ---------------------------------------------------------------------------------


def test_github_lines_follow_the_workflow_command_syntax(page):
    report = check_paths([page])
    lines = list(github_lines(report))
    assert len(lines) == len(report.findings) == 4
    for line, finding in zip(lines, report.findings.to_dict("records"), strict=True):
        match = WORKFLOW_COMMAND.match(line)
        assert match, line
        assert match["command"] == {"error": "error", "warning": "warning"}[finding["severity"]]
        assert int(match["line"]) == finding["line"]
        assert int(match["col"]) == finding["column"]
        assert match["title"] == f"{finding['rule']} {finding['name']}"
    assert lines[0].endswith("::percent 3.36%25 but change 6.71 over previous price 200.29 is 3.35%25")


def test_github_escaping_follows_the_actions_toolkit():
    assert escape_data("50% up\r\nnext") == "50%25 up%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    assert escape_data("a:b,c") == "a:b,c", "the message may hold colons and commas"


def test_github_escapes_a_file_name_with_separators(tmp_path):
    path = tmp_path / "odd,name:1.txt"
    path.write_text(FAULTY_PAGE, encoding="utf-8")
    lines = list(github_lines(check_paths([path])))
    assert all(WORKFLOW_COMMAND.match(line) for line in lines)
    assert (
        "file=" + str(tmp_path).replace(":", "%3A").replace(",", "%2C") + "/odd%2Cname%3A1.txt," in lines[0]
    )


def test_github_maps_info_to_notice_after_a_severity_override(page):
    options = Options(policy=Policy(severity={"QC303": "info", "QC406": "warning"}))
    commands = [
        WORKFLOW_COMMAND.match(line)["command"] for line in github_lines(check_paths([page], options))
    ]
    assert commands == ["notice", "error", "warning", "error"]


def test_github_format_is_chosen_automatically_in_actions(page):
    auto = run([str(page)], env={"GITHUB_ACTIONS": "true"})
    annotations = [line for line in auto.output.splitlines() if line.startswith("::")]
    assert len(annotations) == 4 and all(WORKFLOW_COMMAND.match(line) for line in annotations)
    assert auto.exit_code == 1
    text = run([str(page), "--format", "text"], env={"GITHUB_ACTIONS": "true"})
    assert not any(line.startswith("::") for line in text.output.splitlines())
    local = run([str(page)])
    assert not any(line.startswith("::") for line in local.output.splitlines())


def test_json_format_writes_the_report_to_stdout(page):
    result = run([str(page), "--format", "json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads(REPORT_SCHEMA.read_text(encoding="utf-8")))
    assert [f["rule"] for f in document["findings"]] == ["QC303", "QC302", "QC406", "QC101"]
    assert document["summary"]["errors"] == 3


# --- JUnit ----------------------------------------------------------------------------------


def test_junit_has_one_case_per_rule_and_file_read_by_junitparser(page, tmp_path):
    other = page.parent / "clean.txt"
    other.write_text(CLEAN_PAGE, encoding="utf-8")
    target = tmp_path / "out" / "junit.xml"
    result = run([str(page), str(other), "--junit", str(target)])
    assert result.exit_code == 1
    xml = JUnitXml.fromfile(str(target))
    suites = list(xml)
    assert [suite.name for suite in suites] == [str(page), str(other)]
    rule_count = len(all_rules())
    failed: dict[str, list[str]] = {}
    for suite in suites:
        cases = list(suite)
        assert len(cases) == rule_count
        assert suite.tests == rule_count
        for case in cases:
            assert case.classname == suite.name
            failures = [r for r in case.result if isinstance(r, Failure)]
            if failures:
                failed.setdefault(suite.name, []).append(case.name)
                assert failures[0].type == case.name.split()[0]
                # every finding line of that rule and file, in the failure's text
                for line in failures[0].text.splitlines():
                    assert line.startswith(f"{suite.name}:") and f" {failures[0].type} [error] " in line
    assert failed == {
        str(page): ["QC101 truncated-quote", "QC302 arrow-mismatch", "QC303 percent-mismatch"],
    }
    percent = next(c for c in suites[0] if c.name == "QC303 percent-mismatch")
    assert percent.result[0].message == "1 finding of QC303"
    assert f"{page}:2:37: QC303 [error]" in percent.result[0].text


def test_junit_keeps_findings_below_the_fail_level_as_output(page):
    report = check_paths([page], Options(policy=Policy(fail_on="never")))
    root = junit_tree(report).getroot()
    assert root.get("failures") == "0"
    assert not root.findall(".//failure")
    outputs = [element.text for element in root.findall(".//system-out")]
    assert len(outputs) == 4  # one case per rule with findings: QC101, QC302, QC303, QC406
    assert any("QC406 [warning] no arrow" in text for text in outputs)


def test_junit_text_is_always_well_formed_xml():
    text = xml_text("page\x0bwith\x00controls & <tags>")
    assert text == "page\\x0bwith\\x00controls & <tags>"
    element = ET.Element("failure")
    element.text = text
    assert ET.fromstring(ET.tostring(element)).text == text


# --- SARIF ----------------------------------------------------------------------------------


def _sarif_schema() -> dict:
    assert SARIF_SCHEMA.is_file(), f"the official SARIF 2.1.0 schema is missing: {SARIF_SCHEMA}"
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


def test_sarif_validates_against_the_official_schema(page, tmp_path):
    schema = _sarif_schema()
    target = tmp_path / "report.sarif"
    result = run([str(page), "--sarif", str(target)])
    assert result.exit_code == 1
    document = json.loads(target.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    run_ = document["runs"][0]
    assert document["version"] == "2.1.0"
    assert len(run_["results"]) == 4
    # the streamed file holds exactly the document built in memory
    # (with the repairs a report run from the command line carries: they are found from the quotes)
    in_memory = attach_fixes(check_paths([page], Options(include_quotes=True)))
    assert document == sarif_document(in_memory, base=Path.cwd())


def test_sarif_rules_come_from_the_registry_and_results_point_at_them(page):
    report = check_paths([page])
    run_ = sarif_document(report)["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in all_rules()]
    registry = {r.code: r for r in all_rules()}
    for descriptor in rules:
        rule = registry[descriptor["id"]]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == rule.description
        assert visible(rule.failing) in descriptor["help"]["text"]
        expected_level = {"error": "error", "warning": "warning", "info": "note"}[rule.severity.label]
        assert descriptor["defaultConfiguration"]["level"] == expected_level
    for result, finding in zip(run_["results"], report.findings.to_dict("records"), strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["rule"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] == finding["line"]
        assert region["startColumn"] == finding["column"]
        assert region["endColumn"] == finding["end_column"] + 1, "SARIF's end column is exclusive"
    first = run_["results"][0]
    assert first["level"] == "error"
    assert first["message"]["text"].startswith("percent 3.36% but change 6.71 over previous price 200.29")


def test_sarif_uri_is_relative_to_the_declared_root(page, tmp_path):
    report = check_paths([page])
    run_ = sarif_document(report, base=tmp_path)["runs"][0]
    assert run_["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    location = run_["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "incoming/page.txt",
        "uriBaseId": "%SRCROOT%",
    }
    assert run_["artifacts"][0]["location"] == {"uri": "incoming/page.txt", "uriBaseId": "%SRCROOT%"}
    assert artifact_uri("incoming/a page.txt") == "incoming/a%20page.txt"
    assert artifact_uri("/elsewhere/page.txt", base=tmp_path) == "file:///elsewhere/page.txt"


def test_sarif_fingerprints_survive_a_shifted_line(tmp_path):
    before = tmp_path / "page.txt"
    before.write_text(FAULTY_PAGE, encoding="utf-8")
    first = sarif_document(check_paths([before]), base=tmp_path)["runs"][0]["results"]
    before.write_text("PRINT EDITION ► BR MARKETS\n\n" + FAULTY_PAGE, encoding="utf-8")
    second = sarif_document(check_paths([before]), base=tmp_path)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in second] == [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] + 2 for r in first
    ]
    assert [r["partialFingerprints"] for r in second] == [r["partialFingerprints"] for r in first]
    assert len({next(iter(r["partialFingerprints"].values())) for r in first}) == len(first)


def test_sarif_marks_rules_left_out_by_the_policy_as_disabled(page):
    report = check_paths([page], Options(policy=Policy(select=("QC3",))))
    rules = sarif_document(report)["runs"][0]["tool"]["driver"]["rules"]
    disabled = {r["id"] for r in rules if r["defaultConfiguration"].get("enabled") is False}
    assert disabled == {r.code for r in all_rules() if not r.code.startswith("QC3")}


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_summary_has_verdict_counts_and_findings(page, tmp_path):
    target = tmp_path / "summary.md"
    result = run([str(page), "--markdown", str(target)])
    assert result.exit_code == 1
    text = target.read_text(encoding="utf-8")
    assert text.startswith("## ❌ quotecheck: failed\n")
    assert "| 1 | 5 | 3 | 1 | 0 | 0 |" in text
    assert "| QC303 | `percent-mismatch` | error | 1 |" in text
    assert f"| {cell(f'{page}:2:37')} | QC303 | error | `percent 3.36% but change 6.71" in text


def test_markdown_shows_scraped_markup_as_text():
    from checker.api import check_text

    report = check_text("<script>alert(1)</script> 12.00 Increased By\n", name="<img onerror=x>|page")
    text = markdown_summary(report)
    assert "| `<img onerror=x>\\|page` |" in text, "the name is a code span, its pipe escaped"
    html = cmarkgfm.github_flavored_markdown_to_html(text, options=MarkdownOptions.CMARK_OPT_UNSAFE)
    assert "<script" not in html and "<img" not in html
    assert "<code>&lt;img onerror=x&gt;|page</code>" in html


def test_markdown_lists_the_inputs_it_could_not_check_beside_the_rule_table(page, tmp_path):
    missing = tmp_path / "missing.txt"
    text = markdown_summary(check_paths([page, missing]))
    assert "**Inputs not checked:**" in text
    assert f"- `{missing}: cannot read: No such file or directory`" in text
    assert "| QC901 | `unreadable-input` | error | 1 |" in text


def test_markdown_lists_only_the_first_findings_of_a_long_run(tmp_path):
    lines = [f"SYM{n} 207.00 Increased By ▲ 6.71 (3.{n}%)" for n in range(41, 80) if n % 10]
    path = tmp_path / "many.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    text = markdown_summary(check_paths([path]), top=10)
    assert "### First 10 findings" in text
    assert text.count("| QC303 | error |") == 10
    assert "\n26 more findings are in the JSON report." in text  # 36 quotes, 10 shown


def test_step_summary_is_appended_when_github_sets_it(page, tmp_path):
    summary_file = tmp_path / "step_summary.md"
    summary_file.write_text("## earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary_file)}
    run([str(page)], env=env)
    run([str(page)], env=env)
    text = summary_file.read_text(encoding="utf-8")
    assert text.startswith("## earlier step\n")
    assert text.count("## ❌ quotecheck: failed") == 2


def test_a_step_summary_that_is_a_fifo_never_blocks_the_run(page, tmp_path):
    fifo = tmp_path / "summary.fifo"
    os.mkfifo(fifo)
    result = run([str(page)], env={"GITHUB_STEP_SUMMARY": str(fifo)})
    assert result.exit_code == 1  # the page's findings decide, as without a step summary
    assert "cannot append to $GITHUB_STEP_SUMMARY" in result.output


def test_report_files_are_written_whole_into_new_folders(page, tmp_path):
    reports = tmp_path / "deep" / "reports"
    result = run(
        [
            str(page),
            "--junit",
            str(reports / "junit.xml"),
            "--sarif",
            str(reports / "report.sarif"),
            "--markdown",
            str(reports / "summary.md"),
        ]
    )
    assert result.exit_code == 1
    assert sorted(p.name for p in reports.iterdir()) == ["junit.xml", "report.sarif", "summary.md"]
    ET.parse(reports / "junit.xml")
    json.loads((reports / "report.sarif").read_text(encoding="utf-8"))


def test_rule_examples_holding_control_bytes_are_shown_as_escapes_in_sarif_and_explain(tmp_path):
    from checker.rules import get_rule

    assert "\x00" in get_rule("QC901").failing  # the example is the bytes the rule is about
    page = tmp_path / "page.txt"
    page.write_text("AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)\n", encoding="utf-8")
    for descriptor in sarif_document(check_paths([page]))["runs"][0]["tool"]["driver"]["rules"]:
        for text in (descriptor["help"]["text"], descriptor["help"]["markdown"]):
            assert not any(ord(c) < 0x20 and c not in "\n" for c in text), descriptor["id"]
    shown = CliRunner().invoke(cli, ["explain", "QC901"]).output
    assert "\\x00\\x01\\x02" in shown and "\x00" not in shown
