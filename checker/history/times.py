"""When each snapshot was taken: from a manifest, the file name, or the crawler prefix on the page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

EXCHANGE_ZONE = "Asia/Karachi"
# The crawler prefix stands glued to the first quote, at the top of a page.
PREFIX_SEARCH_CHARS = 4096
MANIFEST_MAX_ROWS = 10_000_000

# A date (YYYY-MM-DD or YYYYMMDD, not inside a longer run of digits), then maybe a time:
# T, _, - or a space, then HHMM, HH-MM, HH:MM or HHMMSS.
_NAME_STAMP = re.compile(
    r"(?<![0-9])(?P<year>[0-9]{4})(?P<sep>-?)(?P<month>[0-9]{2})(?P=sep)(?P<day>[0-9]{2})"
    r"(?:[T_\- ](?P<hour>[0-9]{2})(?:[:\-](?P<minute1>[0-9]{2})|(?P<minute2>[0-9]{2})(?P<second>[0-9]{2})?))?"
    r"(?![0-9])"
)
_ANY_DATE = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}")
_CRAWLER_PREFIX = re.compile(r"(?:^|\s)date ([0-9]{4})-([0-9]{2})-([0-9]{2})(?=\s)")
# A manifest's captured_at: a date, or a date and a time, with an optional zone.
_ISO = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):?([0-9]{2})(?::?([0-9]{2})(?:\.[0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)

SOURCE_MANIFEST = "manifest"
SOURCE_FILE_NAME = "file name"
SOURCE_PREFIX = "crawler prefix"
SOURCE_FIGURES = "figures"
SOURCE_NONE = "none"


@dataclass(frozen=True)
class Stamp:
    """A capture time in exchange time: a date, and the time of day when it is known."""

    day: dt.date
    time: dt.time | None
    source: str

    def isoformat(self) -> str:
        """The stamp as ISO 8601 text in exchange time (a date alone when no time is known)."""
        time = self.time
        if time is None:
            return self.day.isoformat()
        if time.tzinfo is None and not time.microsecond:  # the usual stamp, written directly
            if time.second:
                return f"{self.day.isoformat()}T{time.hour:02d}:{time.minute:02d}:{time.second:02d}"
            return f"{self.day.isoformat()}T{time.hour:02d}:{time.minute:02d}"
        return dt.datetime.combine(self.day, time).isoformat(
            timespec="minutes" if not time.second else "seconds"
        )


def exchange_zone() -> dt.tzinfo:
    """The exchange's time zone (a fixed UTC+05:00 when no zone database is installed)."""
    try:
        return ZoneInfo(EXCHANGE_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone(dt.timedelta(hours=5))


def _make_date(year: str, month: str, day: str) -> dt.date | None:
    try:
        value = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    return value if 1990 <= value.year <= 2200 else None


def _make_time(hour: str | None, minute: str | None, second: str | None) -> dt.time | None:
    if hour is None or minute is None:
        return None
    try:
        return dt.time(int(hour), int(minute), int(second or 0))
    except ValueError:
        return None


def stamp_from_name(name: str) -> Stamp | None:
    """The date (and time) in a file's base name, if any: the first well-formed one."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not _ANY_DATE.search(base):  # most names without a date: no full match attempted
        return None
    for match in _NAME_STAMP.finditer(base):
        day = _make_date(match["year"], match["month"], match["day"])
        if day is None:
            continue
        minute = match["minute1"] or match["minute2"]
        time = _make_time(match["hour"], minute, match["second"])
        return Stamp(day, time, SOURCE_FILE_NAME)
    return None


# The same as _NAME_STAMP in RE2 syntax (no lookaround, no backreference), for many names at once.
_NAME_STAMP_RE2 = (
    r"(?:^|[^0-9])([0-9]{4})(-?)([0-9]{2})(-?)([0-9]{2})"
    r"(?:[T_\- ]([0-9]{2})(?:[:\-]([0-9]{2})|([0-9]{2})([0-9]{2})?))?"
    r"(?:[^0-9/\\][^/\\]*)?$"  # then only the rest of the base name: the date is in the base name
)


def stamps_from_names(names: list[str]) -> list[Stamp | None]:
    """stamp_from_name for many names: one vectorised match, Python only for the odd name
    (a first date that is not a real date, separators that differ)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not names:
        return []
    bases = pa.array(names, pa.large_string())
    fields = ["y", "s1", "m", "s2", "d", "h", "mi1", "mi2", "sec"]
    found: Any = pc.extract_regex(bases, _named_groups(_NAME_STAMP_RE2, fields))
    matched = found.is_valid().to_numpy(zero_copy_only=False)

    def number(field: str) -> np.ndarray:
        text: Any = pc.fill_null(found.field(field), "")
        text = pc.if_else(pc.equal(text, pa.scalar("", text.type)), "-1", text)
        return pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False)

    year, month, day = number("y"), number("m"), number("d")
    hour, minute = number("h"), np.maximum(number("mi1"), number("mi2"))
    second = np.maximum(number("sec"), 0)
    same_separator = pc.fill_null(pc.equal(found.field("s1"), found.field("s2")), False)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)]
    month_days = month_days + ((month == 2) & leap)
    real = (year >= 1990) & (year <= 2200) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    real &= same_separator.to_numpy(zero_copy_only=False)
    timed = (hour >= 0) & (hour <= 23) & (minute >= 0) & (minute <= 59) & (second <= 59)
    out: list[Stamp | None] = [None] * len(names)
    ys, ms, ds, hs, mis, ss, ts = (a.tolist() for a in (year, month, day, hour, minute, second, timed))
    dates: dict[tuple[int, int, int], dt.date] = {}  # many pages a day: each date made once
    for i in np.flatnonzero(matched & real).tolist():
        key = (ys[i], ms[i], ds[i])
        date = dates.get(key)
        if date is None:
            date = dates[key] = dt.date(*key)
        time = dt.time(hs[i], mis[i], ss[i]) if ts[i] else None
        out[i] = Stamp(date, time, SOURCE_FILE_NAME)
    for i in np.flatnonzero(matched & ~real).tolist():  # a later date in the name may be real
        out[i] = stamp_from_name(names[i])
    return out


