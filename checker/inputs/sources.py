"""Where inputs come from: paths, directories walked with globs, stdin, and gzip, read within a size cap."""

from __future__ import annotations

import errno
import fnmatch
import itertools
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO, Protocol

from checker.inputs.detect import foreign_reason, format_from_name, is_own_report
from checker.read import DEFAULT_MAX_DECOMPRESSED

if TYPE_CHECKING:
    import pathspec  # imported where a .gitignore is read: a run on named files does not pay for it

STDIN = "-"
STDIN_NAME = "<stdin>"
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
    problem: str | None = None  # a message for QC901
    complete: bool = True  # False when nothing usable was read (refused, missing, unreadable)
    refused: bool = False  # True when reading stopped at the size cap


class WalkSettings(Protocol):
    """What a walk of the paths given takes from the options (checker.config.Options has it all)."""

    include: tuple[str, ...]
    exclude: tuple[str, ...]
    report_paths: tuple[str, ...]
    respect_gitignore: bool
    force_exclude: bool
    only_quote_files: bool
    max_decompressed_size: int


def inputs_of(paths: Iterable[str | os.PathLike[str]], settings: WalkSettings) -> list[InputRef]:
    """The inputs that options take from `paths` (files, folders walked, `-`)."""
    return expand_paths(
        paths,
        settings.include,
        settings.exclude,
        settings.report_paths,
        respect_gitignore=settings.respect_gitignore,
        force_exclude=settings.force_exclude,
        only_quote_files=settings.only_quote_files,
        max_size=settings.max_decompressed_size,
    )


def expand_paths(
    paths: Iterable[str | os.PathLike[str]],
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    skip: Iterable[str | os.PathLike[str]] = (),
    *,
    respect_gitignore: bool = True,
    force_exclude: bool = False,
    only_quote_files: bool = False,
    max_size: int = DEFAULT_MAX_DECOMPRESSED,
) -> list[InputRef]:
    """The inputs named by `paths`: files as given, `-` as stdin, directories walked recursively.

    A directory walk takes files matching `include` (default: the known input extensions) and not
    matching `exclude`, tested against the path relative to the directory and against the file
    name; it passes over hidden files and folders, any folder in `skip` (the run's report folder),
    quotecheck's own reports (told by their content), and with `respect_gitignore` what the
    `.gitignore` files of the walked folders, of the folders above them up to the repository root,
    and `.git/info/exclude` ignore. A FIFO, socket, device, dangling link or link loop found in a
    folder is an entry with a problem (never opened). Files come in sorted order.

    A file named in `paths` is taken as it is, unless `force_exclude`: then `exclude` and (with
    `respect_gitignore`) the `.gitignore` files apply to it too, and it is dropped when they match.
    With `only_quote_files`, a file that is plainly not a quote file (see
    `detect.foreign_reason`) or is one of quotecheck's reports is dropped as well.
    """
    skipped = [os.fspath(p) for p in skip]
    ignores = _Ignores() if respect_gitignore else None
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
            found = list(_walk(path, include, exclude, skipped, ignores))
            if only_quote_files:  # a folder of none but foreign files is passed over too
                refs.extend(ref for ref in found if ref.problem is not None or _is_quote_file(ref, max_size))
            elif found:
                refs.extend(found)
            else:
                looked = ", ".join(include) if include else "known input extensions"
                shown = display_name(name)
                refs.append(InputRef(shown, path, f"{shown}: directory holds no input file ({looked})"))
            continue
        if force_exclude and _excluded_file(name, exclude, ignores):
            continue
        ref = InputRef(display_name(name), path)
        if only_quote_files and not _is_quote_file(ref, max_size):
            continue
        refs.append(ref)
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
                return display_name(os.fspath(output)), display_name(given)
    return None


