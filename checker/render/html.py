"""The HTML report: one self-contained page (inline CSS and JS, no network) that a person reads.

Everything taken from the input reaches the page through Jinja2's autoescaping; highlighted
source text is split into segments here and each segment is escaped by the template, so no
input text is ever marked up by string concatenation. Every value the template prints first
passes `visible`, so control characters, bidi overrides and lone surrogates from the input show
as escapes instead of acting on the page (or breaking its UTF-8).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import jinja2
import markupsafe
import numpy as np
import pandas as pd

from checker.config import SHOWN_QUOTES
from checker.findings import FINDING_COLUMNS, Severity
from checker.location import location
from checker.render.output import atomic_writer
from checker.report import TOOL_NAME, Report, snapshot_records
from checker.resources import templates_dir
from checker.vocabulary import QUOTE_FIELDS, text_column

MAX_ROWS_PER_RULE = 200
MAX_QUOTES = SHOWN_QUOTES
MAX_DEVIATION_BARS = 30
# Files listed in the result-by-file table near the top; failed ones come first when there are more.
MAX_FILE_RESULTS = 100
MAX_TIMELINE_SESSIONS = 200
MAX_TIMELINE_SYMBOLS = 200
MAX_TIMELINE_SNAPSHOTS = 20  # per session
# Characters of a file's path shown in a chart label (the start is cut: the name is at the end).
CHART_PATH = 32
# How far off a percent mismatch is, in percentage points: upper edges of the buckets counted.
DEVIATION_BUCKETS = (Decimal("0.01"), Decimal("0.1"), Decimal("1"), Decimal("10"))
DEVIATION_LABELS = ("up to 0.01", "0.01 to 0.1", "0.1 to 1", "1 to 10", "over 10")
# Characters of source shown either side of the highlighted text when a line is long.
SOURCE_CONTEXT = 60
# Characters of a highlighted stretch shown at most (a 50 MB field is marked by its start).
MAX_MARK = 200
# Inputs whose quotes are records, one to a line, rather than stretches of a page.
RECORD_FORMATS = ("csv", "tsv", "json", "jsonl", "frame")
_SEVERITY_ORDER = {s.label: int(s) for s in Severity}
_MINUS_SIGNS = str.maketrans({"\u2212": "-", ",": None, "%": None})


# Characters that must not reach the page raw: C0 and C1 controls, DEL, the bidi controls, the
# line and paragraph separators, and lone surrogates (a file name decoded with surrogateescape,
# or a JSON `\ud800` escape), which UTF-8 cannot encode.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control, bidi or surrogate character written as a visible escape (`\\x1b`)."""
    return _INVISIBLE.sub(_escape_char, text)


def _inert(text: str) -> markupsafe.Markup:
    """Input text made visible and escaped, with `##[` spelt `#&#35;[`: the same on the page, but
    a CI runner shown the report (`--html -` in a job's log) reads no `##[command]` in it."""
    return markupsafe.Markup(str(markupsafe.escape(visible(text))).replace("##[", "#&#35;["))


