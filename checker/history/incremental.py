"""`quotecheck history`: the rules across snapshots over quote ledgers, incrementally.

The state (JSON) holds the snapshots of the last session that passed: per symbol its figures
and where they stand (file, line, columns), with the capture time of their page. A run adds those
snapshots before its own, so its first session is compared with the state's as if both were in
one run; their findings are not reported again. The state then moves to the latest session of
the run such that it and every session before it in the run drew no history error (after the
policy and the baseline): a bad day is never the one later days are compared with.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from checker.findings import combine, empty_findings, finding, from_records, severity_counts
from checker.history.engine import HistoryResult, history_of_source
from checker.history.ledger import HISTORY_COLUMNS
from checker.history.times import SOURCE_NONE, Manifest, Stamp
from checker.profile import load_profile
from checker.report import FileResult, Options, Report
from checker.rules.registry import all_rules
from checker.userfiles import UserFileError, read_user_bytes

STATE_VERSION = 1
MAX_STATE_BYTES = 1 << 28
STATE_QUOTE_COLUMNS = tuple(c for c in HISTORY_COLUMNS if c not in ("captured_at_text", "time_source"))


class StateError(ValueError):
    """A state file that cannot be read or written (names the file and why)."""


@dataclass
class State:
    """Where the history of the ledgers stands: the last session that passed, and its snapshots."""

    session: str | None = None
    last_seen: str | None = None
    profile: str | None = None
    snapshots: list[dict[str, Any]] = field(default_factory=list)  # file, captured_at, source, quotes

    def as_dict(self) -> dict[str, Any]:
        return {
            "state_version": STATE_VERSION,
            "profile": self.profile,
            "session": self.session,
            "last_seen": self.last_seen,
            "snapshots": self.snapshots,
        }


def read_state(path: str) -> State:
    """The state at `path` (a missing file: an empty state)."""
    if not os.path.exists(path):  # (a link to nothing too, as an open would find)
        return State()
    try:  # a regular file only, opened without blocking (a FIFO or a device is refused)
        data = read_user_bytes(path, "history state", MAX_STATE_BYTES)
    except UserFileError as error:
        raise StateError(str(error)) from None
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict) or raw.get("state_version") != STATE_VERSION:
            raise ValueError("not a quotecheck history state")
        snapshots = raw.get("snapshots") or []
        if not isinstance(snapshots, list):
            raise ValueError("`snapshots` is not a list")
        for snap in snapshots:
            if not isinstance(snap, dict) or not isinstance(snap.get("file"), str):
                raise ValueError("a snapshot without a file")
            if not isinstance(snap.get("quotes"), list):
                raise ValueError("a snapshot without quotes")
        session, seen = raw.get("session"), raw.get("last_seen")
        if not all(v is None or isinstance(v, str) for v in (session, seen, raw.get("profile"))):
            raise ValueError("`session`, `last_seen` and `profile` must be text")
        return State(session, seen, raw.get("profile"), snapshots)
    except (ValueError, UnicodeDecodeError) as error:
        raise StateError(f"{path}: not a usable state ({str(error)[:200]})") from None


def write_state(state: State, path: str) -> None:
    """Write the state atomically: a temporary file beside it, then renamed over it."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temp = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(state.as_dict(), stream, ensure_ascii=False, sort_keys=True, indent=1)
            stream.write("\n")
        os.replace(temp, path)
    except OSError as error:
        raise StateError(f"{path}: cannot write the state ({error.strerror or error})") from None
    finally:
        if "temp" in locals() and os.path.lexists(temp):
            os.unlink(temp)


class _KnownStamps(Manifest):
    """The capture times the ledger recorded, by file name."""

    def __init__(self, stamps: dict[str, Stamp]) -> None:
        super().__init__("<ledger>", PurePath("."))
        self.stamps = stamps

    def match(self, inputs: Iterable[str], resolve: Any = None) -> dict[str, Stamp]:
        return {name: self.stamps[name] for name in inputs if name in self.stamps}


_DAYS: dict[str, dt.date | None] = {}  # a ledger has many pages a day: each day parsed once
_TIMES: dict[str, dt.time] = {}


def _fast_stamp(text: str, source: str) -> Stamp | bool | None:
    """_stamp for `YYYY-MM-DD` and `YYYY-MM-DDTHH:MM[:SS]` (what a ledger writes); False for
    any other text."""
    if len(text) not in (10, 16, 19) or (len(text) > 10 and text[10] != "T"):
        return False
    head = text[:10]
    if head not in _DAYS:
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        try:
            _DAYS[head] = dt.date.fromisoformat(head) if head[4] == "-" and head[7] == "-" else None
        except ValueError:
            _DAYS[head] = None
    day = _DAYS[head]
    if day is None:
        return False
    if len(text) == 10:
        return Stamp(day, None, source)
    tail = text[11:]
    time = _TIMES.get(tail)
    if time is None:
        digits = tail.replace(":", "")
        if (
            tail[2] != ":"
            or (len(tail) == 8 and tail[5] != ":")
            or not digits.isascii()
            or not digits.isdigit()
        ):
            return False
        try:
            time = dt.time(int(tail[0:2]), int(tail[3:5]), int(tail[6:8]) if len(tail) == 8 else 0)
        except ValueError:
            return False
        _TIMES[tail] = time
    return Stamp(day, time, source)


