"""The HTML report without a browser: escaping, self-containment, caps, determinism, the CLI.

Regenerate the committed example report (reports/example/) after a change to the page or the
rules with `QUOTECHECK_UPDATE_GOLDEN=1 pytest tests/test_html.py -k example`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from markupsafe import escape

from checker.api import check_bytes, check_paths, check_text
from checker.cli import cli
from checker.config import Options, Policy
from checker.findings import Severity, from_records
from checker.render.html import (
    MAX_MARK,
    SOURCE_CONTEXT,
    Segment,
    highlight_segments,
    percent_deviation,
    render_html,
    save_html,
    script_hash,
    visible,
)
from checker.report import FileResult, Report
from checker.rules.registry import Rule, all_rules

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample-page.txt"
FAULTY = ROOT / "samples" / "faulty-page.txt"
EXAMPLE = ROOT / "reports" / "example"
EXAMPLE_COMMAND = [
    "check",
    "samples/sample-page.txt",
    "samples/faulty-page.txt",
    "--no-config",
    "--no-report",
    "--json",
    "reports/example/example.json",
    "--html",
    "reports/example/example.html",
]


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _elements(page: str) -> _Elements:
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser


def _faulty_report(**options: object) -> Report:
    return check_paths([SAMPLE, FAULTY], Options(include_quotes=True, **options))  # type: ignore[arg-type]


# --- highlighting and the percent chart's arithmetic -------------------------------------------


def test_highlight_marks_observed_text_at_its_column():
    line = "BOP 10.39 Decreased By ▼ -0.10 (-0.96%)"
    segments = highlight_segments(line, 33, 39, "-0.96")
    assert segments == [Segment(line[:32], "text"), Segment("-0.96", "mark"), Segment("%)", "text")]


def test_highlight_falls_back_to_column_through_end_column():
    line = "SILK 0.97 Increased By ▲ 1.20 (-521.74%)"
    segments = highlight_segments(line, 26, 40, "0.97 - (1.20)")
    assert [s.text for s in segments if s.kind == "mark"] == [line[25:40]]
    assert "".join(s.text for s in segments) == line


def test_highlight_without_column_is_the_plain_line():
    assert highlight_segments("abc", None, None, None) == [Segment("abc", "text")]
    assert highlight_segments("abc", 9, 12, "x") == [Segment("abc", "text")]


def test_highlight_cuts_long_lines_to_a_window_around_the_mark():
    line = "x" * 500 + "BAD" + "y" * 500
    segments = highlight_segments(line, 501, 503, "BAD")
    assert segments[0] == Segment("…", "gap") and segments[-1] == Segment("…", "gap")
    assert Segment("BAD", "mark") in segments
    assert sum(len(s.text) for s in segments if s.kind == "text") == 120


def test_highlight_without_a_column_clips_a_long_line():
    segments = highlight_segments("q" * 10_000_000, None, None, None)
    assert segments == [Segment("q" * 2 * SOURCE_CONTEXT, "text"), Segment("…", "gap")]


def test_highlight_clips_a_long_mark_to_its_start():
    line = "AIRLINK " + "9" * 1_000_000 + " Increased By ▲ 6.71 (3.35%)"
    segments = highlight_segments(line, 9, 1_000_008, None)
    assert segments == [
        Segment("AIRLINK ", "text"),
        Segment("9" * MAX_MARK, "mark"),
        Segment("…", "gap"),
        Segment(" Increased By ▲ 6.71 (3.35%)", "text"),
    ]


@pytest.mark.parametrize(
    ("observed", "expected", "deviation"),
    [
        ("1.58", "1.57", Decimal("0.01")),
        ("-0.8", "0.81", Decimal("-1.61")),
        ("0.61", "0.5 to 0.52", Decimal("0.09")),
        ("0.4", "0.5 to 0.52", Decimal("-0.1")),
        ("−1.5", "-1.45", Decimal("-0.05")),
        ("1.58%", "1.57", Decimal("0.01")),  # a CSV or JSON field may hold the sign
        ("abc", "1.57", None),
        ("1.5", "", None),
    ],
)
def test_percent_deviation(observed, expected, deviation):
    assert percent_deviation(observed, expected) == deviation


# --- escaping ----------------------------------------------------------------------------------


def _payload(name: str) -> str:
    return f"<x-{name} a=\"1\" b='2'>&amp;</x-{name}>"


def test_every_field_from_the_input_is_escaped():
    base = check_text("AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)", "x.txt", Options(include_quotes=True))
    file = _payload("file")
    quotes = base.quotes.copy()
    quotes["file"] = pd.Categorical([file])
    quotes["symbol"] = pd.array([_payload("q-symbol")], dtype="string")
    for name in ("price", "direction", "arrow", "change", "percent"):
        quotes[f"{name}_text"] = pd.array([_payload(f"q-{name}")], dtype="string")
    source = "AIRLINK " + _payload("source") + " tail"
    custom = Rule(
        "QC999",
        _payload("rule-name"),
        Severity.ERROR,
        _payload("rule-summary"),
        _payload("rule-description"),
        _payload("rule-passing"),
        _payload("rule-failing"),
    )
    finding = {
        "rule": "QC999",
        "name": _payload("name"),
        "severity": "error",
        "file": file,
        "line": 1,
        "column": 9,
        "end_column": 20,
        "symbol": _payload("symbol"),
        "field": "price",
        "observed": _payload("source"),
        "expected": _payload("expected"),
        "message": _payload("message"),
    }
    findings = from_records(
        [
            finding,
            finding
            | {"rule": _payload("code"), "severity": _payload("severity"), "field": _payload("field")},
            finding | {"rule": "QC303", "observed": "1.58", "expected": "1.57", "symbol": _payload("chart")},
        ]
    )
    report = Report(
        options=Options(profile=_payload("profile"), include_quotes=True),
        rules=[*all_rules(), custom],
        files=[FileResult(path=file, encoding=_payload("encoding"), message=_payload("file-message"))],
        findings=findings,
        quotes=quotes,
        source_lines={(file, 1): source},
    )
    page = render_html(report)
    names = [
        "file", "q-symbol", "q-price", "q-direction", "q-arrow", "q-change", "q-percent", "source",
        "rule-name", "rule-summary", "rule-description", "rule-passing", "rule-failing", "name",
        "symbol", "expected", "message", "code", "severity", "chart", "profile", "encoding",
        "file-message",
    ]  # fmt: skip
    for name in names:
        assert f"<x-{name}" not in page, name
        assert str(escape(_payload(name))) in page, name
    assert "<mark>" + str(escape(_payload("source"))) + "</mark>" in page
    marks = [a for tag, a in _elements(page).tags if tag == "td" and "bad" in (a.get("class") or "")]
    assert any(_payload("message") in (a.get("title") or "") for a in marks)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("\x1b]8;;http://x\x07link\x1b]8;;\x07", "\\x1b]8;;http://x\\x07link\\x1b]8;;\\x07"),
        ("tab\tcr\rnl\nnul\x00del\x7fc1\x85\x9b", "tab\\x09cr\\x0dnl\\x0anul\\x00del\\x7fc1\\x85\\x9b"),
        ("ab\u202ecd\u2066\u2069\u200e\u200f\u061c", "ab\\u202ecd\\u2066\\u2069\\u200e\\u200f\\u061c"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("name-\udc80\udcff.txt", "name-\\x80\\xff.txt"),  # surrogateescape: the bytes
        ("lone \ud800", "lone \\ud800"),
        ("AIRLINK ▲ −0.10 (3.35%) ü €", "AIRLINK ▲ −0.10 (3.35%) ü €"),
    ],
)
def test_visible_escapes_controls_bidi_and_surrogates(text, shown):
    assert visible(text) == shown


def test_controls_and_surrogates_from_the_input_are_written_visibly(tmp_path):
    name = "page-\udc80\x1b[31m.txt"
    base = check_text("KEL 4.96 Decreased By ▼ -0.04 (-0.9%)\u202e", "page.txt", Options(include_quotes=True))
    findings = base.findings.assign(file=pd.Series([name] * len(base.findings), dtype=object))
    report = Report(
        options=base.options,
        rules=base.rules,
        files=[FileResult(path=name, lines=1, quotes=1, counts=base.files[0].counts)],
        findings=findings,
        quotes=base.quotes.assign(file=pd.Series([name], dtype=object)),
        source_lines={(name, 1): base.source_lines[("page.txt", 1)]},
    )
    target = tmp_path / "report.html"
    save_html(report, target)
    page = target.read_text(encoding="utf-8")
    assert "page-\\x80\\x1b[31m.txt" in page and "<mark>-0.9</mark>%)\\u202e" in page
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", page)


def test_a_report_printed_in_a_ci_log_holds_no_runner_command_from_the_input():
    text = "##[group]G 207.00 Increased By ▲ 6.71 (3.35%)\n::error::x 1.00 No Change 0.00 (0.00%)\n"
    report = check_text(text, "##[group]page.txt", Options(include_quotes=True))
    assert {"QC201"} <= set(report.findings["rule"])  # the symbols are shown, in several places
    page = render_html(report)
    assert "##[" not in page  # GitHub's runner obeys `##[command]` anywhere on a line
    assert page.count("#&#35;[group]") >= 3  # the same text in a browser
    assert not any(line.lstrip().startswith("::") for line in page.splitlines())


# --- self-containment ---------------------------------------------------------------------------


def test_page_loads_nothing_from_anywhere():
    page = render_html(_faulty_report())
    elements = _elements(page)
    for tag, attrs in elements.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    assert not re.search(r"url\(|@import|https?://", page.split("<body", 1)[0])
    assert "https://" not in page and "http://" not in page
    assert [a.get("src") for t, a in elements.tags if t == "script"] == [None]


def test_content_security_policy_forbids_network_and_allows_only_this_script():
    page = render_html(_faulty_report())
    elements = _elements(page)
    policies = [
        a["content"]
        for t, a in elements.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert len(policies) == 1
    directives = dict(d.strip().split(" ", 1) for d in policies[0].split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "data:"
    (script,) = elements.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert directives["script-src"] == f"'sha256-{digest}'" == script_hash(script)


# --- content ------------------------------------------------------------------------------------


def test_header_counts_are_the_summary():
    report = _faulty_report()
    page = render_html(report)
    summary = report.summary()
    for key in ("files", "quotes", "errors", "warnings", "infos"):
        assert f'id="summary-{key}" data-value="{summary[key]}"' in page
    assert ">Failed<" in page and 'class="banner fail"' in page


def test_passing_report_says_passed_and_has_no_findings_table():
    page = render_html(check_paths([SAMPLE], Options(include_quotes=True)))
    assert ">Passed<" in page and 'class="banner pass"' in page
    assert 'id="no-findings"' in page and 'class="finding"' not in page


def test_findings_are_grouped_by_rule_with_registry_documentation():
    report = _faulty_report()
    page = render_html(report)
    for entry in report.rule_entries():
        section = f'id="rule-{entry["code"]}"'
        assert (section in page) == (entry["count"] > 0), entry["code"]
        if entry["count"]:
            assert str(escape(entry["summary"])) in page and str(escape(entry["description"])) in page
    rows = re.findall(r'<tr class="finding" data-severity="[a-z]+" data-rule="(QC\d+)"', page)
    assert len(rows) == len(report.findings)
    assert {code: rows.count(code) for code in set(rows)} == report.rule_counts()


def test_failing_quote_cells_are_marked():
    page = render_html(_faulty_report())
    # PIBTL on line 4 of the faulty page has a wrong percent (1.58%, the figures give 1.57%).
    row = re.search(
        r'<tr class="quote failing" data-symbol="PIBTL">\s*'
        r"<td[^>]*><code>[^<]*faulty-page.txt:4:1</code>.*?</tr>",
        page,
        re.S,
    )
    assert row is not None
    assert re.search(r'<td class="percent num bad" title="QC303: [^"]*">1.58%</td>', row.group(0))
    assert 'class="price num bad"' not in row.group(0)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("q.csv", "symbol,price,direction,arrow,change,percent\nPIBTL,15.48,Increased By,▲,0.24,1.58%\n"),
        ("q.csv", "symbol,price,direction,arrow,change,percent\nPIBTL,15.48,Increased By,▲,0.24,1.58\n"),
        (
            "q.json",
            '[{"symbol": "PIBTL", "price": "15.48", "direction": "Increased By", "arrow": "▲",'
            ' "change": "0.24", "percent": "1.58%"}]',
        ),
        (
            "q.json",
            '[{"symbol": "PIBTL", "price": 15.48, "direction": "Increased By", "arrow": "▲",'
            ' "change": 0.24, "percent": 1.58}]',
        ),
    ],
)
def test_a_record_percent_shows_one_percent_sign(name, text):
    page = render_html(check_bytes(text.encode(), name, Options(include_quotes=True)))
    (cell,) = re.findall(r'<td class="percent num[^"]*"[^>]*>([^<]*)</td>', page)
    assert cell == "1.58%"
    assert "%%" not in page


def test_findings_of_a_record_mark_its_row_whatever_their_column():
    text = "symbol,price,direction,arrow,change,percent\nPIBTL,15.48,Increased By,▲,0.24,1.58\n"
    report = check_bytes(text.encode(), "q.csv", Options(include_quotes=True))
    assert report.rule_counts() == {"QC303": 1}
    # A record's finding may point at its field's column rather than the record's start.
    report.findings["column"] = pd.array([30], dtype="Int64")
    page = render_html(report)
    assert re.search(r'<td class="percent num bad" title="QC303: [^"]*">1.58%</td>', page)


def test_marquee_findings_mark_the_quote_they_lie_in():
    # Distinct symbols, so that no quote is a repeat: every other quote has a wrong percent.
    quotes = [
        f"BAD{i} 207.00 Increased By ▲ 6.71 (3.36%) GOOD{i} 10.39 Decreased By ▼ -0.10 (-0.95%)"
        for i in range(50)
    ]
    report = check_text(" ".join(quotes), "marquee.txt", Options(include_quotes=True))
    assert report.rule_counts() == {"QC303": 50}
    page = render_html(report, max_quotes=10)
    rows = re.findall(r'<tr class="quote( failing)?" data-symbol="([A-Z0-9]+)"', page)
    assert rows == [
        (" failing" if s.startswith("BAD") else "", s) for i in range(5) for s in (f"BAD{i}", f"GOOD{i}")
    ]
    percent = re.findall(r'<td class="percent num( bad)?"', page)
    assert percent == [" bad", ""] * 5


def test_result_by_file_judges_each_file_by_the_run_policy():
    report = _faulty_report()
    page = render_html(report)
    results = page.split('id="results"', 1)[1].split("</section>", 1)[0]
    assert page.index('id="results"') < page.index('id="findings"')
    rows = re.findall(r'<tr class="result result-([a-z-]+)">\s*<td><code>([^<]*)</code></td>', results)
    assert rows == [("passed", str(SAMPLE)), ("failed", str(FAULTY))]
    assert "1 of 2 failed" in results
    lenient = render_html(_faulty_report(policy=Policy(fail_on="never")))
    assert "0 of 2 failed" in lenient and '<tr class="result result-failed">' not in lenient


def test_result_by_file_lists_failed_files_first_when_capped(monkeypatch):
    monkeypatch.setattr("checker.render.html.MAX_FILE_RESULTS", 1)
    page = render_html(_faulty_report())
    results = page.split('id="results"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<tr class="result result-([a-z-]+)">', results) == ["failed"]
    assert "1 of 2 files are listed here, failed ones first" in results


def test_deviation_chart_shows_each_percent_mismatch():
    report = _faulty_report()
    page = render_html(report)
    chart = page.split('id="chart-deviation"', 1)[1].split("</svg>", 1)[0]
    mismatches = report.findings[report.findings["rule"] == "QC303"]
    # KEL's percent of the wrong sign is its sign finding (QC301), not a percent mismatch too
    assert chart.count('<g class="deviation">') == len(mismatches) == 2
    assert "+0.01 pp" in chart and "+0.10 pp" in chart and "-1.61 pp" not in chart
    # Each bar names its file (the end of a long path) and line.
    where = re.findall(r'<tspan class="where">([^<]*)</tspan>', chart)
    assert len(where) == 2 and all(w.endswith(("faulty-page.txt:4", "faulty-page.txt:15")) for w in where)
    assert f"at {FAULTY}:4: shown 1.58%, expected 1.57%" in chart


def test_deviation_buckets_count_every_mismatch_and_the_chart_draws_the_largest():
    # 10.00 up 0.10: the previous price is 9.90, so the percent is 1.01.
    shown = ["1.016", "1.02", "1.1", "1.5", "5", "50"] + [f"1.{n:02d}" for n in range(20, 50)]
    lines = [f"S{i} 10.00 Increased By ▲ 0.10 ({p}%)" for i, p in enumerate(shown)]
    report = check_text("\n".join(lines), "devs.txt", Options(include_quotes=True))
    assert report.rule_counts()["QC303"] == len(shown) == 36
    page = render_html(report)
    buckets = page.split('id="deviation-buckets"', 1)[1].split("</table>", 1)[0]
    assert "All 36 percent mismatches" in buckets
    counts = [int(c) for c in re.findall(r'<td class="num">(\d+)</td>', buckets)]
    assert counts == [0, 2, 1, 31, 1, 1]  # 0; up to 0.01; 0.01 to 0.1; 0.1 to 1; 1 to 10; over 10
    chart = page.split('id="chart-deviation"', 1)[1].split("</svg>", 1)[0]
    assert chart.count('<g class="deviation">') == 30
    assert "+48.99 pp" in chart and "+3.99 pp" in chart and "+0.49 pp" in chart
    assert "+0.01 pp" not in chart and "+0.00" not in chart  # the smallest are left out of the drawing
    assert "The 30 largest are drawn; 6 smaller ones are left out of the drawing." in page


# --- caps ---------------------------------------------------------------------------------------


def test_rows_per_rule_and_quotes_are_capped_with_counts_left_out():
    lines = [f"S{i} 10.00 Increased By ▲ 0.10 (1.5%)" for i in range(30)]  # QC303 on every line
    lines += [f"T{i} 10.00 Increased By 0.10 (1.01%)" for i in range(5)]  # QC406 on every line
    report = check_text("\n".join(lines), "big.txt", Options(include_quotes=True))
    assert report.rule_counts() == {"QC303": 30, "QC406": 5}
    page = render_html(report, max_rows_per_rule=10, max_quotes=12)
    assert page.count('data-rule="QC303" data-symbol') == 10
    assert page.count('data-rule="QC406" data-symbol') == 5
    assert '<p class="note left-out" data-left-out="20">20 more QC303 findings left out' in page
    assert 'data-left-out="0"' not in page
    assert "This page shows 15 of 35 findings (at most 10 per rule); 20 are left out." in page
    assert "The JSON report has them all." in page
    assert page.count('<tr class="quote') == 12
    assert "The first 12 of 35 quotes are shown; 23 are left out." in page


def test_uncapped_page_says_nothing_is_left_out():
    page = render_html(_faulty_report())
    assert 'id="findings-cap"' not in page and 'id="quotes-cap"' not in page


# --- determinism --------------------------------------------------------------------------------


def test_same_report_gives_identical_html():
    first = render_html(_faulty_report())
    assert render_html(_faulty_report()) == first


def test_save_html_writes_the_rendered_page(tmp_path):
    report = _faulty_report()
    target = tmp_path / "out" / "report.html"
    save_html(report, target)
    assert target.read_text(encoding="utf-8") == render_html(report)


# --- command line -------------------------------------------------------------------------------


def test_cli_html_flag_writes_the_report(tmp_path):
    target = tmp_path / "page.html"
    result = CliRunner().invoke(
        cli, ["check", str(FAULTY), "--no-config", "--no-report", "--html", str(target)]
    )
    assert result.exit_code == 1, result.output
    page = target.read_text(encoding="utf-8")
    assert 'id="summary-errors" data-value="13"' in page
    assert page.count('<tr class="quote') == 16  # the quotes table is there without --include-quotes
    assert not (tmp_path / "reports").exists()


def test_cli_writes_html_beside_json_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(SAMPLE), "--no-config"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / "report.html").is_file()
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert "quotes" not in report  # the HTML's quotes table does not put quotes into the JSON
    result = CliRunner().invoke(cli, ["check", str(SAMPLE), "--no-config", "--report-dir", "out"])
    assert (tmp_path / "out" / "report.html").is_file() and (tmp_path / "out" / "report.json").is_file()


def test_cli_no_report_writes_no_html(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(SAMPLE), "--no-config", "--no-report"])
    assert result.exit_code == 0, result.output
    assert list(tmp_path.iterdir()) == []


def test_committed_example_report_is_current(tmp_path, monkeypatch):
    """reports/example/ is what the README's command writes today."""
    monkeypatch.chdir(ROOT)
    command = [a.replace("reports/example", str(tmp_path)) for a in EXAMPLE_COMMAND]
    if os.environ.get("QUOTECHECK_UPDATE_GOLDEN"):
        command = EXAMPLE_COMMAND
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1, result.output
    written = Path(command[command.index("--html") + 1]).read_text(encoding="utf-8")
    assert written == (EXAMPLE / "example.html").read_text(encoding="utf-8"), (
        "reports/example/ is stale: QUOTECHECK_UPDATE_GOLDEN=1 pytest tests/test_html.py -k example"
    )
