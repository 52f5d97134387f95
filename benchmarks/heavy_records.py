"""A JSON Lines file of records that all fail the record schema, checked end to end.

Generates N records, each failing schemas/quotes.schema.json (a number as the symbol, a price
that is not a number, three required members missing), and times
`python -m checker check FILE --no-report --json OUT` in a child process: CPU time (user + sys,
steadier than wall time on a shared machine), wall time, records per CPU second and the
child's peak resident set size (from getrusage of the child).

    python -m benchmarks.heavy_records                  # 1M records, each line different
    python -m benchmarks.heavy_records --records 200k --same
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import parse_size


def write_failing_records(path: Path, records: int, same: bool = False) -> Path:
    """N JSON Lines records, each failing the schema; `same` repeats one line, else each differs."""
    with path.open("w", encoding="utf-8") as out:
        if same:
            line = '{"symbol": 5, "price": "x"}\n'
            for start in range(0, records, 100_000):
                out.write(line * min(100_000, records - start))
        else:
            for start in range(0, records, 100_000):
                block = range(start, min(start + 100_000, records))
                out.write("".join(f'{{"symbol": {i}, "price": "x{i % 9973}"}}\n' for i in block))
    return path


def time_check(path: Path, report: Path) -> dict[str, float]:
    """CPU and wall seconds and peak RSS (MiB) of one `python -m checker check` of `path`."""
    command = [sys.executable, "-m", "checker", "check", "--no-config", str(path), "--no-report"]
    command += ["--json", str(report)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode not in (0, 1):
        error = completed.stderr.decode(errors="replace")[-2000:]
        raise SystemExit(f"check failed with status {completed.returncode}: {error}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu": cpu, "wall": wall, "peak_mib": after.ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=parse_size, default=1_000_000, help="how many (e.g. 1M, 200k)")
    parser.add_argument("--same", action="store_true", help="every line the same record")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = write_failing_records(Path(folder) / "failing.jsonl", args.records, args.same)
        figures = time_check(path, Path(folder) / "report.json")
    kind = "identical" if args.same else "different"
    print(
        f"{args.records} failing records ({kind} lines): {figures['cpu']:.1f} s CPU "
        f"({figures['wall']:.1f} s wall), {args.records / figures['cpu']:,.0f} records per CPU second, "
        f"peak RSS {figures['peak_mib']:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
