"""The HTML report in headless Chromium: counts, filters, sorting, a screenshot, and safety.

Debian's chromium is driven through Playwright (never a downloaded browser); the `chromium_path`
fixture in conftest.py installs it with apt-get when it is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from checker.api import check_paths, check_text
from checker.cli import cli
from checker.config import Options
from checker.render.html import save_html
from checker.render.json import save_json
from checker.report import FileResult, Report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
INPUTS = [ROOT / "samples" / "sample-page.txt", ROOT / "samples" / "faulty-page.txt"]
VISIBLE_FINDINGS = "tr.finding:visible"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """An HTML report and the JSON report of the same run."""
    folder = tmp_path_factory.mktemp("html")
    report = check_paths(INPUTS, Options(include_quotes=True))
    save_json(report, folder / "report.json")
    save_html(report, folder / "report.html")
    return folder / "report.html", json.loads((folder / "report.json").read_text(encoding="utf-8"))


class Visit:
    """One page visit, recording every request, dialog, page error and console message."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url
        self.requests: list[str] = []
        self.aborted: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.route("**/*", self._route)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            self.aborted.append(route.request.url)
            route.abort()


@pytest.fixture
def visit(browser: Any, generated: tuple[Path, dict[str, Any]]) -> Iterator[Visit]:
    """The generated report opened in a fresh browser context."""
    html_path, _ = generated
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    opened = Visit(page, html_path.as_uri())
    page.goto(opened.url)
    page.wait_for_load_state("load")
    yield opened
    context.close()


def _open(browser: Any, path: Path) -> tuple[Any, Visit]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = Visit(context.new_page(), path.as_uri())
    opened.page.goto(opened.url)
    opened.page.wait_for_load_state("load")
    return context, opened


def _visible_rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "tr.finding",
        """rows => rows.filter(r => r.offsetParent !== null).map(r => ({
            rule: r.dataset.rule, severity: r.dataset.severity, symbol: r.dataset.symbol}))""",
    )


def test_counts_shown_equal_the_json_summary(visit, generated):
    _, report = generated
    summary = report["summary"]
    page = visit.page
    for key in ("files", "quotes", "errors", "warnings", "infos"):
        assert page.inner_text(f"#summary-{key}").replace(",", "") == str(summary[key]), key
    assert page.inner_text("#verdict") == ("Passed" if summary["passed"] else "Failed")
    assert len(_visible_rows(page)) == summary["findings"] == len(report["findings"])
    assert (
        page.inner_text("#filter-status")
        == f"Showing {summary['findings']} of {summary['findings']} findings on this page"
    )
    assert visit.errors == []


def test_severity_filter_shows_only_that_severity(visit, generated):
    _, report = generated
    page = visit.page
    page.select_option("#filter-severity", "warning")
    rows = _visible_rows(page)
    assert len(rows) == report["summary"]["warnings"] == 2
    assert {r["severity"] for r in rows} == {"warning"}
    assert page.is_hidden("#rule-QC303") and page.is_visible("#rule-QC405")
    page.select_option("#filter-severity", "")
    assert len(_visible_rows(page)) == report["summary"]["findings"]


def test_rule_and_symbol_filters_combine(visit, generated):
    _, report = generated
    page = visit.page
    page.select_option("#filter-rule", "QC303")
    rows = _visible_rows(page)
    expected = [f for f in report["findings"] if f["rule"] == "QC303"]
    assert len(rows) == len(expected) == 2
    assert sorted(r["symbol"] for r in rows) == sorted(f["symbol"] for f in expected)
    page.fill("#filter-symbol", "pibtl")
    assert [r["symbol"] for r in _visible_rows(page)] == ["PIBTL"]
    page.select_option("#filter-rule", "")
    pibtl = [f for f in report["findings"] if f["symbol"] == "PIBTL"]
    assert len(_visible_rows(page)) == len(pibtl) >= 1
    page.fill("#filter-symbol", "NOSUCHSYMBOL")
    assert _visible_rows(page) == []
    assert page.is_visible("#no-match")


def _visible_quote_symbols(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "table.quotes tr.quote",
        """rows => rows.filter(r => r.offsetParent !== null)
            .map(r => r.querySelector('td.symbol').textContent)""",
    )


