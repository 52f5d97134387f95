"""Repairs weighed against the previous close (`check --fix --history`, `--state FILE`): a stock's
price - change is the last session's close exactly, so the one candidate that gives it is safe,
and when none gives it nothing is applied; without a close known for certain nothing changes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.cli import cli
from checker.config import Options
from checker.fix import DISPLAY_ONLY, SAFE, UNSAFE, PreviousClose
from checker.repair import repair_bytes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample-page.txt"
_STOCK = re.compile(r"^([A-Z0-9]+) ([0-9]+\.[0-9]{2}) (Increased By|Decreased By|No Change)")


def _stocks() -> list[str]:
    return [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if _STOCK.match(line)]


def _next_day(lines: list[str]) -> list[str]:
    """The next session's page: each stock moved from its price on `lines` (its previous close)."""
    out = []
    for i, line in enumerate(lines):
        symbol, price = line.split()[:2]
        close = Decimal(price)
        change = Decimal((i * 37) % 50 - 25) / 100
        now = close + change
        percent = (change / close * 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        shown = "0" if percent == 0 else format(percent.normalize(), "f")
        if change > 0:
            out.append(f"{symbol} {now:.2f} Increased By ▲ {change:.2f} ({shown}%)")
        elif change < 0:
            out.append(f"{symbol} {now:.2f} Decreased By ▼ {change:.2f} ({shown}%)")
        else:
            out.append(f"{symbol} {now:.2f} No Change ▼ 0.00 (0%)")
    return out


DAY1 = _stocks()
DAY2 = _next_day(DAY1)


def _line(symbol: str, lines: list[str] = DAY2) -> str:
    return next(line for line in lines if line.startswith(symbol + " "))


# Faults on the second day's page, each with the line it must give back (at most 3 of 30 stocks:
# the rest still chain, at least 90%).
FAULTS = {
    "BOP": ("BOP 10.51 Increased By ▲ -0.12 (1.15%)", _line("BOP")),  # the change's sign
    "FFL": ("FFL 17.04 Increased By ▲ 0.23 (1.34%)", _line("FFL")),  # a price's digits swapped
    "FCCL": ("FCCL 34.95 Decreased By ▼ -0.41 (-0.4%)", _line("FCCL")),  # a change's digits swapped
}


def _page(lines: list[str], faults: dict[str, str]) -> str:
    return "\n".join(faults.get(line.split()[0], line) for line in lines) + "\n"


def _write(folder: Path, pages: dict[str, str]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [str(folder / name) for name in pages]


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch, folder: Path) -> tuple[int, str, str]:
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli, ["check", *args, "--no-report"])
    assert result.exit_code != 3, result.output
    return result.exit_code, result.stdout, result.stderr


def _report(args: list[str], monkeypatch: pytest.MonkeyPatch, folder: Path) -> dict:
    _run([*args, "--json", str(folder / "r.json")], monkeypatch, folder)
    return json.loads((folder / "r.json").read_text(encoding="utf-8"))


def _two_days(tmp_path: Path, faults: dict[str, str], day1: str = "br-2024-12-03T1545.txt") -> Path:
    folder = tmp_path / "pages"
    _write(folder, {day1: _page(DAY1, {}), "br-2024-12-04T1200.txt": _page(DAY2, faults)})
    return folder


def _fault_lines(*symbols: str) -> dict[str, str]:
    return {s: FAULTS[s][0] for s in symbols}


def test_the_previous_close_makes_a_sign_a_price_and_a_change_safe(tmp_path, monkeypatch):
    folder = _two_days(tmp_path, _fault_lines("BOP", "FFL", "FCCL"))
    day2 = folder / "br-2024-12-04T1200.txt"
    status, _, err = _run(["br-2024-12-03T1545.txt", day2.name, "--history", "--fix"], monkeypatch, folder)
    assert day2.read_text(encoding="utf-8") == _page(DAY2, {})  # every line given back, byte for byte
    assert "previous closes: 3 confirmed, 0 refused" in err
    assert status == 0
    # (and a second run finds nothing left to do)
    before = day2.read_bytes()
    _run(["br-2024-12-03T1545.txt", day2.name, "--history", "--fix"], monkeypatch, folder)
    assert day2.read_bytes() == before


