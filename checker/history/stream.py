"""The history step in windows of sessions: memory bounded by a window, whatever the archive.

Every comparison of the rules is between neighbouring sessions, or within one. So when every
snapshot has a time stamp (which decides its session), the snapshots are taken in capture order
a window of whole sessions at a time (about WINDOW_QUOTES quotes), with the sessions right
before the window (the last one with snapshots that are not stale, and the last one with any)
and the first live one after it beside it as context. The findings a window keeps are those on
its own snapshots; what spans the whole archive is carried from window to window:

- stale-snapshot: each earlier figures' sum (the first snapshot with it), in a sorted index;
- index-missing: how many snapshots show each listed index, counted as the windows pass; the
  findings found on the way are kept only if the index turns out to be on most snapshots.

Sessions found from the figures alone need the whole archive (any snapshot may join any other):
an archive with a snapshot that no stamp puts in a session is checked in one piece.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from checker.findings import combine, empty_findings, normalize
from checker.history.engine import (
    INFERRED,
    HistoryResult,
    _breaks,
    _capture_order,
    _chain_stats,
    _closed_days,
    _consecutive_pairs,
    _file_codes,
    _Findings,
    _first_rows,
    _mix,
    _new_snapshots,
    _prepare,
    _Quotes,
    _result,
    _same_session,
    _session_label,
    _session_members,
    _setup,
    _Snapshots,
    _stale_blocks,
    _symbols_changed,
    _whole,
)
from checker.history.times import Manifest
from checker.profile import Profile
from checker.report import FileResult
from checker.rules import history as codes

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
) -> HistoryResult:
    """The history step over the quotes of `source` (see history_findings), a window at a time
    when every snapshot is stamped into a session and the archive is larger than one window."""
    window_quotes = WINDOW_QUOTES if window_quotes is None else window_quotes
    names = source.bind([r.path for r in results])
    setup = _setup(names, profile, manifest, page_texts, resolve)
    counts = source.counts()
    snaps = _new_snapshots(setup, np.zeros(len(names), dtype=np.int64))
    if int(counts.sum()) <= window_quotes or bool((snaps.session < 0).any()):
        return _whole(source.frame(), setup, profile, cut_off)
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
        self.missing: list[tuple[str, int, dict[str, object]]] = []  # index, snapshot, finding
        self.present: Counter[str] = Counter()
        self.n_live = 0
        self.listed = frozenset(profile.index_symbols)

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
        prefetch = getattr(self.source, "prefetch", None)
        for at, (g, stop) in enumerate(windows):
            if prefetch is not None and at + 1 < len(windows):
                nxt = windows[at + 1]
                prefetch(np.sort(np.concatenate([self._group(x) for x in range(*nxt)])))
            before = sorted({x for x in (members_group, live_group) if x >= 0})
            members_group, live_group = self._window(before, g, stop, n_groups, members_group, live_group)
        findings = self._findings()
        return _result(snaps, self.cal, {}, findings, self.setup.problems)  # type: ignore[attr-defined]

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
            q, _ = _prepare(frame, names, self.profile, fid=local)
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
            stamps=[snaps.stamps[k] for k in fids.tolist()],
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
            fq, _ = _prepare(frame, [self.snaps.names[g] for g in far], self.profile, fid=local)
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
        order = _capture_order(snaps)
        ordered = order[live[order]]
        place = np.full(len(snaps.names), -1)
        place[ordered] = np.arange(len(ordered))
        stock_count = np.bincount(q.fid[~q.index], minlength=len(snaps.names))
        shown_by = np.bincount(q.sid[rows], minlength=q.n_symbols)
        for sid in np.flatnonzero(listed & (shown_by > 0)).tolist():
            have = np.zeros(len(snaps.names), dtype=bool)
            have[q.fid[rows[q.sid[rows] == sid]]] = True
            for k in np.flatnonzero(own & live & ~have & (stock_count > 0)).tolist():
                if snaps.names[k] in self.cut_off or snaps.uncertain[k]:
                    continue
                i = int(place[k])
                neighbours = [int(ordered[j]) for j in (i - 1, i + 1) if 0 <= j < len(ordered)]
                if not any(have[m] for m in neighbours):
                    continue
                a = np.full(len(neighbours), k)
                common, _ = _chain_stats(q, a, np.array(neighbours), "same")
                if not all(int(c) == int(stock_count[m]) for c, m in zip(common, neighbours, strict=True)):
                    continue
                shown = next(m for m in neighbours if have[m])
                shown_row = int(q.find(np.array([shown]), np.array([sid]))[0])
                before = len(f.rows)
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
                if len(f.rows) > before:
                    self.missing.append((name, int(fids[k]), f.rows.pop()))

    def _findings(self) -> pd.DataFrame:
        rows = self.rows
        if self.n_live >= 3:
            rows = rows + [
                finding for name, _, finding in self.missing if self.present[name] * 2 > (self.n_live - 1)
            ]
        if not rows:
            return empty_findings()
        return combine([normalize(pd.DataFrame.from_records(rows))])
