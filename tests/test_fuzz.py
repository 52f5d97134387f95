"""Property-based fuzzing: random bytes and mutated real pages never raise, and never lose a clean quote."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.api import check_bytes
from checker.cli import cli
from checker.config import Options
from checker.exitcodes import ExitStatus
from checker.inputs.detect import FORMATS
from checker.parse import QUOTE_FIELDS, parse_lines, split_lines
from checker.read import decode
from checker.render.text import finding_lines

SAMPLE = (Path(__file__).resolve().parent.parent / "samples" / "sample-page.txt").read_bytes()
# Example counts are kept modest so that the suite stays fast.
PARSER_SETTINGS = settings(max_examples=200, deadline=None)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAGE_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLI_SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ("page.txt", "page.html", "q.csv", "q.tsv", "q.json", "q.jsonl", "page", "page.txt.gz")
FINDING_LINE = re.compile(r"^(?P<where>.*?): QC\d{3} \[(?:error|warning|info)\] ")

# Characters quotes are made of, their look-alikes, mojibake, and the bytes that break readers.
QUOTE_ALPHABET = [
    *"AIRLNKBOP0123456789.,-+() %\t\n\r ",
    *("▲", "▼", "â–²", "\u2212", "\u00a0", "\uff11", "\x00", "Increased By", "Decreased By", "No Change"),
]
quote_text = st.lists(st.sampled_from(QUOTE_ALPHABET), max_size=80).map("".join)
sample_lines = st.sampled_from(SAMPLE.decode("utf-8").split("\n"))
nasty_bytes = st.sampled_from(
    [
        b"\x00",
        b"\xff",
        b"\xfe",
        b"\r",
        b"\n",
        b"\xe2\x96",
        "▲".encode(),
        b"(",
        b"%)",
        b"\xef\xbb\xbf",
        b"\x1f\x8b",
    ]
)
MUTATION = st.one_of(
    st.tuples(
        st.just("insert"), st.integers(0, 1 << 16), st.one_of(nasty_bytes, st.binary(min_size=1, max_size=6))
    ),
    st.tuples(st.just("delete"), st.integers(0, 1 << 16), st.integers(1, 6)),
    st.tuples(
        st.just("replace"), st.integers(0, 1 << 16), st.one_of(nasty_bytes, st.binary(min_size=1, max_size=6))
    ),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 16), st.just(0)),
    st.tuples(st.just("duplicate"), st.integers(0, 1 << 16), st.just(0)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, object]]) -> bytes:
    """Apply byte-level edits the way damaged scrapes look: inserts, deletes, replacements, cuts, repeats."""
    for kind, at, arg in mutations:
        position = at % (len(data) + 1)
        if kind == "insert":
            data = data[:position] + arg + data[position:]
        elif kind == "delete":
            data = data[:position] + data[position + arg :]
        elif kind == "replace":
            data = data[:position] + arg + data[position + len(arg) :]
        elif kind == "truncate":
            data = data[: max(position, len(data) // 4)]
        else:
            lines = data.split(b"\n")
            index = at % len(lines)
            data = b"\n".join([*lines[: index + 1], lines[index], *lines[index + 1 :]])
    return data


def assert_sound(report, name):
    """No internal error, every finding names the file, and the exit status is a documented one."""
    assert "QC904" not in set(report.findings["rule"]), report.findings[["rule", "message"]].to_string()
    assert set(report.findings["file"]) <= {name}
    assert report.findings["message"].notna().all() and (report.findings["message"].str.len() > 0).all()
    for line in finding_lines(report):
        assert line.startswith(f"{name}:") or line.startswith(f"{name}: "), line
    assert report.exit_status in (ExitStatus.OK, ExitStatus.FINDINGS, ExitStatus.USAGE)


# ---------------------------------------------------------------------------------- parser


@PARSER_SETTINGS
@given(st.lists(st.one_of(quote_text, sample_lines, st.text(max_size=60)), max_size=12).map("\n".join))
def test_parser_never_raises_and_every_location_is_inside_its_line(text):
    lines = split_lines(text)
    parsed = parse_lines(lines)
    columns = parsed.columns
    for i, line_no in enumerate(columns["line"]):
        source = lines[line_no - 1]
        assert 1 <= columns["column"][i] <= columns["end_column"][i] <= len(source)
        for field in QUOTE_FIELDS:
            value, column = columns[f"{field}_text"][i], columns[f"{field}_col"][i]
            if value is not None:
                assert source[column - 1 : column - 1 + len(value)] == value
    for item in parsed.unparsed:
        assert lines[item.line - 1][item.column - 1 :].startswith(item.text)


# ------------------------------------------------------------------------------- API, bytes


@SETTINGS
@given(
    data=st.one_of(
        st.binary(max_size=1500), quote_text.map(str.encode), st.binary(max_size=200).map(gzip.compress)
    ),
    name=st.sampled_from(NAMES),
    input_format=st.sampled_from([None, *FORMATS]),
)
def test_random_bytes_in_any_format_never_raise(data, name, input_format):
    report = check_bytes(data, name, Options(input_format=input_format))
    assert_sound(report, name)
    assert len(report.files) == 1


@SETTINGS
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(["symbol", "price", "direction", "arrow", "change", "percent", "line", "x"]),
            st.one_of(
                st.none(), st.booleans(), st.integers(), st.floats(), quote_text, st.lists(st.integers())
            ),
        ),
        max_size=6,
    ),
    jsonl=st.booleans(),
    cut=st.integers(0, 400),
)
def test_random_json_records_never_raise(records, jsonl, cut):
    import json

    text = "\n".join(json.dumps(r) for r in records) if jsonl else json.dumps(records, indent=1)
    data = text.encode()
    data = data[: len(data) - cut % (len(data) + 1)]
    name = "q.jsonl" if jsonl else "q.json"
    assert_sound(check_bytes(data, name), name)


# ---------------------------------------------------------------------------- mutated pages


def quote_key(row) -> tuple:
    return tuple(
        None if row[f] is None else str(row[f])
        for f in ("symbol", "price_text", "change_text", "percent_text")
    )


CLEAN = check_bytes(SAMPLE, "page.txt", Options(include_quotes=True))
CLEAN_LINES = SAMPLE.split(b"\n")
CLEAN_QUOTES = {CLEAN_LINES[int(row["line"]) - 1]: quote_key(row) for row in CLEAN.quotes.to_dict("records")}


@PAGE_SETTINGS
@given(st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_page_keeps_every_quote_on_untouched_lines(mutations):
    data = mutate(SAMPLE, mutations)
    report = check_bytes(data, "page.txt", Options(include_quotes=True))
    assert_sound(report, "page.txt")
    text_lines = split_lines(decode(data).text)
    found = {
        (quote_key(row), text_lines[int(row["line"]) - 1] if int(row["line"]) <= len(text_lines) else None)
        for row in report.quotes.to_dict("records")
    }
    untouched = set(data.split(b"\n")) & set(CLEAN_QUOTES)
    for line in untouched:
        assert (CLEAN_QUOTES[line], line.decode("utf-8")) in found, (line, mutations)


HTML_SAMPLE = (
    b"<!DOCTYPE html><html><body>\n"
    + b"\n".join(b"<p>" + line + b"</p>" for line in SAMPLE.split(b"\n"))
    + b"\n<table><tr><td>KEL</td><td>4.96</td><td>Decreased By &#9660; -0.04</td>"
    + b"<td>(-0.8%)</td></tr></table>"
)


@SETTINGS
@given(st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_html_page_never_raises(mutations):
    # markup damage may legitimately hide later text (an opened comment), so only soundness is asserted
    assert_sound(check_bytes(mutate(HTML_SAMPLE, mutations), "page.html"), "page.html")


def test_html_sample_of_the_mutation_test_holds_the_pages_quotes():
    assert check_bytes(HTML_SAMPLE, "page.html").summary()["quotes"] == CLEAN.summary()["quotes"] + 1


# ------------------------------------------------------------------------------------- CLI


def cli_run(data: bytes, *args: str):
    result = CliRunner().invoke(
        cli, ["check", "--no-config", "--no-report", "--format", "text", *args, "-"], input=data
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (ExitStatus.OK, ExitStatus.FINDINGS, ExitStatus.USAGE), result.output
    assert "Traceback" not in result.output
    for line in result.output.splitlines():
        match = FINDING_LINE.match(line)
        if match:
            assert match["where"].startswith("<stdin>"), line
    return result


@CLI_SETTINGS
@given(
    st.binary(max_size=1000), st.sampled_from([[], ["--input-format", "html"], ["--input-format", "jsonl"]])
)
def test_cli_on_random_bytes_never_raises(data, args):
    cli_run(data, *args)


@CLI_SETTINGS
@given(st.lists(MUTATION, min_size=1, max_size=6))
def test_cli_on_mutated_pages_never_raises(mutations):
    result = cli_run(mutate(SAMPLE, mutations))
    assert re.search(r"1 file, \d+ quotes?:", result.output), result.output


# ---------------------------------------------------------------------------- HTML locations

TAGS = ("p", "div", "span", "b", "li", "td", "section")
html_words = st.lists(
    st.sampled_from(["AIRLINK", "207.00", "Increased", "By", "▲", "6.71", "(3.35%)", "BOP", "-0.10", "x"]),
    min_size=1,
    max_size=5,
)


@st.composite
def html_documents(draw, depth=0):
    """Random nested markup whose text has no entities, with random spaces and line breaks."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        gap = draw(st.sampled_from([" ", "\n", "  \n ", "\t"]))
        if depth < 4 and draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            attribute = draw(st.sampled_from(["", ' class="AIRLINK 207.00"', " title='By'"]))
            parts.append(f"<{tag}{attribute}>{draw(html_documents(depth + 1))}</{tag}>{gap}")
        elif draw(st.integers(0, 5)) == 0:
            parts.append(f"<br>{gap}")
        else:
            parts.append(gap.join(draw(html_words)) + gap)
    return "".join(parts)