def output_over_walked_input(
    outputs: Iterable[str | os.PathLike[str]],
    paths: Iterable[str | os.PathLike[str]],
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    skip: Iterable[str | os.PathLike[str]] = (),
    respect_gitignore: bool = True,
) -> tuple[str, str, str] | None:
    """The first (output, input, folder) where a report would overwrite a file a folder walk takes.

    Only folders that hold an existing output are walked, so a run whose reports lie outside the
    folders it checks (the usual `reports/`) pays nothing. A file that is one of quotecheck's own
    reports is not an input (the walk passes over it), so a report may replace the previous one.
    """
    resolved = [(os.fspath(o), _resolved(o)) for o in outputs]
    existing = [(o, t) for o, t in resolved if os.path.lexists(o) or os.path.lexists(t)]
    # Reports that a walk could take at all: not quotecheck's own, of a kind the walk takes.
    existing = [
        (output, target)
        for output, target in existing
        if (include or _known(Path(target).name)) and not _own_report(Path(target))
    ]
    skipped = [_resolved(p) for p in skip]
    folders = [os.fspath(p) for p in paths if os.fspath(p) != STDIN and os.path.isdir(p)]
    for folder in folders:
        top = _resolved(folder)
        passed_over = [s for s in skipped if s != top and _inside(s, top)]
        inside = [t for _o, t in existing if _inside(t, top) and not any(_inside(t, s) for s in passed_over)]
        if not inside:
            continue
        walked = expand_paths([folder], include, exclude, skip, respect_gitignore=respect_gitignore)
        found = [(ref.name, _resolved(ref.name)) for ref in walked if ref.path is not None]
        for output, target in existing:
            for name, found_at in found:
                if target == found_at or _same_file(output, name):
                    return display_name(output), name, display_name(folder)
    return None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


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


