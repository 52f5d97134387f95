"""The small files a user hands quotecheck besides its inputs: feed profiles, baselines and
configuration files. They are untrusted like any input: read only when they are regular files
(a FIFO or a device never blocks the run), no larger than a cap (MAX_SETTINGS_FILE,
MAX_BASELINE_FILE), as strict UTF-8, and parsed so that no content (nesting 100,000 deep, NaN)
raises anything but UserFileError, whose message names the file and what is wrong with it.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tomllib
from typing import Any

from checker.location import location

# Files larger than these are refused from their size, before they are read: a profile or a
# configuration file is a few kilobytes; a baseline holds about 400 bytes per finding, so 64 MiB
# is some 150,000 findings.
MAX_SETTINGS_FILE = 1 << 20
MAX_BASELINE_FILE = 64 << 20

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class UserFileError(ValueError):
    """A profile, baseline or configuration file that cannot be read or parsed."""


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    return f"is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a regular file"


def _size_text(size: int) -> str:
    return f"{size:,} bytes"


def read_user_bytes(path: str | os.PathLike[str], what: str, cap: int = MAX_SETTINGS_FILE) -> bytes:
    """The bytes of a regular file of at most `cap` bytes; raises UserFileError otherwise.

    The file is looked at (stat) before it is opened, and opened without blocking, so a FIFO,
    a device or a socket is refused at once; its size is checked again as it is read.
    """
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise UserFileError(f"{what} {name}: no such file") from None
    except OSError as error:
        raise UserFileError(f"{what} {name}: cannot read: {_reason(error)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserFileError(f"{what} {name}: {_not_regular(info.st_mode)}")
    if info.st_size > cap:
        size, limit = _size_text(info.st_size), _size_text(cap)
        raise UserFileError(f"{what} {name}: {size}, larger than the {limit} cap")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(name, flags)
    except OSError as error:
        raise UserFileError(f"{what} {name}: cannot read: {_reason(error)}") from None
    try:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode):  # replaced between the stat and the open
            raise UserFileError(f"{what} {name}: {_not_regular(opened.st_mode)}")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(descriptor, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                raise UserFileError(f"{what} {name}: larger than the {_size_text(cap)} cap")
        return b"".join(chunks)
    except OSError as error:
        raise UserFileError(f"{what} {name}: cannot read: {_reason(error)}") from None
    finally:
        os.close(descriptor)


def _reason(error: OSError) -> str:
    if error.strerror:
        return error.strerror
    return errno.errorcode.get(error.errno or 0, str(error))


def read_user_text(path: str | os.PathLike[str], what: str, cap: int = MAX_SETTINGS_FILE) -> str:
    """The text of a user file: strict UTF-8 (a leading BOM is dropped), with no NUL byte."""
    name = os.fspath(path)
    data = read_user_bytes(path, what, cap)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise UserFileError(f"{what} {name}: a binary file (NUL byte at offset {nul})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserFileError(
            f"{what} {name}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None
    return text.removeprefix("\ufeff")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_user_json(text: str, name: str, what: str) -> Any:
    """A JSON document, strictly: no NaN or Infinity; any failure is a UserFileError."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        where = location(name, error.lineno, error.colno)
        raise UserFileError(f"{what} {where}: not JSON: {error.msg}") from None
    except ValueError as error:
        raise UserFileError(f"{what} {name}: not strict JSON: {error}") from None
    except RecursionError:
        raise UserFileError(f"{what} {name}: not JSON quotecheck reads: nested too deep") from None


def parse_user_toml(text: str, name: str, what: str) -> dict[str, Any]:
    """A TOML document; any failure is a UserFileError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserFileError(f"{what} {name}: not valid TOML: {error}") from None
    except RecursionError:
        raise UserFileError(f"{what} {name}: not TOML quotecheck reads: nested too deep") from None


def read_user_json(path: str | os.PathLike[str], what: str, cap: int = MAX_SETTINGS_FILE) -> Any:
    """Read and parse a user's JSON file (a profile, a baseline)."""
    return parse_user_json(read_user_text(path, what, cap), os.fspath(path), what)


def read_user_toml(path: str | os.PathLike[str], what: str, cap: int = MAX_SETTINGS_FILE) -> dict[str, Any]:
    """Read and parse a user's TOML file (quotecheck.toml, pyproject.toml)."""
    return parse_user_toml(read_user_text(path, what, cap), os.fspath(path), what)


def json_pointer(parts: Any) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indexes: `/kinds/stock/price`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts) or "/"
