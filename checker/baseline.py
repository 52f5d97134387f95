"""Baselines: findings recorded in an earlier JSON report, which a later run does not count again.

A finding is matched by its identity: file, rule, symbol, field and the observed text, not by
its line or column. A page that gains or loses lines above a known problem shifts its line
number, and the problem is still the same one; a changed figure (a new observed value) is a new
problem. Identities are matched as a multiset: a baseline that holds a problem twice suppresses
it twice, and a third occurrence is reported.

A baseline's file names are relative to the baseline's own folder (`record_frame` writes them
so), and both sides are resolved before they are compared, so a run from any folder matches. A
baseline written by an older quotecheck, whose names are relative to the folder it was run from,
still matches a run from that folder: a name the baseline's folder does not resolve is compared
as written.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from checker.findings import FINDING_COLUMNS, column_lists, combine, from_records
from checker.userfiles import MAX_BASELINE_FILE, UserFileError, read_user_json

IDENTITY_FIELDS = ("file", "rule", "symbol", "field", "observed")

Identity = tuple[str, str, str, str, str]


class BaselineError(ValueError):
    """A baseline file that cannot be read or is not a quotecheck JSON report."""


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def normalize_path(path: str) -> str:
    """A file name as identities hold it: forward slashes, no leading `./`."""
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def identity_of(record: dict[str, Any]) -> Identity:
    """The identity of one finding given as a mapping (a JSON report's finding)."""
    values = [_text(record.get(name)) for name in IDENTITY_FIELDS]
    values[0] = normalize_path(values[0])
    return (values[0], values[1], values[2], values[3], values[4])


def identities(findings: pd.DataFrame) -> list[Identity]:
    """The identity of every finding of a findings frame, in row order."""
    if not len(findings):
        return []
    columns = column_lists(findings, IDENTITY_FIELDS)
    return [
        (normalize_path(_text(f)), _text(r), _text(s), _text(d), _text(o))
        for f, r, s, d, o in zip(*columns, strict=True)
    ]


def fingerprint(identity: Identity) -> str:
    """A stable hash of an identity (SARIF's partialFingerprints use it)."""
    return hashlib.sha256("\x1f".join(identity).encode("utf-8")).hexdigest()


def _is_path(name: str) -> bool:
    """Whether a finding's file is a file name (not `-` or `<stdin>`, `<text>`...)."""
    return bool(name) and name != "-" and not name.startswith("<")


def _resolved(name: str, folder: str, cache: dict[str, str]) -> str:
    key = f"{folder}\x00{name}"
    hit = cache.get(key)
    if hit is None:
        hit = name
        if _is_path(name):
            try:
                hit = os.path.realpath(os.path.join(folder, name))
            except (OSError, ValueError):  # a NUL byte, a name too long: compared as written
                hit = name
        cache[key] = hit
    return hit


def relative_name(name: str, folder: str) -> str:
    """A finding's file name relative to `folder` (both resolved), in forward slashes."""
    if not _is_path(name):
        return name
    try:
        relative = os.path.relpath(os.path.realpath(name), os.path.realpath(folder))
    except (OSError, ValueError):  # a NUL byte, another drive: kept as it is
        return normalize_path(name)
    return normalize_path(relative)


@dataclass
class Baseline:
    """Identities of known findings, each with how many times it was recorded.

    `folder` is the folder the file names are relative to (the baseline file's own). With
    `keep_suppressed`, the findings a run leaves out are kept in `suppressed`, so that a run
    recording a new baseline over this one can write them back.
    """

    path: str
    known: Counter[Identity] = field(default_factory=Counter)
    folder: str = "."
    exists: bool = True
    keep_suppressed: bool = False
    suppressed: list[pd.DataFrame] = field(default_factory=list, repr=False)
    matched: int = 0
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def size(self) -> int:
        """How many findings the baseline holds."""
        return sum(self.known.values())

    def __post_init__(self) -> None:
        self._index: tuple[dict[Identity, list[int]], dict[Identity, list[int]]] | None = None
        self._cache: dict[str, str] = {}

    def _entries(self) -> tuple[dict[Identity, list[int]], dict[Identity, list[int]]]:
        # Every recorded finding is one entry with two keys: its file resolved from the baseline's
        # folder, and its file as written. A finding takes an unused entry by the first key, else
        # by the second.
        if self._index is None:
            resolved: dict[Identity, list[int]] = defaultdict(list)
            written: dict[Identity, list[int]] = defaultdict(list)
            entry = 0
            for identity, count in sorted(self.known.items()):
                key = (_resolved(identity[0], self.folder, self._cache), *identity[1:])
                for _ in range(count):
                    resolved[key].append(entry)
                    written[identity].append(entry)
                    entry += 1
            self._index = (dict(resolved), dict(written))
        return self._index

    def suppress(self, findings: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """Findings not in the baseline, and how many were left out because they are.

        Each recorded finding suppresses one finding of the findings given (those of one file).
        """
        if not len(findings) or not self.known:
            return findings, 0
        by_resolved, by_written = self._entries()
        used: set[int] = set()

        def take(entries: list[int] | None) -> bool:
            for entry in entries or ():
                if entry not in used:
                    used.add(entry)
                    return True
            return False

        keep = np.ones(len(findings), dtype=bool)
        for row, identity in enumerate(identities(findings)):
            resolved = (_resolved(identity[0], ".", self._cache), *identity[1:])
            if take(by_resolved.get(resolved)) or take(by_written.get(identity)):
                keep[row] = False
        suppressed = int((~keep).sum())
        if not suppressed:
            return findings, 0
        self.matched += suppressed
        if self.keep_suppressed:
            self.suppressed.append(findings[~keep])
        return findings[keep].reset_index(drop=True), suppressed


_LOCATIONS = ("line", "column", "end_column")


def _clean_record(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FINDING_COLUMNS:
        value = record.get(name)
        if name in _LOCATIONS:
            out[name] = value if isinstance(value, int) and not isinstance(value, bool) else None
        else:
            out[name] = None if value is None or isinstance(value, dict | list) else str(value)
    return out


def untouched_findings(baseline: Baseline, checked: list[str]) -> pd.DataFrame:
    """The baseline's findings of files a run did not check (`checked`: the run's file names),
    as they were recorded: a run over some files keeps what the baseline knows of the others."""
    cache: dict[str, str] = {}
    ran = {_resolved(name, ".", cache) for name in checked} | {normalize_path(n) for n in checked}
    kept = []
    for record in baseline.records:
        name = normalize_path(_text(record.get("file")))
        if _resolved(name, baseline.folder, cache) in ran or name in ran:
            continue
        kept.append(_clean_record(record))
    return from_records(kept)


def record_frame(findings: pd.DataFrame, folder: str) -> pd.DataFrame:
    """Findings as a baseline records them: file names relative to the baseline's folder."""
    if not len(findings):
        return findings
    out = findings.copy()
    names = {name: relative_name(name, folder) for name in out["file"].dropna().unique()}
    out["file"] = out["file"].map(lambda name: names.get(name, name)).astype(findings["file"].dtype)
    return combine([out])


def load_baseline(path: str | os.PathLike[str], missing_ok: bool = False) -> Baseline:
    """Read the findings of a quotecheck JSON report as a Baseline; raises BaselineError.

    With `missing_ok`, a file that does not exist yet is an empty baseline (one being recorded).
    The file is read like any untrusted input: a regular file of at most MAX_BASELINE_FILE bytes,
    strict UTF-8 JSON, each finding's identity fields text, numbers or null.
    """
    name = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(name))
    if missing_ok and not os.path.lexists(name):
        return Baseline(path=name, folder=folder, exists=False)
    try:
        document = read_user_json(path, "baseline", MAX_BASELINE_FILE)
    except UserFileError as error:
        raise BaselineError(str(error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise BaselineError(f"baseline {name}: not a quotecheck JSON report (no `findings` list)")
    known: Counter[Identity] = Counter()
    for index, record in enumerate(document["findings"]):
        if not isinstance(record, dict) or not isinstance(record.get("rule"), str):
            raise BaselineError(f"baseline {name}: /findings/{index}: finding {index} has no rule code")
        for key in IDENTITY_FIELDS:
            value = record.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
                raise BaselineError(
                    f"baseline {name}: /findings/{index}/{key}: expected text, a number or null, "
                    f"not {type(value).__name__}"
                )
        known[identity_of(record)] += 1
    return Baseline(path=name, known=known, folder=folder, records=document["findings"])