def _excluded_file(name: str, exclude: tuple[str, ...], ignores: _Ignores | None) -> bool:
    """Whether `--force-exclude` drops a file named on the command line.

    The `exclude` globs are tested against the path as given and every run of its folders (so
    `old/*` drops `old/page.txt` and `data/old/page.txt`, as a walk of `data` would).
    """
    parts = [p for p in PurePosixPath(Path(name).as_posix()).parts if p not in (".", "..", "/")]
    if exclude and parts:
        runs = {"/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)}
        if any(fnmatch.fnmatchcase(run, p) for run in runs for p in exclude):
            return True
    return ignores is not None and ignores.ignores_path(os.path.abspath(name))


def _is_quote_file(ref: InputRef, max_size: int) -> bool:
    """False when `--only-quote-files` passes the input over: plainly not a quote file."""
    if ref.path is None:
        return True
    raw = read_input(ref, max_size)
    if not raw.complete:
        return True  # a file that cannot be read is reported, never passed over in silence
    return foreign_reason(ref.name, raw.data) is None


# ------------------------------------------------------------------------------ special files

_OWN_REPORT_SUFFIXES = (".json", ".html", ".htm", ".xhtml", ".sarif", ".xml", ".md", ".markdown")
_HEAD = 4096


def file_kind(path: str | os.PathLike[str]) -> str | None:
    """None for a regular file (or a link to one); else what the path is, for a message.

    Never opens the path, so a FIFO or a device cannot block.
    """
    try:
        link = os.lstat(path)
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    target = ""
    if stat.S_ISLNK(link.st_mode):
        target = f" ({_link_text(Path(path))})"
        try:
            mode = os.stat(path).st_mode
        except OSError as error:
            if error.errno == errno.ELOOP:
                return f"a symbolic link loop{target}"
            if error.errno in (errno.ENOENT, errno.ENOTDIR):
                return f"a dangling symbolic link{target}"
            return f"a symbolic link that cannot be followed{target}: {error.strerror or error}"
        if stat.S_ISREG(mode):
            return None
        return f"a symbolic link to {_mode_kind(mode)}{target}"
    if stat.S_ISREG(link.st_mode):
        return None
    return _mode_kind(link.st_mode)


def _mode_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _read_regular(path: str | os.PathLike[str], limit: int) -> bytes | None:
    """At most `limit` bytes of a regular file, opened without blocking; None for anything else."""
    opened = open_regular(path)
    if isinstance(opened, str):
        return None
    stream, _size = opened
    with stream:
        try:
            return stream.read(limit)
        except OSError:
            return None


def open_regular(path: str | os.PathLike[str]) -> tuple[BinaryIO, int] | str:
    """A regular file opened for reading and its size, or why it is not opened.

    The file is opened without blocking (a FIFO or a tty put there after the check still cannot
    hang the run) and checked again on the open descriptor, so what is read is what was checked.
    """
    kind = file_kind(path)
    if kind is not None and not kind.startswith("cannot read"):
        return kind
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            os.close(descriptor)
            return _mode_kind(status.st_mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb"), status.st_size
    except OSError as error:
        os.close(descriptor)
        return f"cannot read: {error.strerror or error}"


def _not_read(name: str, kind: str) -> str:
    if kind.startswith("cannot read"):
        return f"{name}: {kind}"
    return f"{name}: {kind}, not a regular file; skipped"


def _own_report(path: Path) -> bool:
    """Whether a file found in a walk is one of quotecheck's reports (told by its first bytes)."""
    if not path.name.lower().endswith(_OWN_REPORT_SUFFIXES):
        return False
    head = _read_regular(path, _HEAD)
    return head is not None and is_own_report(head)


# ------------------------------------------------------------------------------ .gitignore


class _Ignores:
    """The `.gitignore` rules in force in each folder, read once per folder and kept.

    Git's order is followed: a folder's own `.gitignore` wins over its parents', which win over
    `.git/info/exclude`; the last matching pattern of a file decides, `!` re-includes, and a file
    inside an ignored folder is ignored whatever the patterns below say.
    """

    def __init__(self) -> None:
        self._chains: dict[tuple[str, str], tuple[tuple[str, pathspec.GitIgnoreSpec], ...]] = {}
        self._roots: dict[str, str | None] = {}
        # Folders named on the command line that the repository's rules ignore: asked for by name,
        # they are walked with the rules found inside them only (as ripgrep and ruff do).
        self._asked_for: set[str] = set()

    def walk_from(self, top: str) -> None:
        """Note that the walk of `top` starts there: if `top` itself is ignored, rules above it lapse."""
        root = self.root(top)
        if root is None or root == top:
            return
        folders = [top]
        while folders[-1] != root and os.path.dirname(folders[-1]) != folders[-1]:
            folders.append(os.path.dirname(folders[-1]))
        folders.reverse()
        for outer, inner in itertools.pairwise(folders):
            if self.ignored(inner, True, self.chain(outer, root)):
                self._asked_for.add(top)
                return

    def chain(self, folder: str, top: str) -> tuple[tuple[str, pathspec.GitIgnoreSpec], ...]:
        """The (folder, rules) pairs in force in `folder` of a walk of `top`, outermost first.

        Inside a repository the `.gitignore` files from its root down count; outside one, those of
        the walked folders only. Paths are absolute. Built without recursion, so a path of
        thousands of folders cannot exhaust the stack; a walk (top-down) finds its parent's ready.
        """
        if (folder, top) in self._chains:
            return self._chains[(folder, top)]
        if (os.path.dirname(folder), top) in self._chains:
            lineage = [folder]
        else:
            if top in self._asked_for and _inside(folder, top):
                start = top
            else:
                start = self.root(folder) or (top if _inside(folder, top) else folder)
            lineage = [folder]
            while lineage[-1] != start and os.path.dirname(lineage[-1]) != lineage[-1]:
                lineage.append(os.path.dirname(lineage[-1]))
        chain = self._chains.get((os.path.dirname(lineage[-1]), top), ())
        for level in reversed(lineage):
            if (level, top) not in self._chains:
                self._chains[(level, top)] = self._level(level, chain)
            chain = self._chains[(level, top)]
        return chain

    @staticmethod
    def _level(
        folder: str, outer: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]
    ) -> tuple[tuple[str, pathspec.GitIgnoreSpec], ...]:
        """The rules in force in `folder` given those of the folder above it."""
        chain = outer
        if os.path.lexists(os.path.join(folder, ".git")):  # a repository root: nothing above counts
            exclude = _read_patterns(os.path.join(folder, ".git", "info", "exclude"))
            chain = ((folder, exclude),) if exclude is not None else ()
        own = _read_patterns(os.path.join(folder, ".gitignore"))
        return (*chain, (folder, own)) if own is not None else chain

    def root(self, folder: str) -> str | None:
        """The nearest folder at or above `folder` holding `.git` (a folder, or a worktree's file)."""
        passed = []
        found: str | None = None
        while True:
            if folder in self._roots:
                found = self._roots[folder]
                break
            passed.append(folder)
            if os.path.lexists(os.path.join(folder, ".git")):
                found = folder
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        for level in passed:
            self._roots[level] = found
        return found

    def ignored(self, path: str, is_dir: bool, chain: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]) -> bool:
        """Whether the rules of `chain` (those of the folder holding `path`) ignore `path`."""
        for folder, spec in reversed(chain):
            relative = _matchable(os.path.relpath(path, folder).replace(os.sep, "/"))
            result = spec.check_file(relative + "/" if is_dir else relative)
            if result.include is not None:
                return bool(result.include)
        return False

    def ignores_path(self, path: str) -> bool:
        """Whether a file named on the command line is ignored: it, or a folder it is in."""
        here = os.path.dirname(path)
        top = self.root(here) or here
        folders = [here]
        while folders[-1] != top and os.path.dirname(folders[-1]) != folders[-1]:
            folders.append(os.path.dirname(folders[-1]))
        folders.reverse()
        for outer, inner in itertools.pairwise(folders):
            if self.ignored(inner, True, self.chain(outer, top)):
                return True
        return self.ignored(path, False, self.chain(here, top))


