"""Policy and options: which rules run, at which severity, and what fails a run.

A rule says where and what; identity, severity overrides, selection and fail thresholds are
applied here, from configuration, so a user can change them without touching code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from checker.findings import Severity
from checker.rules.registry import Rule, all_rules, get_rule

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
        self.severity = {get_rule(k).code: Severity.parse(v).label for k, v in self.severity.items()}

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
        """Drop findings of rules not enabled and apply severity overrides."""
        enabled = {r.code for r in self.enabled_rules()}
        out = findings[findings["rule"].isin(enabled).to_numpy(dtype=bool)].reset_index(drop=True)
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


def _match_rules(key: str) -> list[Rule]:
    """Rules matching a code (`QC303`), a name (`percent-mismatch`) or a code prefix (`QC3`)."""
    key = key.strip()
    rules = all_rules()
    matched = [
        r for r in rules if r.code.startswith(key.upper()) or r.name == key.lower() or r.family == key.lower()
    ]
    if not matched:
        raise ValueError(f"unknown rule {key!r} (see `quotecheck rules`)")
    return matched


@dataclass
class Options:
    """Everything that decides what a check finds, apart from the inputs."""

    profile: str = "br-psx"
    as_of: dt.date | None = None
    policy: Policy = field(default_factory=Policy)
    include_quotes: bool = False
