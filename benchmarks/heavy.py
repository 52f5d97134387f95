"""Time the heavy inputs of a CI run, each as a whole `python -m checker check` process.

Three cases, each generated once into benchmarks/out/heavy/ (not committed) and then checked by
`python -m checker check` under `/usr/bin/time -v` (wall time, user+sys CPU time, peak RSS):

- `jsonl`: a JSON Lines file of 1,000,000 records, each failing the record schema
  (`{"symbol": 5, "price": "x"}`), JSON report only. Target: under 1 GB, 50,000 records/s or more.
- `folder`: a folder of 20,000 pages of 34 quotes each (the sample page's shape: 30 stocks and 4
  indices between a menu, a headline and a widget), JSON report only, with the default `--jobs`
  (one process per core) and with `--jobs 1`. Target: 200 pages/s or more, under 1 GB, the
  default never slower than `--jobs 1`.
- `marquee`: a 17 MB single line of 400,000 quotes (the sample page's 34 quotes repeated,
  space-separated), with the default reports (JSON and HTML). Target: under 20 s.

On a shared machine the CPU time (user+sys) is steadier than the wall time; the rates are given
for both. `--quick` uses 1/20 of every size.

    python -m benchmarks.heavy                       # all three cases
    python -m benchmarks.heavy --cases folder --quick
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.generate import PageGenerator

ROOT = Path(__file__).parent.parent
OUT = Path(__file__).parent / "out" / "heavy"
SAMPLE = ROOT / "samples" / "sample-page.txt"
CASES = ("jsonl", "folder", "marquee")
JSONL_RECORDS = 1_000_000
FOLDER_PAGES = 20_000
MARQUEE_QUOTES = 400_000
PAGE_STOCKS, PAGE_INDICES = 30, 4
_PAGE = os.sysconf("SC_PAGE_SIZE")
_QUOTE_LINE = re.compile(r"^[A-Z][A-Z0-9]* [\d,.]+ (Increased|Decreased) By")


# -- inputs ----------------------------------------------------------------------------------------
def ticker_page(seed: int, faults: float = 0.0) -> str:
    """A page shaped like samples/sample-page.txt: a menu, 30 stock and 4 index quotes, a headline,
    prose and a number widget. With `faults` > 0, that fraction of the stock quotes is faulty
    (spread over every fault kind of benchmarks.generate, as its pages are)."""
    gen = PageGenerator(faults, seed)
    quotes = [gen.quote() for _ in range(PAGE_STOCKS)]
    quotes += [gen.index_quote() for _ in range(PAGE_INDICES)]
    head = [gen.random.choice(("PRINT EDITION ► BR MARKETS ► LATEST NEWS", "Markets at a glance")), ""]
    tail = ["", gen.random.choice(("KSE100 Edges Higher as Energy Stocks Rally", "BR100 ends flat")), ""]
    tail += [gen.furniture(), "", "Visitors today", f"{gen.random.randint(1000, 99999):,}"]
    return "\n".join([*head, *quotes, *tail]) + "\n"


def write_ticker_folder(folder: Path, pages: int, faults: float = 0.0, seed: int = 0) -> Path:
    """`pages` ticker pages in `folder`, named so that they sort in the order written."""
    folder.mkdir(parents=True, exist_ok=True)
    width = len(str(max(pages - 1, 1)))
    for i in range(pages):
        (folder / f"page-{i:0{width}d}.txt").write_text(ticker_page(seed * 1_000_003 + i, faults), "utf-8")
    return folder


def sample_quotes() -> list[str]:
    """The 34 ticker quotes of samples/sample-page.txt."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if _QUOTE_LINE.match(line)]


def write_marquee(path: Path, quotes: int) -> Path:
    """One line of `quotes` quotes: the sample page's ticker repeated, space-separated."""
    ticker = sample_quotes()
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for start in range(0, quotes, len(ticker)):
            if start:
                handle.write(" ")
            handle.write(" ".join(ticker[: quotes - start]))
        handle.write("\n")
    return path


