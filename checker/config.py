"""Policy and options: which rules run, at which severity, and what fails a run.

A rule says where and what; identity, severity overrides, selection and fail thresholds are
applied here, from configuration, so a user can change them without touching code.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_pa_array, as_pd_text
from checker.baseline import Baseline
from checker.findings import Severity
from checker.read import DEFAULT_MAX_DECOMPRESSED
from checker.rules.registry import Rule, all_rules, get_rule
from checker.userfiles import MAX_SETTINGS_FILE, UserFileError, read_user_toml

if TYPE_CHECKING:
    pass

FAIL_LEVELS = ("error", "warning", "info", "never")


@dataclass
class Policy:
    """Which rules run, their severities, and when a run fails."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    fail_on: str = "error"
    max_errors: int | None = None

    def __post_init__(self) -> None:
        if self.fail_on not in FAIL_LEVELS:
            raise ValueError(f"fail-on must be one of {', '.join(FAIL_LEVELS)}, not {self.fail_on!r}")
        for key in (*self.select, *self.ignore):
            _match_rules(key)  # raises on an unknown code, name or family
        self.severity = {rule_code(k): Severity.parse(v).label for k, v in self.severity.items()}

    def enabled_rules(self) -> list[Rule]:
        """The rules this policy runs, ordered by code."""
        rules = all_rules()
        chosen = {r.code for r in rules}
        if self.select:
            chosen = {r.code for key in self.select for r in _match_rules(key)}
        chosen -= {r.code for key in self.ignore for r in _match_rules(key)}
        return [r for r in rules if r.code in chosen]

    def severity_of(self, rule: Rule) -> str:
        """A rule's severity under this policy."""
        return self.severity.get(rule.code, rule.severity.label)

    def apply(self, findings: pd.DataFrame) -> pd.DataFrame:
        """Drop findings of rules not enabled, name each finding's rule and apply severity overrides.

        A finding that names its rule by code alone (the readers of records do not look rules up)
        gets the rule's name and default severity here, before the overrides.
        """
        findings = _named(findings)
        enabled = {r.code for r in self.enabled_rules()}
        keep = findings["rule"].isin(enabled).to_numpy(dtype=bool)
        # Nothing to drop or override (the usual run): no copy of what may be millions of findings.
        if keep.all() and not self.severity:
            return findings.reset_index(drop=True)
        out = findings[keep].reset_index(drop=True)
        for code, label in self.severity.items():
            rows = (out["rule"] == code).to_numpy(dtype=bool)
            if rows.any():
                out.loc[rows, "severity"] = label
        return out

    def fails(self, counts: dict[str, int]) -> bool:
        """Whether a run with these severity counts fails."""
        if self.max_errors is not None and counts.get("error", 0) > self.max_errors:
            return True
        if self.max_errors is not None and self.fail_on == "error":
            return False
        if self.fail_on == "never":
            return False
        threshold = Severity.parse(self.fail_on)
        return any(counts.get(s.label, 0) for s in Severity if s >= threshold)


