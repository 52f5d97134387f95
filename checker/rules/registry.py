"""The rule registry: every rule declared once, with its code, name, severity and documentation.

`quotecheck rules`, `quotecheck explain`, the README's rule table, the HTML glossary and the
JSON report's `rules` block are all generated from these declarations. A code is never reused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from checker.arrays import as_large_text, as_pd_text
from checker.findings import Severity, empty_findings, normalize
from checker.vocabulary import INDEX, place_column

if TYPE_CHECKING:
    import datetime as dt

    from checker.numeric import Numbers
    from checker.profile import Profile

_TEXT = pd.StringDtype("pyarrow")

FAMILIES = {
    "QC1": "parse",
    "QC2": "schema",
    "QC3": "consistency",
    "QC4": "format",
    "QC5": "plausibility",
    "QC6": "history",
    "QC9": "input",
}

# What a rule looks at: one quote at a time, a whole page, or a whole archive of snapshots.
Scope = Literal["quote", "page", "archive"]
SCOPES: tuple[Scope, ...] = ("quote", "page", "archive")


@dataclass(frozen=True)
class PageKeys:
    """What a page-scope rule sees of every quote of its page, however the page was read.

    A page read whole has every quote in its frame; a large page read a chunk at a time keeps
    only these keys of each quote, and the engine hands a page rule the full quotes of the rows
    its `select` asks for (with `rows`, their positions among the keys).
    """

    file_codes: np.ndarray  # int64: which page of a batch each quote is on
    kinds: pa.Array  # equal values: the same kind
    symbols: pa.Array
    lines: np.ndarray  # int64 line of each quote
    rows: np.ndarray | None = None  # the positions of the context's quotes (None: all, in order)

    def __len__(self) -> int:
        return len(self.lines)

    def at(self, rows: np.ndarray) -> PageKeys:
        """The same page, for a context holding the quotes at `rows` only."""
        return PageKeys(self.file_codes, self.kinds, self.symbols, self.lines, rows)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> PageKeys:
        """The keys of a frame that holds every quote of its pages."""
        return cls(
            file_codes=file_codes(frame),
            kinds=as_large_text(frame["kind"]),
            symbols=as_large_text(frame["symbol"]),
            lines=frame["line"].to_numpy(dtype=np.int64),
        )


def file_codes(frame: pd.DataFrame) -> np.ndarray:
    """Which page each quote of a frame is on: an int64 code per file, in order of appearance."""
    files = frame["file"]
    if isinstance(files.dtype, pd.CategoricalDtype):
        return files.cat.codes.to_numpy().astype(np.int64)
    return pd.factorize(files.astype(str))[0].astype(np.int64)


def as_mask(values: pa.Array) -> np.ndarray:
    """An Arrow boolean array (a kernel's result) as a numpy mask, null as False."""
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


@dataclass
class CheckContext:
    """What a frame rule sees: the quotes, their decoded numbers, the profile and the options."""

    frame: pd.DataFrame
    numbers: dict[str, Numbers]
    profile: Profile
    as_of: dt.date | None = None
    # The codes of the rules that run (None: all). A rule abstains on a quote whose field another
    # rule already explains only when that other rule runs, so turning a rule off loses no fault.
    enabled: frozenset[str] | None = None
    # The page's keys, when the frame holds only some of its page's quotes (see PageKeys).
    page: PageKeys | None = None
    # Intermediate results shared by several rules (signals, repeats), computed once per frame.
    shared: dict[str, Any] = field(default_factory=dict, repr=False)

    def page_keys(self) -> PageKeys:
        """The keys of every quote of the frame's pages (the frame's own when it holds them all)."""
        if self.page is None:
            self.page = PageKeys.of(self.frame)
        return self.page

    def texts(self, column: str, mask: np.ndarray | None = None) -> np.ndarray:
        """A text column (only the rows of `mask`, if given) as an object array, nulls as ''."""
        values = self.frame[column].array
        if mask is not None:
            values = values[np.asarray(mask, dtype=bool)]
        return np.asarray(values.to_numpy(dtype=object, na_value=""), dtype=object)

    def cell(self, column: str, row: int) -> Any:
        """One value of a column (None where missing), for building the messages of failing rows.

        The column is turned into Python objects once, on first use: pandas' own scalar access
        to an Arrow-backed column costs far more per value.
        """
        cache = self.shared.get("cells")
        if cache is None:
            cache = self.shared["cells"] = {}
        values = cache.get(column)
        if values is None:
            values = cache[column] = _cells(self.frame[column])
        if isinstance(values, _Cells):
            if values.asked * 16 < values.size:
                values.asked += 1
                return values.text[row].as_py()
            values = cache[column] = _whole(values.series)
        return values[row]

    def equals(self, column: str, text: str) -> np.ndarray:
        """Where a text column equals `text` (False where null), computed without Python objects.

        Computed once per column and text: several rules ask the same (the kind, the arrows)."""
        cache = self.shared.setdefault("equals", {})
        key = (column, text)
        if key not in cache:
            found = (self.frame[column] == text).to_numpy(dtype=bool, na_value=False)
            found.flags.writeable = False  # shared: a rule must not change it in place
            cache[key] = found
        return cache[key]

    def runs(self, code: str) -> bool:
        """Whether the rule `code` is enabled in this run."""
        return self.enabled is None or code in self.enabled

    @cached_property
    def is_index(self) -> np.ndarray:
        """True for rows that are index quotes."""
        return (self.frame["kind"] == INDEX).to_numpy(dtype=bool, na_value=False)

    @cached_property
    def exact(self) -> np.ndarray:
        """True for rows whose price and change are exact (per the profile's kinds)."""
        exact_kinds = [name for name, kind in self.profile.kinds.items() if kind.exact]
        return self.frame["kind"].isin(exact_kinds).to_numpy(dtype=bool)


class _Cells:
    """An Arrow text column read a value at a time (see CheckContext.cell): until a good share of it
    has been asked for, when it is turned into Python objects whole. A few messages on a page of a
    million quotes should not cost a million Python strings, nor a million messages a million
    Arrow scalars."""

    def __init__(self, series: pd.Series) -> None:
        self.series = series
        self.text = as_large_text(series)
        self.size = len(self.text)
        self.asked = 0


def _whole(series: pd.Series) -> np.ndarray:
    # (pandas-stubs reject na_value=None, which pandas takes: missing values as None)
    return series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]


