"""Run the schema and the registered rules over a quote frame, and turn parse problems into findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from checker.findings import combine, finding, from_records
from checker.frame import frame_numbers
from checker.numeric import Numbers
from checker.parse import MALFORMED, QUOTE_LIKE, TRUNCATED, Unparsed, diagnose
from checker.profile import Profile
from checker.read import NUL, DecodeProblem
from checker.rules.consistency import explained_repeats
from checker.rules.registry import CheckContext, PageKeys, Rule, Scope
from checker.rules.schema import schema_findings

SCHEMA_FAMILY = "schema"
# The scopes a page's check runs (archive rules run over many pages: see checker.history).
ALL_SCOPES: frozenset[Scope] = frozenset(("quote", "page"))


def check_quotes(
    frame: pd.DataFrame,
    profile: Profile,
    rules: list[Rule],
    as_of: dt.date | None = None,
    numbers: dict[str, Numbers] | None = None,
    page: PageKeys | None = None,
    scopes: frozenset[Scope] = ALL_SCOPES,
) -> pd.DataFrame:
    """The findings of the enabled rules of `scopes` (and the pandera schema) on a quote frame.

    `page` is the keys of the frame's whole page when the frame holds only some of its quotes."""
    if not len(frame):
        return combine([])
    ctx = CheckContext(
        frame=frame,
        numbers=numbers or frame_numbers(frame),
        profile=profile,
        as_of=as_of,
        enabled=frozenset(rule.code for rule in rules),
        page=page,
    )
    return _run(ctx, [rule for rule in rules if rule.scope in scopes])


def _run(ctx: CheckContext, rules: list[Rule]) -> pd.DataFrame:
    parts = []
    if any(rule.family == SCHEMA_FAMILY for rule in rules):
        parts.append(schema_findings(ctx))
    parts.extend(rule.run(ctx) for rule in rules if rule.check is not None)
    # A repeat that differs from its reference only by a figure another finding reports (QC305)
    # is that finding alone; the repeat rule can tell only once every other rule has run.
    for index, part in enumerate(parts):
        if len(part) and (part["rule"] == "QC305").all():
            keep = explained_repeats(ctx, part)
            if not keep.all():
                parts[index] = part[keep]
    return combine(parts)


_UNPARSED_RULES = {TRUNCATED: "QC101", MALFORMED: "QC102", QUOTE_LIKE: "QC103"}
_UNPARSED_MESSAGES = {
    TRUNCATED: "quote cut off: {why}",
    MALFORMED: "not a quote as written: {why}",
    QUOTE_LIKE: "a symbol and a number that do not go on as a quote ({why}); not checked",
}


def unparsed_findings(unparsed: list[Unparsed], file: str) -> pd.DataFrame:
    """Findings for the stretches of text that looked like quotes but did not parse."""
    return from_records(
        [
            finding(
                _UNPARSED_RULES[item.kind],
                file,
                _UNPARSED_MESSAGES[item.kind].format(why=diagnose(item.text[:MAX_DIAGNOSED])),
                line=item.line,
                column=item.column,
                end_column=item.column + len(item.text) - 1,
                symbol=item.symbol,
                field="line",
                observed=_clipped(item.text),
                expected="SYMBOL PRICE DIRECTION [ARROW] CHANGE (PERCENT%)",
            )
            for item in unparsed
        ]
    )


def decode_findings(problems: list[DecodeProblem], file: str, encoding: str) -> pd.DataFrame:
    """Findings for bytes that did not decode, each with its byte offset."""
    return from_records(
        [
            finding(
                "QC902",
                file,
                _decode_message(p, file, encoding),
                line=p.line,
                column=p.column,
                end_column=p.column,
                observed=_shown_bytes(p.raw),
                expected="text" if p.reason == NUL else f"valid {encoding}",
            )
            for p in problems
        ]
    )


# Findings that can hold the bytes that did not decode: the arrow's place, or a line that does not
# parse. The bytes are told in that finding, not in a second one: one fault, one finding.
_HOLDERS = ("QC205", "QC101", "QC102", "QC103")


