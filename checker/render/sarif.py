"""SARIF 2.1.0 (the format code-scanning services read): the rule catalogue and one result per finding.

Columns are counted in Unicode code points (`columnKind`), as quotecheck counts them; `endColumn`
is one past the last character, as SARIF wants. Each result carries a partial fingerprint made
from the finding's identity (file, rule, symbol, field, observed: the baseline's identity), so a
problem keeps its identity when lines above it move.

Locations are relative to a declared root, as code-scanning services expect: each
artifactLocation has `"uriBaseId": "%SRCROOT%"` and the run's `originalUriBaseIds` gives that
root as a `file://` URI ending in `/` (the folder the CLI ran in). A file outside the root keeps
an absolute `file:` URI. Names are percent-encoded from their bytes (UTF-8, or the original bytes
of a name that is not UTF-8). Message text is made safe to show (render.escape.display), and the
document holds no raw control character and no lone surrogate (render.escape.json_safe).
"""

from __future__ import annotations

import json
import os
import posixpath
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from checker import __version__
from checker.baseline import fingerprint, identities
from checker.findings import column_lists
from checker.render.escape import display, json_safe, visible
from checker.render.output import atomic_writer
from checker.report import TOOL_NAME, Report

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "quotecheckIdentity/v1"
# The name GitHub code scanning and most SARIF tools know for the checked-out source tree.
SOURCE_ROOT = "%SRCROOT%"