def test_without_the_ledger_the_same_faults_are_not_made_safe(tmp_path, monkeypatch):
    folder = _two_days(tmp_path, _fault_lines("BOP", "FFL", "FCCL"))
    day2 = folder / "br-2024-12-04T1200.txt"
    original = day2.read_bytes()
    _run(["br-2024-12-03T1545.txt", day2.name, "--fix"], monkeypatch, folder)
    assert day2.read_bytes() == original  # the sign is unsafe, the swapped digits display-only
    _run(["br-2024-12-03T1545.txt", day2.name, "--fix", "--unsafe-fixes"], monkeypatch, folder)
    lines = day2.read_text(encoding="utf-8").splitlines()
    assert _line("BOP", lines) == FAULTS["BOP"][1]  # the sign, on a judgement
    assert _line("FFL", lines) == FAULTS["FFL"][0] and _line("FCCL", lines) == FAULTS["FCCL"][0]


def test_each_confirmed_fix_names_its_previous_close_and_where_it_stands(tmp_path, monkeypatch):
    folder = _two_days(tmp_path, _fault_lines("BOP", "FFL"))
    report = _report(
        ["br-2024-12-03T1545.txt", "br-2024-12-04T1200.txt", "--history", "--fix-to", "out"],
        monkeypatch,
        folder,
    )
    applied = [f for f in report["fixes"] if f["status"] == "applied"]
    assert {f["rule"] for f in applied} == {"QC301", "QC303"}
    bop = next(f for f in applied if f["rule"] == "QC301")
    assert bop["applicability"] == SAFE
    assert bop["previous_close"] == "previous close 10.39 (2024-12-03, br-2024-12-03T1545.txt:2:5)"
    assert "confirmed" in bop["message"] and "10.39" in bop["message"]
    ffl = next(f for f in applied if f["rule"] == "QC303")
    assert ffl["edits"][0]["before"] == "17.04" and ffl["edits"][0]["after"] == "17.40"
    assert (folder / "br-2024-12-04T1200.txt").read_text(encoding="utf-8") == _page(
        DAY2, _fault_lines("BOP", "FFL")
    )


def test_a_previous_close_that_agrees_with_no_candidate_refuses_them_all(tmp_path, monkeypatch):
    # price and percent both off: no one figure gives back the previous close 14.23
    humnl = _line("HUMNL")
    faulty = "HUMNL 14.70 Decreased By ▼ -0.16 (-1.21%)"
    folder = _two_days(tmp_path, {"HUMNL": faulty})
    day2 = folder / "br-2024-12-04T1200.txt"
    report = _report(
        ["br-2024-12-03T1545.txt", day2.name, "--history", "--fix", "--unsafe-fixes"], monkeypatch, folder
    )
    assert _line("HUMNL", day2.read_text(encoding="utf-8").splitlines()) == faulty != humnl
    fix = next(f for f in report["fixes"] if f["rule"] == "QC303")
    assert fix["applicability"] == DISPLAY_ONLY and fix["status"] == "available" and not fix["edits"]
    assert "agrees with none of the candidates" in fix["message"] and "14.23" in fix["previous_close"]


def test_a_change_the_previous_close_confirms_as_shown_is_not_flipped(tmp_path, monkeypatch):
    # The change -0.12 is right (10.27 + 0.12 = 10.39): the word, arrow and percent are what is off,
    # though the change flipped would fit the percent (what --unsafe-fixes alone would apply).
    day2 = [*DAY2]
    folder = tmp_path / "pages"
    _write(
        folder,
        {
            "br-2024-12-03T1545.txt": _page(DAY1, {}),
            "br-2024-12-04T1200.txt": _page(day2, {"BOP": "BOP 10.27 Increased By ▲ -0.12 (1.18%)"}),
        },
    )
    page = folder / "br-2024-12-04T1200.txt"
    original = page.read_bytes()
    args = ["br-2024-12-03T1545.txt", page.name, "--history", "--fix", "--unsafe-fixes"]
    report = _report(args, monkeypatch, folder)
    assert page.read_bytes() == original
    fix = next(f for f in report["fixes"] if f["rule"] == "QC301" and f["message"].startswith("change"))
    assert fix["applicability"] == DISPLAY_ONLY
    assert "confirms the change as shown" in fix["message"]
    _run([*args[:2], "--fix", "--unsafe-fixes"], monkeypatch, folder)  # without the ledger: flipped
    assert (
        _line("BOP", page.read_text(encoding="utf-8").splitlines()) == "BOP 10.27 Increased By ▲ 0.12 (1.18%)"
    )


