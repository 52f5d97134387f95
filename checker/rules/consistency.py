"""Cross-field rules: signs, arrows, the percent arithmetic, previous price, repeated symbols.

Each rule is one vectorised function over the whole frame that yields at most one finding per
row; pandera's wide checks would yield one failure per column of every failing row.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.arrays import as_large_text, as_pa_array
from checker.findings import Severity, empty_findings
from checker.numeric import Numbers, PercentCheck, aligned, format_percent, percent_check
from checker.rules.registry import CheckContext, PageKeys, Rule, as_mask, declare, file_codes
from checker.vocabulary import (
    ARROW_DOWN,
    ARROW_UP,
    DECREASED,
    DIRECTION_WORDS,
    INCREASED,
    NO_CHANGE,
    place_column,
    text_column,
)

UP, DOWN, FLAT = 1, -1, 0
_ABSENT = 9  # a signal that is missing or unreadable: it does not vote


def price_not_positive(ctx: CheckContext) -> np.ndarray:
    """Rows whose price reads as zero or less (what QC202 reports).

    Not a zero cut short of its kind's decimals (`0.0` for `0.01`, QC401's finding): that price
    may well have been above zero.
    """
    price = ctx.numbers["price"]
    value = np.nan_to_num(price.value, nan=1.0)
    cut_zero = (value == 0) & (loose_decimals(ctx, "price") >= 0) & ctx.runs("QC401")
    return price.readable & (value <= 0) & ~cut_zero


def percent_out_of_range(ctx: CheckContext) -> np.ndarray:
    """Rows whose percent reads as -100 or less (what QC203 reports)."""
    percent = ctx.numbers["percent"]
    return percent.readable & (np.nan_to_num(percent.value, nan=0.0) <= -100)


def _shown_previous_not_positive(ctx: CheckContext) -> np.ndarray:
    """Rows whose shown price minus shown change is zero or less (readable figures only)."""
    price, change = ctx.numbers["price"], ctx.numbers["change"]
    p, c, _scale = aligned(price, change, headroom=2)
    return price.readable & change.readable & ((p - c) <= 0).astype(bool)


def _signals(ctx: CheckContext) -> dict[str, np.ndarray]:
    """The direction each field of each row points to: +1, -1, 0, or _ABSENT (computed once)."""
    if "signals" in ctx.shared:
        return ctx.shared["signals"]
    numbers = ctx.numbers
    word = np.select(
        [
            ctx.equals("direction", INCREASED),
            ctx.equals("direction", DECREASED),
            ctx.equals("direction", NO_CHANGE),
        ],
        [UP, DOWN, FLAT],
        _ABSENT,
    )
    up, down = ctx.equals("arrow", ARROW_UP), ctx.equals("arrow", ARROW_DOWN)
    # `No Change` is shown with `▼` in this feed: there the arrow means "no move".
    arrow = np.select([up, down & (word == FLAT), down], [UP, FLAT, DOWN], _ABSENT)
    change = np.where(numbers["change"].readable, np.sign(numbers["change"].mantissa), _ABSENT)
    percent = np.where(numbers["percent"].readable, np.sign(numbers["percent"].mantissa), _ABSENT)
    # A rounded change shown as 0 (an index that moved less than half its last shown digit)
    # may still have risen or fallen, so beside a rise or a fall it abstains.
    moved = (word == UP) | (word == DOWN)
    rounded = ~ctx.exact | (loose_decimals(ctx, "change") >= 0)  # a stock change cut to `0.0` too
    change = np.where((change == FLAT) & rounded & moved, _ABSENT, change)
    # A percent shown as 0 on a small move is rounding, not a contradiction: the percent
    # arithmetic rule judges it, this one lets it abstain.
    percent = np.where((percent == FLAT) & (change != FLAT), _ABSENT, percent)
    # A percent of -100 or less is QC203's finding, so its sign is no separate fault; beside a
    # previous price of zero or less (QC304's finding) no percent follows from the figures at all.
    explained = percent_out_of_range(ctx) & ctx.runs("QC203")
    if ctx.runs("QC304"):
        explained |= _shown_previous_not_positive(ctx) & ~price_not_positive(ctx)
    percent = np.where(explained, _ABSENT, percent)
    signals = {"direction": word, "arrow": arrow, "change": change, "percent": percent}
    ctx.shared["signals"] = signals
    ctx.shared["truth"] = consensus(signals)
    return signals


def _truth(ctx: CheckContext) -> np.ndarray:
    """The direction each row's fields agree on (see `consensus`), computed once."""
    _signals(ctx)
    return ctx.shared["truth"]


def consensus(signals: dict[str, np.ndarray]) -> np.ndarray:
    """The direction most fields agree on; ties go to the sign of the change, then the word."""
    votes = np.stack([signals[k] for k in _VOTERS])
    counts = np.stack([(votes == v).sum(axis=0) for v in (UP, DOWN, FLAT)])
    best = counts.max(axis=0)
    truth = np.full(votes.shape[1], _ABSENT)
    for preferred in (signals["direction"], signals["change"]):  # later wins: change first
        tied = (preferred != _ABSENT) & (np.take_along_axis(counts, _vote_index(preferred), 0)[0] == best)
        truth = np.where(tied, preferred, truth)
    undecided = truth == _ABSENT
    winner = np.array([UP, DOWN, FLAT])[counts.argmax(axis=0)]
    return np.where(undecided & (best > 0), winner, truth)


def _vote_index(signal: np.ndarray) -> np.ndarray:
    index = np.select([signal == UP, signal == DOWN], [0, 1], 2)
    return index[np.newaxis, :]


# The fields that say which way a quote moved, and those of them with a sign QC301 can blame.
_VOTERS = ("direction", "arrow", "change", "percent")
_SIGNED_FIELDS = ("direction", "change", "percent")


def blamed_field(ctx: CheckContext) -> np.ndarray:
    """For each row, the one field QC301 blames (`direction`, `change`, `percent`) or ''."""
    if "blamed" not in ctx.shared:
        signals, truth = _signals(ctx), _truth(ctx)
        wrong = [(signals[n] != _ABSENT) & (truth != _ABSENT) & (signals[n] != truth) for n in _SIGNED_FIELDS]
        ctx.shared["blamed"] = np.select(wrong, list(_SIGNED_FIELDS), "").astype(object)
    return ctx.shared["blamed"]