def _name_bytes(text: str) -> bytes:
    """A path's bytes: UTF-8, with the undecodable bytes Python keeps as surrogates given back."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file name decodes to: keep its code point
        return text.encode("utf-8", "surrogatepass")


def _percent_encoded(posix: str) -> str:
    return quote(_name_bytes(posix), safe="/")


def file_uri(path: str | os.PathLike[str], folder: bool = False) -> str:
    """The `file://` URI of an absolute path (a folder's ends in `/`), percent-encoded."""
    posix = PurePosixPath(*Path(path).parts).as_posix()
    if folder and not posix.endswith("/"):
        posix += "/"
    return "file://" + _percent_encoded(posix)


def artifact_location(path: str, base: Path | None = None) -> dict[str, str]:
    """A SARIF artifactLocation: relative to SOURCE_ROOT when the file is under it, else absolute.

    `base` is the absolute folder SOURCE_ROOT stands for; a relative path is taken as relative
    to it (the CLI's `base` is the folder it ran in). Without `base`, a relative path stays
    relative and an absolute one stays absolute.
    """
    posix = PurePosixPath(*Path(path).parts).as_posix() if path else "."
    normal = posixpath.normpath(posix)
    if not posixpath.isabs(normal):
        if base is None or not (normal == ".." or normal.startswith("../")):
            return {"uri": _percent_encoded(normal), "uriBaseId": SOURCE_ROOT}
        normal = posixpath.normpath(posixpath.join(base.as_posix(), normal))  # above the root
    if base is not None:
        relative = posixpath.relpath(normal, base.as_posix())
        if relative != ".." and not relative.startswith("../"):
            return {"uri": _percent_encoded(relative), "uriBaseId": SOURCE_ROOT}
    return {"uri": file_uri(normal)}


def artifact_uri(path: str, base: Path | None = None) -> str:
    """The URI of a file: relative (to `base`, with forward slashes) under it, else a file: URI."""
    return artifact_location(path, base)["uri"]


def _rule_descriptor(rule: Any, report: Report, enabled: set[str]) -> dict[str, Any]:
    level = LEVELS[report.options.policy.severity_of(rule)]
    # An example may hold the very bytes its rule is about (QC901's NULs): shown as escapes.
    passing, failing = visible(rule.passing), visible(rule.failing)
    help_text = f"{rule.description}\n\nPasses: {passing}\nFails: {failing}"
    help_markdown = (
        f"{rule.description}\n\nPasses:\n\n    {passing}\n\nFails:\n\n    {failing}\n\n"
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
    index = {code: position for position, code in enumerate(report.catalogue_by_code())}
    uris: dict[str, dict[str, str]] = {}
    seen: Counter[str] = Counter()
    fixes = report.fixes_by_finding()
    for frame in report.finding_frames():
        if len(frame):
            for result in _frame_results(frame, index, uris, seen, base):
                file = result.pop("_file")
                if fixes:
                    _add_fix(result, file, fixes)
                yield result


def _add_fix(result: dict[str, Any], file: str, fixes: dict[tuple[str, str, int, int], Any]) -> None:
    """A result's repair (checker.fix) as SARIF `fixes[]`, its applicability in the fix's
    properties; a display-only repair changes nothing, so its candidates go in the result's."""
    location = result["locations"][0]["physicalLocation"]
    region = location.get("region", {})
    fix = fixes.get((result["ruleId"], file, region.get("startLine"), region.get("startColumn")))
    if fix is None:
        return
    if not fix.edits:
        result["properties"] = {
            "fixApplicability": fix.applicability,
            "fixCandidates": [display(text) for text in fix.candidates],
        }
        return
    replacements = [
        {
            "deletedRegion": {"startLine": e.line, "startColumn": e.column, "endColumn": e.end_column + 1},
            "insertedContent": {"text": e.text},
        }
        for e in fix.edits
    ]
    change = {"artifactLocation": dict(location["artifactLocation"]), "replacements": replacements}
    result["fixes"] = [
        {
            "description": {"text": display(fix.message)},
            "artifactChanges": [change],
            "properties": {"applicability": fix.applicability},
        }
    ]


def _frame_results(
    frame: Any, index: dict[str, int], uris: dict[str, dict[str, str]], seen: Counter[str], base: Path | None
) -> Iterator[dict[str, Any]]:
    columns = column_lists(frame, ("rule", "severity", "file", "line", "column", "end_column", "message"))
    for row, identity in zip(zip(*columns, strict=True), identities(frame), strict=True):
        code, severity, file, line, column, end_column, message = row
        if file not in uris:
            uris[file] = artifact_location(str(file), base)
        location: dict[str, Any] = {"artifactLocation": dict(uris[file])}
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
            "message": {"text": display(message)},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {FINGERPRINT_KEY: f"{key}:{seen[key]}"},
        }
        if code in index:
            result["ruleIndex"] = index[code]
        result["_file"] = str(file)  # taken out again by iter_results
        yield result


def _log(report: Report, base: Path | None, results: Any) -> dict[str, Any]:
    rules = list(report.catalogue_by_code().values())
    enabled = {rule.code for rule in report.rules}
    artifacts = []
    for file in report.files:
        artifact: dict[str, Any] = {"location": artifact_location(file.path, base)}
        if file.encoding:
            artifact["encoding"] = file.encoding
        artifacts.append(artifact)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule_descriptor(rule, report, enabled) for rule in rules],
            }
        },
    }
    if base is not None:
        run["originalUriBaseIds"] = {SOURCE_ROOT: {"uri": file_uri(base, folder=True)}}
    run |= {"columnKind": "unicodeCodePoints", "artifacts": artifacts, "results": results}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def sarif_document(report: Report, base: Path | None = None) -> dict[str, Any]:
    """The SARIF log of a report; paths under `base` (relative ones are) are relative to SOURCE_ROOT."""
    return _log(report, base, list(iter_results(report, base)))


def save_sarif(report: Report, path: str | os.PathLike[str], base: Path | None = None) -> None:
    """Write the SARIF log to `path` atomically, results streamed one at a time (bounded memory)."""
    placeholder = "\x00results\x00"
    head, tail = json.dumps(_log(report, base, placeholder), ensure_ascii=False, indent=2).split(
        json.dumps(placeholder)
    )
    head, tail = json_safe(head), json_safe(tail)
    with atomic_writer(path) as stream:
        stream.write(head)
        stream.write("[")
        first = True
        for result in iter_results(report, base):
            stream.write("\n        " if first else ",\n        ")
            stream.write(json_safe(json.dumps(result, ensure_ascii=False)))
            first = False
        stream.write("\n      ]" if not first else "]")
        stream.write(tail)
        stream.write("\n")