def test_the_real_source_error_is_never_changed_by_a_safe_fix_even_when_the_close_confirms_it():
    line = "PIBTL 15.48 Increased By ▲ 0.24 (1.58%)\n"
    page = (line * 1).encode("utf-8")
    # Without a close: nine prices, a change and the percent fit; nothing is applied.
    assert repair_bytes(page, "p.txt", Options(), unsafe=True).repaired == page
    # 15.48 - 0.24 = 15.24: the price and the change stand, the percent was misprinted by the
    # source; the confirmed recomputed percent is applied only with --unsafe-fixes.
    close = PreviousClose("15.24", "day1.txt:3:7", "2024-12-03")
    kept = repair_bytes(page, "p.txt", Options(), closes={"PIBTL": close})
    assert kept.repaired == page
    assert [(f.applicability, f.previous_close) for f in kept.remaining if f.rule == "QC303"] == [
        (UNSAFE, close.describe())
    ]
    done = repair_bytes(page, "p.txt", Options(), unsafe=True, closes={"PIBTL": close})
    assert done.repaired == b"PIBTL 15.48 Increased By \xe2\x96\xb2 0.24 (1.57%)\n"
    assert done.applied[0].applicability == UNSAFE and done.applied[0].previous_close == close.describe()
    # 15.23: the price 15.47 is the one figure that gives both the close and the percent.
    other = repair_bytes(page, "p.txt", Options(), closes={"PIBTL": PreviousClose("15.23", "d:1:1", "s")})
    assert other.repaired == b"PIBTL 15.47 Increased By \xe2\x96\xb2 0.24 (1.58%)\n"
    # 15.30: nothing gives it; nothing is applied, even with --unsafe-fixes.
    none = repair_bytes(
        page, "p.txt", Options(), unsafe=True, closes={"PIBTL": PreviousClose("15.30", "d:1:1", "s")}
    )
    assert none.repaired == page
    assert [f.applicability for f in none.remaining if f.rule == "QC303"] == [DISPLAY_ONLY]


def test_a_close_is_not_used_for_an_index_nor_for_another_symbol():
    index = b"KSE100 114,977 Increased By 172.5 (0.19%)\n"
    close = PreviousClose("114,804", "d:1:1", "s")
    result = repair_bytes(index, "p.txt", Options(), unsafe=True, closes={"KSE100": close})
    assert result.repaired == index and all(not f.previous_close for f in result.remaining)
    sign = "BOP 10.51 Increased By ▲ -0.12 (1.15%)\n".encode()
    other = repair_bytes(sign, "p.txt", Options(), closes={"FFL": PreviousClose("10.39", "d:1:1", "s")})
    assert other.repaired == sign and [f.applicability for f in other.remaining] == [UNSAFE]


@pytest.mark.parametrize(
    ("why", "pages"),
    [
        # a session missing between the two: the close of 2024-12-04 is not known
        ("a session between", {"br-2024-12-03T1545.txt": "day1", "br-2024-12-05T1200.txt": "day2"}),
        # the first page was taken before the close: its prices are not the close, even if they chain
        ("no closing snapshot", {"br-2024-12-03T1000.txt": "day1", "br-2024-12-04T1200.txt": "day2"}),
        # too many stocks off: the page does not chain (90% of its stocks) and nothing is trusted
        ("not chaining", {"br-2024-12-03T1545.txt": "day1", "br-2024-12-04T1200.txt": "day2many"}),
    ],
)
def test_no_repair_leans_on_a_close_that_is_not_known(tmp_path, monkeypatch, why, pages):
    many = _fault_lines("BOP", "FFL", "FCCL")
    many["HUMNL"] = "HUMNL 14.70 Decreased By ▼ -0.16 (-1.21%)"
    texts = {
        "day1": _page(DAY1, {}),
        "day2": _page(DAY2, _fault_lines("BOP", "FFL")),
        "day2many": _page(DAY2, many),
    }
    folder = tmp_path / "pages"
    names = _write(folder, {name: texts[kind] for name, kind in pages.items()})
    later = Path(names[1])
    original = later.read_bytes()
    _status, _, err = _run([*[Path(n).name for n in names], "--history", "--fix"], monkeypatch, folder)
    assert later.read_bytes() == original, why
    assert "previous closes: 0 confirmed, 0 refused" in err, why


