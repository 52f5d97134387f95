"""Repairs (`--fix`, `--unsafe-fixes`, `--diff`, `--fix-to`): each fault with one repair is put back
byte for byte, nothing else changes, judgements wait for --unsafe-fixes, ambiguity is only shown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.cli import cli
from checker.config import Options
from checker.fix import DISPLAY_ONLY, SAFE, UNSAFE, Edit, Fix, apply_to_line, choose
from checker.repair import repair_bytes, unified_diff

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "sample-page.txt"
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "rules").glob("*.txt"))
SARIF_SCHEMA = ROOT.parent / "shared" / "data" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = ROOT / "schemas" / "report.schema.json"

CLEAN = SAMPLE.read_text(encoding="utf-8")
CLEAN_LINES = CLEAN.splitlines()
QUOTE_LINES = [i for i, line in enumerate(CLEAN_LINES) if line.endswith("%)")]


def fixed(data: bytes, unsafe: bool = False, name: str = "page.txt") -> bytes:
    """The bytes `--fix` (or `--unsafe-fixes`) makes of a file's bytes."""
    return repair_bytes(data, name, Options(), unsafe=unsafe).repaired


def with_line(index: int, text: str) -> str:
    lines = list(CLEAN_LINES)
    lines[index] = text
    return "\n".join(lines) + "\n"


def line_of(symbol: str) -> int:
    return next(i for i, line in enumerate(CLEAN_LINES) if line.startswith(symbol + " "))


# Each fault with exactly one repair: (name, symbol of a clean line, how the line is made faulty).
SAFE_FAULTS = [
    ("arrow flipped up", "BOP", lambda s: s.replace("▼", "▲")),
    ("arrow flipped down", "AIRLINK", lambda s: s.replace("▲", "▼")),
    ("direction word swapped", "AIRLINK", lambda s: s.replace("Increased By", "Decreased By")),
    ("word and arrow swapped", "FFL", lambda s: s.replace("Decreased By ▼", "Increased By ▲")),
    ("percent sign flipped", "BOP", lambda s: s.replace("(-0.95%)", "(0.95%)")),
    ("percent sign added", "HUBC", lambda s: s.replace("(3.51%)", "(-3.51%)")),
    ("percent untrimmed zero", "KEL", lambda s: s.replace("(-0.8%)", "(-0.80%)")),
    ("percent two zeros", "PACE", lambda s: s.replace("(-3.1%)", "(-3.100%)")),
    ("percent extra digit cut", "AIRLINK", lambda s: s.replace("(3.35%)", "(3.352%)")),
    ("percent extra digit rounded up", "AIRLINK", lambda s: s.replace("(3.35%)", "(3.347%)")),
    ("percent extra digit the arithmetic tells", "HUBC", lambda s: s.replace("(3.51%)", "(3.518%)")),
    ("percent plus sign", "FCCL", lambda s: s.replace("(0.43%)", "(+0.43%)")),
    ("index grouping dropped", "KSE100", lambda s: s.replace("114,977", "114977")),
    ("index grouping Indian", "KSE100", lambda s: s.replace("114,977", "1,14,977")),
    ("index grouping misplaced", "BR100", lambda s: s.replace("12,101", "1,2101")),
    ("index no-break space", "BR30", lambda s: s.replace("37,032", "37\u00a0032")),
    ("unicode minus in change", "SSGC", lambda s: s.replace("-0.63", "\u22120.63")),
    ("unicode minus in percent", "SSGC", lambda s: s.replace("-1.44", "\u22121.44")),
    ("full-width digit", "KOSM", lambda s: s.replace("6.87", "\uff16.87")),
    ("mojibake up arrow", "TRG", lambda s: s.replace("▲", "â–²")),
    ("mojibake down arrow", "TELE", lambda s: s.replace("▼", "â–¼")),
    ("look-alike down arrow", "POWER", lambda s: s.replace("▼", "↓")),
    ("look-alike up arrow", "PTC", lambda s: s.replace("▲", "△")),
    ("odd glyph as arrow", "PRL", lambda s: s.replace("▲", "►")),
    ("price lost a trailing zero", "OGDC", lambda s: s.replace("221.20", "221.2")),
    ("price lost its decimals", "SEARL", lambda s: s.replace("104.00", "104")),
    ("price with a third decimal zero", "PPL", lambda s: s.replace("190.90", "190.900")),
    ("change lost a trailing zero", "BOP", lambda s: s.replace("-0.10", "-0.1")),
    ("change plus sign", "AIRLINK", lambda s: s.replace(" 6.71", " +6.71")),
    ("direction lower case", "CNERGY", lambda s: s.replace("Decreased By", "decreased by")),
    ("direction upper case", "MLCF", lambda s: s.replace("Increased By", "INCREASED BY")),
    ("arrow missing", "YOUW", lambda s: s.replace("▼ ", "")),
]


