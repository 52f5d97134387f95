"""Writing report files safely: atomically, through devices and symlinks, and never half-way.

- A new or regular file is written to a temporary file beside it and renamed over it, so a run
  that fails or is killed part-way leaves the previous report (or none), never half a report,
  and no temporary file.
- A symlink is followed: the report replaces the link's target, and the link stays a link.
- A device, a FIFO or a descriptor's path (`/dev/null`, `/dev/stdout`, `/dev/fd/3`) is written
  through, never replaced by a regular file (as root a rename would replace the device node
  itself); a descriptor that is a regular file (`> out.txt`) is written after what it holds.
- A stream (an object with `write`, such as standard output) is written to as it is.
- A path that is a folder, lies under a regular file, sits in a read-only folder or on a full
  disk raises ReportWriteError, whose message names the path and the reason.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TypeVar, cast

# Paths that name an open descriptor (/dev/stdout, /dev/fd/3, /proc/self/fd/1): written through
# even when the descriptor is a regular file (`> out.txt`), after what is already written there.
_DESCRIPTOR = re.compile(r"^/dev/(?:stdout|stderr|fd/[0-9]+)$|^/proc/(?:self|thread-self|[0-9]+)/fd/[0-9]+$")


class ReportWriteError(OSError):
    """A report that could not be written; the message names the path and the reason."""


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _reason(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "no space left on the device"
    if error.errno == errno.EROFS:
        return "read-only file system"
    if error.errno == errno.ENOTDIR:
        return "a folder on the way is a file"
    if error.errno == errno.EISDIR:
        return "is a folder"
    if error.errno == errno.ENXIO:
        return "no process is reading it"
    return error.strerror or str(error)


def _fail(path: str | os.PathLike[str], error: OSError | str) -> ReportWriteError:
    reason = error if isinstance(error, str) else _reason(error)
    return ReportWriteError(f"cannot write the report {os.fspath(path)}: {reason}")


def report_path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a report cannot be written at `path`, when that can be told before the run; else None."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as error:
        return _reason(error)
    if info is not None and stat.S_ISDIR(info.st_mode):
        return "is a folder"
    folder = Path(os.path.abspath(path)).parent
    for parent in (folder, *folder.parents):
        try:
            parent_info = os.stat(parent)
        except FileNotFoundError:
            continue  # created when the report is written
        except OSError as error:
            return _reason(error)
        if not stat.S_ISDIR(parent_info.st_mode):
            return f"{parent} is a file, not a folder"
        break
    return None


def _writes_through(path: str, info: os.stat_result | None) -> bool:
    if info is not None and not stat.S_ISREG(info.st_mode):
        return True
    return info is not None and bool(_DESCRIPTOR.match(os.path.abspath(path)))


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str] | IO[str], encoding: str = "utf-8") -> Iterator[IO[str]]:
    """A text stream for a report at `path`; see the module's docstring. Raises ReportWriteError."""
    if hasattr(path, "write"):
        yield cast(IO[str], path)
        return
    name = os.fspath(path)
    try:
        info: os.stat_result | None = os.stat(name)
    except FileNotFoundError:
        info = None  # a new file, or a dangling symlink (its target is created)
    except OSError as error:
        raise _fail(name, error) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise _fail(name, "is a folder")
    if _writes_through(name, info):
        with _write_through(name, encoding) as stream:
            yield stream
        return
    # A symlink (or a chain of them) is followed: the report replaces what it points at.
    target = Path(os.path.realpath(name)) if os.path.islink(name) else Path(name)
    with _replace(name, target, encoding) as stream:
        yield stream


@contextlib.contextmanager
def _write_through(name: str, encoding: str) -> Iterator[IO[str]]:
    """Write straight to a device, FIFO or descriptor path, without blocking on a FIFO with no reader."""
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        if _DESCRIPTOR.match(os.path.abspath(name)):
            flags |= os.O_APPEND  # `> out.txt`: after what the run already wrote to it
        descriptor = os.open(name, flags | getattr(os, "O_NONBLOCK", 0))
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
    except OSError as error:
        raise _fail(name, error) from None
    try:
        stream = os.fdopen(descriptor, "w", encoding=encoding, newline="\n")
    except BaseException:
        os.close(descriptor)
        raise
    try:
        with stream:
            yield stream
    except OSError as error:
        if isinstance(error, ReportWriteError):
            raise
        raise _fail(name, error) from None


@contextlib.contextmanager
def _replace(name: str, target: Path, encoding: str) -> Iterator[IO[str]]:
    """Write to a temporary file beside `target`, then rename it over `target`."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except FileExistsError:
        raise _fail(name, "a folder on the way is a file") from None
    except OSError as error:
        raise _fail(name, error) from None
    try:
        # mkstemp creates the file private (0600); a report is shared (uploaded as a CI artifact,
        # served to a team), so give it the permissions an ordinary new file would get.
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "w", encoding=encoding, newline="\n") as stream:
            yield stream
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError) and not isinstance(error, ReportWriteError):
            raise _fail(name, error) from None
        raise


def binary_under(stream: IO[str]) -> IO[bytes] | None:
    """The byte stream under a UTF-8 text stream, for text that is UTF-8 already (None: there is
    none, or the text stream encodes otherwise). Flush the text stream before writing to it."""
    if not isinstance(stream, io.TextIOWrapper):
        return None
    try:
        utf8 = codecs.lookup(stream.encoding).name == "utf-8"
    except LookupError:
        return None
    return cast(IO[bytes], stream.buffer) if utf8 else None


def write_utf8(stream: IO[str], binary: IO[bytes] | None, data: memoryview) -> None:
    """Text already encoded as UTF-8 written to `stream`: as it is to `binary`, the byte stream
    under it (binary_under's), after the text written before it; decoded where there is none."""
    if binary is None:
        stream.write(str(data, "utf-8"))
    else:
        stream.flush()
        binary.write(data)


_Item = TypeVar("_Item")


def one_ahead(items: Iterator[_Item]) -> Iterator[_Item]:
    """The items, each next one made in a thread while this one is used (a block of a report
    built by Arrow's kernels while the one before is written: both run outside the GIL). One
    item ahead, no more; `items` must yield no None."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="quotecheck-ahead") as pool:
        pending = pool.submit(next, items, None)
        while (item := pending.result()) is not None:
            pending = pool.submit(next, items, None)
            yield item


def joined_bytes(texts: Any, ending: str) -> memoryview:
    """The UTF-8 bytes of Arrow `texts` (no null, each ending with `ending`) read from Arrow's
    buffer at once, without the last `ending`: a block of report lines written as it is."""
    import numpy as np
    import pyarrow as pa

    _validity, offsets, data = cast("list[pa.Buffer]", texts.buffers())
    wide = np.int64 if pa.types.is_large_string(texts.type) else np.int32
    at = np.frombuffer(memoryview(offsets), dtype=wide)[texts.offset : texts.offset + len(texts) + 1]
    start, stop = int(at[0]), int(at[-1]) - len(ending.encode("utf-8"))
    return memoryview(data)[start : max(stop, start)]
