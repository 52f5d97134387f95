"""Sessions: from the calendar and the stamps, and from the figures alone when pages carry no time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import pytest
from history_pages import STOCKS, Quote, page_text

from checker.api import check_paths
from checker.config import Options
from checker.history import calendar as history_calendar
from checker.history.calendar import build_calendar, history_settings
from checker.history.engine import history_findings
from checker.profile import load_profile, profile_from_dict

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"


def _walk(days: int, seed: int = 3) -> list[tuple[dict[str, int], dict[str, int]]]:
    """Closing figures of consecutive sessions: stocks in paisa, indices in hundredths."""
    stocks = {s: 2000 + 977 * i for i, s in enumerate(STOCKS)}
    indices = {"KSE100": 11480460, "KSE30": 3610230, "BR100": 1203980, "BR30": 3668910}
    out = [(stocks, indices)]
    for d in range(days):
        stocks = {s: v + ((d * 31 + i * 17 + seed) % 29 - 14) for i, (s, v) in enumerate(stocks.items())}
        indices = {
            s: v + ((d * 13 + i * 5 + seed) % 37 - 18) * 1003 for i, (s, v) in enumerate(indices.items())
        }
        out.append((stocks, indices))
    return out


def _page(now, before, index_from=None) -> list[Quote]:
    quotes = [Quote(s, p, before[0][s]) for s, p in now[0].items()]
    source = index_from or now
    return quotes + [Quote(s, p, before[1][s], index=True) for s, p in source[1].items()]


def _moved(now, shift: int):
    return (
        {s: p + shift * (1 + i % 3) for i, (s, p) in enumerate(now[0].items())},
        {s: p + shift * 300 for s, p in now[1].items()},
    )


def _run(folder: Path, pages: dict[str, list[Quote]], prefixes: dict[str, str] | None = None, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, quotes in pages.items():
        (folder / name).write_text(page_text(quotes, (prefixes or {}).get(name)), encoding="utf-8")
        paths.append(str(folder / name))
    report = check_paths(paths, Options(include_quotes=True))
    assert report.counts["error"] == 0 and report.counts["warning"] == 0
    texts = {p: Path(p).read_text(encoding="utf-8")[:4096] for p in paths}
    return history_findings(
        report.quotes, report.files, kwargs.pop("profile", load_profile()), page_texts=texts, **kwargs
    )


def _by_name(result):
    return {
        Path(f).name: row
        for f, row in zip(result.snapshots["file"], result.snapshots.to_dict("records"), strict=True)
    }


def test_same_session_pages_without_time_are_grouped_by_their_previous_closes(tmp_path):
    w = _walk(2)
    pages = {"x1.txt": _page(_moved(w[1], 3), w[0]), "x2.txt": _page(_moved(w[1], -2), w[0])}
    result = _run(tmp_path, pages)
    rows = _by_name(result)
    assert rows["x1.txt"]["session"] == rows["x2.txt"]["session"] == "F1"
    assert rows["x1.txt"]["session_source"] == "figures" and rows["x1.txt"]["time_source"] == "figures"
    assert not len(result.findings)


def test_the_order_of_sessions_is_found_from_the_figures_and_a_break_in_it_is_an_error(tmp_path):
    w = _walk(3)
    later = _page(w[2], w[1])
    later[4] = Quote(later[4].symbol, later[4].price, later[4].previous + 9)  # a break on line 5
    pages = {"b.txt": later, "c.txt": _page(w[3], w[2]), "a.txt": _page(w[1], w[0])}
    result = _run(tmp_path, pages)
    ordered = result.sessions.sort_values("position")
    assert [Path(files[0]).name for files in ordered["files"]] == ["a.txt", "b.txt", "c.txt"]
    found = {(r.rule, Path(r.file).name, int(r.line), r.severity) for r in result.findings.itertuples()}
    assert found == {("QC601", "b.txt", 5, "error")}


def test_unrelated_pages_are_unordered_and_compared_with_nothing(tmp_path):
    one, other = _walk(1, seed=1), _walk(1, seed=2)
    other = [({s: p + 5000 for s, p in st.items()}, ix) for st, ix in other]
    result = _run(tmp_path, {"p.txt": _page(one[1], one[0]), "q.txt": _page(other[1], other[0])})
    assert result.sessions["position"].isna().all()
    assert not len(result.findings)


def test_a_frozen_index_block_is_found_by_the_figures_and_a_stamp_decides_the_session(tmp_path):
    # Late September 2025: two pages with the same previous closes and the same index lines,
    # while the stocks moved. By the figures alone one session with a stale index block; with
    # crawler prefixes naming two different days, two sessions that this rule does not compare.
    w = _walk(2)
    first = _page(_moved(w[1], 2), w[0])
    second = _page(_moved(w[1], 7), w[0], index_from=_moved(w[1], 2))
    alone = _run(tmp_path / "alone", {"s1.txt": first, "s2.txt": second})
    stale = alone.findings[alone.findings["rule"] == "QC604"]
    assert len(stale) == 4 and set(stale["severity"]) == {"warning"}
    assert set(stale["file"].map(lambda f: Path(f).name)) == {"s2.txt"}
    stamped = _run(
        tmp_path / "stamped",
        {"s1.txt": first, "s2.txt": second},
        prefixes={"s1.txt": "2025-09-25", "s2.txt": "2025-09-26"},
    )
    assert not (stamped.findings["severity"].isin(["error", "warning"])).any(), stamped.findings.to_string()


def test_a_stamp_is_never_moved_to_another_session_by_the_figures(tmp_path):
    w = _walk(2)
    pages = {
        "page 2024-12-03T1000.txt": _page(_moved(w[1], 1), w[0]),
        "page 2024-12-04T1000.txt": _page(_moved(w[1], 2), w[0]),  # figures of the 3rd, stamped the 4th
        "loose.txt": _page(_moved(w[1], 3), w[0]),
    }
    result = _run(tmp_path, pages)
    rows = _by_name(result)
    assert rows["page 2024-12-04T1000.txt"]["session"] == "2024-12-04"
    assert rows["loose.txt"]["session"] in ("2024-12-03", "2024-12-04")


def test_a_page_before_the_open_shows_the_previous_session(tmp_path):
    w = _walk(2)
    result = _run(
        tmp_path,
        {"page 2024-12-04T0800.txt": _page(w[1], w[0]), "page 2024-12-09T0900.txt": _page(w[2], w[1])},
    )
    rows = _by_name(result)
    assert rows["page 2024-12-04T0800.txt"]["session"] == "2024-12-03"
    assert rows["page 2024-12-09T0900.txt"]["session"] == "2024-12-06"  # Monday before the open: Friday


def test_a_date_the_calendars_disagree_on_is_uncertain_and_draws_no_error(tmp_path):
    # 2025-06-06: exchange-calendars trades, holidays closes for Eid al-Adha.
    pytest.importorskip("exchange_calendars")
    pytest.importorskip("holidays")
    w = _walk(2)
    bad = _page(w[2], w[1])
    bad[2] = Quote(bad[2].symbol, bad[2].price, bad[2].previous + 11)
    result = _run(tmp_path, {"page 2025-06-05T1545.txt": _page(w[1], w[0]), "page 2025-06-06T1645.txt": bad})
    rows = _by_name(result)
    assert rows["page 2025-06-06T1645.txt"]["uncertain"] is True
    assert not (result.findings["severity"] == "error").any()


def test_profile_closures_and_extra_sessions_override_the_calendar():
    raw = dict(load_profile().__dict__)
    settings = history_settings(load_profile())
    assert settings.hours_on(dt.date(2024, 12, 6)).close == dt.time(16, 30)  # Friday
    assert settings.hours_on(dt.date(2024, 12, 5)).close == dt.time(15, 30)
    import json

    from checker.resources import schema_path

    data = json.loads(schema_path("profiles", "br-psx.json").read_text(encoding="utf-8"))
    data["history"]["closures"] = ["2024-12-04"]
    data["history"]["extra_sessions"] = ["2024-12-07"]
    profile = profile_from_dict(data, "test")
    cal = build_calendar(history_settings(profile), dt.date(2024, 12, 1), dt.date(2024, 12, 10))
    assert not cal.is_session[cal.index(dt.date(2024, 12, 4))]
    assert cal.is_session[cal.index(dt.date(2024, 12, 7))]
    assert cal.is_session[cal.index(dt.date(2024, 12, 5))]
    assert raw  # the bundled profile itself is untouched


def test_without_a_calendar_library_weekdays_and_the_profile_decide(monkeypatch):
    for name in ("exchange_calendars", "holidays"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    monkeypatch.setattr(history_calendar, "_KNOWN_TABLES", {})  # none kept from an earlier run
    cal = history_calendar.build_calendar(
        history_settings(load_profile()), dt.date(2024, 12, 1), dt.date(2024, 12, 31)
    )
    assert cal.sources == ["Monday to Friday"]
    assert "no calendar library" in cal.describe()
    assert cal.is_session[cal.index(dt.date(2024, 12, 25))]  # no holiday known without a library
    assert not cal.is_session[cal.index(dt.date(2024, 12, 28))]  # a Saturday


@pytest.mark.parametrize(
    "first, last",
    [
        (dt.date(2008, 1, 1), dt.date(2026, 6, 30)),
        (dt.date(2024, 12, 20), dt.date(2025, 1, 10)),  # across a new year
        (dt.date(2016, 1, 1), dt.date(2016, 12, 31)),  # the first year `holidays` covers
        (dt.date(2025, 6, 1), dt.date(2025, 6, 10)),  # a date the libraries disagree on
        (dt.date(1995, 3, 1), dt.date(1995, 4, 1)),  # before either covers
    ],
)
def test_calendar_tables_a_worker_built_for_many_years_give_the_days_built_here(monkeypatch, first, last):
    pytest.importorskip("exchange_calendars")
    pytest.importorskip("holidays")
    settings = history_settings(load_profile())
    monkeypatch.setattr(history_calendar, "_KNOWN_TABLES", {})
    here = build_calendar(settings, first, last)
    history_calendar.remember_tables(history_calendar.library_tables(settings.calendar, 1990, 2030))
    kept = build_calendar(settings, first, last)
    assert kept.start == here.start
    assert kept.is_session.tolist() == here.is_session.tolist()
    assert kept.uncertain.tolist() == here.uncertain.tolist()
    assert kept.describe() == here.describe()
    assert here.is_session.size and not here.is_session.all()  # the comparison is of real days


def test_calendar_tables_that_do_not_cover_the_span_are_not_used(monkeypatch):
    pytest.importorskip("exchange_calendars")
    settings = history_settings(load_profile())
    monkeypatch.setattr(history_calendar, "_KNOWN_TABLES", {})
    here = build_calendar(settings, dt.date(2024, 12, 1), dt.date(2025, 1, 31))
    narrow = history_calendar.library_tables(settings.calendar, 2024, 2024)
    assert not narrow.covers(dt.date(2024, 11, 17), dt.date(2025, 1, 31))
    # tables with no session at all: every weekday would be closed, were they used
    history_calendar.remember_tables(dataclasses.replace(narrow, sessions=frozenset()))
    kept = build_calendar(settings, dt.date(2024, 12, 1), dt.date(2025, 1, 31))
    assert kept.is_session.tolist() == here.is_session.tolist()
    assert here.is_session.any()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seeds are not beside the repository")
def test_the_real_snapshots_as_an_archive_draw_no_history_error_or_warning():
    pages = sorted(str(p) for p in SEEDS.iterdir() if p.is_file())
    report = check_paths(pages, Options(include_quotes=True))
    texts = {p: Path(p).read_text(encoding="utf-8", errors="replace")[:4096] for p in pages}
    result = history_findings(report.quotes, report.files, load_profile(), page_texts=texts)
    assert not result.findings["severity"].isin(["error", "warning"]).any(), result.findings.to_string()
    assert len(result.snapshots) == len(pages)


def test_capture_order_is_found_across_a_gap_of_missing_sessions(tmp_path):
    fixtures = ROOT / "tests" / "fixtures" / "history" / "QC607-fail"
    renamed = {
        "page 2024-12-03T1545.txt": "page 2024-12-03T1545.txt",
        "page 2024-12-04T1545.txt": "page 2024-12-05T1545.txt",
    }
    for old, new in renamed.items():
        (tmp_path / new).write_text((fixtures / old).read_text(encoding="utf-8"), encoding="utf-8")
    paths = sorted(str(p) for p in tmp_path.iterdir())
    report = check_paths(paths, Options(include_quotes=True))
    result = history_findings(report.quotes, report.files, load_profile())
    found = {(r.rule, Path(r.file).name, r.severity) for r in result.findings.itertuples()}
    assert found == {("QC607", "page 2024-12-05T1545.txt", "warning")}


def test_of_several_date_only_pages_the_one_that_chains_best_is_the_session_s_last(tmp_path):
    w = _walk(2)
    later = _page(w[2], w[1])
    later[3] = Quote(later[3].symbol, later[3].price, later[3].previous - 4)
    pages = {"x.txt": _page(w[1], w[0]), "y.txt": _page(_moved(w[1], 5), w[0]), "z.txt": later}
    prefixes = {"x.txt": "2024-12-03", "y.txt": "2024-12-03", "z.txt": "2024-12-04"}
    result = _run(tmp_path, pages, prefixes=prefixes)
    found = {(r.rule, Path(r.file).name, int(r.line)) for r in result.findings.itertuples()}
    assert found == {("QC601", "z.txt", 4)}
    assert "x.txt" in result.findings["expected"].iloc[0]