def _matchable(text: str) -> str:
    """A path the pattern engine can take: bytes that are not UTF-8 become U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that no file system gave
        return text.encode("utf-8", "replace").decode("utf-8")


_MAX_IGNORE_FILE = 1 << 20


def _read_patterns(path: str) -> pathspec.GitIgnoreSpec | None:
    """The patterns of a `.gitignore` (or `info/exclude`), or None when there is none to read.

    Read like an input: never a FIFO or device, at most 1 MiB. A line that is not a valid pattern
    is passed over, as git does.
    """
    import pathspec

    if file_kind(path) is not None:
        return None
    data = _read_regular(path, _MAX_IGNORE_FILE)
    if data is None:
        return None
    lines = [_matchable(line) for line in data.decode("utf-8", "surrogateescape").splitlines()]
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:
        valid = []
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except ValueError:
                continue
            valid.append(line)
        return pathspec.GitIgnoreSpec.from_lines(valid)


# ------------------------------------------------------------------------------ the walk


def _walk(
    root: Path,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    skip: list[str],
    ignores: _Ignores | None = None,
) -> Iterator[InputRef]:
    found: list[tuple[str, InputRef]] = []
    top = os.path.abspath(root)

    def unreadable(error: OSError) -> None:
        # os.walk would pass over a folder it cannot list; say so instead.
        where = error.filename or str(root)
        relative = Path(where).relative_to(root).as_posix() if Path(where).is_relative_to(root) else where
        shown = display_name(os.fspath(where))
        message = f"{shown}: cannot read: {error.strerror or error}"
        found.append((relative, InputRef(shown, Path(where), message)))

    skip_ids = set()
    for folder in skip:  # compared by identity: no path is resolved per folder of the walk
        try:
            status = os.stat(folder)
        except OSError:
            continue
        skip_ids.add((status.st_dev, status.st_ino))
    if ignores is not None:
        ignores.walk_from(top)
    for folder, relative_base, folders, links, files in _walk_folders(root, unreadable):
        base = Path(folder)
        here = os.path.join(top, relative_base) if relative_base != "." else top
        chain = ignores.chain(here, top) if ignores is not None else ()
        kept = []
        for sub in folders:
            relative = sub if relative_base == "." else f"{relative_base}/{sub}"
            if sub.startswith(".") or (exclude and _matches(relative, exclude)):
                continue
            if ignores is not None and ignores.ignored(os.path.join(here, sub), True, chain):
                continue
            if skip_ids and _identity(os.path.join(folder, sub)) in skip_ids:  # the report folder
                continue
            if sub in links:
                # Links to folders are not followed; one that points back up would never end.
                if _inside(_resolved(here), _resolved(base / sub)):
                    path = base / sub
                    shown = display_name(str(path))
                    message = _not_read(shown, f"a symbolic link loop ({_link_text(path)})")
                    found.append((relative, InputRef(shown, path, message)))
                continue
            kept.append(sub)
        folders[:] = sorted(kept)
        for file in files:
            relative = file if relative_base == "." else f"{relative_base}/{file}"
            if file.startswith(".") or not (_matches(relative, include) if include else _known(file)):
                continue
            if exclude and _matches(relative, exclude):
                continue
            if ignores is not None and ignores.ignored(os.path.join(here, file), False, chain):
                continue
            path = base / file
            kind = file_kind(path)
            if kind is not None:  # a FIFO or a device would block or never end
                shown = display_name(str(path))
                found.append((relative, InputRef(shown, path, _not_read(shown, kind))))
                continue
            if _own_report(path):  # this tool's report: never read back as an input
                continue
            found.append((relative, InputRef(display_name(str(path)), path)))
    for _relative, ref in sorted(found, key=lambda item: item[0]):
        yield ref


def _walk_folders(
    root: Path, onerror: Callable[[OSError], None]
) -> Iterator[tuple[str, str, list[str], set[str], list[str]]]:
    """(folder, its path relative to root, subfolders, those that are links, files), top-down.

    As os.walk, but with a stack of its own: os.walk recurses (in Python 3.11), so a tree a
    thousand folders deep would exhaust the interpreter's stack; here depth costs only memory.
    The caller prunes `subfolders` in place; nothing is followed unless the caller keeps it.
    """
    stack = [(os.fspath(root), ".")]
    while stack:
        folder, relative = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as error:
            onerror(error)
            continue
        folders: list[str] = []
        links: set[str] = set()
        files: list[str] = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
                if is_folder and entry.is_symlink():
                    links.add(entry.name)
            except OSError:
                is_folder = False
            (folders if is_folder else files).append(entry.name)
        yield folder, relative, folders, links, files
        for name in reversed(folders):
            stack.append((os.path.join(folder, name), name if relative == "." else f"{relative}/{name}"))


def _identity(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _link_text(path: Path) -> str:
    try:
        return display_name(os.readlink(path))
    except OSError:
        return "?"


def display_name(name: str) -> str:
    """A file name as findings and reports name it: valid Unicode, whatever bytes the file system holds.

    A name that is not UTF-8 comes from the operating system with its bad bytes as lone surrogates,
    which no report, frame or terminal can hold; those bytes are written as `\\xff` escapes (the
    file is still read by its real name, kept in InputRef.path).
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    except UnicodeError:
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


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
    # Only a regular file is read, opened without blocking: a FIFO or a device named on the command
    # line (or put in a folder after the walk) can neither hang the run nor feed it without end.
    opened = open_regular(ref.path)
    if isinstance(opened, str):
        hint = " (give - to read standard input)" if _is_stdin_name(ref.name) else ""
        return RawInput(problem=_not_read(ref.name, opened) + hint, complete=False)
    stream, size = opened
    with stream:
        if size > max_size:  # refused from the size the file system gives, before a byte is read
            return RawInput(
                problem=(
                    f"{ref.name}: {size} bytes, larger than the cap of {max_size} bytes "
                    "(--max-decompressed-size); refused"
                ),
                complete=False,
                refused=True,
            )
        try:
            return read_stream(ref.name, stream, max_size)
        except OSError as error:
            reason = error.strerror or str(error)
            return RawInput(problem=f"{ref.name}: cannot read: {reason}", complete=False)


def _is_stdin_name(name: str) -> bool:
    return name in ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


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
                        return RawInput(data=b"".join(out), problem=problem)
                else:
                    pending = decompressor.unconsumed_tail
    except zlib.error as error:
        data = b"".join(out)
        return RawInput(
            data=data,
            problem=f"{name}: corrupt gzip data after {len(data)} decompressed bytes ({error})",
            complete=bool(data),
        )
    data = b"".join(out)
    if fed:
        return RawInput(
            data=data,
            problem=f"{name}: gzip data cut off after {len(data)} decompressed bytes; those were checked",
            complete=bool(data),
        )
    return RawInput(data=data)
