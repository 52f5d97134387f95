"""Hostile CSV and JSON records: each draws one finding at its own record, and every other record
of the file is still checked (no good quote lost, no traceback, no internal error)."""

from __future__ import annotations

import json

import pytest

from checker.api import check_bytes
from checker.config import Options

GOOD = {
    "symbol": "AIRLINK",
    "price": "207.00",
    "direction": "Increased By",
    "arrow": "▲",
    "change": "6.71",
    "percent": "3.35",
}
OTHER = dict(
    GOOD, symbol="KEL", price="4.96", direction="Decreased By", arrow="▼", change="-0.04", percent="-0.8"
)
HEADER = "symbol,price,direction,arrow,change,percent"
CSV_GOOD = "AIRLINK,207.00,Increased By,▲,6.71,3.35"
CSV_OTHER = "KEL,4.96,Decreased By,▼,-0.04,-0.8"


def check(text: str, name: str):
    report = check_bytes(text.encode("utf-8"), name, Options(include_quotes=True))
    assert not (report.findings["rule"] == "QC904").any(), report.findings["message"].tolist()
    return report


def quoted(report) -> list[tuple[str, int]]:
    """(symbol, line) of every quote read."""
    return [(str(s), int(n)) for s, n in zip(report.quotes["symbol"], report.quotes["line"], strict=True)]


def only(report, rule: str):
    rows = report.findings[report.findings["rule"] == rule]
    assert len(rows) == 1, rows[["rule", "line", "message"]].to_dict("records")
    return rows.iloc[0]