def _arrow_goes_with_word(ctx: CheckContext) -> np.ndarray:
    """Rows whose arrow is the one their direction word is shown with (`▼` for `No Change`)."""
    word = _signals(ctx)["direction"]
    up, down = ctx.equals("arrow", ARROW_UP), ctx.equals("arrow", ARROW_DOWN)
    return (up & (word == UP)) | (down & ((word == DOWN) | (word == FLAT)))


def corrected_numbers(ctx: CheckContext) -> dict[str, Numbers]:
    """The change and percent with the sign QC301 finds wrong put right, computed once.

    The arithmetic rules check these, so that a change missing its minus is one finding (the sign
    mismatch), not also a percent mismatch computed from the wrong sign. A blamed figure whose
    sign alone cannot be put right (a move shown as 0, or a move on a quote that did not move) is
    unreadable here: the arithmetic abstains on it.
    """
    if "corrected" in ctx.shared:
        return ctx.shared["corrected"]
    out = {"change": ctx.numbers["change"], "percent": ctx.numbers["percent"]}
    if ctx.runs("QC301"):
        blamed, truth = blamed_field(ctx), _truth(ctx)
        for name in ("change", "percent"):
            rows = blamed == name
            if not rows.any():
                continue
            numbers = out[name]
            fixable = rows & (truth != FLAT) & (numbers.mantissa != 0)
            mantissa = np.where(
                fixable, np.abs(numbers.mantissa) * np.where(truth == UP, 1, -1), numbers.mantissa
            )
            readable = numbers.readable & ~(rows & ~fixable)
            value = np.where(readable, mantissa / np.power(10.0, numbers.decimals), np.nan)
            out[name] = dataclasses.replace(numbers, mantissa=mantissa, readable=readable, value=value)
    ctx.shared["corrected"] = out
    return out


def flip_sign(text: str) -> str:
    """A shown number with the other sign (`0.10` -> `-0.10`)."""
    if text[:1] in ("-", "\u2212"):
        return text[1:]
    return "-" + (text[1:] if text[:1] == "+" else text)


def _zero_like(text: str) -> str:
    """0 shown with as many decimals as `text` (`0.05` -> `0.00`, `4.1` -> `0`)."""
    decimals = len(text.partition(".")[2])
    return "0." + "0" * decimals if decimals else "0"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_MOVES = {UP: "rose", DOWN: "fell", FLAT: "did not move"}
_SIGN_WORDS = {UP: "is positive", DOWN: "is negative", FLAT: "is 0"}
_DIRECTION_WORDS = {UP: INCREASED, DOWN: DECREASED, FLAT: NO_CHANGE}
_ARROWS = {UP: ARROW_UP, DOWN: ARROW_DOWN, FLAT: ARROW_DOWN}  # `No Change` is shown with `▼`


def arrows_wanted(ctx: CheckContext, mask: np.ndarray) -> np.ndarray:
    """For the rows of `mask`, the arrow the quote's agreed move calls for (`▼` for no move), or ''."""
    truth = _truth(ctx)[np.asarray(mask, dtype=bool)]
    moves = [truth == UP, (truth == DOWN) | (truth == FLAT)]
    return np.select(moves, [ARROW_UP, ARROW_DOWN], "").astype(object)


def directions_wanted(ctx: CheckContext, mask: np.ndarray) -> np.ndarray:
    """For the rows of `mask`, the direction word the quote's agreed move calls for, or ''."""
    truth = _truth(ctx)[np.asarray(mask, dtype=bool)]
    return np.select(
        [truth == UP, truth == DOWN, truth == FLAT], [_DIRECTION_WORDS[m] for m in (UP, DOWN, FLAT)], ""
    ).astype(object)


# Messages are built a column at a time, by Arrow: a page with a million faulty quotes has a
# million messages. Rows are grouped by what their message says (the agreeing fields, the move),
# each group's texts joined element-wise from the rows' own text columns.
_BIT = {name: 1 << k for k, name in enumerate(_VOTERS)}


def _column_texts(ctx: CheckContext, column: str, rows: np.ndarray) -> pa.Array:
    """The rows' values of a text column as Arrow text, `None` where one is missing (as `str`)."""
    cache = ctx.shared.setdefault("arrow_texts", {})
    values = cache.get(column)
    if values is None:
        values = cache[column] = as_large_text(ctx.frame[column])
    return pc.fill_null(values.take(pa.array(rows, pa.int64())), pa.scalar("None", pa.large_string()))


def _texts_joined(pieces: list[pa.Array | str], size: int) -> pa.Array:
    """Arrow texts (of `size` rows) and constant strings joined element-wise."""
    args: list[pa.Array | pa.Scalar] = [
        p if isinstance(p, pa.Array) else pa.scalar(p, pa.large_string()) for p in pieces
    ]
    if not any(isinstance(p, pa.Array) for p in args):
        args.insert(0, pa.repeat(pa.scalar("", pa.large_string()), size))
    # (the stubs type a list of arrays and scalars mixed as neither)
    return cast(pa.Array, pc.binary_join_element_wise(*args, _NOTHING))  # type: ignore[type-var]


_NOTHING = pa.scalar("", pa.large_string())


def _grouped(
    keys: np.ndarray, build: Callable[[np.ndarray, int], list[pa.Array]], width: int
) -> list[pa.Array]:
    """`width` text columns built a group of equal `keys` at a time (`build(positions, key)`, one
    array per column for the group's positions), put back in the order of `keys`."""
    if not len(keys):
        return [pa.array([], pa.large_string()) for _ in range(width)]
    order = np.argsort(keys, kind="stable")
    cuts = np.flatnonzero(np.diff(keys[order])) + 1
    parts = [build(group, int(keys[group[0]])) for group in np.split(order, cuts)]
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.arange(len(order))
    return [
        pa.concat_arrays([part[k].cast(pa.large_string()) for part in parts]).take(inverse)
        for k in range(width)
    ]


