"""Every input flows into the same frame and rules: text, HTML, CSV/TSV, JSON/JSONL, stdin, gzip, folders."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.api import check_bytes, check_paths, check_text
from checker.cli import cli
from checker.config import Options
from checker.inputs.detect import detect_format, sniff_format
from checker.inputs.sources import expand_paths

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "sample-page.txt"
AIRLINK = "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)"
BOP_BAD = "BOP 10.39 Decreased By ▼ -0.10 (-0.96%)"  # the percent should be -0.95
KEL = "KEL 4.96 Decreased By ▼ -0.04 (-0.8%)"


def rules_at(report, code):
    """(line, column) of every finding of one rule."""
    rows = report.findings[report.findings["rule"] == code]
    return [(int(r.line), int(r.column)) for r in rows.itertuples() if r.line is not None]


def run(args, stdin=None):
    result = CliRunner().invoke(
        cli, ["check", "--no-config", "--no-report", "--format", "text", *args], input=stdin
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


# ------------------------------------------------------------------------------ detection


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("page.txt", "<html><body>x</body></html>", "text"),  # the extension decides
        ("page.dat", "<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("page", "  <div>AIRLINK</div>", "html"),
        ("quotes", '[{"symbol": "BOP"}]', "json"),
        ("quotes", '{"quotes": []}', "json"),
        ("quotes", '{"symbol": "BOP"}\n{"symbol": "KEL"}\n', "jsonl"),
        ("quotes", "symbol,price,direction\nBOP,1,No Change\n", "csv"),
        ("quotes", "symbol\tprice\tdirection\n", "tsv"),
        ("quotes", "[Markets] AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)", "text"),
        ("quotes.csv.gz", "anything", "csv"),
        ("quotes.JSONL", "anything", "jsonl"),
        ("<stdin>", AIRLINK, "text"),
    ],
)
def test_format_is_detected_by_extension_then_content(name, text, expected):
    assert detect_format(name, text) == expected


def test_input_format_option_overrides_detection(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(f"<p>{AIRLINK}</p>\n<p>{BOP_BAD}</p>\n", encoding="utf-8")
    as_text = check_paths([page])
    as_html = check_paths([page], Options(input_format="html"))
    assert as_text.files[0].format == "text" and as_html.files[0].format == "html"
    assert as_html.summary()["quotes"] == 2
    assert rules_at(as_html, "QC303") == [(2, len("<p>") + BOP_BAD.index("(-") + 2)]
    result = run(["--input-format", "html", str(page)])
    assert result.exit_code == 1
    assert f"{page}:2:" in result.output


def test_sniffing_keeps_plain_pages_as_text():
    assert sniff_format(SAMPLE.read_text(encoding="utf-8")) == "text"


# ----------------------------------------------------------------------------------- HTML

HTML_PAGE = f"""<!DOCTYPE html>
<html>
<head>
  <title>KSE100 114,977 Increased By 172.5 (0.25%)</title>
  <style>.x {{ content: "BOP 1.00 Decreased By ▼ -0.10 (-50%)"; }}</style>
  <script>var ticker = "PIBTL 9.80 Decreased By ▼ -0.1";</script>
</head>
<body>
<nav>PRINT EDITION &#9658; BR MARKETS &#9658;</nav>
<noscript>SILK 1.03 Decreased By ▼ -0.02 (-9%)</noscript>
<template><p>SILK 1.03 Decreased By ▼ -0.02 (-9%)</p></template>
<ul class="ticker">
  <li>{AIRLINK}</li>
  <li>{BOP_BAD}</li>
  <li>HUBC 132.30 Increased By &#9650; 4.49 (3.51%)</li>
</ul>
<table>
  <tr><td>KEL</td><td>4.96</td><td>Decreased By ▼ -0.04</td><td>(-0.9%)</td></tr>