def test_pages_without_time_stamps_chain_by_their_figures(tmp_path, monkeypatch):
    folder = tmp_path / "pages"
    _write(folder, {"a.txt": _page(DAY1, {}), "b.txt": _page(DAY2, _fault_lines("BOP", "FFL"))})
    _run(["a.txt", "b.txt", "--history", "--fix"], monkeypatch, folder)
    assert (folder / "b.txt").read_text(encoding="utf-8") == _page(DAY2, {})


def test_a_cached_page_served_again_gets_no_close(tmp_path, monkeypatch):
    # The third page repeats the first day's figures on a later day (a cached page, one sign
    # altered): its previous closes are not the second day's prices, so none is weighed.
    faulty_day1 = _page(DAY1, {"BOP": "BOP 10.39 Decreased By ▼ 0.10 (-0.95%)"})
    folder = tmp_path / "pages"
    _write(
        folder,
        {
            "br-2024-12-02T1545.txt": _page(DAY1, {}),
            "br-2024-12-03T1545.txt": _page(DAY2, {}),
            "br-2024-12-04T1200.txt": faulty_day1,
        },
    )
    page = folder / "br-2024-12-04T1200.txt"
    _run([*sorted(p.name for p in folder.glob("*.txt")), "--history", "--fix"], monkeypatch, folder)
    assert page.read_text(encoding="utf-8") == faulty_day1


def test_a_history_state_gives_the_previous_close(tmp_path, monkeypatch):
    folder = _two_days(tmp_path, _fault_lines("BOP", "FFL"))
    runner = CliRunner()
    monkeypatch.chdir(folder)
    day1 = runner.invoke(cli, ["check", "br-2024-12-03T1545.txt", "--ledger", "ledgers", "--no-report"])
    assert day1.exit_code == 0, day1.output
    moved = runner.invoke(cli, ["history", "ledgers", "--state", "state.json"])
    assert moved.exit_code == 0, moved.output
    day2 = folder / "br-2024-12-04T1200.txt"
    # The second day alone: only the state knows the first day's close.
    _run([day2.name, "--fix"], monkeypatch, folder)
    assert day2.read_text(encoding="utf-8") == _page(DAY2, _fault_lines("BOP", "FFL"))
    state = (folder / "state.json").read_bytes()
    status, _, err = _run([day2.name, "--fix", "--state", "state.json"], monkeypatch, folder)
    assert day2.read_text(encoding="utf-8") == _page(DAY2, {})
    assert "previous closes: 2 confirmed" in err and status == 0
    assert (folder / "state.json").read_bytes() == state  # read, never written


def test_state_usage_errors_are_plain(tmp_path, monkeypatch):
    folder = _two_days(tmp_path, {})
    status, _out, err = _run(["br-2024-12-04T1200.txt", "--state", "state.json"], monkeypatch, folder)
    assert status == 2 and "--state needs --fix" in err
    status, _out, err = _run(["br-2024-12-04T1200.txt", "--fix", "--state", "none.json"], monkeypatch, folder)
    assert status == 2 and "no such file" in err
    (folder / "bad.json").write_text("[1, 2]", encoding="utf-8")
    status, _out, err = _run(["br-2024-12-04T1200.txt", "--fix", "--state", "bad.json"], monkeypatch, folder)
    assert status == 2 and "not a usable state" in err and "Traceback" not in err


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch")
def test_a_history_diff_applies_with_patch_to_give_what_fix_writes(tmp_path, monkeypatch):
    folder = _two_days(tmp_path, _fault_lines("BOP", "FFL", "FCCL"))
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    status, out, _ = _run(
        ["br-2024-12-03T1545.txt", "br-2024-12-04T1200.txt", "--history", "--diff"], monkeypatch, folder
    )
    assert status == 1 and out
    subprocess.run(["patch", "-s", "-p0"], input=out.encode("utf-8"), cwd=copy, check=True)
    _run(["br-2024-12-03T1545.txt", "br-2024-12-04T1200.txt", "--history", "--fix"], monkeypatch, folder)
    for name in ("br-2024-12-03T1545.txt", "br-2024-12-04T1200.txt"):
        assert (copy / name).read_bytes() == (folder / name).read_bytes()


