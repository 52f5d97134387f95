"""Each rule's fixture: its failing lines draw it at exactly the stated line and column, and
its passing lines draw neither it nor any error.

Reading the rule fixtures in tests/fixtures/rules: one page per section, expectations inline.

Format (one file per rule code, named after it):

- `# ...` lines are commentary; they become empty lines, so line numbers stay those of the file
  section. `# as-of: YYYY-MM-DD` sets the snapshot date of the section.
- A line `===` starts a new section, checked as a page of its own (line numbers restart at 1).
- A page line ending in `#=> CODE@COL [CODE@COL ...]` must draw exactly those findings (at that
  line, at those columns) and no other error or warning: one fault draws one finding, so a line
  with one fault carries one mark. The marker and the spaces before it are removed.
- A line `#=> CODE` on its own expects a finding of CODE about the whole page (no line).
- Every other line must draw no finding of the fixture's rule and no error of any rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from checker.api import check_text
from checker.config import Options
from checker.rules.registry import Rule, all_rules

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "rules"
_MARKER = re.compile(r"\s*#=>\s*(?P<codes>.*)$")
_EXPECT = re.compile(r"(?P<code>QC\d{3})(?:@(?P<column>\d+))?$")


@dataclass
class Section:
    """One page of a fixture file and what it must draw."""

    fixture: str
    first_file_line: int
    lines: list[str] = field(default_factory=list)
    expected: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    page_level: list[str] = field(default_factory=list)
    as_of: dt.date | None = None

    @property
    def text(self) -> str:
        """The page as checked."""
        return "\n".join(self.lines) + "\n"

    def quote_lines(self) -> list[int]:
        """Line numbers of page lines (not commentary, not empty)."""
        return [n for n, line in enumerate(self.lines, start=1) if line.strip()]

    @property
    def id(self) -> str:
        """A test id naming the fixture and the file line the section starts at."""
        return f"{self.fixture}:{self.first_file_line}"


def read_fixture(path: Path) -> list[Section]:
    """The sections of one fixture file."""
    code = path.stem
    sections = [Section(code, 1)]
    for file_line, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        section = sections[-1]
        if raw.strip() == "===":
            sections.append(Section(code, file_line + 1))
            continue
        stripped = raw.strip()
        if stripped.startswith("#=>"):
            section.page_level.extend(stripped[3:].split())
            section.lines.append("")
            continue
        if stripped.startswith("#"):
            if stripped.startswith("# as-of:"):
                section.as_of = dt.date.fromisoformat(stripped.split(":", 1)[1].strip())
            section.lines.append("")
            continue
        marker = _MARKER.search(raw)
        line_no = len(section.lines) + 1
        if marker:
            expectations = []
            for token in marker.group("codes").split():
                match = _EXPECT.match(token)
                if not match or not match.group("column"):
                    raise ValueError(f"{path.name}:{file_line}: bad expectation {token!r}")
                expectations.append((match.group("code"), int(match.group("column"))))
            section.expected[line_no] = expectations
            raw = raw[: marker.start()]
        section.lines.append(raw)
    return sections


def all_fixtures() -> dict[str, list[Section]]:
    """Every fixture file by rule code."""
    return {path.stem: read_fixture(path) for path in sorted(FIXTURE_DIR.glob("QC*.txt"))}


FIXTURES = all_fixtures()
SECTIONS = [section for sections in FIXTURES.values() for section in sections]

# Rules a text page cannot draw, and where each one is tested instead. Input-family rules other
# than QC903 are about files, bytes and records, and are tested through check_bytes/check_paths.
NOT_FROM_TEXT = {
    "QC207": "a frame handed to check_frame (tests/test_engine.py)",
    "QC901": "a path that cannot be read (tests/test_engine.py)",
    "QC902": "bytes that are not UTF-8, through check_bytes (tests/test_engine.py)",
    "QC904": "an internal failure; no input is known to cause it",
}


def _not_from_text(rule: Rule) -> bool:
    # History rules compare snapshots: their fixtures are archives (tests/test_history_rules.py).
    return (
        rule.code in NOT_FROM_TEXT
        or (rule.family == "input" and rule.code != "QC903")
        or rule.family == "history"
    )


def _findings(section: Section) -> pd.DataFrame:
    report = check_text(section.text, name=section.id, options=Options(as_of=section.as_of))
    return report.findings


def _located(findings: pd.DataFrame, code: str) -> set[tuple[int, int]]:
    rows = findings[(findings["rule"] == code) & findings["line"].notna()]
    return {(int(r.line), int(r.column)) for r in rows.itertuples()}


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.id)
def test_fixture_rule_findings_are_exactly_the_expected_ones(section: Section):
    findings = _findings(section)
    codes = {section.fixture} | {code for marks in section.expected.values() for code, _ in marks}
    for code in sorted(codes):
        expected = {(line, col) for line, marks in section.expected.items() for c, col in marks if c == code}
        found = _located(findings, code)
        if code != section.fixture:  # another rule's marks only constrain the marked lines
            found = {(line, col) for line, col in found if line in section.expected}
        assert found == expected, f"{code} on {section.id}: (line, column) found {sorted(found)}"
    page_level = findings[findings["line"].isna()]["rule"].tolist()
    assert sorted(c for c in page_level if c in codes | set(section.page_level)) == sorted(section.page_level)


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.id)
def test_fixture_marked_lines_draw_only_their_marks(section: Section):
    findings = _findings(section)
    located = findings[findings["line"].notna()]
    for line, marks in section.expected.items():
        marked = {code for code, _ in marks}
        on_line = located[
            (located["line"] == line)
            & (located["severity"].isin(["error", "warning"]) | located["rule"].isin(marked))
        ]
        found = sorted((row.rule, int(row.column)) for row in on_line.itertuples())
        assert found == sorted(marks), (
            f"{section.id} line {line}: {section.lines[line - 1]!r}\n"
            + on_line[["rule", "column", "message"]].to_string()
        )


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.id)
def test_fixture_unmarked_lines_draw_no_error(section: Section):
    findings = _findings(section)
    errors = findings[(findings["severity"] == "error") & findings["line"].notna()]
    unmarked = set(section.quote_lines()) - set(section.expected)
    bad = errors[errors["line"].isin(unmarked)]
    assert bad.empty, bad[["rule", "line", "column", "message"]].to_string()


def test_every_fixture_is_a_rule_with_a_failing_and_a_passing_case():
    codes = {rule.code for rule in all_rules()}
    assert set(FIXTURES) <= codes, "fixture named after no rule"
    for code, sections in FIXTURES.items():
        fails = sum(
            1 for s in sections for marks in s.expected.values() for c, _ in marks if c == code
        ) + sum(s.page_level.count(code) for s in sections)
        passes = sum(len(set(s.quote_lines()) - set(s.expected)) for s in sections)
        assert fails, f"{code}: no failing case"
        assert passes, f"{code}: no passing case"


def test_every_rule_has_a_fixture_or_is_tested_elsewhere():
    codes = {rule.code for rule in all_rules()}
    missing = {r.code for r in all_rules() if not _not_from_text(r)} - set(FIXTURES)
    assert not missing, f"rules without a fixture in {FIXTURE_DIR}: {sorted(missing)}"
    assert set(NOT_FROM_TEXT) <= codes
    assert not {r.code for r in all_rules() if _not_from_text(r)} & set(FIXTURES)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_is_documented(rule):
    assert rule.name == rule.name.lower() and " " not in rule.name and "_" not in rule.name
    assert rule.summary.strip() and rule.summary.endswith(".")
    assert len(rule.description) > len(rule.summary)
    assert rule.passing.strip() and rule.failing.strip()
    assert rule.passing != rule.failing
    assert rule.severity.label in ("error", "warning", "info")
    assert rule.family in ("parse", "schema", "consistency", "format", "plausibility", "history", "input")


TEXT_RULES = [r for r in all_rules() if not _not_from_text(r)]


@pytest.mark.parametrize("rule", TEXT_RULES, ids=lambda r: r.code)
def test_declared_passing_example_does_not_draw_its_rule(rule):
    findings = check_text(rule.passing).findings
    assert rule.code not in set(findings["rule"]), findings[["rule", "message"]].to_string()
    assert not (findings["severity"] == "error").any(), findings[["rule", "message"]].to_string()


@pytest.mark.parametrize("rule", TEXT_RULES, ids=lambda r: r.code)
def test_declared_failing_example_draws_its_rule(rule):
    findings = check_text(rule.failing).findings
    assert rule.code in set(findings["rule"]), findings[["rule", "message"]].to_string()
