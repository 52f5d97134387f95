"""Finding lines skip `display` for a chunk of messages only when it would change none of them."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.api import Options
from checker.findings import normalize
from checker.render.escape import display
from checker.render.text import finding_lines
from checker.report import Report

_PIECES = ["ok", " ", "\t", "\u3000", ":", "::", "#", "##[", "[", "\x1b", "\u202e", "\uffff", "▲", "\x85"]


def _report(messages: list[str | None]) -> Report:
    frame = pd.DataFrame(
        {
            "rule": ["QC905"] * len(messages),
            "severity": ["error"] * len(messages),
            "file": ["f.jsonl"] * len(messages),
            "line": list(range(1, len(messages) + 1)),
            "column": [1] * len(messages),
            "message": messages,
        }
    )
    return Report(options=Options(), rules=[], findings=normalize(frame))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.lists(st.sampled_from(_PIECES), max_size=5).map("".join)), min_size=1)
)
def test_each_message_is_shown_as_display_shows_it(messages):
    lines = list(finding_lines(_report(messages)))
    expected = [f"f.jsonl:{n}:1: QC905 [error] {display(m)}" for n, m in enumerate(messages, start=1)]
    assert lines == expected


def test_a_command_after_blanks_in_any_message_is_escaped():
    lines = list(finding_lines(_report(["fine", " \u3000::error::x", "also fine"])))
    assert lines[1].endswith("[error]  \u3000\\x3a:error::x")
    assert lines[0].endswith("[error] fine")
