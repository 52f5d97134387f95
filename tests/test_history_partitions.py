"""The history step over partitions (checker.history.partitions) gives the findings, snapshot
table and sessions of the step over the whole archive, wherever the partitions are cut: inside
a session, between two snapshots of one session, at every place of small archives, and at
random places (a property), on archives with a fault of every history rule."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path

import pandas as pd
import pytest
from history_pages import STOCKS, Quote, page_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.api import check_paths
from checker.config import Options
from checker.history import partitions
from checker.history.calendar import build_calendar, history_settings
from checker.history.engine import history_findings
from checker.history.run import _cut_off, page_heads
from checker.profile import load_profile
from checker.report import Report

PROFILE = load_profile()
FIXTURES = Path(__file__).parent / "fixtures" / "history"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
INDICES = ("KSE100", "KSE30", "BR100", "BR30")
CALENDAR = build_calendar(history_settings(PROFILE), dt.date(2024, 1, 1), dt.date(2024, 6, 30))
SESSIONS = [
    CALENDAR.day(i)
    for i in range(len(CALENDAR.is_session))
    if CALENDAR.is_session[i] and not CALENDAR.uncertain[i] and CALENDAR.day(i) >= dt.date(2024, 1, 2)
]


def faulty_archive(seed: int, sessions: int = 9) -> dict[str, list[Quote]]:
    """Random walks over consecutive sessions, several snapshots a session (some named with a date
    only), with one fault of each history rule (QC601-QC608) somewhere in the middle."""
    rng = random.Random(seed)
    close = {s: rng.randint(300, 40000) for s in STOCKS}
    level = {s: rng.randint(1_500_000, 11_000_000) for s in INDICES}
    days = SESSIONS[: sessions + 1]
    pages: dict[str, list[Quote]] = {}
    dropped = STOCKS[-1]
    for number, day in enumerate(days[:sessions]):
        new_close = {s: max(100, p + rng.randint(-15, 15) * max(1, p // 2000)) for s, p in close.items()}
        new_level = {s: v + rng.randint(-90_000, 90_000) for s, v in level.items()}
        date_only = number == 2  # a session of date-only pages: its close told by the figures
        stocks = [s for s in STOCKS if not (number >= 6 and s == dropped)]  # QC608 from session 6
        for n in range(3):
            prices = {s: max(100, p + rng.randint(-8, 8)) for s, p in new_close.items()}
            levels = {s: v + rng.randint(-30_000, 30_000) for s, v in new_level.items()}
            quotes = [Quote(s, prices[s], close[s]) for s in stocks]
            quotes += [Quote(s, levels[s], level[s], index=True) for s in INDICES]
            name = (
                f"page {day.isoformat()}_{n}.txt"
                if date_only
                else f"page {day.isoformat()}T{10 + 2 * n:02d}00.txt"
            )
            pages[name] = quotes
        closing = [Quote(s, new_close[s], close[s]) for s in stocks]
        closing += [Quote(s, new_level[s], level[s], index=True) for s in INDICES]
        pages[f"page {day.isoformat()}_9.txt" if date_only else f"page {day.isoformat()}T1645.txt"] = closing
        close, level = new_close, new_level
    names = list(pages)

    def of(day: dt.date) -> list[str]:
        return [n for n in names if n[5:15] == day.isoformat()]

    n_days = len(days) - 1
    if n_days > 4:  # QC601: a close (session 3) moved with its change; the next no longer chains to it
        last = of(days[3])[-1]
        pages[last][0] = Quote(pages[last][0].symbol, pages[last][0].price + 3, pages[last][0].previous)
    if n_days > 4:  # QC602: one intraday snapshot of session 4 shows another previous close
        mid = of(days[4])[1]
        pages[mid][1] = Quote(pages[mid][1].symbol, pages[mid][1].price, pages[mid][1].previous + 2)
    if n_days > 5:  # QC603: a page of session 1 served again in session 5
        pages[f"page {days[5].isoformat()}T1500.txt"] = list(pages[of(days[1])[0]])
        # QC604: session 5's third snapshot shows its second's index block, while the stocks moved
        second, third = of(days[5])[1], of(days[5])[2]
        pages[third] = [q for q in pages[third] if not q.index] + [q for q in pages[second] if q.index]
    if n_days > 6:  # QC605: a Saturday page after session 6 with figures that session never showed
        saturday = days[6] + dt.timedelta(days=(5 - days[6].weekday()) % 7 or 7)
        if saturday not in SESSIONS:
            moved = [
                Quote(q.symbol, q.price + (0 if q.index else 5), q.previous) for q in pages[of(days[6])[-1]]
            ]
            pages[f"page {saturday.isoformat()}T1100.txt"] = moved
    if n_days > 8:  # QC606: KSE100 missing from a middle page of session 7
        page = of(days[7])[1]
        pages[page] = [q for q in pages[page] if q.symbol != "KSE100"]
        # QC607: the closing pages of sessions 7 and 8 swapped: the figures put the later one first
        a, b = of(days[7])[-1], of(days[8])[-1]
        pages[a], pages[b] = pages[b], pages[a]
    return dict(sorted(pages.items()))


def write(folder: Path, pages: dict[str, list[Quote]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, quotes in pages.items():
        (folder / name).write_text(page_text(quotes), encoding="utf-8")
        out.append(folder / name)
    return out


class Archive:
    """An archive checked once, its history over the whole, and its plan for partitions."""

    def __init__(self, paths: list[Path]) -> None:
        self.report: Report = check_paths([str(p) for p in paths], Options(include_quotes=True))
        names = [f.path for f in self.report.files]
        self.stamps = partitions.stamps_of(names, page_texts=page_heads(names))
        self.cut_off = _cut_off(self.report)
        self.whole = history_findings(
            self.report.quotes,
            self.report.files,
            PROFILE,
            manifest=partitions.KnownStamps(self.stamps),
            cut_off=self.cut_off,
        )
        self.plan = partitions.plan(names, self.stamps, PROFILE)

    def __len__(self) -> int:
        return len(self.plan.names)

    def blocks(self, bounds: list[int]) -> list[partitions.Block]:
        return partitions.cut(self.report.quotes, self.plan, self.stamps, self.cut_off, bounds)

    def split(self, bounds: list[int], **kwargs) -> partitions.HistoryResult:
        return partitions.partitioned_history(self.blocks(bounds), self.plan, PROFILE, **kwargs)


def rows(frame: pd.DataFrame) -> list[tuple]:
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def assert_same(got: partitions.HistoryResult, want: partitions.HistoryResult) -> None:
    assert rows(got.findings) == rows(want.findings)
    pd.testing.assert_frame_equal(got.snapshots, want.snapshots)
    pd.testing.assert_frame_equal(got.sessions, want.sessions)
    assert got.calendar == want.calendar


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> Archive:
    return Archive(write(tmp_path_factory.mktemp("faulty"), faulty_archive(7)))


def test_the_faulty_archive_draws_every_history_rule(faulty):
    drawn = set(faulty.whole.findings["rule"].astype(str))
    assert drawn == {f"QC60{n}" for n in range(1, 9)}


def test_one_partition_gives_the_whole_archive_step(faulty):
    assert_same(faulty.split([]), faulty.whole)


def test_a_cut_at_every_place_gives_the_same_findings(faulty):
    # each place once: between sessions, inside one, between two snapshots of the same session
    order = faulty.plan.capture_order()
    sessions = dict(zip(faulty.plan.table["file"], faulty.plan.table["session"], strict=True))
    inside = [b for b in range(1, len(order)) if sessions[order[b - 1]] == sessions[order[b]]]
    assert inside  # some cuts fall inside a session
    for bound in range(1, len(order)):
        assert_same(faulty.split([bound]), faulty.whole)


def test_many_small_partitions_merge_as_a_tree(faulty):
    for size in (1, 2, 3, 5):
        assert_same(faulty.split(list(range(size, len(faulty), size))), faulty.whole)


@pytest.mark.parametrize("case", CASES)
def test_rule_fixtures_at_every_set_of_cuts(case):
    pages = sorted(p for p in (FIXTURES / case).iterdir() if p.suffix == ".txt")
    archive = Archive(pages)
    for count in range(len(pages)):
        for bounds in itertools.combinations(range(1, len(pages)), count):
            assert_same(archive.split(list(bounds)), archive.whole)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**16), st.lists(st.integers(1, 60), max_size=8))
def test_random_cuts_of_random_faulty_archives(seed, bounds):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        archive = Archive(write(Path(folder), faulty_archive(seed, sessions=7)))
        assert_same(archive.split([b % len(archive) for b in bounds]), archive.whole)


def test_pages_without_a_time_are_not_split(tmp_path):
    pages = faulty_archive(3, sessions=4)
    first = next(iter(pages))
    renamed = {("undated.txt" if name == first else name): quotes for name, quotes in pages.items()}
    archive = Archive(write(tmp_path, renamed))
    with pytest.raises(partitions.Unsplittable):
        archive.split([3])
