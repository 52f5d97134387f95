"""Trading sessions: the exchange calendar of a maintained library, with the profile's overrides."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from checker.profile import Profile, ProfileError

DEFAULT_CALENDAR = "XKAR"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DEFAULT_HOURS = {"open": "09:30", "close": "15:30"}


@dataclass(frozen=True)
class Hours:
    """One weekday's trading hours in exchange time."""

    open: dt.time
    close: dt.time


@dataclass(frozen=True)
class HistorySettings:
    """The profile's `history` section: calendar, hours, overrides and which indices chain."""

    calendar: str = DEFAULT_CALENDAR
    hours: tuple[Hours, ...] = ()  # Monday to Sunday
    closures: frozenset[dt.date] = frozenset()
    extra_sessions: frozenset[dt.date] = frozenset()
    chaining_indices: frozenset[str] = frozenset()
    uncertain: frozenset[dt.date] = frozenset()

    def hours_on(self, day: dt.date) -> Hours:
        """The trading hours of `day`'s weekday."""
        return self.hours[day.weekday()]


def _time(value: str, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ProfileError(f"{where}: {value!r} is not a time (HH:MM)") from None


def _dates(values: list[str], where: str) -> frozenset[dt.date]:
    out = set()
    for index, value in enumerate(values):
        try:
            out.add(dt.date.fromisoformat(value))
        except ValueError:
            raise ProfileError(f"{where}/{index}: {value!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(out)


def history_settings(profile: Profile) -> HistorySettings:
    """The history settings of a profile (defaults where it has none); raises ProfileError."""
    raw: dict[str, Any] = getattr(profile, "history", None) or {}
    where = f"profile {profile.source or profile.name}: /history"
    hours_raw = raw.get("hours", {})
    default = {**_DEFAULT_HOURS, **{k: v for k, v in hours_raw.items() if k in ("open", "close")}}
    hours = []
    for name in _WEEKDAYS:
        spec = {**default, **hours_raw.get(name, {})}
        opening = _time(spec["open"], f"{where}/hours/{name}/open")
        closing = _time(spec["close"], f"{where}/hours/{name}/close")
        if closing <= opening:
            raise ProfileError(f"{where}/hours/{name}: the close {spec['close']} is not after the open")
        hours.append(Hours(opening, closing))
    return HistorySettings(
        calendar=raw.get("calendar", DEFAULT_CALENDAR),
        hours=tuple(hours),
        closures=_dates(raw.get("closures", []), f"{where}/closures"),
        extra_sessions=_dates(raw.get("extra_sessions", []), f"{where}/extra_sessions"),
        chaining_indices=frozenset(raw.get("chaining_indices", [])),
        uncertain=_dates(raw.get("uncertain", []), f"{where}/uncertain"),
    )


@dataclass
class SessionCalendar:
    """Trading days over a span of dates, as numpy arrays indexed by day from `start`.

    `is_session[i]`: day start+i is a trading day; `previous[i]`: the index of the last trading
    day before day i (-1: none in the span); `uncertain[i]`: the sources disagree on day i.
    """

    start: dt.date
    is_session: np.ndarray
    uncertain: np.ndarray
    sources: list[str]
    settings: HistorySettings
    notes: list[str] = field(default_factory=list)
    _labels: dict[int, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def previous(self) -> np.ndarray:
        """For each day, the index of the last trading day strictly before it (-1 if none)."""
        days = np.where(self.is_session, np.arange(len(self.is_session)), -1)
        upto = np.maximum.accumulate(days) if len(days) else days
        return np.concatenate([[-1], upto[:-1]]).astype(np.int64)

    def index(self, day: dt.date) -> int:
        """The day's index in the arrays (may be outside them)."""
        return (day - self.start).days

    def day(self, index: int) -> dt.date:
        """The date of an index."""
        return self.start + dt.timedelta(days=int(index))

    def label(self, index: int) -> str:
        """The date of an index as YYYY-MM-DD (kept: findings and tables name the same few days
        over and over)."""
        text = self._labels.get(index)
        if text is None:
            text = self._labels[index] = self.day(index).isoformat()
        return text

    def describe(self) -> str:
        """Which sources decided the trading days, for the report."""
        return "; ".join([" and ".join(self.sources), *self.notes])


@dataclass(frozen=True)
class LibraryTables:
    """What the installed calendar libraries say of one exchange over a span of years, as plain
    dates: built where the libraries are imported (a worker process, while this one checks
    pages), cheap to send, and good for any span of days inside `first_year`..`last_year`."""

    code: str
    first_year: int
    last_year: int
    sessions: frozenset[dt.date] | None = None  # exchange-calendars: its sessions, over its span
    sessions_span: tuple[dt.date, dt.date] | None = None
    holidays: dict[int, frozenset[dt.date]] | None = None  # holidays: each year's, as it gives them
    holidays_span: tuple[int | None, int | None] | None = None  # the years it covers, if it says
    notes: tuple[str, ...] = ()

    def covers(self, first: dt.date, last: dt.date) -> bool:
        return self.first_year <= first.year and last.year <= self.last_year


_KNOWN_TABLES: dict[str, LibraryTables] = {}


def library_tables(code: str, first_year: int, last_year: int) -> LibraryTables:
    """The libraries' tables of `code` for the years given (importing them: about 0.25 s)."""
    notes: list[str] = []
    sessions = sessions_span = holidays_by_year = holidays_span = None
    xcals: Any
    try:
        import exchange_calendars as xcals  # type: ignore[import-untyped,no-redef]
    except ImportError:
        xcals = None
    if xcals is not None:
        try:
            with warnings.catch_warnings():  # the library's own deprecation notices are not ours
                warnings.simplefilter("ignore")
                calendar = xcals.get_calendar(code)
            sessions = frozenset(calendar.sessions.date)
            sessions_span = (calendar.first_session.date(), calendar.last_session.date())
        except Exception as error:  # a calendar the library does not know, or cannot build
            notes.append(f"exchange-calendars has no {code} calendar ({type(error).__name__})")
    holidays: Any
    try:
        import holidays
    except ImportError:
        holidays = None
    if holidays is not None:
        try:
            # each year as the library gives it alone, so that any span's days are the same
            # whichever span of years the tables were built for
            tables = {y: holidays.financial_holidays(code, years=y) for y in range(first_year, last_year + 1)}
            holidays_by_year = {y: frozenset(table) for y, table in tables.items()}
            holidays_span = (
                getattr(tables[first_year], "start_year", None),
                getattr(tables[first_year], "end_year", None),
            )
        except Exception as error:
            notes.append(f"holidays has no {code} calendar ({type(error).__name__})")
    return LibraryTables(
        code, first_year, last_year, sessions, sessions_span, holidays_by_year, holidays_span, tuple(notes)
    )


def remember_tables(tables: LibraryTables) -> None:
    """Keep tables built elsewhere (by a worker) for this process's calendars to use."""
    _KNOWN_TABLES[tables.code] = tables


def _library_closed_days(
    code: str, first: dt.date, last: dt.date
) -> tuple[list[tuple[str, set[dt.date], dt.date, dt.date]], list[str]]:
    """The weekdays each installed library says the exchange is closed, with the span it covers
    (from tables a worker built, when they cover the span; the same days either way)."""
    tables = _KNOWN_TABLES.get(code)
    if tables is None or not tables.covers(first, last):
        tables = library_tables(code, first.year, last.year)
    found: list[tuple[str, set[dt.date], dt.date, dt.date]] = []
    if tables.sessions is not None and tables.sessions_span is not None:
        low, high = tables.sessions_span
        closed = set()
        day = max(first, low)
        while day <= min(last, high):
            if day.weekday() < 5 and day not in tables.sessions:
                closed.add(day)
            day += dt.timedelta(days=1)
        found.append((f"exchange-calendars {code}", closed, low, high))
    if tables.holidays is not None and tables.holidays_span is not None:
        start_year, end_year = tables.holidays_span
        low = dt.date(max(first.year, first.year if start_year is None else start_year), 1, 1)
        high = dt.date(min(last.year, last.year if end_year is None else end_year), 12, 31)
        closed = {
            day
            for year in range(first.year, last.year + 1)
            for day in tables.holidays.get(year, ())
            if low <= day <= high and day.weekday() < 5
        }
        found.append((f"holidays {code}", closed, low, high))
    return found, list(tables.notes)


def build_calendar(settings: HistorySettings, first: dt.date, last: dt.date) -> SessionCalendar:
    """The trading days from a week before `first` to `last`: the libraries' XKAR calendars where
    installed (a day they disagree on is uncertain), else Monday to Friday; then the profile's
    closures and extra sessions, which are certain."""
    start = first - dt.timedelta(days=14)
    span = (last - start).days + 1
    days = [start + dt.timedelta(days=i) for i in range(span)]
    weekday = np.array([d.weekday() < 5 for d in days], dtype=bool)
    found, notes = _library_closed_days(settings.calendar, start, last)
    is_session = weekday.copy()
    uncertain = np.zeros(span, dtype=bool)
    sources = [name for name, *_ in found]
    if not found:
        sources = ["Monday to Friday"]
        notes.append(
            "no calendar library installed (pip install 'quotecheck[history]'): "
            "holidays are the profile's closures only"
        )
    else:
        _, primary, low, high = found[0]
        for i, day in enumerate(days):
            if low <= day <= high and day in primary:
                is_session[i] = False
        for _, other, other_low, other_high in found[1:]:
            for i, day in enumerate(days):
                if not weekday[i]:
                    continue
                covered = low <= day <= high and other_low <= day <= other_high
                if covered and (day in primary) != (day in other):
                    uncertain[i] = True
    for i, day in enumerate(days):
        if day in settings.uncertain:
            uncertain[i] = True
        if day in settings.closures:
            is_session[i], uncertain[i] = False, False
        elif day in settings.extra_sessions:
            is_session[i], uncertain[i] = True, False
    return SessionCalendar(start, is_session, uncertain, sources, settings, notes)
