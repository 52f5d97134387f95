"""Many input files checked on a Dask cluster (`--engine dask`), with the report one process gives.

The unit of work is a batch of input refs (BATCH_MIN_PAGES to engine.BATCH_PAGES of them, or
BATCH_MIN_BYTES of data and more): a task of about 100 ms or more, so the scheduler's overhead
(about 1 ms a task) stays small. Each task runs the engine unchanged: a Checker, built once
per worker process for the run's options (cached by their pickled bytes), checks the batch
with `Checker.check_inputs`, and pandera runs its pandas backend on that batch's frames (never
on a Dask frame, whose partitions it would validate one at a time).

Results come back in input order: a bounded number of batches is in flight (a few per worker
thread), finished ones wait in a reorder buffer until every batch before them is in, so the
driver holds a few batches at a time and the report is the one `--engine local` writes.

A worker that dies mid-batch has its batch run again elsewhere (the scheduler reschedules it;
`retries` covers a task that raised); a file that fails inside a task is its own QC904 finding
(the engine's); a batch whose task still fails is checked by the driver itself, so the run
completes with the same findings.

With --history (check_history_dask) the batches' quotes stay on the workers and the history
step runs there too, over partitions in capture order merged as a tree
(checker.history.partitions); the command `quotecheck history LEDGER... --engine dask` does the
same over ledger parts (ledger_history_dask).

With an output folder (`--output-dir DIR`) workers write each batch's findings, the policy and
the baseline applied, as DIR/findings/part-NNNNN.parquet (NNNNN the batch's place in input
order, one file per batch, an empty one for a batch with no finding), and hand back only the
files' figures and the first findings of each rule (what the HTML report shows). The driver's
report is then a PartedReport: files, counts and those first findings; the JSON report and the
SARIF log read every finding back from the parts, one at a time, in report order.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from checker import engine
from checker.config import Options
from checker.engine import Checker, Part
from checker.findings import _sort_key, combine, empty_findings, normalize, severity_counts
from checker.inputs.sources import InputRef, inputs_of
from checker.report import FileResult, Report

BATCH_MIN_PAGES = 64  # a batch holds at least this many inputs (unless fewer are left) ...
BATCH_MIN_BYTES = 4 << 20  # ... or at least this much data
BATCHES_PER_WORKER = 4  # batches per worker thread at least, so that none waits long for the last
IN_FLIGHT_PER_THREAD = 3  # batches handed to the cluster per worker thread, at most
RETRIES = 2
WORKER_WAIT = 60  # seconds a run waits for a cluster with no worker to get one
# What a PartedReport keeps of each rule's findings for the HTML report (render.html's cap).
HELD_PER_RULE = 200
HELD_QUOTES = 2000
FINDINGS_DIR = "findings"
PART_NAME = "part-{index:05d}.parquet"
INSTALL_HINT = 'the Dask engine needs the dask extra: pip install "quotecheck[dask]"'
# The Dask settings of a LocalCluster started by a run (its workers take them when they start):
# no profile sampled of every task (the dashboard's, about a tenth of a worker's CPU), and the
# event loops' periodic checks (ticks, system and memory monitors, work stealing) run seldom.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing": False,
}

_CHECKERS: dict[str, Checker] = {}  # per worker process: the Checker of each run's options


class DaskMissing(ImportError):
    """dask.distributed is not installed."""


def require_dask() -> Any:
    """The `distributed` module, or DaskMissing saying how to install it."""
    try:
        import distributed
    except ImportError as error:
        raise DaskMissing(INSTALL_HINT) from error
    return distributed


# -- batches ------------------------------------------------------------------------------------
def batches(refs: list[InputRef], threads: int) -> list[list[InputRef]]:
    """The refs cut into batches in input order: enough for every thread to have a few, each of at
    least BATCH_MIN_PAGES inputs or BATCH_MIN_BYTES (as parallel.py's chunks, counted in bytes too)."""
    target = -(-len(refs) // max(1, threads * BATCHES_PER_WORKER))
    size = max(BATCH_MIN_PAGES, min(engine.BATCH_PAGES, target))
    out: list[list[InputRef]] = []
    batch: list[InputRef] = []
    held = 0
    for ref in refs:
        batch.append(ref)
        held += _size(ref)
        if len(batch) >= size or held >= BATCH_MIN_BYTES:
            out.append(batch)
            batch, held = [], 0
    if batch:
        out.append(batch)
    return out


def _size(ref: InputRef) -> int:
    if ref.path is None or ref.problem is not None:
        return 0
    try:
        return os.stat(ref.path).st_size
    except (OSError, ValueError):
        return 0


# -- what a task does ---------------------------------------------------------------------------
@dataclass
class BatchOutput:
    """What a batch written to an output folder hands back: its files' figures and a little more.

    `held` is the first HELD_PER_RULE findings of each rule in the batch (report order), `sources`
    the source lines of those, `quotes` the batch's first HELD_QUOTES quotes (when kept);
    `first` and `last` are the sort keys of the batch's first and last finding."""

    index: int
    names: list[str]
    results: list[FileResult]
    rows: int
    severities: dict[str, int]
    rules: dict[str, int]
    suppressed: int
    held: pd.DataFrame
    sources: dict[tuple[str, int], str]
    quotes: list[pd.DataFrame]
    first: tuple | None
    last: tuple | None
    path: str


def options_blob(options: Options) -> bytes:
    """The run's options as workers receive them (and cache their Checker by)."""
    return pickle.dumps(options, protocol=pickle.HIGHEST_PROTOCOL)


def shared_options(client: Any, blob: bytes) -> Any:
    """The options as a future every task of the run takes (see kept)."""
    return kept(client, blob, f"quotecheck-options-{os.urandom(6).hex()}")


def kept(client: Any, value: Any, key: str | None = None) -> Any:
    """`value` as a future made by a task of its own rather than scattered: the scheduler keeps
    the task, so it can make the value again when every worker holding it died (scattered data
    would be lost, and every task needing it cancelled)."""
    return client.submit(_value, value, key=key, pure=False)


def _value(value: Any) -> Any:
    return value


def worker_checker(blob: bytes) -> Checker:
    """This process's Checker for the options in `blob`, built the first time it is asked for."""
    key = hashlib.sha256(blob).hexdigest()
    checker = _CHECKERS.get(key)
    if checker is None:
        _CHECKERS.clear()  # one run at a time per worker: the last run's engine goes
        checker = _CHECKERS[key] = Checker(pickle.loads(blob))
    return checker


def packed(refs: list[InputRef]) -> bytes:
    """A batch's inputs as the bytes a task is given: the scheduler passes bytes on as they are,
    where a list of InputRefs it would unpickle and pickle again (10,000 paths made and parsed
    twice over in the scheduler's thread of the driver, about 0.5 s of a 10,000-page run)."""
    return pickle.dumps(refs, protocol=pickle.HIGHEST_PROTOCOL)


def unpacked(refs: list[InputRef] | bytes) -> list[InputRef]:
    """The inputs of a task (packed), or a list as it is."""
    return pickle.loads(refs) if isinstance(refs, bytes) else refs


def check_batch(blob: bytes, refs: list[InputRef] | bytes, index: int, output_dir: str | None) -> Any:
    """The task: check a batch of inputs with the engine, unchanged.

    Without an output folder: the batch's Parts (quotes only if the report keeps them). With
    one: its findings written there (write_batch_outputs), and a BatchOutput."""
    checker = worker_checker(blob)
    return run_batch(checker, unpacked(refs), index, output_dir)


def run_batch(checker: Checker, refs: list[InputRef], index: int, output_dir: str | None) -> Any:
    """What check_batch does, with a given Checker (the driver runs a failed batch with its own)."""
    parts = list(checker.check_inputs(refs))
    if output_dir is None:
        if not checker.options.include_quotes:
            for part in parts:
                part.quotes = []
        return parts
    return write_batch_outputs(parts, checker.options, output_dir, index)


def write_batch_outputs(parts: list[Part], options: Options, output_dir: str, index: int) -> BatchOutput:
    """Write a batch's outputs under `output_dir` and say what the driver keeps of it.

    The findings, policy and baseline applied as the report applies them, go to
    findings/part-NNNNN.parquet in report order."""
    from checker.api import _add_part, _new_report, _Run

    run = _Run(_new_report(options))
    for part in parts:
        _add_part(run, part)
    names = [name for part in parts for name in part.names]
    quotes = run.quotes if options.include_quotes else []
    return batch_output(run.report, combine(run.findings), quotes, names, output_dir, index)


def batch_output(
    report: Report,
    findings: pd.DataFrame,
    quotes: list[pd.DataFrame],
    names: list[str],
    output_dir: str,
    index: int,
) -> BatchOutput:
    """A batch's findings (in report order) written to findings/part-NNNNN.parquet, and what the
    driver keeps of the batch: its files' figures, counts, first findings of each rule and their
    source lines, and the first of `quotes` (the batch's quotes)."""
    path = Path(output_dir) / FINDINGS_DIR / PART_NAME.format(index=index)
    write_findings(findings, path)
    held = first_per_rule(findings, HELD_PER_RULE)
    wanted = set(zip(held["file"].astype(object), held["line"].astype(object), strict=True))
    sources = {key: text for key, text in report.source_lines.items() if key in wanted}
    rules = {str(k): int(v) for k, v in findings["rule"].value_counts().items()} if len(findings) else {}
    return BatchOutput(
        index=index,
        names=names,
        results=report.files,
        rows=len(findings),
        severities=severity_counts(findings),
        rules=rules,
        suppressed=report.baseline_suppressed,
        held=held,
        sources=sources,
        quotes=_first_quotes(quotes, HELD_QUOTES),
        first=_sort_key(findings, 0) if len(findings) else None,
        last=_sort_key(findings, len(findings) - 1) if len(findings) else None,
        path=str(path),
    )


def write_findings(findings: pd.DataFrame, path: Path) -> None:
    """A findings frame as one Parquet file, written whole or not at all."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(normalize(findings), preserve_index=False)
    temporary = path.with_name(path.name + ".tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, path)


def read_findings(path: str | os.PathLike[str], rows: int = 65_536) -> Iterator[pd.DataFrame]:
    """The findings of one part, a block of `rows` at a time."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(os.fspath(path))
    for block in parquet.iter_batches(batch_size=rows):
        yield normalize(block.to_pandas())


def first_per_rule(findings: pd.DataFrame, cap: int) -> pd.DataFrame:
    """The first `cap` findings of each rule, in the frame's order."""
    if not len(findings):
        return findings
    position = findings.groupby(findings["rule"].astype(object), sort=False).cumcount().to_numpy()
    return findings[position < cap].reset_index(drop=True)


def _first_quotes(quotes: list[pd.DataFrame], cap: int) -> list[pd.DataFrame]:
    out, held = [], 0
    for frame in quotes:
        if held >= cap:
            break
        out.append(frame.head(cap - held).copy())
        held += len(out[-1])
    return out


# -- the driver ---------------------------------------------------------------------------------
Task = Callable[[bytes, bytes, int, str | None], Any]  # (options, packed inputs, index, output folder)


def check_on_cluster(
    refs: list[InputRef],
    checker: Checker,
    client: Any,
    output_dir: str | None = None,
    retries: int = RETRIES,
    task: Task = check_batch,
) -> Iterator[tuple[int, Any]]:
    """Each batch's outcome, in input order: (index, its Parts) or, with `output_dir`, (index, BatchOutput).

    A bounded number of batches is in flight; a batch whose task fails (after `retries`, or once
    the scheduler gives up on workers dying under it) is checked here."""
    distributed = require_dask()
    if not client.nthreads():  # a scheduler with no worker yet: wait a while, never for ever
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    threads = max(1, sum(client.nthreads().values()))
    cut = batches(refs, threads)
    if not cut:
        return
    blob = options_blob(checker.options)
    shared = shared_options(client, blob)
    limit = max(2, threads * IN_FLIGHT_PER_THREAD)
    pending = distributed.as_completed()
    done: dict[int, Any] = {}
    position = {}
    submitted = 0
    run_key = os.urandom(6).hex()

    def submit() -> None:
        nonlocal submitted
        index = submitted
        future = client.submit(
            task,
            shared,
            packed(cut[index]),
            index,
            output_dir,
            key=f"quotecheck-batch-{run_key}-{index:05d}",
            retries=retries,
            pure=False,
        )
        position[future.key] = index
        pending.add(future)
        submitted += 1

    def top_up(wanted: int) -> None:
        # batches from the one awaited on, in flight or waiting in the buffer: at most `limit`
        while submitted < len(cut) and submitted - wanted < limit:
            submit()

    try:
        for wanted in range(len(cut)):
            top_up(wanted)
            while wanted not in done:
                future = next(pending)
                index = position.pop(future.key)
                try:
                    done[index] = future.result()
                except Exception:  # the task failed for good: this process checks the batch
                    done[index] = run_batch(checker, cut[index], index, output_dir)
                future.release()
            yield wanted, done.pop(wanted)
    finally:
        for future in list(pending.futures):
            future.cancel()


def open_client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A Client of the cluster at `scheduler`, else of a LocalCluster started here; and that
    cluster (None for the user's), to close after.

    The LocalCluster has `workers` worker processes of one thread each; for one worker, a
    worker thread in this process instead (a process of its own would only add its start, the
    imports of pandas, pyarrow and pandera again, and the copying of every batch's results).
    Its workers sample no profile of their tasks and check their event loops seldom
    (LOCAL_CLUSTER_CONFIG): both cost CPU time a run does not use."""
    import dask

    distributed = require_dask()
    if scheduler:
        return distributed.Client(scheduler, timeout="10s"), None
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        cluster = distributed.LocalCluster(
            n_workers=max(1, workers),
            threads_per_worker=1,
            processes=workers > 1,
            dashboard_address=None,
            silence_logs=40,  # errors only
        )
    return distributed.Client(cluster), cluster


# -- the history step on the cluster -----------------------------------------------------------
@dataclass
class HistoryBatch:
    """A batch checked for a run with --history: its Parts (quotes only when the report keeps
    them), what stays on the worker for the history step (the usable quotes), and the stamps
    its pages' names and crawler prefixes give."""

    parts: list[Part]
    quotes: pd.DataFrame
    stamps: dict[str, Any]


def check_history_batch(blob: bytes, refs: list[InputRef] | bytes, keep_quotes: bool) -> HistoryBatch:
    """The task of a run with --history: the batch checked (by a Checker that keeps the quotes),
    its quotes kept for the history step, and handed back in its Parts only with `keep_quotes`."""
    return history_batch(worker_checker(blob), unpacked(refs), keep_quotes)


def history_batch(checker: Checker, refs: list[InputRef], keep_quotes: bool) -> HistoryBatch:
    """What check_history_batch does, with a given Checker (the driver's for a failed batch)."""
    from checker.frame import empty_frame
    from checker.history.partitions import stamps_of, usable_rows

    parts = list(checker.check_inputs(refs))
    frames = [usable_rows(q) for part in parts for q in part.quotes if len(q)]
    quotes = pd.concat(frames, ignore_index=True) if frames else empty_frame()
    if isinstance(quotes["file"].dtype, pd.CategoricalDtype):
        quotes["file"] = quotes["file"].astype(object)
    names = [result.path for part in parts for result in part.results]
    stamps = stamps_of(names, page_texts=_heads(names, refs))
    if not keep_quotes:
        for part in parts:
            part.quotes = []
    return HistoryBatch(parts, quotes, stamps)


def _heads(names: list[str], refs: list[InputRef]) -> dict[str, str]:
    """The tops of the pages by name (page_heads), each read from its input's path."""
    from checker.history.run import page_heads

    where = {ref.name: os.fspath(ref.path) for ref in refs if ref.path is not None and ref.problem is None}
    read = page_heads(list(dict.fromkeys(where.get(name, name) for name in names)))
    return {name: read[where.get(name, name)] for name in names if where.get(name, name) in read}


def _held_on_workers(
    client: Any,
    task: tuple[Any, ...],
    cut: list[list[InputRef]],
    name: str,
    retries: int,
    summary: Callable[[Any], Any],
    here: Callable[[list[InputRef]], Any],
) -> tuple[list[Any], list[Any]]:
    """Each batch of `cut` checked on the cluster and kept on its worker: `task` is the function
    and its first argument (the shared options), its last ones follow the batch; `name` begins
    each task's key. Returns the
    batches' futures and each one's `summary` brought back. A batch whose task failed for good
    is checked in this process (`here`) and handed to the cluster as data."""
    function, shared, *extra = task
    futures = [
        client.submit(
            function,
            shared,
            packed(batch),
            *extra,
            key=f"{name}-{index:05d}",
            retries=retries,
            pure=False,
        )
        for index, batch in enumerate(cut)
    ]
    summaries = [client.submit(summary, future, pure=False) for future in futures]
    held: list[Any] = []
    for index, future in enumerate(summaries):
        try:
            held.append(future.result())
        except Exception:  # the task failed for good: this process checks the batch
            batch = here(cut[index])
            futures[index] = kept(client, batch)
            held.append(summary(batch))
    return futures, held


def _light(batch: HistoryBatch) -> HistoryBatch:
    """A batch as the driver takes it: without the quotes that stay on the worker."""
    return HistoryBatch(batch.parts, batch.quotes.iloc[:0], batch.stamps)


def _quotes_of(batch: HistoryBatch) -> pd.DataFrame:
    return batch.quotes


def _block(
    files: list[str],
    order: list[int],
    session: list[str | None],
    uncertain: list[bool],
    stamps: dict[str, Any],
    cut_off: set[str],
    *batches: HistoryBatch | pd.DataFrame,
) -> Any:
    """A partition of the history step, from the batches that checked its pages."""
    from checker.history.partitions import block_of

    held = [batch.quotes if isinstance(batch, HistoryBatch) else batch for batch in batches]
    frames = [frame for frame in held if len(frame)]
    quotes = pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames or held)[0]
    for name in ("file", "symbol", "kind"):
        if name in quotes and isinstance(quotes[name].dtype, pd.CategoricalDtype):
            quotes[name] = quotes[name].astype(object)
    return block_of(quotes, files, order, session, uncertain, stamps, cut_off)


@dataclass
class ClusterHistory:
    """A run's history step on the cluster: its result, and whether it ran on the driver."""

    result: Any
    on_driver: bool
    error: Exception | None = None


def history_on_cluster(
    refs: list[InputRef],
    checker: Checker,
    client: Any,
    report_of: Callable[[list[Part]], Report],
    manifest: Any = None,
    retries: int = RETRIES,
) -> tuple[Report, ClusterHistory]:
    """Check the refs on the cluster and run the history step there, partition by partition
    (checker.history.partitions): the report `report_of` makes of the Parts (in input order),
    and the step's result.

    The batches' quotes stay on the workers; the driver plans the partitions from the stamps
    alone (a contiguous run of snapshots in capture order each, made on a worker from the
    batches that hold its pages: one or two when the pages are named in time order). An
    archive that cannot be split (pages whose session only their figures tell) has its quotes
    brought here and the step run on the driver, as with --engine local."""
    from checker.history.run import _cut_off
    from checker.profile import ProfileError

    if not client.nthreads():
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    threads = max(1, sum(client.nthreads().values()))
    cut = batches(refs, threads)
    keep_quotes = checker.options.include_quotes
    if not keep_quotes:
        checker = Checker(replace(checker.options, include_quotes=True))
    shared = shared_options(client, options_blob(checker.options))
    futures, held = _held_on_workers(
        client,
        (check_history_batch, shared, keep_quotes),
        cut,
        f"quotecheck-history-batch-{os.urandom(6).hex()}",
        retries,
        _light,
        lambda refs: history_batch(checker, refs, keep_quotes),
    )
    parts = [part for batch in held for part in batch.parts]
    report = report_of(parts)
    try:
        history = _history_step(client, checker, futures, held, len(cut), manifest, _cut_off(report))
    except ProfileError:
        raise
    except Exception as error:  # the last resort: a finding, never a traceback
        history = ClusterHistory(None, on_driver=False, error=error)
    return report, history


def _history_step(
    client: Any,
    checker: Checker,
    futures: list[Any],
    held: Sequence[HistoryBatch],
    count: int,
    manifest: Any,
    cut_off: set[str],
) -> ClusterHistory:
    """The history step over the checked batches (see history_on_cluster)."""
    from checker.frame import empty_frame
    from checker.history.engine import history_findings
    from checker.history.partitions import KnownStamps, Unsplittable, partitioned_history, plan
    from checker.profile import load_profile

    parts = [part for batch in held for part in batch.parts]
    names = [result.path for part in parts for result in part.results]
    profile = load_profile(checker.options.profile)
    resolve = {name: os.path.abspath(name) for name in names if not name.startswith("<") and name != "-"}
    stamps: dict[str, Any] = {}
    for batch in held:
        stamps.update(batch.stamps)
    if manifest is not None:  # a manifest's times come first, matched against every page at once
        listed = manifest.match(names, resolve)
        stamps = {name: listed.get(name) or stamps.get(name) for name in names}
        stamps = {name: stamp for name, stamp in stamps.items() if stamp is not None}
    try:
        the_plan = plan(names, stamps, profile, manifest.problems if manifest is not None else ())
        blocks = _partitions(client, the_plan, futures, held, stamps, cut_off, count)

        def submit(function: Callable[..., Any], *args: Any) -> Any:
            return client.submit(function, *args, pure=False)

        result = partitioned_history(blocks, the_plan, profile, submit=submit, result=lambda f: f.result())
        return ClusterHistory(result, on_driver=False)
    except Unsplittable:
        pass
    frames = [client.submit(_quotes_of, future, pure=False) for future in futures]
    frames = [future.result() for future in frames]
    frames = [frame for frame in frames if len(frame)]
    quotes = pd.concat(frames, ignore_index=True) if frames else empty_frame()
    results = [result for part in parts for result in part.results]
    result = history_findings(
        quotes,
        results,
        profile,
        manifest=KnownStamps(stamps),
        cut_off=cut_off,
    )
    result.problems = list(manifest.problems) if manifest is not None else []
    return ClusterHistory(result, on_driver=True)


def _partitions(
    client: Any,
    the_plan: Any,
    futures: list[Any],
    held: Sequence[HistoryBatch],
    stamps: dict[str, Any],
    cut_off: set[str],
    count: int,
) -> list[Any]:
    """The partitions of the history step as futures: the capture order cut into `count` runs,
    each made on the cluster from the batches that checked its pages."""
    holders: dict[str, set[int]] = {}
    for index, batch in enumerate(held):
        for part in batch.parts:
            for name in part.names:
                holders.setdefault(name, set()).add(index)
    return _cut_partitions(client, the_plan, futures, holders, stamps, cut_off, count)


def _cut_partitions(
    client: Any,
    the_plan: Any,
    futures: list[Any],
    holders: dict[str, set[int]],
    stamps: dict[str, Any],
    cut_off: set[str],
    count: int,
) -> list[Any]:
    ordered = the_plan.capture_order()
    size = -(-len(ordered) // max(1, count)) if ordered else 1
    blocks = []
    for start in range(0, len(ordered), size):
        files = ordered[start : start + size]
        sources = sorted(set().union(*(holders.get(name, set()) for name in files))) or [0]
        blocks.append(
            client.submit(
                _block,
                *the_plan.marks(files),
                {name: stamps[name] for name in files if name in stamps},
                {name for name in files if name in cut_off},
                *[futures[j] for j in sources],
                pure=False,
            )
        )
    return blocks


# -- the history step and the ledger with an output folder -----------------------------------
LEDGER_DIR = "ledger"


@dataclass
class HeldBatch(HistoryBatch):
    """A batch of a run with --output-dir and --history or --ledger, as it stays on its worker
    until the history step is done: the batch's run (its files' results, all its quotes and
    source lines), its findings (the policy and the baseline applied), and the pages cut off.

    The driver takes only an outline of it (_outline): names, files' results, stamps and the
    pages cut off."""

    run: Any = None
    findings: pd.DataFrame | None = None
    cut_off: set[str] = field(default_factory=set)


def check_held_batch(blob: bytes, refs: list[InputRef] | bytes) -> HeldBatch:
    """The first task of a run with --output-dir and --history or --ledger: the batch checked
    and kept on the worker (held_batch)."""
    return held_batch(worker_checker(blob), unpacked(refs))


def held_batch(checker: Checker, refs: list[InputRef]) -> HeldBatch:
    """What check_held_batch does, with a given Checker (one that keeps the quotes)."""
    from checker.api import _add_part, _new_report, _Run
    from checker.history.run import _cut_off

    batch = history_batch(checker, refs, keep_quotes=True)
    run = _Run(_new_report(checker.options))
    for part in batch.parts:
        _add_part(run, part)
    findings = combine(run.findings)
    cut_off = _cut_off(Report(options=checker.options, rules=[], findings=findings))
    names = [name for part in batch.parts for name in part.names]
    outline = [Part(names, [], empty_findings())]
    return HeldBatch(outline, batch.quotes, batch.stamps, run, findings, cut_off)


def _outline(held: HeldBatch) -> HeldBatch:
    """A held batch as the driver takes it: its names, files' results, stamps and pages cut off."""
    results = [replace(result, counts=dict(result.counts)) for result in held.run.report.files]
    parts = [Part(held.parts[0].names, results, empty_findings())]
    return HeldBatch(parts, held.quotes.iloc[:0], held.stamps, None, None, set(held.cut_off))


def finish_held_batch(
    held: HeldBatch,
    index: int,
    output_dir: str,
    history: pd.DataFrame | None,
    counts: dict[str, dict[str, int]],
    snapshots: pd.DataFrame | None,
    ledger: bool,
    keep_quotes: bool,
) -> BatchOutput:
    """The second task: a held batch's history findings (`history`, the policy and the baseline
    applied, those of its files; `counts` the severities they add to each of its files) added
    as the local run adds them, its findings written to findings/part-NNNNN.parquet and, with
    `ledger`, its ledger to ledger/part-NNNNN.parquet: the rows the local --ledger writes for
    these pages (`snapshots` their times and sessions). The held batch is left as it was."""
    run = held.run
    files = []
    for result in run.report.files:
        added = counts.get(result.path)
        total = {k: result.counts.get(k, 0) + added[k] for k in added} if added else dict(result.counts)
        files.append(replace(result, counts=total))
    report = replace(run.report, files=files)
    findings = held.findings if held.findings is not None else empty_findings()
    if history is not None and len(history):
        findings = combine([findings, history])
    if ledger:
        write_ledger_part(run.quotes, findings, snapshots, report.options, held.cut_off, output_dir, index)
    names = held.parts[0].names if held.parts else []
    quotes = run.quotes if keep_quotes else []
    return batch_output(report, findings, quotes, names, output_dir, index)


def write_ledger_part(
    quotes: list[pd.DataFrame],
    findings: pd.DataFrame,
    snapshots: pd.DataFrame | None,
    options: Options,
    cut_off: set[str],
    output_dir: str,
    index: int,
) -> str:
    """A batch's ledger as ledger/part-NNNNN.parquet (written whole or not at all): the rows,
    columns and values that the local `--ledger` writes for the batch's quotes."""
    import pyarrow.parquet as pq

    from checker.frame import empty_frame
    from checker.history.ledger import ledger_table
    from checker.profile import load_profile

    frame = (
        pd.concat(quotes, ignore_index=True) if len(quotes) > 1 else (quotes[0] if quotes else empty_frame())
    )
    profile = load_profile(options.profile)
    exact = {name for name, kind in profile.kinds.items() if kind.exact}
    table = ledger_table(frame, findings, snapshots, exact, cut_off)
    path = Path(output_dir) / LEDGER_DIR / PART_NAME.format(index=index)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, path)
    return str(path)


def history_to_folder(
    refs: list[InputRef],
    checker: Checker,
    client: Any,
    output_dir: str,
    manifest: Any = None,
    history: bool = True,
    ledger: bool = False,
    retries: int = RETRIES,
) -> tuple[PartedReport, ClusterHistory]:
    """A run with --output-dir and --history or --ledger on the cluster: each batch is checked
    and held on its worker (its findings and quotes stay there), the history step runs over the
    held batches as without an output folder (partitions merged as a tree, or on the driver when
    the archive cannot be split), then each batch gets its share of the history findings (with
    `history`), writes its findings part and (with `ledger`) its ledger part, and hands back what
    the driver's report keeps. The report is the one `--engine local` makes, as a PartedReport."""
    from checker.history.run import _add_source_lines
    from checker.profile import ProfileError

    options = checker.options
    keep_quotes = options.include_quotes
    if not keep_quotes:
        checker = Checker(replace(options, include_quotes=True))
    if not client.nthreads():
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    threads = max(1, sum(client.nthreads().values()))
    cut = batches(refs, threads)
    shared = shared_options(client, options_blob(checker.options))
    run_key = os.urandom(6).hex()
    futures, held = _held_on_workers(
        client,
        (check_held_batch, shared),
        cut,
        f"quotecheck-held-batch-{run_key}",
        retries,
        _outline,
        lambda refs: held_batch(checker, refs),
    )
    cut_off = set().union(*(batch.cut_off for batch in held)) if held else set()
    try:
        step = _history_step(client, checker, futures, held, len(cut), manifest, cut_off)
    except ProfileError:
        raise
    except Exception as error:  # the last resort: a finding, never a traceback
        step = ClusterHistory(None, on_driver=False, error=error)
    result = step.result
    found = empty_findings()
    suppressed = 0
    if step.error is not None:
        from checker.findings import finding, from_records
        from checker.history.engine import HistoryResult

        message = f"the checks across snapshots failed: {type(step.error).__name__}: {step.error}"[:500]
        found = options.policy.apply(from_records([finding("QC904", "<history>", message)]))
        result = step.result = HistoryResult(found, pd.DataFrame(), pd.DataFrame(), "", [])
    elif history:
        found = options.policy.apply(result.findings)
        if options.baseline is not None and len(found):
            found, suppressed = options.baseline.suppress(found)
    snapshots = result.snapshots if result is not None and len(result.snapshots) else None
    # each batch's share of the history findings (a page named twice: its first batch's), the
    # severities they add to its files and its files' rows of the snapshot table
    names = [batch.parts[0].names for batch in held]
    owner: dict[str, int] = {}
    for index, listed in enumerate(names):
        for name in listed:
            owner.setdefault(name, index)
    shares = _shares(found, owner, len(cut))
    added = _counts_by_file(found)
    counts = [{name: added[name] for name in listed if name in added} for listed in names]
    tables = _tables(snapshots, names) if ledger else [None] * len(cut)
    finished = [
        client.submit(
            finish_held_batch,
            futures[index],
            index,
            output_dir,
            shares[index],
            counts[index],
            tables[index],
            ledger,
            keep_quotes,
            key=f"quotecheck-finish-batch-{run_key}-{index:05d}",
            retries=retries,
            pure=False,
        )
        for index in range(len(cut))
    ]

    def outputs() -> Iterator[BatchOutput]:
        for index, future in enumerate(finished):
            try:
                output = future.result()
            except Exception:  # the task failed for good: this process does the batch again
                again = held_batch(checker, cut[index])
                output = finish_held_batch(
                    again, index, output_dir, shares[index], counts[index], tables[index], ledger, keep_quotes
                )
            future.release()
            futures[index].release()
            yield output
        rest = shares[len(cut)]
        if rest is not None and len(rest):  # findings of no page of the run (the step's failure)
            yield batch_output(Report(options=options, rules=[]), rest, [], [], output_dir, len(cut))

    report = parted_report(outputs(), options)
    report.baseline_suppressed += suppressed
    if history and step.error is None:
        report.snapshots = result.snapshots
    if history and len(found):  # the source lines of the history findings the report holds, read back
        from_history = report.findings["rule"].astype(str).isin(set(found["rule"].astype(str)))
        _add_source_lines(report, report.findings[from_history.to_numpy(dtype=bool)])
    return report, step


def _shares(frame: pd.DataFrame, owner: dict[str, int], count: int) -> list[pd.DataFrame]:
    """The rows of `frame` for each batch's files (by its `file` column), and last those of no
    batch's file: `count` + 1 frames, each in the frame's order."""
    at = frame["file"].astype(object).map(owner).fillna(count).to_numpy(dtype=np.int64)
    return [frame[at == index].reset_index(drop=True) for index in range(count + 1)]


def _counts_by_file(findings: pd.DataFrame) -> dict[str, dict[str, int]]:
    """The severities of the findings of each file (as severity_counts gives them)."""
    if not len(findings):
        return {}
    pairs = pd.DataFrame(
        {"file": findings["file"].astype(object), "severity": findings["severity"].astype(str)}
    )
    sizes = pairs.groupby(["file", "severity"], sort=False).size()
    empty = severity_counts(findings.iloc[:0])
    out: dict[str, dict[str, int]] = {}
    for key, size in sizes.items():
        name, severity = str(key[0]), str(key[1])  # type: ignore[index]
        out.setdefault(name, dict(empty))[severity] = int(size)
    return out


def _tables(snapshots: pd.DataFrame | None, names: list[list[str]]) -> list[pd.DataFrame | None]:
    """Each batch's rows of the snapshot table (those of its files), in the table's order."""
    if snapshots is None:
        return [None] * len(names)
    listed = pd.DataFrame(
        {"file": [n for batch in names for n in batch], "batch": [i for i, b in enumerate(names) for _ in b]}
    ).drop_duplicates()
    rows = snapshots.assign(row=np.arange(len(snapshots)), file=snapshots["file"].astype(object))
    joined = rows.merge(listed, on="file").sort_values(["batch", "row"], kind="stable")
    groups = {int(str(b)): g for b, g in joined.groupby("batch", sort=False)}
    empty = snapshots.iloc[:0]
    return [
        snapshots.iloc[groups[i]["row"].to_numpy()].reset_index(drop=True) if i in groups else empty
        for i in range(len(names))
    ]


# -- quotecheck history LEDGER... on the cluster ----------------------------------------------
def _read_ledger(path: str, shown: str | None = None) -> pd.DataFrame:
    """One ledger part read on a worker (it stays there for the history step); an error names it
    `shown` (as the user gave it)."""
    from checker.history.ledger import LedgerError, read_ledgers

    try:
        return read_ledgers([path])
    except LedgerError as error:
        if shown is None:
            raise
        raise LedgerError(str(error).replace(path, shown, 1)) from None


def _ledger_pages(frame: pd.DataFrame) -> pd.DataFrame:
    """A ledger part's pages in order of appearance: the first row's capture time and its
    source, whether the page was cut off, and its quote count."""
    files = frame["file"].astype(object)
    firsts = frame.drop_duplicates("file")
    counts = files.value_counts()
    cut = frame.loc[frame["page_cut_off"].astype(bool), "file"].astype(object).unique().tolist()
    return pd.DataFrame(
        {
            "file": firsts["file"].astype(object).to_numpy(),
            "captured_at_text": firsts["captured_at_text"].astype(object).to_numpy(),
            "time_source": firsts["time_source"].astype(object).to_numpy(),
            "cut_off": firsts["file"].astype(object).isin(set(cut)).to_numpy(dtype=bool),
            "quotes": [int(counts.get(name, 0)) for name in firsts["file"].astype(object)],
        }
    )


def ledger_history_dask(
    paths: list[str],
    options: Options,
    state: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
) -> Any:
    """`quotecheck history LEDGER...` on a Dask cluster: each ledger part is read on a worker
    and stays there; the history step runs over partitions in capture order made from the
    parts that hold their pages (checker.history.partitions). The same LedgerRun as
    checker.history.incremental.history_of_ledgers, which runs on the driver over every part
    when the archive cannot be split."""
    require_dask()
    own = client is None
    cluster = None
    if own:
        client, cluster = open_client(scheduler, workers or os.cpu_count() or 1)
    try:
        return _ledger_history(client, paths, options, state)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def _ledger_history(client: Any, paths: list[str], options: Options, state: Any) -> Any:
    from checker.history.incremental import (
        LedgerRun,
        State,
        _advance,
        _stamp,
        _state_frame,
        failed_history,
        history_of_ledgers,
        ledger_report,
    )
    from checker.history.partitions import Unsplittable, partitioned_history, plan
    from checker.profile import ProfileError, load_profile
    from checker.report import FileResult

    state = state or State()
    if not client.nthreads():
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    # read by their absolute paths: a worker's folder is not the driver's
    futures = [client.submit(_read_ledger, os.path.abspath(path), path, pure=False) for path in paths]
    pages = [client.submit(_ledger_pages, future, pure=False) for future in futures]
    pages = [future.result() for future in pages]
    names = list(dict.fromkeys(name for table in pages for name in table["file"].tolist()))
    own = set(names)
    before = _state_frame(state, own)
    state_names = list(dict.fromkeys(before["file"].tolist()))
    if len(before):
        futures.insert(0, kept(client, before))
        pages.insert(0, _ledger_pages(before))
    every_page = pd.concat(pages, ignore_index=True)
    firsts = every_page.drop_duplicates("file")
    stamps = {
        str(f): s
        for f, t, src in zip(firsts["file"], firsts["captured_at_text"], firsts["time_source"], strict=True)
        if (s := _stamp(t, src)) is not None
    }
    cut_off = set(every_page.loc[every_page["cut_off"], "file"].astype(str))
    counts = every_page.groupby("file", sort=False)["quotes"].sum()
    everyone = [*state_names, *names]
    results = [FileResult(path=n, quotes=int(counts.get(n, 0))) for n in everyone]
    holders: dict[str, set[int]] = {}
    for index, table in enumerate(pages):
        for name in table["file"].tolist():
            holders.setdefault(name, set()).add(index)
    profile = load_profile(options.profile)
    try:
        the_plan = plan(everyone, stamps, profile)
        blocks = _cut_partitions(client, the_plan, futures, holders, stamps, cut_off, max(1, len(paths)))

        def submit(function: Callable[..., Any], *args: Any) -> Any:
            return client.submit(function, *args, pure=False)

        result = partitioned_history(blocks, the_plan, profile, submit=submit, result=lambda f: f.result())
    except Unsplittable:  # the parts read here, and the step run on the driver
        from checker.history.ledger import read_ledgers

        return history_of_ledgers(read_ledgers(paths), options, state)
    except ProfileError:
        raise
    except Exception as error:  # the last resort: a finding, never a traceback
        result = failed_history(error, own)
    report = ledger_report(result, results, own, state_names, options)
    # The state moves to a session chosen from the result alone; only its pages' rows come here.
    from checker.history.ledger import HISTORY_COLUMNS

    empty = pd.DataFrame(columns=[*HISTORY_COLUMNS])
    chosen = _advance(state, empty, result, report, own, options.profile)
    wanted = {snap["file"] for snap in chosen.snapshots} if chosen.session != state.session else set()
    if wanted:
        rows = [client.submit(_rows_of, future, wanted, pure=False) for future in futures]
        rows = [future.result() for future in rows]
        every = pd.concat([r for r in rows if len(r)], ignore_index=True)
        chosen = _advance(state, every, result, report, own, options.profile)
    return LedgerRun(report, result, chosen)


def _rows_of(frame: pd.DataFrame, files: set[str]) -> pd.DataFrame:
    rows = frame[frame["file"].astype(object).isin(files).to_numpy(dtype=bool)]
    for name in ("file", "symbol", "kind", "time_source"):
        if name in rows and isinstance(rows[name].dtype, pd.CategoricalDtype):
            rows = rows.assign(**{name: rows[name].astype(object)})
    return rows


# -- a report whose findings stay in the output folder ----------------------------------------
@dataclass
class PartFile:
    """One batch's findings file: where it is, how many rows, and its first and last sort keys."""

    path: str
    rows: int
    first: tuple | None
    last: tuple | None


@dataclass
class PartedReport(Report):
    """A Report whose findings are in Parquet parts (an output folder); `findings` holds the first
    HELD_PER_RULE of each rule (what the HTML report shows) and the counts are the whole run's."""

    parts: list[PartFile] = field(default_factory=list)
    severity_totals: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})
    rule_totals: dict[str, int] = field(default_factory=dict)
    total_findings: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """Findings by severity, over every part."""
        return dict(self.severity_totals)

    def rule_counts(self) -> dict[str, int]:
        """How many findings each rule produced, over every part."""
        return {code: self.rule_totals[code] for code in sorted(self.rule_totals) if self.rule_totals[code]}

    def summary(self) -> dict[str, Any]:
        """The summary block, counting every part's findings."""
        return super().summary() | {"findings": self.total_findings}

    def finding_frames(self) -> Iterator[pd.DataFrame]:
        """Every finding, in report order, read back from the parts a block at a time."""
        return ordered_findings(self.parts)


def ordered_findings(parts: list[PartFile], rows: int = 65_536) -> Iterator[pd.DataFrame]:
    """The findings of sorted parts in the order `findings.combine` gives their concatenation.

    When the parts, put in order of their first findings, follow one another without
    overlapping (the usual case: each holds its own files), they are read one after the other;
    otherwise they are merged, a finding at a time, ties kept in part order (a stable sort)."""
    parts = [part for part in parts if part.rows]
    keyed = sorted(range(len(parts)), key=lambda at: (parts[at].first, at))
    if all((parts[a].last, a) < (parts[b].first, b) for a, b in pairwise(keyed)):
        for at in keyed:
            yield from read_findings(parts[at].path, rows)
        return
    yield from _merged(parts, rows)


def _merged(parts: list[PartFile], rows: int) -> Iterator[pd.DataFrame]:
    def keyed(at: int) -> Iterator[tuple[tuple, int, int, pd.DataFrame]]:
        for block_number, block in enumerate(read_findings(parts[at].path, 4096)):
            for row in range(len(block)):
                yield _sort_key(block, row), at, block_number * 4096 + row, block.iloc[row : row + 1]

    held: list[pd.DataFrame] = []
    for _key, _at, _row, frame in heapq.merge(*(keyed(at) for at in range(len(parts)))):
        held.append(frame)
        if len(held) >= rows:
            yield pd.concat(held, ignore_index=True)
            held = []
    if held:
        yield pd.concat(held, ignore_index=True)


def parted_report(outputs: Iterable[BatchOutput], options: Options, on_checked: Any = None) -> PartedReport:
    """The driver's report of a run written to an output folder, built batch by batch in input order."""
    from checker.api import _new_report

    base = _new_report(options)
    report = PartedReport(options=options, rules=base.rules, catalogue=base.catalogue)
    held = empty_findings()
    quotes: list[pd.DataFrame] = []
    quote_rows = 0
    for output in outputs:
        report.files.extend(output.results)
        report.parts.append(PartFile(output.path, output.rows, output.first, output.last))
        report.total_findings += output.rows
        report.baseline_suppressed += output.suppressed
        for severity, count in output.severities.items():
            report.severity_totals[severity] = report.severity_totals.get(severity, 0) + count
        for code, count in output.rules.items():
            report.rule_totals[code] = report.rule_totals.get(code, 0) + count
        if len(output.held):
            held = first_per_rule(combine([held, output.held]), HELD_PER_RULE)
            report.source_lines.update(output.sources)
        for frame in output.quotes:
            if quote_rows < HELD_QUOTES:
                quotes.append(frame.head(HELD_QUOTES - quote_rows))
                quote_rows += len(quotes[-1])
        if on_checked is not None:
            for name in output.names:
                on_checked(Path(name))
    report.findings = held
    wanted = set(zip(held["file"].astype(object), held["line"].astype(object), strict=True))
    report.source_lines = {key: text for key, text in report.source_lines.items() if key in wanted}
    if options.include_quotes:
        from checker.frame import empty_frame

        report.quotes = pd.concat(quotes, ignore_index=True) if quotes else empty_frame()
        files = report.quotes["file"]
        if isinstance(files.dtype, pd.CategoricalDtype):
            report.quotes["file"] = files.astype(object)
    return report


# -- the entry point ----------------------------------------------------------------------------
def check_paths_dask(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    on_checked: Callable[[Path], None] | None = None,
    client: Any = None,
) -> Report:
    """check_paths on a Dask cluster: the same Report, in the same order (see the module's text).

    `client` is a distributed.Client to use; otherwise one is opened on `scheduler`, or on a
    LocalCluster of `workers` processes (default: the number of cores). With `output_dir`, the
    findings are written there and a PartedReport comes back."""
    from checker.api import _add_part, _finish, _new_report, _Run

    require_dask()
    checker, refs = _checker_and_inputs(paths, options)
    options = checker.options
    folder = None if output_dir is None else os.path.abspath(output_dir)
    if folder is not None:
        _clear_parts(Path(folder))
    own = client is None
    cluster = None
    if own:
        client, cluster = open_client(scheduler, workers or os.cpu_count() or 1)
    try:
        outcomes = (outcome for _index, outcome in check_on_cluster(refs, checker, client, folder))
        if folder is not None:
            return parted_report(outcomes, options, on_checked)
        run = _Run(_new_report(options))
        for parts in outcomes:
            for part in parts:
                _add_part(run, part, on_checked)
        return _finish(run)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def _checker_and_inputs(
    paths: Iterable[str | os.PathLike[str]], options: Options | None
) -> tuple[Checker, list[InputRef]]:
    """A run's Checker and its inputs, refusing standard input (a worker cannot read it)."""
    checker = Checker(options)
    refs = [ref for path in paths for ref in inputs_of([path], checker.options)]
    if any(ref.is_stdin for ref in refs):
        raise ValueError("standard input cannot be checked with the Dask engine")
    return checker, [_absolute(ref) for ref in refs]


def _absolute(ref: InputRef) -> InputRef:
    """An input as a worker reads it: by its absolute path (a worker's folder is not the
    driver's), named as given."""
    if ref.path is None:
        return ref
    return replace(ref, path=Path(os.path.abspath(ref.path)))


def check_history_dask(
    paths: Iterable[str | os.PathLike[str]],
    options: Options | None = None,
    manifest: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    output_dir: str | os.PathLike[str] | None = None,
    history: bool = True,
    ledger: bool = False,
) -> tuple[Report, ClusterHistory]:
    """check_paths and the history step on a Dask cluster (history_on_cluster): the Report that
    `--engine local --history` gives, and the history step's result (with whether it was split
    into partitions or ran on the driver).

    With `output_dir`, the findings are written there (history_to_folder) and a PartedReport
    comes back; with `ledger` too, the ledger's parts; without `history`, the step only times
    the pages for the ledger (its findings are not reported, as with --engine local)."""
    from checker.api import _add_part, _finish, _new_report, _Run

    require_dask()
    checker, refs = _checker_and_inputs(paths, options)
    options = checker.options
    if output_dir is not None:
        folder = os.path.abspath(output_dir)
        _clear_parts(Path(folder), ledger)
        own = client is None
        cluster = None
        if own:
            client, cluster = open_client(scheduler, workers or os.cpu_count() or 1)
        try:
            return history_to_folder(refs, checker, client, folder, manifest, history=history, ledger=ledger)
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()

    def report_of(parts: list[Part]) -> Report:
        run = _Run(_new_report(options))
        for part in parts:
            _add_part(run, part)
        return _finish(run)

    own = client is None
    cluster = None
    if own:
        client, cluster = open_client(scheduler, workers or os.cpu_count() or 1)
    try:
        report, step = history_on_cluster(refs, checker, client, report_of, manifest)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    failure = step.error
    if failure is not None:
        from checker.findings import finding, from_records
        from checker.history.engine import HistoryResult

        message = f"the checks across snapshots failed: {type(failure).__name__}: {failure}"[:500]
        found = options.policy.apply(from_records([finding("QC904", "<history>", message)]))
        report.findings = combine([report.findings, found])
        step.result = HistoryResult(found, pd.DataFrame(), pd.DataFrame(), "", [])
        return report, step
    from checker.history.run import add_history_result

    add_history_result(report, step.result)
    return report, step


def _clear_parts(folder: Path, ledger: bool = False) -> None:
    """An output folder made ready: its findings parts of an earlier run removed, and its ledger
    parts when this run writes a ledger (nothing else)."""
    for name in (FINDINGS_DIR, LEDGER_DIR) if ledger else (FINDINGS_DIR,):
        parts = folder / name
        parts.mkdir(parents=True, exist_ok=True)
        for old in parts.glob("part-*.parquet*"):
            old.unlink()


__all__ = [
    "FINDINGS_DIR",
    "INSTALL_HINT",
    "LEDGER_DIR",
    "BatchOutput",
    "DaskMissing",
    "PartedReport",
    "batches",
    "check_batch",
    "check_history_dask",
    "check_on_cluster",
    "check_paths_dask",
    "ledger_history_dask",
    "ordered_findings",
    "write_batch_outputs",
]
