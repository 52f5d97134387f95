"""The history step: every snapshot of a run timed, put in a session, and compared with the others.

It consumes what the per-page check produced (the quote frame and the page results) and adds
findings of the QC6 rules. All comparisons are vectorised: quotes are held once, sorted by
(snapshot, symbol), and each comparison looks a symbol up in another snapshot with one
`searchsorted`; the pairs of snapshots compared are few (neighbours in time), so the cost grows
with the number of quotes, not with their square.

When every snapshot is stamped and the archive is larger than WINDOW_QUOTES, the same rules run a
window of sessions at a time (see "in windows of sessions" below): memory bounded by a window.

Figures are integers of 1/SCALE of a rupee: exact for stocks, and for indices each shown number
stands for the interval of half a unit of its last digit either side.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any, Protocol

import numpy as np
import pandas as pd

from checker.findings import combine, empty_findings, normalize
from checker.history.calendar import SessionCalendar, build_calendar, history_settings
from checker.history.times import (
    SOURCE_FIGURES,
    SOURCE_NONE,
    Manifest,
    Stamp,
    StampColumns,
    stamp_from_text,
    stamps_from_names,
)
from checker.profile import Profile
from checker.report import FileResult
from checker.rules import history as codes
from checker.rules.registry import REGISTRY

SCALE = 20000  # every half unit of a number shown with up to 4 decimals is a whole number of these
MAX_HALF_DECIMALS = 4
MOST = (9, 10)  # "most stocks": at least 90% ...
MIN_COMMON = 5  # ... of at least 5 common stocks
DENSE_MIN = 1 << 22  # a (snapshot, symbol) table this small is always worth it ...
DENSE_FACTOR = 4  # ... and one at most this many times the quotes (else: bisection)
CHUNK_ROWS = 1 << 22  # rows compared at once: bounds the memory of one comparison
JOIN_CAP = 64  # a figure shared by more snapshots than this proposes no pair (illiquid names)
INFERRED = 1 << 40  # session keys at or above this are sessions found from the figures alone

SESSION_STAMP = "stamp"


@dataclass
class HistoryResult:
    """What the history step found: findings, each snapshot's time and session, the sessions' order."""

    findings: pd.DataFrame
    snapshots: pd.DataFrame  # file, captured_at, time_source, session, session_source, closing
    sessions: pd.DataFrame  # session, source, position (None: unordered), snapshots, first file
    calendar: str
    problems: list[str] = field(default_factory=list)
    # Pages whose stocks chain with the last snapshot of the session before (most of at least 5
    # exactly, neither session uncertain): file, previous_file, previous_session, and whether that
    # snapshot is known by its time to show the close. What a repair reads a previous close from
    # (checker.history.closes).
    closes: list[tuple[str, str, str, bool]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal: how many sessions, and how they were found."""
        if "source" not in self.sessions:
            return "no sessions (the checks across snapshots did not run)"
        stamped = int((self.sessions["source"] == SESSION_STAMP).sum()) if len(self.sessions) else 0
        inferred = len(self.sessions) - stamped
        unordered = int(self.sessions["position"].isna().sum()) if len(self.sessions) else 0
        count = len(self.sessions)
        plural = "" if count == 1 else "s"
        parts = [f"{count} session{plural} ({stamped} from time stamps, {inferred} from the figures)"]
        if unordered:
            parts.append(f"{unordered} unordered")
        return ", ".join(parts) + f"; calendar: {self.calendar}"


@dataclass
class _Quotes:
    """The quotes of the run, one per (snapshot, symbol), grouped by snapshot (and within it by
    symbol when there is no table)."""

    fid: np.ndarray
    sid: np.ndarray
    key: np.ndarray
    index: np.ndarray  # bool: an index quote
    exact: np.ndarray  # bool: price and change exact (stocks)
    price: np.ndarray  # int64, in 1/SCALE
    price_lo: np.ndarray
    price_hi: np.ndarray
    prev_lo: np.ndarray  # the previous close (price - change) as an interval
    prev_hi: np.ndarray
    figures: np.ndarray  # uint64 hash of price, change and percent
    source_row: np.ndarray  # the row in the caller's quote frame
    starts: np.ndarray  # per snapshot: its first row here, and one past its last
    ends: np.ndarray
    symbols: np.ndarray  # object: symbol text by sid
    n_symbols: int
    # The row of every (snapshot, symbol) key, -1 where none, when that table is small enough
    # (snapshots x symbols); else `key` is sorted and looked up by bisection.
    table: np.ndarray | None = None

    def find(self, fid: np.ndarray, sid: np.ndarray) -> np.ndarray:
        """The row of each (snapshot, symbol), -1 where that snapshot does not show the symbol."""
        key = fid.astype(np.int64) * self.n_symbols + sid
        if self.table is not None:
            return self.table[key].astype(np.int64)
        at = np.searchsorted(self.key, key)
        at = np.minimum(at, len(self.key) - 1) if len(self.key) else at
        found = (self.key[at] == key) if len(self.key) else np.zeros(len(key), dtype=bool)
        return np.where(found, at, -1)


def _half_units(decimals: np.ndarray) -> np.ndarray:
    """Half a unit of the last shown digit, in 1/SCALE (0 past MAX_HALF_DECIMALS decimals)."""
    table = np.array(
        [10 ** (MAX_HALF_DECIMALS - d) for d in range(MAX_HALF_DECIMALS + 1)] + [0], dtype=np.int64
    )
    return table[np.clip(decimals, 0, MAX_HALF_DECIMALS + 1)]