def _finalize(value: Any) -> Any:
    """What the template prints: input text made inert; the page's own markup as it is."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return _inert(value)
    return value


@dataclass(frozen=True)
class Segment:
    """A stretch of a source line: plain text, highlighted text, or a gap marking elided text."""

    text: str
    kind: str  # "text", "mark" or "gap"


def highlight_segments(
    source: str, column: int | None, end_column: int | None, observed: str | None
) -> list[Segment]:
    """Split a source line into segments with the offending text marked.

    `column` is 1-based; `end_column` is the 1-based last character. Field findings carry the
    field's start column: the observed text is marked when it is found there, otherwise the
    stretch from `column` to `end_column`. Long lines are cut to a window around the mark, and a
    long mark to its start, so a row never copies more than a few hundred characters of its line.
    """
    if column is None or not 0 < column <= len(source):
        if len(source) <= 2 * SOURCE_CONTEXT:
            return [Segment(source, "text")] if source else []
        return [Segment(source[: 2 * SOURCE_CONTEXT], "text"), Segment("…", "gap")]
    start = column - 1
    if observed and source.startswith(observed, start):
        end = start + len(observed)
    elif end_column is not None and end_column >= column:
        end = min(end_column, len(source))
    else:
        end = start + 1
    segments = []
    if start > SOURCE_CONTEXT:
        segments.append(Segment("…", "gap"))
    segments.append(Segment(source[max(0, start - SOURCE_CONTEXT) : start], "text"))
    if end - start > MAX_MARK:
        segments += [Segment(source[start : start + MAX_MARK], "mark"), Segment("…", "gap")]
    else:
        segments.append(Segment(source[start:end], "mark"))
    segments.append(Segment(source[end : end + SOURCE_CONTEXT], "text"))
    if end + SOURCE_CONTEXT < len(source):
        segments.append(Segment("…", "gap"))
    return [s for s in segments if s.text]


def percent_deviation(observed: str | None, expected: str | None) -> Decimal | None:
    """How far a shown percent lies from what the figures give: shown minus the nearest expected value.

    `expected` is one value (`1.57`) or an interval (`0.5 to 0.52`), either with or without its
    `%` (a CSV or JSON field may hold it); None when either is unreadable.
    """
    try:
        shown = Decimal((observed or "").translate(_MINUS_SIGNS).strip())
        bounds = [Decimal(part.translate(_MINUS_SIGNS).strip()) for part in (expected or "").split(" to ")]
    except InvalidOperation:
        return None
    if not shown.is_finite() or not all(b.is_finite() for b in bounds):
        return None
    low, high = min(bounds), max(bounds)
    if shown > high:
        return shown - high
    if shown < low:
        return shown - low
    return Decimal(0)


def _value(value: Any) -> Any:
    """A frame cell as a plain Python value, None for missing."""
    if value is None or value is pd.NA:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """Rows of a (small) frame as dicts of plain values."""
    values = [frame[c].astype(object).tolist() for c in columns]
    return [{c: _value(v) for c, v in zip(columns, row, strict=True)} for row in zip(*values, strict=True)]


def _rule_entries(report: Report) -> dict[str, dict[str, Any]]:
    """Catalogue entries by code, including any rule that produced findings without being listed."""
    entries = {entry["code"]: entry for entry in report.rule_entries()}
    catalogue = report.catalogue_by_code()
    for code, count in report.rule_counts().items():
        if code not in entries:
            rule = catalogue.get(code)
            entry = rule.as_dict() if rule else {"code": code, "name": "", "summary": "", "description": ""}
            entry.setdefault("severity", "error")
            entries[code] = entry | {"count": count}
    return entries


def _finding_row(
    finding: dict[str, Any], sources: dict[tuple[str, int], str], fixes: dict[Any, Any] | None = None
) -> dict[str, Any]:
    """What the findings table shows for one finding (with its repair, before and after, if any)."""
    line, column = finding["line"], finding["column"]
    file = finding["file"] or ""
    where = location(file, line, column)
    source = sources.get((file, line)) if line is not None else None
    segments = (
        highlight_segments(source, column, finding["end_column"], finding["observed"])
        if source is not None
        else []
    )
    return finding | {
        "location": where,
        "segments": segments,
        "has_source": source is not None,
        "severity_rank": _SEVERITY_ORDER.get(finding["severity"] or "", 0),
        "fix": _fix_cell(finding, fixes),
    }


def _fix_cell(finding: dict[str, Any], fixes: dict[Any, Any] | None) -> dict[str, Any] | None:
    """A finding's repair as the findings table shows it: applicability, before and after."""
    if not fixes:
        return None
    fix = fixes.get((finding["rule"], finding["file"] or "", finding["line"], finding["column"]))
    if fix is None:
        return None
    return {
        "applicability": fix.applicability,
        "before": fix.before or "(nothing)",
        "after": fix.after,
        "more": max(0, fix.candidate_count - len(fix.candidates)),
    }


def _rule_sections(report: Report, entries: dict[str, dict[str, Any]], cap: int) -> list[dict[str, Any]]:
    """One section per rule with findings: its documentation and up to `cap` of its findings."""
    findings = report.findings
    counts = report.rule_counts()
    codes = sorted(counts, key=lambda code: (-_SEVERITY_ORDER.get(entries[code]["severity"], 0), code))
    rules = findings["rule"].to_numpy(dtype=object, na_value="")
    sections = []
    fixes = report.fixes_by_finding()
    for code in codes:
        rows = findings.iloc[np.flatnonzero(rules == code)[:cap]]  # (not a copy of all of them)
        shown = [
            _finding_row(f, report.source_lines, fixes) | {"order": int(order)}
            for f, order in zip(_records(rows, FINDING_COLUMNS), rows.index, strict=True)
        ]
        sections.append(
            {
                "rule": entries[code],
                "count": counts[code],
                "rows": shown,
                "left_out": counts[code] - len(shown),
            }
        )
    return sections