def _stamp(text: Any, source: Any) -> Stamp | None:
    if not isinstance(text, str) or not text:
        return None
    fast = _fast_stamp(text, str(source or SOURCE_NONE))
    if fast is not False:
        return fast  # type: ignore[return-value]
    try:
        if "T" in text:
            moment = dt.datetime.fromisoformat(text)
            return Stamp(moment.date(), moment.time().replace(tzinfo=None), str(source or SOURCE_NONE))
        return Stamp(dt.date.fromisoformat(text), None, str(source or SOURCE_NONE))
    except ValueError:
        return None


def _state_frame(state: State, skip: set[str]) -> pd.DataFrame:
    """The state's snapshots as ledger rows (those of files this run holds itself are left out)."""
    rows: list[dict[str, Any]] = []
    for snap in state.snapshots:
        if snap["file"] in skip:
            continue
        for quote in snap["quotes"]:
            if not isinstance(quote, dict):
                continue
            row = {c: quote.get(c) for c in STATE_QUOTE_COLUMNS}
            row["file"] = snap["file"]
            row["captured_at_text"] = snap.get("captured_at")
            row["time_source"] = snap.get("time_source")
            row["page_cut_off"] = bool(snap.get("cut_off"))
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    for name in ("price", "change", "percent"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
    for name in ("line", "column", "end_column", "symbol_col", "price_col"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").fillna(0).astype(np.int64)
    for name in ("price_decimals", "change_decimals", "percent_decimals"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").fillna(0).astype(np.int64)
    for name in ("file", "symbol", "kind", "price_text", "change_text", "percent_text"):
        frame[name] = frame[name].astype(object).where(frame[name].map(lambda v: isinstance(v, str)), None)
    return frame


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class LedgerRun:
    report: Report
    result: HistoryResult
    state: State


def history_of_ledgers(quotes: pd.DataFrame, options: Options, state: State | None = None) -> LedgerRun:
    """The history rules over ledger rows (checker.history.ledger.read_ledgers), after the
    state's snapshots; returns the report (the findings on this run's pages), the engine's
    result and the state moved past the sessions that passed."""
    from checker.history.sources import LedgerSource

    state = state or State()
    rows = quotes[list(HISTORY_COLUMNS)]
    own = LedgerSource(frames=[rows]).page_names()
    return _history(LedgerSource(frames=[_state_frame(state, set(own)), rows]), options, state)


def history_of_ledger_files(paths: list[str], options: Options, state: State | None = None) -> LedgerRun:
    """history_of_ledgers over ledger files, read a window of sessions at a time (memory bounded
    by the window when every page has a time stamp); raises LedgerError naming a file that is
    not a ledger."""
    from checker.history.ledger import LedgerError
    from checker.history.sources import LedgerSource

    if not paths:
        raise LedgerError("no ledger named")
    state = state or State()
    ledgers = LedgerSource(paths=paths)
    before = _state_frame(state, set(ledgers.page_names()))
    source = LedgerSource(frames=[before], paths=paths) if len(before) else ledgers
    return _history(source, options, state)


def _history(source: Any, options: Options, state: State) -> LedgerRun:
    """The history rules over a LedgerSource whose first piece is the state's snapshots."""
    names = source.page_names()
    state_files = {snap["file"] for snap in state.snapshots}
    first_piece = source.pieces[0] if source.pieces else None
    if first_piece is not None and first_piece.frame is not None and len(first_piece.frame):
        in_state = {str(f) for f in first_piece.frame["file"].tolist()} & state_files
    else:
        in_state = set()
    if in_state:
        state_names = [n for n in names if n in in_state]
        own_names = [n for n in names if n not in in_state]
        order = [*state_names, *own_names]
    else:
        state_names, own_names, order = [], names, names
    own = set(own_names)
    cut_off = source.cut_off()
    if hasattr(source, "page_count_array"):
        per_page = source.page_count_array().tolist()
        if order is not names:
            position = source.ids
            per_page = [per_page[position[n]] for n in order]
        # (one dict of zero counts for all: a page's counts are replaced, never changed in place)
        zero = {"error": 0, "warning": 0, "info": 0}
        results = [FileResult(path=n, quotes=c, counts=zero) for n, c in zip(order, per_page, strict=True)]
        known: dict[str, Any] = {"stamps": lambda: source.stamp_columns(_stamp)}
    else:
        counts = source.page_counts()
        results = [FileResult(path=n, quotes=int(counts.get(n, 0))) for n in order]
        stamps = {name: s for name, text, src in source.stamp_texts() if (s := _stamp(text, src)) is not None}
        known = {"manifest": _KnownStamps(stamps)}
    profile = load_profile(options.profile)
    try:
        result = history_of_source(source, results, profile, cut_off=cut_off, **known)
    except Exception as error:  # the last resort: a finding, never a traceback
        result = failed_history(error, own)
    report = ledger_report(result, results, own, state_names, options)
    return LedgerRun(report, result, _advance(state, source, result, report, own, options.profile))


def failed_history(error: Exception, own: set[str]) -> HistoryResult:
    """The history step's result when it failed: one QC904 finding on `<history>` (added to `own`)."""
    message = f"the checks across snapshots failed: {type(error).__name__}: {error}"[:500]
    own.add("<history>")
    failed = from_records([finding("QC904", "<history>", message)])
    return HistoryResult(failed, pd.DataFrame(columns=["file"]), pd.DataFrame(), "", [])


def ledger_report(
    result: HistoryResult, results: list[FileResult], own: set[str], state_names: list[str], options: Options
) -> Report:
    """The report of a history run over ledgers: the findings on the run's own pages (the policy
    and the baseline applied), each page's counts, and the snapshot table without the state's pages."""
    findings = result.findings
    if len(findings):  # (few findings, many pages: each finding looked up, not the pages listed)
        mine = np.array([f in own for f in findings["file"].tolist()], dtype=bool)
        findings = findings[mine].reset_index(drop=True)
    findings = options.policy.apply(findings) if len(findings) else empty_findings()
    report = Report(
        options=options,
        rules=[r for r in options.policy.enabled_rules() if r.code.startswith("QC6")],
        catalogue=all_rules(),
        files=[r for r in results if r.path in own],
    )
    if options.baseline is not None and len(findings):
        findings, report.baseline_suppressed = options.baseline.suppress(findings)
    report.findings = combine([findings]) if len(findings) else empty_findings()
    if len(report.findings):  # findings are few: grouped once, not looked up per file
        by_file = {str(k): severity_counts(g) for k, g in report.findings.groupby("file", sort=False)}
        for entry in report.files:
            if entry.path in by_file:
                entry.counts = by_file[entry.path]
    snapshots = result.snapshots
    if state_names and len(snapshots):
        snapshots = snapshots[~snapshots["file"].isin(state_names)].reset_index(drop=True)
    report.snapshots = snapshots
    return report


def _advance(
    state: State, rows_of: Any, result: HistoryResult, report: Report, own: set[str], profile: str
) -> State:
    """The state moved to the last session of the run before its first with a history error;
    `rows_of` holds the run's rows: a frame of them, or a LedgerSource."""
    sessions = result.sessions
    bad_files: set[str] = set()
    if len(report.findings):
        errors = report.findings[report.findings["severity"].astype(str) == "error"]
        bad_files = set(errors["file"].astype(str))
    seen = [state.last_seen] if state.last_seen else []
    chosen: tuple[str, list[str]] | None = None
    if len(sessions):
        ordered = sessions[sessions["position"].notna()].sort_values("position", kind="stable")
        for label, files in zip(ordered["session"].tolist(), ordered["files"].tolist(), strict=True):
            files = [f for f in files if f in own]
            if not files:
                continue  # the state's own session
            if _is_date(label):
                seen.append(label)
            if state.session and _is_date(label) and _is_date(state.session) and label <= state.session:
                continue  # an older session than the state's: never moves it back
            if bad_files.intersection(files):
                break
            chosen = (label, files)
    new = State(state.session, max(seen) if seen else None, profile, state.snapshots)
    if chosen is None:
        return new
    label, files = chosen
    every_snapshot = result.snapshots
    table = every_snapshot[every_snapshot["file"].isin(files).to_numpy(dtype=bool)].set_index("file")
    snaps = []
    position: Mapping[str, int]
    if isinstance(rows_of, pd.DataFrame):  # the rows themselves (what the Dask engine gathers)
        every, place, wanted = rows_of, None, np.zeros(0, dtype=np.int64)
        position = {}
    else:  # a LedgerSource: the chosen pages' rows, read at once
        names = rows_of.page_names()
        rows_of.bind(names)
        position = rows_of.ids  # each page's number, as bound
        wanted = np.array(sorted({position[name] for name in files}), dtype=np.int64)
        every, place = rows_of.rows(wanted, STATE_QUOTE_COLUMNS)
    for name in files:
        if place is None:
            rows = every[every["file"] == name]
        else:
            rows = every[place == int(np.searchsorted(wanted, position[name]))]
        quotes = [
            {c: _plain(v) for c, v in zip(STATE_QUOTE_COLUMNS, values, strict=True) if c != "file"}
            for values in rows[list(STATE_QUOTE_COLUMNS)].itertuples(index=False, name=None)
        ]
        at = table["captured_at"].get(name) if name in table.index else None
        source = table["time_source"].get(name) if name in table.index else SOURCE_NONE
        snaps.append(
            {
                "file": name,
                "captured_at": at if isinstance(at, str) else None,
                "time_source": str(source),
                "cut_off": bool(rows["page_cut_off"].astype(bool).any()),
                "quotes": quotes,
            }
        )
    new.session, new.snapshots = label, snaps
    return new


def _is_date(label: Any) -> bool:
    if not isinstance(label, str):
        return False
    try:
        dt.date.fromisoformat(label)
    except ValueError:
        return False
    return True