def _shown_texts(ctx: CheckContext, rows: np.ndarray, name: str) -> pa.Array:
    """How a field reads in a message: `Decreased By`, `▼`, `change -0.10`, `percent -0.95%`."""
    if name in ("direction", "arrow"):
        return _column_texts(ctx, text_column(name), rows)
    if name == "change":
        return _texts_joined(["change ", _column_texts(ctx, "change_text", rows)], len(rows))
    return _texts_joined(["percent ", _column_texts(ctx, "percent_text", rows), "%"], len(rows))


def _agreement(ctx: CheckContext) -> np.ndarray:
    """For each row, which of _VOTERS agree with the row's truth: bit k for _VOTERS[k]."""
    if "agreement" not in ctx.shared:
        signals, truth = _signals(ctx), _truth(ctx)
        bits = np.zeros(len(truth), dtype=np.int64)
        for name in _VOTERS:
            bits |= (signals[name] == truth).astype(np.int64) * _BIT[name]
        ctx.shared["agreement"] = bits
    return ctx.shared["agreement"]


def _evidence(ctx: CheckContext, rows: np.ndarray, leave_out: np.ndarray) -> pa.Array:
    """`Decreased By, ▼ and percent -0.95% say the quote fell` for each of `rows`: the fields that
    agree on the row's truth, but those whose bits (_BIT) are in the row's `leave_out`."""
    bits = _agreement(ctx)[rows] & ~leave_out
    moves = _truth(ctx)[rows]
    keys = bits * 4 + (moves + 1)  # a move is -1, 0 or 1

    def build(group: np.ndarray, key: int) -> list[pa.Array]:
        agree, move = key // 4, key % 4 - 1
        names = [name for name in _VOTERS if agree & _BIT[name]]
        pieces: list[pa.Array | str] = []
        for k, name in enumerate(names):
            if k:
                pieces.append(" and " if k == len(names) - 1 else ", ")
            pieces.append(_shown_texts(ctx, rows[group], name))
        verb = "says" if len(names) == 1 else "say"
        pieces.append(f" {verb} the quote {_MOVES[move]}")
        return [_texts_joined(pieces, len(group))]

    return _grouped(keys, build, 1)[0]


def _flipped(texts: pa.Array) -> pa.Array:
    """flip_sign of each of `texts`, by Arrow."""
    negative = pc.or_(pc.starts_with(texts, "-"), pc.starts_with(texts, "\u2212"))
    rest = pc.utf8_slice_codeunits(texts, 1)
    unsigned = pc.if_else(pc.starts_with(texts, "+"), rest, texts)
    return pc.if_else(negative, rest, _texts_joined(["-", unsigned], len(texts)))