def _mix(values: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each integer (splitmix64's finaliser)."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _numbers(frame: pd.DataFrame, name: str, dtype: type = float) -> np.ndarray:
    column = frame[name]
    if dtype is float:
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return column.to_numpy(dtype=np.int64, na_value=0)


def _factorizable(column: pd.Series) -> pd.Series:
    """The column as pd.factorize takes it: texts as they are, anything else as objects."""
    return column if isinstance(column.dtype, pd.StringDtype) else column.astype(object)


def _file_codes(files: pd.Series, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each quote's snapshot number (its place in `names`; files not named there are added)."""
    if isinstance(files.dtype, pd.CategoricalDtype):
        local, uniques = files.cat.codes.to_numpy(), list(files.cat.categories.astype(str))
    else:  # texts factorised as they are held (Arrow's is about 3x faster than on objects)
        local, found = pd.factorize(_factorizable(files), use_na_sentinel=True)
        uniques = [str(u) for u in found]
    position = {name: i for i, name in enumerate(names)}
    names = list(names)
    mapping = np.empty(len(uniques) + 1, dtype=np.int64)
    for i, name in enumerate(uniques):
        if name not in position:
            position[name] = len(names)
            names.append(name)
        mapping[i] = position[name]
    mapping[-1] = -1
    return mapping[np.asarray(local, dtype=np.int64)], names


def _symbol_hashes(symbols: np.ndarray) -> np.ndarray:
    """A 64-bit number for each symbol text, the same in every window of a run."""
    out = np.empty(len(symbols), dtype=np.uint64)
    for i, text in enumerate(symbols.tolist()):
        digest = hashlib.blake2b(str(text).encode("utf-8", "surrogatepass"), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "little")
    return out


def _prepare(
    quotes: pd.DataFrame,
    names: list[str],
    profile: Profile,
    fid: np.ndarray | None = None,
    by_text: bool = False,
) -> tuple[_Quotes, list[str]]:
    """The quotes held as integer columns. `fid`: each row's snapshot number in `names`, when
    already known (found from the file column otherwise). With `by_text`, the figures' hashes
    are made from the symbols' texts, so that they compare across windows."""
    if fid is None:
        fid, names = _file_codes(quotes["file"], names)
    price = _numbers(quotes, "price")
    change = _numbers(quotes, "change")
    percent = _numbers(quotes, "percent")
    symbol_column = quotes["symbol"]
    symbols: Any
    if isinstance(symbol_column.dtype, pd.CategoricalDtype):
        symbol_codes = symbol_column.cat.codes.to_numpy().astype(np.int64)
        symbols = np.asarray(symbol_column.cat.categories.astype(str), dtype=object)
    else:
        symbol_codes, symbols = pd.factorize(_factorizable(symbol_column), use_na_sentinel=True)
    valid = np.isfinite(price) & np.isfinite(change) & (symbol_codes >= 0) & (fid >= 0)
    valid &= np.abs(price) < 1e12
    valid &= np.abs(change) < 1e12
    n_symbols = max(len(symbols), 1)
    rows = np.flatnonzero(valid)
    n_files = len(names)
    table: np.ndarray | None = None
    if n_files * n_symbols <= max(DENSE_FACTOR * len(rows), DENSE_MIN):
        # Quotes grouped by snapshot (they usually are already), kept in page order; a table of
        # every (snapshot, symbol) finds a symbol's row in another snapshot by one gather.
        in_file = fid[rows]
        if len(in_file) > 1 and not bool((in_file[1:] >= in_file[:-1]).all()):
            rows = rows[np.argsort(in_file, kind="stable")]
        key = fid[rows] * n_symbols + symbol_codes[rows]
        table = np.full(n_files * n_symbols, -1, dtype=np.int32 if len(rows) < 2**31 else np.int64)
        positions = np.arange(len(rows))
        table[key[::-1]] = positions[::-1]  # a repeated symbol: its first quote counts
        first = table[key] == positions
        if not first.all():
            rows, key = rows[first], key[first]
            table[:] = -1
            table[key] = np.arange(len(rows))
    else:
        key = fid[rows] * n_symbols + symbol_codes[rows]
        key, first_at = np.unique(key, return_index=True)  # a repeated symbol: its first quote counts
        rows = rows[first_at]
    all_kinds, kind_index = pd.factorize(quotes["kind"])
    kind_codes = np.asarray(all_kinds)[rows]
    kind_names = [str(k) for k in kind_index]
    exact_kinds = {name for name, kind in profile.kinds.items() if kind.exact}
    index = np.isin(kind_codes, [i for i, k in enumerate(kind_names) if k == "index"])
    exact = np.isin(kind_codes, [i for i, k in enumerate(kind_names) if k in exact_kinds])
    p = np.rint(price[rows] * SCALE).astype(np.int64)
    c = np.rint(change[rows] * SCALE).astype(np.int64)
    hp = np.where(exact, 0, _half_units(_numbers(quotes, "price_decimals", int)[rows]))
    hc = np.where(exact, 0, _half_units(_numbers(quotes, "change_decimals", int)[rows]))
    shown_percent = np.nan_to_num(percent[rows], nan=-1e15)
    pct = np.rint(np.clip(shown_percent, -1e12, 1e12) * 10000).astype(np.int64)
    sid = symbol_codes[rows].astype(np.int64)
    sid_value = _symbol_hashes(np.asarray(symbols, dtype=object))[sid] if by_text else sid.astype(np.uint64)
    # One hash of the figures a page shows for a symbol; odd multipliers spread them before mixing.
    with np.errstate(over="ignore"):
        spread = (
            sid_value * np.uint64(0x9E3779B97F4A7C15)
            + p.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
            + c.astype(np.uint64) * np.uint64(0x165667B19E3779F9)
            + pct.astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93)
        )
        figures = _mix(spread)
    f = fid[rows]
    starts = np.searchsorted(f, np.arange(n_files), side="left")
    ends = np.searchsorted(f, np.arange(n_files), side="right")
    held = _Quotes(
        fid=f,
        sid=sid,
        key=key,
        index=index,
        exact=exact,
        price=p,
        price_lo=p - hp,
        price_hi=p + hp,
        prev_lo=p - hp - (c + hc),
        prev_hi=p + hp - (c - hc),
        figures=figures,
        source_row=rows,
        starts=starts,
        ends=ends,
        symbols=np.asarray(symbols, dtype=object),
        n_symbols=n_symbols,
        table=table,
    )
    return held, names


def _pair_rows(
    q: _Quotes, a: np.ndarray, b: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For pairs of snapshots (a[k], b[k]): each quote row of b[k] with the row of its symbol in
    a[k] (-1 where a[k] does not show it), as (pair k, row in b, row in a), a chunk at a time."""
    if not len(a):
        return
    counts = q.ends[b] - q.starts[b]
    bounds = np.cumsum(counts)
    begin = 0
    while begin < len(a):
        limit = (bounds[begin - 1] if begin else 0) + CHUNK_ROWS
        stop = max(int(np.searchsorted(bounds, limit, side="right")), begin + 1)
        part = np.arange(begin, stop)
        sizes = counts[part]
        pair = np.repeat(part, sizes)
        offset = np.arange(len(pair)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        brow = q.starts[b[pair]] + offset
        arow = q.find(a[pair], q.sid[brow])
        yield pair, brow, arow
        begin = stop


def _meets(lo1: np.ndarray, hi1: np.ndarray, lo2: np.ndarray, hi2: np.ndarray) -> np.ndarray:
    return (lo1 <= hi2) & (lo2 <= hi1)


def _chain_stats(q: _Quotes, a: np.ndarray, b: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """For each pair, the exact stocks both show, and how many of them match: b's previous close
    is a's price (mode "chain"), a's previous close (mode "same") or b's price is a's previous
    close (mode "reverse")."""
    common = np.zeros(len(a), dtype=np.int64)
    matched = np.zeros(len(a), dtype=np.int64)
    for pair, brow, arow in _pair_rows(q, a, b):
        both = (arow >= 0) & q.exact[brow]
        both[both] &= q.exact[arow[both]]
        pair, brow, arow = pair[both], brow[both], arow[both]
        common += np.bincount(pair, minlength=len(a))
        if mode == "chain":
            hit = q.prev_lo[brow] == q.price[arow]
        elif mode == "same":
            hit = q.prev_lo[brow] == q.prev_lo[arow]
        else:
            hit = q.price[brow] == q.prev_lo[arow]
        matched += np.bincount(pair[hit], minlength=len(a))
    return common, matched


def _most(common: np.ndarray, matched: np.ndarray) -> np.ndarray:
    return (common >= MIN_COMMON) & (matched * MOST[1] >= common * MOST[0])


def _candidate_pairs(
    q: _Quotes, a_rows: np.ndarray, a_value: np.ndarray, b_rows: np.ndarray, b_value: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of snapshots (a, b), a != b, sharing at least MIN_COMMON (symbol, value) figures:
    a's `a_value` equal to b's `b_value`. A figure shared by more than JOIN_CAP snapshots
    proposes nothing (an unchanged illiquid price says little), so the pairs stay few."""
    if not len(a_rows) or not len(b_rows):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    sid = np.concatenate([q.sid[a_rows], q.sid[b_rows]])
    value = np.concatenate([a_value, b_value])
    side = np.concatenate([np.zeros(len(a_rows), np.int8), np.ones(len(b_rows), np.int8)])
    fid = np.concatenate([q.fid[a_rows], q.fid[b_rows]])
    order = np.lexsort((side, value, sid))
    sid, value, side, fid = sid[order], value[order], side[order], fid[order]
    new_run = np.ones(len(sid), dtype=bool)
    new_run[1:] = (sid[1:] != sid[:-1]) | (value[1:] != value[:-1])
    run = np.cumsum(new_run) - 1
    n_runs = int(run[-1]) + 1
    a_count = np.bincount(run[side == 0], minlength=n_runs)
    b_count = np.bincount(run[side == 1], minlength=n_runs)
    run_start = np.flatnonzero(new_run)
    useful = (a_count > 0) & (b_count > 0) & (a_count <= JOIN_CAP) & (b_count <= JOIN_CAP)
    b_at = np.flatnonzero((side == 1) & useful[run])
    per = a_count[run[b_at]]
    rep = np.repeat(b_at, per)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(per) - per, per)
    a_at = run_start[run[rep]] + offset
    fa, fb = fid[a_at], fid[rep]
    keep = fa != fb
    n = int(max(fid.max(), 0)) + 1
    pair_code, count = np.unique(fa[keep] * n + fb[keep], return_counts=True)
    pair_code = pair_code[count >= MIN_COMMON]
    return pair_code // n, pair_code % n


@dataclass
class _Snapshots:
    """Per snapshot (in the run's order): its stamp, session and place in time."""

    names: list[str]
    stamps: list[Stamp | None] | StampColumns
    day: np.ndarray  # calendar index of the capture day, -1: none
    seconds: np.ndarray  # seconds into the day, -1: no time known
    session: np.ndarray  # session key: a calendar index, INFERRED + n, or -1
    session_source: list[str]
    closing: np.ndarray  # 1 at or after the close, 0 not known, -1 before it
    closed_day: np.ndarray  # bool: captured on a day the exchange was closed
    uncertain: np.ndarray  # bool: its day or session is one the calendars disagree on
    stale: np.ndarray  # bool: repeats an earlier session's figures (left out of other rules)
    quotes: np.ndarray  # quote count
    anchored: np.ndarray | None = None  # per quote row: its previous close is the last session's close


class _Findings:
    """Findings gathered as columns, made one frame at the end."""

    def __init__(self, q: _Quotes, quotes: pd.DataFrame, snaps: _Snapshots) -> None:
        self.q, self.quotes, self.snaps = q, quotes, snaps
        self.rows: list[dict[str, object]] = []
        self._cells: dict[str, np.ndarray] = {}
        self.keep: np.ndarray | None = None  # per snapshot: findings on it are kept (a window's own)
        self.closes: list[tuple[str, str, str, bool]] = []  # see HistoryResult.closes

    def cell(self, column: str, row: int) -> object:
        """One value of the caller's quote frame at a quote row (findings are few: no column copy)."""
        value = self.quotes[column].iat[int(self.q.source_row[row])]
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return None
        return value.item() if hasattr(value, "item") else value

    def where(self, row: int) -> str:
        """`file:line:col` of a quote's price."""
        return (
            f"{self.snaps.names[int(self.q.fid[row])]}:{self.cell('line', row)}:{self.cell('price_col', row)}"
        )

    def add(
        self,
        code: str,
        row: int,
        message: str,
        expected: str | None,
        observed: str | None,
        severity: str | None = None,
        symbol: str | None = None,
        field_name: str = "previous_close",
        column: str = "price_col",
    ) -> None:
        if self.keep is not None and not self.keep[int(self.q.fid[row])]:
            return
        rule = REGISTRY[code]
        self.rows.append(
            {
                "rule": code,
                "name": rule.name,
                "severity": severity or rule.severity.label,
                "file": self.snaps.names[int(self.q.fid[row])],
                "line": self.cell("line", row),
                "column": self.cell(column, row),
                "end_column": self.cell("end_column", row),
                "symbol": symbol if symbol is not None else self.q.symbols[int(self.q.sid[row])],
                "field": field_name,
                "observed": observed,
                "expected": expected,
                "message": message,
            }
        )

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return empty_findings()
        return combine([normalize(pd.DataFrame.from_records(self.rows))])


def _shown(value: int, decimals: int) -> str:
    number = Decimal(int(value)) / SCALE
    return f"{number:,.{max(decimals, 0)}f}"


def _integer(value: object) -> int:
    return int(value) if isinstance(value, int | float | np.integer) and value == value else 0


def _previous_close_text(f: _Findings, row: int) -> str:
    q = f.q
    if q.exact[row]:
        decimals = max(_integer(f.cell("price_decimals", row)), _integer(f.cell("change_decimals", row)))
        return _shown(int(q.prev_lo[row]), decimals)
    return f"{_shown(int(q.prev_lo[row]), 2)} to {_shown(int(q.prev_hi[row]), 2)}"


def _session_label(cal: SessionCalendar, session: int, snaps: _Snapshots, fid: int) -> str:
    if 0 <= session < INFERRED:
        return cal.label(session)
    return f"the session of {snaps.names[fid]}"


def _first_row(q: _Quotes, fid: int) -> int:
    """The row of a snapshot's first quote in the page (its lowest line)."""
    return int(q.starts[fid])


def _add_stale(f: _Findings, row: int, session_k: str, session_e: str, where: str) -> None:
    """stale-snapshot on `row`: its snapshot (of session_k) repeats every figure of the one of
    session_e standing at `where`."""
    f.add(
        codes.STALE_SNAPSHOT,
        row,
        f"every figure of this {session_k} snapshot is that of {session_e} ({where}): "
        "a cached page served again",
        expected=f"new figures after {session_e} ({where})",
        observed=f"the figures of {session_e}",
        field_name="snapshot",
        column="column",
    )


def _first_rows(q: _Quotes, f: _Findings, fid: int) -> int:
    rows = range(int(q.starts[fid]), int(q.ends[fid]))
    return min(rows, key=lambda r: (f.cell("line", r), f.cell("column", r)))


# --- sessions ----------------------------------------------------------------------------------


def _stamp_sessions(snaps: _Snapshots, cal: SessionCalendar) -> None:
    """The session and closing status of each stamped snapshot, from the calendar."""
    settings = cal.settings
    previous = cal.previous
    window = np.zeros(len(cal.is_session), dtype=bool)  # an uncertain day since the session before
    unc_days = np.flatnonzero(cal.uncertain)
    for trading_day in np.flatnonzero(cal.is_session).tolist():
        prev = previous[trading_day]
        hit = (unc_days > prev) & (unc_days <= trading_day)
        window[trading_day] = bool(hit.any()) if len(unc_days) else False
    columns = snaps.stamps
    if isinstance(columns, StampColumns):
        stamped = columns.present
        if not stamped.any():
            return
        day = np.where(stamped, columns.day - cal.start.toordinal(), 0)
        seconds = np.where(stamped, columns.seconds, -1)
    else:
        stamped = np.array([st is not None for st in snaps.stamps], dtype=bool)
        if not stamped.any():
            return
        day = np.array(
            [(st.day - cal.start).days if st is not None else 0 for st in snaps.stamps], dtype=np.int64
        )
        seconds = np.array(
            [
                st.time.hour * 3600 + st.time.minute * 60 + st.time.second
                if st is not None and st.time
                else -1
                for st in snaps.stamps
            ],
            dtype=np.int64,
        )
    weekday = (cal.start.weekday() + day) % 7
    opens = np.array([h.open.hour * 3600 + h.open.minute * 60 + h.open.second for h in settings.hours])
    closes = np.array([h.close.hour * 3600 + h.close.minute * 60 + h.close.second for h in settings.hours])
    trading = cal.is_session[day]
    after_open = trading & ((seconds < 0) | (seconds >= opens[weekday]))
    session = np.where(after_open, day, previous[day])
    has_session = stamped & (session >= 0)
    snaps.day[stamped] = day[stamped]
    snaps.seconds[stamped] = seconds[stamped]
    snaps.closed_day[stamped] = ~trading[stamped]
    in_window = np.where(session >= 0, window[np.maximum(session, 0)], False)
    snaps.uncertain[stamped] = (cal.uncertain[day] | in_window)[stamped]
    snaps.session[has_session] = session[has_session]
    for k in np.flatnonzero(has_session).tolist():
        snaps.session_source[k] = SESSION_STAMP
    closing = np.where(
        session < day, 1, np.where(seconds < 0, 0, np.where(seconds >= closes[weekday], 1, -1))
    )
    snaps.closing[has_session] = closing[has_session]


def _infer_sessions(q: _Quotes, snaps: _Snapshots) -> None:
    """Unstamped snapshots join the session whose previous closes they share (90% of at least 5);
    those sharing with no stamped one form sessions of their own."""
    loose = (snaps.session < 0) & (snaps.quotes > 0)
    if not loose.any():
        return
    stock = q.exact
    b_rows = np.flatnonzero(stock & loose[q.fid])
    a_rows = np.flatnonzero(stock & ~snaps.stale[q.fid])
    fa, fb = _candidate_pairs(q, a_rows, q.prev_lo[a_rows], b_rows, q.prev_lo[b_rows])
    keep = ~snaps.stale[fb]
    fa, fb = fa[keep], fb[keep]
    common, matched = _chain_stats(q, fa, fb, "same")
    ok = _most(common, matched)
    fa, fb, weight = fa[ok], fb[ok], matched[ok] / np.maximum(common[ok], 1)
    parent = list(range(len(snaps.names)))
    anchor = {k: int(snaps.session[k]) for k in range(len(snaps.names)) if snaps.session[k] >= 0}

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for at in np.argsort(-weight, kind="stable"):
        ra, rb = root(int(fa[at])), root(int(fb[at]))
        if ra == rb:
            continue
        sa, sb = anchor.get(ra), anchor.get(rb)
        if sa is not None and sb is not None and sa != sb:
            continue  # a stamp decides: two stamped sessions are never merged by their figures
        parent[rb] = ra
        if sa is None and sb is not None:
            anchor[ra] = sb
    groups: dict[int, int] = {}
    for k in np.flatnonzero(loose):
        r = root(int(k))
        if r in anchor:
            snaps.session[k] = anchor[r]
        else:
            snaps.session[k] = INFERRED + groups.setdefault(r, len(groups))
        snaps.session_source[k] = SOURCE_FIGURES


def _order_key(snaps: _Snapshots, k: int) -> tuple[int, int, int]:
    return (int(snaps.day[k]), int(snaps.seconds[k]), k)


def _capture_order(snaps: _Snapshots) -> np.ndarray:
    """The snapshots by session, then capture day, time and input order."""
    k = np.arange(len(snaps.names))
    return np.lexsort((k, snaps.seconds, snaps.day, snaps.session))


def _session_members(snaps: _Snapshots, include_stale: bool = False) -> dict[int, list[int]]:
    """Each session's snapshots (with quotes) in capture order."""
    order = _capture_order(snaps)
    keep = (snaps.session[order] >= 0) & (snaps.quotes[order] > 0)
    if not include_stale:
        keep &= ~snaps.stale[order]
    order = order[keep]
    sessions = snaps.session[order]
    if not len(order):
        return {}
    # (slices of one list: np.split makes an array per session, 10 times slower for small ones)
    bounds = [0, *(np.flatnonzero(sessions[1:] != sessions[:-1]) + 1).tolist(), len(order)]
    ordered = order.tolist()
    keys = sessions[bounds[:-1]].tolist()
    return {key: ordered[start:stop] for key, start, stop in zip(keys, bounds[:-1], bounds[1:], strict=True)}


def _figure_links(q: _Quotes, snaps: _Snapshots, members: dict[int, list[int]]) -> dict[int, tuple[int, int]]:
    """For sessions found from the figures, and the stamped ones next to them: the session right
    before each (B's previous closes are A's prices, 90% of at least 5), as {B: (A, A's last)}."""
    inferred = {s for s in members if s >= INFERRED}
    if not inferred:
        return {}
    live = (snaps.session >= 0) & ~snaps.stale & (snaps.quotes > 0)
    rows = np.flatnonzero(q.exact & live[q.fid])
    fa, fb = _candidate_pairs(q, rows, q.price[rows], rows, q.prev_lo[rows])
    sa, sb = snaps.session[fa], snaps.session[fb]
    keep = (sa != sb) & ((sa >= INFERRED) | (sb >= INFERRED))
    fa, fb = fa[keep], fb[keep]
    common, matched = _chain_stats(q, fa, fb, "chain")
    ok = _most(common, matched)
    best: dict[int, tuple[int, int, int]] = {}  # B: (matched, A session, A's snapshot)
    for a, b, m in zip(fa[ok].tolist(), fb[ok].tolist(), matched[ok].tolist(), strict=True):
        session_b, session_a = int(snaps.session[b]), int(snaps.session[a])
        current = best.get(session_b)
        if current is None or m > current[0]:
            best[session_b] = (m, session_a, a)
    links = {b: (a, last) for b, (_, a, last) in best.items()}
    # A session has one successor: the one that chains best into it keeps the link.
    taken: dict[int, int] = {}
    for b, (a, _) in sorted(links.items(), key=lambda item: -best[item[0]][0]):
        if a in taken:
            del links[b]
        else:
            taken[a] = b
    return links


# --- the rules ---------------------------------------------------------------------------------


def _stale_snapshots(q: _Quotes, snaps: _Snapshots, f: _Findings, cal: SessionCalendar) -> None:
    """stale-snapshot: exactly the figures of a snapshot of an earlier (stamped) session."""
    if not len(q.fid):
        return
    # Each snapshot's figures as one order-free hash: the sum of its quotes' hashes (wrapping).
    cum = np.cumsum(q.figures, dtype=np.uint64)
    total = np.where(q.ends > 0, cum[np.maximum(q.ends - 1, 0)], np.uint64(0)).astype(np.uint64)
    before = np.where(q.starts > 0, cum[np.maximum(q.starts - 1, 0)], np.uint64(0)).astype(np.uint64)
    sums = total - before
    counts = snaps.quotes
    stamped = (snaps.session >= 0) & (snaps.session < INFERRED) & (counts > 0)
    candidates = np.flatnonzero(stamped)
    if not len(candidates):
        return
    frame = pd.DataFrame(
        {
            "sum": sums[candidates],
            "count": counts[candidates],
            "session": snaps.session[candidates],
            "k": candidates,
        }
    )
    frame = frame.sort_values(["sum", "count", "session", "k"], kind="stable")
    first_session = frame.groupby(["sum", "count"], sort=False)["session"].transform("min")
    first_k = frame.groupby(["sum", "count"], sort=False)["k"].transform("first")
    late = frame[frame["session"] > first_session]
    for k, earlier in zip(late["k"].tolist(), first_k[late.index].tolist(), strict=True):
        a_rows = np.arange(q.starts[earlier], q.ends[earlier])
        b_rows = np.arange(q.starts[k], q.ends[k])
        a_rows, b_rows = a_rows[np.argsort(q.sid[a_rows])], b_rows[np.argsort(q.sid[b_rows])]
        same = len(a_rows) == len(b_rows) and np.array_equal(q.sid[a_rows], q.sid[b_rows])
        same = same and bool(np.array_equal(q.figures[a_rows], q.figures[b_rows]))
        if not same or snaps.uncertain[k] or snaps.uncertain[earlier]:
            continue
        snaps.stale[k] = True
        row = _first_rows(q, f, k)
        session_k = _session_label(cal, int(snaps.session[k]), snaps, k)
        session_e = _session_label(cal, int(snaps.session[earlier]), snaps, earlier)
        where = f"{snaps.names[earlier]}:{f.cell('line', _first_rows(q, f, earlier))}"
        _add_stale(f, row, session_k, session_e, where)


def _same_session(q: _Quotes, snaps: _Snapshots, f: _Findings, cal: SessionCalendar) -> None:
    """session-previous-close-disagrees: one session, different previous closes."""
    usable = (snaps.session >= 0) & ~snaps.stale & (snaps.quotes > 0) & ~snaps.closed_day
    rows = np.flatnonzero(usable[q.fid])
    if not len(rows):
        return
    session = snaps.session[q.fid[rows]]
    n_files = len(snaps.names)
    order_rank = np.empty(n_files, dtype=np.int64)
    order_rank[_capture_order(snaps)] = np.arange(n_files)
    rank = order_rank[q.fid[rows]]
    dense_of_file = np.unique(snaps.session, return_inverse=True)[1].astype(np.int64)
    dense = dense_of_file[q.fid[rows]]
    if (int(dense.max()) + 1) * q.n_symbols * n_files < 2**62:  # one integer key: one sort
        sort = np.argsort((dense * q.n_symbols + q.sid[rows]) * n_files + rank)
    else:
        sort = np.lexsort((rank, q.sid[rows], session))
    rows, session = rows[sort], session[sort]
    sid = q.sid[rows]
    new_group = np.ones(len(rows), dtype=bool)
    new_group[1:] = (session[1:] != session[:-1]) | (sid[1:] != sid[:-1])
    group = np.cumsum(new_group) - 1
    size = np.bincount(group)
    multi = size[group] > 1
    if not multi.any():
        return
    rows, group = rows[multi], group[multi]
    # Quick exit for the usual case: every group's intervals meet.
    group_start = np.flatnonzero(np.concatenate([[True], group[1:] != group[:-1]]))
    lo_max = np.maximum.reduceat(q.prev_lo[rows], group_start)
    hi_min = np.minimum.reduceat(q.prev_hi[rows], group_start)
    bad_groups = group[group_start[lo_max > hi_min]]
    if not len(bad_groups):
        return
    starts = np.searchsorted(group, bad_groups, side="left")
    stops = np.searchsorted(group, bad_groups, side="right")
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        members = rows[start:stop]  # in capture order
        reference = _reference(q, members, snaps.anchored)
        for row in members:
            row = int(row)
            if row == reference:
                continue
            if _meets(q.prev_lo[row], q.prev_hi[row], q.prev_lo[reference], q.prev_hi[reference]):
                continue
            k = int(q.fid[row])
            if snaps.uncertain[k] or snaps.uncertain[int(q.fid[reference])]:
                continue
            label = _session_label(cal, int(snaps.session[k]), snaps, k)
            earlier = _previous_close_text(f, reference)
            f.add(
                codes.SESSION_PREVIOUS_CLOSE_DISAGREES,
                row,
                f"previous close {_previous_close_text(f, row)}, "
                f"but {f.where(reference)} of the same session "
                f"({label}) shows {earlier}",
                expected=f"{earlier} ({f.where(reference)})",
                observed=_previous_close_text(f, row),
            )


def _reference(q: _Quotes, members: np.ndarray, anchored: np.ndarray | None) -> int:
    """The quote a session's others are compared with: one whose previous close is the last
    session's close if any, else the one most others agree with (the earliest on a tie)."""
    lo, hi = q.prev_lo[members], q.prev_hi[members]
    meets = ((lo[:, None] <= hi[None, :]) & (lo[None, :] <= hi[:, None])).sum(axis=1)
    if anchored is not None:
        meets = meets + anchored[members] * (len(members) + 1)
    return int(members[int(np.argmax(meets))])  # argmax: the earliest of the best


def _closing_candidates(snaps: _Snapshots, items: list[int]) -> tuple[list[int], bool]:
    """The snapshots that may be a session's last, and whether they are known to show its close."""
    known = [k for k in items if snaps.closing[k] == 1]
    if known:
        return [max(known, key=lambda k: _order_key(snaps, k))], True
    unknown = [k for k in items if snaps.closing[k] == 0]
    return unknown, False


Pair = tuple[int, int, list[int], bool, bool]


def _consecutive_pairs(
    snaps: _Snapshots, cal: SessionCalendar, members: dict[int, list[int]], links: dict[int, tuple[int, int]]
) -> list[Pair]:
    """Consecutive sessions (S1, S2): calendar neighbours both present, and links found from the
    figures; each with the snapshots of S1 that may be its last, whether they show its close, and
    whether the two chain (False for stamped sessions with a gap of missing sessions between
    them: compared only for their order and their stock lists)."""
    pairs: list[Pair] = []
    previous = cal.previous
    stamped = sorted(s for s in members if s < INFERRED)
    for before, s2 in zip([-1, *stamped], stamped, strict=False):
        s1 = int(previous[s2])
        chained = s1 >= 0 and s1 in members
        if not chained:
            s1 = before
        if s1 >= 0:
            candidates, known = _closing_candidates(snaps, members[s1])
            pairs.append((s1, s2, candidates, known, chained))
    for s2, (s1, last) in sorted(links.items()):
        if s1 < INFERRED and s2 < INFERRED:
            continue
        pairs.append((s1, s2, [last], False, True))
    return pairs


def _breaks(
    q: _Quotes,
    snaps: _Snapshots,
    f: _Findings,
    cal: SessionCalendar,
    members: dict[int, list[int]],
    pairs: list[Pair],
    chaining: frozenset[str],
) -> None:
    """previous-close-break and capture-order, over consecutive sessions."""
    pair_a: list[int] = []
    pair_b: list[int] = []
    pair_of: list[int] = []
    for at, (_, s2, candidates, _, _) in enumerate(pairs):
        for last in candidates:
            for later in members[s2]:
                pair_a.append(last)
                pair_b.append(later)
                pair_of.append(at)
    if not pair_a:
        return
    a, b, which = np.array(pair_a), np.array(pair_b), np.array(pair_of)
    common, matched = _chain_stats(q, a, b, "chain")
    # The last of S1 among several date-only candidates: the one that chains best with S2 (the
    # later captured on a tie).
    rank = np.empty(len(snaps.names), dtype=np.int64)
    rank[_capture_order(snaps)] = np.arange(len(snaps.names))
    candidate_key = which * len(snaps.names) + a
    keys, inverse = np.unique(candidate_key, return_inverse=True)
    score = np.bincount(inverse, weights=matched, minlength=len(keys))
    key_pair, key_candidate = keys // len(snaps.names), keys % len(snaps.names)
    best = np.lexsort((rank[key_candidate], score, key_pair))  # the best of each pair comes last
    last_of_pair = np.flatnonzero(np.concatenate([key_pair[best][1:] != key_pair[best][:-1], [True]]))
    best_of = np.full(len(pairs), -1, dtype=np.int64)
    best_of[key_pair[best][last_of_pair]] = key_candidate[best][last_of_pair]
    chosen = best_of[which] == a
    known = np.array([p[3] for p in pairs], dtype=bool)[which]
    chains = _most(common, matched)
    # capture-order: the stamps say S1 before S2, the figures the reverse.
    stamped_pair = np.array([p[0] < INFERRED and p[1] < INFERRED for p in pairs], dtype=bool)[which]
    reversed_pair: np.ndarray = np.zeros(len(a), dtype=np.bool_)
    if stamped_pair.any():
        rc, rm = _chain_stats(q, a, b, "reverse")
        reversed_pair = stamped_pair & _most(rc, rm) & ~chains
        reported: set[int] = set()
        for k in np.flatnonzero(reversed_pair & chosen).tolist():
            later = int(b[k])
            if later in reported or snaps.uncertain[later] or snaps.uncertain[int(a[k])]:
                continue
            reported.add(later)
            earlier = int(a[k])
            row = _first_rows(q, f, later)
            f.add(
                codes.CAPTURE_ORDER,
                row,
                f"captured after {snaps.names[earlier]}, but its prices are that page's previous closes "
                f"({int(rm[k])} of {int(rc[k])} stocks): the figures put it first",
                expected=f"previous closes = the prices of {snaps.names[earlier]}",
                observed=f"prices = the previous closes of {snaps.names[earlier]}",
                field_name="snapshot",
                column="column",
            )
    chained = np.array([p[4] for p in pairs], dtype=bool)[which]
    compare = chosen & (known | chains) & ~reversed_pair & chained
    if not compare.any():
        return
    sel = np.flatnonzero(compare)
    if snaps.anchored is None:
        snaps.anchored = np.zeros(len(q.fid), dtype=bool)
    for k in np.flatnonzero(compare & chains).tolist():
        later_fid, earlier_fid = int(b[k]), int(a[k])
        certain = not (snaps.uncertain[later_fid] or snaps.uncertain[earlier_fid])
        if certain and (f.keep is None or f.keep[later_fid]):
            label = _session_label(cal, pairs[int(which[k])][0], snaps, earlier_fid)
            f.closes.append((snaps.names[later_fid], snaps.names[earlier_fid], label, bool(known[k])))
    chaining_ids = np.isin(q.symbols, sorted(chaining))[q.sid]
    for pair, brow, arow in _pair_rows(q, a[sel], b[sel]):
        found = arow >= 0
        pair, brow, arow = pair[found], brow[found], arow[found]
        stock = q.exact[brow] & q.exact[arow]
        index = q.index[brow] & q.index[arow] & chaining_ids[brow]
        stock_break = stock & (q.prev_lo[brow] != q.price[arow])
        snaps.anchored[brow[stock & ~stock_break]] = True
        index_break = index & ~_meets(q.prev_lo[brow], q.prev_hi[brow], q.price_lo[arow], q.price_hi[arow])
        for at in np.flatnonzero(stock_break | index_break).tolist():
            row, earlier = int(brow[at]), int(arow[at])
            k = int(sel[pair[at]])
            later_fid, earlier_fid = int(b[k]), int(a[k])
            if snaps.uncertain[later_fid] or snaps.uncertain[earlier_fid]:
                continue
            s1 = pairs[int(which[k])][0]
            label = _session_label(cal, s1, snaps, earlier_fid)
            shown = str(f.cell("price_text", earlier))
            f.add(
                codes.PREVIOUS_CLOSE_BREAK,
                row,
                f"previous close {_previous_close_text(f, row)}, "
                f"but {label}'s close is {shown} ({f.where(earlier)})",
                expected=f"{shown} ({f.where(earlier)})",
                observed=_previous_close_text(f, row),
                severity="warning" if bool(index_break[at]) else None,
            )


def _closed_days(
    q: _Quotes, snaps: _Snapshots, f: _Findings, cal: SessionCalendar, members: dict[int, list[int]]
) -> None:
    """closed-day-figures: a closed day's snapshot shows figures its session never showed."""
    closed = snaps.closed_day & (snaps.session >= 0) & ~snaps.stale & (snaps.quotes > 0)
    for k in np.flatnonzero(closed).tolist():
        if snaps.uncertain[k]:
            continue
        session = int(snaps.session[k])
        same_day = [m for m in members.get(session, []) if snaps.day[m] == session and not snaps.uncertain[m]]
        if not same_day:
            continue
        closing = [m for m in same_day if snaps.closing[m] >= 0]
        a = np.array(same_day)
        b = np.full(len(a), k)
        rows = np.arange(q.starts[k], q.ends[k])
        position = {int(r): i for i, r in enumerate(rows)}
        seen = np.zeros(len(rows), dtype=bool)
        seen_closing = np.zeros(len(rows), dtype=bool)
        price_match = np.zeros(len(rows), dtype=bool)
        prev_match = np.zeros(len(rows), dtype=bool)
        for pair, brow, arow in _pair_rows(q, a, b):
            found = arow >= 0
            for p_at, br, ar in zip(
                pair[found].tolist(), brow[found].tolist(), arow[found].tolist(), strict=True
            ):
                i = position[br]
                seen[i] = True
                if int(a[p_at]) in closing:
                    seen_closing[i] = True
                if q.price_lo[br] <= q.price_hi[ar] and q.price_lo[ar] <= q.price_hi[br]:
                    price_match[i] = True
                if _meets(q.prev_lo[br], q.prev_hi[br], q.prev_lo[ar], q.prev_hi[ar]):
                    prev_match[i] = True
        label = cal.label(session)
        for i, row in enumerate(rows.tolist()):
            if not seen[i]:
                continue
            if not prev_match[i]:
                f.add(
                    codes.CLOSED_DAY_FIGURES,
                    row,
                    f"captured on a closed day, it shows previous close {_previous_close_text(f, row)}, "
                    f"which no snapshot of {label} shows",
                    expected=f"the previous close of {label} (as on {snaps.names[same_day[0]]})",
                    observed=_previous_close_text(f, row),
                )
            elif seen_closing[i] and not price_match[i]:
                f.add(
                    codes.CLOSED_DAY_FIGURES,
                    row,
                    f"captured on a closed day, it shows price {f.cell('price_text', row)}, "
                    "which no snapshot "
                    f"of {label} shows",
                    expected=f"a price of {label} (as on {snaps.names[closing[-1]]})",
                    observed=str(f.cell("price_text", row)),
                    field_name="price",
                )


def _stale_blocks(
    q: _Quotes, snaps: _Snapshots, f: _Findings, cal: SessionCalendar, members: dict[int, list[int]]
) -> None:
    """stale-block: within a session, one block identical while most of the other moved."""
    pairs_a, pairs_b = [], []
    for items in members.values():
        for x, y in pairwise(items):
            pairs_a.append(x)
            pairs_b.append(y)
    if not pairs_a:
        return
    a, b = np.array(pairs_a), np.array(pairs_b)
    n = len(a)
    idx_common = np.zeros(n, np.int64)
    idx_same = np.zeros(n, np.int64)
    stk_common = np.zeros(n, np.int64)
    stk_same = np.zeros(n, np.int64)
    idx_b = np.zeros(n, np.int64)
    stk_b = np.zeros(n, np.int64)
    for pair, brow, arow in _pair_rows(q, a, b):
        is_idx = q.index[brow]
        idx_b += np.bincount(pair[is_idx], minlength=n)
        stk_b += np.bincount(pair[~is_idx], minlength=n)
        found = arow >= 0
        pair, brow, arow, is_idx = pair[found], brow[found], arow[found], is_idx[found]
        same = q.figures[brow] == q.figures[arow]
        idx_common += np.bincount(pair[is_idx], minlength=n)
        idx_same += np.bincount(pair[is_idx & same], minlength=n)
        stk_common += np.bincount(pair[~is_idx], minlength=n)
        stk_same += np.bincount(pair[~is_idx & same], minlength=n)
    a_idx = np.bincount(q.fid[q.index], minlength=len(snaps.names))[a]
    a_stk = (q.ends[a] - q.starts[a]) - a_idx
    frozen_idx = (idx_b > 0) & (idx_same == idx_b) & (idx_common == a_idx)
    frozen_idx &= (stk_common >= MIN_COMMON) & ((stk_common - stk_same) * 2 > stk_common)
    frozen_stk = (stk_b >= MIN_COMMON) & (stk_same == stk_b) & (stk_common == a_stk)
    frozen_stk &= (idx_common >= 2) & ((idx_common - idx_same) * 2 > idx_common)
    for k in np.flatnonzero(frozen_idx | frozen_stk):
        later, earlier = int(b[k]), int(a[k])
        if snaps.uncertain[later] or snaps.uncertain[earlier]:
            continue
        block = "index" if frozen_idx[k] else "stock"
        rows = np.arange(q.starts[later], q.ends[later])
        rows = rows[q.index[rows]] if block == "index" else rows[~q.index[rows]]
        moved = stk_common[k] - stk_same[k] if block == "index" else idx_common[k] - idx_same[k]
        common = stk_common[k] if block == "index" else idx_common[k]
        other = "stocks" if block == "index" else "indices"
        for row in rows.tolist():
            earlier_row = int(q.find(np.array([earlier]), q.sid[[row]])[0])
            f.add(
                codes.STALE_BLOCK,
                row,
                f"the {block} block is the same as on {snaps.names[earlier]} while {moved} of {common} "
                f"{other} moved: the {block} block stopped refreshing",
                expected=f"a figure newer than {f.cell('price_text', earlier_row)} ({f.where(earlier_row)})",
                observed=str(f.cell("price_text", row)),
                field_name="price",
            )


def _missing_indices(
    q: _Quotes, snaps: _Snapshots, f: _Findings, profile: Profile, cut_off: set[str]
) -> None:
    """index-missing: a listed index most snapshots show is missing from a complete snapshot."""
    listed = np.isin(q.symbols, sorted(profile.index_symbols))
    live = snaps.quotes > 0
    n_live = int(live.sum())
    if n_live < 3:
        return
    rows = np.flatnonzero(listed[q.sid])
    present = np.bincount(q.sid[rows], minlength=q.n_symbols)  # snapshots showing each index
    sids = np.flatnonzero(listed & (present * 2 > (n_live - 1))).tolist()
    for sid, k, shown in _index_gaps(q, snaps, rows, sids, live, cut_off):
        _add_index_missing(q, snaps, f, sid, k, shown)


def _index_gaps(
    q: _Quotes, snaps: _Snapshots, rows: np.ndarray, sids: list[int], eligible: np.ndarray, cut_off: set[str]
) -> Iterator[tuple[int, int, int]]:
    """For each index of `sids` (`rows`: the quotes of listed indices), each `eligible` snapshot
    with stocks that misses it while a neighbour in capture order shows it, and that has every stock
    of each neighbour: (the index, the snapshot, the neighbour showing it)."""
    live = snaps.quotes > 0
    order = _capture_order(snaps)
    ordered = order[live[order]]
    place = np.full(len(snaps.names), -1)
    place[ordered] = np.arange(len(ordered))
    stock_count = np.bincount(q.fid[~q.index], minlength=len(snaps.names))
    for sid in sids:
        have = np.zeros(len(snaps.names), dtype=bool)
        have[q.fid[rows[q.sid[rows] == sid]]] = True
        for k in np.flatnonzero(eligible & live & ~have & (stock_count > 0)).tolist():
            if snaps.names[k] in cut_off or snaps.uncertain[k]:
                continue
            i = int(place[k])
            neighbours = [int(ordered[j]) for j in (i - 1, i + 1) if 0 <= j < len(ordered)]
            if not any(have[m] for m in neighbours):
                continue
            # every stock of each neighbour is on this snapshot
            a = np.full(len(neighbours), k)
            common, _ = _chain_stats(q, a, np.array(neighbours), "same")
            if not all(int(c) == int(stock_count[m]) for c, m in zip(common, neighbours, strict=True)):
                continue
            yield sid, k, next(m for m in neighbours if have[m])


def _add_index_missing(q: _Quotes, snaps: _Snapshots, f: _Findings, sid: int, k: int, shown: int) -> None:
    """The index-missing finding of index `sid` on snapshot `k`, naming the neighbour `shown`."""
    shown_row = int(q.find(np.array([shown]), np.array([sid]))[0])
    name = str(q.symbols[sid])
    f.add(
        codes.INDEX_MISSING,
        _first_rows(q, f, k),
        f"{name} is missing, though this snapshot has every stock of its neighbours and "
        f"{snaps.names[shown]} shows it",
        expected=f"{name} {f.cell('price_text', shown_row)} ({f.where(shown_row)})",
        observed=None,
        symbol=name,
        field_name="symbol",
        column="column",
    )


def _symbols_changed(
    q: _Quotes,
    snaps: _Snapshots,
    f: _Findings,
    cal: SessionCalendar,
    members: dict[int, list[int]],
    pairs: list[Pair],
) -> None:
    """symbols-changed: stocks entering or leaving the ticker between consecutive sessions."""
    if not pairs:
        return
    session_of = snaps.session[q.fid]
    usable = ~q.index & (session_of >= 0) & ~snaps.stale[q.fid] & q.exact
    rows = np.flatnonzero(usable)
    keys, first = np.unique(session_of[rows] * q.n_symbols + q.sid[rows], return_index=True)
    first_row = rows[first]
    key_session, key_sid = keys // q.n_symbols, keys % q.n_symbols

    def missing(session: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each pair k, the keys of session[k] whose symbol `other[k]` does not show, as
        (pair, key) sorted by pair then key."""
        lo = np.searchsorted(key_session, session, side="left")
        hi = np.searchsorted(key_session, session, side="right")
        sizes = hi - lo
        pair = np.repeat(np.arange(len(session)), sizes)
        at = np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        wanted = other[pair] * q.n_symbols + key_sid[at]
        found = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        gone = keys[found] != wanted
        return pair[gone], at[gone]

    s1s = np.array([p[0] for p in pairs], dtype=np.int64)
    s2s = np.array([p[1] for p in pairs], dtype=np.int64)
    entered_pair, entered_at = missing(s2s, s1s)
    left_pair, left_at = missing(s1s, s2s)
    changed = np.union1d(entered_pair, left_pair).tolist()  # the pairs with a finding, in order
    entered_bounds = np.searchsorted(entered_pair, [changed, np.add(changed, 1)])
    left_bounds = np.searchsorted(left_pair, [changed, np.add(changed, 1)])
    for k, pair_k in enumerate(changed):
        s1, s2 = int(s1s[pair_k]), int(s2s[pair_k])
        entered = entered_at[entered_bounds[0][k] : entered_bounds[1][k]]
        left = left_at[left_bounds[0][k] : left_bounds[1][k]]
        label = _session_label(cal, s1, snaps, members[s1][0])
        for at in entered.tolist():
            row = int(first_row[at])
            f.add(
                codes.SYMBOLS_CHANGED,
                row,
                f"{q.symbols[int(key_sid[at])]} entered the ticker: no snapshot of {label} shows it",
                expected=None,
                observed=str(q.symbols[int(key_sid[at])]),
                field_name="symbol",
                column="symbol_col",
            )
        if len(left):
            first_of_s2 = _first_rows(q, f, members[s2][0])
            for at in left.tolist():
                before = int(first_row[at])
                name = str(q.symbols[int(key_sid[at])])
                f.add(
                    codes.SYMBOLS_CHANGED,
                    first_of_s2,
                    f"{name} left the ticker: shown in {label} ({f.where(before)}), not in this session",
                    expected=f"{name} ({f.where(before)})",
                    observed=None,
                    symbol=name,
                    field_name="symbol",
                    column="column",
                )


# --- the entry point ---------------------------------------------------------------------------


def history_findings(
    quotes: pd.DataFrame,
    results: list[FileResult],
    profile: Profile,
    manifest: Manifest | None = None,
    page_texts: Mapping[str, str] | None = None,
    cut_off: set[str] | None = None,
    resolve: Mapping[str, str] | None = None,
) -> HistoryResult:
    """Time every snapshot, put it in a session and run the history rules over the run.

    `quotes` is the run's quote frame (Options(include_quotes=True)), `results` its pages in
    input order; `manifest` the capture times read by times.read_manifest; `page_texts` the
    first few KB of each page (for the crawler prefix) by name; `cut_off` the pages whose ticker
    block ends in a line that does not parse; `resolve` each input's absolute path (to match
    the manifest's rows).
    """
    return history_of_source(FrameSource(quotes), results, profile, manifest, page_texts, cut_off, resolve)


@dataclass
class _Setup:
    """What the history step knows before it reads any figure: each snapshot's name and time,
    the calendar, and the sessions the time stamps decide."""

    settings: Any
    names: list[str]
    stamps: list[Stamp | None] | StampColumns
    cal: SessionCalendar
    problems: list[str]


def _setup(
    names: list[str],
    profile: Profile,
    manifest: Manifest | None,
    page_texts: Mapping[str, str] | None,
    resolve: Mapping[str, str] | None,
    known: StampColumns | None = None,
) -> _Setup:
    settings = history_settings(profile)
    texts = page_texts or {}
    today = dt.date(2000, 1, 1)
    stamps: list[Stamp | None] | StampColumns
    if known is not None:  # the stamps as arrays (a ledger's), then the names of the pages without
        unstamped_at = np.flatnonzero(~known.present).tolist()
        for k, named in zip(unstamped_at, stamps_from_names([names[k] for k in unstamped_at]), strict=True):
            found = named or stamp_from_text(texts.get(names[k]))
            if found is not None:
                known.set(k, found)
        stamps = known
        ordinals = known.day[known.present]
        first = dt.date.fromordinal(int(ordinals.min())) if len(ordinals) else today
        last = dt.date.fromordinal(int(ordinals.max())) if len(ordinals) else today
        cal = build_calendar(settings, first, last)
    else:
        manifest_stamps = manifest.match(names, resolve) if manifest is not None else {}
        listed: list[Stamp | None] = [manifest_stamps.get(n) for n in names]
        unstamped = [k for k, st in enumerate(listed) if st is None]  # the names are read only for these
        for k, named in zip(unstamped, stamps_from_names([names[k] for k in unstamped]), strict=True):
            listed[k] = named or stamp_from_text(texts.get(names[k]))
        days = [s.day for s in listed if s is not None]
        cal = build_calendar(settings, min(days, default=today), max(days, default=today))
        stamps = listed
    problems = list(manifest.problems) if manifest is not None else []
    return _Setup(settings, names, stamps, cal, problems)


def _new_snapshots(setup: _Setup, quotes: np.ndarray) -> _Snapshots:
    n = len(setup.names)
    snaps = _Snapshots(
        names=setup.names,
        stamps=setup.stamps,
        day=np.full(n, -1, dtype=np.int64),
        seconds=np.full(n, -1, dtype=np.int64),
        session=np.full(n, -1, dtype=np.int64),
        session_source=[SOURCE_NONE] * n,
        closing=np.zeros(n, dtype=np.int64),
        closed_day=np.zeros(n, dtype=bool),
        uncertain=np.zeros(n, dtype=bool),
        stale=np.zeros(n, dtype=bool),
        quotes=quotes,
    )
    _stamp_sessions(snaps, setup.cal)
    return snaps


def _whole(
    quotes: pd.DataFrame,
    setup: _Setup,
    profile: Profile,
    cut_off: set[str] | None,
    codes: np.ndarray | None = None,
    stamped: _Snapshots | None = None,
) -> HistoryResult:
    """The history step over all the quotes at once (what sessions found from the figures need);
    `codes`: each quote's snapshot number in setup.names, when known; `stamped`: the snapshots of
    the setup with their sessions from the stamps, when made already (their quote counts are set
    here)."""
    q, names = _prepare(quotes, setup.names, profile, fid=codes)
    if len(names) != len(setup.names):
        raise ValueError("the quotes name a snapshot the setup does not know")
    cal = setup.cal
    counts = (q.ends - q.starts).astype(np.int64)
    if stamped is None:
        snaps = _new_snapshots(setup, counts)
    else:
        snaps = stamped
        snaps.quotes = counts
    f = _Findings(q, quotes, snaps)
    _stale_snapshots(q, snaps, f, cal)
    _infer_sessions(q, snaps)
    members = _session_members(snaps)
    links = _figure_links(q, snaps, members)
    pairs = _consecutive_pairs(snaps, cal, members, links)
    _breaks(q, snaps, f, cal, members, pairs, setup.settings.chaining_indices)
    _same_session(q, snaps, f, cal)
    _closed_days(q, snaps, f, cal, members)
    _stale_blocks(q, snaps, f, cal, members)
    _missing_indices(q, snaps, f, profile, cut_off or set())
    _symbols_changed(q, snaps, f, cal, members, pairs)
    return _result(snaps, cal, links, f.frame(), setup.problems, f.closes)


def _result(
    snaps: _Snapshots,
    cal: SessionCalendar,
    links: dict[int, tuple[int, int]],
    findings: pd.DataFrame,
    problems: list[str],
    closes: list[tuple[str, str, str, bool]] | None = None,
) -> HistoryResult:
    sessions, labels = _session_table(snaps, cal, _session_members(snaps, include_stale=True), links)
    table = _snapshot_table(snaps, cal, labels)
    position = {name: p for name, p in zip(sessions["session"], sessions["position"], strict=True)}
    session_of = _session_labels(cal, snaps.session, labels)  # (the list, not the column: faster)
    placed = pd.Series(session_of, dtype=object).map(position).tolist()
    table["session_position"] = pd.array(placed, dtype="Int64")
    return HistoryResult(findings, table, sessions, cal.describe(), problems, sorted(closes or []))


def _snapshot_table(snaps: _Snapshots, cal: SessionCalendar, names: dict[int, str]) -> pd.DataFrame:
    """Each snapshot's capture time, its source, its session and how that was found."""
    labels = _session_labels(cal, snaps.session, names)
    stamps = snaps.stamps
    sources = snaps.session_source
    if isinstance(stamps, StampColumns):
        captured = stamps.isoformats()
        found = np.array(sources, dtype=object) == SOURCE_FIGURES
        otherwise = np.where(found, SOURCE_FIGURES, SOURCE_NONE).astype(object)
        time_source = np.where(
            stamps.present, np.array(stamps.source_names(), dtype=object), otherwise
        ).tolist()
    else:
        captured = [st.isoformat() if st is not None else None for st in stamps]
        time_source = [
            st.source if st is not None else (SOURCE_FIGURES if src == SOURCE_FIGURES else SOURCE_NONE)
            for st, src in zip(stamps, sources, strict=True)
        ]
    closing = pd.array(np.where(snaps.closing == 1, True, False), dtype="boolean")
    closing[(snaps.closing == 0) | (snaps.session < 0)] = pd.NA
    return pd.DataFrame(
        {
            "file": snaps.names,
            "captured_at": captured,
            "time_source": time_source,
            "session": labels,
            "session_source": sources,
            "closing": closing,
            "uncertain": snaps.uncertain.copy(),
            "stale": snaps.stale.copy(),
        }
    )


def _session_labels(cal: SessionCalendar, sessions: np.ndarray, names: dict[int, str]) -> list[str | None]:
    """The name of each session key (a date, or Fn for one found from the figures alone)."""
    unique, inverse = np.unique(sessions, return_inverse=True)
    labels = np.array([_session_name(cal, int(s), names) for s in unique.tolist()], dtype=object)
    return labels[inverse.reshape(-1)].tolist()


def _session_name(cal: SessionCalendar, session: int, names: dict[int, str]) -> str | None:
    if session < 0:
        return None
    if session < INFERRED:
        return cal.label(session)
    return names.get(session, f"F{session - INFERRED + 1}")


def _session_table(
    snaps: _Snapshots, cal: SessionCalendar, members: dict[int, list[int]], links: dict[int, tuple[int, int]]
) -> tuple[pd.DataFrame, dict[int, str]]:
    """The sessions in order: stamped ones by date, those found from the figures placed by their
    links; a session with no link to any other is unordered. With the names of the sessions found
    from the figures: F1, F2, ... in that order."""
    stamped = sorted(s for s in members if s < INFERRED)
    successor = {a: b for b, (a, _) in links.items()}
    sequence: list[int] = []
    placed: set[int] = set()

    def follow(s: int) -> None:
        while s in successor and successor[s] >= INFERRED and successor[s] not in placed:
            s = successor[s]
            sequence.append(s)
            placed.add(s)

    for s in stamped:
        # an inferred run that leads into this stamped session comes before it
        head, chain = s, []
        while head in links and links[head][0] >= INFERRED and links[head][0] not in placed:
            head = links[head][0]
            chain.append(head)
        for c in reversed(chain):
            sequence.append(c)
            placed.add(c)
        sequence.append(s)
        placed.add(s)
        follow(s)
    for s in sorted(s for s in members if s >= INFERRED and s not in placed):
        if s in links or s in successor:
            head = s
            while head in links and links[head][0] not in placed and links[head][0] != s:
                head = links[head][0]
            if head not in placed:
                sequence.append(head)
                placed.add(head)
                follow(head)
    unordered = sorted(s for s in members if s not in placed)
    inferred = [s for s in [*sequence, *unordered] if s >= INFERRED]
    names = {s: f"F{n}" for n, s in enumerate(inferred, 1)}
    rows = [_session_row(snaps, cal, members, s, position, names) for position, s in enumerate(sequence)]
    rows += [_session_row(snaps, cal, members, s, None, names) for s in unordered]
    table = pd.DataFrame(rows, columns=["session", "source", "position", "snapshots", "files"])
    return table, names


def _session_row(
    snaps: _Snapshots,
    cal: SessionCalendar,
    members: dict[int, list[int]],
    s: int,
    position: int | None,
    names: dict[int, str],
) -> dict[str, object]:
    items = members[s]
    return {
        "session": _session_name(cal, s, names),
        "source": SESSION_STAMP if s < INFERRED else SOURCE_FIGURES,
        "position": position,
        "snapshots": len(items),
        "files": [snaps.names[k] for k in items],
    }


# --- in windows of sessions ----------------------------------------------------------------
#
# The history step in windows of sessions: memory bounded by a window, whatever the archive.
#
# Every comparison of the rules is between neighbouring sessions, or within one. So when every
# snapshot has a time stamp (which decides its session), the snapshots are taken in capture order
# a window of whole sessions at a time (about WINDOW_QUOTES quotes), with the sessions right
# before the window (the last one with snapshots that are not stale, and the last one with any)
# and the first live one after it beside it as context. The findings a window keeps are those on
# its own snapshots; what spans the whole archive is carried from window to window:
#
# - stale-snapshot: each earlier figures' sum (the first snapshot with it), in a sorted index;
# - index-missing: how many snapshots show each listed index, counted as the windows pass; the
#   findings found on the way are kept only if the index turns out to be on most snapshots.
#
# Sessions found from the figures alone need the whole archive (any snapshot may join any other):
# an archive with a snapshot that no stamp puts in a session is checked in one piece.

WINDOW_QUOTES = 1 << 20  # quotes of one window (whole sessions: a window may hold more)
# The columns of the quotes the rules read (their figures, and where a finding points).
RULE_COLUMNS = (
    "symbol",
    "kind",
    "price",
    "change",
    "percent",
    "price_decimals",
    "change_decimals",
    "line",
    "column",
    "end_column",
    "price_col",
    "symbol_col",
    "price_text",
)
SUM2 = np.uint64(0x2545F4914F6CDD1D)  # a second, independent sum of a snapshot's figures
PARALLEL = True  # the second half of the windows in a second process, on a machine with two cores
PARALLEL_MIN_WINDOWS = 4  # ... when there are at least this many windows


class QuoteSource(Protocol):
    """Where the quotes of a run are, read a few snapshots at a time."""

    def bind(self, names: list[str]) -> list[str]:
        """Number the snapshots: `names` first, then any other the quotes name; returns them all."""

    def counts(self) -> np.ndarray:
        """The rows of each snapshot (by its number)."""

    def rows(
        self, fids: np.ndarray, columns: tuple[str, ...] = RULE_COLUMNS
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """The rows of these snapshots (sorted numbers), grouped by snapshot and in their order
        within it, with each row's place in `fids`."""

    def frame(self) -> pd.DataFrame:
        """Every quote as one frame with a `file` column (for the archive checked in one piece)."""


class FrameSource:
    """The quotes of a run held in one frame (a run's quote frame)."""

    def __init__(self, quotes: pd.DataFrame) -> None:
        self.quotes = quotes
        self.fid = np.zeros(0, dtype=np.int64)
        self.order: np.ndarray | None = None
        self.begin = np.zeros(0, dtype=np.int64)
        self.end = np.zeros(0, dtype=np.int64)

    def bind(self, names: list[str]) -> list[str]:
        fid, names = _file_codes(self.quotes["file"], names)
        self.fid = fid
        ordered = fid
        if len(fid) > 1 and not bool((fid[1:] >= fid[:-1]).all()):
            self.order = np.argsort(fid, kind="stable")
            ordered = fid[self.order]
        wanted = np.arange(len(names))
        self.begin = np.searchsorted(ordered, wanted, side="left")
        self.end = np.searchsorted(ordered, wanted, side="right")
        return names

    def counts(self) -> np.ndarray:
        return (self.end - self.begin).astype(np.int64)

    def rows(
        self, fids: np.ndarray, columns: tuple[str, ...] = RULE_COLUMNS
    ) -> tuple[pd.DataFrame, np.ndarray]:
        begin, end = self.begin[fids], self.end[fids]
        sizes = end - begin
        at = np.repeat(begin - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
        rows = self.order[at] if self.order is not None else at
        present = [c for c in columns if c in self.quotes.columns]
        frame = self.quotes[present].take(rows).reset_index(drop=True)
        return frame, np.repeat(np.arange(len(fids)), sizes)

    def frame(self) -> pd.DataFrame:
        return self.quotes


def history_of_source(
    source: QuoteSource,
    results: list[FileResult],
    profile: Profile,
    manifest: Manifest | None = None,
    page_texts: Mapping[str, str] | None = None,
    cut_off: set[str] | None = None,
    resolve: Mapping[str, str] | None = None,
    window_quotes: int | None = None,
    stamps: Callable[[], StampColumns] | None = None,
) -> HistoryResult:
    """The history step over the quotes of `source` (see history_findings), a window at a time
    when every snapshot is stamped into a session and the archive is larger than one window.
    `stamps`, instead of a manifest: a function giving the stamps of the snapshots once the
    source has numbered them (the stamps a ledger recorded, as arrays)."""
    window_quotes = WINDOW_QUOTES if window_quotes is None else window_quotes
    names = source.bind([r.path for r in results])
    known = stamps() if stamps is not None else None
    setup = _setup(names, profile, manifest, page_texts, resolve, known)
    counts = source.counts()
    snaps = _new_snapshots(setup, np.zeros(len(names), dtype=np.int64))
    if int(counts.sum()) <= window_quotes or bool((snaps.session < 0).any()):
        codes = source.fid if isinstance(source, FrameSource) else None
        return _whole(source.frame(), setup, profile, cut_off, codes, snaps)
    return _Windows(source, setup, snaps, counts, profile, cut_off or set(), window_quotes).run()


@dataclass
class _Firsts:
    """The first snapshot (earliest session, then input order) of each figures' sum seen so far,
    sorted by sum then count."""

    sums: np.ndarray
    counts: np.ndarray
    fids: np.ndarray
    sessions: np.ndarray

    def find(self, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The first snapshot of each (sum, count), -1 where none is known."""
        out = np.full(len(sums), -1, dtype=np.int64)
        lo = np.searchsorted(self.sums, sums, side="left")
        hi = np.searchsorted(self.sums, sums, side="right")
        for i in np.flatnonzero(hi > lo).tolist():
            for at in range(int(lo[i]), int(hi[i])):
                if self.counts[at] == counts[i]:
                    out[i] = self.fids[at]
                    break
        return out

    def add(self, sums: np.ndarray, counts: np.ndarray, fids: np.ndarray, sessions: np.ndarray) -> None:
        order = np.lexsort((counts, sums))
        sums, counts, fids, sessions = sums[order], counts[order], fids[order], sessions[order]
        at = np.searchsorted(self.sums, sums, side="left")
        self.sums = np.insert(self.sums, at, sums)
        self.counts = np.insert(self.counts, at, counts)
        self.fids = np.insert(self.fids, at, fids)
        self.sessions = np.insert(self.sessions, at, sessions)


def _can_fork() -> bool:
    """Whether the windows may be split between two processes (a fork, and two cores for us)."""
    if not PARALLEL or not hasattr(os, "fork"):
        return False
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) >= 2


def _split_at(windows: list[tuple[int, int]], group_rows: np.ndarray) -> int:
    """The window the second half starts at (half the quotes on each side); 0: no split."""
    if len(windows) < PARALLEL_MIN_WINDOWS:
        return 0
    sizes = np.array([int(group_rows[g:stop].sum()) for g, stop in windows], dtype=np.int64)
    at = int(np.searchsorted(np.cumsum(sizes), sizes.sum() / 2))
    return min(max(at, 1), len(windows) - 1)


def _stop(pid: int) -> None:
    """End and reap the child this process started."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


def _sums(q: _Quotes, values: np.ndarray) -> np.ndarray:
    """Each snapshot's sum of `values` (wrapping), by its rows q.starts:q.ends."""
    cum = np.cumsum(values, dtype=np.uint64)
    total = np.where(q.ends > 0, cum[np.maximum(q.ends - 1, 0)], np.uint64(0)).astype(np.uint64)
    before = np.where(q.starts > 0, cum[np.maximum(q.starts - 1, 0)], np.uint64(0)).astype(np.uint64)
    return total - before


class _Windows:
    """The history step a window of sessions at a time (see the module's text)."""

    def __init__(
        self,
        source: QuoteSource,
        setup: object,
        snaps: _Snapshots,
        counts: np.ndarray,
        profile: Profile,
        cut_off: set[str],
        window_quotes: int,
    ) -> None:
        self.source, self.setup, self.snaps, self.counts = source, setup, snaps, counts
        self.profile, self.cut_off, self.window_quotes = profile, cut_off, window_quotes
        self.cal = setup.cal  # type: ignore[attr-defined]
        self.chaining = setup.settings.chaining_indices  # type: ignore[attr-defined]
        self.firsts = _Firsts(
            np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        )
        self.sum2 = np.zeros(len(snaps.names), dtype=np.uint64)
        self.rows: list[dict[str, object]] = []
        self.closes: list[tuple[str, str, str, bool]] = []
        self.missing: list[tuple[str, int, dict[str, object]]] = []  # index, snapshot, finding
        self.present: Counter[str] = Counter()
        self.n_live = 0
        self.listed = frozenset(profile.index_symbols)
        self.candidates: list[tuple[np.ndarray, np.ndarray]] | None = None  # (the child's sums)
        self.mode = "one process"

    def run(self) -> HistoryResult:
        snaps = self.snaps
        order = _capture_order(snaps)
        session = snaps.session[order]
        cuts = np.flatnonzero(session[1:] != session[:-1]) + 1
        self.group_start = np.concatenate([[0], cuts]).astype(np.int64)
        self.group_end = np.concatenate([cuts, [len(order)]]).astype(np.int64)
        self.order = order
        n_groups = len(self.group_start)
        group_rows = np.add.reduceat(self.counts[order], self.group_start) if len(order) else np.zeros(0)
        members_group = -1  # the last group before the window with a snapshot that is not stale
        live_group = -1  # the last group before the window with any snapshot that has quotes
        windows: list[tuple[int, int]] = []
        g = 0
        while g < n_groups:
            stop = g + 1
            total = int(group_rows[g])
            while stop < n_groups and total + int(group_rows[stop]) <= self.window_quotes:
                total += int(group_rows[stop])
                stop += 1
            windows.append((g, stop))
            g = stop
        self.windows, self.n_groups = windows, n_groups
        split = _split_at(windows, group_rows) if _can_fork() else 0
        child = self._fork(split) if split else None
        if child is None:  # no second process (none wanted, or the fork was refused): one runs all
            split = 0
        context = (members_group, live_group)
        try:
            context = self._run_windows(0, split or len(windows), context)
            if child is not None:
                done = self._join(child, context)
                child = None
                self.mode = "two processes" if done else "two processes, the second half run again"
                if not done:  # the second half depends on the first after all: run it here
                    self._run_windows(split, len(windows), context)
        finally:
            if child is not None:
                _stop(child[0])
        findings = self._findings()
        problems = self.setup.problems  # type: ignore[attr-defined]
        return _result(snaps, self.cal, {}, findings, problems, self.closes)

    def _run_windows(self, first: int, stop: int, context: tuple[int, int]) -> tuple[int, int]:
        """Windows first..stop-1 in order, from the context before the first (the last group
        with a snapshot that is not stale, the last with any); returns the context after them."""
        windows, prefetch = self.windows, getattr(self.source, "prefetch", None)
        members_group, live_group = context
        for at in range(first, stop):
            g, end = windows[at]
            if prefetch is not None and at + 1 < stop:
                nxt = windows[at + 1]
                prefetch(np.sort(np.concatenate([self._group(x) for x in range(*nxt)])))
            before = sorted({x for x in (members_group, live_group) if x >= 0})
            members_group, live_group = self._window(before, g, end, self.n_groups, members_group, live_group)
        return members_group, live_group

    # --- two processes: the second half of the windows in a child ---------------------------
    #
    # The windows are independent but for what the rules carry across the archive: the child
    # runs the window before its half first (its findings dropped) to learn the context its
    # first window needs, and says which figures' sums its snapshots have. Its work is taken only
    # if that context is the one the first half ends with and no snapshot of its half repeats
    # the figures of one of the first half; else the parent runs the second half itself. Either
    # way the findings are those of one process going through every window in order.

    def _fork(self, split: int) -> tuple[int, int] | None:
        """Start the child on windows split..end; (its pid, the pipe its result comes on)."""
        if hasattr(self.source, "settle"):
            self.source.settle()  # no thread of ours is reading a ledger while we fork
        if threading.active_count() > 1:
            return None  # another thread may hold a lock the child would need: no fork
        try:
            read, write = os.pipe()
            pid = os.fork()
        except OSError:
            return None
        if pid:
            os.close(write)
            return pid, read
        code = 1
        try:  # the child: never back into the caller's code, whatever happens
            os.close(read)
            with os.fdopen(write, "wb") as stream:
                pickle.dump(self._second_half(split), stream, protocol=pickle.HIGHEST_PROTOCOL)
            code = 0
        except BaseException:  # the parent runs the second half itself
            code = 1
        finally:
            os._exit(code)

    def _second_half(self, split: int) -> dict[str, object]:
        snaps = self.snaps
        context = self._run_windows(split - 1, split, (-1, -1))
        context_groups = [x for x in context if x >= 0]
        context_stale = [snaps.stale[self._group(x)].copy() for x in context_groups]
        self.rows, self.missing, self.present, self.n_live = [], [], Counter(), 0
        self.closes = []
        self.candidates = []
        self._run_windows(split, len(self.windows), context)
        g0 = self.windows[split][0]
        own = self.order[self.group_start[g0] :]
        return {
            "context": context,
            "context_stale": context_stale,
            "candidates": self.candidates,
            "rows": self.rows,
            "closes": self.closes,
            "missing": self.missing,
            "present": self.present,
            "n_live": self.n_live,
            "own": own,
            "quotes": snaps.quotes[own],
            "stale": snaps.stale[own],
        }

    def _join(self, child: tuple[int, int], context: tuple[int, int]) -> bool:
        """Take the child's result if it is what this process would have found; False if not."""
        pid, read = child
        try:
            with os.fdopen(read, "rb") as stream:
                data = stream.read()
        finally:
            _, status = os.waitpid(pid, 0)
        if status != 0 or not data:
            return False
        result = pickle.loads(data)
        if tuple(result["context"]) != tuple(context):
            return False
        for group, stale in zip([x for x in context if x >= 0], result["context_stale"], strict=True):
            if not np.array_equal(self.snaps.stale[self._group(group)], stale):
                return False
        for sums, counts in result["candidates"]:
            if (self.firsts.find(sums, counts) >= 0).any():
                return False  # a page of the second half repeats one of the first
        own = result["own"]
        self.snaps.quotes[own] = result["quotes"]
        self.snaps.stale[own] = result["stale"]
        self.rows.extend(result["rows"])
        self.closes.extend(result["closes"])
        self.missing.extend(result["missing"])
        self.present.update(result["present"])
        self.n_live += int(result["n_live"])
        return True

    def _group(self, g: int) -> np.ndarray:
        return self.order[self.group_start[g] : self.group_end[g]]

    def _window(
        self, before: list[int], g0: int, g1: int, n_groups: int, members_group: int, live_group: int
    ) -> tuple[int, int]:
        snaps = self.snaps
        core = np.concatenate([self._group(g) for g in range(g0, g1)])
        # after the window: its next session, and on until one with quotes (the next neighbour)
        after = [g1] if g1 < n_groups else []
        while True:
            groups = [*before, *range(g0, g1), *after]
            fids = np.sort(np.concatenate([self._group(g) for g in groups]))
            frame, local = self.source.rows(fids)
            names = [snaps.names[k] for k in fids.tolist()]
            q, _ = _prepare(frame, names, self.profile, fid=local, by_text=True)
            quotes = (q.ends - q.starts).astype(np.int64)
            if not after:
                break
            tail = np.isin(fids, np.concatenate([self._group(g) for g in after]))
            if (quotes[tail] > 0).any() or after[-1] + 1 >= n_groups:
                break
            after.append(after[-1] + 1)
        own = np.isin(fids, core)
        local_snaps = _Snapshots(
            names=names,
            stamps=(
                snaps.stamps.take(fids)
                if isinstance(snaps.stamps, StampColumns)
                else [snaps.stamps[k] for k in fids.tolist()]
            ),
            day=snaps.day[fids],
            seconds=snaps.seconds[fids],
            session=snaps.session[fids],
            session_source=[snaps.session_source[k] for k in fids.tolist()],
            closing=snaps.closing[fids],
            closed_day=snaps.closed_day[fids],
            uncertain=snaps.uncertain[fids],
            stale=snaps.stale[fids] & ~own,
            quotes=quotes,
        )
        f = _Findings(q, frame, local_snaps)
        f.keep = own
        cal = self.cal
        self._stale(q, local_snaps, f, fids, own)
        members = _session_members(local_snaps)
        core_sessions = set(np.unique(snaps.session[core]).tolist())
        pairs = [p for p in _consecutive_pairs(local_snaps, cal, members, {}) if p[1] in core_sessions]
        _breaks(q, local_snaps, f, cal, members, pairs, self.chaining)
        _same_session(q, local_snaps, f, cal)
        _closed_days(q, local_snaps, f, cal, members)
        _stale_blocks(q, local_snaps, f, cal, members)
        self._missing(q, local_snaps, f, fids, own)
        _symbols_changed(q, local_snaps, f, cal, members, pairs)
        snaps.quotes[fids[own]] = quotes[own]
        snaps.stale[fids[own]] = local_snaps.stale[own]
        self.rows.extend(f.rows)
        self.closes.extend(f.closes)
        for g in range(g0, g1):
            group = self._group(g)
            live = snaps.quotes[group] > 0
            if live.any():
                live_group = g
            if (live & ~snaps.stale[group]).any():
                members_group = g
        return members_group, live_group

    def _stale(self, q: _Quotes, snaps: _Snapshots, f: _Findings, fids: np.ndarray, own: np.ndarray) -> None:
        """stale-snapshot (as engine._stale_snapshots, with the firsts of earlier windows)."""
        sums = _sums(q, q.figures)
        with np.errstate(over="ignore"):
            second = _sums(q, _mix(q.figures ^ SUM2))
        self.sum2[fids[own]] = second[own]
        counts = snaps.quotes
        stamped = (snaps.session >= 0) & (snaps.session < INFERRED) & (counts > 0) & own
        candidates = np.flatnonzero(stamped)
        if not len(candidates):
            return
        known = self.firsts.find(sums[candidates], counts[candidates])
        if self.candidates is not None:
            self.candidates.append((sums[candidates], counts[candidates]))
        # The first of each new sum: the earliest session, then the first snapshot (in input order).
        new = candidates[known < 0]
        local_first = np.full(len(snaps.names), -1, dtype=np.int64)
        if len(new):
            order = np.lexsort((new, snaps.session[new], counts[new], sums[new]))
            ordered = new[order]
            head = np.ones(len(ordered), dtype=bool)
            head[1:] = (sums[ordered][1:] != sums[ordered][:-1]) | (
                counts[ordered][1:] != counts[ordered][:-1]
            )
            group = np.cumsum(head) - 1
            local_first[ordered] = ordered[np.flatnonzero(head)][group]
            heads = ordered[head]
            self.firsts.add(sums[heads], counts[heads], fids[heads], snaps.session[heads])
        g_session = self.snaps.session
        late: list[tuple[int, int]] = []  # (local k, global first)
        for k, first in zip(candidates.tolist(), known.tolist(), strict=True):
            if first >= 0:
                if g_session[fids[k]] > g_session[first]:
                    late.append((k, first))
            else:
                lf = int(local_first[k])
                if snaps.session[k] > snaps.session[lf]:
                    late.append((k, int(fids[lf])))
        if not late:
            return
        position = {int(g): i for i, g in enumerate(fids.tolist())}
        far = sorted({first for _, first in late if first not in position})
        far_lines: dict[int, object] = {}
        if far:
            far_fids = np.array(far, dtype=np.int64)
            frame, local = self.source.rows(far_fids)
            fq, _ = _prepare(frame, [self.snaps.names[g] for g in far], self.profile, fid=local, by_text=True)
            ff = _Findings(fq, frame, snaps)
            for i, g in enumerate(far):
                far_lines[g] = ff.cell("line", _first_rows(fq, ff, i))
        for k, first in late:
            g = int(fids[k])
            if first in position:
                earlier = position[first]
                a_rows = np.arange(q.starts[earlier], q.ends[earlier])
                b_rows = np.arange(q.starts[k], q.ends[k])
                a_rows, b_rows = a_rows[np.argsort(q.sid[a_rows])], b_rows[np.argsort(q.sid[b_rows])]
                same = len(a_rows) == len(b_rows) and np.array_equal(q.sid[a_rows], q.sid[b_rows])
                same = same and bool(np.array_equal(q.figures[a_rows], q.figures[b_rows]))
                line = f.cell("line", _first_rows(q, f, earlier))
            else:
                same = bool(self.sum2[first] == second[k])
                line = far_lines[first]
            if not same or self.snaps.uncertain[g] or self.snaps.uncertain[first]:
                continue
            snaps.stale[k] = True
            row = _first_rows(q, f, k)
            session_k = _session_label(self.cal, int(snaps.session[k]), snaps, k)
            session_e = _session_label(self.cal, int(g_session[first]), self.snaps, first)
            where = f"{self.snaps.names[first]}:{line}"
            _add_stale(f, row, session_k, session_e, where)

    def _missing(
        self, q: _Quotes, snaps: _Snapshots, f: _Findings, fids: np.ndarray, own: np.ndarray
    ) -> None:
        """index-missing (as engine._missing_indices), its findings kept until the counts of the
        whole archive say which indices most snapshots show."""
        listed = np.isin(q.symbols, sorted(self.listed))
        live = snaps.quotes > 0
        self.n_live += int((live & own).sum())
        rows = np.flatnonzero(listed[q.sid])
        shown_own = rows[own[q.fid[rows]]]
        for sid, count in enumerate(np.bincount(q.sid[shown_own], minlength=q.n_symbols).tolist()):
            if count:
                self.present[str(q.symbols[sid])] += count
        shown_by = np.bincount(q.sid[rows], minlength=q.n_symbols)
        sids = np.flatnonzero(listed & (shown_by > 0)).tolist()
        for sid, k, shown in _index_gaps(q, snaps, rows, sids, own, self.cut_off):
            before = len(f.rows)
            _add_index_missing(q, snaps, f, sid, k, shown)
            if len(f.rows) > before:
                self.missing.append((str(q.symbols[sid]), int(fids[k]), f.rows.pop()))

    def _findings(self) -> pd.DataFrame:
        rows = self.rows
        if self.n_live >= 3:
            rows = rows + [
                finding for name, _, finding in self.missing if self.present[name] * 2 > (self.n_live - 1)
            ]
        if not rows:
            return empty_findings()
        return combine([normalize(pd.DataFrame.from_records(rows))])