@SETTINGS
@given(html_documents())
def test_html_words_are_located_at_their_verbatim_place_in_the_source(body):
    from checker.inputs.htmlpage import html_text

    source = f"<html><body>\n{body}\n</body></html>"
    page = html_text(source)
    lines = split_lines(source)
    for text_line in page.lines:
        for start, line, column in zip(text_line.starts, text_line.lines, text_line.columns, strict=True):
            word = text_line.text[start:].split(" ", 1)[0]
            assert lines[line - 1][column - 1 :].startswith(word), (word, line, column, source)


# ------------------------------------------------------------------------- record validation

SHARED_VALIDATOR = None
record_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "a", "207.00"]),
    st.lists(st.integers(), max_size=2),
)
# values that often make a record valid, so that valid shapes are remembered and then hit
likely_values = st.one_of(st.sampled_from(["a", "207.00"]), st.integers(-3, 3), st.floats(-2, 2))
record_keys = ("symbol", "price", "direction", "arrow", "change", "percent", "line", "source", "x")


@SETTINGS
@given(
    st.one_of(
        # mostly complete records, so that valid shapes are remembered and then hit
        st.fixed_dictionaries(
            {k: st.one_of(likely_values, record_values) for k in ("price", "change", "percent")}
            | {
                k: st.one_of(st.sampled_from(["a", "207.00"]), record_values) for k in ("symbol", "direction")
            },
            optional={k: record_values for k in ("arrow", "line", "source", "x")},
        ),
        st.dictionaries(st.sampled_from(record_keys), record_values),
        st.integers(),
        st.text(max_size=3),
    )
)
def test_remembered_record_shapes_give_exactly_the_schemas_verdict(record):
    from checker.inputs.records import RecordValidator, record_validator

    global SHARED_VALIDATOR
    if SHARED_VALIDATOR is None:  # shared across examples, so that remembered shapes are hit
        SHARED_VALIDATOR = RecordValidator(record_validator().validator.schema)
    expected = record_validator().validator.is_valid(record)
    assert (SHARED_VALIDATOR.errors(record) == []) == expected, record