def write_bad_jsonl(path: Path, records: int) -> Path:
    """`records` JSON Lines records, each failing the record schema (a number symbol, a text price)."""
    line = '{"symbol": 5, "price": "x"}\n'
    block = line * 10_000
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for _ in range(records // 10_000):
            handle.write(block)
        handle.write(line * (records % 10_000))
    return path


# -- timing ----------------------------------------------------------------------------------------
@dataclass
class Timed:
    """One `python -m checker check` process, as /usr/bin/time -v saw it."""

    label: str
    items: int
    unit: str
    wall: float
    cpu: float
    peak_mb: float  # the largest single process
    tree_peak_mb: float  # all the run's processes together (sampled)
    status: int
    target: str

    def rates(self) -> tuple[float, float]:
        """Items per wall second and per CPU second."""
        return self.items / max(self.wall, 1e-9), self.items / max(self.cpu, 1e-9)


def _elapsed(text: str) -> float:
    """Seconds from /usr/bin/time's `h:mm:ss` or `m:ss.ss`."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _tree_rss(root: int) -> int:
    """The resident set size, in bytes, of process `root` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * _PAGE
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total


class TreeSampler:
    """The largest total RSS of a process tree, sampled every `interval` seconds in a thread."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root, self.interval, self.peak = root, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _tree_rss(self.root))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_check(args: list[str]) -> tuple[float, float, float, float, int, str]:
    """`python -m checker check ARGS`, timed: (wall s, user+sys CPU s of it and its workers, peak RSS
    MB of its largest process, peak RSS MB of all its processes together, exit status, stderr)."""
    command = [sys.executable, "-m", "checker", "check", *args]
    time_tool = Path("/usr/bin/time")
    if time_tool.exists():
        command = [str(time_tool), "-v", *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        sampler = TreeSampler(process.pid)
        status = process.wait()
        tree_peak = sampler.stop()
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peak = tree_peak / 2**20  # without /usr/bin/time: the sampled peak of the whole tree
    if time_tool.exists():

        def field(name: str) -> str:
            match = re.search(rf"{re.escape(name)}: (\S+)", text)
            return match.group(1) if match else "0"

        wall = _elapsed(field("Elapsed (wall clock) time (h:mm:ss or m:ss)"))
        cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
        peak = int(field("Maximum resident set size (kbytes)")) / 1024
        status = int(field("Exit status"))
    return wall, cpu, peak, max(tree_peak / 2**20, peak), status, text


def _timed(label: str, items: int, unit: str, target: str, args: list[str]) -> Timed:
    print(f"running: python -m checker check {' '.join(args)}", file=sys.stderr)
    wall, cpu, peak, tree_peak, status, err = run_check(args)
    if status not in (0, 1):
        print(err[-3000:], file=sys.stderr)
    return Timed(label, items, unit, wall, cpu, peak, tree_peak, status, target)


def case_jsonl(scale: int) -> Iterator[Timed]:
    records = JSONL_RECORDS // scale
    path = OUT / f"bad-records-{records}.jsonl"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr)
        write_bad_jsonl(path.with_suffix(".tmp"), records).rename(path)
    target = "< 1 GB, >= 50,000 records/s"
    yield _timed("JSON Lines, every record bad", records, "records", target,
                 [str(path), "--no-report", "--json", str(OUT / "jsonl.json")])  # fmt: skip


def case_folder(scale: int) -> Iterator[Timed]:
    pages = FOLDER_PAGES // scale
    folder = OUT / f"ticker-pages-{pages}"
    if not folder.exists():
        print(f"generating {folder.name}/ ...", file=sys.stderr)
        scratch = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        write_ticker_folder(scratch, pages, faults=0.01, seed=1).rename(folder)
    target = ">= 200 pages/s, < 1 GB"
    common = [str(folder), "--no-report", "--json"]
    label = f"folder, default --jobs ({os.cpu_count()})"
    yield _timed(
        label, pages, "pages", f"{target}, not slower than --jobs 1", [*common, str(OUT / "folder.json")]
    )
    yield _timed(
        "folder, --jobs 1", pages, "pages", target, [*common, str(OUT / "folder-1.json"), "--jobs", "1"]
    )


def case_marquee(scale: int) -> Iterator[Timed]:
    quotes = MARQUEE_QUOTES // scale
    path = OUT / f"marquee-{quotes}.txt"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr)
        write_marquee(path.with_suffix(".tmp"), quotes).rename(path)
    reports = OUT / "marquee-reports"
    shutil.rmtree(reports, ignore_errors=True)
    size = path.stat().st_size / 1e6  # decimal megabytes, as the target is given
    yield _timed(f"marquee line of {size:.0f} MB, JSON and HTML reports", quotes, "quotes", "< 20 s",
                 [str(path), "--report-dir", str(reports)])  # fmt: skip


_CASES = {"jsonl": case_jsonl, "folder": case_folder, "marquee": case_marquee}


def markdown(rows: list[Timed]) -> str:
    """The results as a Markdown table."""
    out = [
        "| case | size | wall s | CPU s (user+sys) | per wall s | per CPU s | peak RSS MB (largest process) "
        "| peak RSS MB (all processes) | exit | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        per_wall, per_cpu = row.rates()
        out.append(
            f"| {row.label} | {row.items:,} {row.unit} | {row.wall:.1f} | {row.cpu:.1f} | {per_wall:,.0f} "
            f"| {per_cpu:,.0f} | {row.peak_mb:,.0f} | {row.tree_peak_mb:,.0f} | {row.status} | {row.target} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--quick", action="store_true", help="1/20 of every size")
    args = parser.parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in _CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    OUT.mkdir(parents=True, exist_ok=True)
    scale = 20 if args.quick else 1
    rows = [row for case in cases for row in _CASES[case](scale)]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at the end {load}.\n"
    )
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
