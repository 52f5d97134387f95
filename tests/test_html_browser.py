"""The HTML report in headless Chromium: counts, filters, sorting, a screenshot, and safety.

Debian's chromium is driven through Playwright (never a downloaded browser); the `chromium_path`
fixture in conftest.py installs it with apt-get when it is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.api import check_paths
from checker.config import Options
from checker.render.html import save_html
from checker.render.json import save_json

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
    assert len(rows) == len(expected) == 3
    assert sorted(r["symbol"] for r in rows) == sorted(f["symbol"] for f in expected)
    page.fill("#filter-symbol", "kel")
    assert [r["symbol"] for r in _visible_rows(page)] == ["KEL"]
    page.select_option("#filter-rule", "")
    kel = [f for f in report["findings"] if f["symbol"] == "KEL"]
    assert len(_visible_rows(page)) == len(kel) == 2
    page.fill("#filter-symbol", "NOSUCHSYMBOL")
    assert _visible_rows(page) == []
    assert page.is_visible("#no-match")


def test_clicking_a_header_sorts_the_table(visit):
    page = visit.page
    table = "#rule-QC303 table"

    def symbols() -> list[str]:
        return page.eval_on_selector_all(f"{table} tbody tr", "rows => rows.map(r => r.dataset.symbol)")

    original = symbols()
    assert original == ["PIBTL", "KEL", "BR100"]  # report order: by location
    page.click(f"{table} th:nth-child(4) button")
    assert symbols() == ["BR100", "KEL", "PIBTL"]
    assert page.get_attribute(f"{table} th:nth-child(4)", "aria-sort") == "ascending"
    page.click(f"{table} th:nth-child(4) button")
    assert symbols() == ["PIBTL", "KEL", "BR100"]
    assert page.get_attribute(f"{table} th:nth-child(4)", "aria-sort") == "descending"
    page.click(f"{table} th:nth-child(1) button")
    page.click(f"{table} th:nth-child(1) button")
    assert symbols() == ["BR100", "KEL", "PIBTL"]  # location descending: line 15, 7, 4


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
