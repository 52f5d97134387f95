"""Many input files checked by several processes, with the same report as one process gives.

Inputs are handed out in chunks of up to api.BATCH_PAGES (a chunk of small pages is one batch,
see api.check_inputs), and each chunk comes back as a few Parts: one findings frame per batch,
not one per file. Results are consumed in input order, so findings, files and source lines are
in the order of a serial run. Processes are started fresh (spawn): Arrow's thread pools do not
survive a fork. Each is given the options once, when it starts, and loads the profile once.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from checker.config import Options
from checker.inputs.sources import InputRef

CHUNKS_PER_JOB = 4  # at least this many chunks per process, so that none waits long for the last
_WORKER: dict[str, Any] = {}


def _start(options: Options) -> None:
    """Set a worker process up: the options, the profile and the rules, once for all its chunks."""
    from checker.profile import load_profile

    _WORKER["options"] = options
    _WORKER["profile"] = load_profile(options.profile)
    _WORKER["rules"] = options.policy.enabled_rules()


def _check_chunk(refs: list[InputRef]) -> list:
    """Check a chunk of inputs in a worker process (quotes are sent back only if the report keeps them)."""
    from checker.api import check_inputs

    options = _WORKER["options"]
    parts = list(check_inputs(refs, options, _WORKER["profile"], _WORKER["rules"]))
    if not options.include_quotes:
        for part in parts:
            part.quotes = []
    return parts


def check_in_parallel(refs: list[InputRef], options: Options, jobs: int) -> Iterator[Any]:
    """The api.Part of every input, in input order, checked by `jobs` processes."""
    from checker.api import BATCH_PAGES

    size = max(1, min(BATCH_PAGES, -(-len(refs) // (jobs * CHUNKS_PER_JOB))))
    chunks = [refs[start : start + size] for start in range(0, len(refs), size)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_start, initargs=(options,)
    ) as pool:
        for parts in pool.map(_check_chunk, chunks):
            yield from parts
