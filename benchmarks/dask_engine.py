"""The Dask engine against the local one: folders of ticker pages (34 quotes each), checked

- by the command line: `--engine local` (--jobs 1 and 2) and `--engine dask` (a LocalCluster of
  1 and 2 worker processes, started and stopped by the run: its cost is in the figures);
- on a cluster already running (1 and 2 worker processes, one thread each, with the settings of
  the cluster a run starts: checker.distributed.LOCAL_CLUSTER_CONFIG), through the Python API:
  the run's wall time, and each batch's CPU time on its worker (logged to the scheduler), whose
  throughput (pages per batch CPU-second) times N predicts N workers with a core each.

    python -m benchmarks.dask_engine [--pages 10000 100000]

Wall and CPU (user+sys of the run and its worker processes, from /usr/bin/time) are noisy on a
shared machine: the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from benchmarks.heavy import ROOT, run_check, write_ticker_folder

OUT = Path(__file__).parent / "out" / "dask"
QUOTES_PER_PAGE = 34


def folder(pages: int) -> Path:
    """A folder of `pages` ticker pages (2% faulty quotes), written once and kept."""
    path = OUT / f"pages-{pages}"
    done = path / ".complete"
    if not done.exists():
        write_ticker_folder(path, pages, faults=0.02, seed=pages)
        done.write_text("ok\n", encoding="utf-8")
    return path


def cli_rows(pages: int, path: Path) -> list[list[str]]:
    rows = []
    report = OUT / "report.json"
    for label, extra in (
        ("local, --jobs 1", ["--jobs", "1"]),
        ("local, --jobs 2", ["--jobs", "2"]),
        ("dask, LocalCluster of 1 worker", ["--engine", "dask", "--jobs", "1"]),
        ("dask, LocalCluster of 2 workers", ["--engine", "dask", "--jobs", "2"]),
    ):
        args = [str(path), "--no-report", "--json", str(report), "-q", *extra]
        print(f"running: python -m checker check {' '.join(args)}", file=sys.stderr)
        wall, cpu, _peak, tree_peak, status, err = run_check(args)
        if status not in (0, 1):
            print(err[-2000:], file=sys.stderr)
        rows.append(
            [
                f"{pages:,}",
                label,
                f"{wall:.1f}",
                f"{cpu:.1f}",
                f"{pages / wall:,.0f}",
                f"{tree_peak:,.0f}",
                "",
            ]
        )
    return rows


def timed_batch(blob, refs, index, output_dir):
    """checker.distributed's task, its CPU time (this worker process's) logged to the scheduler."""
    from distributed import get_worker

    from checker.distributed import check_batch, unpacked

    start = time.process_time()
    outcome = check_batch(blob, refs, index, output_dir)
    cpu = time.process_time() - start
    get_worker().log_event(BATCH_EVENT, {"index": index, "cpu": cpu, "pages": len(unpacked(refs))})
    return outcome


BATCH_EVENT = "quotecheck-batch-cpu"


def _check(client, path: Path) -> None:
    """What check_paths_dask does with a client, its task timed (the report is built and dropped)."""
    from checker.api import _add_part, _finish, _new_report, _Run
    from checker.distributed import check_on_cluster
    from checker.engine import Checker
    from checker.inputs.sources import inputs_of

    checker = Checker()
    refs = inputs_of([path], checker.options)
    run = _Run(_new_report(checker.options))
    for _index, parts in check_on_cluster(refs, checker, client, task=timed_batch):
        for part in parts:
            _add_part(run, part)
    _finish(run)


def cluster_rows(pages: int, path: Path) -> list[list[str]]:
    """Runs on a warm LocalCluster: wall, and each batch's CPU time on its worker."""
    import dask
    import distributed

    from checker.distributed import LOCAL_CLUSTER_CONFIG

    rows = []
    walls = {}
    warm = folder(200)
    for workers in (1, 2):
        with (
            dask.config.set(LOCAL_CLUSTER_CONFIG),  # the settings of the cluster a run starts
            distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            _check(client, warm)  # each worker imports and builds its engine once
            seen = len(client.get_events(BATCH_EVENT))
            start, driver = time.perf_counter(), time.process_time()
            _check(client, path)
            wall, driver = time.perf_counter() - start, time.process_time() - driver
            events = [event for _when, event in client.get_events(BATCH_EVENT)[seen:]]
        walls[workers] = wall
        cpu = sum(event["cpu"] for event in events)
        per_batch = sum(event["pages"] for event in events) / cpu if cpu else 0.0
        mean_ms = cpu / max(1, len(events)) * 1000
        note = (
            f"{len(events)} batches, {mean_ms:.0f} ms CPU each, {per_batch:,.0f} pages per batch CPU-second"
        )
        note += f"; the driver (with the LocalCluster's scheduler) {driver:.1f} CPU s"
        if workers == 2:
            note += f"; wall speed-up over 1 worker {walls[1] / wall:.2f}x ({walls[1] / wall / 2:.0%} of 2x)"
        rows.append(
            [
                f"{pages:,}",
                f"dask, warm cluster of {workers} worker(s)",
                f"{wall:.1f}",
                f"{cpu + driver:.1f}",
                f"{pages / wall:,.0f}",
                "",
                note,
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--no-cli", action="store_true", help="only the warm-cluster runs")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    rows = []
    for pages in args.pages:
        path = folder(pages)
        if not args.no_cli:
            rows += cli_rows(pages, path)
        rows += cluster_rows(pages, path)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} cores; load average before the table: {load}; {QUOTES_PER_PAGE} quotes a page\n")
    print("| pages | run | wall s | CPU s | pages/s | peak MB (all processes) | batches |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
