"""Many input files checked by several processes, with the same report as one process gives.

`--jobs N` is this process and N - 1 workers. Inputs are cut into chunks of up to
engine.BATCH_PAGES (a chunk of small pages is one batch, see engine.Checker.check_inputs), checked into a few
Parts each: one findings frame per batch, not one per file. Once a worker has started, the
workers are kept a few chunks ahead, from the front of what is left. This process checks the
chunks in input order itself whenever the next one is not handed out (or is handed out but not
started: it takes it back), and while it waits for a worker it checks a later chunk. So it is
never idle while work is left and never waits for a worker still starting (about a second of
imports): on a busy machine a run costs little more than with `--jobs 1`. Parts are
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

from checker import engine
from checker.config import Options
from checker.engine import Checker, Part
from checker.inputs.sources import InputRef

CHUNKS_PER_JOB = 4  # at least this many chunks per process, so that none waits long for the last
AHEAD_PER_WORKER = 2  # chunks handed to each worker beyond the one it is checking
_WORKER: dict[str, Checker] = {}


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
    refs: list[InputRef], checker: Checker, jobs: int, while_waiting: Callable[[], None] | None = None
) -> Iterator[Part]:
    """The Part of every input, in input order, checked by this process and `jobs - 1` workers.
    `while_waiting` is called once, the first time this process has nothing left to check and
    waits for a worker (the run's next step made ready meanwhile)."""
    size = max(1, min(engine.BATCH_PAGES, -(-len(refs) // (jobs * CHUNKS_PER_JOB))))
    chunks = [refs[start : start + size] for start in range(0, len(refs), size)]
    left = deque(range(len(chunks)))  # chunks neither checked here nor handed to a worker
    handed: dict[int, Future] = {}
    done: dict[int, list[Part]] = {}
    workers = max(1, jobs - 1)
    broken = False

    def here(index: int) -> None:
        done[index] = list(checker.check_inputs(chunks[index]))

    def hand_out(pool: ProcessPoolExecutor) -> None:
        nonlocal broken
        if not any(future.done() for future in ready):  # no worker up yet: none is waited for
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
                    if while_waiting is not None and not future.done():
                        while_waiting()
                        while_waiting = None
                    del handed[index]
                    try:
                        done[index] = future.result()
                    except Exception:  # cancelled (taken back), or the worker failed: check it here
                        here(index)
                else:  # a worker is on it: check a later chunk meanwhile
                    here(left.popleft())
            yield from done.pop(index)
    finally:
        _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: every chunk is checked, and one still starting need not finish its imports."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
