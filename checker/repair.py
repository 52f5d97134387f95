"""Applying repairs to files: byte for byte outside the edited spans, checked again, rolled back
where a repair would add a finding, written atomically (or shown as a diff, or written elsewhere).
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import gzip
import io
import os
import re
import stat
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from checker.api import check_bytes
from checker.config import Options
from checker.findings import SOURCE_CONTEXT_PER_RULE, Severity, column_lists
from checker.fix import (
    DISPLAY_ONLY,
    FIXABLE_RULES,
    SAFE,
    UNSAFE,
    Edit,
    Fix,
    PreviousClose,
    apply_to_line,
    choose,
    fixes_for,
)
from checker.inputs.records import value_places
from checker.parse import split_lines
from checker.profile import Profile, load_profile
from checker.read import decode
from checker.report import Report
from checker.vocabulary import RECORD_FIELDS

# Repairs are applied in passes (a fix may reveal the next finding of the same quote, as a second
# look-alike character); each pass applies or sets aside at least one fix, and a pass with nothing
# left to try ends them. The cap is only a backstop.
MAX_PASSES = 50
_GZIP = b"\x1f\x8b"
_BREAK = re.compile(rb"\r\n|\n|\r")
_TEXT_BREAK = re.compile(r"\r\n|\n|\r")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")
FORMATS = ("text", "csv", "tsv", "json", "jsonl", "html")


def allowed(unsafe: bool) -> frozenset[str]:
    """The applicabilities a run applies: the safe fixes, and the unsafe ones when asked."""
    return frozenset({SAFE, UNSAFE} if unsafe else {SAFE})


@dataclass
class FileRepair:
    """What repairing one file did: its bytes before and after, the fixes applied and left."""

    name: str
    original: bytes = b""
    repaired: bytes = b""
    format: str = "text"
    applied: list[Fix] = field(default_factory=list)
    rolled_back: list[Fix] = field(default_factory=list)
    remaining: list[Fix] = field(default_factory=list)  # available but not applied
    report: Report | None = None  # the check of the repaired bytes
    problem: str | None = None  # why the file was not repaired at all
    compressed: bytes | None = None  # a gzip file's own bytes (original and repaired: its content)

    @property
    def changed(self) -> bool:
        """Whether the repaired bytes differ from the original ones."""
        return self.repaired != self.original


def _records(frame: Any) -> list[dict[str, Any]]:
    if frame is None or not len(frame):
        return []
    names = list(frame.columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*column_lists(frame, names), strict=True)]


Closes = Mapping[str, Mapping[str, PreviousClose]]  # file -> symbol -> previous close


Places = Mapping[tuple[int, int], Mapping[str, tuple[int, int]]]  # record -> member -> (line, col)


def report_fixes(
    report: Report,
    profile: Profile | None = None,
    per_rule: int | None = None,
    closes: Closes | None = None,
    places: Places | None = None,
) -> list[Fix]:
    """The repairs the findings of a report have (the report must hold its quotes); with
    `per_rule`, of each rule's first findings only (what a report shows); `closes`, the previous
    closes known exactly (checker.history.closes), which may confirm a repair; `places`, the
    members of multi-line JSON records (json_places)."""
    if report.quotes is None or not len(report.findings):
        return []
    findings = report.findings
    chosen = findings[findings["rule"].isin(sorted(FIXABLE_RULES)).to_numpy(dtype=bool, na_value=False)]
    if per_rule is not None:
        chosen = chosen.groupby("rule", sort=False).head(per_rule)
    if not len(chosen):
        return []
    lines = set(chosen["line"].dropna().astype(int).tolist())
    quotes = report.quotes[report.quotes["line"].isin(lines).to_numpy(dtype=bool)]
    profile = profile or load_profile(report.options.profile)
    rows = _records(quotes)
    if places:
        for row in rows:
            members = places.get((int(row.get("line") or 0), int(row.get("column") or 0)), {})
            for name in RECORD_FIELDS:
                at = members.get(name)
                if at is not None and at[0] != row.get("line"):  # (the reader places those on its line)
                    row[f"{name}_line"], row[f"{name}_col"] = at
    return fixes_for(_records(chosen), rows, profile, closes)


def json_places(text: str, report: Report) -> dict[tuple[int, int], dict[str, tuple[int, int]]]:
    """Where each member of the report's JSON records stands, for records written over several
    lines (pretty-printed): the reader places only the members on the record's first line. None
    for a text whose line breaks the reader and the editor would count apart (a lone CR)."""
    if report.quotes is None or not len(report.quotes) or re.search(r"\r(?!\n)", text):
        return {}
    starts = sorted(set(zip(*column_lists(report.quotes, ("line", "column")), strict=True)))
    return value_places(text.removeprefix("\ufeff"), [(int(a), int(b)) for a, b in starts])


def _fix_key(fix: Fix) -> tuple[Any, ...]:
    return (fix.rule, fix.line, fix.column, tuple((e.column, e.before, e.text) for e in fix.edits))


def _not_made(fixes: list[Fix], made: list[Fix]) -> set[tuple[Any, ...]]:
    """The keys of the `fixes` that are not among those `made` (by key: a test of each against a
    list of thousands was quadratic)."""
    done = {_fix_key(f) for f in made}
    return {key for key in map(_fix_key, fixes) if key not in done}


def _check(data: bytes, name: str, options: Options) -> Report:
    return check_bytes(data, name, options)


# Findings keyed by their symbol rather than their line: a duplicate's finding moves to whichever
# of its quotes looks altered, so a repair of one of them may move it without adding anything.
_BY_SYMBOL = frozenset({"QC305"})


def _finding_keys(report: Report) -> set[tuple[str, object]]:
    """The findings above info, as (rule, line) or (rule, symbol): what a repair must not add."""
    out: set[tuple[str, object]] = set()
    rows = column_lists(report.findings, ("rule", "line", "severity", "symbol"))
    for rule, line, severity, symbol in zip(*rows, strict=True):
        if severity != Severity.INFO.label:
            out.add((str(rule), str(symbol)) if rule in _BY_SYMBOL else (str(rule), int(line or 0)))
    return out


def repair_bytes(
    data: bytes,
    name: str,
    options: Options,
    unsafe: bool = False,
    closes: Mapping[str, PreviousClose] | None = None,
) -> FileRepair:
    """Repair the bytes of one file named `name` (the name picks its format, as a check's does);
    `closes`, by symbol, the previous closes of this page known exactly (from a ledger)."""
    result = FileRepair(name=name, original=data, repaired=data)
    by_file = {name: closes} if closes else None
    options = replace(options, include_quotes=True)
    if data[:2] == b"\x1f\x8b":
        result.problem = "a compressed file is not repaired (repair the uncompressed file)"
        return result
    decoded = decode(data)
    profile = load_profile(options.profile)
    wanted = allowed(unsafe)
    blocked: set[tuple[Any, ...]] = set()
    content = data
    report = _check(content, name, options)
    result.format = report.files[0].format if report.files else "text"
    if result.format not in FORMATS:
        result.problem = f"repairs of {result.format} files are not supported"
        result.report = report
        return result
    encoding, bom, fmt = decoded.encoding, decoded.bom, result.format
    for _ in range(MAX_PASSES):
        places = json_places(decode(content).text, report) if fmt == "json" else None
        found = report_fixes(report, profile, closes=by_file, places=places)
        fixes = [f for f in found if _fix_key(f) not in blocked]
        chosen = choose(fixes, wanted).fixes
        if not chosen:
            break
        start = content
        before = _finding_keys(report)
        edited, made = edit_bytes(content, chosen, encoding, bom, fmt)
        blocked.update(_not_made(chosen, made))  # no longer verbatim
        if not made:
            continue
        after = _check(edited, name, options)
        if not _finding_keys(after) - before:
            result.applied.extend(made)
            content, report = edited, after
            blocked.clear()  # the file changed: what was set aside may fit now
            continue
        # Something was added: the fixes in halves, later ones first (so that the columns of
        # the earlier ones on a line stay put), down to the one fix that adds it.
        content, report = _bisect(content, report, made, name, options, (encoding, bom, fmt), result, blocked)
        if content != start:  # (so that a second run finds nothing left to do)
            blocked.clear()
    applied_keys = {_fix_key(f) for f in result.applied}
    kept: dict[tuple[Any, ...], Fix] = {}
    for fix in result.rolled_back:
        if _fix_key(fix) not in applied_keys:
            kept[_fix_key(fix)] = fix
    result.rolled_back = list(kept.values())
    rolled = set(kept)
    for fix in result.applied:
        fix.status = "applied"
    result.repaired = content
    result.report = report
    places = json_places(decode(content).text, report) if fmt == "json" else None
    result.remaining = report_fixes(report, profile, closes=by_file, places=places)
    for fix in result.remaining:
        if _fix_key(fix) in rolled:
            fix.status = "rolled back"
    return result


def _bisect(
    content: bytes,
    report: Report,
    fixes: list[Fix],
    name: str,
    options: Options,
    how: tuple[str, bool, str],
    result: FileRepair,
    blocked: set[tuple[Any, ...]],
) -> tuple[bytes, Report]:
    """Apply the fixes that add nothing, found by halving: a check per half, not per fix."""
    ordered = sorted(fixes, key=lambda f: (f.line, f.column))
    half = len(ordered) // 2
    for group in (ordered[half:], ordered[:half]) if len(ordered) > 1 else (ordered,):
        if not group:
            continue
        edited, made = edit_bytes(content, group, *how)
        blocked.update(_not_made(group, made))
        if not made:
            continue
        after = _check(edited, name, options)
        if not _finding_keys(after) - _finding_keys(report):
            result.applied.extend(made)
            content, report = edited, after
        elif len(made) == 1:
            made[0].status = "rolled back"
            result.rolled_back.append(made[0])
            blocked.add(_fix_key(made[0]))
        else:
            content, report = _bisect(content, report, made, name, options, how, result, blocked)
    return content, report


def _lines(fix: Fix) -> set[int]:
    return {edit.line for edit in fix.edits}


def _fits_format(line: str, edit: Edit, fmt: str) -> bool:
    """Whether an edit keeps a record file's syntax: a CSV cell its delimiter and quotes, a JSON
    value a string or a number."""
    inside_quotes = edit.column >= 2 and line[edit.column - 2 : edit.column - 1] == '"'
    if fmt in ("csv", "tsv"):
        special = '",' if fmt == "csv" else '"\t'
        return inside_quotes or not any(ch in edit.text for ch in special)
    if fmt in ("json", "jsonl"):
        if '"' in edit.text or "\\" in edit.text:
            return False
        return inside_quotes or bool(_JSON_NUMBER.match(edit.text))
    if fmt == "html":
        return not any(ch in edit.text for ch in "<>&")
    return True


def edit_bytes(
    data: bytes, fixes: Iterable[Fix], encoding: str, bom: bool, fmt: str = "text"
) -> tuple[bytes, list[Fix]]:
    """The bytes with each fix's edits made, and the fixes that could be made: each line holding an
    edit is decoded on its own, so every other byte (line breaks, BOM, undecodable bytes on other
    lines) is kept as it is. A fix whose field no longer stands verbatim, or whose line does not
    decode, or whose text the encoding cannot hold, is left out."""
    by_line: dict[int, list[Fix]] = {}
    for fix in fixes:
        lines = _lines(fix)
        if len(lines) != 1:
            continue
        by_line.setdefault(next(iter(lines)), []).append(fix)
    if encoding == "utf-8":
        skip = len(codecs.BOM_UTF8) if bom and data.startswith(codecs.BOM_UTF8) else 0
        head, body = data[:skip], data[skip:]
        pieces = _split(body)
        made: list[Fix] = []
        for line, line_fixes in sorted(by_line.items()):
            if not 1 <= line <= len(pieces):
                continue
            raw, end = pieces[line - 1]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            new_text, done = _edit_line(text, line_fixes, fmt)
            if done:
                pieces[line - 1] = (new_text.encode("utf-8"), end)
                made.extend(done)
        return head + b"".join(raw + end for raw, end in pieces), made
    # UTF-16: the whole text decodes or nothing is edited.
    skip = 2 if bom else 0
    try:
        text = data[skip:].decode(encoding)
    except UnicodeDecodeError:
        return data, []
    parts = _split_text(text)
    made = []
    for line, line_fixes in sorted(by_line.items()):
        if not 1 <= line <= len(parts):
            continue
        line_text, line_end = parts[line - 1]
        new_text, done = _edit_line(line_text, line_fixes, fmt)
        if done:
            parts[line - 1] = (new_text, line_end)
            made.extend(done)
    return data[:skip] + "".join(t + e for t, e in parts).encode(encoding), made


def _edit_line(text: str, fixes: list[Fix], fmt: str) -> tuple[str, list[Fix]]:
    """A line with the fixes made that still fit it, one after the other, and those fixes."""
    done: list[Fix] = []
    out = text
    # Right to left: an edit never moves the columns of the edits before it.
    for fix in sorted(fixes, key=lambda f: min(e.column for e in f.edits), reverse=True):
        edits = [_in_quotes(out, e) if fmt in ("csv", "tsv", "json", "jsonl") else e for e in fix.edits]
        if not all(_fits_format(out, e, fmt) for e in edits):
            continue
        edited = apply_to_line(out, edits)
        if edited is None:
            continue
        out = edited
        fix.edits = tuple(edits)  # where the text stood: a quoted field's inside
        done.append(fix)
    return out, done


def _in_quotes(line: str, edit: Edit) -> Edit:
    """A record field's edit: a quoted CSV cell or JSON string is located at its opening quote."""
    start = edit.column - 1
    inner = line[start + 1 : start + 1 + len(edit.before)]
    if (
        line[start : start + 1] == '"'
        and inner == edit.before
        and line[start + 1 + len(edit.before) :][:1] == '"'
    ):
        return replace(edit, column=edit.column + 1, end_column=edit.end_column + 1)
    return edit


def _split(body: bytes) -> list[tuple[bytes, bytes]]:
    """Lines and their line breaks, as the checker counts lines (CRLF, LF or a lone CR)."""
    out, position = [], 0
    for match in _BREAK.finditer(body):
        out.append((body[position : match.start()], match.group()))
        position = match.end()
    if position < len(body) or not out:
        out.append((body[position:], b""))
    return out


def _split_text(text: str) -> list[tuple[str, str]]:
    out, position = [], 0
    for match in _TEXT_BREAK.finditer(text):
        out.append((text[position : match.start()], match.group()))
        position = match.end()
    if position < len(text) or not out:
        out.append((text[position:], ""))
    return out


# -- writing --------------------------------------------------------------------------------------


class RepairWriteError(OSError):
    """A repaired file that could not be written (the original is then untouched)."""


def write_in_place(path: str | os.PathLike[str], original: bytes, repaired: bytes) -> None:
    """Replace a regular file's bytes atomically: a temporary file in the same folder, renamed over
    it. A symbolic link, a file that is not regular, or one that changed since it was read is
    refused; the file's permission bits are kept."""
    target = Path(path)
    try:
        info = os.lstat(target)
    except OSError as error:
        raise RepairWriteError(f"{target}: {error.strerror or error}") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise RepairWriteError(f"{target}: not a regular file (a link is never followed): not repaired")
    with open(target, "rb") as stream:
        if stream.read() != original:
            raise RepairWriteError(f"{target}: changed while it was being repaired: not repaired")
    _atomic_write(target, repaired, stat.S_IMODE(info.st_mode))


def write_copy(
    directory: str | os.PathLike[str], name: str, repaired: bytes, source: Path | None = None
) -> Path:
    """Write a repaired copy of the input `name` under `directory`, at the same relative path; a
    name that would leave the folder, or a link on the way, is refused. Returns the copy's path."""
    root = Path(directory)
    relative = Path(name)
    if relative.is_absolute():
        relative = relative.relative_to(relative.anchor)
    if any(part in ("..", "") for part in relative.parts) or not relative.parts:
        raise RepairWriteError(f"{name}: a path outside the folder cannot be written under {root}")
    target = root / relative
    folder = root
    for part in relative.parts[:-1]:
        folder = folder / part
        if folder.is_symlink():
            raise RepairWriteError(f"{folder}: a link is never followed: {name} not written")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RepairWriteError(f"{folder}: {error.strerror or error}") from None
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise RepairWriteError(f"{target}: not a regular file (a link is never followed): not written")
    if source is not None and target.exists() and os.path.samefile(target, source):
        raise RepairWriteError(f"{target}: is the input itself; --fix-to never writes over an input")
    _atomic_write(target, repaired, 0o644)
    return target


def _atomic_write(target: Path, data: bytes, mode: int) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".quotecheck-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise RepairWriteError(f"{target}: {error.strerror or error}") from None


# -- the diff -----------------------------------------------------------------------------------------


def _quoted_name(name: str) -> str:
    """A file name as a diff header shows it: C-quoted when it holds a space, quote or control."""
    if not re.search(r'[\x00-\x1f\x7f"\\ ]', name) and name.isascii():
        return name
    out = []
    for ch in name:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\{ord(ch):03o}")
        elif not ch.isascii():
            out.extend(f"\\{byte:03o}" for byte in ch.encode("utf-8", "surrogateescape"))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def unified_diff(name: str, original: bytes, repaired: bytes) -> bytes:
    """A unified diff of a repair that `patch -p0` applies to give the repaired bytes exactly
    (lines cut at LF as patch cuts them; a last line without one is marked as diff marks it)."""
    if original == repaired:
        return b""
    # (bytes.splitlines also cuts at a lone CR; patch cuts at LF only)
    before, after = _lf_lines(original), _lf_lines(repaired)
    quoted = _quoted_name(name).encode("utf-8", "surrogateescape")
    out = []
    for line in difflib.diff_bytes(difflib.unified_diff, before, after, quoted, quoted, n=3, lineterm=b"\n"):
        if line.startswith((b"--- ", b"+++ ")):
            out.append(line.rstrip(b"\t\n") + b"\n")
            continue
        if not line.endswith(b"\n"):
            line += b"\n\\ No newline at end of file\n"
        out.append(line)
    return b"".join(out)


def _lf_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


# -- a run over paths ---------------------------------------------------------------------------------


@dataclass
class RepairRun:
    """What repairing the inputs of a run did, file by file."""

    files: list[FileRepair] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # the copies --fix-to wrote (or the files fixed)
    problems: list[str] = field(default_factory=list)  # files not repaired, and why
    closes: dict[str, Mapping[str, PreviousClose]] = field(default_factory=dict)  # by file checked
    stdin: bytes | None = None  # standard input repaired (what the check that follows reads)

    @property
    def applied(self) -> list[Fix]:
        """The fixes made, over all files."""
        return [fix for result in self.files for fix in result.applied]

    @property
    def remaining(self) -> list[Fix]:
        """The repairs still available in the repaired files (unsafe, display-only, rolled back)."""
        return [fix for result in self.files for fix in result.remaining]

    def counts(self) -> dict[str, int]:
        """How many fixes were applied, rolled back and remain, the last by applicability."""
        remaining = self.remaining
        return {
            "applied": len(self.applied),
            "rolled_back": sum(len(result.rolled_back) for result in self.files),
            "remaining": len(remaining),
            "remaining_safe": sum(f.applicability == SAFE for f in remaining),
            "remaining_unsafe": sum(f.applicability == UNSAFE for f in remaining),
            "remaining_display_only": sum(f.applicability == DISPLAY_ONLY for f in remaining),
            # decided by a previous close known exactly: made safe (and applied), or refused
            "confirmed": sum(bool(f.previous_close) for f in self.applied),
            "refused": sum(bool(f.previous_close) and f.applicability == DISPLAY_ONLY for f in remaining),
        }


def repair_paths(
    paths: list[str],
    options: Options,
    unsafe: bool = False,
    mode: str = "fix",
    fix_to: str | None = None,
    closes: Closes | None = None,
    stdin: bytes | None = None,
) -> RepairRun:
    """Repair every input file of `paths` (walked as a check walks them). `mode` is `fix` (in
    place), `diff` (nothing written) or `copy` (every input written under `fix_to`, repaired);
    `closes`, by file and symbol, the previous closes known exactly (repair_closes); `stdin`, the
    bytes of standard input (`-`), repaired but never written (the caller shows them)."""
    from checker.inputs.sources import inputs_of

    run = RepairRun()
    closes = closes or {}
    for ref in inputs_of(paths, options):
        if ref.is_stdin and stdin is not None and ref.problem is None:
            result = repair_bytes(stdin, ref.name, options, unsafe, closes.get(ref.name))
            run.files.append(result)
            if result.problem is not None:
                run.problems.append(f"{ref.name}: {result.problem}")
            run.stdin = result.repaired
            if closes.get(ref.name):
                run.closes[ref.name] = closes[ref.name]
            continue
        if ref.path is None or ref.problem is not None:
            if ref.problem is None:
                run.problems.append(f"{ref.name}: standard input is not repaired")
            continue
        page_closes = closes.get(ref.name)
        result = _repair_file(ref.path, ref.name, options, unsafe, page_closes, mode)
        run.files.append(result)
        if result.problem is not None:
            run.problems.append(f"{ref.name}: {result.problem}")
        try:
            if mode == "fix" and result.changed:
                write_in_place(ref.path, result.original, result.repaired)
                run.written.append(str(ref.path))
            elif mode == "copy" and fix_to is not None and result.problem is None:
                copy = str(write_copy(fix_to, ref.name, _stored(result), ref.path))
                run.written.append(copy)
                if page_closes:  # (the check that follows reads the copy)
                    run.closes[copy] = page_closes
            if page_closes and mode != "copy":
                run.closes[ref.name] = page_closes
        except RepairWriteError as error:
            run.problems.append(str(error))
            result.applied, result.repaired = [], result.original
    return run


def repair_closes(
    paths: list[str], options: Options, manifest: Any = None, state: Any = None, stdin: bytes | None = None
) -> dict[str, dict[str, PreviousClose]]:
    """The previous closes the inputs' stocks must give (by file and symbol), known exactly from
    the inputs themselves (the history step over them) and from a history state: what makes a
    change's sign, a recomputed percent or one of a percent's candidates a safe repair."""
    from checker.api import check_paths
    from checker.history.closes import closes_of_run

    stream = io.BytesIO(stdin) if stdin is not None else None
    report = check_paths(paths, replace(options, include_quotes=True), stdin=stream)
    return closes_of_run(report, manifest, state)


def _stored(result: FileRepair) -> bytes:
    """The bytes a repaired copy holds: a gzip file's as they were when nothing changed, else its
    repaired content compressed again (no time stamp, so the same repair gives the same bytes)."""
    if result.compressed is None:
        return result.repaired
    if not result.changed:
        return result.compressed
    return gzip.compress(result.repaired, mtime=0)


def _repair_file(
    path: Path,
    name: str,
    options: Options,
    unsafe: bool,
    closes: Mapping[str, PreviousClose] | None = None,
    mode: str = "fix",
) -> FileRepair:
    """Read one file (a regular file, no link followed, within the size cap) and repair its bytes;
    a gzip file's content is repaired for a copy only (mode `copy`)."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            return FileRepair(
                name=name, problem="not a regular file (a link is never followed): not repaired"
            )
        if info.st_size > options.max_decompressed_size:
            return FileRepair(name=name, problem="larger than --max-decompressed-size: not repaired")
        data = path.read_bytes()
    except OSError as error:
        return FileRepair(name=name, problem=f"cannot be read: {error.strerror or error}")
    if data[:2] != _GZIP:
        return repair_bytes(data, name, options, unsafe, closes)
    if mode != "copy":
        # In place, the whole compressed stream would be rewritten (no byte of the archive kept
        # outside the edits); a diff of its content is one that patch cannot apply to it.
        why = "not repaired in place" if mode == "fix" else "no diff shown (patch cannot apply one to it)"
        problem = f"a compressed file: {why}; --fix-to DIR writes its repaired copy, compressed again"
        return FileRepair(name=name, original=data, repaired=data, problem=problem)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            content = stream.read(options.max_decompressed_size + 1)
    except (OSError, EOFError, ValueError, zlib.error) as error:
        return FileRepair(name=name, original=data, repaired=data, problem=f"cannot be decompressed: {error}")
    if len(content) > options.max_decompressed_size:
        return FileRepair(name=name, problem="larger than --max-decompressed-size decompressed: not repaired")
    result = repair_bytes(content, name, options, unsafe, closes)
    result.compressed = data
    return result


# How many of each rule's findings a report gives repairs to when no repair is asked for: as many
# as the HTML report shows source lines for, so a run of millions of findings does not pay for all.
# (the findings a report keeps source lines for: a large page checked in chunks keeps the quotes
# on those lines, and only those, beside the ones the HTML report lists)
REPORT_FIXES_PER_RULE = SOURCE_CONTEXT_PER_RULE


def attach_fixes(report: Report, run: RepairRun | None = None, closes: Closes | None = None) -> Report:
    """Put the repairs in the report (and return it): those `run` applied, and those its
    remaining findings have (without a run, those of each rule's first findings, weighed
    against `closes` when given). A report without its quotes and without a run is left as it is."""
    if report.quotes is None and run is None:
        return report
    applied = run.applied if run is not None else []
    per_rule = None if run is not None else REPORT_FIXES_PER_RULE
    closes = run.closes if run is not None else closes
    found = exact_spans(report, report_fixes(report, per_rule=per_rule, closes=closes))
    found += _missing_fixes(report, run, per_rule, found)
    report.fixes = applied + found
    return report


def _missing_fixes(
    report: Report, run: RepairRun | None, per_rule: int | None, found: list[Fix]
) -> list[Fix]:
    """The repairs `found` lacks. With a run: those it left in its repaired texts, when the report
    holds no quotes to find them from (--no-report) or they stand where its quotes do not place
    them. Without one: those of JSON records written over several lines, whose members the
    report's quotes place only on a record's first line (the file read again). Each edit is
    checked verbatim against its own line of that text (a quoted field's moved inside its quotes)."""
    have = {(f.file, f.rule, f.line, f.column) for f in found}
    texts: dict[str, tuple[str, str]] = {}  # file -> (its format, its text)
    candidates: list[Fix] = []
    if run is not None:
        for repaired in run.files:
            if repaired.problem is None:
                texts[repaired.name] = (repaired.format, decode(repaired.repaired).text)
        candidates = [f for f in run.remaining if f.file in texts]
    elif report.quotes is not None and len(report.findings):
        with_findings = set(report.findings["file"].dropna().astype(str).tolist())
        for entry in report.files:
            name = entry.path
            if entry.format != "json" or name not in with_findings or name in texts:
                continue
            try:
                data = Path(name).read_bytes()
            except (OSError, ValueError):
                continue
            text = decode(data).text
            quotes = report.quotes[(report.quotes["file"] == name).to_numpy(dtype=bool)]
            starts = sorted(set(zip(*column_lists(quotes, ("line", "column")), strict=True)))
            if re.search(r"\r(?!\n)", text) or not starts:
                continue
            places = value_places(text.removeprefix("\ufeff"), [(int(a), int(b)) for a, b in starts])
            texts[name] = ("json", text)
            own = (report.findings["file"] == name).to_numpy(dtype=bool, na_value=False)
            page = replace(report, findings=report.findings[own], quotes=quotes)
            candidates += report_fixes(page, per_rule=per_rule, places=places)
    split: dict[str, list[str]] = {}
    out = []
    for fix in candidates:
        if (fix.file, fix.rule, fix.line, fix.column) in have:
            continue
        if not fix.edits:
            out.append(fix)
            continue
        fmt, text = texts[fix.file]
        if fix.file not in split:
            split[fix.file] = split_lines(text.removeprefix("\ufeff"))
        lines = split[fix.file]
        edits = []
        for edit in fix.edits:
            line = lines[edit.line - 1] if 0 < edit.line <= len(lines) else None
            if line is None:
                break
            moved = _in_quotes(line, edit) if fmt in ("csv", "tsv", "json", "jsonl") else edit
            if not _fits_format(line, moved, fmt) or apply_to_line(line, [moved]) is None:
                break
            edits.append(moved)
        else:
            fix.edits = tuple(edits)
            out.append(fix)
    return out


def exact_spans(report: Report, fixes: list[Fix]) -> list[Fix]:
    """The fixes whose edits stand verbatim in the source lines the report holds (a quoted record
    field's edit moved inside its quotes); a fix on a line the report holds no source of is kept
    only for a text page, whose spans are the parser's own."""
    formats = {result.path: result.format for result in report.files}
    out = []
    for fix in fixes:
        fmt = formats.get(fix.file, "text")
        if not fix.edits:
            out.append(fix)
            continue
        line = report.source_lines.get((fix.file, fix.line))
        if line is None:
            if fmt == "text":
                out.append(fix)
            continue
        edits = [_in_quotes(line, e) if fmt in ("csv", "tsv", "json", "jsonl") else e for e in fix.edits]
        if all(_fits_format(line, e, fmt) for e in edits) and apply_to_line(line, edits) is not None:
            fix.edits = tuple(edits)
            out.append(fix)
    return out