def jsonl(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- lone surrogates


SURROGATE_SYMBOL = (
    '{"symbol": "\\ud800", "price": "1.00", "direction": "No Change", "change": "0", "percent": "0"}'
)


@pytest.mark.parametrize("as_array", [False, True])
def test_a_lone_surrogate_in_a_quote_field_is_one_finding_shown_escaped(as_array):
    lines = [json.dumps(GOOD), SURROGATE_SYMBOL, json.dumps(OTHER)]
    text = "[\n" + ",\n".join(lines) + "\n]\n" if as_array else jsonl(*lines)
    report = check(text, "q.json" if as_array else "q.jsonl")
    finding = only(report, "QC906")
    bad_line = 3 if as_array else 2
    assert int(finding["line"]) == bad_line
    assert int(finding["column"]) == SURROGATE_SYMBOL.index('"\\ud800"') + 1
    assert finding["observed"] == '"\\ud800"'  # the escape as written, never a raw surrogate
    assert "\\ud800" in finding["message"] and "left out" in finding["message"]
    for column in ("observed", "expected", "message"):
        finding[column].encode("utf-8")  # a raw surrogate would not encode
    assert quoted(report) == [("AIRLINK", bad_line - 1), ("KEL", bad_line + 1)]
    json.dumps(report.findings.astype(object).where(report.findings.notna(), None).to_dict("records"))


def test_a_lone_surrogate_in_a_key_drops_that_member_and_the_record_is_checked():
    keyed = json.dumps(dict({"\ud800note": 1}, **OTHER), ensure_ascii=True)
    assert "\\ud800" in keyed
    report = check(jsonl(json.dumps(GOOD), keyed, json.dumps(GOOD)), "q.jsonl")
    finding = only(report, "QC906")
    assert int(finding["line"]) == 2
    assert "`\\ud800note`" in finding["message"] and "the record checked" in finding["message"]
    assert quoted(report) == [("AIRLINK", 1), ("KEL", 2), ("AIRLINK", 3)]


def test_a_surrogate_pair_is_a_character_and_no_finding():
    pair = json.dumps(dict(GOOD, source="page \U0001f600"), ensure_ascii=True)
    assert "\\ud83d\\ude00" in pair
    report = check(jsonl(pair), "q.jsonl")
    assert report.findings.empty
    assert quoted(report) == [("AIRLINK", 1)]


# ------------------------------------------------------------------------------ deep nesting

DEPTH = 100_000


@pytest.mark.parametrize("nested", ["[" * DEPTH + "]" * DEPTH, '{"a":' * DEPTH + "1" + "}" * DEPTH])
def test_a_record_nested_too_deep_in_json_lines_is_one_finding_and_the_rest_is_read(nested):
    report = check(jsonl(json.dumps(GOOD), nested, json.dumps(OTHER)), "q.jsonl")
    finding = only(report, "QC906")
    assert (int(finding["line"]), int(finding["column"])) == (2, 1)
    assert "nested too deeply" in finding["message"]
    assert quoted(report) == [("AIRLINK", 1), ("KEL", 3)]


@pytest.mark.parametrize("nested", ["[" * DEPTH + "]" * DEPTH, '{"a":' * DEPTH + "1" + "}" * DEPTH])
def test_a_record_nested_too_deep_in_a_json_array_is_skipped_and_the_next_is_read(nested):
    text = f"[\n{json.dumps(GOOD)},\n  {nested},\n{json.dumps(OTHER)}\n]\n"
    report = check(text, "q.json")
    finding = only(report, "QC906")
    assert (int(finding["line"]), int(finding["column"])) == (3, 3)
    assert "nested too deeply" in finding["message"] and "skipped" in finding["message"]
    assert quoted(report) == [("AIRLINK", 2), ("KEL", 4)]


def test_a_malformed_element_of_a_json_array_is_skipped_and_the_next_is_read():
    text = (
        f'[\n{json.dumps(GOOD)},\n{{"symbol": "X", "price": 1.0.0, "note": "]}}"}},\n{json.dumps(OTHER)}\n]'
    )
    report = check(text, "q.json")
    finding = only(report, "QC906")
    assert int(finding["line"]) == 3
    assert quoted(report) == [("AIRLINK", 2), ("KEL", 4)]


@pytest.mark.parametrize("as_array", [False, True])
def test_a_number_of_thousands_of_digits_is_one_finding_and_the_rest_is_read(as_array):
    huge = '{"symbol": "BOP", "price": ' + "1" * 5000 + ', "direction": "No Change"}'
    lines = [json.dumps(GOOD), huge, json.dumps(OTHER)]
    text = "[" + ",\n".join(lines) + "]" if as_array else jsonl(*lines)
    report = check(text, "q.json" if as_array else "q.jsonl")
    finding = only(report, "QC906")
    assert int(finding["line"]) == 2
    assert "more digits than can be read" in finding["message"]
    assert quoted(report) == [("AIRLINK", 1), ("KEL", 3)]


# --------------------------------------------------------------------------------- CSV fields


def test_a_50_mb_csv_field_is_one_finding_and_the_following_rows_are_read():
    big = "BIG," + "1" * 50_000_000 + ",No Change,,0.00,0.00"
    text = "\n".join([HEADER, CSV_GOOD, big, CSV_OTHER, CSV_GOOD]) + "\n"
    report = check(text, "q.csv")
    finding = only(report, "QC906")
    assert (int(finding["line"]), int(finding["column"])) == (3, len("BIG,") + 1)
    assert "50000000" in finding["message"]
    assert len(finding["observed"]) < 200
    assert quoted(report) == [("AIRLINK", 2), ("KEL", 4), ("AIRLINK", 5)]


def test_an_unterminated_csv_quote_is_reported_at_its_column_and_reading_goes_on():
    stray = 'KEL,"4.96,Decreased By,▼,-0.04,-0.8'
    text = "\n".join([HEADER, CSV_GOOD, stray, CSV_OTHER, CSV_GOOD]) + "\n"
    report = check(text, "q.csv")
    finding = only(report, "QC906")
    assert (int(finding["line"]), int(finding["column"])) == (3, len("KEL,") + 1)
    assert "not closed" in finding["message"]
    assert quoted(report) == [("AIRLINK", 2), ("KEL", 4), ("AIRLINK", 5)]


def test_two_stray_csv_quotes_do_not_swallow_the_rows_between_them():
    text = "\n".join([HEADER, '"AIRLINK,207.00,Increased By,▲,6.71,3.35', CSV_OTHER, 'KEL",4.96', CSV_GOOD])
    report = check(text + "\n", "q.csv")
    malformed = report.findings[report.findings["rule"] == "QC906"]
    # the first stray quote at its line; the second is on a row of its own, ragged, reported there
    assert [int(n) for n in malformed["line"]] == [2, 4]
    assert "not closed" in malformed["message"].iloc[0]
    assert quoted(report) == [("KEL", 3), ("AIRLINK", 5)]


def test_a_quoted_field_over_lines_is_still_a_row_when_it_makes_one():
    header = HEADER + ",source"
    text = "\n".join([header, CSV_GOOD + ',"page one', 'and two"', CSV_OTHER + ",x"]) + "\n"
    report = check(text, "q.csv")
    assert not (report.findings["rule"] == "QC906").any()
    assert quoted(report) == [("AIRLINK", 2), ("KEL", 4)]


# --------------------------------------------------------------------------------- columns


def test_csv_findings_point_at_the_cell():
    bad_percent = "BOP,10.39,Decreased By,▼,-0.10,-0.96"  # the percent should be -0.95
    text = "\n".join([HEADER, CSV_GOOD, bad_percent]) + "\n"
    report = check(text, "q.csv")
    finding = only(report, "QC303")
    assert (int(finding["line"]), int(finding["column"])) == (3, bad_percent.index("-0.96") + 1)
    row = report.quotes[report.quotes["line"] == 3].iloc[0]
    assert int(row["price_col"]) == bad_percent.index("10.39") + 1
    assert int(row["change_col"]) == bad_percent.index("-0.10") + 1


def test_a_quoted_csv_cell_is_located_at_its_quote():
    line = 'KSE100,"114,977",Increased By,,172.5,0.16'  # the percent should be 0.15
    report = check("\n".join([HEADER, line]) + "\n", "q.csv")
    row = report.quotes.iloc[0]
    assert int(row["price_col"]) == line.index('"114') + 1
    assert int(row["percent_col"]) == line.index("0.16") + 1


@pytest.mark.parametrize("as_array", [False, True])
def test_json_findings_point_at_the_members_value(as_array):
    bad = json.dumps(
        dict(
            GOOD,
            symbol="BOP",
            price="10.39",
            direction="Decreased By",
            arrow="▼",
            change="-0.10",
            percent="-0.96",
        ),
        ensure_ascii=False,
    )
    text = f"[{json.dumps(GOOD)},\n {bad}]" if as_array else jsonl(json.dumps(GOOD), bad)
    report = check(text, "q.json" if as_array else "q.jsonl")
    finding = only(report, "QC303")
    line = text.split("\n")[1]
    assert (int(finding["line"]), int(finding["column"])) == (2, line.index('"-0.96"') + 1)


def test_an_invalid_json_record_is_located_at_its_first_bad_member():
    invalid = '{"symbol": "BOP", "price": true, "direction": "Decreased By"}'
    report = check(jsonl(json.dumps(GOOD), invalid), "q.jsonl")
    finding = only(report, "QC905")
    assert (int(finding["line"]), int(finding["column"])) == (2, invalid.index("true") + 1)
    assert finding["field"] == "price"
    assert (
        finding["message"]
        == "record 2: `price` is true, not a number or a string; lacks `change` and `percent`"
    )


def test_many_invalid_records_of_varied_values_each_draw_their_own_finding():
    lines = [f'{{"symbol": {i}, "price": "x"}}' for i in range(300)] + [json.dumps(GOOD)]
    report = check(jsonl(*lines), "q.jsonl")
    invalid = report.findings[report.findings["rule"] == "QC905"]
    assert len(invalid) == 300
    assert list(invalid["observed"][:3]) == ["0", "1", "2"]
    assert (
        invalid["message"].iloc[7]
        == "record 8: `symbol` is 7, not a string; lacks `direction`, `change` and `percent`"
    )
    assert quoted(report) == [("AIRLINK", 301)]


def test_a_key_quoted_inside_a_string_does_not_mislead_the_column():
    record = dict(OTHER, percent="-0.9")  # the percent should be -0.8
    record = {"source": 'a "percent": 1', **record, "x": [1, {"percent": 2}]}
    line = json.dumps(record, ensure_ascii=False)
    report = check(jsonl(line), "q.jsonl")
    finding = only(report, "QC303")
    assert int(finding["column"]) == line.index('"-0.9"') + 1
    assert int(report.quotes["price_col"].iloc[0]) == line.index('"4.96"') + 1


@pytest.mark.parametrize(
    "line",
    [
        '{"symbol": 5, "price": "x"}',
        '{"price": "x", "symbol": 5}',
        '{"note": "say \\"symbol\\": 1", "symbol": 5, "price": "x"}',
        '{"symbol": 5, "price": "x", "x": {"symbol": "AIRLINK"}}',
        '{"symbol": 5, "price": "x", "x": ["\\"symbol\\": 7"]}',
        '{"symbol":5,"price":"x"}',
        '  {"a": "{[", "symbol": 5, "price": "x"}',
    ],
)
def test_an_invalid_record_repeated_is_located_as_its_first_copy(line):
    # The first record of a shape is located by the exact walk, the rest of that shape by quick
    # scans: every copy's finding must point at the same member value (the decoded `symbol`).
    report = check(jsonl(line, line, line), "q.jsonl")
    invalid = report.findings[report.findings["rule"] == "QC905"]
    assert list(invalid["line"]) == [1, 2, 3]
    decoded_at = line.index("5") + 1  # the top-level symbol's value, 5, is the first `5` in each line
    assert list(invalid["column"]) == [decoded_at] * 3
