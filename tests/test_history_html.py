"""The HTML report's Timeline section (check --history --html): sessions in order, each page with
its time and history findings, previous closes per symbol; inert and capped."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from click.testing import CliRunner

import checker.render.html as html
from checker.cli import cli
from tests.history_pages import write_archive
from tests.test_ledger import DAYS, _sessions


def _report(tmp_path: Path, pages: dict, *extra: str) -> lxml.html.HtmlElement:
    paths = write_archive(tmp_path / "pages", pages)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli, ["check", "--no-report", "-q", *extra, "--html", str(out), *map(str, paths)]
    )
    assert result.exit_code in (0, 1), result.stderr
    return lxml.html.fromstring(out.read_text(encoding="utf-8"))


def test_the_timeline_lists_sessions_in_order_with_their_findings(tmp_path):
    page = _report(tmp_path, _sessions({"2024-12-04": "BOP"}), "--history")
    (section,) = page.xpath('//section[@id="timeline"]')
    heads = [th.text for th in section.xpath('.//table[@class="timeline"]//th[@scope="rowgroup"]')]
    assert heads == list(DAYS)
    failing = section.xpath('.//tr[contains(@class, "failing")]//code/text()')
    assert [Path(f).name for f in failing] == ["page 2024-12-04T1545.txt"]
    (row,) = section.xpath('.//table[@class="timeline-symbols"]/tbody/tr')
    assert row.xpath("./th/text()") == ["BOP"]
    cells = row.xpath("./td")
    assert ["bad" in c.get("class") for c in cells] == [False, False, True, False]
    assert cells[2].text.startswith("10.45 → 10.40 (")


def test_no_timeline_without_history(tmp_path):
    page = _report(tmp_path, _sessions())
    assert not page.xpath('//section[@id="timeline"]') and not page.xpath('//a[@href="#timeline"]')


def test_a_hostile_file_name_injects_no_tag(tmp_path):
    pages = _sessions({"2024-12-04": "BOP"})
    hostile = {f"<img src=x onerror=alert(1)> {name}": quotes for name, quotes in pages.items()}
    page = _report(tmp_path, hostile, "--history")
    assert not page.xpath("//img")
    (section,) = page.xpath('//section[@id="timeline"]')
    assert any("<img src=x onerror=alert(1)>" in t for t in section.xpath(".//code/text()"))


def test_the_timeline_is_capped_and_says_how_many_were_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(html, "MAX_TIMELINE_SESSIONS", 2)
    page = _report(tmp_path, _sessions({"2024-12-04": "BOP"}), "--history")
    (section,) = page.xpath('//section[@id="timeline"]')
    assert len(section.xpath('.//th[@scope="rowgroup"]')) == 2
    assert section.xpath('.//p[@data-left-out="2"]')
    assert len(section.xpath('.//table[@class="timeline-symbols"]//thead//th')) == 1 + 2
