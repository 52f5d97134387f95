"""Idempotence of `--fix --unsafe-fixes` on absurd pages: every rule fixture's lines together,
several faults stacked on one line, symbols repeated with other figures. Fixing a fixed page
changes nothing, and a repair never adds a finding."""

from __future__ import annotations

import os
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.config import Options
from checker.fix import PreviousClose
from checker.repair import _finding_keys, repair_bytes

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_LINES = sorted(
    {
        re.sub(r"\s+#=>.*$", "", line)
        for path in sorted((ROOT / "tests" / "fixtures" / "rules").glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
)
SYMBOLS = ("BOP", "KEL", "ZZQ", "KSE100", "PIBTL")


def _percent(change: int, previous: int) -> str:
    value = (Decimal(100 * change) / Decimal(previous)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(value, "f").rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _shown(cents: int) -> str:
    return ("-" if cents < 0 else "") + f"{abs(cents) // 100}.{abs(cents) % 100:02d}"


@st.composite
def quotes(draw: st.DrawFn) -> str:
    symbol = draw(st.sampled_from(SYMBOLS))
    price = draw(st.integers(min_value=2, max_value=500_000))
    change = draw(st.integers(min_value=-(price - 1), max_value=price - 1))
    previous = price - change
    percent = _percent(change, previous)
    if change > 0:
        word, arrow = "Increased By", "▲"
    elif change < 0:
        word, arrow = "Decreased By", "▼"
    else:
        word, arrow = "No Change", "▼"
    if symbol == "KSE100":  # an index: a whole level, grouped, a change of 1 decimal
        level = f"{price:,}"
        return f"{symbol} {level} {word} {change / 10:.1f} ({_percent(change, max(price * 10 - change, 1))}%)"
    return f"{symbol} {_shown(price)} {word} {arrow} {_shown(change)} ({percent}%)"


_FAULTS = {
    "arrow": lambda s: s.replace("▲", "▼") if "▲" in s else s.replace("▼", "▲"),
    "word": lambda s: (
        s.replace("Increased", "Decreased") if "Increased" in s else s.replace("Decreased", "Increased")
    ),
    "no change": lambda s: re.sub(r"(Increased|Decreased) By", "No Change", s, count=1),
    "percent sign": lambda s: s.replace("(-", "(") if "(-" in s else s.replace("(", "(-"),
    "change sign": lambda s: re.sub(r" (-?)([0-9.]+) \(", lambda m: f" {'' if m[1] else '-'}{m[2]} (", s),
    "percent zero": lambda s: s.replace("%)", "0%)") if "." in s.split("(")[-1] else s.replace("%)", ".0%)"),
    "percent digit": lambda s: s.replace("%)", "7%)"),
    "mojibake": lambda s: s.replace("▲", "â–²").replace("▼", "â–¼"),
    "minus": lambda s: s.replace(" -", " \u2212"),
    "full width": lambda s: s.replace("1", "\uff11", 1),
    "arrow missing": lambda s: s.replace("▲ ", "").replace("▼ ", ""),
    "lower case": lambda s: s.replace("Increased By", "increased by").replace("Decreased By", "decreased by"),
    "plus": lambda s: re.sub(r" ([0-9.]+) \(", r" +\1 (", s),
    "grouping": lambda s: s.replace(",", ""),
    "price digit": lambda s: re.sub(r"^(\S+ [0-9,]*)([0-9])", lambda m: m[1] + str((int(m[2]) + 3) % 10), s),
    "trailing zero": lambda s: re.sub(r"^(\S+ [0-9,]+\.[0-9])0 ", r"\1 ", s),
    "no break space": lambda s: s.replace(",", "\u00a0"),
    "cut": lambda s: s[: max(len(s) - 3, 1)],
    "prefix": lambda s: " date 2024-03-28 " + s,
    "double space": lambda s: s.replace(" By ", " By  ", 1),
    "percent extra digit": lambda s: re.sub(r"\.([0-9]{2})%", r".\g<1>4%", s),
    "change extra digit": lambda s: re.sub(r" (-?[0-9]+\.[0-9]{2}) \(", r" \g<1>1 (", s),
    "twice": lambda s: s + " " + s,
}


@st.composite
def stacked(draw: st.DrawFn) -> str:
    """A quote with two to four faults made one after the other (some may undo others)."""
    line = draw(quotes())
    for name in draw(st.lists(st.sampled_from(sorted(_FAULTS)), min_size=2, max_size=5)):
        line = _FAULTS[name](line)
    return line


@st.composite
def pages(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.sampled_from(FIXTURE_LINES), min_size=3, max_size=25))
    lines += draw(st.lists(stacked(), min_size=1, max_size=6))
    lines += draw(st.lists(quotes(), min_size=0, max_size=4))  # repeats of the symbols, other figures
    repeated = draw(st.lists(st.sampled_from(lines), max_size=3))  # identical repeats
    ordered = draw(st.permutations(lines + repeated))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return (ending.join(ordered) + ending).encode("utf-8")


# Bounded so the suite stays fast; QUOTECHECK_FUZZ_EXAMPLES=2000 searches further.
EXAMPLES = int(os.environ.get("QUOTECHECK_FUZZ_EXAMPLES", "20"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(page=pages(), closes=st.dictionaries(st.sampled_from(SYMBOLS), st.integers(1, 500_000), max_size=2))
def test_property_unsafe_fixes_on_absurd_pages_are_idempotent_and_add_nothing(page, closes):
    options = Options()
    # (with previous closes too, as a ledger gives them: any figure, right or wrong)
    known = {s: PreviousClose(f"{c // 100}.{c % 100:02d}", "d:1:1", "s") for s, c in closes.items()}
    once = repair_bytes(page, "page.txt", options, unsafe=True, closes=known)
    assert once.report is not None
    twice = repair_bytes(once.repaired, "page.txt", options, unsafe=True, closes=known)
    assert twice.repaired == once.repaired, (page, once.repaired, [f.message for f in twice.applied])
    assert not twice.applied
    before = repair_bytes(page, "page.txt", options, unsafe=True, closes=known)  # deterministic
    assert before.repaired == once.repaired
    if once.changed:
        from checker.api import check_bytes

        added = _finding_keys(check_bytes(once.repaired, "page.txt", options)) - _finding_keys(
            check_bytes(page, "page.txt", options)
        )
        assert not added, added


def test_every_fixture_combined_is_fixed_idempotently():
    page = ("\n".join(FIXTURE_LINES) + "\n").encode("utf-8")
    once = repair_bytes(page, "page.txt", Options(), unsafe=True)
    assert once.changed  # (the fixtures hold faults that have repairs)
    assert repair_bytes(once.repaired, "page.txt", Options(), unsafe=True).repaired == once.repaired
