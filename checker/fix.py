"""Repairs: for a finding on a fully parsed quote, the text that puts it right and how sure that is.

A quote has two free figures, its price and its change; the direction word, the arrow, the
percent's sign, a stock's percent and every number's format follow from them. A repair is one
or more edits (a span of one source line and its replacement text) with an applicability:

- `safe`: the only repair the other fields allow (an arrow or direction word against a change
  and percent that agree, a percent whose sign alone is wrong, a number's format with its value
  unchanged, look-alike characters, mojibake arrows);
- `unsafe`: a figure changed on a judgement (a change whose sign alone disagrees, a stock percent
  recomputed when no other figure could explain it);
- `display-only`: more than one repair fits (a stock percent that nine different prices would
  also explain): the candidates are shown, none is applied.

Spans are the fields' own places from the parsed quote (1-based columns, counted in characters
as findings are); a repair is only ever offered for a field whose source text stands verbatim at
that place (checked where it is applied). All arithmetic is exact (fractions), as the rules' is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from fractions import Fraction
from typing import Any, overload

from checker.numeric import LOOKALIKE_TABLE, format_percent
from checker.profile import KindFormat, NumberFormat, Profile
from checker.vocabulary import ARROW_DOWN, ARROW_UP, DECREASED, DIRECTION_WORDS, INCREASED, NO_CHANGE

SAFE = "safe"
UNSAFE = "unsafe"
DISPLAY_ONLY = "display-only"
APPLICABILITIES = (SAFE, UNSAFE, DISPLAY_ONLY)
# How many candidates a display-only repair lists (the count of all is kept beside them).
MAX_CANDIDATES = 10

UP, DOWN, FLAT = 1, -1, 0
_WORD_MOVE = {INCREASED: UP, DECREASED: DOWN, NO_CHANGE: FLAT}
_MOVE_WORD = {UP: INCREASED, DOWN: DECREASED, FLAT: NO_CHANGE}
_ARROW_MOVE = {ARROW_UP: UP, ARROW_DOWN: DOWN}
_LOOKALIKE_ARROW_MOVE = {"△": UP, "↑": UP, "▽": DOWN, "↓": DOWN}
_NUMBER = re.compile(r"[-+]?[0-9][0-9,]*(?:\.[0-9]+)?\Z")
_WESTERN = re.compile(r"[-+]?[0-9]{1,3}(?:,[0-9]{3})*(?:\.[0-9]+)?\Z")
# A replacement never holds a line break or another control character.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Edit:
    """One replacement on one line: characters `column` to `end_column` (1-based, inclusive; an
    insertion has `end_column` = `column` - 1) become `text`. `before` is the text replaced."""

    line: int
    column: int
    end_column: int
    before: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        """The edit's entry in the JSON report."""
        return {
            "line": self.line,
            "column": self.column,
            "end_column": self.end_column,
            "before": self.before,
            "after": self.text,
        }


@dataclass
class Fix:
    """The repair of one finding: its edits (none for a display-only one), applicability and why."""

    rule: str
    file: str
    line: int
    column: int
    applicability: str
    message: str
    edits: tuple[Edit, ...] = ()
    candidates: tuple[str, ...] = ()  # display-only: what each possible repair would show
    candidate_count: int = 0
    status: str = "available"  # "available", "applied" or "rolled back"
    # The previous close that decided the repair (made it safe, or refused every candidate).
    previous_close: str = ""

    @property
    def before(self) -> str:
        """The edited stretch of the line as it reads now (the fields an edit touches)."""
        return " … ".join(edit.before for edit in self.edits)

    @property
    def after(self) -> str:
        """The same stretch repaired, or the candidates of a display-only repair."""
        if self.applicability == DISPLAY_ONLY:
            return " | ".join(self.candidates)
        return " … ".join(edit.text for edit in self.edits)

    def as_dict(self) -> dict[str, Any]:
        """The fix's entry in the JSON report."""
        return {
            "rule": self.rule,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "applicability": self.applicability,
            "status": self.status,
            "message": self.message,
            "edits": [edit.as_dict() for edit in self.edits],
            "candidates": list(self.candidates),
            "candidate_count": self.candidate_count,
            **({"previous_close": self.previous_close} if self.previous_close else {}),
        }