def test_symbol_filter_filters_the_quotes_table_too(visit, generated):
    _, report = generated
    page = visit.page
    every = [q["symbol"] for q in report["quotes"]]
    assert _visible_quote_symbols(page) == every
    assert page.inner_text("#quotes-status") == f"Showing {len(every)} of {len(every)} quotes on this page"
    page.fill("#filter-symbol", "kel")
    kel = [s for s in every if "KEL" in s.upper()]
    assert _visible_quote_symbols(page) == kel and len(kel) == 2  # one KEL on each page
    kel_findings = [f["symbol"] for f in report["findings"] if "KEL" in (f["symbol"] or "").upper()]
    assert [r["symbol"] for r in _visible_rows(page)] == kel_findings == ["KEL"]
    assert page.inner_text("#quotes-status") == f"Showing 2 of {len(every)} quotes on this page"
    page.check("#filter-failing")  # combines with the symbol: only the faulty page's KEL fails
    assert _visible_quote_symbols(page) == ["KEL"]
    page.fill("#filter-symbol", "")
    failing = page.eval_on_selector_all("table.quotes tr.quote.failing", "rows => rows.length")
    assert len(_visible_quote_symbols(page)) == failing > 0
    page.uncheck("#filter-failing")
    page.fill("#filter-symbol", "NOSUCHSYMBOL")
    assert _visible_quote_symbols(page) == []
    assert page.inner_text("#quotes-status") == f"Showing 0 of {len(every)} quotes on this page"


def test_result_by_file_comes_before_the_findings(visit, generated):
    _, report = generated
    page = visit.page
    rows = page.eval_on_selector_all(
        "table.results tbody tr", "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))"
    )
    expected = [
        [f["path"], "failed" if f["errors"] else "passed", f["status"], str(f["errors"]), str(f["warnings"]),
         str(f["infos"])]
        for f in report["files"]
    ]  # fmt: skip
    assert rows == expected
    assert [r[1] for r in rows] == ["passed", "failed"]
    above = page.evaluate(
        """() => document.querySelector('#results').compareDocumentPosition(
            document.querySelector('#findings')) & Node.DOCUMENT_POSITION_FOLLOWING"""
    )
    assert above


def test_percent_chart_names_the_file_of_each_bar(visit, generated):
    _, report = generated
    bars = visit.page.eval_on_selector_all(
        "#chart-deviation g.deviation",
        """groups => groups.map(g => ({label: g.querySelector('text.label').textContent,
                                       title: g.querySelector('title').textContent}))""",
    )
    mismatches = [f for f in report["findings"] if f["rule"] == "QC303"]
    assert len(bars) == len(mismatches) == 2
    for finding in mismatches:
        where = f"{finding['file']}:{finding['line']}"
        (bar,) = [b for b in bars if f" at {where}:" in b["title"]]
        # The label keeps the end of a long path: the file's name and the line.
        symbol, shown = bar["label"].split(" · ")
        assert symbol == finding["symbol"]
        assert shown == where or (shown.startswith("…") and where.endswith(shown[1:]))
        assert shown.endswith(f"faulty-page.txt:{finding['line']}")


def test_clicking_a_header_sorts_the_table(visit):
    page = visit.page
    table = "#rule-QC303 table"

    def symbols() -> list[str]:
        return page.eval_on_selector_all(f"{table} tbody tr", "rows => rows.map(r => r.dataset.symbol)")

    original = symbols()
    assert original == ["PIBTL", "BR100"]  # report order: by location
    page.click(f"{table} th:nth-child(4) button")
    assert symbols() == ["BR100", "PIBTL"]
    assert page.get_attribute(f"{table} th:nth-child(4)", "aria-sort") == "ascending"
    page.click(f"{table} th:nth-child(4) button")
    assert symbols() == ["PIBTL", "BR100"]
    assert page.get_attribute(f"{table} th:nth-child(4)", "aria-sort") == "descending"
    page.click(f"{table} th:nth-child(1) button")
    page.click(f"{table} th:nth-child(1) button")
    assert symbols() == ["BR100", "PIBTL"]  # location descending: line 15, 4


def test_quotes_table_sorts_numerically(visit):
    page = visit.page
    page.click("table.quotes th:nth-child(8) button")  # Percent
    percents = page.eval_on_selector_all(
        "table.quotes tbody td.percent",
        "cells => cells.map(c => parseFloat(c.textContent.replace('\u2212', '-')))",
    )
    assert percents[0] == -521.74 and percents == sorted(percents)


def test_screenshot_is_a_png(visit, tmp_path):
    target = tmp_path / "report.png"
    visit.page.screenshot(path=str(target), full_page=True)
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width == 1400 and height > 900


