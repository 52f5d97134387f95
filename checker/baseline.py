"""Baselines: findings recorded in an earlier JSON report, which a later run does not count again.

A finding is matched by its identity: file, rule, symbol, field and the observed text, not by
its line or column. A page that gains or loses lines above a known problem shifts its line
number, and the problem is still the same one; a changed figure (a new observed value) is a new
problem. Identities are matched as a multiset: a baseline that holds a problem twice suppresses
it twice, and a third occurrence is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from checker.findings import column_lists

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


@dataclass(frozen=True)
class Baseline:
    """Identities of known findings, each with how many times it was recorded."""

    path: str
    known: Counter[Identity] = field(default_factory=Counter)

    def suppress(self, findings: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """Findings not in the baseline, and how many were left out because they are."""
        if not len(findings) or not self.known:
            return findings, 0
        remaining = Counter(self.known)
        keep = np.ones(len(findings), dtype=bool)
        for row, identity in enumerate(identities(findings)):
            if remaining[identity] > 0:
                remaining[identity] -= 1
                keep[row] = False
        suppressed = int((~keep).sum())
        return findings[keep].reset_index(drop=True), suppressed


def load_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read the findings of a quotecheck JSON report as a Baseline; raises BaselineError."""
    name = str(path)
    try:
        with Path(path).open(encoding="utf-8") as stream:
            document = json.load(stream)
    except OSError as error:
        raise BaselineError(f"baseline {name}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise BaselineError(f"baseline {name}: not UTF-8 text: {error.reason}") from None
    except json.JSONDecodeError as error:
        raise BaselineError(f"baseline {name}:{error.lineno}:{error.colno}: not JSON: {error.msg}") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise BaselineError(f"baseline {name}: not a quotecheck JSON report (no `findings` list)")
    known: Counter[Identity] = Counter()
    for index, record in enumerate(document["findings"]):
        if not isinstance(record, dict) or not isinstance(record.get("rule"), str):
            raise BaselineError(f"baseline {name}: finding {index} has no rule code")
        known[identity_of(record)] += 1
    return Baseline(path=name, known=known)
