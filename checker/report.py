"""The Report: what a check found, the one object every renderer takes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from checker import __version__
from checker.config import Options
from checker.exitcodes import ExitStatus
from checker.findings import empty_findings, severity_counts
from checker.rules.registry import Rule

TOOL_NAME = "quotecheck"
REPORT_VERSION = "1.0"


@dataclass
class FileResult:
    """What happened to one input file."""

    path: str
    format: str = "text"
    encoding: str | None = None
    lines: int = 0
    quotes: int = 0
    status: str = "checked"  # "checked", "unreadable" or "failed"
    message: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})

    def as_dict(self) -> dict[str, Any]:
        """The file's entry in the JSON report."""
        return {
            "path": self.path,
            "format": self.format,
            "encoding": self.encoding,
            "status": self.status,
            "message": self.message,
            "lines": self.lines,
            "quotes": self.quotes,
            "errors": self.counts["error"],
            "warnings": self.counts["warning"],
            "infos": self.counts["info"],
        }


@dataclass
class Report:
    """The result of one run over one or more inputs."""

    options: Options
    rules: list[Rule]  # the rules that ran
    files: list[FileResult] = field(default_factory=list)
    findings: pd.DataFrame = field(default_factory=empty_findings)
    quotes: pd.DataFrame | None = None
    source_lines: dict[tuple[str, int], str] = field(default_factory=dict)
    baseline_suppressed: int = 0
    # With the checks across snapshots: each page's capture time, its source and its session.
    snapshots: pd.DataFrame | None = None
    # Every rule quotecheck has, enabled or not, so that renderers never read the registry.
    catalogue: list[Rule] = field(default_factory=list)
    # Repairs (checker.fix.Fix): those applied by --fix and those the findings still have; None
    # when the run did not look for them.
    fixes: list[Any] | None = None

    def fixes_by_finding(self) -> dict[tuple[str, str, int, int], Any]:
        """Each available repair by its finding's rule, file, line and column (renderers' lookup)."""
        out: dict[tuple[str, str, int, int], Any] = {}
        for fix in self.fixes or ():
            if fix.status != "applied":
                out.setdefault((fix.rule, fix.file, fix.line, fix.column), fix)
        return out

    def catalogue_by_code(self) -> dict[str, Rule]:
        """The catalogue (or, if none was given, the rules that ran) by rule code."""
        return {rule.code: rule for rule in (self.catalogue or self.rules)}

    @property
    def counts(self) -> dict[str, int]:
        """Findings by severity."""
        return severity_counts(self.findings)

    @property
    def passed(self) -> bool:
        """True when no finding reaches the fail level."""
        return not self.options.policy.fails(self.counts)

    @property
    def exit_status(self) -> ExitStatus:
        """The exit status a run with this report ends with."""
        if any(f.status == "failed" for f in self.files):
            return ExitStatus.INTERNAL
        if any(f.status == "unreadable" for f in self.files):
            return ExitStatus.USAGE
        return ExitStatus.OK if self.passed else ExitStatus.FINDINGS

    def finding_frames(self) -> Iterator[pd.DataFrame]:
        """Every finding in report order, a frame at a time (what JSON and SARIF writers stream)."""
        yield self.findings

    def rule_counts(self) -> dict[str, int]:
        """How many findings each rule produced."""
        if not len(self.findings):
            return {}
        return {str(k): int(v) for k, v in self.findings["rule"].value_counts().sort_index().items()}

    def summary(self) -> dict[str, Any]:
        """The report's summary block."""
        counts = self.counts
        return {
            "files": len(self.files),
            "quotes": sum(f.quotes for f in self.files),
            "lines": sum(f.lines for f in self.files),
            "errors": counts["error"],
            "warnings": counts["warning"],
            "infos": counts["info"],
            "findings": len(self.findings),
            "baseline_suppressed": self.baseline_suppressed,
            "passed": self.passed,
            "exit_status": int(self.exit_status),
            **(self.fix_summary() if self.fixes is not None else {}),
        }

    def fix_summary(self) -> dict[str, int]:
        """How many repairs were applied, and how many the findings still have."""
        fixes = self.fixes or []
        applied = sum(fix.status == "applied" for fix in fixes)
        return {"fixes_applied": applied, "fixes_remaining": len(fixes) - applied}

    def rule_entries(self) -> list[dict[str, Any]]:
        """The catalogue entries of the rules that ran, with this run's severity and count."""
        counts = self.rule_counts()
        policy = self.options.policy
        entries = []
        for rule in self.rules:
            entry = rule.as_dict()
            entry["severity"] = policy.severity_of(rule)
            entry["default_severity"] = rule.severity.label
            entry["count"] = counts.get(rule.code, 0)
            entries.append(entry)
        return entries

    def file_entries(self, snapshots: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The JSON report's `files` entries; with the checks across snapshots, each also holds
        its page's capture time, where that came from, and its session (`snapshots`: the
        snapshot table's records when already made)."""
        entries = [f.as_dict() for f in self.files]
        if self.snapshots is None or not len(self.snapshots):
            return entries
        records = snapshots if snapshots is not None else snapshot_records(self.snapshots)
        by_file = {str(row["file"]): row for row in records}
        for entry in entries:
            row = by_file.get(entry["path"])
            if row is not None:
                for key in SNAPSHOT_FILE_KEYS:
                    entry[key] = row.get(key)
        return entries

    def header(self) -> dict[str, Any]:
        """Everything in the JSON report but the findings and quotes."""
        snapshots = snapshot_records(self.snapshots) if self.snapshots is not None else None
        return {
            **self.header_meta(),
            "summary": self.summary(),
            "files": self.file_entries(snapshots),
            "rules": self.rule_entries(),
            **({"snapshots": snapshots} if snapshots is not None else {}),
            **({"fixes": [fix.as_dict() for fix in self.fixes]} if self.fixes is not None else {}),
        }

    def header_meta(self) -> dict[str, Any]:
        """The header's first entries: the report format, the tool and the options of the run
        (what the HTML report shows of it; its tables are made from the report itself)."""
        options = self.options
        return {
            "report_version": REPORT_VERSION,
            "tool": {"name": TOOL_NAME, "version": __version__},
            "options": {
                "profile": options.profile,
                "as_of": options.as_of.isoformat() if options.as_of else None,
                "fail_on": options.policy.fail_on,
                "max_errors": options.policy.max_errors,
                "select": list(options.policy.select),
                "ignore": list(options.policy.ignore),
                "severity": dict(sorted(options.policy.severity.items())),
                "baseline": options.baseline.path if options.baseline else None,
            },
        }


SNAPSHOT_FILE_KEYS = ("captured_at", "time_source", "session")


def snapshot_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The snapshot table as the JSON report's `snapshots` entries (missing values as None)."""

    keys = [str(key) for key in table.columns]
    if not keys:
        return [{} for _ in range(len(table))]
    columns = []
    for key in table.columns:  # a column at a time (a dict per cell through pandas is 5x slower)
        column = table[key]
        missing = column.isna().to_numpy(dtype=bool)
        values = column.astype(object).tolist()
        columns.append(
            [
                None if gone else (value.item() if isinstance(value, np.generic) else value)
                for value, gone in zip(values, missing.tolist(), strict=True)
            ]
        )
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]
