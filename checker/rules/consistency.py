"""Cross-field rules: signs, arrows, the percent arithmetic, previous price, repeated symbols.

Each rule is one vectorised function over the whole frame that yields at most one finding per
row; pandera's wide checks would yield one failure per column of every failing row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from checker.findings import Severity, empty_findings
from checker.numeric import PercentCheck, aligned, format_percent, percent_check
from checker.rules.registry import REGISTRY, CheckContext, declare

UP, DOWN, FLAT = 1, -1, 0
_ABSENT = 9  # a signal that is missing or unreadable: it does not vote


def _signals(ctx: CheckContext) -> dict[str, np.ndarray]:
    """The direction each field of each row points to: +1, -1, 0, or _ABSENT (computed once)."""
    if "signals" in ctx.shared:
        return ctx.shared["signals"]
    numbers = ctx.numbers
    word = np.select(
        [
            ctx.equals("direction", "Increased By"),
            ctx.equals("direction", "Decreased By"),
            ctx.equals("direction", "No Change"),
        ],
        [UP, DOWN, FLAT],
        _ABSENT,
    )
    up, down = ctx.equals("arrow", "▲"), ctx.equals("arrow", "▼")
    # `No Change` is shown with `▼` in this feed: there the arrow means "no move".
    arrow = np.select([up, down & (word == FLAT), down], [UP, FLAT, DOWN], _ABSENT)
    change = np.where(numbers["change"].readable, np.sign(numbers["change"].mantissa), _ABSENT)
    percent = np.where(numbers["percent"].readable, np.sign(numbers["percent"].mantissa), _ABSENT)
    # A rounded change shown as 0 (an index that moved less than half its last shown digit)
    # may still have risen or fallen, so beside a rise or a fall it abstains.
    moved = (word == UP) | (word == DOWN)
    change = np.where((change == FLAT) & ~ctx.exact & moved, _ABSENT, change)
    # A percent shown as 0 on a small move is rounding, not a contradiction: the percent
    # arithmetic rule judges it, this one lets it abstain.
    percent = np.where((percent == FLAT) & (change != FLAT), _ABSENT, percent)
    signals = {"direction": word, "arrow": arrow, "change": change, "percent": percent}
    ctx.shared["signals"] = signals
    ctx.shared["truth"] = consensus(signals)
    return signals


def _truth(ctx: CheckContext) -> np.ndarray:
    """The direction each row's fields agree on (see `consensus`), computed once."""
    _signals(ctx)
    return ctx.shared["truth"]


def _words(truth: np.ndarray) -> np.ndarray:
    """`up`, `down`, `no change` (or '') for each direction code."""
    return np.select([truth == UP, truth == DOWN, truth == FLAT], ["up", "down", "no change"], "").astype(
        object
    )


def consensus(signals: dict[str, np.ndarray]) -> np.ndarray:
    """The direction most fields agree on; ties go to the sign of the change, then the word."""
    votes = np.stack([signals[k] for k in ("direction", "arrow", "change", "percent")])
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


_WORDS = {UP: "up", DOWN: "down", FLAT: "no change"}


@declare(
    "QC301",
    "sign-mismatch",
    Severity.ERROR,
    "Direction word, sign of the change and sign of the percent disagree.",
    "`Increased By` goes with a positive change and percent, `Decreased By` with negative ones, and "
    "`No Change` with a change of 0 and a percent of 0. The field that disagrees with the others "
    "is named. A percent shown as 0 on a small move is left to the percent arithmetic, and so is "
    "an index change shown as 0 on a rise or fall smaller than its rounding.",
    "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    "BOP 10.39 Increased By ▼ -0.10 (-0.95%)",
    ("direction", "change", "percent"),
)
def sign_mismatch(ctx: CheckContext) -> pd.DataFrame:
    """One finding per row whose direction word, change sign and percent sign disagree."""
    signals = _signals(ctx)
    truth = _truth(ctx)
    names = ("direction", "change", "percent")
    wrong = {n: (signals[n] != _ABSENT) & (truth != _ABSENT) & (signals[n] != truth) for n in names}
    mask = wrong["direction"] | wrong["change"] | wrong["percent"]
    if not mask.any():
        return empty_findings()
    frame = ctx.frame
    blamed = np.select([wrong["direction"], wrong["change"]], ["direction", "change"], "percent")
    column = np.select(
        [wrong["direction"], wrong["change"]],
        [frame["direction_col"].to_numpy(), frame["change_col"].to_numpy()],
        frame["percent_col"].to_numpy(),
    )
    # Texts and messages only for the failing rows.
    on_direction, on_change = wrong["direction"][mask], wrong["change"][mask]
    percent_shown = (pd.Series(frame["percent_text"].array[mask]) + "%").to_numpy(dtype=object, na_value="")
    observed = np.where(
        on_direction,
        ctx.texts("direction_text", mask),
        np.where(on_change, ctx.texts("change_text", mask), percent_shown),
    ).astype(object)
    truth_word = _words(truth[mask])
    message = (
        blamed[mask].astype(object)
        + " "
        + observed
        + " disagrees with the rest of the quote, which says "
        + truth_word
    )
    out = REGISTRY["QC301"].findings(ctx, mask, "direction", observed, truth_word, message, column=column)
    out["field"] = blamed[mask]
    return out