@declare(
    code="QC301",
    name="sign-mismatch",
    severity=Severity.ERROR,
    summary="Direction word, sign of the change and sign of the percent disagree.",
    description=(
        "`Increased By` goes with a positive change and percent, `Decreased By` with negative ones, and `No"
        " Change` with a change of 0 and a percent of 0. The one field that disagrees with the others is"
        " named, and the figure it should show is expected (the value with the other sign, or the direction"
        " word with its arrow). The percent arithmetic is then checked with the sign put right, so a change"
        " missing its minus is this finding only. A percent shown as 0 on a small move is left to the"
        " percent arithmetic, and so is an index change shown as 0 on a rise or fall smaller than its"
        " rounding."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    failing="BOP 10.39 Decreased By ▼ 0.10 (-0.95%)",
    fields=_SIGNED_FIELDS,
)
def sign_mismatch(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per row whose direction word, change sign and percent sign disagree."""
    blamed = blamed_field(ctx)
    mask = blamed != ""
    if not mask.any():
        return empty_findings()
    _frame, truth = ctx.frame, _truth(ctx)
    signals = _signals(ctx)
    with_arrow = _arrow_goes_with_word(ctx)
    # A percent whose value is wrong besides its sign is still one fault of one field: this
    # finding expects the percent the figures give, and the percent arithmetic abstains on it.
    check = _percent(ctx)
    still_wrong = (blamed == "percent") & check.checked & ~check.consistent
    percents, reasons = expected_percents(ctx, still_wrong)
    arithmetic = dict(
        zip(np.flatnonzero(still_wrong).tolist(), zip(percents, reasons, strict=True), strict=True)
    )
    rows = np.flatnonzero(mask)
    names = blamed[rows]
    moves = truth[rows]
    arrow_too = with_arrow[rows] & (names == "direction")
    # The arrow shown with a wrong direction word is part of the same fault: one finding for both.
    leave_out = np.select(
        [arrow_too, names == "direction", names == "change"],
        [_BIT["direction"] | _BIT["arrow"], _BIT["direction"], _BIT["change"]],
        _BIT["percent"],
    )
    evidence = _evidence(ctx, rows, leave_out)
    field_code = np.select([names == "direction", names == "change"], [0, 1], 2)
    own_signal = np.select(
        [names == "change", names == "percent"], [signals["change"][rows], signals["percent"][rows]], 0
    )
    keys = ((field_code * 2 + arrow_too) * 3 + (moves + 1)) * 3 + (own_signal + 1)

    def build(group: np.ndarray, key: int) -> list[pa.Array]:
        signal, key = key % 3 - 1, key // 3
        move, key = key % 3 - 1, key // 3
        with_its_arrow, code = bool(key % 2), key // 2
        at = rows[group]
        said = evidence.take(pa.array(group))
        if code == 0:  # the direction word
            shown = _column_texts(ctx, "direction_text", at)
            want = _DIRECTION_WORDS[move]
            if with_its_arrow:
                shown = _texts_joined([shown, " ", _column_texts(ctx, "arrow_text", at)], len(at))
                want += " " + _ARROWS[move]
            message = _texts_joined(["direction ", shown, " but ", said], len(at))
            return [shown, _texts_joined([want], len(at)), message]
        name = "change" if code == 1 else "percent"
        shown = _column_texts(ctx, text_column(name), at)
        if move == FLAT:  # a percent of 0 is shown as `0`, a change with its decimals
            if name == "percent":
                wanted = _texts_joined(["0"], len(at))
            else:
                wanted = pa.array([_zero_like(str(t)) for t in shown.to_pylist()], pa.large_string())
        elif signal == FLAT:
            wanted = _texts_joined(["> 0" if move == UP else "< 0"], len(at))
        else:
            wanted = _flipped(shown)
        percent_sign = "%" if name == "percent" else ""
        message = _texts_joined(
            [f"{name} ", shown, f"{percent_sign} {_SIGN_WORDS[signal]} but ", said], len(at)
        )
        return [shown, wanted, message]

    observed, expected, message = _grouped(keys, build, 3)
    if arithmetic:  # the right percent, and why, where the arithmetic gives one
        fixed = [(at, p, r) for at, (p, r) in arithmetic.items() if p]
        if fixed:
            where = np.searchsorted(rows, np.array([f[0] for f in fixed], dtype=np.int64))
            replaced = np.zeros(len(rows), dtype=bool)
            replaced[where] = True
            order = np.argsort(where)
            right = pa.array([fixed[k][1] for k in order], pa.large_string())
            why = pa.array([fixed[k][2] for k in order], pa.large_string())
            taken = message.filter(pa.array(replaced))
            expected = pc.replace_with_mask(expected, pa.array(replaced), right)
            longer = _texts_joined([taken, ", and ", why], len(taken))
            message = pc.replace_with_mask(message, pa.array(replaced), longer)
    column = np.empty(len(rows), dtype=object)
    for code, name in enumerate(_SIGNED_FIELDS):
        inside = field_code == code
        if inside.any():
            column[inside] = np.asarray(ctx.frame[place_column(name)].array[rows[inside]], dtype=object)
    out = rule.findings(ctx, mask, "direction", observed, expected, message, column=column)
    out["field"] = pd.array(blamed[mask], dtype=out["field"].dtype)
    return out


@declare(
    code="QC302",
    name="arrow-mismatch",
    severity=Severity.ERROR,
    summary="The arrow points the other way from the quote's move.",
    description=(
        "`▲` marks a rise and `▼` a fall. `No Change` is shown with `▼` in this feed, which is not an"
        " error; `▲` on `No Change` is. The move is what the direction word and the signs agree on. An"
        " arrow that goes with a direction word found wrong (QC301) is part of that finding."
    ),
    passing="WTL 1.27 No Change ▼ 0.00 (0%)",
    failing="AIRLINK 207.00 Increased By ▼ 6.71 (3.35%)",
    fields=("arrow",),
)
def arrow_mismatch(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per row whose arrow disagrees with the row's agreed direction."""
    truth = _truth(ctx)
    up, down = ctx.equals("arrow", ARROW_UP), ctx.equals("arrow", ARROW_DOWN)
    expected_up = truth == UP
    expected_down = (truth == DOWN) | (truth == FLAT)
    mask = (up & expected_down) | (down & expected_up)
    if ctx.runs("QC301"):
        mask &= ~((blamed_field(ctx) == "direction") & _arrow_goes_with_word(ctx))
    if not mask.any():
        return empty_findings()
    expected = np.where(expected_up[mask], ARROW_UP, ARROW_DOWN).astype(object)
    rows = np.flatnonzero(mask)
    said = _evidence(ctx, rows, np.full(len(rows), _BIT["arrow"], dtype=np.int64))
    message = _texts_joined(["arrow ", _column_texts(ctx, "arrow_text", rows), " but ", said], len(rows))
    observed = ctx.frame["arrow_text"]
    return rule.findings(ctx, mask, "arrow", observed, expected, message)


def loose_decimals(ctx: CheckContext, field_name: str) -> np.ndarray:
    """For rows of exact kinds whose price or change shows other decimals than the kind shows
    (QC401, QC402), the decimals whose unit the figure may be off by; -1 elsewhere.

    A figure cut to fewer decimals (`-20.1`) may be off by a unit of its last digit; one padded
    or extended beyond the kind's (`207.005`) by a unit of the kind's last digit.
    """
    key = f"loose_{field_name}"
    if key not in ctx.shared:
        numbers = ctx.numbers[field_name]
        loose = np.full(len(ctx.frame), -1, dtype=np.int64)
        for name, kind in ctx.profile.kinds.items():
            if kind.exact:
                allowed = getattr(kind, field_name).decimals
                rows = ctx.equals("kind", name) & numbers.readable & ~np.isin(numbers.decimals, allowed)
                loose = np.where(rows, np.minimum(numbers.decimals, min(allowed)), loose)
        ctx.shared[key] = loose
    return ctx.shared[key]


def _percent(ctx: CheckContext) -> PercentCheck:
    """The percent arithmetic of every row, signs put right (see `corrected_numbers`), computed once."""
    if "percent" not in ctx.shared:
        corrected = corrected_numbers(ctx)
        loose = (loose_decimals(ctx, "price"), loose_decimals(ctx, "change"))
        ctx.shared["percent"] = percent_check(
            ctx.numbers["price"], corrected["change"], corrected["percent"], ctx.exact, 2, loose
        )
    return ctx.shared["percent"]


def _shown_value(numbers: Numbers, row: int) -> Decimal:
    """A row's shown figure exactly, from its mantissa and decimals (`-0.10`)."""
    return Decimal(int(numbers.mantissa[row])).scaleb(-int(numbers.decimals[row]))


_Exact = TypeVar("_Exact", Decimal, Fraction)


def exact_percent(change: _Exact, price: _Exact) -> Fraction:
    """change / (price - change) x 100, exactly: the percent a change is of the previous price."""
    return Fraction(100 * change) / Fraction(price - change)


def expected_percents(ctx: CheckContext, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the rows of `mask`: the percent that would make each quote consistent, and why.

    The percent is formatted as the feed shows it: for exact figures the one rounded value, for
    rounded ones every 2-decimal percent whose own rounding meets what the shown level and change
    admit (`0.15` or `0.14 to 0.15`). The reason reads `change 0.24 over previous price 15.24 is
    1.57%`. Both are '' where the arithmetic cannot be done (previous price not above 0).
    """
    price, change = ctx.numbers["price"], corrected_numbers(ctx)["change"]
    shown_change = ctx.numbers["change"]
    loose_price, loose_change = loose_decimals(ctx, "price"), loose_decimals(ctx, "change")
    rows = np.flatnonzero(mask)
    expected = np.full(len(rows), "", dtype=object)
    reason = np.full(len(rows), "", dtype=object)
    simple = _exact_and_small(ctx, rows, price, change, loose_price, loose_change)
    if simple.any():
        expected[simple], reason[simple] = _exact_percents(ctx, rows[simple], price, change, shown_change)
    for i, row in enumerate(rows.tolist()):
        if simple[i] or not (price.readable[row] and change.readable[row]):
            continue
        p, c = _shown_value(price, row), _shown_value(change, row)
        if p - c <= 0:
            continue
        exact = bool(ctx.exact[row])
        half_p = Decimal(0) if exact else Decimal(5).scaleb(-int(price.decimals[row]) - 1)
        half_c = Decimal(0) if exact else Decimal(5).scaleb(-int(change.decimals[row]) - 1)
        if loose_price[row] >= 0:
            half_p, exact = Decimal(1).scaleb(-int(loose_price[row])), False
        if loose_change[row] >= 0:
            half_c, exact = Decimal(1).scaleb(-int(loose_change[row])), False
        if exact:  # the one corner, in integers: 10000 x change / previous price, rounded half up
            expected[i] = _hundredths_text(
                _exact_hundredths(
                    int(price.mantissa[row]), int(price.decimals[row]),
                    int(change.mantissa[row]), int(change.decimals[row]),
                )
            )  # fmt: skip
        else:
            corners = [
                exact_percent(c + dc, p + dp)
                for dp in (-half_p, half_p)
                for dc in (-half_c, half_c)
                if (p + dp) - (c + dc) > 0
            ]
            low = math.ceil(min(corners) * 100 - Fraction(1, 2))
            high = math.floor(max(corners) * 100 + Fraction(1, 2))
            first, last = format_percent(Fraction(low, 100)), format_percent(Fraction(high, 100))
            expected[i] = first if low >= high else f"{first} to {last}"
        grouped = "," in str(ctx.cell("price_text", row))
        previous = p - c
        previous_text = f"{previous:,f}" if grouped else f"{previous:f}"
        change_text = str(ctx.cell("change_text", row))
        if change.mantissa[row] != shown_change.mantissa[row]:
            change_text = f"{flip_sign(change_text)} (its sign put right)"
        if exact:
            reason[i] = f"change {change_text} over previous price {previous_text} is {expected[i]}%"
        else:
            only = "only " if low >= high else ""
            shown = f"{expected[i]}%" if low >= high else f"{first}% to {last}%"
            rounded = "both rounded for display" if not ctx.exact[row] else "not shown to the tick"
            reason[i] = (
                f"change {change_text} over previous price {previous_text}, {rounded}, admit {only}{shown}"
            )
    return expected, reason


# Figures up to this magnitude (as mantissas) and these decimals are worked out in int64 arrays.
_SMALL_MANTISSA = 10**12
_SMALL_DECIMALS = 4


def _exact_and_small(
    ctx: CheckContext,
    rows: np.ndarray,
    price: Numbers,
    change: Numbers,
    loose_price: np.ndarray,
    loose_change: np.ndarray,
) -> np.ndarray:
    """Which of `rows` expected_percents works out a column at a time: exact figures shown with
    their kind's decimals, small enough for int64, no digit grouping, the previous price above 0."""
    ok = (
        price.readable[rows]
        & change.readable[rows]
        & np.asarray(ctx.exact, dtype=bool)[rows]
        & (loose_price[rows] < 0)
        & (loose_change[rows] < 0)
        & ~price.grouped[rows]
    )
    for numbers in (price, change):
        ok &= (np.abs(numbers.mantissa[rows]) < _SMALL_MANTISSA) & (numbers.decimals[rows] <= _SMALL_DECIMALS)
    scale = np.maximum(price.decimals[rows], change.decimals[rows])
    p = np.where(ok, price.mantissa[rows], 0) * 10 ** np.where(ok, scale - price.decimals[rows], 0)
    c = np.where(ok, change.mantissa[rows], 0) * 10 ** np.where(ok, scale - change.decimals[rows], 0)
    return ok & (p - c > 0)


def _exact_percents(
    ctx: CheckContext, rows: np.ndarray, price: Numbers, change: Numbers, shown_change: Numbers
) -> tuple[np.ndarray, np.ndarray]:
    """expected_percents' percent and reason for exact, small rows (see _exact_and_small), by
    numpy and Arrow: the same texts as its loop gives them."""
    scale = np.maximum(price.decimals[rows], change.decimals[rows])
    p = price.mantissa[rows] * 10 ** (scale - price.decimals[rows])
    c = change.mantissa[rows] * 10 ** (scale - change.decimals[rows])
    previous, numerator = p - c, 10_000 * c
    magnitude = (2 * np.abs(numerator) + previous) // (2 * previous)
    hundredths = np.where(numerator >= 0, magnitude, -magnitude)
    expected = _hundredths_texts(hundredths)
    previous_text = _decimal_texts(previous, scale)
    change_text = _column_texts(ctx, "change_text", rows)
    flipped = change.mantissa[rows] != shown_change.mantissa[rows]
    if flipped.any():
        put_right = _texts_joined([_flipped(change_text), " (its sign put right)"], len(rows))
        change_text = pc.if_else(pa.array(flipped), put_right, change_text)
    reason = _texts_joined(
        ["change ", change_text, " over previous price ", previous_text, " is ", expected, "%"], len(rows)
    )
    return (
        expected.to_numpy(zero_copy_only=False).astype(object),
        reason.to_numpy(zero_copy_only=False).astype(object),
    )


def _hundredths_texts(hundredths: np.ndarray) -> pa.Array:
    """_hundredths_text of each of `hundredths`: `3.35`, `3.5`, `3`, `0`, `-0.4`."""
    whole, part = np.divmod(np.abs(hundredths), 100)
    whole_text = pc.cast(pa.array(whole), pa.large_string())
    two = pc.utf8_lpad(pc.cast(pa.array(part), pa.large_string()), 2, "0")
    one = pc.cast(pa.array(part // 10), pa.large_string())
    fraction = pc.if_else(
        pa.array(part == 0),
        pa.scalar("", pa.large_string()),
        pc.if_else(
            pa.array(part % 10 == 0),
            _texts_joined([".", one], len(part)),
            _texts_joined([".", two], len(part)),
        ),
    )
    sign = pc.if_else(
        pa.array(hundredths < 0), pa.scalar("-", pa.large_string()), pa.scalar("", pa.large_string())
    )
    return _texts_joined([sign, whole_text, fraction], len(hundredths))


def _decimal_texts(mantissa: np.ndarray, decimals: np.ndarray) -> pa.Array:
    """`f"{Decimal(m).scaleb(-d):f}"` of positive mantissas: `200.29`, `10.490`, `200`."""
    unit = 10**decimals
    whole = pc.cast(pa.array(mantissa // unit), pa.large_string())
    out = whole
    for places in np.unique(decimals[decimals > 0]).tolist():
        fraction = pc.utf8_lpad(pc.cast(pa.array(mantissa % unit), pa.large_string()), places, "0")
        out = pc.if_else(
            pa.array(decimals == places), _texts_joined([whole, ".", fraction], len(mantissa)), out
        )
    return out


def _exact_hundredths(price: int, price_decimals: int, change: int, change_decimals: int) -> int:
    """round(change / (price - change) x 100, 2) x 100 of exact figures given as mantissas and
    decimals, halves away from zero, in integers (the previous price must be above 0)."""
    scale = max(price_decimals, change_decimals)
    p = price * 10 ** (scale - price_decimals)
    c = change * 10 ** (scale - change_decimals)
    previous, numerator = p - c, 10_000 * c
    magnitude = (2 * abs(numerator) + previous) // (2 * previous)
    return magnitude if numerator >= 0 else -magnitude


def _hundredths_text(hundredths: int) -> str:
    """`format_percent(Fraction(hundredths, 100))` without the Fraction: `3.35`, `3.5`, `3`, `0`."""
    whole, part = divmod(abs(hundredths), 100)
    text = f"{whole}.{part:02d}".rstrip("0").rstrip(".")
    return "0" if text == "0" else ("-" + text if hundredths < 0 else text)


def _round_half_up(value: Fraction) -> int:
    """An exact value rounded to an integer, halves away from zero."""
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


@declare(
    code="QC303",
    name="percent-mismatch",
    severity=Severity.ERROR,
    summary="The percent is not change / previous price, as far as the shown digits allow.",
    description=(
        "previous price = price - change, and percent = change / previous price x 100, rounded to 2"
        " decimals. Stock prices and changes are exact ticks, so the percent must be exactly the rounded"
        " value. Index levels are rounded for display, so the percent must lie within the interval that the"
        " shown level and change admit, widened only by the percent's own rounding (half a unit of its"
        " second decimal). There is no guessed tolerance. The expected value is the percent (or the range"
        " of percents) that would make the quote consistent. A percent of -100 or less (QC203) or a price"
        " of 0 or less (QC202) is that finding instead."
    ),
    passing="AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    failing="PIBTL 15.48 Increased By ▲ 0.24 (1.58%)",
    fields=("percent",),
)
def percent_mismatch(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per row whose percent the shown price and change cannot produce."""
    check = _percent(ctx)
    mask = check.checked & ~check.consistent
    if ctx.runs("QC301"):  # a percent QC301 blames is that finding, which expects the right one
        mask &= blamed_field(ctx) != "percent"
    if ctx.runs("QC203"):
        mask &= ~percent_out_of_range(ctx)
    if ctx.runs("QC202"):
        mask &= ~price_not_positive(ctx)
    if not mask.any():
        return empty_findings()
    expected, reason = expected_percents(ctx, mask)
    percent_text = ctx.texts("percent_text", mask)
    message = "percent " + percent_text + "% but " + reason
    return rule.findings(ctx, mask, "percent", percent_text, expected, message)


@declare(
    code="QC304",
    name="previous-price-not-positive",
    severity=Severity.ERROR,
    summary="price - change (the previous price) is zero or less.",
    description=(
        "The previous price is price - change; a change as large as the price or larger means one of the"
        " two figures is wrong. The percent such figures give (-100% or less) is part of this finding."
    ),
    passing="SILK 0.97 Decreased By ▼ -0.02 (-2.02%)",
    failing="SILK 0.97 Increased By ▲ 1.20 (-521.74%)",
    fields=("change",),
)
def previous_price_not_positive(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per row whose shown price minus shown change is not above zero."""
    mask = previous_not_positive(ctx)
    if not mask.any():
        return empty_findings()
    frame = ctx.frame
    price_text = ctx.texts("price_text", mask)
    change_text = ctx.texts("change_text", mask)
    price, change = ctx.numbers["price"], corrected_numbers(ctx)["change"]
    rows = np.flatnonzero(mask)
    message = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows.tolist()):
        p, c = _shown_value(price, row), _shown_value(change, row)
        message[i] = (
            f"change {change_text[i]} is as large as the price {price_text[i]} or larger: "
            f"the previous price {price_text[i]} - {c} = {p - c} is not above 0"
        )
    expected = "< " + price_text
    del frame
    return rule.findings(ctx, mask, "change", change_text, expected, message)


def previous_not_positive(ctx: CheckContext) -> np.ndarray:
    """Rows where QC304 holds: price above 0, and price - change (signs put right) not above 0."""
    if "previous_not_positive" not in ctx.shared:
        price, change = ctx.numbers["price"], corrected_numbers(ctx)["change"]
        readable = price.readable & change.readable
        p, c, scale = aligned(price, change, headroom=2)
        # A figure shown with other decimals than its kind's may be off by a unit of its loose
        # digit (as the percent check allows): the previous price is only known to be 0 or less
        # when it is even with that unit added.
        slack = np.zeros(len(scale), dtype=np.int64)
        for loose in (loose_decimals(ctx, "price"), loose_decimals(ctx, "change")):
            unit = np.power(10, np.clip(scale - loose, 0, 18), dtype=np.int64)
            slack = slack + np.where(loose >= 0, unit, 0)
        ctx.shared["previous_not_positive"] = (
            readable & ((p - c + slack) <= 0).astype(bool) & (np.nan_to_num(price.value) > 0)
        )
    return ctx.shared["previous_not_positive"]


# The frame column a repeat of a symbol is compared on, for each field: the figures as shown,
# the direction and the arrow as they read.
_COMPARED = {
    "price": text_column("price"),
    "direction": "direction",
    "arrow": "arrow",
    "change": text_column("change"),
    "percent": text_column("percent"),
}
_SIGNATURE_FIELDS = tuple(_COMPARED.values())


def _codes(values: pd.Series | pa.Array) -> np.ndarray:
    """An int64 code per value, equal values sharing one (nulls too), by hashing in Arrow."""
    array = as_large_text(values) if isinstance(values, pd.Series) else as_pa_array(values)
    encoded = cast(pa.DictionaryArray, pc.dictionary_encode(array, null_encoding="encode"))
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _repeats(ctx: CheckContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row: is it a repeat of its symbol in its file, identical to the first, first line.

    Computed once per frame, with hashing (factorize) rather than a groupby over joined strings.
    """
    if "repeats" in ctx.shared:
        return ctx.shared["repeats"]
    frame = ctx.frame
    n = len(frame)
    symbol_codes = _codes(frame["symbol"])
    group = pd.factorize(file_codes(frame) * (int(symbol_codes.max(initial=0)) + 1) + symbol_codes)[0]
    # Codes are numbered in order of first appearance, so each group's first row is found by
    # where each code first occurs.
    is_first = np.ones(n, dtype=bool)
    if n > 1:
        is_first[1:] = group[1:] > np.maximum.accumulate(group)[:-1]
    first_row = np.flatnonzero(is_first)[group]
    # Signatures only for the rows of symbols that repeat (on most pages, a few): others are first.
    in_repeats = np.flatnonzero(np.bincount(group)[group] > 1)
    signature_codes = np.arange(n, dtype=np.int64)
    if len(in_repeats):
        taken = pa.array(in_repeats, pa.int64())
        fields = [as_large_text(frame[name]).take(taken).fill_null("") for name in _SIGNATURE_FIELDS]
        # (the stubs want the separator to be an array like the texts; Arrow takes a scalar)
        signature = pc.binary_join_element_wise(*fields, pa.scalar("|", pa.large_string()))  # type: ignore[call-overload]
        signature_codes[in_repeats] = _codes(signature) + n  # apart from the others' own codes
    differs = signature_codes != signature_codes[first_row]
    if differs.any():
        first_row = _reference_rows(ctx, group, differs)
    repeat = first_row != np.arange(n)
    identical = signature_codes == signature_codes[first_row]
    first_line = frame["line"].to_numpy()[first_row]
    ctx.shared["repeats"] = (repeat, identical, first_line)
    ctx.shared["reference_row"] = first_row
    return ctx.shared["repeats"]


def repeated_symbols(page: PageKeys) -> np.ndarray:
    """Which quotes' symbols occur more than once on their page: the quotes the repeat rules need.

    By sorting (a hash table of millions of distinct symbols would take several times the memory
    of the symbols themselves)."""
    n = len(page)
    repeated = np.zeros(n, dtype=bool)
    if n < 2:
        return repeated
    if page.file_codes.min() != page.file_codes.max():  # a batch of pages: a symbol per page
        codes = _codes(page.symbols)
        key = page.file_codes * (int(codes.max()) + 1) + codes
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        return counts[inverse] > 1
    order = pc.sort_indices(page.symbols)  # nulls last
    ordered = page.symbols.take(order).fill_null("")
    same = as_mask(pc.equal(ordered.slice(1), ordered.slice(0, n - 1)))
    del ordered
    repeated[order.to_numpy()] = np.r_[False, same] | np.r_[same, False]
    return repeated


def ticker_order(file_codes: np.ndarray, kinds: pa.Array, symbols: pa.Array) -> np.ndarray:
    """For each quote, how many of its two neighbours in its ticker break alphabetical order.

    A ticker is the quotes of one file and kind, in page order. Order is evidence only on a page
    whose tickers are alphabetical, as the feed's are: when fewer than 5 quotes have a neighbour
    before them, or fewer than 80% of those follow it in order, every count is 0.
    """
    n = len(symbols)
    out = np.zeros(n, dtype=np.int8)  # 0, 1 or 2: small, as pages can hold millions of quotes
    if n < 2:
        return out
    kind_codes = _codes(kinds).astype(np.int32)
    key = file_codes.astype(np.int32) * np.int32(int(kind_codes.max(initial=0)) + 1) + kind_codes
    del kind_codes
    order = np.argsort(key, kind="stable")  # each ticker together, in page order
    texts = symbols.fill_null("").take(pa.array(order, pa.int64()))
    empty = pa.scalar("", texts.type)
    earlier, later = texts.slice(0, n - 1), texts.slice(1)
    sorted_key = key[order]
    del key
    same = sorted_key[1:] == sorted_key[:-1]
    del sorted_key

    has_before = np.r_[False, same & as_mask(pc.not_equal(earlier, empty))]
    before_greater = np.r_[False, as_mask(pc.greater(earlier, later))]
    if has_before.sum() < 5 or (~before_greater[has_before]).mean() < 0.8:
        return out
    has_after = np.r_[same & as_mask(pc.not_equal(later, empty)), False]
    after_less = np.r_[as_mask(pc.less(later, earlier)), False]
    del texts, earlier, later, same
    out[order] = (has_before & before_greater).astype(np.int8) + (has_after & after_less)
    return out


def _reference_rows(ctx: CheckContext, group: np.ndarray, differs: np.ndarray) -> np.ndarray:
    """For each row, the row of its symbol's group that the group's other quotes are compared with.

    Where a symbol's quotes differ, the genuine-looking one is the reference, so that the error
    lands on the altered or inserted quote rather than on the real one, wherever it stands: a
    quote whose own signs or percent disagree is suspect, then one out of the ticker's
    alphabetical order among its neighbours of the same kind; ties go to the first.
    """
    frame = ctx.frame
    n = len(frame)
    rows = np.arange(n)
    mixed = np.zeros(int(group.max()) + 1, dtype=bool)
    mixed[group[differs]] = True
    signals, truth = _signals(ctx), _truth(ctx)
    inconsistent = np.zeros(n, dtype=bool)
    for name in _VOTERS:
        inconsistent |= (signals[name] != _ABSENT) & (truth != _ABSENT) & (signals[name] != truth)
    check = _percent(ctx)
    inconsistent |= check.checked & ~check.consistent
    page = ctx.page_keys()  # ticker order is a property of the whole page, however it was read
    out_of_order = ticker_order(page.file_codes, page.kinds, page.symbols)
    if page.rows is not None:
        out_of_order = out_of_order[page.rows]
    suspicion = np.where(mixed[group], 4 * inconsistent + out_of_order, 0)
    key = suspicion * n + rows
    best = np.full(len(mixed), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, group, key)
    return best[group] % n


@declare(
    code="QC305",
    name="duplicate-symbol",
    severity=Severity.ERROR,
    summary="A symbol appears again on the page with different figures.",
    description=(
        "A page is one snapshot, so a symbol is quoted once. Pages that repeat the whole ticker (a"
        " scrolling marquee) repeat it identically; a repeat with different figures means two snapshots"
        " were mixed or a figure was altered. The finding is on the quote that looks altered (its own signs"
        " or percent disagree, or it stands out of the ticker's alphabetical order), else on the later one,"
        " and names the line of the other. A repeat that differs only by a figure another finding on it"
        " already reports (put right, it is an identical repeat) is that finding alone."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\nKEL 4.96 Decreased By ▼ -0.04 (-0.8%)",
    failing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\nBOP 10.41 Decreased By ▼ -0.08 (-0.76%)",
    fields=("symbol",),
    scope="page",
    select=repeated_symbols,
)
def duplicate_symbol(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per repeat of a symbol whose figures differ from its first appearance."""
    repeat, identical, first_line = _repeats(ctx)
    mask = repeat & ~identical
    if not mask.any():
        return empty_findings()
    frame = ctx.frame
    reference = ctx.shared["reference_row"]
    rows = np.flatnonzero(mask)
    expected = np.empty(len(rows), dtype=object)
    message = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows.tolist()):
        other = int(reference[row])

        def shown(column: str, at: int) -> str:
            value = ctx.cell(column, at)
            text = "" if value is None or value is pd.NA else str(value)
            return f"{text}%" if column == "percent_text" and text else (text or "no arrow")

        differ = [
            f"{name} {shown(column, row)} here, {shown(column, other)} there"
            for name, column in _COMPARED.items()
            if shown(column, row) != shown(column, other)
        ]
        arrow = shown("arrow", other)
        expected[i] = " ".join(
            part
            for part in (
                shown("price_text", other),
                shown("direction", other),
                "" if arrow == "no arrow" else arrow,
                shown("change_text", other),
                f"({shown('percent_text', other)})",
            )
            if part
        )
        message[i] = (
            f"{ctx.cell('symbol', row)} is quoted on line {int(first_line[row])} with other figures: "
            + "; ".join(differ)
        )
    return rule.findings(ctx, mask, "symbol", frame["symbol"], expected, message)


_NOT_A_FIGURE = ("<", ">", "≤", "≥", "a ", "an ", "the ", "once", "upper-case")


def explained_repeats(ctx: CheckContext, repeats: pd.DataFrame) -> np.ndarray:
    """Which QC305 findings to keep: not those whose quote the other findings on it, put right as
    they expect, turn into an identical repeat. The altered figure is then one finding (its own),
    not also a duplicate."""
    emitted = ctx.shared.get("emitted", [])
    rows = next((r for code, r, out in emitted if out is repeats), None)
    if rows is None or not len(rows):
        return np.ones(len(repeats), dtype=bool)
    wanted = set(rows.tolist())
    repairs: dict[int, dict[str, str]] = {}
    unexplained: set[int] = set()
    for code, found_rows, out in emitted:
        if code in ("QC305", "QC306") or not len(out):
            continue
        fields, expected = out["field"].tolist(), out["expected"].tolist()
        for row, field_name, value in zip(found_rows.tolist(), fields, expected, strict=True):
            if row not in wanted or field_name not in _COMPARED:
                continue
            figure = _figure(ctx, row, field_name, value)
            if figure is None:
                if Severity.parse(str(out["severity"].iat[0])) == Severity.ERROR:
                    unexplained.add(row)
                continue
            repairs.setdefault(row, {}).update(figure)
    reference = ctx.shared["reference_row"]
    keep = np.ones(len(repeats), dtype=bool)
    for i, row in enumerate(rows.tolist()):
        if row not in repairs or row in unexplained:
            continue
        other = int(reference[row])
        same = True
        for column in _SIGNATURE_FIELDS:
            mine = repairs[row].get(column, _cell(ctx, column, row))
            if mine != _cell(ctx, column, other):
                same = False
                break
        keep[i] = not same
    return keep


def _cell(ctx: CheckContext, column: str, row: int) -> str:
    value = ctx.cell(column, row)
    return "" if value is None or value is pd.NA else str(value)


def _figure(ctx: CheckContext, row: int, field_name: str, expected: object) -> dict[str, str] | None:
    """The frame texts a finding's expected value puts in place, or None when it names no figure."""
    if not isinstance(expected, str) or not expected or expected.startswith(_NOT_A_FIGURE):
        return None
    if " | " in expected or " or " in expected:
        return None
    if field_name == "direction":
        for word in DIRECTION_WORDS:
            if expected == word or expected.startswith(word + " "):
                rest = expected[len(word) :].strip()
                return {"direction": word, **({"arrow": rest} if rest else {})}
        return None
    if " to " in expected:  # a range of percents: the reference's, if it lies within
        if field_name != "percent":
            return None
        low, _, high = expected.partition(" to ")
        reference = _cell(ctx, "percent_text", int(ctx.shared["reference_row"][row]))
        try:
            inside = Decimal(low) <= Decimal(reference) <= Decimal(high)
        except ArithmeticError:
            return None
        return {"percent_text": reference} if inside else None
    return {_COMPARED[field_name]: expected}


@declare(
    code="QC306",
    name="repeated-quote",
    severity=Severity.INFO,
    summary="A quote repeated identically (a marquee shown twice).",
    description=(
        "The same symbol with the same figures appears again on the page. Harmless, and usual for pages"
        " that render the ticker twice; reported so that counts can be reconciled."
    ),
    passing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    failing="BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\nBOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    fields=("symbol",),
    scope="page",
    select=repeated_symbols,
)
def repeated_quote(rule: Rule, ctx: CheckContext) -> pd.DataFrame:
    """One finding per identical repeat of a quote on the same page."""
    repeat, identical, first_line = _repeats(ctx)
    mask = repeat & identical
    message = np.array([f"identical repeat of the quote on line {n}" for n in first_line[mask]], dtype=object)
    return rule.findings(ctx, mask, "symbol", ctx.frame["symbol"], "once per page", message)
