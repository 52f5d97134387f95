"""The feed profile: which symbols are indices, how each kind is formatted, circuit breakers."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from checker.resources import schema_path

DEFAULT_PROFILE = "br-psx"


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
    directions: tuple[str, ...]


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
    index_patterns: tuple[re.Pattern[str], ...]
    circuit_breakers: tuple[CircuitBreaker, ...]
    index_levels: dict[str, tuple[int, int]]
    index_level_margin_percent: Decimal
    source: str = field(default="")

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


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _number_format(raw: dict[str, Any]) -> NumberFormat:
    return NumberFormat(decimals=tuple(raw["decimals"]), grouping=raw["grouping"])


def profile_from_dict(raw: dict[str, Any], source: str = "") -> Profile:
    """Build a Profile from its JSON form (see schemas/profile.schema.json)."""
    kinds = {
        name: KindFormat(
            name=name,
            exact=bool(spec["exact"]),
            price=_number_format(spec["price"]),
            change=_number_format(spec["change"]),
            arrow=spec["arrow"],
            directions=tuple(spec["directions"]),
        )
        for name, spec in raw["kinds"].items()
    }
    breakers = tuple(
        CircuitBreaker(
            start=_date(cb.get("from")),
            until=_date(cb.get("until")),
            percent=Decimal(cb["percent"]),
            floor_rupees=Decimal(cb["floor_rupees"]),
            note=cb.get("note", ""),
        )
        for cb in raw["circuit_breakers"]
    )
    return Profile(
        name=raw["name"],
        title=raw.get("title", raw["name"]),
        kinds=kinds,
        percent_max_decimals=int(raw["percent"]["max_decimals"]),
        index_symbols=frozenset(raw["index_symbols"]),
        index_patterns=tuple(re.compile(p) for p in raw.get("index_symbol_patterns", [])),
        circuit_breakers=breakers,
        index_levels={k: (int(v[0]), int(v[1])) for k, v in raw.get("index_levels", {}).items()},
        index_level_margin_percent=Decimal(raw.get("index_level_margin_percent", "0")),
        source=source,
    )


@lru_cache(maxsize=8)
def load_profile(name_or_path: str = DEFAULT_PROFILE) -> Profile:
    """Load a bundled profile by name, or a profile JSON file by path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".json" and candidate.exists():
        path = candidate
    else:
        path = schema_path("profiles", f"{name_or_path}.json")
        if not path.exists():
            raise ValueError(f"unknown feed profile {name_or_path!r}")
    with path.open(encoding="utf-8") as handle:
        return profile_from_dict(json.load(handle), source=str(path))
