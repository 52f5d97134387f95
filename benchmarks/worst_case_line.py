"""Time single-line inputs of growing size, to show that reading and parsing stay linear.

A page that is one enormous line is what a scraper writes when it drops every line break. Each
shape below is built to stress a different part of the grammar: quotes back to back, quote-like
text that fails late (a percent with no closing `%)`), long runs of digits and grouping commas
after a symbol, and starts of quotes (`I 1`) whose symbol is also a prefix of a direction word.
The time per megabyte must not grow with the size; the script prints it (in CPU seconds of this
process, so that other work on the machine does not count) for each size, and the ratio of the
largest size to the smallest.

    python -m benchmarks.worst_case_line                # 10 MB and 100 MB, parser and full check
    python -m benchmarks.worst_case_line --sizes 1 10 --shapes near-miss
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from checker.api import check_bytes
from checker.parse import parse_lines

MB = 1 << 20

SHAPES: dict[str, str] = {
    "quotes": "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%) ",
    "near-miss": "AIRLINK 207.00 Increased By ▲ 6.71 (3.35 ",
    "digits": "1,234.5",
    "starts": "I 1 (",
    "prose": "KSE100 Nosedives by over 800pts (as Schools Close) ",
}


def single_line(shape: str, size: int) -> bytes:
    """One line of about `size` bytes made of the shape's unit, repeated."""
    unit = SHAPES[shape]
    if shape == "digits":
        body = "AIRLINK " + unit * (size // len(unit)) + " Increased By ▲ 6.71 (3.35%)"
        return body.encode()
    data = unit.encode()
    return data * max(size // len(data), 1)


def timed(action: Callable[[], object]) -> float:
    """CPU seconds of the action: on a shared machine, wall time mostly measures the neighbours."""
    gc.collect()
    start = time.process_time()
    action()
    return time.process_time() - start


def main() -> None:
    """Print seconds and seconds per MB for each shape and size, parser alone and the whole check."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100], help="line sizes in MB")
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--parser-only", action="store_true", help="time only parse_lines")
    args = parser.parse_args()
    print(f"{'shape':<10} {'MB':>5} {'parse s':>9} {'s/MB':>7} {'check s':>9} {'s/MB':>7} {'quotes':>9}")
    for shape in args.shapes:
        per_mb: list[float] = []
        for size in args.sizes:
            data = single_line(shape, size * MB)
            megabytes = len(data) / MB
            text = data.decode("utf-8")
            parse_seconds = timed(lambda text=text: parse_lines([text]))
            per_mb.append(parse_seconds / megabytes)
            check_seconds, quotes = float("nan"), -1
            if not args.parser_only:
                reports: list = []
                check_seconds = timed(
                    lambda data=data, out=reports: out.append(check_bytes(data, "line.txt"))
                )
                quotes = reports[0].summary()["quotes"]
                del reports
            print(
                f"{shape:<10} {megabytes:>5.0f} {parse_seconds:>9.2f} {parse_seconds / megabytes:>7.3f} "
                f"{check_seconds:>9.2f} {check_seconds / megabytes:>7.3f} {quotes:>9}",
                flush=True,
            )
            del data, text
        if len(per_mb) > 1:
            print(f"{shape:<10} parse time per MB, largest / smallest size: {per_mb[-1] / per_mb[0]:.2f}")


if __name__ == "__main__":
    main()
