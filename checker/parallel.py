"""Many input files checked by several processes, with the same report as one process gives.

`--jobs N` is this process and N - 1 workers. Inputs are cut into chunks of up to
engine.BATCH_PAGES (a chunk of small pages is one batch, see engine.Checker.check_inputs), checked into a few
Parts each: one findings frame per batch, not one per file. Once a worker has started, the
workers are kept a few chunks ahead, from the front of what is left. This process checks the
chunks in input order itself whenever the next one is not handed out (or is handed out but not
started: it takes it back), and while it waits for a worker it checks a later chunk. So it is
never idle while work is left and never waits for a worker still starting (about a second of
imports): on a busy machine a run costs little more than with `--jobs 1`. A job for the run's
next step (`Beside`: the history step's calendar tables) goes to the first worker up, ahead of
its chunks, so that this process, which checks the most and then runs that step, is spared it. Parts are
given out in input order, so findings, files and source lines are those of a serial run.
Workers are started fresh (spawn): Arrow's thread pools do not survive a fork. Each is given
the options once, when it starts, and builds its engine (a Checker) once. Should a worker fail, this
process checks its chunks.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from checker import engine
from checker.config import Options
from checker.engine import Checker, Part
from checker.inputs.sources import InputRef

CHUNKS_PER_JOB = 4  # at least this many chunks per process, so that none waits long for the last
AHEAD_PER_WORKER = 2  # chunks handed to each worker beyond the one it is checking
BESIDE_WAIT = 5.0  # seconds the end of a run waits for a beside job still running (it takes ~0.3 s)
_WORKER: dict[str, Checker] = {}


@dataclass(frozen=True)
class Beside:
    """A job a worker runs besides the chunks: `job` (it must pickle: a module-level function or
    a partial of one) runs there once, and `done` is given its result here, if it gave one before
    the last chunk was checked. A job that fails, or a run without workers, simply never calls
    `done`: what the job readies must be one the next step can do without."""

    job: Callable[[], Any]
    done: Callable[[Any], None]


def _start(options: Options) -> None:
    """Set a worker process up: its engine, built once for all its chunks."""
    _WORKER["checker"] = Checker(options)


def _ready() -> bool:
    """A task that returns once a worker has started (imported everything and loaded the profile)."""
    return True


def _check_chunk(refs: list[InputRef]) -> list[Part]:
    """Check a chunk of inputs in a worker process (quotes are sent back only if the report keeps them)."""
    checker = _WORKER["checker"]
    parts = list(checker.check_inputs(refs))
    if not checker.options.include_quotes:
        for part in parts:
            part.quotes = []
    return parts


def check_in_parallel(
    refs: list[InputRef], checker: Checker, jobs: int, beside: Beside | None = None
) -> Iterator[Part]:
    """The Part of every input, in input order, checked by this process and `jobs - 1` workers,
    with `beside` run by the first worker up before its chunks."""
    size = max(1, min(engine.BATCH_PAGES, -(-len(refs) // (jobs * CHUNKS_PER_JOB))))
    chunks = [refs[start : start + size] for start in range(0, len(refs), size)]
    left = deque(range(len(chunks)))  # chunks neither checked here nor handed to a worker
    handed: dict[int, Future] = {}
    done: dict[int, list[Part]] = {}
    workers = max(1, jobs - 1)
    broken = False

    def here(index: int) -> None:
        done[index] = list(checker.check_inputs(chunks[index]))

    extra: list[Future] = []  # the job beside the chunks, once handed out

    def hand_out(pool: ProcessPoolExecutor) -> None:
        nonlocal broken
        if not any(future.done() for future in ready):  # no worker up yet: none is waited for
            return
        if beside is not None and not extra and not broken:
            try:
                extra.append(pool.submit(beside.job))
            except Exception:  # a broken pool
                broken = True
                return
        while not broken and left and len(handed) < workers * (1 + AHEAD_PER_WORKER):
            index = left[0]
            try:
                handed[index] = pool.submit(_check_chunk, chunks[index])
            except Exception:  # a broken pool: what is left is checked here
                broken = True
                return
            left.popleft()

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start, initargs=(checker.options,)
    )
    try:
        ready = [pool.submit(_ready) for _ in range(workers)]  # starts the workers
        for index in range(len(chunks)):
            while index not in done:
                hand_out(pool)
                future = handed.get(index)
                if future is None:  # not handed out: check it here
                    left.remove(index)
                    here(index)
                elif future.done() or future.cancel() or not left:
                    del handed[index]
                    try:
                        done[index] = future.result()
                    except Exception:  # cancelled (taken back), or the worker failed: check it here
                        here(index)
                else:  # a worker is on it: check a later chunk meanwhile
                    here(left.popleft())
            yield from done.pop(index)
        if beside is not None and extra:
            _deliver(extra[0], beside)
    finally:
        _stop(pool)


def _deliver(future: Future, beside: Beside) -> None:
    """The beside job's result to `beside.done`: waited for only if a worker is on it (it was
    handed out first, so it is all but done); one not started, or failed, is let go."""
    if future.cancel():
        return
    try:
        result = future.result(timeout=BESIDE_WAIT)
    except Exception:  # the job failed or hangs, or its worker died: the next step does without
        return
    beside.done(result)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: every chunk is checked, and one still starting need not finish its imports."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