def test_injected_markup_is_text_and_runs_nothing(visit):
    page = visit.page
    page.wait_for_timeout(200)  # give an injected onerror a chance to fire
    assert visit.dialogs == []
    assert page.query_selector_all("img") == []
    assert page.query_selector_all("img[src=x]") == []
    assert len(page.query_selector_all("script")) == 1  # the report's own
    sources = page.eval_on_selector_all("#rule-QC102 code.src", "codes => codes.map(c => c.textContent)")
    assert "XSS 1.00 <script>alert(1)</script> Increased By (1%)" in sources
    assert "IMG 2.00 <img src=x onerror=alert(1)> Decreased By ▼ -0.01 (-0.5%)" in sources
    assert page.get_by_text("<img src=x onerror=alert(1)>", exact=False).first.is_visible()
    assert visit.errors == []


def test_no_request_leaves_the_page(visit):
    page = visit.page
    # Exercise everything interactive: filters, sorting, details, links within the page.
    for summary in page.query_selector_all("details > summary"):
        summary.click()
    page.select_option("#filter-severity", "error")
    page.fill("#filter-symbol", "B")
    page.click("#rule-QC303 table th:nth-child(1) button")
    page.click("nav.toc a[href='#quotes']")
    page.check("#filter-failing")
    page.wait_for_timeout(200)
    assert visit.requests == [visit.url]
    assert visit.aborted == []


def test_readable_with_javascript_off(browser, generated):
    html_path, report = generated
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(html_path.as_uri())
        assert page.is_hidden("#filters")
        assert len(_visible_rows(page)) == report["summary"]["findings"]
        assert page.locator("table.quotes tbody tr").count() == report["summary"]["quotes"]
        assert page.inner_text("#summary-errors") == str(report["summary"]["errors"])
    finally:
        context.close()


# --- hostile names and fields -------------------------------------------------------------------

PAYLOAD = "window.__pwned=1"
HOSTILE_FOLDER = f"<svg onload={PAYLOAD}>"
HOSTILE_FILES = {
    f'"><img src=x onerror={PAYLOAD}>.txt': (
        "AIRLINK 207.00 Increased By ▲ 6.71 (3.36%)\n"
        f"<script>{PAYLOAD}</script> 1.00 Increased By ▲ 0.01 (1%)\n"
        "ESC\x1b[2J\x1b]0;title\x07 1.00 Increased By ▲ 0.01 (1.01%)\n"
    ),
    "name\u202etxt.\x1b[31mred.txt": "KEL 4.96 Decreased By ▼ -0.04 (-0.9%)\n",
    "{{7*7}}'\"--><!--.csv": (
        f"symbol,price,direction,change,<img src=x onerror={PAYLOAD}>\n"
        f'"<img src=x onerror={PAYLOAD}>",10.39,Increased By,0.16,1.58%\n'
    ),
    "quotes.csv": (
        f'symbol,price,direction,arrow,change,percent,"</script><script>{PAYLOAD}</script>"\n'
        f'"<svg/onload={PAYLOAD}>",15.48,Increased By,▲,0.24,1.58%,x\n'
        "javascript:alert(1),15.48,Increased By,▲,0.24,1.57,y\n"
        "BIDI\u202eTXT\u2066,15.48,Increased By,▲,0.24,1.57,w\n"
        '""><a href=javascript:alert(1) id=injected>x</a>",15.48,Increased By,▲,0.24,1.58,z\n'
    ),
    "records.json": json.dumps(
        [
            {
                f"<img src=x onerror={PAYLOAD}>": 1,
                "symbol": f'"><script>{PAYLOAD}</script>',
                "price": "15.48",
                "direction": "Increased By",
                "arrow": "▲",
                "change": "0.24",
                "percent": "1.58",
            }
        ],
        ensure_ascii=False,
    ),
}
# Raw characters that must never reach the page's text (they show as `\x1b`, `\u202e`, ...).
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of a folder whose names, headers, keys and fields are all markup."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / HOSTILE_FOLDER
    folder.mkdir()
    for name, text in HOSTILE_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    target = root / "report.html"
    result = CliRunner().invoke(
        cli, ["check", str(folder), "--no-config", "--no-report", "--html", str(target)]
    )
    assert result.exit_code == 1, result.output
    return target