@declare(
    "QC302",
    "arrow-mismatch",
    Severity.ERROR,
    "The arrow points the other way from the quote's move.",
    "`▲` marks a rise and `▼` a fall. `No Change` is shown with `▼` in this feed, which is not an "
    "error; `▲` on `No Change` is. The move is what the direction word and the signs agree on.",
    "WTL 1.27 No Change ▼ 0.00 (0%)",
    "AIRLINK 207.00 Increased By ▼ 6.71 (3.35%)",
    ("arrow",),
)
def arrow_mismatch(ctx: CheckContext) -> pd.DataFrame:
    """One finding per row whose arrow disagrees with the row's agreed direction."""
    truth = _truth(ctx)
    up, down = ctx.equals("arrow", "▲"), ctx.equals("arrow", "▼")
    expected_up = truth == UP
    expected_down = (truth == DOWN) | (truth == FLAT)
    mask = (up & expected_down) | (down & expected_up)
    if not mask.any():
        return empty_findings()
    expected = np.where(expected_up[mask], "▲", "▼").astype(object)
    message = "arrow " + ctx.texts("arrow", mask) + " but the quote moves " + _words(truth[mask])
    observed = ctx.frame["arrow_text"]
    return REGISTRY["QC302"].findings(ctx, mask, "arrow", observed, expected, message)


def _percent(ctx: CheckContext) -> PercentCheck:
    """The percent arithmetic of every row (see `percent_check`), computed once per frame."""
    if "percent" not in ctx.shared:
        numbers = ctx.numbers
        ctx.shared["percent"] = percent_check(
            numbers["price"], numbers["change"], numbers["percent"], ctx.exact, 2
        )
    return ctx.shared["percent"]