@dataclass(frozen=True)
class PreviousClose:
    """A stock's close in the session before a page's, known exactly: its price on that session's
    last snapshot (checker.history.closes finds it), as shown there and where it stands."""

    price: str
    where: str  # file:line:col of that price
    session: str  # the session whose close it is

    def describe(self) -> str:
        """How a repair names it: `previous close 15.24 (2024-12-03, page.txt:5:9)`."""
        return f"previous close {self.price} ({self.session}, {self.where})"


def key(rule: str, file: str, line: int, column: int) -> tuple[str, str, int, int]:
    """How a fix is matched to its finding: rule, file, line and column."""
    return (rule, file, line, column)


# -- shown numbers, exactly -------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A shown number: its exact value, decimals, and how it was written."""

    value: Fraction
    decimals: int
    grouped: bool
    western: bool
    plus: bool


def read_shown(text: str | None) -> Shown | None:
    """A number as shown, look-alike characters read as their ASCII twins; None if unreadable."""
    if not text:
        return None
    plain = text.translate(LOOKALIKE_TABLE)
    if not _NUMBER.match(plain):
        return None
    digits = plain.lstrip("+-").replace(",", "")
    decimals = digits.partition(".")[2]
    value = Fraction(Decimal(digits))
    if plain.startswith("-"):
        value = -value
    return Shown(
        value=value,
        decimals=len(decimals),
        grouped="," in plain,
        western=bool(_WESTERN.match(plain)),
        plus=plain.startswith("+"),
    )


def _sign(value: Fraction) -> int:
    return (value > 0) - (value < 0)


def show(value: Fraction, decimals: int, grouping: bool) -> str:
    """A value as the feed shows a price or change (`-0.10`, `114,977`); exact, no rounding."""
    number = Decimal(value.numerator) / Decimal(value.denominator)
    quantized = number.quantize(Decimal(1).scaleb(-decimals))
    return f"{quantized:,f}" if grouping else f"{quantized:f}"


def _fits(value: Fraction, decimals: int) -> bool:
    return (value * 10**decimals).denominator == 1


def _at(value: Fraction, decimals: int, rounding: str) -> Fraction:
    number = Decimal(value.numerator) / Decimal(value.denominator)
    return Fraction(number.quantize(Decimal(1).scaleb(-decimals), rounding=rounding))


# -- the arithmetic of a quote ------------------------------------------------------------------------


@dataclass
class Quote:
    """The fields of one parsed quote as shown, with their places (what a repair edits)."""

    symbol: str
    kind: str
    line: int
    column: int
    end_column: int
    texts: dict[str, str | None]
    columns: dict[str, int | None]
    direction: str | None  # the direction word as it reads (the canonical spelling) or None
    # A field's own line where it is not the quote's (a pretty-printed JSON record's members).
    lines: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Quote:
        """A quote from a row of the quote frame (see checker.frame.FRAME_COLUMNS)."""

        def text(name: str) -> str | None:
            value = row.get(name)
            return None if value is None or value != value else str(value)

        def place(name: str) -> int | None:
            value = row.get(name)
            try:
                return None if value is None or value != value else int(value)
            except (TypeError, ValueError):
                return None

        names = ("symbol", "price", "direction", "arrow", "change", "percent")
        return cls(
            symbol=text("symbol") or "",
            kind=text("kind") or "",
            line=place("line") or 0,
            column=place("column") or 0,
            end_column=place("end_column") or 0,
            texts={name: text("symbol" if name == "symbol" else f"{name}_text") for name in names},
            columns={name: place(f"{name}_col") for name in names},
            direction=text("direction"),
            lines={name: at for name in names if (at := place(f"{name}_line")) is not None},
        )


def _scaled(text: str | None) -> tuple[int, int] | None:
    """A shown number as an integer mantissa and its decimals (`-0.10` is (-10, 2)), or None."""
    if not text:
        return None
    plain = text.translate(LOOKALIKE_TABLE)
    if not _NUMBER.match(plain):
        return None
    digits = plain.lstrip("+-").replace(",", "")
    whole, _, decimals = digits.partition(".")
    mantissa = int(whole + decimals)
    return (-mantissa if plain.startswith("-") else mantissa), len(decimals)


