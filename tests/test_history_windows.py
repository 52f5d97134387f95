"""The history step a window of sessions at a time finds exactly what it finds over the whole
archive at once: the same findings, snapshot table and sessions, from a frame and from ledgers
read a few row groups at a time."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from history_pages import Quote, page_text
from test_history_properties import SESSIONS, archive

from checker.api import check_paths
from checker.config import Options
from checker.history import engine
from checker.history.engine import FrameSource, history_of_source
from checker.history.incremental import State, _advance, history_of_ledger_files, history_of_ledgers
from checker.history.ledger import read_ledgers
from checker.history.run import run_ledger, snapshot_times
from checker.history.sources import LedgerSource
from checker.profile import load_profile

PROFILE = load_profile()
WHOLE = 10**12  # a window larger than any archive here: the archive in one piece


def faulty_pages(seed: int) -> dict[str, list[Quote]]:
    """A consistent archive with faults of several rules, some of them far apart in time: a page
    served again sessions later, a frozen index block, a page without one index, a broken close,
    a stock that leaves the ticker."""
    rng = random.Random(seed)
    pages = archive(seed, rng.randint(0, len(SESSIONS) - 12), 8, 2)
    names = list(pages)
    days = sorted({n[5:15] for n in names})
    first_close = next(n for n in names if n.endswith("T1645.txt"))
    stale_day = days[6]
    pages[f"page {stale_day}T1300.txt"] = list(pages[first_close])  # a cached page, 6 sessions on
    morning = [n for n in names if n[5:15] == days[3]]
    frozen = [*pages[morning[1]][:-4], *pages[morning[0]][-4:]]  # the index block stopped refreshing
    pages[morning[1]] = frozen
    gap = [n for n in names if n[5:15] == days[4]][1]
    pages[gap] = [q for q in pages[gap] if q.symbol != "KSE30"]  # an index missing
    broken = next(n for n in names if n[5:15] == days[5])
    q = pages[broken][2]
    pages[broken][2] = Quote(q.symbol, q.price, q.previous + 3, q.index)  # a broken previous close
    for name in [n for n in names if n[5:15] >= days[7]]:
        pages[name] = pages[name][1:]  # a stock that leaves the ticker
    return pages


def checked(folder: Path, pages: dict[str, list[Quote]]):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, quotes in pages.items():
        path = folder / name
        path.write_text(page_text(quotes), encoding="utf-8")
        paths.append(str(path))
    return check_paths(paths, Options(include_quotes=True))


def same(a, b) -> None:
    pd.testing.assert_frame_equal(a.findings, b.findings)
    pd.testing.assert_frame_equal(a.snapshots, b.snapshots)
    pd.testing.assert_frame_equal(a.sessions, b.sessions)
    assert a.calendar == b.calendar
    assert a.closes == b.closes  # the previous closes repairs are weighed against


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("window", [1, 40, 150])
def test_windows_of_a_frame_find_what_the_whole_archive_finds(tmp_path, seed, window):
    report = checked(tmp_path, faulty_pages(seed))
    whole = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=WHOLE)
    rules = set(whole.findings["rule"])
    assert {"QC601", "QC603", "QC604", "QC608"} <= rules, rules  # the faults are seen
    windowed = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=window)
    same(whole, windowed)


def test_windows_leave_the_input_order_and_its_shuffle_alike(tmp_path):
    report = checked(tmp_path, faulty_pages(4))
    shuffled = report.quotes.sample(frac=1, random_state=3).reset_index(drop=True)
    whole = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=WHOLE)
    windowed = history_of_source(FrameSource(shuffled), report.files, PROFILE, window_quotes=50)
    same(whole, windowed)


def test_unstamped_pages_are_checked_in_one_piece(tmp_path):
    pages = {f"snap{i:03d}.txt": quotes for i, quotes in enumerate(faulty_pages(5).values())}
    report = checked(tmp_path, pages)
    whole = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=WHOLE)
    windowed = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=1)
    assert set(whole.snapshots["session_source"]) == {"figures"}
    same(whole, windowed)


def _write_ledger(tmp_path: Path, report, row_group_size: int) -> str:
    snapshots = snapshot_times(report).snapshots
    table = run_ledger(report, snapshots)
    path = str(tmp_path / "ledger-1.parquet")
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


@pytest.mark.parametrize("row_group_size", [37, 1000])
def test_ledgers_read_a_window_at_a_time_find_what_one_frame_finds(tmp_path, monkeypatch, row_group_size):
    report = checked(tmp_path / "pages", faulty_pages(6))
    path = _write_ledger(tmp_path, report, row_group_size)
    options = Options()
    one_frame = history_of_ledgers(read_ledgers([path]), options)
    monkeypatch.setattr(engine, "WINDOW_QUOTES", 60)
    windowed = history_of_ledger_files([path], options)
    same(one_frame.result, windowed.result)
    pd.testing.assert_frame_equal(one_frame.report.findings, windowed.report.findings)
    assert [f.path for f in one_frame.report.files] == [f.path for f in windowed.report.files]
    assert [f.quotes for f in one_frame.report.files] == [f.quotes for f in windowed.report.files]
    assert one_frame.state.as_dict() == windowed.state.as_dict()
    # the state moved from the rows themselves (a frame, as the Dask engine gathers them) is the same
    own = {f.path for f in windowed.report.files}
    rows = read_ledgers([path])
    moved = _advance(State(), rows, windowed.result, windowed.report, own, options.profile)
    assert moved.as_dict() == windowed.state.as_dict()


def test_a_state_and_windows_find_what_one_frame_with_the_state_finds(tmp_path, monkeypatch):
    report = checked(tmp_path / "pages", faulty_pages(7))
    path = _write_ledger(tmp_path, report, 50)
    options = Options()
    frame = read_ledgers([path])
    files = list(dict.fromkeys(frame["file"].astype(str)))
    first = frame[frame["file"].astype(str).isin(files[:6])].reset_index(drop=True)
    table = pq.read_table(path)
    rest_path = str(tmp_path / "ledger-2.parquet")
    rest = table.filter(pc.is_in(table["file"], value_set=pa.array(files[6:])))
    pq.write_table(rest, rest_path, row_group_size=40)
    state = history_of_ledgers(first, options).state
    monkeypatch.setattr(engine, "WINDOW_QUOTES", 60)
    one = history_of_ledgers(read_ledgers([rest_path]), options, state)
    windowed = history_of_ledger_files([rest_path], options, state)
    pd.testing.assert_frame_equal(one.report.findings, windowed.report.findings)
    pd.testing.assert_frame_equal(one.report.snapshots, windowed.report.snapshots)
    assert one.state.as_dict() == windowed.state.as_dict()
    assert windowed.state.session is not None  # the state moved on


def test_the_first_pass_knows_each_page_its_rows_and_its_stamp(tmp_path):
    report = checked(tmp_path / "pages", faulty_pages(8))
    path = _write_ledger(tmp_path, report, 29)
    source = LedgerSource(paths=[path])
    frame = read_ledgers([path])
    assert source.page_names() == list(dict.fromkeys(frame["file"].astype(str)))
    assert source.page_counts() == frame["file"].astype(str).value_counts().to_dict()
    firsts = frame.drop_duplicates("file")
    texts = dict(zip(firsts["file"].astype(str), firsts["captured_at_text"].astype(str), strict=True))
    assert {name: text for name, text, _ in source.stamp_texts()} == texts


_ALONE = "QUOTECHECK_TEST_ALONE"


def _ran_alone(request) -> bool:
    """The history step forks only a process with no other thread (a thread may hold a lock the
    child needs). When earlier tests left threads in this one (Dask's), the test is run in a fresh
    process instead, and must pass there; True when it was."""
    if threading.active_count() == 1 or os.environ.get(_ALONE):
        return False
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", request.node.nodeid]
    env = {**os.environ, _ALONE: "1"}
    done = subprocess.run(
        command, cwd=request.config.rootpath, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " skipped" not in done.stdout, done.stdout[-2000:]
    return True


def test_a_fork_refused_leaves_one_process_to_run_every_window(tmp_path, monkeypatch):
    # Another thread alive: no child is started, and this process runs the second half too.
    report = checked(tmp_path, faulty_pages(2))
    whole = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=WHOLE)
    monkeypatch.setattr(engine, "_can_fork", lambda: True)
    stop = threading.Event()
    waiting = threading.Thread(target=stop.wait, daemon=True)
    waiting.start()
    try:
        started = []
        fork = engine._Windows._fork
        monkeypatch.setattr(engine._Windows, "_fork", lambda self, split: started.append(fork(self, split)))
        windowed = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=40)
    finally:
        stop.set()
        waiting.join()
    assert started == [None]  # a split was planned, the fork refused
    same(whole, windowed)


def _joins(monkeypatch) -> list[bool]:
    """Record whether each two-process run took the child's half (True) or ran it again."""
    taken: list[bool] = []
    join = engine._Windows._join

    def spy(self, child, context):
        done = join(self, child, context)
        taken.append(done)
        return done

    monkeypatch.setattr(engine._Windows, "_join", spy)
    monkeypatch.setattr(engine, "_can_fork", lambda: engine.PARALLEL)
    return taken


def _served_late(seed: int) -> dict[str, list[Quote]]:
    """A clean archive but for its first closing page served again in its last session."""
    pages = archive(seed, 20, 12, 2)
    names = list(pages)
    first_close = next(n for n in names if n.endswith("T1645.txt"))
    last_day = names[-1][5:15]
    pages[f"page {last_day}T1300.txt"] = list(pages[first_close])
    return pages


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_processes_find_what_one_finds(request, tmp_path, monkeypatch, seed):
    if _ran_alone(request):
        return
    report = checked(tmp_path, faulty_pages(seed))
    taken = _joins(monkeypatch)
    monkeypatch.setattr(engine, "PARALLEL", False)
    one = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=40)
    monkeypatch.setattr(engine, "PARALLEL", True)
    two = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=40)
    assert len(taken) == 1  # the second half did run in a child (taken, or run again)
    same(one, two)


