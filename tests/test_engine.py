"""The checking engine end to end: the seed and sample pages, the JSON report against its schema,
the command line's exit statuses and rule listing, the README's rule table, the wheel's data files,
and the Python API."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from click.testing import CliRunner

from checker.api import check_bytes, check_frame, check_paths, check_text
from checker.cli import cli, rules_markdown
from checker.config import Options, Policy
from checker.rules.registry import all_rules

ROOT = Path(__file__).resolve().parents[1]
# The real scraped page, beside the repository (../shared), as CI lays it out.
SEED = ROOT.parent / "shared" / "seeds" / "000_bc2a9c9b32c1a146.txt"
SAMPLE = ROOT / "samples" / "sample-page.txt"
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))

PIBTL_REAL = "PIBTL 15.48 Increased By ▲ 0.24 (1.58%)"
FAULTY_PAGE = "\n".join(
    [
        "Markets at a glance",
        "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
        PIBTL_REAL,
        "KSE100 1,14,977 Increased By 172.5 (0.15%)",
        "TRG 70.15 Increased By ▲ 13.96 (24.84%)",
        "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
        "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
        "PIBTL 9.80 Decreased By ▼ -0.1",
    ]
)


def _validate(report_json: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(report_json), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def _run(args: list[str], tmp_path: Path) -> tuple[int, str, dict | None]:
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["check", *args, "--json", str(report)])
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    return result.exit_code, result.output, data


# --- pages ----------------------------------------------------------------------------------------


def test_seed_page_has_34_quotes_and_no_error():
    assert SEED.is_file(), f"the seed page is missing: {SEED} (../shared beside the repository)"
    report = check_paths([SEED])
    summary = report.summary()
    assert summary["quotes"] == 34
    assert summary["errors"] == 0
    assert int(report.exit_status) == 0


def test_seed_page_article_prose_draws_nothing():
    assert SEED.is_file(), f"the seed page is missing: {SEED} (../shared beside the repository)"
    findings = check_paths([SEED]).findings
    assert findings.empty, findings[["rule", "line", "message"]].to_string()


def test_sample_page_has_the_seed_figures_and_no_finding():
    report = check_paths([SAMPLE], Options(include_quotes=True))
    assert report.summary()["quotes"] == 34
    assert report.findings.empty, report.findings[["rule", "line", "message"]].to_string()
    quotes = report.quotes
    assert quotes["symbol"].is_unique
    assert set(quotes.loc[quotes["kind"] == "index", "symbol"]) == {"BR100", "BR30", "KSE100", "KSE30"}


def test_the_real_inconsistency_is_caught_and_its_correct_form_passes():
    findings = check_text(PIBTL_REAL).findings
    assert findings["rule"].tolist() == ["QC303"]
    finding = findings.iloc[0]
    assert (finding["line"], finding["column"]) == (1, PIBTL_REAL.index("1.58") + 1)
    assert finding["observed"] == "1.58" and finding["expected"] == "1.57"
    assert check_text(PIBTL_REAL.replace("1.58", "1.57")).findings.empty


def test_the_real_inconsistency_is_caught_among_seed_quotes():
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    at = lines.index("PIBTL 8.49 Decreased By ▼ -0.02 (-0.24%)")
    lines[at] = PIBTL_REAL
    findings = check_text("\n".join(lines)).findings
    errors = findings[findings["severity"] == "error"]
    assert errors[["rule", "line"]].values.tolist() == [["QC303", at + 1]]


# --- the JSON report ------------------------------------------------------------------------------


@pytest.mark.parametrize("include_quotes", [False, True])
def test_json_report_of_the_sample_validates(tmp_path, include_quotes):
    status, _output, data = _run([str(SAMPLE), *(["--include-quotes"] if include_quotes else [])], tmp_path)
    assert status == 0
    _validate(data)
    assert data["summary"]["quotes"] == 34 and data["summary"]["passed"] is True
    assert data["tool"]["name"] == "quotecheck"
    assert ("quotes" in data) == include_quotes
    if include_quotes:
        assert len(data["quotes"]) == 34
        first = data["quotes"][0]
        airlink_line = (
            SAMPLE.read_text(encoding="utf-8")
            .splitlines()
            .index("AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)")
        )
        assert (first["symbol"], first["line"], first["column"]) == ("AIRLINK", airlink_line + 1, 1)
    assert {r["code"] for r in data["rules"]} == {r.code for r in all_rules()}


@pytest.mark.parametrize("include_quotes", [False, True])
def test_json_report_of_a_faulty_page_validates_and_locates_each_finding(tmp_path, include_quotes):
    page = tmp_path / "faulty.txt"
    page.write_text(FAULTY_PAGE, encoding="utf-8")
    args = [str(page), *(["--include-quotes"] if include_quotes else [])]
    status, _output, data = _run(args, tmp_path)
    assert status == 1
    _validate(data)
    located = {(f["rule"], f["line"]) for f in data["findings"]}
    assert located == {("QC303", 3), ("QC401", 4), ("QC501", 5), ("QC306", 7), ("QC101", 8)}
    summary = data["summary"]
    assert (summary["errors"], summary["warnings"], summary["infos"]) == (3, 1, 1)
    assert summary["passed"] is False
    for finding in data["findings"]:
        for key in ("rule", "name", "severity", "file", "line", "column", "symbol", "field", "message"):
            assert key in finding


def test_json_report_with_an_unreadable_input_validates(tmp_path):
    status, _output, data = _run([str(SAMPLE), str(tmp_path / "missing.txt")], tmp_path)
    assert status == 2
    _validate(data)
    assert data["summary"]["quotes"] == 34
    assert [f["rule"] for f in data["findings"]] == ["QC901"]


# --- the command line -----------------------------------------------------------------------------


def test_exit_0_on_a_clean_page_with_a_summary_of_what_was_checked(tmp_path):
    status, output, _ = _run([str(SAMPLE)], tmp_path)
    assert status == 0
    assert "1 file, 34 quotes: 0 errors, 0 warnings, 0 infos (passed)" in output


def test_exit_1_on_errors_with_each_finding_on_its_own_line(tmp_path):
    page = tmp_path / "faulty.txt"
    page.write_text(FAULTY_PAGE, encoding="utf-8")
    status, output, _ = _run([str(page)], tmp_path)
    assert status == 1
    assert f"{page}:3:{PIBTL_REAL.index('1.58') + 1}: QC303" in output


def test_exit_0_when_only_warnings_and_fail_on_error(tmp_path):
    page = tmp_path / "warning.txt"
    page.write_text("TRG 70.15 Increased By ▲ 13.96 (24.84%)\n", encoding="utf-8")
    assert _run([str(page)], tmp_path)[0] == 0
    assert _run([str(page), "--fail-on", "warning"], tmp_path)[0] == 1


def test_exit_2_on_a_missing_file_and_on_a_usage_error(tmp_path):
    assert _run([str(tmp_path / "nope.txt")], tmp_path)[0] == 2
    assert _run([str(SAMPLE), "--as-of", "yesterday"], tmp_path)[0] == 2
    assert CliRunner().invoke(cli, ["check"]).exit_code == 2


def test_python_dash_m_checker_runs_the_same_command(tmp_path):
    page = tmp_path / "faulty.txt"
    page.write_text(FAULTY_PAGE, encoding="utf-8")
    args = [sys.executable, "-m", "checker", "check", "--no-report"]
    clean = subprocess.run([*args, str(SAMPLE)], capture_output=True, text=True, check=False)
    faulty = subprocess.run([*args, str(page)], capture_output=True, text=True, check=False)
    missing = subprocess.run([*args, str(tmp_path / "nope.txt")], capture_output=True, text=True, check=False)
    assert (clean.returncode, faulty.returncode, missing.returncode) == (0, 1, 2)
    assert "Traceback" not in missing.stderr + missing.stdout


def test_rules_command_lists_every_rule_of_the_registry():
    result = CliRunner().invoke(cli, ["rules"])
    assert result.exit_code == 0
    listed = [line.split()[:2] for line in result.output.splitlines() if line.strip()]
    assert listed == [[rule.code, rule.name] for rule in all_rules()]


def test_rules_json_carries_examples_for_every_rule():
    result = CliRunner().invoke(cli, ["rules", "--format", "json"])
    entries = json.loads(result.output)
    assert [e["code"] for e in entries] == [r.code for r in all_rules()]
    assert all(e["passing_example"] and e["failing_example"] for e in entries)


def test_readme_rule_table_is_the_registry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- rules-table:start -->", "<!-- rules-table:end -->"
    assert start in readme and end in readme
    table = readme.split(start, 1)[1].split(end, 1)[0].strip()
    assert table == rules_markdown().strip(), (
        "README rules table drifted: regenerate it with `quotecheck rules --readme README.md`"
    )


def test_rules_readme_rewrites_a_stale_table_and_nothing_else(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- rules-table:start -->", "<!-- rules-table:end -->"
    head, rest = readme.split(start, 1)
    tail = rest.split(end, 1)[1]
    stale = tmp_path / "README.md"
    stale.write_text(
        f"{head}{start}\n| QC000 | `gone` | parse | error | A rule no more. |\n{end}{tail}", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["rules", "--readme", str(stale)])
    assert result.exit_code == 0, result.output
    assert "regenerated" in result.output
    assert stale.read_text(encoding="utf-8") == readme


def test_rules_readme_without_the_markers_is_a_usage_error(tmp_path):
    page = tmp_path / "README.md"
    page.write_text("# no table here\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["rules", "--readme", str(page)])
    assert result.exit_code == 2
    assert "rules-table:start" in result.output
    assert page.read_text(encoding="utf-8") == "# no table here\n"


# --- packaging ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_ships_the_report_schema_and_the_feed_profile(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("quotecheck-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "checker/_schemas/report.schema.json" in names
    assert "checker/_schemas/profiles/br-psx.json" in names
    shipped = json.loads(zipfile.ZipFile(wheel).read("checker/_schemas/report.schema.json"))
    assert shipped == SCHEMA


# --- the Python API -------------------------------------------------------------------------------


def test_check_text_returns_located_quotes_and_findings():
    text = (
        "\ufeff date 2024-03-28 AIRLINK 61.80 Increased By ▲ 1.37 (2.27%)\r\n"
        "KEL 4.96 Decreased By ▼ -0.04 (-0.81%)\r\n"
    )
    report = check_text(text, name="page.txt", options=Options(include_quotes=True))
    quotes = report.quotes
    assert quotes[["symbol", "line", "column"]].values.tolist() == [["AIRLINK", 1, 18], ["KEL", 2, 1]]
    assert report.findings[["rule", "line", "column"]].values.tolist() == [["QC303", 2, 32]]
    assert report.findings["file"].tolist() == ["page.txt"]
    assert not report.passed


def _frame_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": ["AIRLINK", "PIBTL", "KSE100"],
            "price": ["207.00", "15.48", "114,977"],
            "direction": ["Increased By", "Increased By", "Increased By"],
            "arrow": ["▲", "▲", None],
            "change": ["6.71", "0.24", "172.5"],
            "percent": ["3.35", "1.58", "0.15"],
        }
    )


def test_check_frame_checks_already_parsed_quotes():
    report = check_frame(_frame_rows(), name="quotes")
    assert report.summary()["quotes"] == 3
    findings = report.findings
    assert findings[["rule", "symbol"]].values.tolist() == [["QC303", "PIBTL"]]


def test_check_frame_with_a_missing_column_is_a_schema_structure_error():
    report = check_frame(_frame_rows().drop(columns=["percent"]), name="quotes")
    assert report.findings["rule"].tolist() == ["QC207"]
    assert "percent" in report.findings["message"].iloc[0]
    assert not report.passed


def test_check_paths_reports_each_file(tmp_path):
    faulty = tmp_path / "faulty.txt"
    faulty.write_text(FAULTY_PAGE, encoding="utf-8")
    report = check_paths([SAMPLE, faulty])
    assert [f.path for f in report.files] == [str(SAMPLE), str(faulty)]
    assert [f.quotes for f in report.files] == [34, 6]
    assert set(report.findings["file"]) == {str(faulty)}
    assert int(report.exit_status) == 1


def test_check_bytes_reports_undecodable_bytes_where_they_are_and_checks_the_rest():
    data = "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)\n".encode() + b"BOP \xff 10.39\n"
    data += "KEL 4.96 Decreased By ▼ -0.04 (-0.81%)\n".encode()
    report = check_bytes(data, name="page.txt")
    assert report.summary()["quotes"] == 2
    located = report.findings[["rule", "line", "column"]].values.tolist()
    assert located == [["QC902", 2, 5], ["QC303", 3, 32]]


def test_check_paths_on_a_missing_file_is_an_unreadable_input_not_an_exception(tmp_path):
    report = check_paths([tmp_path / "missing.txt"])
    assert report.findings["rule"].tolist() == ["QC901"]
    assert int(report.exit_status) == 2


@pytest.mark.parametrize(
    ("percent", "rules"),
    [
        ("0.050", {"QC403"}),
        ("0.05", set()),
        ("0.06", {"QC303"}),
        ("0.045", {"QC403"}),
        ("0.051", {"QC403", "QC303"}),
    ],
)
def test_extra_percent_digits_are_a_format_finding_not_also_a_mismatch(percent, rules):
    # 16.3 / (36,119 - 16.3) admits 0.0451%..0.0452%, which the feed rounds to 0.05.
    report = check_text(f"KSE30 36,119 Increased By 16.3 ({percent}%)")
    assert set(report.findings["rule"]) == rules


def test_source_context_is_kept_for_each_rules_first_findings_only():
    from checker.findings import SOURCE_CONTEXT_PER_RULE

    # Every line a percent mismatch; the first three lines also lack their arrow (QC406).
    lines = [f"S{i} 10.00 Increased By ▲ 0.10 (1.5%)" for i in range(SOURCE_CONTEXT_PER_RULE + 50)]
    lines[:3] = [f"A{i} 10.00 Increased By 0.10 (1.5%)" for i in range(3)]
    report = check_text("\n".join(lines), "many.txt")
    assert report.rule_counts() == {"QC303": SOURCE_CONTEXT_PER_RULE + 50, "QC406": 3}
    kept = sorted(line for (_file, line) in report.source_lines)
    assert kept == list(range(1, SOURCE_CONTEXT_PER_RULE + 1))
    assert report.source_lines[("many.txt", 2)] == lines[1]


def test_a_chunked_page_keeps_the_same_source_context_as_a_whole_one(tmp_path):
    from checker.chunked import check_large_file
    from checker.config import Options
    from checker.engine import Checker
    from checker.findings import SOURCE_CONTEXT_PER_RULE

    lines = [f"S{i} 10.00 Increased By ▲ 0.10 (1.5%)" for i in range(SOURCE_CONTEXT_PER_RULE + 300)]
    page = tmp_path / "page.txt"
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = Options()
    whole = check_paths([page], options)
    chunked = check_large_file(Checker(options), page, str(page), chunk_bytes=4096, force=True)
    assert chunked is not None
    assert chunked.sources == whole.source_lines


# --- one fault, one finding ---------------------------------------------------------------------


def _serious(report) -> list[list]:
    findings = report.findings[report.findings["severity"] != "info"]
    return findings[["rule", "line", "column", "field", "observed", "expected"]].values.tolist()


def test_a_change_missing_its_minus_is_a_sign_mismatch_only_expecting_the_signed_change():
    report = check_text("BOP 10.39 Decreased By ▼ 0.10 (-0.95%)")
    assert _serious(report) == [["QC301", 1, 26, "change", "0.10", "-0.10"]]
    message = report.findings["message"].iat[0]
    assert message == "change 0.10 is positive but Decreased By, ▼ and percent -0.95% say the quote fell"


def test_with_the_sign_rule_off_the_percent_arithmetic_still_reports_the_fault():
    options = Options(policy=Policy(ignore=("QC301",)))
    report = check_text("BOP 10.39 Decreased By ▼ 0.10 (-0.95%)", options=options)
    assert [row[0] for row in _serious(report)] == ["QC303"]


@pytest.mark.parametrize(
    "arrow",
    [b"\xff", b"\xe2\x96", b"\x00"],
    ids=["invalid-byte", "cut-arrow", "nul"],
)
def test_a_bad_byte_where_the_arrow_stands_is_one_finding_naming_the_bytes(arrow):
    data = b"BOP 10.39 Decreased By " + arrow + b" -0.10 (-0.95%)\n"
    report = check_bytes(data, name="page.txt")
    assert _serious(report)[0][:4] == ["QC205", 1, 24, "arrow"]
    assert len(_serious(report)) == 1, _serious(report)
    assert report.findings["expected"].iat[0] == "▼"  # the arrow a falling quote is shown with
    assert f"({arrow.hex(' ')}, at byte offset 23)" in report.findings["message"].iat[0]


def test_a_bad_byte_elsewhere_is_still_its_own_finding():
    report = check_bytes(b"B\xffOP 10.39 Decreased By \xe2\x96\xbc -0.10 (-0.95%)\n", name="page.txt")
    assert [row[0] for row in _serious(report)] == ["QC902"]


def test_an_arrow_shown_with_a_wrong_direction_word_is_part_of_the_sign_finding():
    report = check_text("WTL 1.27 Increased By ▲ 0.00 (0%)")
    assert _serious(report) == [["QC301", 1, 10, "direction", "Increased By ▲", "No Change ▼"]]


@pytest.mark.parametrize(
    ("line", "rule", "expected"),
    [
        ("TELE 9.32 Increased By ▲ 0.22 (-120%)", "QC203", "2.42"),
        ("SILK 0.00 Decreased By ▼ -0.02 (-100%)", "QC202", "> 0"),
        ("SILK 0.97 Increased By ▲ 1.20 (-521.74%)", "QC304", "< 0.97"),
        ("KSE100 114\u00a0977 Increased By 172.5 (0.15%)", "QC404", "114,977"),
        ("QBZ 499.62 Decreased By ▼ -20.1 (-3.88%)", "QC402", "-20.10"),
        # A price cut to one decimal may be 0.1x: its previous price need not be 0 (no QC304).
        ("AIRLINK 0.1 Increased By ▲ 0.10 (1000%)", "QC401", "0.10"),
        ("SILK -0.97 Decreased By ▼ -0.02 (-2.02%)", "QC202", "> 0"),
    ],
)
def test_one_fault_draws_one_finding_that_expects_what_puts_the_quote_right(line, rule, expected):
    findings = _serious(check_text(line))
    assert [(row[0], row[5]) for row in findings] == [(rule, expected)], findings


def test_percent_mismatch_expects_the_rounded_percent_and_says_why():
    report = check_text("PIBTL 15.48 Increased By ▲ 0.24 (1.58%)\nKSE30 36,119 Increased By 16.3 (0.04%)")
    assert report.findings["expected"].tolist() == ["1.57", "0.05"]
    assert report.findings["message"].tolist() == [
        "percent 1.58% but change 0.24 over previous price 15.24 is 1.57%",
        "percent 0.04% but change 16.3 over previous price 36,102.7, both rounded for display, "
        "admit only 0.05%",
    ]


def test_circuit_breaker_message_names_the_limit_whichever_is_higher():
    report = check_text("TRG 70.15 Increased By ▲ 13.96 (24.84%)")
    (message,) = report.findings["message"].tolist()
    assert "beyond the circuit breaker of 10% or Rs 1, whichever is higher" in message
    assert report.findings["expected"].tolist() == ["≤ 5.61"]  # 10% of the previous price 56.19


@pytest.mark.parametrize(
    ("text", "lines"),
    [("", 0), ("a", 1), ("a\n", 1), ("a\nb", 2), ("a\nb\n", 2), ("a\n\n", 2), ("a\r\nb\r\n", 2)],
)
def test_line_count_is_lines_of_text_as_wc_counts_them(text, lines):
    report = check_bytes(text.encode(), name="prose.txt")
    assert report.summary()["lines"] == lines
    if text:
        noun = "line" if lines == 1 else "lines"
        assert report.findings["message"].tolist() == [f"prose.txt: no quote found in {lines} {noun}"]


def test_json_values_in_record_messages_are_json():
    data = b'[{"symbol": "BOP", "price": true, "direction": "Decreased By", "change": null, "percent": "1"}]'
    messages = check_bytes(data, name="q.json").findings["message"].tolist()
    assert (
        "record 1 at /0: `price` is true, not a number or a string; "
        "`change` is null, not a number or a string" in messages
    )
    assert not any("True" in m or "None" in m for m in messages)


def test_context_lines_are_those_of_each_rules_first_findings_counting_earlier_chunks():
    import numpy as np
    import pandas as pd

    from checker.findings import context_lines, normalize

    rng = np.random.default_rng(7)
    for _ in range(100):
        n = int(rng.integers(0, 300))
        rules = rng.choice(["QC301", "QC303", "QC902"], n).tolist()
        lines = [None if rng.random() < 0.1 else int(x) for x in rng.integers(1, 80, n)]
        findings = normalize(pd.DataFrame({"rule": rules, "line": pd.array(lines, dtype="Int64")}))
        cap = int(rng.integers(1, 20))
        kept = {"QC303": int(rng.integers(0, 5))}
        expected_kept, expected = dict(kept), set()
        for rule, line in zip(rules, lines, strict=True):  # the rule, one finding at a time
            if expected_kept.get(rule, 0) < cap:
                expected_kept[rule] = expected_kept.get(rule, 0) + 1
                if line is not None:
                    expected.add(line)
        assert context_lines(findings, kept, cap) == expected
        assert kept == expected_kept