</table>
<div>Markets &amp; more<br>PACE 7.19 Decreased By ▼ -0.23 (-3.1%)<!-- a comment --></div>
</body>
</html>
"""


def html_report(text=HTML_PAGE, name="page.html"):
    return check_bytes(text.encode("utf-8"), name)


def test_html_visible_text_is_checked_and_hidden_text_is_not():
    report = html_report()
    quotes = report.summary()["quotes"]
    # AIRLINK, BOP, HUBC (arrow as an entity), KEL (a table row), PACE; nothing from the head,
    # the style, the script, the noscript or the template.
    assert quotes == 5
    assert report.files[0].format == "html"
    assert set(report.findings["rule"]) == {"QC303"}


def test_html_findings_point_at_lines_and_columns_of_the_html_file():
    report = html_report()
    source = HTML_PAGE.split("\n")
    located = sorted(rules_at(report, "QC303"))
    bop_line = next(i for i, line in enumerate(source, 1) if "BOP 10.39" in line)
    kel_line = next(i for i, line in enumerate(source, 1) if "<td>KEL" in line)
    assert [line for line, _ in located] == [bop_line, kel_line]
    for line, column in located:
        assert source[line - 1][column - 1 :].startswith("-0.9"), (line, column)


def test_html_table_row_is_one_quote_and_entities_are_decoded():
    report = check_bytes(HTML_PAGE.encode(), "page.html", Options(include_quotes=True))
    quotes = report.quotes.set_index("symbol")
    assert quotes.loc["HUBC", "arrow_text"] == "▲"
    assert quotes.loc["KEL", "percent_text"] == "-0.9"
    assert (
        int(quotes.loc["PACE", "line"])
        == HTML_PAGE.split("\n").index(next(line for line in HTML_PAGE.split("\n") if "PACE" in line)) + 1
    )


def test_malformed_html_still_yields_its_text():
    broken = f"<html><body><div><p>{AIRLINK}<p><b>{BOP_BAD}<div><span>{KEL}"
    report = html_report(broken, "broken.htm")
    assert report.summary()["quotes"] == 3
    assert rules_at(report, "QC303") == [(1, broken.index("(-0.96") + 2)]


def test_html_with_encoding_declaration_nul_and_nothing_visible():
    xhtml = f'<?xml version="1.0" encoding="iso-8859-1"?>\n<html><body><p>{AIRLINK}</p></body></html>'
    assert html_report(xhtml).summary()["quotes"] == 1
    with_nul = f"<p>{AIRLINK}</p>\n<p>\x00</p><p>{KEL}</p>"
    report = html_report(with_nul)
    assert report.summary()["quotes"] == 2
    assert "QC902" in set(report.findings["rule"])
    empty = html_report("<html><head><script>x()</script></head></html>")
    assert list(empty.findings["rule"]) == ["QC903"]


def test_html_pre_keeps_its_line_breaks():
    page = f"<pre>\n{AIRLINK}\n{BOP_BAD}\n</pre>"
    report = html_report(page)
    assert report.summary()["quotes"] == 2
    assert rules_at(report, "QC303") == [(3, BOP_BAD.index("(-") + 2)]


# --------------------------------------------------------------------------------- CSV/TSV

CSV_TEXT = (
    "symbol,price,direction,arrow,change,percent\n"
    "AIRLINK,207.00,Increased By,▲,6.71,3.35\n"
    "\n"
    "BOP,10.39,Decreased By,▼,-0.10,-0.96\n"
    'KSE100,"114,977",Increased By,,172.5,0.15\n'
)


def test_csv_rows_keep_their_line_numbers():
    report = check_bytes(CSV_TEXT.encode(), "quotes.csv")
    assert report.files[0].format == "csv"
    assert report.summary()["quotes"] == 3
    assert [line for line, _ in rules_at(report, "QC303")] == [4]
    assert not (report.findings["rule"] == "QC401").any()  # "114,977" kept as shown


def test_tsv_is_read_with_tabs():
    tsv = CSV_TEXT.replace(",", "\t").replace('"114\t977"', "114,977")
    report = check_bytes(tsv.encode(), "quotes.tsv")
    assert report.files[0].format == "tsv"
    assert report.summary()["quotes"] == 3
    assert [line for line, _ in rules_at(report, "QC303")] == [4]


def test_csv_missing_column_is_one_finding_naming_the_column():
    report = check_bytes(b"symbol,price,direction,change\nBOP,10.39,Decreased By,-0.10\n", "q.csv")
    rows = report.findings[report.findings["rule"] == "QC207"]
    assert len(rows) == 1 and int(rows["line"].iloc[0]) == 1
    assert "percent" in rows["message"].iloc[0]


def test_csv_wrong_types_and_ragged_rows_are_reported_at_their_line():
    text = (
        "symbol,price,direction,arrow,change,percent\n"
        "BOP,ten,Decreased By,▼,-0.10,-0.95\n"
        "KEL,4.96,Decreased By,▼,-0.04\n"
        "AIRLINK,207.00,Increased By,▲,6.71,3.35,extra\n"
    )
    report = check_bytes(text.encode(), "q.csv")
    assert rules_at(report, "QC206") == [(2, 1)]
    assert sorted(line for line, _ in rules_at(report, "QC906")) == [3, 4]
    assert "no value for percent" in " ".join(report.findings["message"])
    assert report.summary()["quotes"] == 2  # BOP (reported unreadable) and AIRLINK


# -------------------------------------------------------------------------------- JSON/JSONL


def record(symbol, price, direction, arrow, change, percent):
    return {
        "symbol": symbol,
        "price": price,
        "direction": direction,
        "arrow": arrow,
        "change": change,
        "percent": percent,
    }


GOOD = record("AIRLINK", "207.00", "Increased By", "▲", "6.71", "3.35")
BAD_PERCENT = record("BOP", "10.39", "Decreased By", "▼", "-0.10", "-0.96")


def test_json_array_records_are_located_at_their_line():
    text = json.dumps([GOOD, BAD_PERCENT], indent=2, ensure_ascii=False)
    report = check_bytes(text.encode(), "q.json")
    bop_line = [i for i, line in enumerate(text.split("\n"), 1) if line.strip() == "{"][1]
    assert report.files[0].format == "json"
    assert report.summary()["quotes"] == 2
    assert [line for line, _ in rules_at(report, "QC303")] == [bop_line]


def test_json_numbers_as_numbers_are_shown_at_their_precision():
    numeric = record("AIRLINK", 207, "Increased By", "▲", 6.71, 3.35)
    report = check_bytes(json.dumps({"quotes": [numeric]}).encode(), "q.json")
    assert report.summary()["quotes"] == 1
    assert report.findings.empty


def test_json_schema_violations_are_findings_and_valid_records_are_still_checked():
    invalid = {"symbol": "KEL", "price": True, "direction": "Decreased By", "change": "-0.04"}
    text = json.dumps([GOOD, invalid, BAD_PERCENT, "not a record"])
    report = check_bytes(text.encode(), "q.json")
    violations = report.findings[report.findings["rule"] == "QC905"]
    messages = " | ".join(violations["message"])
    assert "record 2 at /1/price" in messages
    assert 'record 2 at /1: "percent" is a required property' in messages
    assert "record 4 at /3" in messages
    assert report.summary()["quotes"] == 2  # GOOD and BAD_PERCENT
    assert "QC303" in set(report.findings["rule"])


def test_truncated_json_reports_line_and_column_and_keeps_the_records_before_the_cut():
    text = json.dumps([GOOD, BAD_PERCENT, GOOD], indent=1)
    cut = text[: text.rindex('"direction"') + 8]
    report = check_bytes(cut.encode(), "cut.json")
    syntax = report.findings[report.findings["rule"] == "QC906"]
    assert len(syntax) == 1
    line, column = int(syntax["line"].iloc[0]), int(syntax["column"].iloc[0])
    lines = cut.split("\n")
    assert line == len(lines)
    assert f"line {line}, column {column}" in syntax["message"].iloc[0]
    assert report.summary()["quotes"] == 2


def test_jsonl_records_are_located_by_line_and_a_bad_line_does_not_stop_the_rest():
    lines = [json.dumps(GOOD), '{"symbol": "BOP", ', "", json.dumps(BAD_PERCENT)]
    report = check_bytes("\n".join(lines).encode(), "q.jsonl")
    assert report.files[0].format == "jsonl"
    assert [line for line, _ in rules_at(report, "QC906")] == [2]
    assert [line for line, _ in rules_at(report, "QC303")] == [4]
    assert report.summary()["quotes"] == 2


def test_declared_examples_of_the_record_rules():
    from checker.rules import get_rule

    invalid, malformed = get_rule("QC905"), get_rule("QC906")
    passing = check_bytes(invalid.passing.encode(), "q.jsonl")
    assert passing.findings.empty and passing.summary()["quotes"] == 1
    assert "QC905" in set(check_bytes(invalid.failing.encode(), "q.jsonl").findings["rule"])
    passing = check_bytes(malformed.passing.encode(), "q.json")
    assert passing.findings.empty and passing.summary()["quotes"] == 1
    assert "QC906" in set(check_bytes(malformed.failing.encode(), "q.json").findings["rule"])


def test_quote_schema_is_a_valid_2020_12_schema():
    from jsonschema import Draft202012Validator

    from checker.resources import schema_path

    schema = json.loads(schema_path("quotes.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate({"quotes": [GOOD]})
    assert list(Draft202012Validator(schema).iter_errors([{"symbol": "X"}]))


# --------------------------------------------------------------------------- stdin and gzip


def test_stdin_is_read_and_sniffed():
    result = run(["-"], stdin=SAMPLE.read_bytes())
    assert result.exit_code == 0, result.output
    assert "34 quotes" in result.output
    html = run(["-"], stdin=HTML_PAGE.encode())
    assert html.exit_code == 1
    assert "<stdin>:" in html.output and "QC303" in html.output


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.txt.gz", SAMPLE.read_bytes()),
        ("page.html.gz", HTML_PAGE.encode()),
        ("q.csv.gz", CSV_TEXT.encode()),
    ],
)
def test_gzip_input_is_read_as_its_inner_format(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(gzip.compress(content))
    plain = check_bytes(content, name[: -len(".gz")])
    report = check_paths([path])
    assert report.files[0].format == plain.files[0].format
    assert report.summary()["quotes"] == plain.summary()["quotes"] > 0
    assert list(report.findings["line"]) == list(plain.findings["line"])


def test_concatenated_gzip_members_are_all_read(tmp_path):
    lines = SAMPLE.read_bytes().split(b"\n")
    path = tmp_path / "two.txt.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines[:20]) + b"\n") + gzip.compress(b"\n".join(lines[20:])))
    assert check_paths([path]).summary()["quotes"] == 34


# ------------------------------------------------------------------------------ directories


def make_tree(root: Path) -> None:
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / ".hidden").mkdir()
    (root / "b" / "page.txt").write_text(AIRLINK, encoding="utf-8")
    (root / "a" / "page.html").write_text(f"<p>{KEL}</p>", encoding="utf-8")
    (root / "a" / "q.csv.gz").write_bytes(gzip.compress(CSV_TEXT.encode()))
    (root / "top.jsonl").write_text(json.dumps(GOOD), encoding="utf-8")
    (root / "notes.md").write_text("# not an input", encoding="utf-8")
    (root / "b" / "OLD.TXT").write_text(KEL, encoding="utf-8")
    (root / ".hidden" / "x.txt").write_text(AIRLINK, encoding="utf-8")
    (root / ".dot.txt").write_text(AIRLINK, encoding="utf-8")


def test_directory_walk_is_recursive_sorted_and_skips_hidden_and_unknown_files(tmp_path):
    make_tree(tmp_path)
    names = [Path(ref.name).relative_to(tmp_path).as_posix() for ref in expand_paths([tmp_path])]
    assert names == ["a/page.html", "a/q.csv.gz", "b/OLD.TXT", "b/page.txt", "top.jsonl"]
    report = check_paths([tmp_path])
    names = [Path(f.path).name for f in report.files]
    assert names == ["page.html", "q.csv.gz", "OLD.TXT", "page.txt", "top.jsonl"]
    assert [f.format for f in report.files] == ["html", "csv", "text", "text", "jsonl"]


def test_include_and_exclude_globs(tmp_path):
    make_tree(tmp_path)

    def walked(include=(), exclude=()):
        refs = expand_paths([tmp_path], include, exclude)
        return [Path(ref.name).relative_to(tmp_path).as_posix() for ref in refs]

    assert walked(include=("*.md",)) == ["notes.md"]
    assert walked(include=("a/*",)) == ["a/page.html", "a/q.csv.gz"]
    assert walked(exclude=("a",)) == ["b/OLD.TXT", "b/page.txt", "top.jsonl"]
    assert walked(exclude=("*.gz", "top.*", "*.TXT")) == ["a/page.html", "b/page.txt"]
    result = run(["--exclude", "a", "--include", "*.txt", str(tmp_path)])
    assert result.exit_code == 0 and "1 file, 1 quote" in result.output


def test_directory_walk_passes_over_the_runs_own_reports(tmp_path):
    make_tree(tmp_path)
    report_file = tmp_path / "b" / "report.json"
    report_file.write_text("[]", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--no-config",
            "--json",
            str(report_file),
            "--html",
            str(tmp_path / "r.html"),
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1, result.output  # the CSV's BOP percent is wrong
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert [Path(f["path"]).name for f in report["files"]] == [
        "page.html",
        "q.csv.gz",
        "OLD.TXT",
        "page.txt",
        "top.jsonl",
    ]


# -------------------------------------------------------------------------- encodings, look-alikes

PAGE = f"{AIRLINK}\n{BOP_BAD}\n{KEL}\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (PAGE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + PAGE.encode("utf-8"), "utf-8 with BOM"),
        (b"\xff\xfe" + PAGE.encode("utf-16-le"), "utf-16-le with BOM"),
        (b"\xfe\xff" + PAGE.encode("utf-16-be"), "utf-16-be with BOM"),
        (PAGE.encode("utf-16-le"), "utf-16-le"),  # no BOM: told by where the NUL bytes are
        (PAGE.encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_utf8_and_utf16_with_or_without_bom(data, encoding):
    report = check_bytes(data, "page.txt")
    assert report.files[0].encoding == encoding
    assert report.summary()["quotes"] == 3
    assert rules_at(report, "QC303") == [(2, BOP_BAD.index("(-") + 2)]


def test_utf16_bom_in_front_of_utf8_is_reported_not_obeyed():
    report = check_bytes(b"\xff\xfe" + PAGE.encode("utf-8"), "page.txt")
    assert report.files[0].encoding == "utf-8"
    assert report.summary()["quotes"] == 3
    bad = report.findings[report.findings["rule"] == "QC902"]
    assert list(bad["message"]) == ["page.txt: bytes ff fe at byte offset 0 are not valid utf-8"]


def test_mojibake_arrows_parse_and_warn():
    text = "AIRLINK 207.00 Increased By â–² 6.71 (3.35%)\nBOP 10.39 Decreased By â–¼ -0.10 (-0.95%)"
    report = check_text(text)
    assert report.summary()["quotes"] == 2
    first, second = text.split("\n")
    assert rules_at(report, "QC405") == [(1, first.index("â") + 1), (2, second.index("â") + 1)]
    assert set(report.findings["severity"]) == {"warning"}  # the arrows keep their meaning: no mismatch


@pytest.mark.parametrize(
    ("line", "column", "field"),
    [
        ("BOP 10.39 Decreased By ▼ \u22120.10 (-0.95%)", 26, "change"),  # Unicode minus
        ("BOP 10.39 Decreased By ▼ -0.10 (\u22120.95%)", 33, "percent"),
        ("KSE100 114\u00a0977 Increased By 172.5 (0.15%)", 8, "price"),  # no-break space
        ("BOP １0.39 Decreased By ▼ -0.10 (-0.95%)", 5, "price"),  # full-width digit
    ],
)
def test_lookalike_characters_in_numbers_are_reported_not_misread(line, column, field):
    report = check_text(line, options=Options(include_quotes=True))
    assert report.summary()["quotes"] == 1
    rows = report.findings[report.findings["rule"] == "QC404"]
    assert [(int(r.line), int(r.column), r.field) for r in rows.itertuples()] == [(1, column, field)]
    # read as the number it shows, so no sign or percent rule fires on a misreading
    assert not report.findings["rule"].isin(["QC206", "QC301", "QC303"]).any(), report.findings


def test_html_lines_past_65535_are_located():
    # libxml2 stops counting source lines at 65535; the locations must not stop there
    lines = [
        "<html><body>",
        *(f"<p>filler {i}</p>" for i in range(70000)),
        f"<p>{BOP_BAD}</p>",
        "</body></html>",
    ]
    report = html_report("\n".join(lines))
    assert rules_at(report, "QC303") == [(len(lines) - 1, len("<p>") + BOP_BAD.index("(-") + 2)]


def test_folder_walk_passes_over_the_report_folder(tmp_path, monkeypatch):
    make_tree(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "report.json").write_text('{"summary": {}}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-config", "--format", "text", "."])
    assert "reports/report.json:" not in result.output
    assert "5 files, 7 quotes" in result.output
    assert run("").exit_code == 2


def test_html_table_row_with_blocks_in_its_cells_is_one_line():
    page = (
        "<table>\n<tr><td><p>BOP</p></td><td><div>10.39</div></td>"
        "<td>Decreased By<br>▼ -0.10</td><td><p>(-0.96%)</p></td></tr>\n"
        f"<tr><td>{KEL}</td></tr></table><p>after</p>"
    )
    report = html_report(page)
    assert report.summary()["quotes"] == 2
    assert rules_at(report, "QC303") == [(2, page.split("\n")[1].index("(-0.96") + 2)]


def test_a_record_of_a_remembered_valid_shape_is_not_validated_again(monkeypatch):
    from checker.inputs.records import RecordValidator, record_validator

    validator = RecordValidator(record_validator().validator.schema)
    assert validator.errors(GOOD) == []
    same_shape = record("KEL", "4.96", "Decreased By", "▼", "-0.04", "-0.8")
    other_shape = dict(same_shape, price=True)

    class NotAgain:
        def iter_errors(self, _record):
            raise AssertionError("validated again")

    monkeypatch.setattr(validator, "validator", NotAgain())
    assert validator.errors(same_shape) == []
    with pytest.raises(AssertionError, match="validated again"):
        validator.errors(other_shape)  # a new shape is always validated