def with_decode_findings(
    findings: pd.DataFrame, problems: list[DecodeProblem], file: str, encoding: str
) -> pd.DataFrame:
    """`findings` and the findings of bytes that did not decode, as one sorted frame.

    Bad bytes where a quote's arrow stands (QC205) or inside a line that starts like a quote but
    does not parse (QC101-QC103) are named in that finding's message instead of drawing a QC902
    of their own.
    """
    if not problems:
        return combine([findings])
    holders: dict[int, list[int]] = {}
    if len(findings):
        candidate = (findings["rule"].isin(_HOLDERS) & (findings["file"] == file)).to_numpy(
            dtype=bool, na_value=False
        )
        for index in np.flatnonzero(candidate).tolist():
            line = findings["line"].array[index]
            if line is not pd.NA:
                holders.setdefault(int(line), []).append(index)
    kept: list[DecodeProblem] = []
    told: dict[int, list[str]] = {}
    for problem in problems:
        holder = _holder(findings, holders.get(problem.line, ()), problem)
        if holder is None:
            kept.append(problem)
        else:
            arrow = str(findings["rule"].array[holder]) == "QC205"
            told.setdefault(holder, []).append(_bytes_phrase(problem, encoding, arrow))
    if told:
        findings = findings.copy()
        position = list(findings.columns).index("message")
        for index, phrases in told.items():
            findings.iat[index, position] = f"{findings['message'].iat[index]}; " + "; ".join(phrases)
    return combine([findings, decode_findings(kept, file, encoding)])


def _holder(findings: pd.DataFrame, candidates: Iterable[int], problem: DecodeProblem) -> int | None:
    """The finding (by position) that covers the column of `problem`, if any."""
    for index in candidates:
        column = findings["column"].array[index]
        if column is pd.NA:
            continue
        if findings["rule"].array[index] == "QC205":
            if int(column) == problem.column:
                return index
            continue
        end = findings["end_column"].array[index]
        if int(column) <= problem.column and (end is pd.NA or problem.column <= int(end)):
            return index
    return None


def _bytes_phrase(problem: DecodeProblem, encoding: str, arrow: bool) -> str:
    shown = _shown_bytes(problem.raw)
    what = "NUL bytes" if problem.reason == NUL else f"bytes not valid in {encoding}"
    where = "the arrow is" if arrow else f"at column {problem.column} are"
    return f"{where} {what} ({shown}, at byte offset {problem.byte_offset})"


# A broken stretch can be a whole 100 MB line; the finding shows its start, and its span says how long.
MAX_OBSERVED = 200
# What a message diagnoses of a broken stretch: its start, which holds every part of one quote.
MAX_DIAGNOSED = 1000


def _clipped(text: str) -> str:
    """Text for a finding's `observed`, cut to MAX_OBSERVED characters."""
    return text if len(text) <= MAX_OBSERVED else f"{text[: MAX_OBSERVED - 1]}…"


def _shown_bytes(raw: bytes) -> str:
    """Bytes as hex, shortened for long runs."""
    return raw.hex(" ") if len(raw) <= 16 else f"{raw[:16].hex(' ')} ... ({len(raw)} bytes)"


def _decode_message(problem: DecodeProblem, file: str, encoding: str) -> str:
    if problem.reason == NUL:
        count = len(problem.raw) if encoding == "utf-8" else len(problem.raw) // 2
        return f"{file}: {count} NUL byte{'s' if count != 1 else ''} at byte offset {problem.byte_offset}"
    shown = _shown_bytes(problem.raw)
    return f"{file}: bytes {shown} at byte offset {problem.byte_offset} are not valid {encoding}"


def plural(count: int, noun: str) -> str:
    """`1 line`, `2 lines`: a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def no_quotes_finding(file: str, lines: int, records: bool = False) -> pd.DataFrame:
    """QC903 for a file in which no quote (or no usable quote record) was found."""
    what = "no usable quote record" if records else "no quote"
    return file_finding("QC903", file, f"{file}: {what} found in {plural(lines, 'line')}")


def file_finding(
    code: str, file: str, message: str, observed: str = "", line: int | None = None
) -> pd.DataFrame:
    """A single finding about a whole file (unreadable, no quotes, internal error)."""
    column = 1 if line else None
    return from_records([finding(code, file, message, observed=observed, line=line, column=column)])
