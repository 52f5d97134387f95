"""Writing report files safely: atomically, and never over an input."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Write to a temporary file beside `path`, then rename it over `path`.

    A run killed part-way leaves the previous report (or none), never half a report.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates the file private (0600); a report is shared (uploaded as a CI artifact,
        # served to a team), so give it the permissions an ordinary new file would get.
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "w", encoding=encoding, newline="\n") as stream:
            yield stream
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