def _named_groups(pattern: str, names: list[str]) -> str:
    """Name the capturing groups of `pattern` in order (non-capturing `(?:` left as they are)."""
    out, at, index = [], 0, 0
    while at < len(pattern):
        char = pattern[at]
        if char == "\\":
            out.append(pattern[at : at + 2])
            at += 2
            continue
        if char == "(" and not pattern.startswith("(?", at):
            out.append(f"(?P<{names[index]}>")
            index += 1
        else:
            out.append(char)
        at += 1
    return "".join(out)


def stamp_from_text(text: str | None) -> Stamp | None:
    """The crawler prefix's date (` date YYYY-MM-DD `) near the top of a page, if any."""
    if not text:
        return None
    for match in _CRAWLER_PREFIX.finditer(text[:PREFIX_SEARCH_CHARS]):
        day = _make_date(*match.groups())
        if day is not None:
            return Stamp(day, None, SOURCE_PREFIX)
    return None


def parse_captured_at(text: str) -> Stamp | None:
    """A manifest's ISO 8601 capture time, in exchange time; None when it is not one."""
    match = _ISO.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    date = _make_date(year, month, day)
    if date is None:
        return None
    if hour is None:
        return Stamp(date, None, SOURCE_MANIFEST)
    time = _make_time(hour, minute, second)
    if time is None:
        return None
    if zone:
        if zone == "Z":
            offset = dt.timedelta(0)
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            if hours > 23 or minutes > 59:
                return None
            offset = sign * dt.timedelta(hours=hours, minutes=minutes)
        moment = dt.datetime.combine(date, time, dt.timezone(offset)).astimezone(exchange_zone())
        return Stamp(moment.date(), moment.time().replace(tzinfo=None), SOURCE_MANIFEST)
    return Stamp(date, time, SOURCE_MANIFEST)