@pytest.mark.parametrize(("name", "symbol", "inject"), SAFE_FAULTS, ids=[f[0] for f in SAFE_FAULTS])
def test_each_safe_repair_restores_the_line_byte_for_byte(name, symbol, inject):
    index = line_of(symbol)
    faulty = inject(CLEAN_LINES[index])
    assert faulty != CLEAN_LINES[index]
    data = with_line(index, faulty).encode("utf-8")
    assert fixed(data) == CLEAN.encode("utf-8")


def test_all_safe_faults_at_once_are_all_put_back_and_no_other_line_changes():
    lines = list(CLEAN_LINES)
    used = set()
    for _name, symbol, inject in SAFE_FAULTS:
        index = line_of(symbol)
        if index in used:
            continue
        used.add(index)
        lines[index] = inject(lines[index])
    data = ("\n".join(lines) + "\n").encode("utf-8")
    assert fixed(data) == CLEAN.encode("utf-8")


def test_a_changed_sign_is_unsafe_applied_only_with_unsafe_fixes():
    index = line_of("BOP")
    data = with_line(index, CLEAN_LINES[index].replace("-0.10", "0.10")).encode("utf-8")
    result = repair_bytes(data, "page.txt", Options())
    assert result.repaired == data
    assert [(f.rule, f.applicability) for f in result.remaining] == [("QC301", UNSAFE)]
    assert fixed(data, unsafe=True) == CLEAN.encode("utf-8")


def test_a_real_percent_error_is_never_changed_and_its_candidates_are_shown():
    # The real snapshot's error: 0.24 / 15.24 is 1.5748%, shown as 1.58%; nine prices would fit.
    line = "PIBTL 15.48 Increased By ▲ 0.24 (1.58%)"
    data = (CLEAN + line + "\n").encode("utf-8")
    for unsafe in (False, True):
        result = repair_bytes(data, "page.txt", Options(), unsafe=unsafe)
        assert result.repaired == data
    (fix,) = [f for f in result.remaining if f.rule == "QC303"]
    assert fix.applicability == DISPLAY_ONLY and not fix.edits
    assert fix.candidates[0] == "percent 1.57%"
    assert [c for c in fix.candidates if c.startswith("price ")] == [f"price 15.{n}" for n in range(39, 48)]


@pytest.mark.parametrize(
    "line",
    [
        "HUBC 132.30 Increased By ▲ 4.49 (3.52%)",  # recomputing it is one repair of many
        "KSE100 114,977 Increased By 172.5 (0.25%)",  # rounded figures
        "BIG 12,34.50 Increased By ▲ 10.00 (0.82%)",  # 1,234.50 or 1234.50
        "KSE100 114,977.5 Increased By 172.5 (0.15%)",  # rounded up or down
        "BR30 37,032 Increased By 343.100 (0.94%)",  # 343.1 or 343.10
    ],
)
def test_ambiguous_faults_are_display_only(line):
    data = (line + "\n").encode("utf-8")
    result = repair_bytes(data, "page.txt", Options(), unsafe=True)
    assert result.repaired == data
    assert any(f.applicability == DISPLAY_ONLY and len(f.candidates) > 1 for f in result.remaining) or any(
        f.applicability == DISPLAY_ONLY for f in result.remaining
    )


@pytest.mark.parametrize(
    "path", [SAMPLE, ROOT / "samples" / "faulty-page.txt", *FIXTURES], ids=lambda p: p.name
)
def test_fixing_is_idempotent_on_every_fixture(path):
    data = path.read_bytes()
    for unsafe in (False, True):
        once = fixed(data, unsafe)
        assert fixed(once, unsafe) == once