def _shown_percent(text: str | None) -> str | None:
    """A percent as the page shows it: with its `%`, which a CSV or JSON field may already hold."""
    if text is None:
        return None
    return text if text.rstrip().endswith("%") else f"{text}%"


def _lines(texts: list[str]) -> markupsafe.Markup:
    """Texts from the input, escaped and made visible, one to a line (for a `title` tooltip)."""
    return markupsafe.Markup("\n").join(_inert(t) for t in texts)


def _findings_near(
    findings: pd.DataFrame, rows: list[dict[str, Any]], records: set[str]
) -> list[dict[str, Any]]:
    """The findings that can lie in one of the shown quotes: on a shown quote's line, and not
    past the last shown quote of that line (a marquee line holds 400,000 quotes; 2,000 are shown).
    A record (of a file in `records`) owns its whole line.
    """
    last: dict[tuple[str, int], float] = {}
    for row in rows:
        key = (row["file"], row["line"])
        reach = np.inf if row["file"] in records else row["end_column"]
        last[key] = max(last.get(key, 0), reach)
    if not last or not len(findings):
        return []
    shown = pd.DataFrame(
        {
            "file": pd.Series([k[0] for k in last], dtype=object),
            "line": pd.Series([k[1] for k in last], dtype="Int64"),
            "_last": [last[k] for k in last],
        }
    )
    columns = ["rule", "file", "line", "column", "field", "message"]
    # First the findings on a shown line number, by numpy: a page of a million faulty quotes
    # shows 2,000, and the columns below are copied only for those.
    lines = findings["line"].to_numpy(dtype=np.float64, na_value=np.nan)
    findings = findings.iloc[np.flatnonzero(np.isin(lines, np.array([k[1] for k in last], dtype=np.float64)))]
    # Files as Python strings: a name kept with surrogateescape has no Arrow form.
    candidates = findings[columns].astype({"file": object, "line": "Int64"}).merge(shown, on=["file", "line"])
    column = candidates["column"].to_numpy(dtype=float, na_value=np.nan)
    keep = np.isnan(column) | (column <= candidates["_last"].to_numpy(dtype=float))
    return _records(candidates[keep], columns)


