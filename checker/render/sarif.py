"""SARIF 2.1.0 (the format code-scanning services read): the rule catalogue and one result per finding.

Columns are counted in Unicode code points (`columnKind`), as quotecheck counts them; `endColumn`
is one past the last character, as SARIF wants. Each result carries a partial fingerprint made
from the finding's identity (file, rule, symbol, field, observed: the baseline's identity), so a
problem keeps its identity when lines above it move.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from checker import __version__
from checker.baseline import fingerprint, identities
from checker.findings import column_lists
from checker.render.output import atomic_writer
from checker.report import TOOL_NAME, Report
from checker.rules.registry import all_rules

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "quotecheckIdentity/v1"


def artifact_uri(path: str, base: Path | None = None) -> str:
    """A relative URI with forward slashes for a file under `base`; a file: URI for one elsewhere."""
    candidate = Path(path)
    if candidate.is_absolute():
        if base is not None:
            try:
                candidate = candidate.relative_to(base)
            except ValueError:
                return candidate.as_uri()
        else:
            return candidate.as_uri()
    posix = PurePosixPath(*candidate.parts).as_posix() if candidate.parts else path
    return quote(posix.replace("\\", "/"), safe="/")


def _rule_descriptor(rule: Any, report: Report, enabled: set[str]) -> dict[str, Any]:
    level = LEVELS[report.options.policy.severity_of(rule)]
    help_text = f"{rule.description}\n\nPasses: {rule.passing}\nFails: {rule.failing}"
    help_markdown = (
        f"{rule.description}\n\nPasses:\n\n    {rule.passing}\n\nFails:\n\n    {rule.failing}\n\n"
        f"`quotecheck explain {rule.code}` prints this text."
    )
    configuration: dict[str, Any] = {"level": level}
    if rule.code not in enabled:
        configuration["enabled"] = False
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.description},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": configuration,
        "properties": {"tags": [rule.family]},
    }


def iter_results(report: Report, base: Path | None = None) -> Iterator[dict[str, Any]]:
    """One SARIF result per finding, in report order."""
    index = {rule.code: position for position, rule in enumerate(all_rules())}
    frame = report.findings
    if not len(frame):
        return
    columns = column_lists(frame, ("rule", "severity", "file", "line", "column", "end_column", "message"))
    uris: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for row, identity in zip(zip(*columns, strict=True), identities(frame), strict=True):
        code, severity, file, line, column, end_column, message = row
        if file not in uris:
            uris[file] = artifact_uri(str(file), base)
        location: dict[str, Any] = {"artifactLocation": {"uri": uris[file]}}
        if line is not None:
            region: dict[str, Any] = {"startLine": int(line)}
            if column is not None:
                region["startColumn"] = int(column)
                if end_column is not None and int(end_column) >= int(column):
                    region["endColumn"] = int(end_column) + 1
            location["region"] = region
        key = fingerprint(identity)
        seen[key] += 1  # the same problem twice in a file: two results, told apart
        result: dict[str, Any] = {
            "ruleId": str(code),
            "level": LEVELS.get(str(severity), "error"),
            "message": {"text": str(message)},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {FINGERPRINT_KEY: f"{key}:{seen[key]}"},
        }
        if code in index:
            result["ruleIndex"] = index[code]
        yield result


def _log(report: Report, base: Path | None, results: Any) -> dict[str, Any]:
    rules = all_rules()
    enabled = {rule.code for rule in report.rules}
    artifacts = []
    for file in report.files:
        artifact: dict[str, Any] = {"location": {"uri": artifact_uri(file.path, base)}}
        if file.encoding:
            artifact["encoding"] = file.encoding
        artifacts.append(artifact)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule_descriptor(rule, report, enabled) for rule in rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "artifacts": artifacts,
                "results": results,
            }
        ],
    }


def sarif_document(report: Report, base: Path | None = None) -> dict[str, Any]:
    """The SARIF log of a report; relative paths stay relative, absolute ones under `base` become so."""
    return _log(report, base, list(iter_results(report, base)))


def save_sarif(report: Report, path: str | os.PathLike[str], base: Path | None = None) -> None:
    """Write the SARIF log to `path` atomically, results streamed one at a time (bounded memory)."""
    placeholder = "\x00results\x00"
    head, tail = json.dumps(_log(report, base, placeholder), ensure_ascii=False, indent=2).split(
        json.dumps(placeholder)
    )
    with atomic_writer(path) as stream:
        stream.write(head)
        stream.write("[")
        first = True
        for result in iter_results(report, base):
            stream.write("\n        " if first else ",\n        ")
            stream.write(json.dumps(result, ensure_ascii=False))
            first = False
        stream.write("\n      ]" if not first else "]")
        stream.write(tail)
        stream.write("\n")
