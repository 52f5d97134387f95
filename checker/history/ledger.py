"""The quote ledger: every parsed quote of a run as one Arrow table, written as Parquet (one file
per run, never over another) or CSV (`--export`), and read back for `quotecheck history`.

Figures are exact decimals: `price`, `change`, `percent`, `previous_close_low` and
`previous_close_high` are decimal128(38, 6) (the shown number of decimals is in `*_decimals`, the
text as shown in `*_text`). A figure that cannot be held exactly at 6 places is null, its text kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from checker.history.times import EXCHANGE_ZONE, SOURCE_NONE
from checker.render.escape import visible

DECIMAL_SCALE = 6
DECIMAL_TYPE = pa.decimal128(38, DECIMAL_SCALE)
LEDGER_NAME = re.compile(r"^ledger-([0-9]{1,18})\.parquet$")
MAX_EXACT = 10**15  # a shown figure up to this many units of its last decimal is held exactly
# (a tab or a carriage return, the other starts spreadsheets act on, safe_cell shows as \t or \r first)
FORMULA_START = ("=", "+", "-", "@")

# The columns of a ledger, in order (the export adds `valid`).
COLUMNS = (
    "file",
    "line",
    "column",
    "end_column",
    "captured_at",
    "captured_at_text",
    "time_source",
    "session",
    "symbol",
    "symbol_col",
    "kind",
    "price",
    "price_text",
    "price_decimals",
    "price_col",
    "change",
    "change_text",
    "change_decimals",
    "percent",
    "percent_text",
    "percent_decimals",
    "previous_close_low",
    "previous_close_high",
    "page_cut_off",
    "findings",
)
# What the history rules read back from a ledger.
HISTORY_COLUMNS = tuple(c for c in COLUMNS if c not in ("captured_at", "findings", "session"))


# Read back as categories (few distinct values, or one per page).
CATEGORIES = (
    "file",
    "symbol",
    "kind",
    "time_source",
    "captured_at_text",
    "price_text",
    "change_text",
    "percent_text",
)


class LedgerError(ValueError):
    """A ledger that cannot be written or read (names the file and why)."""


def _ints(frame: pd.DataFrame, name: str) -> np.ndarray:
    return (
        frame[name].to_numpy(dtype=np.int64, na_value=0) if name in frame else np.zeros(len(frame), np.int64)
    )


def _mantissas(values: np.ndarray, decimals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each float as an integer of 10**-DECIMAL_SCALE (exact for a figure shown with `decimals`
    places), and whether it is held exactly."""
    d = np.clip(decimals, 0, DECIMAL_SCALE)
    shown = values * np.power(10.0, d)
    ok = np.isfinite(values) & (decimals >= 0) & (decimals <= DECIMAL_SCALE) & (np.abs(shown) < MAX_EXACT)
    ok &= np.abs(values) < 9e12  # its integer of 10**-DECIMAL_SCALE fits in 64 bits
    units = np.rint(np.where(ok, shown, 0.0)).astype(np.int64)
    return units * (10 ** (DECIMAL_SCALE - d)).astype(np.int64), ok


