"""The history step over time-ordered partitions of an archive, merged as a tree.

A partition is a run of snapshots that follow one another in capture order (by session, then
capture day and time, then input order). Each one is summarised where it lies (a worker of a
cluster): the findings of the sessions it holds whole, with their session before them, and the
snapshots at its two ends (its first two sessions and its last two, or its first and last two
pages when those reach further). Two neighbouring summaries merge into one: A's findings, B's
findings, and those of the sessions around the boundary, found from A's last sessions and B's
first. The merge is associative, so the summaries reduce as a tree; what a summary carries is
bounded by the snapshots of four sessions, whatever the partition's size.

The findings are those `history_findings` gives over the whole archive. They are found by that
same function, run over windows of consecutive sessions: every rule but two compares a session
with itself and the session before it (previous-close-break, capture-order and symbols-changed
over consecutive sessions; session-previous-close-disagrees, closed-day-figures and stale-block
within a session). The other two look further, and are found from a little per snapshot that
every partition reports first (`partition_facts`):

- stale-snapshot compares a snapshot with the earliest one of any earlier session that shows
  the same figures: each partition reports a fingerprint of each snapshot's figures, and the
  snapshots found stale are then left out of the windows, as the engine leaves them out of its
  other rules;
- index-missing needs how many snapshots of the archive show each listed index (counted from
  the facts), and a snapshot's two neighbours in capture order (next to it in its partition,
  or across the boundary in the merge).

Sessions inferred from the figures alone (snapshots with quotes and no capture time that
decides their session) can join any other session of the archive: such an archive is not
split (`partitioned_history` raises Unsplittable, and the caller runs the history step in one
place), nor is one that names a page twice. A window whose sessions or flags come out other
than the archive's (a calendar that differs over a shorter span, say) raises Unsplittable too:
the result is exact or not given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from checker.findings import combine, empty_findings, normalize
from checker.frame import empty_frame
from checker.history.engine import SCALE, HistoryResult, history_findings
from checker.history.times import Manifest, Stamp, stamp_from_text, stamps_from_names
from checker.profile import Profile
from checker.report import FileResult
from checker.rules import history as codes
from checker.rules.registry import REGISTRY

SESSION_STAMP = "stamp"
# Rules that look past a session and the one before it: found from the facts, not the windows.
GLOBAL_RULES = frozenset({codes.STALE_SNAPSHOT, codes.INDEX_MISSING})
NEEDED = ("file", "symbol", "kind", "price", "change", "percent")


class Unsplittable(ValueError):
    """The archive's history cannot be found partition by partition exactly (see the module text)."""


class KnownStamps(Manifest):
    """Capture times already found (from a manifest, the names or the pages), by file name."""

    def __init__(self, stamps: Mapping[str, Stamp]) -> None:
        super().__init__("<stamps>", PurePath("."))
        self.stamps = dict(stamps)

    def match(self, inputs: Iterable[str], resolve: Any = None) -> dict[str, Stamp]:
        return {name: self.stamps[name] for name in inputs if name in self.stamps}


def stamps_of(
    names: list[str],
    manifest: Manifest | None = None,
    page_texts: Mapping[str, str] | None = None,
    resolve: Mapping[str, str] | None = None,
) -> dict[str, Stamp]:
    """Each page's capture time, found as the history step finds it (manifest, name, page)."""
    listed = manifest.match(names, resolve) if manifest is not None else {}
    texts = page_texts or {}
    out: dict[str, Stamp] = {}
    for name, named in zip(names, stamps_from_names(names), strict=True):
        stamp = listed.get(name) or named or stamp_from_text(texts.get(name))
        if stamp is not None:
            out[name] = stamp
    return out


