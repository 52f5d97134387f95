"""The README's rule table, generated from the rule registry.

The table lies between `<!-- rules-table:start -->` and `<!-- rules-table:end -->` in
README.md; `quotecheck rules --readme README.md` rewrites it there (nothing else in the file is
touched), and tests/test_engine.py fails when it differs from the registry.
"""

from __future__ import annotations

TABLE_START = "<!-- rules-table:start -->"
TABLE_END = "<!-- rules-table:end -->"


def rules_markdown() -> str:
    """The rule catalogue as a Markdown table (the README's rule table is this, verbatim)."""
    from checker.rules import all_rules

    rows = ["| code | name | family | severity | summary |", "|---|---|---|---|---|"]
    for rule in all_rules():
        summary = rule.summary.replace("|", "\\|")
        rows.append(f"| {rule.code} | `{rule.name}` | {rule.family} | {rule.severity.label} | {summary} |")
    return "\n".join(rows)


def with_rule_table(text: str) -> str:
    """`text` (a README) with the table between the markers made the registry's; ValueError
    when the markers are missing or out of order."""
    start = text.find(TABLE_START)
    end = text.find(TABLE_END, start + len(TABLE_START)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise ValueError(f"no {TABLE_START} ... {TABLE_END} block")
    head, tail = text[: start + len(TABLE_START)], text[end:]
    return f"{head}\n{rules_markdown()}\n{tail}"
