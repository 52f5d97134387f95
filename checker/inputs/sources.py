"""Where inputs come from: paths, directories walked with globs, stdin, and gzip, read within a size cap."""

from __future__ import annotations

import fnmatch
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from checker.inputs.detect import format_from_name

STDIN = "-"
STDIN_NAME = "<stdin>"
DEFAULT_MAX_DECOMPRESSED = 1 << 30  # 1 GiB
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputRef:
    """One input of a run: a file named or found in a directory, stdin, or a directory with nothing in it."""

    name: str  # as findings name it
    path: Path | None = None  # None for stdin
    problem: str | None = None  # why this entry cannot be read at all (an empty directory)

    @property
    def is_stdin(self) -> bool:
        """True for standard input."""
        return self.path is None and self.problem is None


@dataclass
class RawInput:
    """The bytes of one input, after decompression, and what went wrong reading them."""

    data: bytes = b""
    compressed: bool = False
    problem: str | None = None  # a message for QC901
    complete: bool = True  # False when nothing usable was read (refused, missing, unreadable)
    refused: bool = False  # True when reading stopped at the size cap


def expand_paths(
    paths: Iterable[str | os.PathLike[str]],
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    skip: Iterable[str | os.PathLike[str]] = (),
) -> list[InputRef]:
    """The inputs named by `paths`: files as given, `-` as stdin, directories walked recursively.

    A directory walk takes files matching `include` (default: the known input extensions) and not
    matching `exclude`, tested against the path relative to the directory and against the file
    name; hidden files and folders are skipped, and so is any file or folder in `skip` (the run's
    reports and report folder).
    Files come in sorted order, so a run is deterministic.
    """
    skipped = {_resolved(p) for p in skip}
    refs: list[InputRef] = []
    for raw in paths:
        name = os.fspath(raw)
        if name == STDIN:
            refs.append(InputRef(STDIN_NAME))
            continue
        if not name:
            refs.append(InputRef(name, Path(name), "(an empty path): no such file or directory"))
            continue
        path = Path(name)
        if path.is_dir():
            found = list(_walk(path, include, exclude, skipped))
            if found:
                refs.extend(found)
            else:
                looked = ", ".join(include) if include else "known input extensions"
                refs.append(InputRef(name, path, f"{name}: directory holds no input file ({looked})"))
        else:
            refs.append(InputRef(name, path))
    return refs


def _known(name: str) -> bool:
    """True for a file name whose extension names an input format (in any case, `.gz` looked through)."""
    return format_from_name(name) is not None


def output_over_input(
    outputs: Iterable[str | os.PathLike[str]], paths: Iterable[str | os.PathLike[str]]
) -> tuple[str, str] | None:
    """The first (output, input) pair where a report would overwrite a file named as an input."""
    inputs = [(os.fspath(p), _resolved(p)) for p in paths if os.fspath(p) != STDIN]
    for output in outputs:
        target = _resolved(output)
        for given, resolved in inputs:
            if target == resolved or _same_file(output, given):
                return os.fspath(output), given
    return None