def _quote_rows(report: Report, cap: int) -> dict[str, Any] | None:
    """The parsed quotes table, capped, with each cell that a finding points at marked."""
    if report.quotes is None:
        return None
    quotes = report.quotes.head(cap)
    text_columns = {name: "symbol" if name == "symbol" else text_column(name) for name in QUOTE_FIELDS}
    rows = _records(quotes, ["file", "line", "column", "end_column", "kind", *text_columns.values()])
    # A record of a CSV or JSON file is its own line: every finding on that line is the record's.
    # On a page two quotes can share a line (a marquee): a finding belongs to the quote it lies in.
    records = {f.path for f in report.files if f.format in RECORD_FORMATS}
    on_line: dict[tuple[str, int], list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        row["file"] = str(row["file"])
        row["location"] = location(row["file"], row["line"], row["column"])
        row["cells"] = {name: row[column] for name, column in text_columns.items()}
        row["cells"]["percent"] = _shown_percent(row["cells"]["percent"])
        row["marks"] = defaultdict(list)
        row["codes"] = set()
        on_line[(row["file"], row["line"])].append(index)
    for indexes in on_line.values():
        indexes.sort(key=lambda i: rows[i]["column"])
    starts = {key: [rows[i]["column"] for i in indexes] for key, indexes in on_line.items()}
    for finding in _findings_near(report.findings, rows, records):
        key = (finding["file"], finding["line"])
        column = finding["column"]
        if column is None or key[0] in records:
            owners = on_line[key]
        else:
            # The quotes that start at or before the column and reach it (the nearest first).
            line_quotes = on_line[key]
            owners = []
            for at in range(bisect.bisect_right(starts[key], column) - 1, -1, -1):
                if column > rows[line_quotes[at]]["end_column"]:
                    break
                owners.append(line_quotes[at])
        field = finding["field"] if finding["field"] in QUOTE_FIELDS else "row"
        for i in owners:
            rows[i]["marks"][field].append(f"{finding['rule']}: {finding['message']}")
            rows[i]["codes"].add(finding["rule"])
    for row in rows:
        row["marks"] = {field: _lines(messages) for field, messages in row["marks"].items()}
        row["failing"] = bool(row["marks"])
        row["codes"] = sorted(row["codes"])
    # A run that kept only the quotes its reports show counts the others in its files' results.
    total = max(len(report.quotes), sum(result.quotes for result in report.files))
    return {"rows": rows, "total": total, "left_out": total - len(rows)}


def _file_results(report: Report, cap: int) -> dict[str, Any]:
    """Each file's result under the run's policy, judged on that file's own findings.

    Files in input order; when there are more than `cap`, the failed and unreadable ones first.
    """
    policy = report.options.policy
    rows = []
    for f in report.files:
        passed = f.status == "checked" and not policy.fails(f.counts)
        result = "passed" if passed else "failed" if f.status == "checked" else "not checked"
        rows.append(f.as_dict() | {"result": result})
    failed = sum(r["result"] == "failed" for r in rows)
    unchecked = sum(r["result"] == "not checked" for r in rows)
    if len(rows) > cap:
        rows = sorted(rows, key=lambda r: r["result"] == "passed")[:cap]
    return {
        "rows": rows,
        "failed": failed,
        "unchecked": unchecked,
        "total": len(report.files),
        "left_out": len(report.files) - len(rows),
    }


def _clip_path(path: str, width: int) -> str:
    """A path cut from its start to `width` characters, so its file name stays."""
    return path if len(path) <= width else "…" + path[len(path) - width + 1 :]


def _rule_chart(sections: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars of the findings-by-rule chart, lengths as a share of the largest count."""
    largest = max((s["count"] for s in sections), default=0)
    bars = [
        {
            "code": s["rule"]["code"],
            "name": s["rule"].get("name", ""),
            "severity": s["rule"]["severity"],
            "count": s["count"],
            "share": s["count"] / largest if largest else 0.0,
        }
        for s in sections
    ]
    return {"bars": bars}


def _numbers(texts: pd.Series) -> np.ndarray:
    """Shown figures as floats (NaN where unreadable), for ordering and bucketing only."""
    cleaned = (
        texts.astype("string").str.replace("\u2212", "-", regex=False).str.replace(r"[,%]", "", regex=True)
    )
    return pd.to_numeric(cleaned.str.strip(), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _deviation_chart(report: Report, limit: int) -> dict[str, Any] | None:
    """For percent mismatches (QC303): shown minus expected, the largest `limit` drawn, all bucketed.

    Floats order and bucket the mismatches (vectorised, so millions stay fast); the drawn ones
    are recomputed exactly from their text.
    """
    findings = report.findings
    # Only the columns it reads: a page of a million faulty quotes has as many mismatches.
    mismatches = findings[["file", "line", "symbol", "observed", "expected"]][
        (findings["rule"] == "QC303").to_numpy(dtype=bool, na_value=False)
    ]
    if not len(mismatches):
        return None
    shown = _numbers(mismatches["observed"])
    bounds = mismatches["expected"].astype("string").str.split(" to ", n=1, expand=True)
    first = _numbers(bounds[0])
    second = _numbers(bounds[1]) if bounds.shape[1] > 1 else first
    second = np.where(np.isnan(second), first, second)
    low, high = np.minimum(first, second), np.maximum(first, second)
    readable = np.isfinite(shown) & np.isfinite(low) & np.isfinite(high)
    deviation = np.where(shown > high, shown - high, np.where(shown < low, shown - low, 0.0))
    # Rounded so that 0.01 stays 0.01 after float subtraction when it meets a bucket edge.
    magnitude = np.round(np.abs(np.where(readable, deviation, 0.0)), 9)[readable]
    edges = [0.0, *(float(edge) for edge in DEVIATION_BUCKETS)]
    # A zero deviation is a percent shown with more digits than its value needs (`-1.770`).
    buckets = [{"label": "exactly 0", "count": int((magnitude == 0).sum())}]
    buckets += [
        {"label": label, "count": int(((magnitude > lower) & (magnitude <= upper)).sum())}
        for label, lower, upper in zip(DEVIATION_LABELS[:-1], edges[:-1], edges[1:], strict=True)
    ]
    buckets.append({"label": DEVIATION_LABELS[-1], "count": int((magnitude > edges[-1]).sum())})
    rows = np.flatnonzero(readable)
    order = rows[
        np.lexsort(
            (
                mismatches["line"].fillna(0).to_numpy(dtype=np.int64)[rows],
                mismatches["file"].fillna("").to_numpy(dtype=object)[rows],
                -magnitude,
            )
        )
    ][:limit]
    points = []
    for finding in _records(mismatches.iloc[order], ("file", "line", "symbol", "observed", "expected")):
        exact = percent_deviation(finding["observed"], finding["expected"])
        if exact is not None:
            points.append(finding | {"deviation": exact})
    largest = max((abs(p["deviation"]) for p in points), default=Decimal(0))
    for point in points:
        point["share"] = float(point["deviation"] / largest) if largest else 0.0
        point["label"] = f"{point['deviation']:+f} pp"
        point["shown"], point["expected"] = (
            _shown_percent(point["observed"]),
            _shown_percent(point["expected"]),
        )
        point["where"] = f"{_clip_path(str(point['file'] or ''), CHART_PATH)}:{point['line']}"
    return {
        "points": points,
        "left_out": int(readable.sum()) - len(points),
        "unreadable": int((~readable).sum()),
        "buckets": buckets,
        "total": len(mismatches),
    }


@cache
def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _timeline(report: Report) -> dict[str, Any] | None:
    """With the checks across snapshots: the sessions in order, each with its pages (time, where
    it came from, history findings), and per symbol with history findings a row of its sessions'
    previous close against the earlier close. Capped in sessions, pages and symbols."""
    table = report.snapshots
    if table is None or not len(table):
        return None
    findings = report.findings
    history = findings[
        findings["rule"].astype(str).str.startswith("QC6").to_numpy(dtype=bool, na_value=False)
    ]
    per_file = {str(k): int(v) for k, v in history["file"].astype(str).value_counts().items()}
    rows = snapshot_records(table)  # (as the JSON report's snapshots: missing values as None)
    order: dict[Any, tuple[Any, int]] = {}
    for at, row in enumerate(rows):
        key = row.get("session")
        if key not in order:
            position = row.get("session_position")
            order[key] = (position if position is not None else 1 << 62, at)
    names = sorted(order, key=lambda k: (k is None, *order[k]))
    sessions: list[dict[str, Any]] = []
    by_name: dict[Any, dict[str, Any]] = {}
    for name in names:
        entry = {
            "name": name,
            "snapshots": [],
            "findings": 0,
            "left_out": 0,
            "ordered": order[name][0] < 1 << 62,
        }
        by_name[name] = entry
        sessions.append(entry)
    session_of: dict[str, Any] = {}
    for row in rows:
        entry = by_name[row.get("session")]
        file = str(row["file"])
        session_of[file] = row.get("session")
        count = per_file.get(file, 0)
        entry["findings"] += count
        if len(entry["snapshots"]) < MAX_TIMELINE_SNAPSHOTS:
            entry["snapshots"].append(
                {
                    "file": file,
                    "captured_at": row.get("captured_at"),
                    "source": row.get("time_source"),
                    "findings": count,
                }
            )
        else:
            entry["left_out"] += 1
    shown = sessions[:MAX_TIMELINE_SESSIONS]
    shown_names = [s["name"] for s in shown if s["name"] is not None]
    marks: dict[tuple[str, Any], list[str]] = {}
    compared = history[history["rule"].isin(["QC601", "QC602"]) & history["symbol"].notna()]
    for symbol, file, observed, expected in zip(
        compared["symbol"].astype(str),
        compared["file"].astype(str),
        compared["observed"],
        compared["expected"],
        strict=True,
    ):
        text = f"{_plain(observed) or ''} → {_plain(expected) or ''}"
        marks.setdefault((symbol, session_of.get(file)), []).append(text)
    symbols = sorted({symbol for symbol, _ in marks})
    closes = _session_closes(report.quotes, session_of, set(shown_names), set(symbols[:MAX_TIMELINE_SYMBOLS]))
    symbol_rows = [
        {
            "symbol": symbol,
            "cells": [
                {
                    "bad": (symbol, name) in marks,
                    "text": "; ".join(marks.get((symbol, name), [])) or closes.get((symbol, name), ""),
                }
                for name in shown_names
            ],
        }
        for symbol in symbols[:MAX_TIMELINE_SYMBOLS]
    ]
    return {
        "sessions": shown,
        "left_out": len(sessions) - len(shown),
        "columns": shown_names,
        "symbols": symbol_rows,
        "symbols_left_out": max(len(symbols) - MAX_TIMELINE_SYMBOLS, 0),
    }


def _session_closes(
    quotes: pd.DataFrame | None, session_of: dict[str, Any], wanted: set[Any], symbols: set[str]
) -> dict[tuple[str, Any], str]:
    """The previous close (price - change) each of `symbols` shows on the first page of each
    `wanted` session (its first quote there with both figures)."""
    if quotes is None or not len(quotes) or not wanted or not symbols:
        return {}
    files = quotes["file"]
    if isinstance(files.dtype, pd.CategoricalDtype):  # a session for each file, not each quote
        codes = files.cat.codes.to_numpy()
        names = [str(name) for name in files.cat.categories]
    else:
        codes, found = pd.factorize(files.astype(str))
        names = [str(name) for name in found]
    in_wanted = np.array([session_of.get(name) in wanted for name in names] + [False], dtype=bool)
    keep = in_wanted[codes]  # (a missing file's code -1 takes the last entry, False)
    keep &= quotes["symbol"].astype(str).isin(sorted(symbols)).to_numpy(dtype=bool, na_value=False)
    price = quotes["price"].to_numpy(dtype=np.float64, na_value=np.nan)
    change = quotes["change"].to_numpy(dtype=np.float64, na_value=np.nan)
    keep &= np.isfinite(price) & np.isfinite(change)
    rows = np.flatnonzero(keep)
    part = quotes.iloc[rows]
    places = np.maximum(
        part["price_decimals"].to_numpy(dtype=np.int64, na_value=2),
        part["change_decimals"].to_numpy(dtype=np.int64, na_value=2),
    )
    out: dict[tuple[str, Any], str] = {}
    for symbol, code, p, c, d in zip(
        part["symbol"].astype(str), codes[rows].tolist(), price[rows], change[rows], places, strict=True
    ):
        session = session_of.get(names[code])
        if (symbol, session) not in out:
            out[(symbol, session)] = f"{p - c:,.{int(min(max(d, 0), 6))}f}"
    return out


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """The compiled template kept beside it, as Python keeps a module's bytecode: compiling it
    costs a sixth of a second of every run. Jinja checks the source's checksum and the Python
    version on load; a folder that cannot be written to only means compiling it each time."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        bytecode_cache=_TemplateCache(str(templates_dir() / "__pycache__")),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _static(name: str) -> str:
    return (templates_dir() / name).read_text(encoding="utf-8")


def script_hash(script: str) -> str:
    """The CSP source expression allowing exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def render_html(
    report: Report, max_rows_per_rule: int = MAX_ROWS_PER_RULE, max_quotes: int = MAX_QUOTES
) -> str:
    """The report as one self-contained HTML page."""
    entries = _rule_entries(report)
    sections = _rule_sections(report, entries, max_rows_per_rule)
    script = _static("report.js")
    summary = report.summary()
    quotes = _quote_rows(report, max_quotes)
    # The symbol filter's suggestions: the symbols of the rows on the page, which it filters (a
    # page of a million faulty quotes has a million symbols, and shows a few hundred rows).
    shown = [f.get("symbol") for section in sections for f in section["rows"]]
    shown += [q["cells"].get("symbol") for q in (quotes or {}).get("rows", [])]
    symbols = sorted({str(s) for s in shown if s is not None and str(s)})
    template = _environment().get_template("report.html.j2")
    return template.render(
        tool=TOOL_NAME,
        header=report.header_meta(),
        summary=summary,
        files=[f.as_dict() for f in report.files],
        file_results=_file_results(report, MAX_FILE_RESULTS),
        sections=sections,
        shown_findings=sum(len(s["rows"]) for s in sections),
        left_out_findings=sum(s["left_out"] for s in sections),
        glossary=sorted(entries.values(), key=lambda e: e["code"]),
        symbols=symbols,
        quotes=quotes,
        rule_chart=_rule_chart(sections),
        deviation_chart=_deviation_chart(report, MAX_DEVIATION_BARS),
        timeline=_timeline(report),
        max_rows_per_rule=max_rows_per_rule,
        style=markupsafe.Markup(_static("report.css")),
        script=markupsafe.Markup(script),
        script_src=script_hash(script),
    )


def save_html(
    report: Report,
    path: str | os.PathLike[str],
    max_rows_per_rule: int = MAX_ROWS_PER_RULE,
    max_quotes: int = MAX_QUOTES,
) -> None:
    """Write the HTML report to `path` atomically."""
    page = render_html(report, max_rows_per_rule, max_quotes)
    with atomic_writer(path) as stream:
        stream.write(page)
