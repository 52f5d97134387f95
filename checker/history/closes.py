"""Previous closes a repair can rely on (`check --fix --history`, `--state FILE`).

A stock's previous close is price - change exactly. Where the history step finds that a page's
stocks chain with the last snapshot of the session before (most of at least 5 exactly, neither
session uncertain: HistoryResult.closes), each stock's price on that snapshot is the previous
close the page's figures must give, and a repair whose candidates differ in it can pick the one
that does (checker.fix._confirmed). Left out, so that no repair leans on a doubtful figure:

- a page that repeats an earlier session's figures (stale-snapshot) or shows new figures on a
  closed day (closed-day-figures);
- a page whose earlier snapshot is not known by its time to show the close (date-only stamps,
  or none: the close inferred from the figures) unless every stock the two share chains, but for
  those whose own figures disagree (the faults a repair is for): a stock that is right on the
  page and does not chain says that snapshot is not every stock's close;
- a stock that is not of an exact kind (an index level is rounded), shown with different prices
  on the earlier snapshot, or whose own percent there does not follow from its price and change;
- a stock for which two earlier snapshots would give two different closes.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import pandas as pd

from checker.findings import column_lists
from checker.fix import PreviousClose, consistent, read_shown
from checker.history.engine import HistoryResult
from checker.profile import Profile
from checker.rules.history import CLOSED_DAY_FIGURES, STALE_SNAPSHOT

Closes = dict[str, dict[str, PreviousClose]]  # page -> symbol -> its previous close
_ROW_COLUMNS = ("file", "symbol", "kind", "price_text", "change_text", "percent_text", "line", "price_col")
_DOUBTFUL = frozenset({STALE_SNAPSHOT, CLOSED_DAY_FIGURES})


def previous_closes(result: HistoryResult, rows: pd.DataFrame, profile: Profile) -> Closes:
    """The previous closes each page's stocks must give, by page and symbol; `rows` are the quotes
    of the run (and of a state) with the columns of _ROW_COLUMNS."""
    if not result.closes or rows is None or not len(rows):
        return {}
    doubtful: set[str] = set()
    findings = result.findings
    if findings is not None and len(findings):
        for rule, file in zip(*column_lists(findings, ("rule", "file")), strict=True):
            if rule in _DOUBTFUL:
                doubtful.add(str(file))
    wanted = {earlier for later, earlier, _, _ in result.closes if later not in doubtful}
    wanted |= {later for later, _, _, known in result.closes if not known and later not in doubtful}
    present = [c for c in _ROW_COLUMNS if c in rows.columns]
    if len(present) != len(_ROW_COLUMNS):
        return {}
    files = rows["file"].astype(str)
    chosen = rows[files.isin(sorted(wanted)).to_numpy(dtype=bool)]
    shown: dict[str, dict[str, list[tuple[str, str]]]] = {}
    previous: dict[str, dict[str, set[Fraction]]] = {}
    for values in zip(*column_lists(chosen, _ROW_COLUMNS), strict=True):
        file, symbol, kind, price, change, percent, line, column = (_text(v) for v in values)
        spec = profile.kinds.get(kind)
        good = spec is not None and spec.exact and read_shown(price) is not None
        good = good and consistent(spec, price, change, percent, profile.percent_max_decimals)
        entry = (price, f"{file}:{line}:{column}") if good else ("", "")
        shown.setdefault(file, {}).setdefault(symbol, []).append(entry)
        if good:  # (a quote whose figures agree: its previous close, for the chain test)
            p, c = read_shown(price), read_shown(change)
            if p is not None and c is not None:
                previous.setdefault(file, {}).setdefault(symbol, set()).add(p.value - c.value)
    out: Closes = {}
    conflicts: set[tuple[str, str]] = set()
    for later, earlier, session, known in result.closes:
        if later in doubtful or (
            not known and not _all_chain(previous.get(later, {}), shown.get(earlier, {}))
        ):
            continue
        for symbol, entries in shown.get(earlier, {}).items():
            if len({_value(price) for price, _ in entries}) != 1 or not entries[0][0]:
                continue
            price, where = entries[0]
            close = PreviousClose(price=price, where=where, session=session)
            page = out.setdefault(later, {})
            seen = page.get(symbol)
            if seen is not None and _value(seen.price) != _value(close.price):
                conflicts.add((later, symbol))
            page.setdefault(symbol, close)
    for later, symbol in conflicts:
        out[later].pop(symbol, None)
    return out


def _all_chain(previous: dict[str, set[Fraction]], earlier: dict[str, list[tuple[str, str]]]) -> bool:
    """Whether every stock of the later page whose figures agree chains with the earlier page (its
    previous close is the price there), where the earlier page shows it once, agreeing."""
    for symbol, closes in previous.items():
        entries = earlier.get(symbol)
        if not entries or not entries[0][0] or len({_value(price) for price, _ in entries}) != 1:
            continue
        if closes != {_value(entries[0][0])}:
            return False
    return True


def _value(text: str) -> Fraction | None:
    shown = read_shown(text)
    return shown.value if shown is not None else None


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def closes_of_run(report: Any, manifest: Any = None, state: Any = None) -> Closes:
    """The previous closes of a checked run (its report holds its quotes): from its own pages
    (the history step over them) and, with a history state (checker.history.incremental), from
    the state's last session as well, as `quotecheck history --state` would compare them."""
    from checker.history.incremental import _state_frame, history_of_ledgers
    from checker.history.run import run_ledger, snapshot_times
    from checker.profile import load_profile

    profile = load_profile(report.options.profile)
    times = snapshot_times(report, manifest)
    if state is None or not state.snapshots:
        return previous_closes(times, report.quotes, profile)
    ledger = run_ledger(report, times.snapshots).to_pandas()
    run = history_of_ledgers(ledger, report.options, state)
    own = set(ledger["file"].astype(str))
    rows = pd.concat([_state_frame(state, own), ledger], ignore_index=True)
    return previous_closes(run.result, rows, profile)


# The rules whose repairs a previous close may decide (checker.fix._confirmed).
_WEIGHED_RULES = frozenset({"QC301", "QC303"})


def closes_for_findings(result: HistoryResult, report: Any, profile: Profile) -> Closes:
    """previous_closes for the pages with a finding a close may decide, only: what a report
    without a repair flag needs, at no cost on a run of clean pages."""
    findings = report.findings
    if findings is None or not len(findings) or not result.closes:
        return {}
    rules, files = column_lists(findings, ("rule", "file"))
    needed = {str(file) for rule, file in zip(rules, files, strict=True) if rule in _WEIGHED_RULES}
    kept = [entry for entry in result.closes if entry[0] in needed]
    if not kept:
        return {}
    return previous_closes(replace(result, closes=kept), report.quotes, profile)