def _same_file(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _resolved(path: str | os.PathLike[str]) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return os.path.abspath(path)


def _matches(relative: str, patterns: tuple[str, ...]) -> bool:
    name = PurePosixPath(relative).name
    return any(fnmatch.fnmatchcase(relative, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def _walk(
    root: Path, include: tuple[str, ...], exclude: tuple[str, ...], skip: set[str]
) -> Iterator[InputRef]:
    found: list[tuple[str, InputRef]] = []

    def unreadable(error: OSError) -> None:
        # os.walk would pass over a folder it cannot list; say so instead.
        where = error.filename or str(root)
        relative = Path(where).relative_to(root).as_posix() if Path(where).is_relative_to(root) else where
        message = f"{where}: cannot read: {error.strerror or error}"
        found.append((relative, InputRef(os.fspath(where), Path(where), message)))

    for folder, folders, files in os.walk(root, onerror=unreadable):
        base = Path(folder)
        relative_base = base.relative_to(root).as_posix()
        kept = []
        for sub in folders:
            relative = sub if relative_base == "." else f"{relative_base}/{sub}"
            if sub.startswith(".") or (exclude and _matches(relative, exclude)):
                continue
            if _resolved(base / sub) not in skip:  # the run's report folder
                kept.append(sub)
        folders[:] = sorted(kept)
        for file in files:
            relative = file if relative_base == "." else f"{relative_base}/{file}"
            if file.startswith(".") or not (_matches(relative, include) if include else _known(file)):
                continue
            if exclude and _matches(relative, exclude):
                continue
            path = base / file
            if _resolved(path) in skip:
                continue
            if not path.is_file():  # a FIFO or a device would block or never end
                found.append((relative, InputRef(str(path), path, f"{path}: not a regular file; not read")))
                continue
            found.append((relative, InputRef(str(path), path)))
    for _relative, ref in sorted(found, key=lambda item: item[0]):
        yield ref


def read_input(
    ref: InputRef, max_size: int = DEFAULT_MAX_DECOMPRESSED, stdin: BinaryIO | None = None
) -> RawInput:
    """The bytes of an input, decompressed when gzip, never more than `max_size` of them."""
    if ref.problem is not None:
        return RawInput(problem=ref.problem, complete=False)
    if ref.is_stdin:
        if stdin is None:
            return RawInput(problem=f"{ref.name}: standard input is not available", complete=False)
        return read_stream(ref.name, stdin, max_size)
    assert ref.path is not None
    try:
        with open(ref.path, "rb") as stream:
            return read_stream(ref.name, stream, max_size)
    except OSError as error:
        reason = error.strerror or str(error)
        return RawInput(problem=f"{ref.name}: cannot read: {reason}", complete=False)


def read_stream(name: str, stream: BinaryIO, max_size: int = DEFAULT_MAX_DECOMPRESSED) -> RawInput:
    """The bytes of a binary stream, decompressed when it starts with the gzip magic, within `max_size`."""
    data = stream.read(max_size + 1)
    if len(data) > max_size:
        return RawInput(
            problem=f"{name}: larger than the cap of {max_size} bytes (--max-decompressed-size); refused",
            complete=False,
            refused=True,
        )
    if not data.startswith(GZIP_MAGIC):
        return RawInput(data=data)
    raw = _gunzip(name, (data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK)), max_size)
    if not raw.complete and not raw.data and not raw.refused:
        # Two bytes that happen to be the gzip magic do not make a file gzip: read it as it is.
        return RawInput(data=data, problem=f"{raw.problem}; read as uncompressed bytes instead")
    return raw


def _gunzip(name: str, chunks: Iterator[bytes], max_size: int) -> RawInput:
    """Decompress gzip data chunk by chunk, stopping as soon as the output passes `max_size`.

    The output is bounded while decompressing (never inflated first and measured after), so a
    decompression bomb costs at most `max_size` bytes of memory. Concatenated members are read in turn.
    """
    out: list[bytes] = []
    total = 0
    decompressor = zlib.decompressobj(wbits=31)
    fed = False  # whether the current gzip member has had any input
    try:
        for chunk in chunks:
            pending = chunk
            while pending:
                fed = True
                piece = decompressor.decompress(pending, max_size + 1 - total)
                total += len(piece)
                out.append(piece)
                if total > max_size:
                    return RawInput(
                        compressed=True,
                        problem=(
                            f"{name}: decompresses to more than {max_size} bytes "
                            "(--max-decompressed-size); refused as a possible decompression bomb"
                        ),
                        complete=False,
                        refused=True,
                    )
                if decompressor.eof:
                    pending = decompressor.unused_data
                    decompressor, fed = zlib.decompressobj(wbits=31), False
                    if pending[:1] not in (b"", GZIP_MAGIC[:1]):
                        # Zero padding after the last member is normal (gzip(1) ignores it); other
                        # trailing bytes are data that was not read, which is said, not hidden.
                        rest = pending + b"".join(chunks)
                        problem = None
                        if rest.strip(b"\x00"):
                            problem = (
                                f"{name}: {len(rest)} bytes after the end of the gzip data were not read"
                            )
                        return RawInput(data=b"".join(out), compressed=True, problem=problem)
                else:
                    pending = decompressor.unconsumed_tail
    except zlib.error as error:
        data = b"".join(out)
        return RawInput(
            data=data,
            compressed=True,
            problem=f"{name}: corrupt gzip data after {len(data)} decompressed bytes ({error})",
            complete=bool(data),
        )
    data = b"".join(out)
    if fed:
        return RawInput(
            data=data,
            compressed=True,
            problem=f"{name}: gzip data cut off after {len(data)} decompressed bytes; those were checked",
            complete=bool(data),
        )
    return RawInput(data=data, compressed=True)