def test_untouched_lines_keep_every_byte_line_endings_bom_and_bad_bytes():
    index = line_of("BOP")
    lines = [line.encode("utf-8") for line in CLEAN_LINES]
    lines[index] = CLEAN_LINES[index].replace("▼", "▲").encode("utf-8")
    lines[2] = b"caf\xe9 \x1b[31m not utf-8 \t "  # undecodable bytes and a control on another line
    endings = [b"\r\n", b"\n", b"\r\n", b"\r"]
    body = b"".join(line + endings[i % len(endings)] for i, line in enumerate(lines)).rstrip(b"\r\n")
    data = b"\xef\xbb\xbf" + body  # BOM, mixed line breaks, no final line break
    out = fixed(data)
    assert out == data.replace("▲ -0.10".encode(), "▼ -0.10".encode())
    assert out.startswith(b"\xef\xbb\xbf")


def test_utf16_files_stay_utf16():
    index = line_of("FFL")
    text = with_line(index, CLEAN_LINES[index].replace("▼", "▲")).replace("\n", "\r\n")
    data = "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
    assert fixed(data) == "\ufeff".encode("utf-16-le") + CLEAN.replace("\n", "\r\n").encode("utf-16-le")


def test_csv_json_and_html_records_are_repaired_where_the_text_stands_verbatim():
    csv = "symbol,price,direction,arrow,change,percent\nFFL,17.17,Decreased By,▲,-0.25,-1.44\n"
    assert fixed(csv.encode(), name="q.csv") == csv.replace("▲", "▼").encode()
    quoted = 'symbol,price,direction,arrow,change,percent\nKSE100,"1,14,977",Increased By,,172.5,0.15\n'
    assert fixed(quoted.encode(), name="q.csv") == quoted.replace("1,14,977", "114,977").encode()
    # an unquoted CSV cell cannot take a comma: left alone
    bare = "symbol,price,direction,arrow,change,percent\nKSE100,114977,Increased By,,172.5,0.15\n"
    assert fixed(bare.encode(), name="q.csv") == bare.encode()
    record = '[{"symbol": "FFL", "price": "17.17", "direction": "Decreased By", "arrow": "▲", '
    record += '"change": "-0.25", "percent": "-1.44"}]\n'
    assert fixed(record.encode(), name="q.json") == record.replace("▲", "▼").encode()
    page = "<html><body><p>FFL 17.17 Decreased By ▲ -0.25 (-1.44%)</p>\n"
    page += "<p>KEL 4.96 Decreased By &#9650; -0.04 (-0.8%)</p></body></html>\n"
    out = fixed(page.encode(), name="p.html").decode()
    assert "FFL 17.17 Decreased By ▼ -0.25" in out
    assert "&#9650;" in out  # an entity is not the text verbatim: never edited


def test_a_fix_that_adds_a_finding_is_rolled_back(monkeypatch):
    import checker.repair as repair

    data = (CLEAN_LINES[line_of("BOP")] + "\n").encode("utf-8")
    # A (made-up) fix that would break the percent arithmetic.
    bad = Fix("QC401", "page.txt", 1, 5, SAFE, "price 10.39 → 10.49", (Edit(1, 5, 9, "10.39", "10.49"),))
    calls = []

    def fake(report, profile=None, per_rule=None, closes=None, places=None):
        calls.append(1)
        return [bad] if len(calls) == 1 else []

    monkeypatch.setattr(repair, "report_fixes", fake)
    result = repair.repair_bytes(data, "page.txt", Options())
    assert result.repaired == data
    assert [f.status for f in result.rolled_back] == ["rolled back"]
    assert not result.applied


def test_edits_never_overlap_and_stale_edits_are_refused():
    first = Fix("QC405", "f", 1, 5, SAFE, "", (Edit(1, 5, 7, "â–¼", "▼"),))
    second = Fix("QC302", "f", 1, 5, SAFE, "", (Edit(1, 5, 7, "â–¼", "▲"),))
    touching = Fix("QC406", "f", 1, 8, SAFE, "", (Edit(1, 8, 7, "", "▼ "),))
    apart = Fix("QC403", "f", 1, 10, SAFE, "", (Edit(1, 10, 12, "0.0", "0"),))
    chosen = choose([second, first, touching, apart], frozenset({SAFE}))
    assert [f.rule for f in chosen.fixes] == ["QC302", "QC403"]
    assert {f.rule for f in chosen.deferred} == {"QC405", "QC406"}
    assert apply_to_line("abc ▲ 1", [Edit(1, 5, 5, "▼", "▲")]) is None  # not verbatim: untouched
    assert apply_to_line("abc ▲ 1", [Edit(1, 5, 4, "", "x")]) == "abc x▲ 1"