@dataclass
class Manifest:
    """A manifest's capture times, by the file each row names, and what was wrong in it."""

    source: str
    folder: PurePath
    rows: list[tuple[int, str, Stamp]] = field(default_factory=list)  # (line, file as written, stamp)
    problems: list[str] = field(default_factory=list)

    def match(self, inputs: Iterable[str], resolve: Mapping[str, str] | None = None) -> dict[str, Stamp]:
        """The stamp of each input the manifest names, by the input's name; rows naming no input
        are added to `problems`.

        A row names an input by its path relative to the manifest's folder or, when that finds
        none, by base name if exactly one input and one row have that base name. `resolve` maps
        an input's name to its absolute path (the caller knows the file system; this does not).
        """
        names = list(dict.fromkeys(inputs))
        by_path: dict[str, str] = {}
        by_base: dict[str, list[str]] = {}
        for name in names:
            full = (resolve or {}).get(name, name)
            by_path[_norm(full)] = name
            by_base.setdefault(_base(name), []).append(name)
        row_bases: dict[str, int] = {}
        for _, written, _ in self.rows:
            row_bases[_base(written)] = row_bases.get(_base(written), 0) + 1
        out: dict[str, Stamp] = {}
        for line, written, stamp in self.rows:
            target = by_path.get(_norm(str(self.folder / written))) or by_path.get(_norm(written))
            if target is None:
                candidates = by_base.get(_base(written), [])
                if len(candidates) == 1 and row_bases[_base(written)] == 1:
                    target = candidates[0]
            if target is None:
                self.problems.append(f"{self.source}:{line}: {written!r} names no input of this run")
                continue
            out.setdefault(target, stamp)
        return out


def _norm(path: str) -> str:
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(part)
    return ("/" if path.startswith("/") else "") + "/".join(parts)