# -- the plan: sessions and capture order, before any quote is read ------------------------------
@dataclass
class Plan:
    """Every snapshot's session and place in capture order, from its stamp alone."""

    names: list[str]  # in input order
    table: pd.DataFrame  # the engine's snapshot table without quotes (file, captured_at, ...)
    order: list[int]  # input positions in capture order
    calendar: str
    problems: list[str] = field(default_factory=list)
    position: dict[str, int] = field(default_factory=dict, repr=False)  # filled by marks()
    labels: list[str | None] = field(default_factory=list, repr=False)
    uncertain: list[bool] = field(default_factory=list, repr=False)

    def capture_order(self) -> list[str]:
        return [self.names[k] for k in self.order]

    def marks(self, files: list[str]) -> tuple[list[str], list[int], list[str | None], list[bool]]:
        """Of some files: themselves, their input positions, sessions and uncertain marks."""
        if not self.position:
            self.position = {name: k for k, name in enumerate(self.names)}
            self.labels = _labels(self.table)
            self.uncertain = self.table["uncertain"].to_numpy(dtype=bool).tolist()
        at = [self.position[name] for name in files]
        return list(files), at, [self.labels[k] for k in at], [bool(self.uncertain[k]) for k in at]


def _labels(table: pd.DataFrame) -> list[str | None]:
    """The session label of each row of a snapshot table (None where it has none)."""
    return [label if isinstance(label, str) else None for label in table["session"].tolist()]


def plan(
    names: list[str], stamps: Mapping[str, Stamp], profile: Profile, problems: Iterable[str] = ()
) -> Plan:
    """The sessions of the snapshots from their stamps (the engine run with no quote) and the
    capture order: session, capture day and time, input order (as the engine orders them)."""
    if len(set(names)) != len(names):
        raise Unsplittable("a page is named twice: its quotes are one snapshot")
    results = [FileResult(path=name) for name in names]
    result = history_findings(empty_frame(), results, profile, manifest=KnownStamps(stamps))
    table = result.snapshots
    sessions = _labels(table)
    key = []
    for k, name in enumerate(names):
        stamp = stamps.get(name)
        seconds = -1
        if stamp is not None and stamp.time is not None:
            seconds = stamp.time.hour * 3600 + stamp.time.minute * 60 + stamp.time.second
        day = stamp.day.toordinal() if stamp is not None else -1
        session = sessions[k]
        key.append((session is not None, session or "", day, seconds, k))
    order = [k for *_, k in sorted(key)]
    return Plan(list(names), table, order, result.calendar, list(problems))