def _round_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator rounded half away from zero, on exact integers (denominator > 0)."""
    magnitude = (2 * np.abs(numerator) + denominator) // (2 * denominator)
    return np.where(numerator < 0, -magnitude, magnitude)


@declare(
    "QC303",
    "percent-mismatch",
    Severity.ERROR,
    "The percent is not change / previous price, as far as the shown digits allow.",
    "previous price = price - change, and percent = change / previous price x 100, rounded to 2 "
    "decimals. Stock prices and changes are exact ticks, so the percent must be exactly the "
    "rounded value. Index levels are rounded for display, so the percent must lie within the "
    "interval that the shown level and change admit, widened only by the percent's own rounding "
    "(half a unit of its second decimal). There is no guessed tolerance.",
    "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    "PIBTL 15.48 Increased By ▲ 0.24 (1.58%)",
    ("percent",),
)
def percent_mismatch(ctx: CheckContext) -> pd.DataFrame:
    """One finding per row whose percent the shown price and change cannot produce."""
    numbers = ctx.numbers
    check = _percent(ctx)
    mask = check.checked & ~check.consistent
    if not mask.any():
        return empty_findings()
    price, change = numbers["price"], numbers["change"]
    rows = np.flatnonzero(mask)
    expected = np.full(len(mask), "", dtype=object)
    for row in rows:  # only failing rows: formatting an exact fraction is cheap at this count
        scale = int(max(price.decimals[row], change.decimals[row]))
        p = int(price.mantissa[row]) * 10 ** (scale - int(price.decimals[row]))
        c = int(change.mantissa[row]) * 10 ** (scale - int(change.decimals[row]))
        if ctx.exact[row]:
            hundredths = _round_ratio(np.array([10000 * c], dtype=object), np.array([p - c], dtype=object))[0]
            expected[row] = format_percent(hundredths / 100 if hundredths % 100 else hundredths // 100)
        else:
            low, high = format_percent(check.low[row]), format_percent(check.high[row])
            expected[row] = low if low == high else f"{low} to {high}"
    percent_text = ctx.texts("percent_text", mask)
    expected = expected[mask]
    relation = np.where(ctx.exact[mask], "=", "admits").astype(object)
    message = (
        "percent "
        + percent_text
        + "% does not match change / previous price ("
        + relation
        + " "
        + expected
        + "%)"
    )
    return REGISTRY["QC303"].findings(ctx, mask, "percent", percent_text, expected, message)


@declare(
    "QC304",
    "previous-price-not-positive",
    Severity.ERROR,
    "price - change (the previous price) is zero or less.",
    "The previous price is price - change; a change as large as the price or larger means one of "
    "the two figures is wrong.",
    "SILK 0.97 Decreased By ▼ -0.02 (-2.02%)",
    "SILK 0.97 Increased By ▲ 1.20 (-521.74%)",
    ("change",),
)
def previous_price_not_positive(ctx: CheckContext) -> pd.DataFrame:
    """One finding per row whose shown price minus shown change is not above zero."""
    price, change = ctx.numbers["price"], ctx.numbers["change"]
    readable = price.readable & change.readable
    p, c, _scale = aligned(price, change, headroom=2)
    mask = readable & ((p - c) <= 0).astype(bool) & (price.value > 0)
    if not mask.any():
        return empty_findings()
    frame = ctx.frame
    observed = (
        pd.Series(frame["price_text"].array[mask])
        + " - ("
        + pd.Series(frame["change_text"].array[mask])
        + ")"
    ).to_numpy(dtype=object, na_value="")
    previous = price.value[mask] - change.value[mask]
    message = np.array(
        [f"previous price = price - change = {v:g}, not above 0" for v in previous], dtype=object
    )
    return REGISTRY["QC304"].findings(ctx, mask, "change", observed, "> 0", message)


_SIGNATURE_FIELDS = ("price_text", "direction", "arrow", "change_text", "percent_text")


def _codes(values: pd.Series | pa.Array) -> np.ndarray:
    """An int64 code per value, equal values sharing one (nulls too), by hashing in Arrow."""
    if isinstance(values, pd.Series):
        values = (
            pa.array(values.astype(object).where(values.notna(), None).tolist(), pa.large_string())
            if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow")
            else pa.array(values.array)
        )
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _repeats(ctx: CheckContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row: is it a repeat of its symbol in its file, identical to the first, first line.

    Computed once per frame, with hashing (factorize) rather than a groupby over joined strings.
    """
    if "repeats" in ctx.shared:
        return ctx.shared["repeats"]
    frame = ctx.frame
    n = len(frame)
    files = frame["file"]
    file_codes = (
        files.cat.codes.to_numpy().astype(np.int64)
        if isinstance(files.dtype, pd.CategoricalDtype)
        else _codes(files.astype(str))
    )
    symbol_codes = _codes(frame["symbol"])
    group = pd.factorize(file_codes * (int(symbol_codes.max(initial=0)) + 1) + symbol_codes)[0]
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
        taken = pa.array(in_repeats)
        fields = [pa.array(frame[name].array).take(taken) for name in _SIGNATURE_FIELDS]
        fields = [pc.fill_null(f.cast(pa.large_string()), "") for f in fields]
        signature = pc.binary_join_element_wise(*fields, pa.scalar("|", pa.large_string()))
        signature_codes[in_repeats] = _codes(signature) + n  # apart from the others' own codes
    differs = signature_codes != signature_codes[first_row]
    if differs.any():
        first_row = _reference_rows(ctx, group, differs)
    repeat = first_row != np.arange(n)
    identical = signature_codes == signature_codes[first_row]
    first_line = frame["line"].to_numpy()[first_row]
    ctx.shared["repeats"] = (repeat, identical, first_line)
    return ctx.shared["repeats"]