def _assert_inert(visit: Visit) -> None:
    page = visit.page
    page.wait_for_timeout(200)  # give an injected handler a chance to fire
    assert visit.dialogs == []
    assert visit.errors == []
    assert page.evaluate("() => window.__pwned") is None
    assert page.query_selector_all("img, iframe, object, embed, #injected") == []
    assert len(page.query_selector_all("script")) == 1  # the report's own
    svgs = page.eval_on_selector_all("svg", "svgs => svgs.map(s => s.id)")
    assert all(s.startswith("chart-") for s in svgs), svgs
    handlers = page.evaluate(
        """() => Array.from(document.querySelectorAll('*')).flatMap(
            e => Array.from(e.attributes, a => a.name).filter(n => n.startsWith('on')))"""
    )
    assert handlers == []
    hrefs = page.eval_on_selector_all("[href]", "links => links.map(a => a.getAttribute('href'))")
    assert all(h.startswith("#") for h in hrefs), hrefs
    assert visit.requests == [visit.url] and visit.aborted == []


def test_hostile_names_and_fields_stay_text_in_chromium(browser, hostile):
    context, opened = _open(browser, hostile)
    try:
        page = opened.page
        _assert_inert(opened)
        text = page.inner_text("body")
        for name in HOSTILE_FILES:
            if not RAW_CONTROLS.search(name):
                assert f"{HOSTILE_FOLDER}/{name}" in text, name
        assert "{{7*7}}" in text
        assert f"<script>{PAYLOAD}</script> 1.00 Increased By" in text  # the source line, as text
        assert f"<svg/onload={PAYLOAD}>" in text  # a CSV symbol
        assert f'"><script>{PAYLOAD}</script>' in text  # a JSON symbol
        # The filters work on markup too, and a symbol typed into one stays a string.
        for typed in ('"><script>', "<svg/onload", "javascript:"):
            page.fill("#filter-symbol", typed)
            shown = _visible_quote_symbols(page)
            assert shown and all(typed.upper() in s.upper() for s in shown), (typed, shown)
            assert all(typed.upper() in r["symbol"].upper() for r in _visible_rows(page))
        page.fill("#filter-symbol", "")
        for summary in page.query_selector_all("details > summary"):
            summary.click()
        page.check("#filter-failing")
        page.click("table.quotes th:nth-child(2) button")
        _assert_inert(opened)
    finally:
        context.close()


def test_controls_and_bidi_from_the_data_show_escaped(browser, hostile):
    context, opened = _open(browser, hostile)
    try:
        text = opened.page.inner_text("body")
        # The DOM as parsed, attributes included (innerText drops some controls on its own).
        dom = opened.page.evaluate(
            """() => Array.from(document.querySelectorAll('body *:not(script)')).flatMap(e => [
                ...Array.from(e.childNodes).filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.data),
                ...Array.from(e.attributes, a => a.value)]).join('\\n')"""
        )
        assert "BIDI" in dom and not RAW_CONTROLS.search(dom), RAW_CONTROLS.findall(dom)
        assert "ESC\\x1b[2J\\x1b]0;title\\x07 1.00" in text
        assert "BIDI\\u202eTXT\\u2066" in text  # a CSV symbol
        assert "name\\u202etxt.\\x1b[31mred.txt" in text  # a file name
    finally:
        context.close()


def test_lone_surrogates_in_a_name_show_as_the_bytes(browser, tmp_path):
    name = "page-\udc80\udcff.txt"  # a file name that was not UTF-8, decoded with surrogateescape
    base = check_text(
        "KEL 4.96 Decreased By ▼ -0.04 (-0.9%)\x1b[2J", "page.txt", Options(include_quotes=True)
    )
    # Python strings: Arrow, behind pandas' default string type, cannot hold a surrogate.
    findings = base.findings.assign(file=pd.Series([name] * len(base.findings), dtype=object))
    quotes = base.quotes.assign(file=pd.Series([name] * len(base.quotes), dtype=object))
    report = Report(
        options=base.options,
        rules=base.rules,
        files=[
            FileResult(path=name, lines=1, quotes=1, counts=base.files[0].counts, message=f"{name} \ud800")
        ],
        findings=findings,
        quotes=quotes,
        source_lines={(name, 1): base.source_lines[("page.txt", 1)]},
    )
    target = tmp_path / "report.html"
    save_html(report, target)
    context, opened = _open(browser, target)
    try:
        _assert_inert(opened)
        text = opened.page.inner_text("body")
        assert f"page-\\x80\\xff.txt:1:{findings['column'].iloc[0]}" in text  # a finding's location
        assert "page-\\x80\\xff.txt \\ud800" in text  # the file's message
        assert "\ufffd" not in text
        assert "(-0.9%)\\x1b[2J" in text
    finally:
        context.close()