# -- partitions and blocks ----------------------------------------------------------------------
@dataclass
class Block:
    """Snapshots that follow one another in capture order, with their usable quotes.

    `files` in capture order; per file its input position, session label, whether it is stale,
    uncertain and cut off; `quotes` the rows the history step uses (valid figures, a symbol's
    first quote on its page), grouped by file in that order."""

    quotes: pd.DataFrame
    files: list[str]
    order: list[int]
    session: list[str | None]
    uncertain: list[bool]
    cut_off: list[bool]
    stamps: dict[str, Stamp]
    stale: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.stale:
            self.stale = [False] * len(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def take(self, start: int, stop: int) -> Block:
        names = self.files[start:stop]
        wanted = set(names)
        files = self.quotes["file"].astype(object)
        quotes = self.quotes[files.isin(wanted).to_numpy(dtype=bool)]
        return Block(
            quotes,
            names,
            self.order[start:stop],
            self.session[start:stop],
            self.uncertain[start:stop],
            self.cut_off[start:stop],
            {n: s for n, s in self.stamps.items() if n in wanted},
            self.stale[start:stop],
        )

    def present(self) -> list[int]:
        """Positions of the snapshots the windows hold: not stale."""
        return [i for i, stale in enumerate(self.stale) if not stale]

    def sessions(self) -> list[str]:
        """The labels of the sessions of its snapshots that are not stale, in order."""
        out: list[str] = []
        for i in self.present():
            label = self.session[i]
            if label is not None and (not out or out[-1] != label):
                out.append(label)
        return out


def join(blocks: list[Block]) -> Block:
    """Blocks that follow one another, as one."""
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return empty_block()
    if len(blocks) == 1:
        return blocks[0]
    quotes = pd.concat([b.quotes for b in blocks], ignore_index=True)
    for name in ("file", "symbol", "kind"):
        if name in quotes and isinstance(blocks[0].quotes[name].dtype, pd.CategoricalDtype):
            quotes[name] = quotes[name].astype(object)
    stamps: dict[str, Stamp] = {}
    for b in blocks:
        stamps.update(b.stamps)
    return Block(
        quotes,
        [f for b in blocks for f in b.files],
        [k for b in blocks for k in b.order],
        [s for b in blocks for s in b.session],
        [u for b in blocks for u in b.uncertain],
        [c for b in blocks for c in b.cut_off],
        stamps,
        [s for b in blocks for s in b.stale],
    )


def empty_block() -> Block:
    return Block(empty_frame(), [], [], [], [], [], {})


def usable_rows(quotes: pd.DataFrame) -> pd.DataFrame:
    """The quotes the history step compares: price and change finite and below 1e12, a symbol
    and a file; of a symbol shown twice on a page, its first quote."""
    if not len(quotes):
        return quotes.iloc[:0]
    price = quotes["price"].to_numpy(dtype=np.float64, na_value=np.nan)
    change = quotes["change"].to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(price) & np.isfinite(change) & (np.abs(price) < 1e12) & (np.abs(change) < 1e12)
    ok &= quotes["symbol"].notna().to_numpy(dtype=bool) & quotes["file"].notna().to_numpy(dtype=bool)
    rows = quotes[ok]
    keys = pd.DataFrame({"f": rows["file"].astype(object), "s": rows["symbol"].astype(object)})
    return rows[~keys.duplicated(keep="first").to_numpy(dtype=bool)]


def partition(
    quotes: pd.DataFrame, the_plan: Plan, files: list[str], stamps: Mapping[str, Stamp], cut_off: set[str]
) -> Block:
    """A partition: `files` (in capture order, as the plan cuts them) with their quotes."""
    return block_of(quotes, *the_plan.marks(files), stamps, cut_off)


def block_of(
    quotes: pd.DataFrame,
    files: list[str],
    order: list[int],
    session: list[str | None],
    uncertain: list[bool],
    stamps: Mapping[str, Stamp],
    cut_off: set[str],
) -> Block:
    """A partition from the quotes that hold its files (others are left out) and the plan's marks."""
    rows = usable_rows(quotes)
    rank = {name: i for i, name in enumerate(files)}
    place = rows["file"].astype(object).map(rank)
    known = place.notna().to_numpy(dtype=bool)
    rows = rows[known]
    rows = rows.iloc[np.argsort(place[known].to_numpy(dtype=np.int64), kind="stable")].reset_index(drop=True)
    return Block(
        rows,
        list(files),
        list(order),
        list(session),
        list(uncertain),
        [name in cut_off for name in files],
        {n: stamps[n] for n in files if n in stamps},
    )


# -- facts: what each partition reports first --------------------------------------------------
def partition_facts(block: Block, profile: Profile) -> pd.DataFrame:
    """Per snapshot of the partition: its usable quote count, a fingerprint of its figures (equal
    when two snapshots show the same figures for the same symbols), the listed indices it shows,
    and its first quote (the one the stale-snapshot finding sits on)."""
    q = block.quotes
    files = q["file"].astype(object).to_numpy()
    counts = pd.Series(files).value_counts() if len(q) else pd.Series(dtype=np.int64)
    price = np.rint(q["price"].to_numpy(dtype=np.float64) * SCALE).astype(np.int64)
    change = np.rint(q["change"].to_numpy(dtype=np.float64) * SCALE).astype(np.int64)
    shown_percent = np.nan_to_num(q["percent"].to_numpy(dtype=np.float64, na_value=np.nan), nan=-1e15)
    percent = np.rint(np.clip(shown_percent, -1e12, 1e12) * 10000).astype(np.int64)
    figures = pd.DataFrame({"s": q["symbol"].astype(str).to_numpy(), "p": price, "c": change, "x": percent})
    first_hash = pd.util.hash_pandas_object(figures, index=False).to_numpy(dtype=np.uint64)
    second_hash = pd.util.hash_pandas_object(figures, index=False, hash_key="quotecheck-price").to_numpy(
        dtype=np.uint64
    )
    codes, uniques = pd.factorize(files)
    sum_a = np.zeros(len(uniques), dtype=np.uint64)
    sum_b = np.zeros(len(uniques), dtype=np.uint64)
    np.add.at(sum_a, codes, first_hash)  # wraps: an order-free sum of the quotes' hashes
    np.add.at(sum_b, codes, second_hash)
    at = {str(name): i for i, name in enumerate(uniques.tolist())}
    listed = q["symbol"].astype(object).isin(profile.index_symbols).to_numpy(dtype=bool)
    shows: dict[str, list[str]] = {}
    for name, symbol in zip(files[listed].tolist(), q["symbol"].astype(object)[listed].tolist(), strict=True):
        shows.setdefault(name, []).append(str(symbol))
    rows = []
    firsts = _first_quotes(q)
    for i, name in enumerate(block.files):
        count = int(counts.get(name, 0))
        first = firsts.get(name)
        rows.append(
            {
                "file": name,
                "k": block.order[i],
                "session": block.session[i],
                "uncertain": block.uncertain[i],
                "quotes": count,
                "figures": f"{count}:{int(sum_a[at[name]]):x}:{int(sum_b[at[name]]):x}" if count else "",
                "indices": tuple(shows.get(name, ())),
                "first": first,
            }
        )
    return pd.DataFrame(
        rows, columns=["file", "k", "session", "uncertain", "quotes", "figures", "indices", "first"]
    )


def _cell(quotes: pd.DataFrame, column: str, row: int) -> object:
    """One value of a quote frame, as the engine's findings hold it."""
    value = quotes[column].iat[row]
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _first_quotes(q: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Each snapshot's first quote on its page (lowest line, then column): where it stands."""
    out: dict[str, dict[str, object]] = {}
    if not len(q):
        return out
    line = q["line"].to_numpy(dtype=np.int64, na_value=0)
    column = q["column"].to_numpy(dtype=np.int64, na_value=0)
    files = q["file"].astype(object).to_numpy()
    frame = pd.DataFrame({"f": files, "l": line, "c": column, "r": np.arange(len(q))})
    first = frame.sort_values(["f", "l", "c", "r"], kind="stable").drop_duplicates("f")
    for name, row in zip(first["f"].tolist(), first["r"].tolist(), strict=True):
        out[str(name)] = {
            "line": _cell(q, "line", row),
            "column": _cell(q, "column", row),
            "end_column": _cell(q, "end_column", row),
            "symbol": _cell(q, "symbol", row),
        }
    return out


# -- what every partition is told after the facts ------------------------------------------------
@dataclass
class Context:
    """The archive-wide figures the summaries need: which snapshots are stale, which listed
    indices most snapshots show, and the profile."""

    profile: Profile
    stale: frozenset[str]
    majority: tuple[str, ...]  # listed indices shown on most snapshots (index-missing compares them)


@dataclass
class Archive:
    """What the facts of every partition say about the whole archive."""

    context: Context
    stale_findings: pd.DataFrame
    live: frozenset[str]


def read_facts(facts: list[pd.DataFrame], profile: Profile) -> Archive:
    """The stale snapshots (and their findings) and the indices most snapshots show; raises
    Unsplittable when a snapshot with quotes has no session from its stamp."""
    table = pd.concat(facts, ignore_index=True) if facts else partition_facts(empty_block(), profile)
    live = table[table["quotes"] > 0]
    if live["session"].isna().any():
        raise Unsplittable("a page with quotes has no capture time that decides its session")
    findings, stale = _stale(live)
    n_live = len(live)
    present: dict[str, int] = {}
    for shown in live["indices"].tolist():
        for symbol in set(shown):
            present[symbol] = present.get(symbol, 0) + 1
    majority = tuple(sorted(s for s, n in present.items() if n * 2 > n_live - 1))
    context = Context(profile, frozenset(stale), majority)
    return Archive(context, findings, frozenset(live["file"].astype(str)))


def _stale(live: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """stale-snapshot: a snapshot with the figures of the earliest snapshot of an earlier session
    that shows them (neither on an uncertain day)."""
    frame = live.sort_values(["figures", "session", "k"], kind="stable")
    first = frame.drop_duplicates("figures").set_index("figures")
    rows: list[dict[str, object]] = []
    stale: set[str] = set()
    rule = REGISTRY[codes.STALE_SNAPSHOT]
    for name, figures, session, uncertain, where_k in zip(
        frame["file"], frame["figures"], frame["session"], frame["uncertain"], frame["first"], strict=True
    ):
        earlier = first.loc[figures]
        if not session > earlier["session"] or uncertain or earlier["uncertain"]:
            continue
        stale.add(str(name))
        label_e = earlier["session"]
        where = f"{earlier['file']}:{earlier['first']['line']}"
        rows.append(
            {
                "rule": codes.STALE_SNAPSHOT,
                "name": rule.name,
                "severity": rule.severity.label,
                "file": name,
                "line": where_k["line"],
                "column": where_k["column"],
                "end_column": where_k["end_column"],
                "symbol": where_k["symbol"],
                "field": "snapshot",
                "observed": f"the figures of {label_e}",
                "expected": f"new figures after {label_e} ({where})",
                "message": f"every figure of this {session} snapshot is that of {label_e} ({where}): "
                "a cached page served again",
            }
        )
    found = combine([normalize(pd.DataFrame.from_records(rows))]) if rows else empty_findings()
    return found, stale


# -- summaries ----------------------------------------------------------------------------------
@dataclass
class Summary:
    """A run of partitions summarised: its findings so far and the snapshots at its two ends.

    `left` holds its snapshots up to the end of its second session (and at least two pages),
    `right` those from the start of its last session but one (and at least the last two pages);
    when they would meet, `left` holds every snapshot and `whole` is set. `sessions` counts its
    sessions (of snapshots that are not stale), `pages` its snapshots with quotes."""

    findings: list[pd.DataFrame]
    left: Block
    right: Block
    whole: bool
    sessions: list[str]  # its first two and last two session labels (all, when it has few)
    session_count: int
    pages: int

    def first_session(self) -> str | None:
        return self.sessions[0] if self.sessions else None

    def last_session(self) -> str | None:
        return self.sessions[-1] if self.sessions else None


def _edges(block: Block) -> tuple[Block, Block, bool]:
    """A block's left and right ends (see Summary), or the whole block when they would meet."""
    n = len(block)
    labels = block.sessions()
    present = block.present()
    if len(labels) <= 4 or n <= 4:
        return block, empty_block(), True
    # left: through the last snapshot of the second session, and at least two pages
    second = labels[1]
    end = max(i for i in present if block.session[i] == second) + 1
    end = max(end, 2)
    # right: from the first snapshot of the session before the last, and at least two pages
    before_last = labels[-2]
    start = min(i for i in present if block.session[i] == before_last)
    start = min(start, n - 2)
    if start <= end:
        return block, empty_block(), True
    return block.take(0, end), block.take(start, n), False


def _summary_labels(labels: list[str]) -> list[str]:
    return labels if len(labels) <= 4 else [*labels[:2], *labels[-2:]]


def summarize(block: Block, context: Context) -> Summary:
    """A partition's summary: the findings of the sessions it holds whole with the session before
    (its third to its last but one), index-missing on its pages but the first and the last, and
    its two ends."""
    block = _marked(block, context)
    labels = block.sessions()
    count = len(labels)
    findings: list[pd.DataFrame] = []
    wanted = set(labels[2 : count - 1])
    if wanted:
        findings.append(_window(block, wanted, context))
    if len(block) > 2:
        findings.append(_index_missing(block, range(1, len(block) - 1), context))
    left, right, whole = _edges(block)
    return Summary(findings, left, right, whole, _summary_labels(labels), count, len(block))


def _marked(block: Block, context: Context) -> Block:
    """The block with its snapshots with quotes only, each marked stale or not."""
    live = set(block.quotes["file"].astype(object).unique().tolist()) if len(block.quotes) else set()
    at = [i for i, name in enumerate(block.files) if name in live]
    if len(at) != len(block):
        block = Block(
            block.quotes,
            [block.files[i] for i in at],
            [block.order[i] for i in at],
            [block.session[i] for i in at],
            [block.uncertain[i] for i in at],
            [block.cut_off[i] for i in at],
            block.stamps,
            [block.stale[i] for i in at],
        )
    block.stale = [name in context.stale for name in block.files]
    return block


def merge(a: Summary, b: Summary, context: Context) -> Summary:
    """A then B: A's findings, B's, and those of the sessions and pages around the boundary."""
    if not a.pages:
        return b
    if not b.pages:
        return a
    a_right = a.left if a.whole else a.right
    junction = join([a_right, b.left])
    joined = a.last_session() is not None and a.last_session() == b.first_session()
    total = a.session_count + b.session_count - (1 if joined else 0)
    findings = [*a.findings, *b.findings]
    # The sessions whose windows were whole on neither side: A's last, B's first and second, at
    # their places in the merged run (1-based). One is found once its place is 3 or more and not
    # the last (the ends wait for a later merge, or the finish).
    places: dict[str, int] = {}
    if a.sessions:
        places[a.sessions[-1]] = a.session_count
    for offset, label in enumerate(b.sessions[:2]):
        places.setdefault(label, a.session_count + offset + (0 if joined else 1))
    wanted = {label for label, place in places.items() if 3 <= place <= total - 1}
    if wanted:
        findings.append(_window(junction, wanted, context))
    # index-missing on A's last page and B's first, now that both have their neighbours
    candidates = []
    if a.pages >= 2:
        candidates.append(len(a_right) - 1)
    if b.pages >= 2:
        candidates.append(len(a_right))
    if candidates:
        findings.append(_index_missing(junction, candidates, context))
    if a.whole and b.whole:
        left, right, whole = _edges(junction)
    else:
        whole = False
        left = _edges(join([a.left, b.left]))[0] if a.whole else a.left
        if b.whole:
            head, tail, single = _edges(junction)
            right = head if single else tail
        else:
            right = b.right
    return Summary(
        findings, left, right, whole, _joined_labels(a, b, joined, total), total, a.pages + b.pages
    )


def _then(first: list[str], second: list[str]) -> list[str]:
    """Two runs of session labels, one after the other (a session split between them once)."""
    if first and second and first[-1] == second[0]:
        return [*first, *second[1:]]
    return [*first, *second]


def _joined_labels(a: Summary, b: Summary, joined: bool, total: int) -> list[str]:
    """The first two and last two session labels of A then B (all of them when they are few)."""
    if total <= 4:
        return _then(a.sessions, b.sessions)
    head = a.sessions[:2] if a.session_count >= 2 else _then(a.sessions, b.sessions[:2])[:2]
    tail = b.sessions[-2:] if b.session_count >= 2 else _then(a.sessions[-2:], b.sessions)[-2:]
    return [*head, *tail]


def finish(summary: Summary, context: Context) -> pd.DataFrame:
    """The findings of the whole archive's summary: its ends found at last (the first session has
    no session before it, the last none after)."""
    findings = list(summary.findings)
    count = summary.session_count
    if summary.whole:
        labels = summary.left.sessions()
        wanted = {label for place, label in enumerate(labels, 1) if place < 3 or place == count}
        if wanted:
            findings.append(_window(summary.left, wanted, context))
    else:
        head = summary.left.sessions()[:2]
        if head:
            findings.append(_window(summary.left, set(head), context))
        tail = summary.right.sessions()
        if count >= 3 and tail:
            findings.append(_window(summary.right, {tail[-1]}, context))
    ends = [0] if summary.pages else []
    last_block = summary.left if summary.whole else summary.right
    if summary.pages >= 2:
        findings.append(_index_missing(summary.left, [0], context))
        findings.append(_index_missing(last_block, [len(last_block) - 1], context))
    elif ends:
        findings.append(_index_missing(summary.left, ends, context))
    return combine(findings)


# -- the windows: the engine itself over a few consecutive sessions ------------------------------
def _window(block: Block, wanted: set[str], context: Context) -> pd.DataFrame:
    """The findings of the sessions `wanted` (their windows lie in `block`), found by the engine
    over the block's snapshots that are not stale; those of the two archive-wide rules left out."""
    keep = block.present()
    names = [block.files[i] for i in keep]
    if not names:
        return empty_findings()
    by_input = sorted(keep, key=lambda i: block.order[i])
    results = [FileResult(path=block.files[i]) for i in by_input]
    files = set(names)
    quotes = block.quotes[block.quotes["file"].astype(object).isin(files).to_numpy(dtype=bool)]
    cut = {block.files[i] for i in keep if block.cut_off[i]}
    result = history_findings(
        quotes, results, context.profile, manifest=KnownStamps(block.stamps), cut_off=cut
    )
    _check_window(result, block, keep)
    found = result.findings
    if not len(found):
        return found
    session_of = {block.files[i]: block.session[i] for i in keep}
    on = found["file"].astype(object).map(session_of)
    local = ~found["rule"].astype(object).isin(GLOBAL_RULES).to_numpy(dtype=bool)
    return found[on.isin(wanted).to_numpy(dtype=bool) & local].reset_index(drop=True)


def _check_window(result: HistoryResult, block: Block, keep: list[int]) -> None:
    """A window whose sessions, stale marks or uncertain days differ from the archive's."""
    table = result.snapshots.set_index("file")
    for i in keep:
        name = block.files[i]
        row = table.loc[name]
        if (
            row["session"] != block.session[i]
            or bool(row["stale"])
            or bool(row["uncertain"]) != block.uncertain[i]
        ):
            raise Unsplittable(f"the window of {name} does not see the archive's session or flags")


def _index_missing(block: Block, positions: Iterable[int], context: Context) -> pd.DataFrame:
    """index-missing on the pages at `positions` of the block, their neighbours in the block."""
    if not context.majority or not len(block):
        return empty_findings()
    q = block.quotes
    exact_kinds = {name for name, kind in context.profile.kinds.items() if kind.exact}
    files = q["file"].astype(object).to_numpy()
    symbols = q["symbol"].astype(object).to_numpy()
    kinds = q["kind"].astype(object).to_numpy()
    by_file: dict[str, dict[str, int]] = {}
    for row, (name, symbol) in enumerate(zip(files.tolist(), symbols.tolist(), strict=True)):
        by_file.setdefault(str(name), {})[str(symbol)] = row
    firsts = _first_quotes(q)
    rule = REGISTRY[codes.INDEX_MISSING]
    rows: list[dict[str, object]] = []

    def stocks(name: str) -> int:
        return sum(1 for r in by_file.get(name, {}).values() if kinds[r] != "index")

    for i in positions:
        name = block.files[i]
        if block.cut_off[i] or block.uncertain[i]:
            continue
        own = by_file.get(name, {})
        if not own or stocks(name) == 0:
            continue
        neighbours = [block.files[j] for j in (i - 1, i + 1) if 0 <= j < len(block)]
        for symbol in context.majority:
            if symbol in own:
                continue
            having = [m for m in neighbours if symbol in by_file.get(m, {})]
            if not having:
                continue
            complete = True
            for m in neighbours:
                theirs = by_file.get(m, {})
                common = sum(
                    1
                    for s, r in theirs.items()
                    if kinds[r] in exact_kinds and s in own and kinds[own[s]] in exact_kinds
                )
                if common != stocks(m):
                    complete = False
                    break
            if not complete:
                continue
            shown = having[0]
            shown_row = by_file[shown][symbol]
            where = f"{shown}:{_cell(q, 'line', shown_row)}:{_cell(q, 'price_col', shown_row)}"
            first = firsts[name]
            rows.append(
                {
                    "rule": codes.INDEX_MISSING,
                    "name": rule.name,
                    "severity": rule.severity.label,
                    "file": name,
                    "line": first["line"],
                    "column": first["column"],
                    "end_column": first["end_column"],
                    "symbol": symbol,
                    "field": "symbol",
                    "observed": None,
                    "expected": f"{symbol} {_cell(q, 'price_text', shown_row)} ({where})",
                    "message": f"{symbol} is missing, though this snapshot has every stock of its "
                    f"neighbours and {shown} shows it",
                }
            )
    return combine([normalize(pd.DataFrame.from_records(rows))]) if rows else empty_findings()


# -- the whole step -----------------------------------------------------------------------------
Submit = Callable[..., Any]
Result = Callable[[Any], Any]


def _now(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


def _same(value: Any) -> Any:
    return value


def reduce_tree(items: list[Any], context: Any, submit: Submit = _now) -> Any:
    """Merge neighbouring summaries pairwise, level by level, until one is left."""
    while len(items) > 1:
        paired = [submit(merge, a, b, context) for a, b in zip(items[0::2], items[1::2], strict=False)]
        if len(items) % 2:
            paired.append(items[-1])
        items = paired
    return items[0]


def partitioned_history(
    parts: list[Any],
    the_plan: Plan,
    profile: Profile,
    submit: Submit = _now,
    result: Result = _same,
) -> HistoryResult:
    """The history step over partitions (Blocks, or what `submit` makes of them: futures of a
    cluster), the same as history_findings over the whole archive. Raises Unsplittable when the
    archive cannot be split (sessions from the figures alone, or a window that differs)."""
    pending = [submit(partition_facts, part, profile) for part in parts]  # all at once, then gathered
    facts = [result(task) for task in pending]
    archive = read_facts(facts, profile)
    summaries = [submit(summarize, part, archive.context) for part in parts]
    if summaries:
        root = result(reduce_tree(summaries, archive.context, submit))
        found = finish(root, archive.context)
    else:
        found = empty_findings()
    findings = combine([archive.stale_findings, found])
    return assemble(the_plan, archive, findings)


def assemble(the_plan: Plan, archive: Archive, findings: pd.DataFrame) -> HistoryResult:
    """The HistoryResult of the whole archive: the findings, the snapshot table (the plan's, with
    the stale marks and each session's place) and the sessions in order."""
    table = the_plan.table.copy()
    table["stale"] = table["file"].isin(archive.context.stale).to_numpy(dtype=bool)
    members: dict[str, list[str]] = {}
    session_of = dict(zip(table["file"].tolist(), _labels(table), strict=True))
    for name in the_plan.capture_order():
        label = session_of.get(name)
        if name in archive.live and label is not None:
            members.setdefault(label, []).append(name)
    ordered = sorted(members)
    position = {label: p for p, label in enumerate(ordered)}
    sessions = pd.DataFrame(
        [
            {
                "session": label,
                "source": SESSION_STAMP,
                "position": position[label],
                "snapshots": len(members[label]),
                "files": members[label],
            }
            for label in ordered
        ],
        columns=["session", "source", "position", "snapshots", "files"],
    )
    table["session_position"] = pd.array([position.get(s) for s in table["session"]], dtype="Int64")
    return HistoryResult(findings, table, sessions, the_plan.calendar, list(the_plan.problems))


def cut(
    quotes: pd.DataFrame,
    the_plan: Plan,
    stamps: Mapping[str, Stamp],
    cut_off: set[str],
    bounds: Iterable[int],
) -> list[Block]:
    """The archive cut into partitions in capture order, at the places `bounds` (0 < b < pages)."""
    ordered = the_plan.capture_order()
    edges = [0, *sorted(set(b for b in bounds if 0 < b < len(ordered))), len(ordered)]
    files = quotes["file"].astype(object)
    blocks = []
    for start, stop in pairwise(edges):
        names = ordered[start:stop]
        rows = quotes[files.isin(set(names)).to_numpy(dtype=bool)]
        blocks.append(partition(rows, the_plan, names, stamps, cut_off))
    return blocks


__all__ = [
    "Block",
    "Context",
    "KnownStamps",
    "Plan",
    "Summary",
    "Unsplittable",
    "cut",
    "finish",
    "merge",
    "partition",
    "partition_facts",
    "partitioned_history",
    "plan",
    "read_facts",
    "reduce_tree",
    "stamps_of",
    "summarize",
]
