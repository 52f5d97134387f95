"""Many input files checked by several processes, with the same report as one process gives.

Files are handed out in batches (a process pays its start-up once per batch, not per file) and
their results come back in input order, so findings, files and source lines are in the order of a
serial run. Processes are started fresh (spawn): Arrow's thread pools do not survive a fork.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from checker.config import Options
from checker.inputs.sources import InputRef

BATCHES_PER_JOB = 8
MAX_BATCH = 64


def _check_batch(refs: list[InputRef], options: Options) -> list[tuple]:
    """Check a batch of files in a worker process (quotes are sent back only if the report keeps them)."""
    from checker.api import check_input
    from checker.profile import load_profile

    profile = load_profile(options.profile)
    rules = options.policy.enabled_rules()
    out = []
    for ref in refs:
        result, findings, quotes, sources = check_input(ref, options, profile, rules)
        out.append((result, findings, quotes if options.include_quotes else None, sources))
    return out


def check_in_parallel(refs: list[InputRef], options: Options, jobs: int) -> Iterator[tuple[InputRef, tuple]]:
    """(input, what check_input gives for it) for every input, in input order, checked by `jobs` processes."""
    size = max(1, min(MAX_BATCH, -(-len(refs) // (jobs * BATCHES_PER_JOB))))
    batches = [refs[start : start + size] for start in range(0, len(refs), size)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for batch, results in zip(
            batches, pool.map(_check_batch, batches, [options] * len(batches)), strict=True
        ):
            yield from zip(batch, results, strict=True)