def _cells(series: pd.Series) -> _Cells | np.ndarray:
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and len(series) > 4096:
        return _Cells(series)
    return _whole(series)


Check = Callable[["Rule", CheckContext], pd.DataFrame]
# A page rule's choice of the quotes it needs in full: a boolean mask over the page's keys.
Select = Callable[[PageKeys], np.ndarray]


@dataclass(frozen=True)
class Rule:
    """One rule: identity, default severity and documentation, and the check that applies it."""

    code: str
    name: str
    severity: Severity
    summary: str
    description: str
    passing: str
    failing: str
    fields: tuple[str, ...] = ()
    scope: Scope = "quote"
    check: Check | None = field(default=None, compare=False, repr=False)
    select: Select | None = field(default=None, compare=False, repr=False)

    def run(self, ctx: CheckContext) -> pd.DataFrame:
        """The rule's findings on the context's quotes (none for a rule without a frame check)."""
        return empty_findings() if self.check is None else self.check(self, ctx)

    @property
    def family(self) -> str:
        """The rule's family (parse, schema, consistency, format, plausibility, input)."""
        return FAMILIES[self.code[:3]]

    def as_dict(self) -> dict[str, Any]:
        """The rule's catalogue entry, as the JSON report carries it."""
        return {
            "code": self.code,
            "name": self.name,
            "family": self.family,
            "severity": self.severity.label,
            "summary": self.summary,
            "description": self.description,
            "passing_example": self.passing,
            "failing_example": self.failing,
        }

    def findings(
        self,
        ctx: CheckContext,
        mask: np.ndarray,
        field_name: str,
        observed: Any,
        expected: Any,
        message: Any,
        column: Any = None,
    ) -> pd.DataFrame:
        """One finding of this rule for each row where `mask` holds.

        `observed`, `expected`, `message` and `column` are scalars or per-row arrays/Series
        aligned with the frame.
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return empty_findings()
        frame = ctx.frame
        selected = int(mask.sum())

        def pick(value: Any) -> Any:
            # Per-row values come either aligned with the frame or already picked (one per finding).
            if isinstance(value, pd.Series):
                value = value.array
            if isinstance(value, pa.Array):  # Arrow text, as the message builders make it
                return value if len(value) == selected and selected != len(mask) else value.filter(mask)
            if isinstance(value, np.ndarray | pd.api.extensions.ExtensionArray):
                if len(value) == selected and selected != len(mask):
                    return np.asarray(value)
                return np.asarray(value[mask])
            return value

        def text(value: Any) -> Any:
            # Typed here, so that normalize() has nothing left to cast (it costs per call).
            if value is None or isinstance(value, str):
                return as_pd_text(pa.repeat(pa.scalar(value, pa.large_string()), selected))
            if isinstance(value, pa.Array):
                return as_pd_text(value.cast(pa.large_string()))
            if isinstance(value, pd.arrays.ArrowStringArray):  # a text column's rows: no round trip
                return as_pd_text(as_large_text(value))
            return pd.Series(value, dtype=object).astype(_TEXT).array

        def file_text() -> Any:
            # The frame's one or few file names (a categorical), taken by code, not made per finding.
            files = frame["file"].array[mask]
            if isinstance(files, pd.Categorical) and not (files.codes < 0).any():
                try:
                    names = pa.array(list(files.categories), pa.large_string())
                except (pa.ArrowException, UnicodeError, TypeError):  # (a name holding a lone surrogate)
                    names = None
                if names is not None:
                    return as_pd_text(names.take(files.codes.astype(np.int64)))
            return text(np.asarray(files.astype(str)))

        if column is None:
            column = frame[place_column(field_name)] if place_column(field_name) in frame else frame["column"]
        out = pd.DataFrame(
            {
                "rule": text(self.code),
                "name": text(self.name),
                "severity": text(self.severity.label),
                "file": file_text(),
                "line": pd.array(frame["line"].to_numpy()[mask], dtype="Int64"),
                "column": pd.array(pick(column), dtype="Int64"),
                "end_column": pd.array(frame["end_column"].to_numpy()[mask], dtype="Int64"),
                "symbol": text(frame["symbol"].array[mask]),
                "field": text(field_name),
                "observed": text(pick(observed)),
                "expected": text(pick(expected)),
                "message": text(pick(message)),
            },
            copy=False,
        )
        result = normalize(out)
        # Kept so that the engine can tell which findings fall on which quote (see validate).
        ctx.shared.setdefault("emitted", []).append((self.code, np.flatnonzero(mask), result))
        return result


REGISTRY: dict[str, Rule] = {}


def declare(
    *,
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    description: str,
    passing: str,
    failing: str,
    fields: tuple[str, ...] = (),
    scope: Scope = "quote",
    select: Select | None = None,
) -> Callable[[Check | None], Check | None]:
    """Register a rule; used as a decorator on its check, which is called as `check(rule, ctx)`,
    or called with None for a rule found outside the frame checks (parse, input, schema)."""
    if scope not in SCOPES:
        raise ValueError(f"rule {code}: unknown scope {scope!r}")
    if scope == "page" and select is None:
        raise ValueError(f"rule {code}: a page rule says which quotes it needs (select=...)")

    def register(check: Check | None) -> Check | None:
        if code in REGISTRY:
            raise ValueError(f"rule code {code} declared twice")
        if any(r.name == name for r in REGISTRY.values()):
            raise ValueError(f"rule name {name} declared twice")
        REGISTRY[code] = Rule(
            code, name, severity, summary, description, passing, failing, fields, scope, check, select
        )
        return check

    return register


def get_rule(code_or_name: str) -> Rule:
    """A rule by its code (`QC303`) or name (`percent-mismatch`)."""
    key = code_or_name.strip()
    if key.upper() in REGISTRY:
        return REGISTRY[key.upper()]
    for rule in REGISTRY.values():
        if rule.name == key.lower():
            return rule
    raise KeyError(f"unknown rule {code_or_name!r}")


def all_rules() -> list[Rule]:
    """Every rule, ordered by code."""
    from checker import rules as _  # noqa: F401  (importing the package registers every rule)

    return [REGISTRY[code] for code in sorted(REGISTRY)]
