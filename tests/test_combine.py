"""combine joins findings frames in the order `sort` gives their concatenation, sorted or not."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.findings import combine, normalize, sort

_ROW = st.tuples(
    st.sampled_from(["a.jsonl", "b.jsonl"]),
    st.one_of(st.none(), st.integers(1, 4)),
    st.one_of(st.none(), st.integers(1, 3)),
    st.sampled_from(["QC903", "QC905", "QC207"]),
    st.sampled_from(["m", "n", ""]),
)


def _key(row: tuple) -> tuple:
    return (row[0], row[1] or 0, row[2] or 0, row[3], row[4])


def _part(rows: list[tuple]) -> pd.DataFrame:
    columns = ("file", "line", "column", "rule", "message")
    frame = pd.DataFrame({name: [row[at] for row in rows] for at, name in enumerate(columns)})
    frame["observed"] = [str(at) for at in range(len(rows))]  # tells equal keys apart
    return normalize(frame)


_SORTED_PART = st.lists(_ROW, max_size=5).map(lambda rows: sorted(rows, key=_key))


@settings(max_examples=200, deadline=None)
@given(st.lists(_SORTED_PART, max_size=4), st.booleans())
def test_combine_is_the_stable_sort_of_the_parts_joined(parts, shuffle_rows):
    frames = [_part(rows[::-1] if shuffle_rows else rows) for rows in parts]
    for at, frame in enumerate(frames):
        frame["observed"] = frame["observed"] + f"/{at}"
    combined = combine([frame.copy() for frame in frames])
    if not any(len(frame) for frame in frames):
        assert not len(combined)
        return
    pd.testing.assert_frame_equal(combined, sort(pd.concat(frames, ignore_index=True)))


def test_parts_in_order_one_after_another_are_joined_as_they_are():
    first = _part([("a.jsonl", None, None, "QC903", "no quote")])
    second = _part([("a.jsonl", n, 1, "QC905", f"record {n}") for n in range(1, 6)])
    combined = combine([second, first])
    assert combined["rule"].tolist() == ["QC903"] + ["QC905"] * 5
    assert combined["line"].tolist()[1:] == [1, 2, 3, 4, 5]