def test_the_windowed_history_step_finds_the_same_closes_as_the_whole(tmp_path, monkeypatch):
    from checker.api import check_paths
    from checker.history.engine import FrameSource, history_of_source
    from checker.profile import load_profile

    folder = tmp_path / "pages"
    days = [DAY1]
    for _ in range(3):
        days.append(_next_day(days[-1]))
    names = [f"br-2024-12-0{2 + i}T1545.txt" for i in range(len(days))]
    _write(folder, {name: _page(day, {}) for name, day in zip(names, days, strict=True)})
    monkeypatch.chdir(folder)
    report = check_paths(names, Options(include_quotes=True))
    profile = load_profile("br-psx")
    whole = history_of_source(FrameSource(report.quotes), report.files, profile)
    windows = history_of_source(FrameSource(report.quotes), report.files, profile, window_quotes=40)
    expected = [(names[i + 1], names[i], f"2024-12-0{2 + i}", True) for i in range(3)]
    assert whole.closes == expected
    assert windows.closes == expected


@pytest.mark.parametrize(
    ("names", "confirmed"),
    [(("a.txt", "b.txt"), False), (("br-2024-12-03T1545.txt", "br-2024-12-04T1200.txt"), True)],
)
def test_an_inferred_close_is_trusted_only_when_every_right_stock_chains(
    tmp_path, monkeypatch, names, confirmed
):
    # The first page shows PIBTL at 8.50 where the second's previous close says 8.49: a stock that
    # moved after the first page was taken. Without time stamps the first page's prices are the
    # close only by inference, and one right stock that does not chain withdraws it for all; a
    # page stamped at its session's close is the close (PIBTL is then a previous-close-break).
    moved = {"PIBTL": "PIBTL 8.50 Decreased By ▼ -0.01 (-0.12%)"}
    assert _line("PIBTL", DAY1) == "PIBTL 8.49 Decreased By ▼ -0.02 (-0.24%)"
    folder = tmp_path / "pages"
    _write(folder, {names[0]: _page(DAY1, moved), names[1]: _page(DAY2, _fault_lines("FFL"))})
    _, _, err = _run([*names, "--history", "--fix"], monkeypatch, folder)
    repaired = (folder / names[1]).read_text(encoding="utf-8") == _page(DAY2, {})
    assert repaired == confirmed
    assert ("previous closes: 1 confirmed" in err) == confirmed


def test_a_failing_history_step_leaves_the_repairs_unweighed_and_says_so(tmp_path, monkeypatch):
    import checker.history.closes as closes

    def broken(*args, **kwargs):
        raise RuntimeError("no history today")

    monkeypatch.setattr(closes, "closes_of_run", broken)
    folder = _two_days(tmp_path, _fault_lines("BOP"))
    status, _, err = _run(
        ["br-2024-12-03T1545.txt", "br-2024-12-04T1200.txt", "--history", "--fix"], monkeypatch, folder
    )
    assert "no previous close known: RuntimeError: no history today" in err and status != 3
    assert (folder / "br-2024-12-04T1200.txt").read_text(encoding="utf-8") == _page(DAY2, _fault_lines("BOP"))


def test_a_history_report_without_a_repair_flag_weighs_its_repairs_as_fix_would(tmp_path, monkeypatch):
    folder = _two_days(tmp_path, _fault_lines("BOP", "FFL"))
    day2 = folder / "br-2024-12-04T1200.txt"
    original = day2.read_bytes()
    pages = ["br-2024-12-03T1545.txt", day2.name]

    def fixes(args: list[str]) -> dict[str, dict]:
        (folder / "r.json").unlink(missing_ok=True)  # (each report read is this run's)
        report = _report(args, monkeypatch, folder)
        return {f["rule"]: f for f in report["fixes"] if f["file"].endswith(day2.name)}

    plain = fixes([*pages, "--history"])
    assert day2.read_bytes() == original  # nothing written without a repair flag
    assert plain["QC301"]["applicability"] == SAFE and plain["QC301"]["status"] == "available"
    assert plain["QC301"]["previous_close"] == "previous close 10.39 (2024-12-03, br-2024-12-03T1545.txt:2:5)"
    assert plain["QC303"]["applicability"] == SAFE and plain["QC303"]["edits"][0]["after"] == "17.40"
    # the repairs --fix-to makes, the same; without --history the sign is unsafe again
    made = fixes([*pages, "--history", "--fix-to", "out"])
    assert {rule: f["status"] for rule, f in made.items()} == {"QC301": "applied", "QC303": "applied"}
    for rule in ("QC301", "QC303"):
        for key in ("applicability", "edits", "previous_close", "message"):
            assert plain[rule][key] == made[rule][key], (rule, key)
    alone = fixes([*pages, "--fix-to", "out2"])
    assert alone["QC301"]["applicability"] == UNSAFE and not alone["QC301"].get("previous_close")