def _named(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings with the name and default severity of their rule where they have none."""
    if not len(findings) or not findings["name"].hasnans:
        return findings
    codes = as_pa_array(findings["rule"])
    known = pc.unique(codes).drop_null()
    rules = [get_rule(str(code)) for code in known.to_pylist()]
    at = pc.index_in(codes, value_set=known)  # each finding's rule among `rules`, in Arrow
    out = findings.copy(deep=False)  # copy on write: only the columns filled in are copied
    for column, values in (
        ("name", [r.name for r in rules]),
        ("severity", [r.severity.label for r in rules]),
    ):
        default = pa.array(values, pa.large_string()).take(at)
        given = as_pa_array(findings[column]).cast(pa.large_string())
        out[column] = as_pd_text(pc.coalesce(given, default))
    return out


def _match_rules(key: str) -> list[Rule]:
    """Rules matching a code (`QC303`), a name (`percent-mismatch`) or a code prefix (`QC3`)."""
    key = key.strip()
    rules = all_rules()
    matched = [
        r for r in rules if r.code.startswith(key.upper()) or r.name == key.lower() or r.family == key.lower()
    ]
    if not matched:
        raise ValueError(unknown_rule_message(key))
    return matched


def unknown_rule_message(key: str) -> str:
    """`unknown rule 'QC3O3'; did you mean QC303 (percent-mismatch)?`, with the closest rule when
    one is close enough (difflib, over the codes and the names)."""
    key = key.strip()
    best: tuple[float, str, Rule] | None = None
    for rule in all_rules():
        for typed, known in ((key.upper(), rule.code), (key.lower(), rule.name)):
            ratio = difflib.SequenceMatcher(None, typed, known).ratio()
            if ratio >= 0.6 and (best is None or ratio > best[0]):
                best = (ratio, rule.code, rule)
    message = f"unknown rule '{key}'"
    if best is not None:
        message += f"; did you mean {best[2].code} ({best[2].name})?"
    return message + " (see `quotecheck rules`)"


def rule_code(key: str) -> str:
    """The code of the rule named by a code or a name; ValueError with a guess when there is none."""
    try:
        return get_rule(key).code
    except KeyError:
        raise ValueError(unknown_rule_message(key)) from None


# The quotes the HTML report lists, at most: a run keeping only the quotes its reports show
# (Options.quotes_kept == "shown") keeps each page's first SHOWN_QUOTES.
SHOWN_QUOTES = 2000


@dataclass
class Options:
    """Everything that decides what a check finds, apart from the inputs."""

    profile: str = "br-psx"
    as_of: dt.date | None = None
    policy: Policy = field(default_factory=Policy)
    include_quotes: bool = False
    # With include_quotes: "all" of them (the JSON report's quotes, the history step, ledgers,
    # repairs), or "shown", those the HTML and SARIF reports use: the first SHOWN_QUOTES of each
    # page and those on the lines of each rule's first findings (whose repairs they list). A
    # large page is then still checked a chunk at a time (checker.chunked).
    quotes_kept: Literal["all", "shown"] = "all"
    baseline: Baseline | None = None
    # Inputs: the format to read them in (None: by extension, else by content), the globs a
    # directory walk takes and leaves, the most bytes read from one input after decompression,
    # and the run's own report files, which a directory walk passes over.
    input_format: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED
    report_paths: tuple[str, ...] = ()
    # A walk leaves what .gitignore ignores; force_exclude applies `exclude` and .gitignore to
    # files named as paths too; only_quote_files passes over files plainly not quote files.
    respect_gitignore: bool = True
    force_exclude: bool = False
    only_quote_files: bool = False


# Configuration files: `quotecheck.toml`, or `[tool.quotecheck]` in `pyproject.toml`.
CONFIG_FILE = "quotecheck.toml"
PYPROJECT = "pyproject.toml"
CONFIG_KEYS = (
    "fail-on",
    "select",
    "ignore",
    "severity",
    "max-errors",
    "profile",
    "as-of",
    "baseline",
    "include",
    "exclude",
    "respect-gitignore",
    "force-exclude",
)


class ConfigError(ValueError):
    """A configuration file that cannot be read, or holds an unknown key or a bad value."""


def find_config(start: Path) -> Path | None:
    """The nearest configuration file in `start` or a folder above it.

    In one folder `quotecheck.toml` wins over `pyproject.toml`; a `pyproject.toml` without a
    `[tool.quotecheck]` table is passed over.
    """
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        candidate = folder / PYPROJECT
        if candidate.is_file() and _has_tool_table(candidate):
            return candidate
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return "quotecheck" in _read_toml(path).get("tool", {})
    except ConfigError:
        return True  # a broken pyproject.toml is reported, not passed over silently


def _read_toml(path: Path) -> dict[str, Any]:
    """A configuration file's TOML: a regular file of at most MAX_SETTINGS_FILE bytes, never blocking."""
    try:
        return read_user_toml(path, "configuration", MAX_SETTINGS_FILE)
    except UserFileError as error:
        raise ConfigError(str(error)) from None


def load_config(path: Path) -> dict[str, Any]:
    """The settings of a configuration file, checked and keyed by CONFIG_KEYS; raises ConfigError.

    Paths in the file (`baseline`, a profile given as a JSON file) are taken relative to the
    file's folder.
    """
    document = _read_toml(path)
    if path.name == PYPROJECT:
        table = document.get("tool", {}).get("quotecheck", {})
        where = f"{path} [tool.quotecheck]"
    else:
        table = document
        where = str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of settings")
    unknown = sorted(set(table) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(known: {', '.join(CONFIG_KEYS)})"
        )
    settings: dict[str, Any] = {}
    for key, value in table.items():
        try:
            settings[key] = _setting(key, value, path.parent)
        except (TypeError, ValueError, KeyError) as error:
            reason = error.args[0] if error.args else str(error)
            raise ConfigError(f"{where}: {key}: {reason}") from None
    if "select" in settings or "ignore" in settings or "severity" in settings or "fail-on" in settings:
        try:  # every rule named and every level, checked now so the message names the file
            Policy(
                select=settings.get("select", ()),
                ignore=settings.get("ignore", ()),
                severity=settings.get("severity", {}),
                fail_on=settings.get("fail-on", "error"),
            )
        except (ValueError, KeyError) as error:
            raise ConfigError(f"{where}: {error.args[0] if error.args else error}") from None
    return settings


def _setting(key: str, value: Any, folder: Path) -> Any:
    if key == "fail-on":
        if value not in FAIL_LEVELS:
            raise ValueError(f"must be one of {', '.join(FAIL_LEVELS)}, not {value!r}")
        return value
    if key in ("select", "ignore"):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise TypeError("expected a list of rule codes, names or prefixes")
        return tuple(i.strip() for i in items if i.strip())
    if key in ("include", "exclude"):
        if not isinstance(value, list) or not all(isinstance(i, str) and i for i in value):
            raise TypeError('expected a list of glob patterns, such as ["*.txt", "archive/**"]')
        return tuple(value)
    if key in ("respect-gitignore", "force-exclude"):
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, not {value!r}")
        return value
    if key == "severity":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise TypeError('expected a table of RULE = "error" | "warning" | "info"')
        return dict(value)
    if key == "max-errors":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"expected a whole number of at least 0, not {value!r}")
        return value
    if key == "as-of":
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
            raise TypeError(f"expected a date (YYYY-MM-DD), not {value!r}")
        try:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if key == "profile":
        if not isinstance(value, str) or not value:
            raise TypeError("expected a profile name or a JSON file")
        return str(folder / value) if value.endswith(".json") or "/" in value else value
    if key == "baseline":
        if not isinstance(value, str) or not value:
            raise TypeError("expected the path of a JSON report")
        return str(folder / value)
    raise KeyError(f"unknown key {key!r}")