def _page_files(folder: Path) -> list[Path]:
    faulty = [
        with_line(line_of("FFL"), CLEAN_LINES[line_of("FFL")].replace("▼", "▲")),
        with_line(line_of("KSE100"), "KSE100 114977 Increased By 172.5 (0.150%)").replace("\n", "\r\n"),
        with_line(line_of("OGDC"), "OGDC 221.2 Decreased By ▼ \u22120.95 (-0.43%)").rstrip("\n"),
    ]
    paths = []
    for n, text in enumerate(faulty):
        path = folder / f"page {n}.txt"
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


def test_fix_in_place_reports_applied_and_remaining_and_fix_to_leaves_originals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    paths = _page_files(tmp_path / "in")
    originals = [p.read_bytes() for p in paths]
    result = CliRunner().invoke(cli, ["check", "in", "--no-config", "--fix-to", "out", "--json", "r.json"])
    assert result.exit_code == 0, result.output
    assert [p.read_bytes() for p in paths] == originals
    for path in paths:
        assert (tmp_path / "out" / "in" / path.name).read_bytes() == fixed(path.read_bytes())
    result = CliRunner().invoke(cli, ["check", "in", "--no-config", "--fix", "--json", "r.json"])
    assert result.exit_code == 0, result.output
    assert "Repairs: " in result.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, json.loads(REPORT_SCHEMA.read_text(encoding="utf-8")))
    assert report["summary"]["fixes_applied"] == 5 and report["summary"]["errors"] == 0
    assert {f["status"] for f in report["fixes"]} == {"applied"}
    assert [p.read_bytes() for p in paths] == [(tmp_path / "out" / "in" / p.name).read_bytes() for p in paths]
    second = CliRunner().invoke(cli, ["check", "in", "--no-config", "--fix", "--no-report"])
    assert second.exit_code == 0 and "Repairs: 0 applied" in second.output


def test_diff_changes_nothing_and_fails_while_errors_remain(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "page.txt"
    index = line_of("BOP")
    path.write_text(with_line(index, CLEAN_LINES[index].replace("-0.10", "0.10")), encoding="utf-8")
    before = path.read_bytes()
    result = CliRunner().invoke(cli, ["check", "page.txt", "--no-config", "--diff"])
    assert result.exit_code == 1  # the unsafe fix is not made: the error remains
    assert path.read_bytes() == before
    result = CliRunner().invoke(cli, ["check", "page.txt", "--no-config", "--diff", "--unsafe-fixes"])
    assert result.exit_code == 1  # nothing would remain, but the file is not repaired yet
    assert "+BOP 10.39 Decreased By ▼ -0.10 (-0.95%)" in result.stdout
    assert path.read_bytes() == before
    path.write_text(with_line(index, CLEAN_LINES[index]), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "page.txt", "--no-config", "--diff"])
    assert (result.exit_code, result.stdout) == (0, "")  # nothing to do