def _arrow_text(values: pd.Series) -> pa.Array:
    array = (
        pa.array(values.array) if isinstance(values.dtype, pd.StringDtype) else pa.array(values.astype(str))
    )
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _file_codes(frame: pd.DataFrame) -> np.ndarray:
    files = frame["file"]
    if isinstance(files.dtype, pd.CategoricalDtype):
        return files.cat.codes.to_numpy().astype(np.int64)
    return _codes(files.astype(str))


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
    texts = pc.fill_null(symbols, "").take(pa.array(order))
    earlier, later = texts.slice(0, n - 1), texts.slice(1)
    sorted_key = key[order]
    del key
    same = sorted_key[1:] == sorted_key[:-1]
    del sorted_key

    def holds(values: pa.Array) -> np.ndarray:
        return values.to_numpy(zero_copy_only=False).astype(bool)

    has_before = np.r_[False, same & holds(pc.not_equal(earlier, ""))]
    before_greater = np.r_[False, holds(pc.greater(earlier, later))]
    if has_before.sum() < 5 or (~before_greater[has_before]).mean() < 0.8:
        return out
    has_after = np.r_[same & holds(pc.not_equal(later, "")), False]
    after_less = np.r_[holds(pc.less(later, earlier)), False]
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
    for name in ("direction", "arrow", "change", "percent"):
        inconsistent |= (signals[name] != _ABSENT) & (truth != _ABSENT) & (signals[name] != truth)
    check = _percent(ctx)
    inconsistent |= check.checked & ~check.consistent
    out_of_order = ctx.shared.get("out_of_order")
    if out_of_order is None:  # a chunked run passes it in, computed over the whole file
        out_of_order = ticker_order(
            _file_codes(frame), _arrow_text(frame["kind"]), _arrow_text(frame["symbol"])
        )
    suspicion = np.where(mixed[group], 4 * inconsistent + out_of_order, 0)
    key = suspicion * n + rows
    best = np.full(len(mixed), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, group, key)
    return best[group] % n


@declare(
    "QC305",
    "duplicate-symbol",
    Severity.ERROR,
    "A symbol appears again on the page with different figures.",
    "A page is one snapshot, so a symbol is quoted once. Pages that repeat the whole ticker (a "
    "scrolling marquee) repeat it identically; a repeat with different figures means two snapshots "
    "were mixed or a figure was altered. The finding is on the quote that looks altered (its own "
    "signs or percent disagree, or it stands out of the ticker's alphabetical order), else on the "
    "later one, and names the line of the other.",
    "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\nKEL 4.96 Decreased By ▼ -0.04 (-0.8%)",
    "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\nBOP 10.41 Decreased By ▼ -0.08 (-0.76%)",
    ("symbol",),
)
def duplicate_symbol(ctx: CheckContext) -> pd.DataFrame:
    """One finding per repeat of a symbol whose figures differ from its first appearance."""
    repeat, identical, first_line = _repeats(ctx)
    mask = repeat & ~identical
    message = np.array(
        [f"symbol quoted with other figures on line {n}" for n in first_line[mask]], dtype=object
    )
    return REGISTRY["QC305"].findings(ctx, mask, "symbol", ctx.frame["symbol"], "once per page", message)


@declare(
    "QC306",
    "repeated-quote",
    Severity.INFO,
    "A quote repeated identically (a marquee shown twice).",
    "The same symbol with the same figures appears again on the page. Harmless, and usual for pages "
    "that render the ticker twice; reported so that counts can be reconciled.",
    "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\nBOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    ("symbol",),
)
def repeated_quote(ctx: CheckContext) -> pd.DataFrame:
    """One finding per identical repeat of a quote on the same page."""
    repeat, identical, first_line = _repeats(ctx)
    mask = repeat & identical
    message = np.array([f"identical repeat of the quote on line {n}" for n in first_line[mask]], dtype=object)
    return REGISTRY["QC306"].findings(ctx, mask, "symbol", ctx.frame["symbol"], "once per page", message)
