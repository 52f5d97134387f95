"""Time and measure every stage of a check on generated pages of growing size, next to a floor.

For each size (and fault fraction) the runner generates a page (cached under benchmarks/out/pages),
then, in a fresh worker process, times each stage one after the other: the floor (one pass of
Python's `re` with the feed's own spelling, benchmarks.floor.FLOOR_PATTERN, over the decoded text,
counting matches), the old floor (the same with the parser's loose QUOTE_PATTERN), read
(bytes from disk and decode), parse, frame, pandera, rules, findings (policy, sort), and each report
format. Peak memory is the worker's resident set size during the stage. End to end is a separate
`quotecheck check FILE --json OUT` process, timed with its peak RSS from /usr/bin/time -v (or
getrusage). Results go to benchmarks/out/ as Markdown and JSON, and the Markdown table is printed.

The fit of log(time) against log(lines) per stage, over the sizes of at least 100k lines (all sizes
if fewer than two are that big), gives the scaling exponent: about 1 is linear; a stage whose
exponent is above 1.15 is flagged as not linear.

    python -m benchmarks.run                          # 10k, 100k, 1M lines at 1% faults
    python -m benchmarks.run --sizes 10k,100k,1M,10M --faults 0.01,0.1,1
    python -m benchmarks.run --sizes 1M --faults 1 --formats json,text
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
_ROOT = Path(__file__).parent.parent
PAGES = OUT / "pages"
FORMATS = ("json", "text", "html", "sarif", "junit", "markdown", "github")
NONLINEAR_SLOPE = 1.15
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def parse_size(text: str) -> int:
    """`10k`, `1M`, `2.5M` or `1000` as a number of lines."""
    match = re.fullmatch(r"([0-9.]+)([kKmM]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


def size_label(lines: int) -> str:
    """1000000 -> 1M, 10000 -> 10k."""
    if lines >= 1_000_000 and lines % 1_000_000 == 0:
        return f"{lines // 1_000_000}M"
    if lines >= 1_000 and lines % 1_000 == 0:
        return f"{lines // 1_000}k"
    return str(lines)


# -- the worker: one process, stages one after the other ------------------------------------------
def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE_SIZE


class PeakSampler:
    """The peak resident set size while a block runs: a sampling thread plus ru_maxrss."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        self.high_water_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.peak = _rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        high_water = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.peak = max(self.peak, _rss(), high_water if high_water > self.high_water_before else 0)


def _stage(results: list[dict], name: str, work):
    gc.collect()
    with PeakSampler() as sampler:
        start, cpu = time.perf_counter(), time.process_time()
        value = work()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    results.append({"stage": name, "seconds": elapsed, "cpu": cpu, "peak_mb": sampler.peak / 2**20})
    return value