def _decimal_array(units: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Integers of 10**-DECIMAL_SCALE as a decimal128 array (16-byte little-endian two's complement)."""
    units = np.ascontiguousarray(units, dtype=np.int64)
    words = np.empty((len(units), 2), dtype=np.int64)
    words[:, 0] = units
    words[:, 1] = np.where(units < 0, -1, 0)
    mask = pa.array(valid, type=pa.bool_()).buffers()[1] if not valid.all() else None
    return pa.Array.from_buffers(DECIMAL_TYPE, len(units), [mask, pa.py_buffer(words.tobytes())])


def _texts(frame: pd.DataFrame, name: str) -> pa.Array:
    if name not in frame:
        return pa.nulls(len(frame), pa.string())
    column = frame[name]
    try:
        array = pa.array(column, from_pandas=True)
        if pa.types.is_dictionary(array.type):
            array = array.cast(pa.string())
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            return array.cast(pa.string())
    except (pa.ArrowException, TypeError, ValueError):
        pass
    # text Arrow cannot take as it is (a file name kept with surrogateescape): its bytes as UTF-8,
    # with what is not UTF-8 replaced
    values = [
        v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if isinstance(v, str) else None
        for v in column.astype(object).tolist()
    ]
    return pa.array(values, type=pa.string())


def finding_codes(quotes: pd.DataFrame, findings: pd.DataFrame) -> tuple[pa.Array, np.ndarray]:
    """The codes of the findings on each quote (same file and line, the finding's column within
    the quote's span, or no column), as a list<string> array, and whether any is an error."""
    n = len(quotes)
    error = np.zeros(n, dtype=bool)
    if not len(findings) or not n:
        return _code_lists(n, np.zeros(0, np.int64), []), error
    found = findings[findings["line"].notna().to_numpy(dtype=bool)]
    if not len(found):
        return _code_lists(n, np.zeros(0, np.int64), []), error
    files = quotes["file"]
    categories = files.cat.categories if isinstance(files.dtype, pd.CategoricalDtype) else None
    q_codes: np.ndarray
    if categories is None:
        q_codes, categories = pd.factorize(files.astype(object))
    else:
        q_codes = np.asarray(files.cat.codes.to_numpy(), dtype=np.int64)
    f_codes = pd.Categorical(found["file"].astype(object), categories=categories).codes
    left = pd.DataFrame(
        {
            "f": np.asarray(f_codes, dtype=np.int64),
            "line": found["line"].to_numpy(dtype=np.int64, na_value=0),
            "at": found["column"].to_numpy(dtype=np.float64, na_value=np.nan),
            "rule": found["rule"].astype(str).to_numpy(dtype=object),
            "error": (found["severity"].astype(str) == "error").to_numpy(dtype=bool),
        }
    )
    left = left[left["f"] >= 0]
    right = pd.DataFrame(
        {
            "f": np.asarray(q_codes, dtype=np.int64),
            "line": _ints(quotes, "line"),
            "start": _ints(quotes, "column"),
            "end": _ints(quotes, "end_column"),
            "row": np.arange(len(quotes)),
        }
    )
    right = right[right["f"].isin(left["f"].unique()).to_numpy()]  # the pages with findings only
    pairs = left.merge(right, on=["f", "line"])
    at = pairs["at"].to_numpy()
    inside = (
        np.isnan(at) | ((pairs["start"] <= at) & (at <= np.maximum(pairs["end"], pairs["start"]))).to_numpy()
    )
    pairs = pairs[inside]
    error[pairs["row"].to_numpy()[pairs["error"].to_numpy(dtype=bool)]] = True
    pairs = pairs.drop_duplicates(["row", "rule"]).sort_values(["row", "rule"], kind="stable")
    return _code_lists(n, pairs["row"].to_numpy(dtype=np.int64), pairs["rule"].tolist()), error


def _code_lists(n: int, rows: np.ndarray, rules: list[str]) -> pa.Array:
    """A list<string> array of n lists: `rules` (sorted by row) go to the list of their row."""
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    starts = pa.array(offsets, type=pa.int32())
    return pa.ListArray.from_arrays(starts, pa.array(rules, type=pa.string()))


def ledger_table(
    quotes: pd.DataFrame,
    findings: pd.DataFrame,
    snapshots: pd.DataFrame | None,
    exact_kinds: Iterable[str],
    cut_off: set[str] | None = None,
    valid: bool = False,
) -> pa.Table:
    """The ledger of a run: one row per parsed quote; `snapshots` is the history step's snapshot
    table (capture time, its source, session); `exact_kinds` the kinds whose figures are exact
    (their previous close is one number); with `valid`, a column saying no error is on the quote."""
    n = len(quotes)
    if n == 0:
        quotes = pd.DataFrame({name: pd.Series([], dtype=object) for name in ("file", "kind", "symbol")})
        quotes["price"] = quotes["change"] = quotes["percent"] = pd.Series([], dtype=np.float64)
    files = quotes["file"].astype(str)
    price = quotes["price"].to_numpy(dtype=np.float64, na_value=np.nan)
    change = quotes["change"].to_numpy(dtype=np.float64, na_value=np.nan)
    percent = quotes["percent"].to_numpy(dtype=np.float64, na_value=np.nan)
    pd_, cd, qd = (
        _ints(quotes, "price_decimals"),
        _ints(quotes, "change_decimals"),
        _ints(quotes, "percent_decimals"),
    )
    p, p_ok = _mantissas(price, pd_)
    c, c_ok = _mantissas(change, cd)
    r, r_ok = _mantissas(percent, qd)
    exact = quotes["kind"].astype(str).isin(sorted(exact_kinds)).to_numpy()
    half = 5 * 10 ** (DECIMAL_SCALE - 1 - np.clip(pd_, 0, DECIMAL_SCALE - 1)).astype(np.int64)
    half_c = 5 * 10 ** (DECIMAL_SCALE - 1 - np.clip(cd, 0, DECIMAL_SCALE - 1)).astype(np.int64)
    hp, hc = np.where(exact, 0, half), np.where(exact, 0, half_c)
    both = p_ok & c_ok
    table: dict[str, pa.Array] = {
        "file": _texts(quotes, "file"),
        "line": pa.array(_ints(quotes, "line")),
        "column": pa.array(_ints(quotes, "column")),
        "end_column": pa.array(_ints(quotes, "end_column")),
    }
    captured, captured_text, source, session = _times(files, snapshots)
    table["captured_at"] = captured
    table["captured_at_text"] = captured_text
    table["time_source"] = source
    table["session"] = session
    table["symbol"] = _texts(quotes, "symbol")
    table["symbol_col"] = pa.array(_ints(quotes, "symbol_col"))
    table["kind"] = _texts(quotes, "kind")
    table["price"] = _decimal_array(p, p_ok)
    table["price_text"] = _texts(quotes, "price_text")
    table["price_decimals"] = pa.array(pd_)
    table["price_col"] = pa.array(_ints(quotes, "price_col"))
    table["change"] = _decimal_array(c, c_ok)
    table["change_text"] = _texts(quotes, "change_text")
    table["change_decimals"] = pa.array(cd)
    table["percent"] = _decimal_array(r, r_ok)
    table["percent_text"] = _texts(quotes, "percent_text")
    table["percent_decimals"] = pa.array(qd)
    table["previous_close_low"] = _decimal_array(p - hp - (c + hc), both)
    table["previous_close_high"] = _decimal_array(p + hp - (c - hc), both)
    table["page_cut_off"] = pa.array(files.isin(sorted(cut_off or ())).to_numpy())
    codes, error = finding_codes(quotes, findings)
    table["findings"] = codes
    if valid:
        table["valid"] = pa.array(~error)
    return pa.table(table)


def _times(files: pd.Series, snapshots: pd.DataFrame | None) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Per quote: its page's capture time (a zoned timestamp), that time as first written, where
    it came from, and its session (a date; null when found from the figures or unknown)."""
    zone = pa.timestamp("s", tz=EXCHANGE_ZONE)
    n = len(files)
    if snapshots is None or not len(snapshots):
        return (
            pa.nulls(n, zone),
            pa.nulls(n, pa.string()),
            pa.array([SOURCE_NONE] * n, type=pa.string()),
            pa.nulls(n, pa.date32()),
        )
    table = snapshots.drop_duplicates("file").set_index("file")
    codes, uniques = pd.factorize(files)
    at_text = table["captured_at"].reindex(uniques)
    moments: list[int | None] = []
    for text in at_text.tolist():
        moments.append(_epoch(text) if isinstance(text, str) else None)
    sources = table["time_source"].reindex(uniques).fillna(SOURCE_NONE).astype(str).tolist()
    sessions = [_date(s) for s in table["session"].reindex(uniques).tolist()]
    texts = [t if isinstance(t, str) else None for t in at_text.tolist()]
    take = np.asarray(codes, dtype=np.int64)
    return (
        pa.array(moments, type=pa.int64()).cast(zone).take(take),
        pa.array(texts, type=pa.string()).take(take),
        pa.array(sources, type=pa.string()).take(take),
        pa.array(sessions, type=pa.date32()).take(take),
    )


def _epoch(text: str) -> int | None:
    """Seconds since the epoch of an exchange-time ISO stamp (a date alone: its midnight)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    from checker.history.times import exchange_zone

    return int(moment.replace(tzinfo=exchange_zone()).timestamp())


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


# --- writing ----------------------------------------------------------------------------------


def write_ledger(table: pa.Table, folder: str | os.PathLike[str]) -> str:
    """Write the ledger as the next free `ledger-<n>.parquet` in `folder` (made if missing), via a
    temporary file linked into place: no existing file is ever replaced. Returns its path."""
    where = os.fspath(folder)
    try:
        os.makedirs(where, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".ledger-", suffix=".tmp", dir=where)
        os.close(handle)
    except OSError as error:
        raise LedgerError(f"{where}: cannot write a ledger there ({error.strerror or error})") from None
    try:
        pq.write_table(table, temp, compression="zstd")
        number = _next_number(where)
        while True:
            target = os.path.join(where, f"ledger-{number}.parquet")
            try:
                os.link(temp, target)
                return target
            except FileExistsError:
                number += 1
            except OSError:  # no hard links here: rename only if the name is still free
                if os.path.lexists(target):
                    number += 1
                    continue
                os.replace(temp, target)
                return target
    except (OSError, pa.ArrowException) as error:
        raise LedgerError(f"{where}: cannot write a ledger there ({error})") from None
    finally:
        if os.path.lexists(temp):
            os.unlink(temp)


def _next_number(folder: str) -> int:
    numbers = [int(m.group(1)) for name in os.listdir(folder) if (m := LEDGER_NAME.match(name))]
    return max(numbers, default=0) + 1


def safe_cell(text: str) -> str:
    """A text cell that neither a terminal nor a spreadsheet will act on: control, bidi and
    separator characters written as visible escapes (`\\x1b`, `\\t`, as every report shows
    them), then one starting with =, +, - or @ given a leading apostrophe."""
    text = visible(text)
    return "'" + text if text.startswith(FORMULA_START) else text


TEXT_COLUMNS = frozenset(
    {"file", "captured_at_text", "time_source", "symbol", "kind", "price_text", "change_text", "percent_text"}
)


def write_csv(table: pa.Table, stream: IO[str]) -> None:
    """The export as CSV: a header, then one row per quote, quoted where needed (RFC 4180); text
    taken from the pages and file names is made inert (safe_cell); numbers are written as exact decimals; the
    findings as codes separated by spaces; missing values as empty cells."""
    writer = csv.writer(stream, lineterminator="\r\n")
    names = table.column_names
    writer.writerow(names)
    for batch in table.to_batches(max_chunksize=65536):
        columns: list[list[str]] = []
        for name in names:
            column = batch.column(name)
            if name == "findings":
                values = [" ".join(v) if v else "" for v in column.to_pylist()]
            elif name == "captured_at":
                values = [v.isoformat() if v is not None else "" for v in column.to_pylist()]
            elif pa.types.is_decimal(column.type):
                places = _places(batch, name)
                values = [_decimal_text(v, d) for v, d in zip(column.to_pylist(), places, strict=True)]
            elif name in TEXT_COLUMNS:
                values = [safe_cell(v) if v is not None else "" for v in column.to_pylist()]
            else:
                values = [
                    "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                    for v in column.to_pylist()
                ]
            columns.append(values)
        writer.writerows(zip(*columns, strict=True))


def _places(batch: pa.RecordBatch, name: str) -> list[int]:
    """The decimals each figure is shown with (a previous close: those of its price and change)."""
    names = batch.schema.names
    wanted = (
        ("price_decimals", "change_decimals") if name.startswith("previous_close") else (f"{name}_decimals",)
    )
    found = [np.asarray(batch.column(w).to_numpy(zero_copy_only=False)) for w in wanted if w in names]
    if not found:
        return [DECIMAL_SCALE] * batch.num_rows
    return np.clip(np.maximum.reduce(found), 0, DECIMAL_SCALE).tolist()


def _decimal_text(value: Any, places: int) -> str:
    """A figure with its shown decimals (more where it has more)."""
    if value is None:
        return ""
    exact = value.normalize()
    shown = exact.quantize(Decimal(1).scaleb(-places)) if -exact.as_tuple().exponent <= places else exact
    return format(shown, "f")


def save_export(table: pa.Table, path: str) -> None:
    """Write the export to `path`: Parquet or CSV by its extension (checked by the caller)."""
    from checker.render.output import atomic_writer

    if path.lower().endswith(".parquet"):
        folder = os.path.dirname(os.path.abspath(path))
        handle, temp = tempfile.mkstemp(prefix=".export-", suffix=".tmp", dir=folder)
        os.close(handle)
        try:
            pq.write_table(table, temp, compression="zstd")
            os.replace(temp, path)
        finally:
            if os.path.lexists(temp):
                os.unlink(temp)
        return
    with atomic_writer(path) as stream:
        write_csv(table, stream)


# --- reading back -----------------------------------------------------------------------------


def _decimal_floats(column: pa.ChunkedArray) -> np.ndarray:
    """Decimals as the nearest floats (their integer of 10**-scale divided once, so 9.97 reads
    back as 9.97); nulls as NaN."""
    scale = column.type.scale
    parts = []
    for chunk in column.chunks:
        if column.type.bit_width != 128 or scale > 18:
            parts.append(pc.cast(chunk, pa.float64()).to_numpy(zero_copy_only=False))
            continue
        data = chunk.buffers()[1]
        if data is None:
            parts.append(np.full(len(chunk), np.nan))
            continue
        words = np.frombuffer(memoryview(data), dtype=np.int64)
        low = words[2 * chunk.offset : 2 * (chunk.offset + len(chunk)) : 2].astype(np.float64)
        values = low / 10.0**scale
        if chunk.null_count:
            values[np.asarray(chunk.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = np.nan
        parts.append(values)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


NUMBER_COLUMNS = frozenset({"price", "change", "percent", "previous_close_low", "previous_close_high"})


def _expected_type(name: str, kind: pa.DataType) -> bool:
    """Whether a column read back has the type a ledger gives it (a file from elsewhere may not)."""
    if name in NUMBER_COLUMNS:
        return pa.types.is_decimal(kind) or pa.types.is_floating(kind)
    if name == "page_cut_off":
        return pa.types.is_boolean(kind)
    if name.endswith(("line", "column", "_col", "_decimals")):
        return pa.types.is_integer(kind)
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)


def _open_ledger(path: str) -> pq.ParquetFile:
    """A ledger file, its columns checked; raises LedgerError naming a file that is not a ledger."""
    try:
        handle = pq.ParquetFile(path, read_dictionary=list(CATEGORIES))
        schema = handle.schema_arrow
    except (OSError, pa.ArrowException, KeyError, ValueError) as error:
        raise LedgerError(f"{path}: not a quote ledger ({str(error)[:200]})") from None
    for name in HISTORY_COLUMNS:
        if name not in schema.names:
            raise LedgerError(f"{path}: not a quote ledger (no column `{name}`)")
        if not _expected_type(name, schema.field(name).type):
            kind = schema.field(name).type
            raise LedgerError(f"a ledger's column `{name}` is {kind}, not what a quote ledger holds")
    return handle


def read_ledgers(paths: Iterable[str]) -> pd.DataFrame:
    """The quotes of ledger files as one frame with the columns the history rules read (floats
    from the exact decimals); raises LedgerError naming a file that is not a ledger."""
    frames = []
    for path in paths:
        try:
            table = pq.read_table(path, columns=list(HISTORY_COLUMNS), read_dictionary=list(CATEGORIES))
        except (OSError, pa.ArrowException, KeyError, ValueError) as error:
            raise LedgerError(f"{path}: not a quote ledger ({str(error)[:200]})") from None
        frames.append(table)
    if not frames:
        raise LedgerError("no ledger named")
    try:
        table = pa.concat_tables(frames, promote_options="permissive")
    except (pa.ArrowException, ValueError) as error:
        raise LedgerError(f"the ledgers do not agree in their columns ({str(error)[:200]})") from None
    return ledger_frame(table)


def ledger_frame(table: pa.Table) -> pd.DataFrame:
    """Ledger rows (an Arrow table) as the frame the history rules read: exact decimals as the
    nearest floats, few-valued texts as categories, missing integers as 0."""
    out: dict[str, Any] = {}
    for name in table.column_names:
        column = table.column(name)
        if not _expected_type(name, column.type):
            raise LedgerError(f"a ledger's column `{name}` is {column.type}, not what a quote ledger holds")
        if pa.types.is_integer(column.type) or pa.types.is_boolean(column.type):
            filler = pa.scalar(False) if pa.types.is_boolean(column.type) else pa.scalar(0, column.type)
            column = pc.fill_null(column, filler)  # type: ignore[arg-type]
        if pa.types.is_decimal(column.type):
            out[name] = _decimal_floats(column)
        elif pa.types.is_dictionary(column.type):
            out[name] = column.to_pandas()  # categorical: the history step codes them as they are
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            out[name] = column.to_pandas(types_mapper=None).astype(object)
        else:
            out[name] = column.to_numpy(zero_copy_only=False)
    frame = pd.DataFrame(out)
    for name in ("price", "change", "percent"):
        if name in frame:
            frame[name] = frame[name].astype(np.float64)
    return frame
