"""Benchmark of the checks across snapshots: a synthetic archive of N pages x 34 quotes.

    python -m benchmarks.history                  # 10,000 and 100,000 pages
    python -m benchmarks.history --pages 1000000  # one size (each size runs in its own process)
    python -m benchmarks.history --end-to-end 10000  # pages on disk: check with and without --history
    python -m benchmarks.history --ledger 100000  # write a ledger, then time `quotecheck history` over it
    python -m benchmarks.history --history-of LEDGER  # only time `quotecheck history` over a ledger

The quote frame is built directly (as a run with include_quotes would hold it, with categorical
file, symbol and kind columns), then only `history_findings` is timed: wall and CPU time (user +
system, the steadier figure on a shared machine) and the process's peak resident memory. Pages
are stamped by file name, spread over the XKAR sessions of 2008-2026 with several a session
(the last one after the close), and a few previous closes are broken so the findings are built too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

STOCKS = 30
INDICES = ("KSE100", "KSE30", "BR100", "BR30")
FAULTS = 10
LEDGER_SLICE = 50_000  # pages written to the ledger at a time


def synthetic(pages: int, seed: int = 7) -> tuple[pd.DataFrame, list, int]:
    """The quote frame and page results of a consistent archive with FAULTS broken closes."""
    from checker.history.calendar import build_calendar, history_settings
    from checker.profile import load_profile
    from checker.report import FileResult

    cal = build_calendar(history_settings(load_profile()), dt.date(2008, 1, 1), dt.date(2026, 6, 30))
    days = [cal.day(i) for i in np.flatnonzero(cal.is_session & ~cal.uncertain) if cal.day(i).year >= 2008]
    per = max(2, -(-pages // len(days)))
    sessions = -(-pages // per)
    rng = np.random.default_rng(seed)
    n_sym = STOCKS + len(INDICES)
    # closes: stocks in paisa, indices in hundredths of a point; row 0 is the close before the
    # first session. Each stock moves in steps of 1/5000 of its first price, so every move
    # shows in its percent; every index move is at least 6 points.
    start = rng.integers(8000, 40000, STOCKS)
    unit = np.maximum(1, start // 5000)
    walk = np.cumsum(rng.integers(-20, 21, size=(sessions + 1, STOCKS)), axis=0)
    stock_close = start + unit * walk
    steps = rng.integers(600, 6001, size=(sessions + 1, len(INDICES))) * rng.choice(
        [-1, 1], (sessions + 1, len(INDICES))
    )
    index_close = np.cumsum(steps, axis=0) + np.array([8_000_000, 3_000_000, 1_000_000, 3_500_000])
    page_session = np.repeat(np.arange(sessions), per)[:pages]
    slot = np.tile(np.arange(per), sessions)[:pages]
    last = (slot == per - 1) | (np.arange(pages) == pages - 1)
    noise = unit * rng.integers(-9, 10, (pages, STOCKS))
    stock_price = stock_close[page_session + 1] + np.where(last[:, None], 0, noise)
    stock_prev = stock_close[page_session]
    index_noise = rng.integers(-20000, 20001, (pages, len(INDICES)))
    level = index_close[page_session + 1] + np.where(last[:, None], 0, index_noise)
    level_prev = index_close[page_session]
    level = np.where(np.abs(level - level_prev) < 600, level + 1200, level)
    shown_level = np.floor(level / 100 + 0.5)
    shown_change = np.floor((level - level_prev) / 10 + 0.5) / 10
    for fault in rng.choice(np.flatnonzero(page_session > 0), FAULTS, replace=False):
        stock_prev[fault, 0] += unit[0]
    price = np.concatenate([stock_price / 100, shown_level], axis=1).ravel()
    change = np.concatenate([(stock_price - stock_prev) / 100, shown_change], axis=1).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.round(change / (price - change) * 100, 2)
    names = []
    for k in range(pages):
        day = days[page_session[k]]
        minutes = 16 * 60 + 45 if last[k] else 9 * 60 + 40 + int(slot[k] * (340 / per))
        names.append(f"snap {day.isoformat()}T{minutes // 60:02d}{minutes % 60:02d}.txt")
    symbols = [f"STK{i:02d}" for i in range(STOCKS)] + list(INDICES)
    is_index = np.tile(np.arange(n_sym) >= STOCKS, pages)
    line = np.tile(np.arange(1, n_sym + 1), pages)
    symbol_len = np.tile(np.array([len(s) for s in symbols]), pages)
    frame = pd.DataFrame(
        {
            "file": pd.Categorical.from_codes(np.repeat(np.arange(pages), n_sym), categories=names),
            "line": line,
            "column": np.ones(len(line), dtype=np.int64),
            "end_column": symbol_len + 40,
            "symbol": pd.Categorical.from_codes(np.tile(np.arange(n_sym), pages), categories=symbols),
            "symbol_col": np.ones(len(line), dtype=np.int64),
            "kind": pd.Categorical.from_codes(is_index.astype(np.int8), categories=["stock", "index"]),
            "price": price,
            "price_text": price,  # the benchmark's messages show the float; real runs show the text
            "price_col": symbol_len + 2,
            "price_decimals": np.where(is_index, 0, 2),
            "change": change,
            "change_decimals": np.where(is_index, 1, 2),
            "percent": percent,
        }
    )
    results = [FileResult(path=name, quotes=n_sym) for name in names]
    return frame, results, per


def measure(pages: int) -> None:
    """Build one archive and time the history step over it (run in its own process)."""
    from checker.history.engine import history_findings
    from checker.profile import load_profile

    frame, results, per = synthetic(pages)
    profile = load_profile()
    history_findings(frame.iloc[:340], results[:10], profile)  # imports and calendar warmed up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the archive itself
    cpu, wall = time.process_time(), time.perf_counter()
    result = history_findings(frame, results, profile)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    breaks = int((result.findings["rule"] == "QC601").sum())
    print(
        f"{pages:>9,} pages {len(frame):>11,} quotes  {per:>3} a session  wall {wall:7.2f} s  "
        f"cpu {cpu:7.2f} s  peak RSS {peak:7.0f} MiB (archive alone {before:.0f})  "
        f"findings {len(result.findings)} ({breaks} breaks)"
    )


def _line(symbol: str, price: float, change: float, percent: float, index: bool) -> str:
    """A quote as the feed prints it (from the synthetic figures)."""
    shown_percent = f"{percent:.2f}".rstrip("0").rstrip(".")
    shown_percent = "0" if shown_percent in ("-0", "") else shown_percent
    if index:
        word = "Increased By" if change > 0 else "Decreased By"
        return f"{symbol} {price:,.0f} {word} {change:.1f} ({shown_percent}%)"
    if change == 0:
        return f"{symbol} {price:.2f} No Change ▼ 0.00 (0%)"
    word, arrow = ("Increased By", "▲") if change > 0 else ("Decreased By", "▼")
    return f"{symbol} {price:.2f} {word} {arrow} {change:.2f} ({shown_percent}%)"


def end_to_end(pages: int, folder: str, repeat: int = 5) -> None:
    """Write an archive of pages and time `check` on it with and without --history, `repeat`
    times each, alternating, so that both see the same machine: each run's wall and CPU time of
    the whole process tree (user + system, from /usr/bin/time when present), then the best and
    the median of each and their ratios."""
    import statistics
    from pathlib import Path

    frame, _, _ = synthetic(pages)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    names = frame["file"].cat.categories
    codes = frame["file"].cat.codes.to_numpy()
    symbols, kinds = frame["symbol"].astype(str).to_numpy(), (frame["kind"] == "index").to_numpy()
    price, change, percent = (frame[c].to_numpy() for c in ("price", "change", "percent"))
    bounds = np.flatnonzero(np.diff(codes)) + 1
    for rows in np.split(np.arange(len(frame)), bounds):
        lines = [_line(symbols[r], price[r], change[r], percent[r], bool(kinds[r])) for r in rows]
        (root / names[codes[rows[0]]]).write_text("\n".join([*lines, "", "Markets.", ""]), encoding="utf-8")
    timer = ["/usr/bin/time", "-f", "%U %S %M"] if os.path.exists("/usr/bin/time") else []
    runs: dict[str, list[tuple[float, float]]] = {"without": [], "with": []}
    for _ in range(repeat):
        for label, flags in (("without", []), ("with", ["--history"])):
            command = [sys.executable, "-m", "checker", "check", "--no-report", "-q", str(root), *flags]
            started = time.perf_counter()
            done = subprocess.run([*timer, *command], capture_output=True, text=True, env=os.environ)
            wall = time.perf_counter() - started
            figures = done.stderr.strip().splitlines()[-1].split() if timer else ["nan"] * 3
            cpu = float(figures[0]) + float(figures[1])
            runs[label].append((wall, cpu))
            rss = f"{int(figures[2]) // 1024} MiB" if timer else "?"
            print(
                f"check {pages:,} pages {' '.join(flags) or '(no --history)':<16} exit {done.returncode}  "
                f"wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak RSS {rss}"
            )
    for what, at in (("wall", 0), ("cpu", 1)):
        plain = [r[at] for r in runs["without"]]
        history = [r[at] for r in runs["with"]]
        best, median = (min(plain), min(history)), (statistics.median(plain), statistics.median(history))
        print(
            f"{what}: best {best[0]:.2f} s -> {best[1]:.2f} s ({best[1] / best[0]:.2f}x); "
            f"median {median[0]:.2f} s -> {median[1]:.2f} s ({median[1] / median[0]:.2f}x)"
        )


def ledger(pages: int, folder: str) -> None:
    """Write the ledger of a synthetic archive of `pages` pages (as `check --ledger` does, from the
    history step's snapshot table; in slices of LEDGER_SLICE pages, so the writing itself stays
    small), then time `quotecheck history` over it in its own process (CPU user + system, wall and
    peak RSS from /usr/bin/time when present)."""
    import shutil
    from pathlib import Path

    import pyarrow.parquet as pq

    from checker.history.engine import history_findings
    from checker.history.ledger import ledger_table
    from checker.profile import load_profile

    frame, results, _ = synthetic(pages)
    frame["percent_decimals"] = 2
    profile = load_profile()
    snapshots = history_findings(frame, results, profile).snapshots
    root = Path(folder)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    path = str(root / "ledger-1.parquet")
    exact = {name for name, kind in profile.kinds.items() if kind.exact}
    empty = pd.DataFrame(columns=["file", "line", "column", "rule", "severity"])
    cpu, wall = time.process_time(), time.perf_counter()
    per_page = len(frame) // pages
    writer = None
    rows = 0
    for start in range(0, pages, LEDGER_SLICE):
        part = frame.iloc[start * per_page : (start + LEDGER_SLICE) * per_page].copy()
        part["price_text"] = part["price"].map(repr).astype(object)  # texts as a page would show them
        table = ledger_table(part, empty, snapshots.iloc[start : start + LEDGER_SLICE], exact)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
        rows += table.num_rows
    if writer is not None:
        writer.close()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    size = os.path.getsize(path) / 2**20
    print(
        f"ledger {pages:,} pages {rows:,} quotes written (wall {wall:.2f} s, cpu {cpu:.2f} s), {size:.0f} MiB"
    )
    del frame, results, snapshots
    history_over(path)


def history_over(path: str) -> None:
    """Time `quotecheck history -q LEDGER` in its own process."""
    command = [sys.executable, "-m", "checker", "history", "-q", path]
    timer = ["/usr/bin/time", "-f", "%U %S %e %M"] if os.path.exists("/usr/bin/time") else []
    done = subprocess.run([*timer, *command], capture_output=True, text=True, env=os.environ)
    if timer:
        user, system, elapsed, rss = done.stderr.strip().splitlines()[-1].split()
        print(
            f"quotecheck history over it: exit {done.returncode}  cpu {float(user) + float(system):.2f} s  "
            f"(user {user}, sys {system})  wall {elapsed} s  peak RSS {int(rss) // 1024} MiB"
        )
    else:
        print(f"quotecheck history over it: exit {done.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, action="append", help="archive size (repeatable)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--end-to-end", type=int, metavar="N", help="write N pages and time check with and without --history"
    )
    parser.add_argument("--folder", default="benchmarks/out/history-pages", help="where --end-to-end writes")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each with --end-to-end (alternating)")
    parser.add_argument(
        "--ledger", type=int, metavar="N", help="write, read back and check a ledger of N pages"
    )
    parser.add_argument(
        "--ledger-folder", default="benchmarks/out/history-ledger", help="where --ledger writes"
    )
    parser.add_argument("--history-of", metavar="LEDGER", help="only time `quotecheck history` over a ledger")
    args = parser.parse_args()
    if args.history_of:
        history_over(args.history_of)
        return
    if args.ledger:
        ledger(args.ledger, args.ledger_folder)
        return
    if args.end_to_end:
        end_to_end(args.end_to_end, args.folder, args.repeat)
        return
    if args.one:
        measure(args.one)
        return
    for pages in args.pages or [10_000, 100_000]:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.history", "--one", str(pages)], check=True, env=os.environ
        )


if __name__ == "__main__":
    main()