def worker(path: Path, formats: tuple[str, ...], out_dir: Path) -> list[dict]:
    """Time each stage of checking `path` in this process; the floor first."""
    import importlib

    from benchmarks.floor import floor_seconds

    results: list[dict] = []
    t0 = time.perf_counter()
    from checker.config import Options
    from checker.engine import source_lines
    from checker.findings import combine, severity_counts
    from checker.frame import build_frame
    from checker.parse import QUOTE_PATTERN, parse_text
    from checker.profile import load_profile
    from checker.read import decode
    from checker.report import FileResult, Report
    from checker.rules.registry import CheckContext
    from checker.rules.schema import schema_findings
    from checker.validate import unparsed_findings

    results.append(
        {
            "stage": "import",
            "seconds": time.perf_counter() - t0,
            "cpu": time.process_time(),
            "peak_mb": _rss() / 2**20,
        }
    )
    floor_text = [path.read_text(encoding="utf-8")]
    _stage(results, "floor (re, the feed's spelling)", lambda: floor_seconds(floor_text[0])[1])
    loose = re.compile(QUOTE_PATTERN.pattern)
    _stage(results, "old floor (re, QUOTE_PATTERN)", lambda: sum(1 for _ in loose.finditer(floor_text[0])))
    floor_text.clear()
    text = _stage(results, "read", lambda: decode(path.read_bytes())).text
    parsed, lines = _stage(results, "parse", lambda: parse_text(text))
    profile = load_profile()
    options = Options()
    name = str(path)
    quotes, numbers = _stage(results, "frame", lambda: build_frame(parsed.columns, name, profile))
    ctx = CheckContext(frame=quotes, numbers=numbers, profile=profile)
    schema = _stage(results, "pandera", lambda: schema_findings(ctx))
    rules = options.policy.enabled_rules()

    def run_rules():
        return [rule.run(ctx) for rule in rules if rule.check is not None]

    rule_parts = _stage(results, "rules", run_rules)

    def collect():
        findings = combine([unparsed_findings(parsed.unparsed, name), schema, *rule_parts])
        findings = options.policy.apply(findings)
        report = Report(options=options, rules=rules)
        result = FileResult(path=name, lines=len(lines), quotes=len(quotes))
        result.counts = severity_counts(findings)
        report.files.append(result)
        report.findings = findings
        report.source_lines.update(source_lines(findings, lines, name))
        return report

    report = _stage(results, "findings", collect)
    rule_parts.clear()
    results.append({"stage": "findings count", "seconds": float(len(report.findings)), "peak_mb": 0.0})
    for fmt in formats:
        target = out_dir / f"report.{fmt}"
        if fmt == "json":
            from checker.render.json import save_json

            _stage(results, "report json", lambda t=target: save_json(report, t))
        elif fmt == "text":
            from checker.render.text import finding_lines, summary_line

            def write_text(t: Path = target) -> None:
                with open(t, "w", encoding="utf-8") as handle:
                    for line in finding_lines(report):
                        handle.write(line + "\n")
                    handle.write(summary_line(report) + "\n")

            _stage(results, "report text", write_text)
        else:
            try:
                module = importlib.import_module(f"checker.render.{fmt}")
            except ImportError:
                continue
            if fmt == "github":

                def write_github(t: Path = target, m: object = module) -> None:
                    with open(t, "w", encoding="utf-8") as handle:
                        for line in m.github_lines(report):
                            handle.write(line + "\n")

                _stage(results, "report github", write_github)
            else:
                save = getattr(module, f"save_{fmt}", None)
                if save is not None:
                    _stage(results, f"report {fmt}", lambda t=target, s=save: s(report, t))
    return results


# -- end to end ------------------------------------------------------------------------------------
def end_to_end(path: Path, out_dir: Path) -> dict:
    """`quotecheck check PATH --json OUT` in its own process: wall time and peak RSS."""
    report = str(out_dir / "e2e.json")
    command = [sys.executable, "-m", "checker", "check", str(path), "--json", report, "--no-report"]
    time_tool = Path("/usr/bin/time")
    start = time.perf_counter()
    if time_tool.exists():
        done = subprocess.run(
            [str(time_tool), "-v", *command], capture_output=True, text=True, check=False, cwd=_ROOT
        )
        elapsed = time.perf_counter() - start
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        peak = int(match.group(1)) * 1024 if match else 0
        cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr))
    else:
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=_ROOT)
        elapsed = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak, cpu = usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime
    if done.returncode not in (0, 1):
        raise RuntimeError(f"quotecheck exited {done.returncode}: {done.stderr[-2000:]}")
    return {"stage": "end to end (check --json)", "seconds": elapsed, "cpu": cpu, "peak_mb": peak / 2**20}