def test_a_piped_diff_withholds_a_file_whose_lines_would_act(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    index = line_of("BOP")
    flipped = CLEAN_LINES[index].replace("▼", "▲")
    evil = with_line(index, flipped + " \x1b]0;title\x07 \u202e ##[x")
    (tmp_path / "evil.txt").write_text(evil, encoding="utf-8")
    (tmp_path / "plain.txt").write_text(with_line(index, flipped), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", ".", "--no-config", "--diff"])
    assert result.exit_code == 1
    assert b"+++ plain.txt" in result.stdout_bytes and b"evil.txt" not in result.stdout_bytes
    assert not any(ch in result.stdout for ch in "\x1b\x07\u202e") and "##[" not in result.stdout
    assert "evil.txt: diff not shown" in result.stderr


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs the patch program")
def test_diff_applied_with_patch_gives_the_files_fix_writes(tmp_path, monkeypatch):
    for name in ("fixed", "patched"):
        (tmp_path / name).mkdir()
        _page_files(tmp_path / name)
    monkeypatch.chdir(tmp_path / "fixed")
    assert CliRunner().invoke(cli, ["check", ".", "--no-config", "--fix", "--no-report"]).exit_code == 0
    monkeypatch.chdir(tmp_path / "patched")
    result = CliRunner().invoke(cli, ["check", ".", "--no-config", "--diff"])
    diff = result.stdout_bytes
    assert diff.count(b"\n+++ ") == 3 or diff.startswith(b"--- ")
    done = subprocess.run(
        ["patch", "-p0", "--binary", "-s"], input=diff, cwd=tmp_path / "patched", check=False
    )
    assert done.returncode == 0
    for path in sorted((tmp_path / "fixed").iterdir()):
        assert (tmp_path / "patched" / path.name).read_bytes() == path.read_bytes()


def test_hostile_names_and_content_are_shown_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "evil\x1b[31m\nname.txt"
    index = line_of("FFL")
    flipped = CLEAN_LINES[index].replace("▼", "▲")
    (tmp_path / name).write_text(with_line(index, flipped), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", name, "--no-config", "--diff"])
    assert "\x1b" not in result.stderr
    header = result.stdout.splitlines()[0]
    assert header.startswith('--- "evil\\033[31m\\nname.txt"')
    text = with_line(index, flipped + " \x1b]0;owned\x07")
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", name, "--no-config", "--diff"])
    assert "\x1b" not in result.output and result.stdout == ""  # withheld, named on stderr
    result = CliRunner().invoke(cli, ["check", name, "--no-config", "--fix"])
    assert "\x1b" not in result.output
    out = (tmp_path / name).read_bytes()
    assert out == text.replace("Decreased By ▲", "Decreased By ▼").encode("utf-8")  # content kept as it was


def test_a_link_is_never_followed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "target.txt"
    index = line_of("FFL")
    target.write_text(with_line(index, CLEAN_LINES[index].replace("▼", "▲")), encoding="utf-8")
    before = target.read_bytes()
    os.symlink(target, tmp_path / "link.txt")
    result = CliRunner().invoke(cli, ["check", "link.txt", "--no-config", "--fix", "--no-report"])
    assert "not a regular file" in result.output and "Traceback" not in result.output
    assert target.read_bytes() == before and (tmp_path / "link.txt").is_symlink()


def test_usage_errors_are_plain(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.txt").write_text(CLEAN, encoding="utf-8")
    for args in (["--unsafe-fixes"], ["--diff", "--fix-to", "out"]):
        result = CliRunner().invoke(cli, ["check", "p.txt", "--no-config", *args])
        assert result.exit_code == 2 and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["check", "-", "--no-config", "--fix-to", "out"], input=CLEAN)
    assert result.exit_code == 2 and "standard input (-)" in result.output


def test_sarif_results_carry_fixes_that_validate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.txt").write_bytes((ROOT / "samples" / "faulty-page.txt").read_bytes())
    result = CliRunner().invoke(cli, ["check", "p.txt", "--no-config", "--no-report", "--sarif", "r.sarif"])
    assert result.exit_code == 1
    document = json.loads((tmp_path / "r.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    results = document["runs"][0]["results"]
    arrow = next(r for r in results if r["ruleId"] == "QC302")
    (change,) = arrow["fixes"][0]["artifactChanges"]
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 5, "startColumn": 24, "endColumn": 25},
            "insertedContent": {"text": "▼"},
        }
    ]
    assert arrow["fixes"][0]["properties"]["applicability"] == "safe"
    percent = next(r for r in results if r["ruleId"] == "QC303")
    assert "fixes" not in percent and percent["properties"]["fixApplicability"] == "display-only"


def test_html_report_shows_each_fix_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.txt").write_text("BOP 10.39 Decreased By < -0.10 (-0.95%)\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["check", "p.txt", "--no-config", "--html", "r.html", "--json", "r.json"]
    )
    assert result.exit_code == 1
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<code class="fix-before">&lt;</code>' in html
    assert '<code class="fix-after">▼</code>' in html


def test_a_percent_of_minus_100_on_a_quote_that_rose_has_its_sign_put_back():
    # -100% is out of range (QC203) before it is a sign the others disagree with (QC301); the
    # price and change give +100% exactly, so the sign alone is the safe repair.
    page = "ZZQ 0.50 Increased By ▲ 0.25 (-100%)\nZZR 0.50 Decreased By ▼ -0.25 (-100%)\n".encode()
    once = fixed(page)
    assert once.splitlines()[0] == "ZZQ 0.50 Increased By ▲ 0.25 (100%)".encode()
    assert once.splitlines()[1] == page.splitlines()[1]  # fell by 0.25 from 0.75: no sign would do
    assert fixed(once) == once


# -- a property: on any consistent stock quote, an injected fault with one repair is put back -----------


def _percent(change: int, previous: int) -> str:
    value = (Decimal(100 * change) / Decimal(previous)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(value, "f").rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@st.composite
def stock_quotes(draw):
    price = draw(st.integers(min_value=50, max_value=2_000_000))
    change = draw(st.integers(min_value=-(price - 1), max_value=price // 2).filter(lambda c: c != 0))
    percent = _percent(change, price - change)
    if Decimal(percent) == 0:
        change = price // 50 or 1
        percent = _percent(change, price - change)
    word, arrow = ("Increased By", "▲") if change > 0 else ("Decreased By", "▼")

    def shown(cents: int) -> str:
        return ("-" if cents < 0 else "") + f"{abs(cents) // 100}.{abs(cents) % 100:02d}"

    return f"ZZQ {shown(price)} {word} {arrow} {shown(change)} ({percent}%)"


_INJECTIONS = {
    "arrow": lambda s: s.replace("▲", "▼") if "▲" in s else s.replace("▼", "▲"),
    "word": lambda s: (
        s.replace("Increased", "Decreased") if "Increased" in s else s.replace("Decreased", "Increased")
    ),
    "percent sign": lambda s: s.replace("(-", "(") if "(-" in s else s.replace("(", "(-"),
    "percent zero": lambda s: s.replace("%)", "0%)") if "." in s.split("(")[1] else s.replace("%)", ".0%)"),
    "mojibake": lambda s: s.replace("▲", "â–²").replace("▼", "â–¼"),
    "minus": lambda s: s.replace(" -", " \u2212"),
    "arrow missing": lambda s: s.replace("▲ ", "").replace("▼ ", ""),
    "lower case": lambda s: s.replace("Increased By", "increased by").replace("Decreased By", "decreased by"),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    quote=stock_quotes(), kind=st.sampled_from(sorted(_INJECTIONS)), at=st.integers(0, len(QUOTE_LINES) - 1)
)
def test_property_injected_faults_are_put_back_and_fixing_again_changes_nothing(quote, kind, at):
    lines = list(CLEAN_LINES)
    lines.insert(QUOTE_LINES[at], quote)
    original = ("\n".join(lines) + "\n").encode("utf-8")
    faulty_line = _INJECTIONS[kind](quote)
    lines[QUOTE_LINES[at]] = faulty_line
    faulty = ("\n".join(lines) + "\n").encode("utf-8")
    once = fixed(faulty)
    if faulty_line != quote:
        assert once == original
    assert fixed(once) == once


def test_unified_diff_marks_a_last_line_without_a_break():
    diff = unified_diff("a.txt", b"x\ny", b"x\nz")
    assert diff.endswith(b"+z\n\\ No newline at end of file\n")


def test_the_candidate_ticks_are_those_of_counting_every_tick_one_by_one():
    import random
    from fractions import Fraction

    from checker.fix import _ticks

    def every_tick(low, high, decimals, shown, positive):
        unit = Fraction(1, 10 ** (max(decimals) if decimals else 2))
        first, last = -((-low) // unit), high // unit
        if last - first > 10_000:
            return [Fraction(0)] * 10_001
        steps = range(int(first), int(last) + 1)
        return [s * unit for s in steps if s * unit != shown and (s * unit > 0 or not positive)]

    chance = random.Random(5)
    for _ in range(3000):
        low = Fraction(chance.randint(-3000, 3000), chance.choice([1, 10, 100, 1000, 7]))
        high = low + Fraction(chance.randint(0, 500), chance.choice([1, 10, 100, 3]))
        shown = Fraction(chance.randint(-3000, 3000), chance.choice([10, 100, 1000]))
        if chance.random() < 0.3:  # on a tick inside the range
            shown = Fraction(int(low * 100) + chance.randint(0, 5), 100)
        decimals, positive = chance.choice([(2,), (0,), (3, 2), ()]), chance.random() < 0.5
        expected = every_tick(low, high, decimals, shown, positive)
        ticks = _ticks(low, high, decimals, shown, positive)
        assert len(ticks) == len(expected)
        assert ticks[:10] == expected[:10] and list(ticks) == expected