def consistent(
    kind: KindFormat | None, price: str | None, change: str | None, percent: str | None, decimals: int = 2
) -> bool:
    """Whether change / (price - change) x 100 can give the shown percent, as far as the shown digits
    allow: exactly for a kind with exact figures, within half a unit of each shown last digit for a
    rounded one; the percent stands for every value within half a unit of its `decimals`-th decimal.
    Integer arithmetic throughout (every figure brought to one scale).
    """
    p, c, q = _scaled(price), _scaled(change), _scaled(percent)
    if kind is None or p is None or c is None or q is None:
        return False
    # Figures at 2 x 10^d, so that half a unit of each last digit is an integer too.
    d = max(p[1], c[1])
    scale = 2 * 10**d
    big_p, big_c = p[0] * (scale // 10 ** p[1]), c[0] * (scale // 10 ** c[1])
    half_p = 0 if kind.exact else 10 ** (d - p[1])
    half_c = 0 if kind.exact else 10 ** (d - c[1])
    e = max(q[1], decimals)
    q_scale = 2 * 10**e
    big_q = q[0] * (q_scale // 10 ** q[1])
    half_q = 10 ** (e - decimals)
    if (big_p - half_p) - (big_c + half_c) <= 0:
        return False
    at_least_low = at_most_high = False
    for dp in (-half_p, half_p):
        for dc in (-half_c, half_c):
            previous = (big_p + dp) - (big_c + dc)
            numerator = 100 * (big_c + dc) * q_scale
            at_least_low |= numerator >= (big_q - half_q) * previous
            at_most_high |= numerator <= (big_q + half_q) * previous
    return at_least_low and at_most_high


def _signs_agree(quote: Quote) -> int | None:
    """The move the change and the percent agree on (UP, DOWN, or FLAT when both are 0), else None."""
    c, q = read_shown(quote.texts["change"]), read_shown(quote.texts["percent"])
    if c is None or q is None:
        return None
    sc, sq = _sign(c.value), _sign(q.value)
    return sc if sc == sq else None


# -- the repairs ----------------------------------------------------------------------------------------


def repair(
    finding: Mapping[str, Any], quote: Quote, profile: Profile, close: PreviousClose | None = None
) -> Fix | None:
    """The repair of one finding on `quote`, or None when it has none; with `close`, the stock's
    previous close known exactly, which may confirm one of its candidates (see _confirmed)."""
    rule = str(finding.get("rule") or "")
    maker = _REPAIRS.get(rule)
    if maker is None:
        return None
    decided = ""
    try:
        made = maker(finding, quote, profile)
        if made is not None and close is not None:
            weighed = _confirmed(rule, finding, quote, profile, close, made)
            decided = close.describe() if weighed is not made else ""
            made = weighed
    except (ArithmeticError, ValueError, TypeError):  # figures beyond what can be shown exactly
        return None
    if made is None:
        return None
    applicability, message, edits, candidates = made
    for edit in edits:
        if _CONTROL.search(edit.text):
            return None
    shown = tuple(candidates[:MAX_CANDIDATES])
    return Fix(
        rule=rule,
        file=str(finding.get("file") or ""),
        line=int(finding.get("line") or 0),
        column=int(finding.get("column") or 0),
        applicability=applicability,
        message=message,
        edits=tuple(edits) if applicability != DISPLAY_ONLY else (),
        candidates=shown,
        candidate_count=len(candidates),
        previous_close=decided,
    )


_Made = tuple[str, str, list[Edit], list[str]] | None


def _edit(quote: Quote, name: str, text: str) -> Edit | None:
    """Replace field `name` of the quote with `text` (None when the field has no place)."""
    column, before = quote.columns.get(name), quote.texts.get(name)
    if column is None or before is None or column < 1:
        return None
    return Edit(quote.lines.get(name, quote.line), column, column + len(before) - 1, before, text)


def _with(quote: Quote, **texts: str) -> Quote:
    """The same quote with some fields' texts replaced."""
    return Quote(
        quote.symbol,
        quote.kind,
        quote.line,
        quote.column,
        quote.end_column,
        {**quote.texts, **texts},
        quote.columns,
        quote.direction,
        quote.lines,
    )


def _arith(quote: Quote, profile: Profile) -> bool:
    kind = profile.kinds.get(quote.kind)
    t = quote.texts
    return consistent(kind, t["price"], t["change"], t["percent"], profile.percent_max_decimals)


def _one(applicability: str, message: str, edit: Edit | None) -> _Made:
    return None if edit is None else (applicability, message, [edit], [])


def _arrow_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC302 and QC205: the arrow the move calls for; safe when change and percent agree on it."""
    wanted = str(finding.get("expected") or "")
    if wanted not in (ARROW_UP, ARROW_DOWN):
        return None
    move, word = _signs_agree(quote), _WORD_MOVE.get(quote.direction or "")
    fits = (move == UP and wanted == ARROW_UP) or (move in (DOWN, FLAT) and wanted == ARROW_DOWN)
    fits = fits and word == move and _arith(quote, profile)
    message = f"arrow {quote.texts['arrow']} → {wanted}"
    return _one(SAFE if fits else UNSAFE, message, _edit(quote, "arrow", wanted))


def _mojibake_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC405: the arrow the mojibake stands for, when that is the arrow the move calls for."""
    wanted = str(finding.get("expected") or "")
    move, word = _signs_agree(quote), _WORD_MOVE.get(quote.direction or "")
    agrees = (wanted == ARROW_UP and move == UP) or (wanted == ARROW_DOWN and move in (DOWN, FLAT))
    if not agrees or word != move:
        return None  # a wrong arrow as well: the arrow mismatch's repair is the one that fits
    return _one(SAFE, f"arrow {quote.texts['arrow']} → {wanted}", _edit(quote, "arrow", wanted))


def _missing_arrow_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC406: the arrow put back before the change."""
    wanted = str(finding.get("expected") or "")
    column = quote.columns.get("change")
    if wanted not in (ARROW_UP, ARROW_DOWN) or column is None or quote.columns.get("arrow") is not None:
        return None
    move, word = _signs_agree(quote), _WORD_MOVE.get(quote.direction or "")
    fits = (move == UP and wanted == ARROW_UP) or (move in (DOWN, FLAT) and wanted == ARROW_DOWN)
    fits = fits and word == move and _arith(quote, profile)
    edit = Edit(quote.lines.get("change", quote.line), column, column - 1, "", wanted + " ")
    return (SAFE if fits else UNSAFE, f"arrow {wanted} put back", [edit], [])


def _direction_spelling_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC204: a direction word spelt in another case (`decreased by`) written as the feed spells it."""
    wanted = str(finding.get("expected") or "")
    shown = quote.texts.get("direction") or ""
    if wanted not in DIRECTION_WORDS or " ".join(shown.split()).lower() != wanted.lower():
        return None
    if " ".join(shown.split()) != shown and shown.lower() != wanted.lower():
        return None
    return _one(SAFE, f"direction {shown} → {wanted}", _edit(quote, "direction", wanted))


def _sign_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC301: the one field whose sign disagrees with the others."""
    name = str(finding.get("field") or "")
    wanted = str(finding.get("expected") or "")
    if name == "direction":
        word, _, arrow = wanted.partition(" ")
        for spelt in DIRECTION_WORDS:
            if wanted == spelt or wanted.startswith(spelt + " "):
                word, arrow = spelt, wanted[len(spelt) :].strip()
                break
        else:
            return None
        move = _signs_agree(quote)
        fits = move is not None and _WORD_MOVE[word] == move and _arith(quote, profile)
        edits = [_edit(quote, "direction", word)]
        if arrow:
            edits.append(_edit(quote, "arrow", arrow))
        if any(e is None for e in edits):
            return None
        message = f"direction {quote.texts['direction']} → {word}" + (f" {arrow}" if arrow else "")
        return (SAFE if fits else UNSAFE, message, [e for e in edits if e is not None], [])
    if name not in ("change", "percent"):
        return None
    shown = quote.texts.get(name) or ""
    value = read_shown(wanted)
    if value is None or read_shown(shown) is None:
        return None  # `> 0`, `< 0`, a range: no one figure to show
    repaired = _with(quote, **{name: wanted})
    if not _arith(repaired, profile):
        return None
    move = _WORD_MOVE.get(quote.direction or "")
    if move is None or _signs_agree(repaired) != move:
        return None
    flipped = read_shown(shown)
    sign_only = (
        flipped is not None and flipped.value == -value.value and wanted.lstrip("-") == shown.lstrip("+-")
    )
    # The percent follows from the price and the change: its sign alone put right is the only
    # repair. A change's sign is a figure of its own: flipping it is a judgement.
    applicability = SAFE if (name == "percent" and sign_only) else UNSAFE
    return _one(applicability, f"{name} {shown} → {wanted}", _edit(quote, name, wanted))


def _percent_floor_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC203: a percent of -100 or less on a quote that rose, whose price and change give that
    percent with no sign: the sign alone put right, as for QC301 (nothing else is certain)."""
    if str(finding.get("field") or "") != "percent":
        return None
    made = _sign_repair(finding, quote, profile)
    return made if made is not None and made[0] == SAFE else None


def _price_candidates(quote: Quote, kind: KindFormat, profile: Profile) -> Sequence[Fraction]:
    """Stock prices at the kind's tick, other than the shown one, that would give the shown percent."""
    c, q = read_shown(quote.texts["change"]), read_shown(quote.texts["percent"])
    p = read_shown(quote.texts["price"])
    if c is None or q is None or p is None or c.value == 0:
        return []
    half = Fraction(1, 2 * 10**profile.percent_max_decimals)
    low, high = (q.value - half) / 100, (q.value + half) / 100
    if low <= 0 <= high or _sign(low) != _sign(c.value):
        return []
    # 100 c / (p - c) within [low, high] x 100: p - c between c / high and c / low.
    bounds = sorted((c.value / high + c.value, c.value / low + c.value))
    return _ticks(bounds[0], bounds[1], kind.price.decimals, p.value, positive=True)


def _change_candidates(quote: Quote, kind: KindFormat, profile: Profile) -> Sequence[Fraction]:
    """Stock changes at the kind's tick, other than the shown one, that would give the shown percent."""
    c, q = read_shown(quote.texts["change"]), read_shown(quote.texts["percent"])
    p = read_shown(quote.texts["price"])
    if c is None or q is None or p is None:
        return []
    half = Fraction(1, 2 * 10**profile.percent_max_decimals)
    low, high = (q.value - half) / 100, (q.value + half) / 100
    if low <= -1:
        return []
    # r = c / (p - c) rises with c: c = r p / (1 + r).
    bounds = (low * p.value / (1 + low), high * p.value / (1 + high))
    return _ticks(bounds[0], bounds[1], kind.change.decimals, c.value, positive=False)


def _ticks(
    low: Fraction, high: Fraction, decimals: tuple[int, ...], shown: Fraction, positive: bool
) -> Sequence[Fraction]:
    places = max(decimals) if decimals else 2
    unit = Fraction(1, 10**places)
    first = -((-low) // unit)  # ceil
    last = high // unit
    if last - first > 10_000:  # a percent of 0 admits almost any figure: too many to list
        return [Fraction(0)] * 10_001
    if positive:
        first = max(first, 1)  # only figures above 0
    on_tick = shown / unit
    return _Ticks(int(first), int(last), places, int(on_tick) if on_tick.denominator == 1 else None)


class _Ticks(Sequence[Fraction]):
    """The figures at the ticks `first` to `last` (in units of 10**-places) but the shown one
    (`skip`), made only when read: a repair lists the first few of a few hundred, and counts them."""

    def __init__(self, first: int, last: int, places: int, skip: int | None) -> None:
        self.first, self.last, self.places = first, last, places
        self.skip = skip if skip is not None and first <= skip <= last else None

    def __len__(self) -> int:
        return max(0, self.last - self.first + 1) - (self.skip is not None)

    def _at(self, index: int) -> Fraction:
        step = self.first + index
        if self.skip is not None and step >= self.skip:
            step += 1
        return Fraction(step, 10**self.places)

    @overload
    def __getitem__(self, index: int) -> Fraction: ...

    @overload
    def __getitem__(self, index: slice) -> list[Fraction]: ...

    def __getitem__(self, index: int | slice) -> Fraction | list[Fraction]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(len(self))[index]]
        return self._at(range(len(self))[index])


def _percent_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC303: the percent recomputed, or any of the prices and changes that would explain it."""
    kind = profile.kinds.get(quote.kind)
    wanted = str(finding.get("expected") or "")
    if kind is None or not wanted:
        return None
    shown = quote.texts["percent"] or ""
    if not kind.exact:
        low, _, high = wanted.partition(" to ")
        percents = [low] if not high else _percent_range(low, high)
        if not percents:
            return None
        candidates = [f"percent {p}%" for p in percents]
        return (DISPLAY_ONLY, f"percent {shown}% does not follow from the rounded figures", [], candidates)
    if read_shown(wanted) is None:
        return None
    prices = _price_candidates(quote, kind, profile)
    changes = _change_candidates(quote, kind, profile)
    decimals_p = kind.price.decimals[0] if kind.price.decimals else 2
    decimals_c = kind.change.decimals[0] if kind.change.decimals else 2
    candidates = [f"percent {wanted}%"]
    candidates += [f"price {show(v, decimals_p, False)}" for v in prices[:MAX_CANDIDATES]]
    candidates += [f"change {show(v, decimals_c, False)}" for v in changes[:MAX_CANDIDATES]]
    total = 1 + len(prices) + len(changes)
    if total == 1:
        return _one(UNSAFE, f"percent {shown}% → {wanted}% (recomputed)", _edit(quote, "percent", wanted))
    # Count every candidate, list only the first few.
    candidates += [""] * (total - len(candidates))
    message = (
        f"percent {shown}% could be put right by the percent, {len(prices)} prices or {len(changes)} changes"
    )
    return (DISPLAY_ONLY, message, [], candidates)


def _percent_range(low: str, high: str) -> list[str]:
    a, b = read_shown(low), read_shown(high)
    if a is None or b is None or b.value < a.value:
        return []
    steps = int((b.value - a.value) * 100)
    if steps > 1000:
        return []
    return [format_percent(a.value + Fraction(i, 100)) for i in range(steps + 1)]


def _number_texts(value: Fraction, spec: NumberFormat, grouped: bool) -> list[str]:
    """Every way `spec` allows `value` to be shown exactly (each allowed decimals, each grouping)."""
    groupings = {"required": (True,), "forbidden": (False,)}.get(spec.grouping, (grouped,))
    out = []
    for decimals in spec.decimals:
        if _fits(value, decimals):
            for grouping in groupings:
                out.append(show(value, decimals, grouping))
    return out


def _number_format_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC401 and QC402: a price or change written the way its kind is written."""
    name = str(finding.get("field") or "")
    kind = profile.kinds.get(quote.kind)
    shown_text = quote.texts.get(name) or ""
    shown = read_shown(shown_text)
    if kind is None or shown is None or name not in ("price", "change") or not shown_text.isascii():
        return None
    if name == "price" and shown.value <= 0:
        return None
    spec: NumberFormat = getattr(kind, name)
    # Optional grouping keeps the page's choice when it was Western; a wrong one could be either.
    grouped_choices = [shown.grouped] if (shown.western or not shown.grouped) else [True, False]
    same_value = [t for g in grouped_choices for t in _number_texts(shown.value, spec, g)]
    same_value = list(dict.fromkeys(same_value))
    if len(same_value) == 1:
        repaired = _with(quote, **{name: same_value[0]})
        fits = _arith(repaired, profile)
        message = f"{name} {shown_text} → {same_value[0]}"
        return _one(SAFE if fits else UNSAFE, message, _edit(quote, name, same_value[0]))
    if len(same_value) > 1:
        return (DISPLAY_ONLY, f"{name} {shown_text} could be shown as any of these", [], same_value)
    # More digits than the kind shows: the figure itself is off; the nearest figures that fit.
    values: list[str] = []
    for decimals in spec.decimals:
        for rounding in (ROUND_DOWN, ROUND_UP):
            value = _at(shown.value, decimals, rounding)
            for text in _number_texts(value, NumberFormat((decimals,), spec.grouping), shown.grouped):
                if _arith(_with(quote, **{name: text}), profile):
                    values.append(text)
    values = list(dict.fromkeys(values))
    if len(values) == 1:
        return _one(UNSAFE, f"{name} {shown_text} → {values[0]}", _edit(quote, name, values[0]))
    if values:
        return (DISPLAY_ONLY, f"{name} {shown_text} could be any of these", [], values)
    return None


def _percent_format_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC403: a percent rounded to 2 decimals with trailing zeros trimmed."""
    shown_text = quote.texts.get("percent") or ""
    shown = read_shown(shown_text)
    if shown is None or not shown_text.isascii():
        return None
    decimals = profile.percent_max_decimals
    if _fits(shown.value, decimals):
        wanted = format_percent(shown.value, decimals)
        fits = _arith(_with(quote, percent=wanted), profile)
        return _one(
            SAFE if fits else UNSAFE, f"percent {shown_text}% → {wanted}%", _edit(quote, "percent", wanted)
        )
    # Extra digits: rounded or cut, whichever the arithmetic admits (the value is then right).
    values = []
    for rounding in (ROUND_HALF_UP, ROUND_DOWN):
        text = format_percent(_at(shown.value, decimals, rounding), decimals)
        if _arith(_with(quote, percent=text), profile):
            values.append(text)
    values = list(dict.fromkeys(values))
    if len(values) == 1:
        return _one(SAFE, f"percent {shown_text}% → {values[0]}%", _edit(quote, "percent", values[0]))
    if values:
        return (DISPLAY_ONLY, f"percent {shown_text}% could be any of these", [], [f"{v}" for v in values])
    return None


def _lookalike_repair(finding: Mapping[str, Any], quote: Quote, profile: Profile) -> _Made:
    """QC404: look-alike characters as the ASCII ones the feed uses."""
    name = str(finding.get("field") or "")
    wanted = str(finding.get("expected") or "")
    shown = quote.texts.get(name) or ""
    if name not in ("price", "change", "percent") or not wanted.isascii() or read_shown(wanted) is None:
        return None
    spaced = any(ch in "\u00a0\u202f\u2009" for ch in shown)
    kind = profile.kinds.get(quote.kind)
    grouping = getattr(kind, name).grouping if (kind is not None and name != "percent") else "forbidden"
    if spaced and grouping == "optional":
        plain = wanted.replace(",", "")
        return (
            DISPLAY_ONLY,
            f"{name} {shown}: the spaces could stand for commas or for nothing",
            [],
            [wanted, plain],
        )
    return _one(SAFE, f"{name} {shown} → {wanted}", _edit(quote, name, wanted))


def _confirmed(
    rule: str, finding: Mapping[str, Any], quote: Quote, profile: Profile, close: PreviousClose, made: _Made
) -> _Made:
    """A repair weighed against the previous close: for a stock, price - change is the previous
    close exactly, so of the figures a repair could change, the one that makes it so is the repair.

    A stock percent's repair by a price or a change (QC303) and a change's sign (QC301) become safe
    when exactly one candidate gives that previous close; a percent recomputed when the close
    confirms price and change is the source's own error and stays unsafe; when no candidate gives
    the close, nothing is applied (display-only, saying why). Any other repair is left as it was."""
    kind = profile.kinds.get(quote.kind)
    closed = read_shown(close.price)
    p, c = read_shown(quote.texts["price"]), read_shown(quote.texts["change"])
    if made is None or kind is None or not kind.exact or closed is None or p is None or c is None:
        return made
    applicability, message, edits, candidates = made
    x = closed.value
    where = close.describe()
    if rule == "QC301" and str(finding.get("field") or "") == "change" and applicability == UNSAFE:
        wanted = edits[0].text if len(edits) == 1 else ""
        flipped = read_shown(wanted)
        if flipped is not None and p.value - flipped.value == x:
            return (SAFE, f"{message}, confirmed: price - change is the {where}", edits, [])
        why = "the change as shown" if p.value - c.value == x else "neither sign of the change"
        return (DISPLAY_ONLY, f"{message} not made: the {where} confirms {why}", [], [f"change {wanted}"])
    if rule != "QC303" or applicability not in (UNSAFE, DISPLAY_ONLY):
        return made
    q = quote.texts["percent"]
    decimals_p = kind.price.decimals[0] if kind.price.decimals else 2
    decimals_c = kind.change.decimals[0] if kind.change.decimals else 2
    agreeing: list[tuple[str, str]] = []  # (field, text)
    wanted = str(finding.get("expected") or "")
    # (the rule's percent may assume the other sign of the change: it must fit the change as shown)
    fits = read_shown(wanted) is not None
    fits = fits and consistent(
        kind, quote.texts["price"], quote.texts["change"], wanted, profile.percent_max_decimals
    )
    if p.value - c.value == x and fits:
        agreeing.append(("percent", wanted))
    price, change = x + c.value, p.value - x
    if price != p.value and price > 0 and _fits(price, decimals_p):
        text = show(price, decimals_p, False)
        if consistent(kind, text, quote.texts["change"], q, profile.percent_max_decimals):
            agreeing.append(("price", text))
    if change != c.value and _fits(change, decimals_c):
        text = show(change, decimals_c, False)
        if consistent(kind, quote.texts["price"], text, q, profile.percent_max_decimals):
            agreeing.append(("change", text))
    shown = quote.texts["percent"] or ""
    if len(agreeing) == 1:
        name, text = agreeing[0]
        before = quote.texts[name] or ""
        edit = _edit(quote, name, text)
        if edit is None:
            return made
        suffix = "%" if name == "percent" else ""
        fixed = f"{name} {before}{suffix} → {text}{suffix}, confirmed: price - change is the {where}"
        if name == "percent":
            # The close confirms the price and the change, so the percent is the source's own
            # misprint: a record of what the source published, changed only on request.
            return (UNSAFE, f"{fixed} (the source's percent: changed only with --unsafe-fixes)", [edit], [])
        return (SAFE, fixed, [edit], [])
    if not agreeing:
        reason = f"percent {shown}% not repaired: the {where} agrees with none of the candidates"
        return (DISPLAY_ONLY, reason, [], candidates or [f"percent {wanted}%"])
    return made


_REPAIRS = {
    "QC203": _percent_floor_repair,
    "QC204": _direction_spelling_repair,
    "QC205": _arrow_repair,
    "QC301": _sign_repair,
    "QC302": _arrow_repair,
    "QC303": _percent_repair,
    "QC401": _number_format_repair,
    "QC402": _number_format_repair,
    "QC403": _percent_format_repair,
    "QC404": _lookalike_repair,
    "QC405": _mojibake_repair,
    "QC406": _missing_arrow_repair,
}
# The rules that may have a repair.
FIXABLE_RULES = frozenset(_REPAIRS)


def fixes_for(
    findings: Iterable[Mapping[str, Any]],
    quotes: Iterable[Mapping[str, Any]],
    profile: Profile,
    closes: Mapping[str, Mapping[str, PreviousClose]] | None = None,
) -> list[Fix]:
    """The repairs of the findings that have one, each matched to its quote by file and line (the
    quote whose span holds the finding's column); `closes`, by file and symbol, the previous
    closes known exactly (see _confirmed)."""
    by_line: dict[tuple[str, int], list[Quote]] = {}
    for row in quotes:
        quote = Quote.from_row(row)
        by_line.setdefault((str(row.get("file") or ""), quote.line), []).append(quote)
    out = []
    for finding in findings:
        if finding.get("rule") not in FIXABLE_RULES:
            continue
        try:
            line, column = int(finding.get("line") or 0), int(finding.get("column") or 0)
        except (TypeError, ValueError):
            continue
        for quote in by_line.get((str(finding.get("file") or ""), line), []):
            if quote.column <= column <= max(quote.end_column, quote.column):
                file_closes = closes.get(str(finding.get("file") or "")) if closes else None
                close = file_closes.get(quote.symbol) if file_closes else None
                made = repair(finding, quote, profile, close)
                if made is not None:
                    out.append(made)
                break
    return out


@dataclass
class Chosen:
    """The fixes picked to apply together: no two edits overlap or touch."""

    fixes: list[Fix] = field(default_factory=list)
    deferred: list[Fix] = field(default_factory=list)


_ORDER = {SAFE: 0, UNSAFE: 1, DISPLAY_ONLY: 2}


def choose(fixes: Iterable[Fix], allowed: frozenset[str]) -> Chosen:
    """The fixes of the `allowed` applicabilities that can be applied at once: in line and column
    order, a fix whose edits overlap or touch an edit already chosen waits for the next pass."""
    chosen = Chosen()
    taken: dict[int, list[tuple[int, int]]] = {}
    candidates = sorted(
        (f for f in fixes if f.applicability in allowed and f.edits),
        key=lambda f: (f.line, f.column, _ORDER[f.applicability], f.rule),
    )
    for fix in candidates:
        spans = [(e.line, e.column, e.end_column) for e in fix.edits]
        clash = any(
            start <= other_end + 1 and other_start <= end + 1
            for line, start, end in spans
            for other_start, other_end in taken.get(line, [])
        )
        if clash:
            chosen.deferred.append(fix)
            continue
        for line, start, end in spans:
            taken.setdefault(line, []).append((start, end))
        chosen.fixes.append(fix)
    return chosen


def apply_to_line(text: str, edits: Iterable[Edit]) -> str | None:
    """`text` with the edits made (right to left, so earlier columns stay put); None when a field no
    longer stands verbatim where its edit says (the text is then left alone)."""
    out = text
    for edit in sorted(edits, key=lambda e: e.column, reverse=True):
        start, stop = edit.column - 1, edit.end_column
        if start < 0 or stop > len(out) or out[start:stop] != edit.before:
            return None
        out = out[:start] + edit.text + out[stop:]
    return out
