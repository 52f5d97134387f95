"""Snapshot times: the manifest, the date (and time) in a file name, the crawler prefix."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath

import pytest

from checker.history.times import (
    parse_captured_at,
    read_manifest,
    snapshot_stamp,
    stamp_from_name,
    stamp_from_text,
    stamps_from_names,
)


@pytest.mark.parametrize(
    ("name", "day", "time"),
    [
        ("br-2024-03-28T1545.txt", "2024-03-28", "15:45"),
        ("ticker_20240328_0930.txt", "2024-03-28", "09:30"),
        ("page 2024-03-28 15-45.txt", "2024-03-28", "15:45"),
        ("page-2024-03-28-15:45.html", "2024-03-28", "15:45"),
        ("snap20240328T154512.txt.gz", "2024-03-28", "15:45:12"),
        ("archive/2023/page 2024-03-28.txt", "2024-03-28", None),
        ("20240328.txt", "2024-03-28", None),
        ("page 2024-03-28T9999.txt", "2024-03-28", None),  # not a time: the date alone
    ],
)
def test_file_name_stamps(name, day, time):
    stamp = stamp_from_name(name)
    assert stamp is not None and stamp.source == "file name"
    assert stamp.day == dt.date.fromisoformat(day)
    assert stamp.time == (dt.time.fromisoformat(time) if time else None)


@pytest.mark.parametrize(
    "name", ["000_bc2a9c9b32c1a146.txt", "page_035.txt", "2024-13-45.txt", "12024032801.txt", "2024-0328.txt"]
)
def test_names_without_a_date(name):
    assert stamp_from_name(name) is None


NAMES = [
    "br-2024-03-28T1545.txt",
    "ticker_20240328_0930.txt",
    "page 2024-03-28 15-45.txt",
    "snap20240328T154512.txt.gz",
    "a/b\\c 20240328-1545.txt",
    "page 2024-03-28T9999.txt",
    "000_bc2a9c9b32c1a146.txt",
    "2024-13-45.txt",
    "2024-13-45 and 2024-03-28.txt",
    "2024-0328.txt",
    "12024032801.txt",
    "",
]


def test_many_names_at_once_read_as_each_alone():
    assert stamps_from_names(NAMES) == [stamp_from_name(name) for name in NAMES]
    assert stamps_from_names(NAMES)[8] == stamp_from_name("2024-03-28.txt")  # the first real date


def test_crawler_prefix_is_a_date_near_the_top():
    text = " date 2024-03-28 AIRLINK 61.80 Increased By ▲ 1.37 (2.27%)\nBOP 10.39 ..."
    stamp = stamp_from_text(text)
    assert stamp is not None and stamp.source == "crawler prefix"
    assert stamp.day == dt.date(2024, 3, 28) and stamp.time is None
    assert stamp_from_text("x" * 5000 + " date 2024-03-28 AIRLINK") is None  # too far down
    assert stamp_from_text("the date 2024-02-30 is no date") is None
    assert stamp_from_text(None) is None


@pytest.mark.parametrize(
    ("text", "day", "time"),
    [
        ("2024-03-28", "2024-03-28", None),
        ("2024-03-28T15:45", "2024-03-28", "15:45"),
        ("2024-03-28 15:45:30", "2024-03-28", "15:45:30"),
        ("2024-03-28T10:45:00+00:00", "2024-03-28", "15:45"),  # UTC to Karachi time
        ("2024-03-28T22:00Z", "2024-03-29", "03:00"),
        ("2024-03-28T15:45:00+05:00", "2024-03-28", "15:45"),
    ],
)
def test_manifest_times_are_in_exchange_time(text, day, time):
    stamp = parse_captured_at(text)
    assert stamp is not None and stamp.source == "manifest"
    assert (stamp.day, stamp.time) == (
        dt.date.fromisoformat(day),
        dt.time.fromisoformat(time) if time else None,
    )


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2024-02-30", "2024-03-28T25:00", "2024-03-28T10:00+99:00", "28/03/2024"]
)
def test_bad_capture_times_are_refused(text):
    assert parse_captured_at(text) is None


def test_manifest_rows_match_inputs_by_path_or_unambiguous_base_name():
    text = (
        "file,captured_at\n"
        "pages/a.txt,2024-12-03T10:00\n"
        "b.txt,2024-12-04\n"
        "missing.txt,2024-12-05\n"
        "pages/c.txt,not a time\n"
        ",2024-12-05\n"
    )
    manifest = read_manifest(text, "times.csv", PurePosixPath("/data"))
    stamps = manifest.match(
        ["/data/pages/a.txt", "other/b.txt", "/data/pages/c.txt"],
        resolve={"other/b.txt": "/elsewhere/other/b.txt"},
    )
    assert stamps["/data/pages/a.txt"].time == dt.time(10, 0)
    assert stamps["other/b.txt"].day == dt.date(2024, 12, 4)  # by its base name, the only b.txt
    assert "/data/pages/c.txt" not in stamps
    assert any("times.csv:4" in p and "missing.txt" in p and "names no input" in p for p in manifest.problems)
    assert any("times.csv:5" in p and "not an ISO 8601" in p for p in manifest.problems)
    assert any("times.csv:6" in p and "names no file" in p for p in manifest.problems)


def test_an_ambiguous_base_name_matches_nothing():
    manifest = read_manifest("file,captured_at\nx/a.txt,2024-12-03\n", "m.csv", PurePosixPath("/m"))
    assert manifest.match(["/p/a.txt", "/q/a.txt"]) == {}
    assert manifest.problems


def test_a_file_that_is_no_manifest_is_refused():
    with pytest.raises(ValueError, match="file,captured_at"):
        read_manifest("name,when\na,b\n", "m.csv", PurePosixPath("/"))


def test_the_manifest_comes_first_then_the_name_then_the_prefix():
    manifest = read_manifest(
        "file,captured_at\npage 2024-12-04.txt,2024-12-05T11:00\n", "m.csv", PurePosixPath("/")
    )
    stamps = manifest.match(["/page 2024-12-04.txt"])
    assert snapshot_stamp("/page 2024-12-04.txt", stamps, " date 2024-12-01 X").source == "manifest"
    assert snapshot_stamp("/page 2024-12-04.txt", {}, " date 2024-12-01 X").source == "file name"
    assert snapshot_stamp("/page.txt", {}, " date 2024-12-01 X").source == "crawler prefix"
    assert snapshot_stamp("/page.txt", {}, "no prefix") is None
