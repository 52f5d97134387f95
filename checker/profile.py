"""The feed profile: which symbols are indices, how each kind is formatted, circuit breakers."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from checker.resources import schema_path
from checker.userfiles import UserFileError, json_pointer, read_user_json

DEFAULT_PROFILE = "br-psx"
# Keys that early profiles carried but no check ever read; a profile holding one is told so.
_NEVER_READ = {
    "rounding_decimals": "a percent is taken as rounded to two decimals, as the feed rounds it",
    "trim_trailing_zeros": "a percent's trailing zeros are always a QC403 finding",
    "directions": "the direction words are the feed's own: Increased By, Decreased By, No Change",
}


class ProfileError(ValueError):
    """A profile that cannot be read or is not valid; the message names the file and the key."""


class Pattern(Protocol):
    """A compiled index-symbol pattern (RE2: matching takes time linear in the symbol's length)."""

    @property
    def pattern(self) -> str: ...

    def match(self, text: str) -> object: ...


@dataclass(frozen=True)
class NumberFormat:
    """How one number of one kind of quote is shown."""

    decimals: tuple[int, ...]
    grouping: str  # "required", "optional" or "forbidden"


@dataclass(frozen=True)
class KindFormat:
    """Conventions for one kind of quote (stock or index)."""

    name: str
    exact: bool
    price: NumberFormat
    change: NumberFormat
    arrow: str  # "required" or "optional"


@dataclass(frozen=True)
class CircuitBreaker:
    """A daily move limit: `percent` of the previous price or `floor_rupees`, whichever is higher."""

    start: dt.date | None
    until: dt.date | None
    percent: Decimal
    floor_rupees: Decimal
    note: str

    def in_force(self, day: dt.date) -> bool:
        """Whether this limit applied on `day`."""
        return (self.start is None or self.start <= day) and (self.until is None or day <= self.until)


@dataclass(frozen=True)
class Profile:
    """A feed profile: data, not code, so a new feed needs no new release."""

    name: str
    title: str
    kinds: dict[str, KindFormat]
    percent_max_decimals: int
    index_symbols: frozenset[str]
    index_patterns: tuple[Pattern, ...]
    circuit_breakers: tuple[CircuitBreaker, ...]
    index_levels: dict[str, tuple[int, int]]
    index_level_margin_percent: Decimal
    source: str = field(default="")
    # The `history` section as written (validated by the schema; read by checker.history).
    history: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def is_index(self, symbol: str) -> bool:
        """Whether `symbol` names an index rather than a stock."""
        return symbol in self.index_symbols or any(p.match(symbol) for p in self.index_patterns)

    def circuit_breaker(self, as_of: dt.date | None = None) -> CircuitBreaker:
        """The limit in force on `as_of`, or the latest one when no date is given."""
        if as_of is None:
            return max(self.circuit_breakers, key=lambda cb: cb.start or dt.date.min)
        for breaker in self.circuit_breakers:
            if breaker.in_force(as_of):
                return breaker
        raise ValueError(f"no circuit breaker in profile {self.name!r} covers {as_of.isoformat()}")


def _date(value: str | None, where: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ProfileError(f"{where}: {value} is not a date (YYYY-MM-DD)") from None


def _decimal(value: str | float, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ProfileError(f"{where}: {value} is not a decimal number") from None
    if not number.is_finite():
        raise ProfileError(f"{where}: {value} is not a finite number")
    return number


def _number_format(raw: dict[str, Any]) -> NumberFormat:
    return NumberFormat(decimals=tuple(raw["decimals"]), grouping=raw["grouping"])


def compile_pattern(pattern: str, where: str) -> Pattern:
    """An index-symbol pattern compiled by RE2, which never backtracks; raises ProfileError.

    RE2 refuses what it cannot match in linear time (backreferences, lookaround), so no profile
    can make a check take exponential time.
    """
    import re2

    options = re2.Options()
    options.log_errors = False  # the refusal is reported here, not logged on stderr by RE2
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ProfileError(
            f"{where}: not a pattern RE2 accepts "
            f"(linear-time syntax: no backreferences or lookaround): {reason}"
        ) from None


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    with schema_path("profile.schema.json").open(encoding="utf-8") as handle:
        schema = json.load(handle)
    return Draft202012Validator(schema)


def validate_profile(raw: Any, source: str = "<profile>") -> None:
    """Check a profile's JSON form against schemas/profile.schema.json; raises ProfileError.

    The message names the file and the key as a JSON pointer (`/kinds/stock/price/decimals`).
    """
    from jsonschema.exceptions import best_match

    try:
        error = best_match(_validator().iter_errors(raw), key=_error_rank)
    except RecursionError:
        raise ProfileError(f"profile {source}: nested too deep") from None
    if error is None:
        return
    pointer = json_pointer(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        unknown = sorted(str(k) for k in error.instance if k not in known)
        if unknown:
            pointer = json_pointer([*error.absolute_path, unknown[0]])
            why = _NEVER_READ.get(unknown[0])
            reason = f"; it was never read ({why}): remove it" if why else ""
            raise ProfileError(
                f"profile {source}: {pointer}: unknown key (known here: {', '.join(sorted(known))}){reason}"
            )
    raise ProfileError(f"profile {source}: {pointer}: {_short(error.message)}")


def _error_rank(error: Any) -> Any:
    from jsonschema.exceptions import relevance

    # The deepest error first: it names the key that is wrong, not the table holding it.
    return (len(error.absolute_path), relevance(error))


def _short(message: str, limit: int = 300) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 3] + "..."


def profile_from_dict(raw: dict[str, Any], source: str = "", validate: bool = True) -> Profile:
    """Build a Profile from its JSON form (see schemas/profile.schema.json); raises ProfileError.

    `validate=False` is for the bundled profiles only, which tests/test_user_files.py validates:
    jsonschema's import alone is a fifth of a second of every run."""
    where = f"profile {source or '<profile>'}"
    if validate:
        validate_profile(raw, source or "<profile>")
    kinds = {
        name: KindFormat(
            name=name,
            exact=bool(spec["exact"]),
            price=_number_format(spec["price"]),
            change=_number_format(spec["change"]),
            arrow=spec["arrow"],
        )
        for name, spec in raw["kinds"].items()
    }
    breakers = []
    for index, cb in enumerate(raw["circuit_breakers"]):
        at = f"{where}: /circuit_breakers/{index}"
        start, until = _date(cb.get("from"), f"{at}/from"), _date(cb.get("until"), f"{at}/until")
        if start and until and until < start:
            raise ProfileError(f"{at}/until: {until.isoformat()} is before from ({start.isoformat()})")
        breakers.append(
            CircuitBreaker(
                start=start,
                until=until,
                percent=_decimal(cb["percent"], f"{at}/percent"),
                floor_rupees=_decimal(cb["floor_rupees"], f"{at}/floor_rupees"),
                note=cb.get("note", ""),
            )
        )
    patterns = tuple(
        compile_pattern(p, f"{where}: /index_symbol_patterns/{i}")
        for i, p in enumerate(raw.get("index_symbol_patterns", []))
    )
    levels = {}
    for symbol, (low, high) in raw.get("index_levels", {}).items():
        if high < low:
            pointer = json_pointer(["index_levels", symbol])
            raise ProfileError(f"{where}: {pointer}: the upper level {high} is below the lower {low}")
        levels[symbol] = (int(low), int(high))
    return Profile(
        name=raw["name"],
        title=raw.get("title", raw["name"]),
        kinds=kinds,
        percent_max_decimals=int(raw["percent"]["max_decimals"]),
        index_symbols=frozenset(raw["index_symbols"]),
        index_patterns=patterns,
        circuit_breakers=tuple(breakers),
        index_levels=levels,
        index_level_margin_percent=_decimal(
            raw.get("index_level_margin_percent", "0"), f"{where}: /index_level_margin_percent"
        ),
        source=source,
        history=raw.get("history", {}),
    )


def bundled_profiles() -> list[str]:
    """The names of the profiles shipped with quotecheck."""
    return sorted(path.stem for path in schema_path("profiles").glob("*.json"))


def _is_file_name(name_or_path: str) -> bool:
    return name_or_path.endswith(".json") or "/" in name_or_path or "\\" in name_or_path


@lru_cache(maxsize=8)
def load_profile(name_or_path: str = DEFAULT_PROFILE) -> Profile:
    """Load a bundled profile by name, or a profile JSON file by path; raises ProfileError.

    A name is looked up among the bundled profiles only; anything ending in `.json` or holding
    a slash is a file. A file is read like any untrusted input: a regular file of at most
    MAX_SETTINGS_FILE bytes, strict UTF-8 JSON, valid against schemas/profile.schema.json.
    """
    bundled = False
    if _is_file_name(name_or_path):
        path = Path(name_or_path)
    elif name_or_path in bundled_profiles():
        bundled = True
        path = schema_path("profiles", f"{name_or_path}.json")
    else:
        raise ProfileError(
            f"unknown feed profile {name_or_path}; the bundled profiles are {', '.join(bundled_profiles())} "
            "(or give the path of a profile JSON file)"
        )
    try:
        raw = read_user_json(path, "profile")
    except UserFileError as error:
        raise ProfileError(str(error)) from None
    return profile_from_dict(raw, source=str(path), validate=not bundled)