def test_a_clean_archive_takes_the_second_half_from_the_child(request, tmp_path, monkeypatch):
    if _ran_alone(request):
        return
    pages = archive(4, 20, 12, 2)
    name = next(n for n in pages if n[5:15] == sorted({n[5:15] for n in pages})[9])
    pages[name][3] = Quote(pages[name][3].symbol, pages[name][3].price, pages[name][3].previous + 2)
    report = checked(tmp_path, pages)
    taken = _joins(monkeypatch)
    monkeypatch.setattr(engine, "PARALLEL", False)
    one = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=100)
    assert "QC601" in set(one.findings["rule"])  # the break in the second half is seen
    monkeypatch.setattr(engine, "PARALLEL", True)
    two = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=100)
    assert taken == [True]
    same(one, two)


def test_a_page_repeating_one_of_the_first_half_runs_the_second_half_again(request, tmp_path, monkeypatch):
    if _ran_alone(request):
        return
    report = checked(tmp_path, _served_late(5))
    taken = _joins(monkeypatch)
    monkeypatch.setattr(engine, "PARALLEL", False)
    one = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=100)
    assert "QC603" in set(one.findings["rule"])  # the cached page is seen
    monkeypatch.setattr(engine, "PARALLEL", True)
    two = history_of_source(FrameSource(report.quotes), report.files, PROFILE, window_quotes=100)
    assert taken == [False]  # the child's half depended on the first: run again here
    same(one, two)


def test_two_processes_over_a_ledger_find_and_move_the_state_as_one(request, tmp_path, monkeypatch):
    if _ran_alone(request):
        return
    report = checked(tmp_path / "pages", faulty_pages(9))
    path = _write_ledger(tmp_path, report, 90)
    taken = _joins(monkeypatch)
    monkeypatch.setattr(engine, "WINDOW_QUOTES", 60)
    monkeypatch.setattr(engine, "PARALLEL", False)
    one = history_of_ledger_files([path], Options())
    monkeypatch.setattr(engine, "PARALLEL", True)
    two = history_of_ledger_files([path], Options())
    assert len(taken) == 1
    same(one.result, two.result)
    pd.testing.assert_frame_equal(one.report.findings, two.report.findings)
    assert one.state.as_dict() == two.state.as_dict()
