"""Ledger rows read a few snapshots at a time: what `quotecheck history` runs the rules over.

A first pass reads only each row's page (and its time, where it came from, whether its block was
cut off): every page's name in the order of the ledgers, its row count and, per row group, the
pages it holds. The history step then asks for the rows of a window of pages, and only the row
groups holding them are read (ledgers written in time order: each about once).
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from checker.history.engine import RULE_COLUMNS
from checker.history.ledger import (
    HISTORY_COLUMNS,
    LedgerError,
    _decimal_floats,
    _expected_type,
    _open_ledger,
    ledger_frame,
)
from checker.history.times import StampColumns, stamp_columns

ROW_GROUP_CACHE = 4  # row groups kept decoded (a window usually spans two, the next one more)
SUMMARY_COLUMNS = ("file", "captured_at_text", "time_source", "page_cut_off")


class _Piece:
    """One part of the rows: a ledger file, or a frame (the state's snapshots)."""

    def __init__(self, ledger: pq.ParquetFile | None = None, frame: pd.DataFrame | None = None) -> None:
        self.ledger, self.frame = ledger, frame
        self.groups: list[np.ndarray] = []  # per row group: the sorted ids of the pages in it
        self.frame_ids = np.zeros(0, dtype=np.int64)


class LedgerSource:
    """The rows of ledgers (and of a frame before them), with each page's first time stamp, its
    source, its row count and whether its block was cut off (see the module's text)."""

    def __init__(self, paths: list[str] | None = None, frames: list[pd.DataFrame] | None = None) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        # per page (in parts): its id, its first row's time stamp text and source (Arrow arrays)
        self._first_pages: list[np.ndarray] = []
        self._first_texts: list[pa.Array] = []
        self._first_sources: list[pa.Array] = []
        self._seen = np.zeros(0, dtype=bool)
        self._counts = np.zeros(0, dtype=np.int64)  # rows per page id
        self.cut: set[int] = set()
        self.pieces: list[_Piece] = []
        self.global_of = np.zeros(0, dtype=np.int64)  # id -> the history step's snapshot number
        self.local_of = np.zeros(0, dtype=np.int64)
        self._cache: OrderedDict[tuple[int, int], _Group] = OrderedDict()
        self.codes: dict[str, dict[str, int]] = {"symbol": {}, "kind": {}}  # text -> code
        self.texts: dict[str, list[str]] = {"symbol": [], "kind": []}
        self.mappings: dict[tuple[int, int], list[np.ndarray]] = {}
        self._lock = threading.Lock()
        self._prefetching: threading.Thread | None = None
        for frame in frames or []:
            self._add_frame(frame)
        for path in paths or []:
            self._add_ledger(path)

    # --- the first pass ---------------------------------------------------------------------------

    def _ids_of(self, names: list[Any]) -> np.ndarray:
        ids, known = self.ids, self.names
        if all(isinstance(name, str) for name in names):
            new = [name for name in names if name not in ids]
            if len(set(new)) == len(new):
                # the usual case: text names, most not seen before (a ledger's pages follow one
                # another), numbered in the order of `names`
                start = len(known)
                ids.update(zip(new, range(start, start + len(new)), strict=True))
                known.extend(new)
                return np.array([ids[name] for name in names], dtype=np.int64)
        out = []
        for name in names:
            at = ids.get(name)
            if at is None:
                name = name if isinstance(name, str) else str(name)
                at = ids.setdefault(name, len(known))
                if at == len(known):
                    known.append(name)
            out.append(at)
        return np.array(out, dtype=np.int64)

    def _summarise(self, ids: np.ndarray, texts: Any, sources: Any, cut: np.ndarray) -> None:
        """Per page: its rows, its first row's time stamp text and source, and any row cut off
        (rows without a page, id -1, count for nothing). `texts` and `sources` give the values
        at some rows: texts(rows) -> list."""
        named = ids >= 0
        heads = _run_heads(ids)  # a page's rows usually follow one another: look at each run once
        heads = heads[named[heads]]
        unique, first = np.unique(ids[heads], return_index=True)
        rows = heads[first]
        if len(self._seen) < len(self.names):
            self._seen = np.concatenate([self._seen, np.zeros(len(self.names) - len(self._seen), bool)])
        fresh = ~self._seen[unique]
        unique, rows = unique[fresh], rows[fresh]
        if len(rows):
            self._seen[unique] = True
            self._first_pages.append(unique)
            self._first_texts.append(texts(rows))
            self._first_sources.append(sources(rows))
        if len(self._counts) < len(self.names):
            grown = np.zeros(max(len(self.names), 2 * len(self._counts)), dtype=np.int64)
            grown[: len(self._counts)] = self._counts
            self._counts = grown
        present = ids[named]
        if len(present):  # (the pages of a part are usually a short range of ids)
            low = int(present.min())
            counted = np.bincount(present - low)
            self._counts[low : low + len(counted)] += counted
        if cut.any():
            self.cut.update(np.unique(ids[cut & named]).tolist())

    def _counts_total(self) -> np.ndarray:
        return self._counts[: len(self.names)].copy()

    def _add_frame(self, frame: pd.DataFrame) -> None:
        frame = frame.reset_index(drop=True)
        piece = _Piece(frame=frame)
        files = frame["file"].tolist()
        named = [isinstance(f, str) for f in files]
        ids = np.full(len(files), -1, dtype=np.int64)
        if any(named):
            ids[np.array(named)] = self._ids_of([f for f in files if isinstance(f, str)])
        piece.frame_ids = ids
        cut = frame["page_cut_off"].fillna(False).astype(bool).to_numpy(dtype=bool)
        texts, sources = frame["captured_at_text"], frame["time_source"]
        self._summarise(
            ids, lambda rows: _text_array(texts, rows), lambda rows: _text_array(sources, rows), cut
        )
        self.pieces.append(piece)

    def _add_ledger(self, path: str) -> None:
        ledger = _open_ledger(path)
        piece = _Piece(ledger=ledger)
        try:
            for g in range(ledger.num_row_groups):
                table = ledger.read_row_group(g, columns=list(SUMMARY_COLUMNS))
                ids = self._row_ids(table.column("file"), (len(self.pieces), g))
                filled: Any = pc.fill_null(table.column("page_cut_off"), pa.scalar(False))
                cut = filled.to_numpy(zero_copy_only=False)
                texts, sources = table.column("captured_at_text"), table.column("time_source")
                self._summarise(
                    ids,
                    lambda rows, column=texts: _values(column, rows),
                    lambda rows, column=sources: _values(column, rows),
                    np.asarray(cut, dtype=bool),
                )
                piece.groups.append(np.unique(ids[ids >= 0]))
        except (OSError, pa.ArrowException, ValueError) as error:
            raise LedgerError(f"{path}: not a quote ledger ({str(error)[:200]})") from None
        self.pieces.append(piece)

    def _row_ids(self, column: pa.ChunkedArray, key: tuple[int, int] | None = None) -> np.ndarray:
        """Each row's page id, -1 for a row without one; pages not seen before are numbered in
        the order of their first row. With `key` (piece, row group), the first pass keeps each
        chunk's dictionary as ids, and a later read of that row group only looks them up."""
        parts = []
        kept = self.mappings.get(key) if key is not None else None
        fresh: list[np.ndarray] = []
        chunk: Any
        for at, chunk in enumerate(column.chunks):
            if not pa.types.is_dictionary(chunk.type):
                chunk = pc.dictionary_encode(chunk)
            indices = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            if kept is not None and at < len(kept) and len(kept[at]) == len(chunk.dictionary) + 1:
                mapping = kept[at]
            else:
                heads = _run_heads(indices)
                heads = heads[indices[heads] >= 0]
                used, first = np.unique(indices[heads], return_index=True)
                used = used[np.argsort(first, kind="stable")]  # in the order of their first row
                words = chunk.dictionary.take(pa.array(used, type=pa.int64())).to_pylist()
                mapping = np.full(len(chunk.dictionary) + 1, -1, dtype=np.int64)
                mapping[used] = self._ids_of(words)
            fresh.append(mapping)
            parts.append(mapping[indices])
        if key is not None:
            self.mappings[key] = fresh
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts)

    # --- what the history step asks -------------------------------------------------------------

    def page_names(self) -> list[str]:
        return self.names

    def page_count_array(self) -> np.ndarray:
        """The rows of each page, by page id."""
        return self._counts_total()

    def page_counts(self) -> dict[str, int]:
        total = self._counts_total()
        return dict(zip(self.names, total.tolist(), strict=True))

    def _firsts(self) -> tuple[pa.Array, pa.Array]:
        """Each page's first time stamp text and source, by page id (null where none)."""
        n = len(self.names)
        if not self._first_pages:
            return pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
        pages = np.concatenate(self._first_pages)
        at = np.full(n, -1, dtype=np.int64)
        at[pages] = np.arange(len(pages))
        take: Any = pa.array(at, mask=at < 0)
        texts = pa.concat_arrays([_plain_strings(a) for a in self._first_texts]).take(take)
        sources = pa.concat_arrays([_plain_strings(a) for a in self._first_sources]).take(take)
        return texts, sources

    def stamp_texts(self) -> list[tuple[str, Any, Any]]:
        """Each page with the time stamp text and source of its first row."""
        texts, sources = self._firsts()
        return list(zip(self.names, texts.to_pylist(), sources.to_pylist(), strict=True))

    def stamp_columns(self, slow: Any) -> StampColumns:
        """Each page's stamp from the text of its first row, by page id as bound (see bind);
        texts other than a ledger writes go to `slow(text, source)`."""
        texts, sources = self._firsts()
        local = stamp_columns(texts, sources, slow)
        if len(self.global_of) != len(self.names):
            return local
        return local.permuted(self.global_of, self.n_global)

    def cut_off(self) -> set[str]:
        return {self.names[i] for i in self.cut}

    def bind(self, names: list[str]) -> list[str]:
        if names == self.names:  # the usual case: the pages in the order of the ledgers
            self.global_of = np.arange(len(names), dtype=np.int64)
            self.local_of = self.global_of
            self.n_global = len(names)
            return list(names)
        position = {name: i for i, name in enumerate(names)}
        names = list(names)
        global_of = np.empty(len(self.names), dtype=np.int64)
        for i, name in enumerate(self.names):
            if name not in position:
                position[name] = len(names)
                names.append(name)
            global_of[i] = position[name]
        self.global_of = global_of
        self.local_of = np.full(len(names), -1, dtype=np.int64)
        self.local_of[global_of] = np.arange(len(global_of))
        self.n_global = len(names)
        return names

    def counts(self) -> np.ndarray:
        out = np.zeros(self.n_global, dtype=np.int64)
        out[self.global_of] = self._counts_total()
        return out

    def _read(self, p: int, g: int, columns: tuple[str, ...]) -> tuple[pa.Table, np.ndarray]:
        ledger = self.pieces[p].ledger
        assert ledger is not None
        names = ["file", *(c for c in columns if c != "file" and c in ledger.schema_arrow.names)]
        try:
            table = ledger.read_row_group(g, columns=names)
        except (OSError, pa.ArrowException, ValueError) as error:
            raise LedgerError(f"a ledger cannot be read ({str(error)[:200]})") from None
        return table, self._row_ids(table.column("file"), (p, g))

    def settle(self) -> None:
        """Wait for the row groups being converted beside the history step (before a fork)."""
        if self._prefetching is not None:
            self._prefetching.join()
            self._prefetching = None

    def prefetch(self, fids: np.ndarray) -> None:
        """Start converting the row groups these pages are in, in a thread beside the history
        step (reading and decoding Parquet leaves the interpreter free for the rules)."""
        if self._prefetching is not None:
            self._prefetching.join()
        wanted = self.local_of[fids]
        wanted = np.sort(wanted[wanted >= 0])
        member = self._member(wanted)
        keys = [
            (p, g)
            for p, piece in enumerate(self.pieces)
            if piece.ledger is not None
            for g, pages in enumerate(piece.groups)
            if member[pages].any()
        ]

        def work() -> None:
            for p, g in keys[: ROW_GROUP_CACHE - 2]:
                try:
                    self._group(p, g)
                except Exception:  # the window that needs it reads it again, and says why it fails
                    return

        self._prefetching = threading.Thread(target=work, daemon=True)
        self._prefetching.start()

    def _group(self, p: int, g: int) -> _Group:
        """A row group's figures as arrays (kept for the next window: windows follow the ledger)."""
        with self._lock:
            return self._group_locked(p, g)

    def _group_locked(self, p: int, g: int) -> _Group:
        key = (p, g)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        table, ids = self._read(p, g, FIGURE_COLUMNS)
        for name in FIGURE_COLUMNS:
            if not _expected_type(name, table.column(name).type):
                kind = table.column(name).type
                raise LedgerError(f"a ledger's column `{name}` is {kind}, not what a quote ledger holds")
        group = _Group(
            ids=ids.astype(np.int32) if len(self.names) < 2**31 else ids,
            numbers={name: _number_array(table.column(name)) for name in NUMBER_COLUMNS},
            symbol=_small(self._text_codes("symbol", table.column("symbol"))),
            kind=_small(self._text_codes("kind", table.column("kind"))),
            load=lambda: self._read(p, g, CELL_COLUMNS)[0],
        )
        self._cache[key] = group
        while len(self._cache) > ROW_GROUP_CACHE:
            self._cache.popitem(last=False)
            _release()
        return group

    def _text_codes(self, name: str, column: pa.ChunkedArray) -> np.ndarray:
        """A few-valued text column as codes into self.texts[name] (-1 for a missing value)."""
        codes, texts = self.codes[name], self.texts[name]
        parts = []
        chunk: Any
        for chunk in column.chunks:
            if not pa.types.is_dictionary(chunk.type):
                chunk = pc.dictionary_encode(chunk)
            mapping = np.full(len(chunk.dictionary) + 1, -1, dtype=np.int64)
            for at, text in enumerate(chunk.dictionary.to_pylist()):
                if isinstance(text, str):
                    mapping[at] = codes.setdefault(text, len(codes))
                    if mapping[at] == len(texts):
                        texts.append(text)
            parts.append(mapping[chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def _member(self, wanted: np.ndarray) -> np.ndarray:
        """Per page id: whether it is one of `wanted`."""
        member = np.zeros(len(self.names), dtype=bool)
        member[wanted] = True
        return member

    def _fast_rows(self, fids: np.ndarray, wanted: np.ndarray) -> tuple[Any, np.ndarray] | None:
        """rows() for the rules' columns when only ledgers hold the pages: arrays gathered from
        the converted row groups, the cells findings show read only when asked for."""
        member = self._member(wanted)
        groups: list[_Group] = []
        picks: list[Any] = []
        for p, piece in enumerate(self.pieces):
            if piece.frame is not None:
                if _at(member, piece.frame_ids).any():
                    return None
                continue
            for g, pages in enumerate(piece.groups):
                if not member[pages].any():
                    continue
                group = self._group(p, g)
                groups.append(group)
                picks.append(_span(np.flatnonzero(_at(member, group.ids))))
        if not groups:
            return None
        ids = np.concatenate([gr.ids[pick] for gr, pick in zip(groups, picks, strict=True)])
        where = np.zeros(self.n_global, dtype=np.int64)
        where[fids] = np.arange(len(fids))
        place = where[self.global_of[ids]]  # (each row's page is one of fids)
        order = None
        if len(place) > 1 and not bool((place[1:] >= place[:-1]).all()):
            order = np.argsort(place, kind="stable")
            place = place[order]

        def gather(arrays: list[np.ndarray]) -> np.ndarray:
            joined = np.concatenate(arrays)
            return joined[order] if order is not None else joined

        out = _Columns()
        pairs = list(zip(groups, picks, strict=True))
        for name in NUMBER_COLUMNS:
            out[name] = pd.Series(gather([gr.numbers[name][pick] for gr, pick in pairs]))
        for name in ("symbol", "kind"):
            codes = gather([getattr(gr, name)[pick] for gr, pick in pairs])
            categories = pd.Index(list(self.texts[name]), dtype=object)
            out[name] = pd.Series(pd.Categorical.from_codes(codes, categories=categories))
        part = gather([np.full(_length(pick), i, dtype=np.int64) for i, pick in enumerate(picks)])
        at = gather([np.arange(pick.start, pick.stop) if isinstance(pick, slice) else pick for pick in picks])
        loaded: dict[int, pa.Table] = {}
        for name in CELL_COLUMNS:
            out[name] = _LazyCells(groups, name, part, at, loaded)
        return out, place

    def rows(
        self, fids: np.ndarray, columns: tuple[str, ...] = RULE_COLUMNS
    ) -> tuple[pd.DataFrame, np.ndarray]:
        wanted = self.local_of[fids]
        wanted = np.sort(wanted[wanted >= 0])
        if columns == RULE_COLUMNS:
            fast = self._fast_rows(fids, wanted)
            if fast is not None:
                return fast
        member = self._member(wanted)
        parts: list[pd.DataFrame] = []
        part_ids: list[np.ndarray] = []
        tables: list[pa.Table] = []
        table_ids: list[np.ndarray] = []
        for p, piece in enumerate(self.pieces):
            if piece.frame is not None:
                mask = _at(member, piece.frame_ids)
                if mask.any():
                    present = [c for c in columns if c in piece.frame.columns]
                    parts.append(piece.frame.loc[mask, present].reset_index(drop=True))
                    part_ids.append(piece.frame_ids[mask])
                continue
            for g, pages in enumerate(piece.groups):
                if not member[pages].any():
                    continue
                table, ids = self._read(p, g, columns)
                mask = _at(member, ids)
                present = [c for c in columns if c in table.column_names]
                tables.append(table.select(present).filter(pa.array(mask)))
                table_ids.append(ids[mask])
        if tables:
            parts.append(_joined(tables))
            part_ids.append(np.concatenate(table_ids))
        if not parts:
            return pd.DataFrame({c: [] for c in columns}), np.zeros(0, dtype=np.int64)
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        ids = part_ids[0] if len(part_ids) == 1 else np.concatenate(part_ids)
        place = np.searchsorted(fids, self.global_of[ids])
        if len(place) > 1 and not bool((place[1:] >= place[:-1]).all()):
            order = np.argsort(place, kind="stable")
            frame, place = frame.take(order).reset_index(drop=True), place[order]
        return frame, place

    def frame(self) -> pd.DataFrame:
        """Every row as one frame, in the order of the pieces (for the archive in one piece)."""
        parts = [p.frame[list(HISTORY_COLUMNS)] for p in self.pieces if p.frame is not None and len(p.frame)]
        tables = []
        for piece in self.pieces:
            if piece.ledger is not None:
                try:
                    tables.append(piece.ledger.read(columns=list(HISTORY_COLUMNS)))
                except (OSError, pa.ArrowException, ValueError) as error:
                    raise LedgerError(f"not a quote ledger ({str(error)[:200]})") from None
        if tables:
            parts.append(_joined(tables))
        if not parts:
            return pd.DataFrame({c: [] for c in HISTORY_COLUMNS})
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


# The rules' columns: figures read as arrays, and the cells a finding shows (read when asked).
NUMBER_COLUMNS = ("price", "change", "percent", "price_decimals", "change_decimals")
FIGURE_COLUMNS = (*NUMBER_COLUMNS, "symbol", "kind")
CELL_COLUMNS = tuple(c for c in RULE_COLUMNS if c not in FIGURE_COLUMNS)


@dataclass
class _Group:
    """One row group of a ledger: each row's page id, its figures, and the cells of findings."""

    ids: np.ndarray
    numbers: dict[str, np.ndarray]
    symbol: np.ndarray
    kind: np.ndarray
    load: Any  # () -> the cells of findings (read when a window's finding first asks for one)


class _Columns(dict[str, Any]):
    """Columns by name, as a window of the history step reads them (a frame's few methods)."""

    @property
    def columns(self) -> list[str]:
        return list(self)


class _LazyCells:
    """One cell column of a window's rows, each read from its row group only when asked for
    (`.iat[row]`, as a pandas column): findings are few."""

    def __init__(
        self, groups: list[_Group], name: str, part: np.ndarray, at: np.ndarray, loaded: dict[int, pa.Table]
    ) -> None:
        self.groups, self.name, self.part, self.at = groups, name, part, at
        self.loaded = loaded  # the cells read so far, by part (shared by a window's cell columns)

    @property
    def iat(self) -> _LazyCells:
        """The column itself (`.iat[row]`, as pandas; a property, so that no cycle holds it)."""
        return self

    def __getitem__(self, row: int) -> Any:
        part = int(self.part[row])
        table = self.loaded.get(part)
        if table is None:
            table = self.loaded[part] = self.groups[part].load()
        if self.name not in table.column_names:
            return None
        column = table.column(self.name)
        value = column[int(self.at[row])].as_py()
        if value is None and (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)):
            return 0  # as the frame a ledger is read into fills them
        return value


def _release() -> None:
    """Memory freed since (Arrow's pool, and the C heap where that is glibc's) back to the system:
    the windows of a large ledger free as much as they take, and a heap that keeps it grows."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _small(codes: np.ndarray) -> np.ndarray:
    """Codes of a few-valued column in two bytes when they fit."""
    if len(codes) and int(codes.max()) < 2**15:
        return codes.astype(np.int16)
    return codes


def _span(rows: np.ndarray) -> np.ndarray | slice:
    """Sorted rows as a slice when they follow one another (a view, not a copy, to gather)."""
    if len(rows) and int(rows[-1]) - int(rows[0]) + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _length(pick: np.ndarray | slice) -> int:
    return pick.stop - pick.start if isinstance(pick, slice) else len(pick)


def _at(member: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """member[ids], False for an id of -1 (a row without a page)."""
    return (ids >= 0) & member[np.maximum(ids, 0)]


def _number_array(column: pa.ChunkedArray) -> np.ndarray:
    """A figure column as ledger_frame reads it (decimals as the nearest floats, a missing
    integer as 0), integers compacted."""
    if pa.types.is_decimal(column.type):
        return _decimal_floats(column)
    if pa.types.is_integer(column.type):
        filled: Any = pc.fill_null(column, pa.scalar(0, column.type))
        return _compact(np.asarray(filled.to_numpy(), dtype=np.int64))
    values = column.to_numpy()
    return values.astype(np.float64) if values.dtype.kind == "f" else values


def _compact(values: np.ndarray) -> np.ndarray:
    """Small integers (a number's decimals) held in one byte when they fit."""
    if values.dtype.kind == "i" and len(values) and values.min() >= -128 and values.max() <= 127:
        return values.astype(np.int8)
    return values


def _run_heads(values: np.ndarray) -> np.ndarray:
    """The first row of each run of equal values."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))


def _values(column: pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """A text column's values at some rows (dictionaries decoded), as one Arrow array."""
    taken = column.take(pa.array(rows, type=pa.int64()))
    if pa.types.is_dictionary(taken.type):
        taken = taken.cast(taken.type.value_type)
    return _plain_strings(taken.combine_chunks() if isinstance(taken, pa.ChunkedArray) else taken)


def _plain_strings(array: pa.Array) -> pa.Array:
    """Text values as a string array (anything that is not text: null)."""
    if pa.types.is_string(array.type):
        return array
    if pa.types.is_large_string(array.type) or pa.types.is_dictionary(array.type):
        return array.cast(pa.string())
    return pa.nulls(len(array), pa.string())


def _text_array(column: pd.Series, rows: np.ndarray) -> pa.Array:
    """A frame column's values at some rows as a string array (what is not text: null)."""
    values = column.iloc[rows].tolist()
    return pa.array([v if isinstance(v, str) else None for v in values], type=pa.string())


def _joined(tables: list[pa.Table]) -> pd.DataFrame:
    """Ledger tables read apart as one frame; tables whose columns do not agree are a LedgerError."""
    try:
        joined = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowException, ValueError) as error:
        raise LedgerError(f"the ledgers do not agree in their columns ({str(error)[:200]})") from None
    return ledger_frame(joined)
