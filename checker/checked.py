"""What checking gives: the engine's results, shared by the engine and the paths below it.

`ChunkResult` is one chunk of lines checked, `FileCheck` one input, `Part` what a run adds at
once (one input, or a batch of pages checked together).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from checker.numeric import Numbers
from checker.report import FileResult
from checker.rules.registry import Scope
from checker.validate import file_finding

# The scope of the rules that run on a part of a page (a chunk, a sample, a batch of pages).
QUOTE_SCOPE: frozenset[Scope] = frozenset(("quote",))
Sources = dict[tuple[str, int], str]


@dataclass
class ChunkResult:
    """What the engine makes of one chunk of lines: its quotes, their numbers and the findings."""

    quotes: pd.DataFrame
    numbers: dict[str, Numbers]
    findings: pd.DataFrame


@dataclass
class FileCheck:
    """The outcome of checking one input: its figures, findings, quotes and source lines."""

    result: FileResult
    findings: pd.DataFrame
    quotes: pd.DataFrame | None = None
    sources: Sources = field(default_factory=dict)


@dataclass
class Part:
    """What a run adds at once: the results of one input, or of a batch of pages checked together.

    `names`, `results` and `quotes` are in input order; `findings` holds every input's findings."""

    names: list[str]
    results: list[FileResult]
    findings: pd.DataFrame
    quotes: list[pd.DataFrame] = field(default_factory=list)
    sources: Sources = field(default_factory=dict)

    @classmethod
    def single(cls, checked: FileCheck) -> Part:
        quotes = [] if checked.quotes is None else [checked.quotes]
        path = checked.result.path
        return cls([path], [checked.result], checked.findings, quotes, checked.sources)


def internal_error(name: str, error: BaseException) -> FileCheck:
    """An input that quotecheck itself failed on: a QC904 finding naming the error (exit 3)."""
    message = f"{name}: internal error: {type(error).__name__}: {error}"[:500]
    result = FileResult(path=name, status="failed", message=message)
    return FileCheck(result, file_finding("QC904", name, message))
