"""Hostile text never acts: file names and page text full of escape sequences, bidi controls, line
breaks, workflow commands and markup reach no terminal, CI log, summary or report raw.

The corpus is made here: names and pages holding ESC[2J, OSC titles and OSC 8 links, C1 controls,
bidi overrides, CR/LF, `::error::`, `##[`, `%`, `|` and `<script>`. `python -m checker check` runs
on it with stdout piped and with stdout a pseudo-terminal (where rich draws colours: those SGR
sequences are the only escapes allowed), and every report it writes is parsed strictly.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import subprocess
import sys
import tty
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import cmarkgfm
import jsonschema
import pandas as pd
import pytest
from cmarkgfm.cmark import Options as MarkdownOptions
from hypothesis import given
from hypothesis import strategies as st
from junitparser import JUnitXml

from checker.api import check_paths, check_text
from checker.render.escape import display, json_safe, visible
from checker.render.github import data, github_lines, property_value
from checker.render.json import write_json
from checker.render.junit import junit_tree
from checker.render.markdown import cell, markdown_summary
from checker.render.sarif import artifact_location, sarif_document
from checker.render.text import finding_lines

REPO = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = REPO.parent / "shared" / "data" / "sarif-schema-2.1.0.json"

# Characters that must never reach an output raw: C0 (bar LF, the line end), DEL, C1, the bidi
# controls and marks, the line and paragraph separators, lone surrogates.
ACTING = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
SGR = re.compile("\x1b\\[[0-9;]*m")
# What GitHub's runner takes for a command: a line starting with `::` (after blanks), or `##[`
# anywhere in a line.
COMMAND_V2 = re.compile(r"^\s*::")
WORKFLOW_COMMAND = re.compile(
    r"^::(?P<command>error|warning|notice) "
    r"file=(?P<file>[^,:\r\n]+)(?:,line=(?P<line>\d+))?(?:,col=(?P<col>\d+))?(?:,endColumn=(?P<end>\d+))?"
    r",title=(?P<title>[^,:\r\n]+)::(?P<message>[^\r\n]*)$"
)

HOSTILE_NAMES = [
    "clear\x1b[2J\x1b[H",
    "link\x1b]8;;https:evil.example\x07click\x1b]8;;\x07",
    "title\x1b]0;owned\x07",
    "bidi\u202eoverride\u2066isolate\u2069\u200fmark\u061c",
    "line\rbreak\nhere\ttab",
    "::error::injected",
    " ::warning title=x::spaced",
    "##[error]legacy",
    "percent%0A%25",
    "pipe|cell",
    "<script>alert(1)<img src=x onerror=alert(2)>",
    "c1\x9b31m\x85next",
    "separators\u2028line\u2029para",
    "del\x7f",
    "![img](https:evil.example) www.evil.example a@evil.example",
    "کراچی ▲ ok",
]
GOOD_QUOTES = [
    "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
]
HOSTILE_PAGE = "\n".join(
    [
        "Markets \x1b[2J\x1b]0;owned\x07 at a glance \u202e",
        *GOOD_QUOTES,
        "AIR\x1b[31mLINK 207.00 Increased By ▲ 6.71 (3.36%)",
        "B\u202eOP 10.39 Decreased By ▼ -0.10 (-0.95%) \x1b]8;;https://evil.example\x07x\x1b]8;;\x07",
        "::error::x 1.00 Increased By ▲ 6.71 (3.36%)",
        "##[error]Y 1.00 Increased By ▲ 0.10 (11.11%)",
        "<script>|X 17.17 Decreased By ▲ -0.25 (-1.44%)",
        "KEL\r4.96 Decreased By ▼ -0.04 (-0.9%) \x9b2J",
        "HUBC 132.30 Increased By 4.49 (3.51%) \u2028 www.evil.example https://evil.example/x",
        "![x](https://evil.example/i.png) <a href=x>y</a> a@evil.example | ::warning::z",
        "PIBTL 9.80 Decreased By ▼ -0.1",
    ]
)
HOSTILE_CSV = (
    "symbol,price,direction,change,percent,<b>\x1b[2Jnote|x\n"
    "AIRLINK,207.00,Increased,6.71,3.35%,ok\n"
    "AIR\x1b]0;t\x07LINK,207.00,Increased,6.71,3.36%,\u202e::error::x\n"
    "B\u202eOP,10.39,Decreased,-0.10,-0.95%,<script>\n"
)
HOSTILE_JSON = json.dumps(
    [
        {
            "symbol": "AIRLINK",
            "price": "207.00",
            "direction": "Increased",
            "change": "6.71",
            "percent": "3.35%",
        },
        {
            "symbol": "X\x1b[2J\u202e|<i>",
            "price": "1.00",
            "direction": "Increased",
            "change": "9.10",
            "percent": "1%",
            "\x1b]0;key\x07::error::k": "\u2028value",
        },
    ]
)


def hostile_corpus(folder: Path) -> list[str]:
    """Write the corpus into `folder`; the file names, relative to it."""
    names = []
    for stem in HOSTILE_NAMES:
        name = f"{stem}.txt"
        (folder / name).write_text(HOSTILE_PAGE, encoding="utf-8")
        names.append(name)
    for stem, suffix, text in (
        ("|csv\x1b[2J", ".csv", HOSTILE_CSV),
        ("json\u202e::x", ".json", HOSTILE_JSON),
    ):
        (folder / f"{stem}{suffix}").write_text(text, encoding="utf-8")
        names.append(f"{stem}{suffix}")
    return names


def check_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "checker", "check", "--no-config", "--jobs", "1", *args]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "GITHUB_ACTIONS")}
    env |= {"PYTHONPATH": str(REPO), "GITHUB_STEP_SUMMARY": "", "COLUMNS": "200", "TERM": "xterm-256color"}
    return env | extra


def run_piped(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        check_command(*args), cwd=cwd, env=child_env(**env), capture_output=True, timeout=300, check=False
    )


def run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, bytes, bytes]:
    """Run with stdout a pseudo-terminal (raw: the kernel adds no CR); stderr is piped."""
    leader, follower = os.openpty()
    tty.setraw(follower)
    process = subprocess.Popen(
        check_command(*args), cwd=cwd, env=child_env(), stdout=follower, stderr=subprocess.PIPE
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    stderr = process.stderr.read() if process.stderr else b""
    return process.wait(timeout=300), b"".join(chunks), stderr


def assert_inert(output: bytes, what: str, log: bool = True) -> str:
    """The output as text: valid UTF-8, no acting character; in a log, no `##[` command either."""
    text = output.decode("utf-8")  # strict: a lone surrogate could not have been written
    found = ACTING.search(text)
    assert found is None, (
        f"{what}: raw {found.group()!r} in {text[max(0, found.start() - 60) : found.end() + 20]!r}"
    )
    assert not log or "##[" not in text, f"{what}: a legacy workflow command"
    return text


def assert_no_command_lines(text: str, what: str, allowed: re.Pattern[str] | None = None) -> None:
    for line in text.splitlines():
        if COMMAND_V2.match(line):
            assert allowed is not None and allowed.match(line), f"{what}: {line!r} is a workflow command"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("hostile")
    return folder, hostile_corpus(folder)


@pytest.fixture(scope="module")
def piped(corpus, tmp_path_factory: pytest.TempPathFactory):
    """One piped run on the corpus writing every report: (result, report folder)."""
    folder, names = corpus
    out = tmp_path_factory.mktemp("reports")
    args = ["--report-dir", str(out), "--include-quotes", "--junit", str(out / "junit.xml")]
    args += ["--sarif", str(out / "report.sarif"), "--markdown", str(out / "summary.md"), *names]
    return run_piped(args, folder), out


# --- the scheme -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("t\tc\rl\n", "t\\tc\\rl\\n"),
        ("\x00\x7f\x9b\x85", "\\x00\\x7f\\x9b\\x85"),
        ("a\u202eb\u2066c\u2069\u200e\u200f\u061c", "a\\u202eb\\u2066c\\u2069\\u200e\\u200f\\u061c"),
        ("l\u2028p\u2029", "l\\u2028p\\u2029"),
        ("name\udc80\udcff", "name\\x80\\xff"),  # surrogateescape'd bytes: the bytes
        ("\ud800x", "\\ud800x"),
        ("::error::x", "\\x3a:error::x"),
        ("  ::x", "  \\x3a:x"),
        ("a ::b", "a ::b"),
        ("x ##[error]y", "x #\\x23[error]y"),
        ("کراچی ▲ C:\\data\\ 100% | <b>", "کراچی ▲ C:\\data\\ 100% | <b>"),
    ],
)
def test_display_shows_acting_characters_as_escapes_and_keeps_the_rest(raw, shown):
    assert display(raw) == shown


# Any character, lone surrogates included, with the pieces of escapes and commands made likely.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.characters(categories=["Cs", "Cc", "Cf", "Zl", "Zp"]),
        st.sampled_from(list("\x1b\\:#[ \t")),
    )
)


@given(ANY_TEXT)
def test_display_of_any_text_is_inert_and_stable(text):
    shown = display(text)
    assert ACTING.search(shown) is None
    assert "##[" not in shown and not COMMAND_V2.match(shown)
    shown.encode("utf-8")  # no lone surrogate left
    assert display(shown) == shown, "displaying twice changes nothing"
    visible(text).encode("utf-8")


def _unescape_data(value: str) -> str:  # the runner's UnescapeData
    for token, replacement in (("\r", "%0D"), ("\n", "%0A"), ("%", "%25")):
        value = value.replace(replacement, token)
    return value


@given(ANY_TEXT, ANY_TEXT)
def test_a_workflow_command_carries_any_value_whole_and_alone(name, message):
    line = f"::error file={property_value(name)},title=QC303 x::{data(message)}"
    assert len(line.splitlines()) == 1 and "##[" not in line
    match = re.fullmatch(r"::error file=(?P<file>[^,:\r\n]*),title=QC303 x::(?P<message>[^\r\n]*)", line)
    assert match, line
    assert _unescape_property(match["file"]) == display(name)
    assert _unescape_data(match["message"]) == display(message)


@given(ANY_TEXT)
def test_a_markdown_cell_holds_any_text_as_one_inert_cell(text):
    rendered = _gfm(f"| a | b |\n|---|---|\n| {cell(text)} | z |\n")
    parser = _Tags()
    parser.feed(rendered)
    assert [tag for tag, _ in parser.tags if tag not in ("code",)] == [
        "table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td",
    ]  # fmt: skip
    shown = display(text)
    if shown.strip():
        cells = re.findall(r"<td>(.*?)</td>", rendered, flags=re.S)
        assert cells == [f"<code>{_as_html(shown)}</code>", "z"], "the text, exactly"


def test_json_safe_keeps_characters_exact_and_surrogates_visible():
    encoded = json.dumps({"k\u202e": "a\x9b\u2028\x1b\udc80\ud800 ##[error]"}, ensure_ascii=False)
    safe = json_safe(encoded)
    assert ACTING.search(safe) is None and "##[" not in safe
    safe.encode("utf-8")
    assert json.loads(safe) == {"k\u202e": "a\x9b\u2028\x1b\\x80\\ud800 ##[error]"}


# --- the CLI on the corpus ------------------------------------------------------------------


def test_piped_text_output_is_inert_and_names_stay_readable(corpus, piped):
    _, names = corpus
    result, _ = piped
    assert result.returncode == 1, result.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr
    text = assert_inert(result.stdout, "stdout")
    assert_no_command_lines(assert_inert(result.stderr, "stderr"), "stderr")
    assert_no_command_lines(text, "stdout")
    assert "\x1b" not in text, "no colour when piped"
    for expected in (
        "clear\\x1b[2J\\x1b[H.txt:",
        "bidi\\u202eoverride\\u2066isolate\\u2069\\u200fmark\\u061c.txt:",
        "line\\rbreak\\nhere\\ttab.txt:",
        "\\x3a:error::injected.txt:",
        "#\\x23[error]legacy.txt:",
        "کراچی ▲ ok.txt:",
    ):
        assert any(line.startswith(expected) for line in text.splitlines()), expected
    summary = text.splitlines()[-1]
    assert summary.startswith(f"{len(names)} files, "), summary


def test_output_on_a_terminal_holds_only_rich_colours(corpus, piped):
    folder, names = corpus
    status, output, stderr = run_on_a_terminal(["--no-report", *names], folder)
    assert status == 1, stderr.decode("utf-8", "replace")
    assert b"Traceback" not in stderr
    assert SGR.search(output.decode("utf-8")), "a terminal gets colour"
    text = assert_inert(SGR.sub("", output.decode("utf-8")).encode("utf-8"), "terminal")
    assert_no_command_lines(text, "terminal")
    plain = piped[0].stdout.decode("utf-8")
    assert text.splitlines()[: len(names)] == plain.splitlines()[: len(names)], "the same lines"


def _unescape_property(value: str) -> str:  # the runner's UnescapeProperty
    for token, replacement in (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")):
        value = value.replace(replacement, token)
    return value


def test_github_commands_are_one_per_finding_and_none_is_injected(corpus, tmp_path):
    folder, names = corpus
    report = tmp_path / "report.json"
    result = run_piped(["--no-report", "--format", "github", "--json", str(report), *names], folder)
    assert result.returncode == 1
    text = assert_inert(result.stdout, "github")
    commands = [line for line in text.splitlines() if COMMAND_V2.match(line)]
    assert all(WORKFLOW_COMMAND.match(line) for line in commands), "every command well-formed"
    assert_no_command_lines(text, "github", allowed=WORKFLOW_COMMAND)
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert len(commands) == len(findings)
    files = [_unescape_property(WORKFLOW_COMMAND.match(line)["file"]) for line in commands]
    assert files == [display(finding["file"]) for finding in findings]
    assert "::error::injected" in {finding["file"].removesuffix(".txt") for finding in findings}


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _as_html(text: str) -> str:  # cmark's escaping of text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _gfm(markdown: str) -> str:
    # UNSAFE: render raw HTML as GitHub's step summary allows it, so that none can hide.
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=MarkdownOptions.CMARK_OPT_UNSAFE)


def test_markdown_summary_renders_no_markup_from_the_data(piped):
    result, out = piped
    assert result.returncode == 1
    markdown = assert_inert((out / "summary.md").read_bytes(), "markdown", log=False)
    rendered = _gfm(markdown)
    parser = _Tags()
    parser.feed(rendered)
    ours = {"h2", "h3", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code", "ul", "li"}
    assert {tag for tag, _ in parser.tags} <= ours, rendered
    assert all(not attrs or tag in ("th", "td") for tag, attrs in parser.tags), "no attribute but align"
    assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
    # every row of every table has as many cells as its header
    for table in re.findall(r"<table>.*?</table>", rendered, flags=re.S):
        header = len(re.findall(r"<th[ >]", table))
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
        assert rows and all(len(re.findall(r"<td[ >]", row)) == header for row in rows)
    assert "<td><code>#\\x23[error]legacy.txt:" in rendered


def test_markdown_cells_hold_any_name_and_message_whole(corpus):
    folder, names = corpus
    report = check_paths([folder / name for name in names[:3]] + [folder / "pipe|cell.txt"])
    rendered = _gfm(markdown_summary(report, top=len(report.findings)))
    table = re.findall(r"<table>.*?</table>", rendered, flags=re.S)[-1]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    assert len(rows) == len(report.findings)
    assert all(len(re.findall(r"<td[ >]", row)) == 4 for row in rows)
    cells = [re.findall(r"<td>(.*?)</td>", row, flags=re.S) for row in rows]
    assert any(cell[0].startswith(f"<code>{folder}/pipe|cell.txt:") for cell in cells)
    for (location, _rule, _severity, message), finding in zip(
        cells, report.findings.to_dict("records"), strict=True
    ):
        line = f"{finding['file']}:{finding['line']}:{finding['column']}"
        assert location == f"<code>{_as_html(display(line))}</code>"
        assert message == f"<code>{_as_html(display(finding['message']))}</code>"


def test_reports_are_well_formed_for_the_corpus(corpus, piped):
    folder, names = corpus
    result, out = piped
    assert result.returncode == 1, result.stderr.decode("utf-8", "replace")
    raw = (out / "report.json").read_bytes()
    assert_inert(raw, "JSON report")  # it may be printed to a CI log (`--format json`)
    document = json.loads(raw.decode("utf-8"), parse_constant=lambda name: pytest.fail(f"JSON has {name}"))
    assert {f["path"] for f in document["files"]} == set(names), "names kept exactly"
    jsonschema.validate(document, json.loads((REPO / "schemas" / "report.schema.json").read_text("utf-8")))
    # JUnit: parsed by a strict XML parser and by junitparser; names shown safe
    junit = (out / "junit.xml").read_bytes()
    assert_inert(junit, "JUnit", log=False)
    ET.fromstring(junit)
    suites = {suite.name for suite in JUnitXml.fromfile(str(out / "junit.xml"))}
    assert suites == {display(name) for name in names}
    # SARIF: the official schema, URIs relative to the declared root, names percent-encoded
    sarif_bytes = (out / "report.sarif").read_bytes()
    assert_inert(sarif_bytes, "SARIF")
    sarif = json.loads(sarif_bytes.decode("utf-8"))
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    run_ = sarif["runs"][0]
    root = run_["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == folder.as_uri() + "/"
    locations = [a["location"] for a in run_["artifacts"]]
    locations += [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run_["results"]]
    for location in locations:
        assert location["uriBaseId"] == "%SRCROOT%"
        assert not urlsplit(location["uri"]).scheme, "a relative reference, not a scheme"
        assert unquote(location["uri"]) in names
    # the quotes of every page are still read
    assert len(document["quotes"]) >= len(GOOD_QUOTES) * len(HOSTILE_NAMES)


# --- names that are not UTF-8 ---------------------------------------------------------------


def test_report_and_baseline_paths_that_are_not_utf8_are_shown_as_their_bytes(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(HOSTILE_PAGE, encoding="utf-8")
    baseline = os.fsdecode(os.fsencode(tmp_path) + b"/base\x80\xff.json")
    recorded = run_piped(["--no-report", "--json", baseline, "page.txt"], tmp_path)
    assert recorded.returncode == 1
    stderr = assert_inert(recorded.stderr, "stderr")
    assert f"JSON report: {tmp_path}/base\\x80\\xff.json" in stderr
    again = run_piped(["--no-report", "--baseline", baseline, "page.txt"], tmp_path)
    assert again.returncode == 0, again.stderr.decode("utf-8", "replace")
    text = assert_inert(again.stdout, "stdout")
    assert f"(in the baseline {tmp_path}/base\\x80\\xff.json)" in text


def _with_file_name(report, name: str):
    """The report as if its one file were called `name` (the frame's Arrow strings hold no
    surrogate, so the name goes into an object column, as a renderer may be given it)."""
    findings = report.findings.copy()
    findings["file"] = pd.Series([name] * len(findings), index=findings.index, dtype=object)
    files = [replace(result, path=name) for result in report.files]
    return replace(report, findings=findings, files=files)


def test_every_renderer_shows_a_name_that_is_not_utf8_as_its_bytes(tmp_path):
    name = os.fsdecode(b"incoming/\x80\xffpage \xd8\xb1.txt")  # two bad bytes, then a real ر
    report = _with_file_name(check_text(HOSTILE_PAGE, name="page.txt"), name)
    shown = "incoming/\\x80\\xffpage ر.txt"
    assert all(line.startswith(f"{shown}:") for line in finding_lines(report))
    assert all(f"file={shown}," in line for line in github_lines(report))
    assert f"`{shown}:" in markdown_summary(report)
    assert {s.get("name") for s in junit_tree(report).getroot()} == {shown}
    with (tmp_path / "r.json").open("w", encoding="utf-8") as stream:
        write_json(report, stream)
    document = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {f["file"] for f in document["findings"]} == {shown}
    # The findings frame's Arrow strings cannot hold a surrogate, so a SARIF result never meets
    # one; the list of files can.
    sarif = sarif_document(replace(report, findings=report.findings.iloc[0:0]), base=tmp_path)
    assert [a["location"] for a in sarif["runs"][0]["artifacts"]] == [
        {"uri": "incoming/%80%FFpage%20%D8%B1.txt", "uriBaseId": "%SRCROOT%"}
    ], "the URI of the real bytes"


def test_a_folder_holding_a_name_that_is_not_utf8_is_checked_without_an_internal_error(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "good.txt").write_text(HOSTILE_PAGE, encoding="utf-8")
    with open(os.fsencode(folder) + b"/bad\x80\x1b[2J.txt", "w", encoding="utf-8") as stream:
        stream.write(HOSTILE_PAGE)
    result = run_piped(["--no-report", "pages"], tmp_path)
    assert result.returncode in (1, 2), result.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr
    text = assert_inert(result.stdout, "stdout") + assert_inert(result.stderr, "stderr")
    assert "bad\\x80\\x1b[2J.txt" in text, "the name is shown, as its bytes"


# --- SARIF locations ------------------------------------------------------------------------


def test_sarif_locations_are_relative_to_the_root_or_absolute_file_uris(tmp_path):
    base = tmp_path / "repo"
    assert artifact_location("a/b c.txt", base) == {"uri": "a/b%20c.txt", "uriBaseId": "%SRCROOT%"}
    assert artifact_location(str(base / "x" / "کراچی.txt"), base) == {
        "uri": "x/%DA%A9%D8%B1%D8%A7%DA%86%DB%8C.txt",
        "uriBaseId": "%SRCROOT%",
    }
    assert artifact_location("odd:name#1?%.txt", base)["uri"] == "odd%3Aname%231%3F%25.txt"
    outside = artifact_location("../elsewhere/p.txt", base)
    assert outside == {"uri": (tmp_path / "elsewhere" / "p.txt").as_uri()}
    assert artifact_location("/etc/p.txt", base) == {"uri": "file:///etc/p.txt"}


def test_a_usage_error_naming_a_hostile_file_is_shown_escaped(tmp_path):
    name = "in\x1b]0;owned\x07put\u202e.txt"
    (tmp_path / name).write_text(HOSTILE_PAGE, encoding="utf-8")
    result = run_piped(["--no-report", "--json", name, name], tmp_path)
    assert result.returncode == 2
    stderr = assert_inert(result.stderr, "stderr")
    assert "in\\x1b]0;owned\\x07put\\u202e.txt" in stderr and "Traceback" not in stderr
    assert (tmp_path / name).read_bytes() == HOSTILE_PAGE.encode("utf-8"), "the input is untouched"


def test_the_python_api_takes_names_and_text_with_lone_surrogates():
    import pandas as pd

    from checker.api import check_bytes, check_frame, check_text
    from checker.exitcodes import ExitStatus

    faulty = "AIRLINK 207.00 Increased By ▼ 6.71 (3.35%)"
    reports = [
        check_text(f"{faulty} \ud800", name="page-\udcff.txt"),
        check_bytes(faulty.encode("utf-8"), name="page-\ud800.txt"),
        check_frame(
            pd.DataFrame(
                [{"symbol": "AIRLINK", "price": "207.00", "direction": "Increased By", "arrow": "▼",
                  "change": "6.71", "percent": "3.35"}]
            ),
            name="frame-\udcff",
        ),
    ]  # fmt: skip
    for report in reports:
        assert report.exit_status == ExitStatus.FINDINGS
        assert list(report.findings["rule"]) == ["QC302"]
        name = report.findings["file"].iloc[0]
        name.encode("utf-8")  # a name every report can carry
        assert "\\x" in name or "\\u" in name