# -- the scaling fit -------------------------------------------------------------------------------
def loglog_slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(seconds) against log(lines)."""
    points = [(n, s) for n, s in points if s > 0]
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


# -- the table -------------------------------------------------------------------------------------
def markdown(runs: list[dict]) -> str:
    """The results as Markdown: one table of stages per run, then the scaling fit."""
    out = []
    for run in runs:
        floor = next(r["seconds"] for r in run["stages"] if r["stage"].startswith("floor"))
        count = next((r["seconds"] for r in run["stages"] if r["stage"] == "findings count"), 0)
        out.append(
            f"### {size_label(run['lines'])} lines, {run['faults']:.0%} faulty quotes "
            f"({run['megabytes']:.1f} MB, {int(count):,} findings)\n"
        )
        old = next((r["seconds"] for r in run["stages"] if r["stage"].startswith("old floor")), 0.0)
        floor_cpu = next(r.get("cpu", 0.0) for r in run["stages"] if r["stage"].startswith("floor"))
        out.append("| stage | wall s | CPU s | peak RSS MB | x floor | x old floor | CPU x floor CPU |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for row in run["stages"]:
            if row["stage"] == "findings count":
                continue
            ratio = row["seconds"] / floor if floor else float("nan")
            old_ratio = row["seconds"] / old if old else float("nan")
            seconds, peak, cpu = row["seconds"], row["peak_mb"], row.get("cpu")
            cpu_text = f"{cpu:.3f}" if cpu is not None else ""
            cpu_ratio = f"{cpu / floor_cpu:.2f}" if cpu is not None and floor_cpu else ""
            out.append(
                f"| {row['stage']} | {seconds:.3f} | {cpu_text} | {peak:.0f} | {ratio:.2f} | {old_ratio:.2f} "
                f"| {cpu_ratio} |"
            )
        out.append("")
    by_faults: dict[float, list[dict]] = {}
    for run in runs:
        by_faults.setdefault(run["faults"], []).append(run)
    for faults, group in by_faults.items():
        if len(group) < 2:
            continue
        big = [r for r in group if r["lines"] >= 100_000]
        used = big if len(big) >= 2 else group
        sizes = ", ".join(size_label(r["lines"]) for r in used)
        out.append(f"### Scaling at {faults:.0%} faults: slope of log(time) on log(lines) over {sizes}\n")
        out.append("| stage | slope | linear? |")
        out.append("|---|---:|---|")
        for stage in [r["stage"] for r in used[0]["stages"]]:
            if stage in ("import", "findings count"):
                continue
            points = [
                (r["lines"], next((s["seconds"] for s in r["stages"] if s["stage"] == stage), 0.0))
                for r in used
            ]
            slope = loglog_slope(points)
            if slope is None:
                continue
            verdict = "yes" if slope <= NONLINEAR_SLOPE else "**NO: not linear**"
            out.append(f"| {stage} | {slope:.2f} | {verdict} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help="comma-separated line counts (10k,1M,...)")
    parser.add_argument("--faults", default="0.01", help="comma-separated fractions of faulty quotes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default=",".join(FORMATS), help="report formats to time")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end process")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    if args.worker:
        results = worker(Path(args.worker), formats, Path(args.worker_out))
        print(json.dumps(results))
        return 0
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    fractions = [float(f) for f in args.faults.split(",") if f.strip()]
    PAGES.mkdir(parents=True, exist_ok=True)
    from benchmarks.generate import write_page

    runs = []
    for faults in fractions:
        for lines in sizes:
            page = PAGES / f"page-{size_label(lines)}-{faults:g}-{args.seed}.txt"
            if not page.exists():
                print(f"generating {page.name} ...", file=sys.stderr)
                write_page(page.with_suffix(".tmp"), lines, faults, args.seed).rename(page)
            print(f"checking {page.name} ...", file=sys.stderr)
            with tempfile.TemporaryDirectory(dir=OUT) as scratch:
                done = subprocess.run(
                    [sys.executable, "-m", "benchmarks.run", "--worker", str(page), "--worker-out", scratch,
                     "--formats", ",".join(formats)],
                    capture_output=True, text=True, check=False, cwd=Path(__file__).parent.parent,
                )  # fmt: skip
                if done.returncode:
                    print(done.stderr, file=sys.stderr)
                    return 1
                stages = json.loads(done.stdout.strip().splitlines()[-1])
                if not args.no_e2e:
                    stages.append(end_to_end(page, Path(scratch)))
            runs.append(
                {"lines": lines, "faults": faults, "megabytes": page.stat().st_size / 2**20, "stages": stages}
            )
    header = (
        f"# quotecheck benchmark\n\nMachine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average at the end "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}.\n"
        f"Command: python -m benchmarks.run {' '.join(argv if argv is not None else sys.argv[1:])}\n"
    )
    table = header + "\n" + markdown(runs)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"results-{stamp}.md").write_text(table, encoding="utf-8")
    (OUT / f"results-{stamp}.json").write_text(json.dumps(runs, indent=1), encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