def _base(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def read_manifest(text: str, source: str, folder: PurePath) -> Manifest:
    """Read a manifest's CSV text (columns `file,captured_at`); bad rows become problems, not errors.

    Raises ValueError when the text is not a manifest at all (no `file` and `captured_at` columns).
    """
    manifest = Manifest(source=source, folder=folder)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ValueError(f"{source}: not a CSV file ({error})") from None
    columns = [c.strip().lower() for c in header or []]
    if "file" not in columns or "captured_at" not in columns:
        raise ValueError(f"{source}: a manifest needs the columns file,captured_at")
    file_at, time_at = columns.index("file"), columns.index("captured_at")
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(manifest.rows) >= MANIFEST_MAX_ROWS:
                manifest.problems.append(
                    f"{source}:{line}: more than {MANIFEST_MAX_ROWS} rows; the rest ignored"
                )
                break
            if len(row) <= max(file_at, time_at):
                manifest.problems.append(f"{source}:{line}: the row has no captured_at")
                continue
            written, when = row[file_at].strip(), row[time_at].strip()
            stamp = parse_captured_at(when)
            if not written:
                manifest.problems.append(f"{source}:{line}: the row names no file")
            elif stamp is None:
                shown = when if len(when) <= 60 else when[:57] + "..."
                manifest.problems.append(
                    f"{source}:{line}: captured_at {shown!r} is not an ISO 8601 date or time"
                )
            else:
                manifest.rows.append((line, written, stamp))
    except csv.Error as error:
        manifest.problems.append(f"{source}:{reader.line_num}: {error}; the rest ignored")
    return manifest


def snapshot_stamp(
    name: str, manifest_stamps: Mapping[str, Stamp] | None, page_text: str | None
) -> Stamp | None:
    """A snapshot's capture time from the first source present: manifest, file name, crawler prefix."""
    if manifest_stamps and name in manifest_stamps:
        return manifest_stamps[name]
    return stamp_from_name(name) or stamp_from_text(page_text)


# The stamp texts a ledger writes: a date, or a date and a time to the minute or the second.
_LEDGER_STAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"


class StampColumns:
    """Capture times of many snapshots as arrays (what a ledger of a million pages needs): per
    snapshot its day (a proleptic ordinal, -1 for no stamp), its seconds into the day (-1 for a
    date alone) and the code of its source; `stamps[k]` is the Stamp of snapshot k, or None."""

    def __init__(
        self,
        day: np.ndarray,
        seconds: np.ndarray,
        source: np.ndarray,
        sources: list[str],
        odd: dict[int, Stamp] | None = None,
    ) -> None:
        self.day, self.seconds, self.source, self.sources = day, seconds, source, sources
        self.odd: dict[int, Stamp] = odd or {}  # stamps the arrays do not hold exactly (a zone, microseconds)

    @classmethod
    def empty(cls, n: int) -> StampColumns:
        return cls(np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.zeros(n, np.int64), [SOURCE_NONE])

    def __len__(self) -> int:
        return len(self.day)

    def __iter__(self) -> Any:
        return (self[k] for k in range(len(self)))

    def __getitem__(self, k: int) -> Stamp | None:
        if k in self.odd:
            return self.odd[k]
        ordinal = int(self.day[k])
        if ordinal < 0:
            return None
        seconds = int(self.seconds[k])
        time = dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60) if seconds >= 0 else None
        return Stamp(dt.date.fromordinal(ordinal), time, self.sources[int(self.source[k])])

    @property
    def present(self) -> np.ndarray:
        return self.day >= 0

    def set(self, k: int, stamp: Stamp | None) -> None:
        """Snapshot k's stamp (one found otherwise: from its name, say)."""
        self.odd.pop(k, None)
        if stamp is None:
            self.day[k], self.seconds[k] = -1, -1
            return
        self.day[k] = stamp.day.toordinal()
        time = stamp.time
        self.seconds[k] = time.hour * 3600 + time.minute * 60 + time.second if time is not None else -1
        if stamp.source not in self.sources:
            self.sources.append(stamp.source)
        self.source[k] = self.sources.index(stamp.source)
        if time is not None and (time.tzinfo is not None or time.microsecond):
            self.odd[k] = stamp

    def take(self, at: np.ndarray) -> StampColumns:
        place = {int(k): i for i, k in enumerate(at.tolist()) if int(k) in self.odd} if self.odd else {}
        odd = {i: self.odd[k] for k, i in place.items()}
        return StampColumns(self.day[at], self.seconds[at], self.source[at], self.sources, odd)

    def permuted(self, at: np.ndarray, n: int) -> StampColumns:
        """The stamps renumbered: snapshot k becomes at[k], of n (the others without a stamp)."""
        out = StampColumns.empty(n)
        out.sources = list(self.sources)
        out.day[at], out.seconds[at], out.source[at] = self.day, self.seconds, self.source
        out.odd = {int(at[k]): s for k, s in self.odd.items()}
        return out

    def isoformats(self) -> list[str | None]:
        """Each stamp's isoformat() (None where there is none)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        plain = (self.day >= dt.date(1000, 1, 1).toordinal()) & (self.seconds < 86400)
        if self.odd or not plain[self.day >= 0].all():
            return self._isoformats()
        epoch = dt.date(1970, 1, 1).toordinal()
        absent = self.day < 0
        days = pa.array(np.where(absent, 0, self.day - epoch).astype(np.int32), type=pa.date32())
        text = pc.cast(days, pa.string())
        seconds = np.maximum(self.seconds, 0)
        clock = pc.cast(pa.array(seconds.astype(np.int32), type=pa.time32("s")), pa.string())
        clock = pc.if_else(pa.array(seconds % 60 == 0), pc.utf8_slice_codeunits(clock, 0, 5), clock)
        joined = pc.if_else(pa.array(self.seconds >= 0), pc.binary_join_element_wise(text, clock, "T"), text)
        return pc.if_else(pa.array(absent), pa.nulls(len(self), pa.string()), joined).to_pylist()

    def _isoformats(self) -> list[str | None]:
        days = self.day
        seconds = self.seconds
        day_text: dict[int, str] = {}
        time_text: dict[int, str] = {}
        out: list[str | None] = []
        for k, (ordinal, second) in enumerate(zip(days.tolist(), seconds.tolist(), strict=True)):
            if ordinal < 0:
                out.append(None)
                continue
            if k in self.odd:
                out.append(self.odd[k].isoformat())
                continue
            text = day_text.get(ordinal)
            if text is None:
                text = day_text[ordinal] = dt.date.fromordinal(ordinal).isoformat()
            if second >= 0:
                tail = time_text.get(second)
                if tail is None:
                    h, m, s = second // 3600, second // 60 % 60, second % 60
                    tail = time_text[second] = f"T{h:02d}:{m:02d}:{s:02d}" if s else f"T{h:02d}:{m:02d}"
                text = text + tail
            out.append(text)
        return out

    def source_names(self) -> list[str | None]:
        """Each stamp's source (None where there is no stamp)."""
        names = np.array([*self.sources, None], dtype=object)
        return names[np.where(self.day >= 0, self.source, len(self.sources))].tolist()


def stamp_columns(texts: Any, sources: Any, slow: Any, none: str = SOURCE_NONE) -> StampColumns:
    """The stamps of texts as a ledger writes them (an Arrow string array, with the Arrow array
    of their sources), parsed at once; any other text goes to `slow(text, source)` -> Stamp."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(texts)
    out = StampColumns.empty(n)
    if not n:
        return out
    texts = texts.cast(pa.string()) if not pa.types.is_string(texts.type) else texts
    sources = pc.fill_null(sources.cast(pa.string()), none)
    sources = pc.if_else(pc.equal(sources, pa.scalar("")), none, sources)  # as `source or none`
    codes = pc.dictionary_encode(sources)
    out.sources = [str(s) for s in codes.dictionary.to_pylist()]
    out.source = codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if not out.sources:
        out.sources = [none]
    blank = pc.fill_null(pc.equal(texts, pa.scalar("")), True)
    fast = pc.fill_null(pc.match_substring_regex(texts, _LEDGER_STAMP), False)
    fast_np = fast.to_numpy(zero_copy_only=False)
    if fast_np.any():
        chosen = texts.filter(fast)
        head = pc.utf8_slice_codeunits(chosen, 0, 10)
        moment = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)
        epoch_day = pc.cast(pc.divide(pc.cast(moment, pa.int64()), 86400), pa.int64())
        ordinal = np.asarray(pc.fill_null(epoch_day, -(10**9)).to_numpy(zero_copy_only=False), np.int64)
        ordinal = np.where(ordinal > -(10**9), ordinal + dt.date(1970, 1, 1).toordinal(), -1)
        length = pc.utf8_length(chosen).to_numpy(zero_copy_only=False)

        def part(start: int) -> np.ndarray:
            piece = pc.utf8_slice_codeunits(chosen, start, start + 2)
            piece = pc.if_else(pc.equal(pc.utf8_length(piece), pa.scalar(2, pa.int32())), piece, "0")
            return np.asarray(pc.cast(piece, pa.int64()).to_numpy(zero_copy_only=False), np.int64)

        hour, minute, second = part(11), part(14), part(17)
        timed = length > 10
        good_time = (hour < 24) & (minute < 60) & np.where(length == 19, second < 60, True)
        seconds = np.where(timed, hour * 3600 + minute * 60 + np.where(length == 19, second, 0), -1)
        good = (ordinal > 0) & (~timed | good_time)
        at = np.flatnonzero(fast_np)
        out.day[at] = np.where(good, ordinal, -1)
        out.seconds[at] = np.where(good, seconds, -1)
    rest = np.flatnonzero(~fast_np & ~blank.to_numpy(zero_copy_only=False))
    if len(rest):
        for k, text, source in zip(
            rest.tolist(),
            texts.take(pa.array(rest)).to_pylist(),
            sources.take(pa.array(rest)).to_pylist(),
            strict=True,
        ):
            out.set(k, slow(text, source))
    return out
