"""The fast paths give exactly what the reference implementation gives.

- Parsing: the vectorised parser against `parse_lines_reference` (the line-by-line Python parser),
  on generated pages with faults of every kind and on a page of deliberately weird lines.
- Findings: the whole check against golden findings recorded from the reference implementation
  (the stored pages under tests/data/fast_paths/ with their `.findings.jsonl`). Regenerate them
  only from a known-good reference: QUOTECHECK_UPDATE_GOLDEN=1 pytest tests/test_fast_paths.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.generate import FAULT_KINDS, generate_page
from checker.api import check_text
from checker.findings import FINDING_COLUMNS
from checker.parse import parse_lines, parse_lines_reference, split_lines

DATA = Path(__file__).parent / "data" / "fast_paths"
GOLDEN_PAGES = ("mixed-30pct", "all-faulty", "clean-2pct", "weird-lines")


def _parse_both(text: str, first_line: int = 1):
    lines = split_lines(text)
    return parse_lines(lines, first_line), parse_lines_reference(lines, first_line)


def _assert_same_parse(fast, reference) -> None:
    assert fast.lines == reference.lines
    assert set(fast.columns) == set(reference.columns)
    for name, values in reference.columns.items():
        got = list(fast.columns[name])
        assert len(got) == len(values), name
        mismatch = [(i, g, v) for i, (g, v) in enumerate(zip(got, values, strict=True)) if g != v]
        assert not mismatch, f"column {name} differs, first: {mismatch[:3]}"
    assert fast.unparsed == reference.unparsed


@pytest.mark.parametrize(
    ("lines", "fraction", "seed"),
    [(3000, 0.01, 1), (3000, 0.1, 2), (2000, 0.5, 3), (1500, 1.0, 4)],
)
def test_parse_matches_reference_on_generated_pages(lines, fraction, seed):
    fast, reference = _parse_both(generate_page(lines, fraction, seed))
    assert len(reference) > lines // 2  # the page holds quotes, so the comparison means something
    _assert_same_parse(fast, reference)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_parse_matches_reference_for_each_fault_kind(kind):
    fast, reference = _parse_both(generate_page(400, 1.0, seed=7, kinds=(kind,)))
    _assert_same_parse(fast, reference)


def test_parse_matches_reference_on_weird_lines():
    text = (DATA / "weird-lines.txt").read_text(encoding="utf-8")
    fast, reference = _parse_both(text.removeprefix("\ufeff"))
    assert len(reference.unparsed) >= 5
    _assert_same_parse(fast, reference)


def test_parse_keeps_line_numbers_from_first_line():
    fast, reference = _parse_both(generate_page(500, 0.3, seed=9), first_line=1001)
    assert min(fast.columns["line"]) > 1000
    _assert_same_parse(fast, reference)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "(",
        "no quote here (really)",
        "A 1 Increased By 1 (1%)",
        "A 1 Increased By 1 (1%)" * 5,
        "x" * 5000 + " BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
        "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\tKEL 4.96 Decreased By ▼ -0.04 (-0.8%)",
        "é BOP 10.39 Decreased By ▼ -0.10 (-0.95%) ▲▲ KEL 4.96 Decreased By ▼ -0.04 (-0.8%) (",
        "BOP 10.39 Decreased By ▼ -0.10 (-0.95%) BOP 10.39",
        "ZZ 1 Increased By 1 (1%",
        "🙂 AIRLINK 207.00 Increased By ▲ 6.71 (3.35%) 🙂",
    ],
)
def test_parse_matches_reference_on_single_lines(line):
    _assert_same_parse(*_parse_both(line))


def _findings_rows(frame: pd.DataFrame) -> list[dict]:
    def clean(column, value):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        return int(value) if column in ("line", "column", "end_column") else str(value)

    return [
        {c: clean(c, v) for c, v in zip(FINDING_COLUMNS, row, strict=True)}
        for row in frame[list(FINDING_COLUMNS)].astype(object).itertuples(index=False)
    ]


@pytest.mark.parametrize("page", GOLDEN_PAGES)
def test_findings_match_reference_golden(page):
    text = (DATA / f"{page}.txt").read_text(encoding="utf-8")
    got = _findings_rows(check_text(text, name=page).findings)
    golden_path = DATA / f"{page}.findings.jsonl"
    if os.environ.get("QUOTECHECK_UPDATE_GOLDEN"):
        golden_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in got), "utf-8")
    expected = [json.loads(line) for line in golden_path.read_text(encoding="utf-8").splitlines()]
    assert len(got) == len(expected)
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g == e, f"finding {index} differs"


@pytest.mark.parametrize("name", ["weird-lines.txt", "weird\tlines.txt"])  # a tab goes through rich
def test_plain_terminal_lines_are_what_rich_prints(name):
    import io

    from checker.render.terminal import finding_texts, make_console, render_terminal

    report = check_text((DATA / "weird-lines.txt").read_text(encoding="utf-8"), name=name)
    assert len(report.findings) > 20
    fast = io.StringIO()
    render_terminal(report, make_console(file=fast))
    slow = io.StringIO()
    console = make_console(file=slow)
    for line in finding_texts(report):
        console.print(line)
    console.print()
    assert fast.getvalue().startswith(slow.getvalue())
    assert len(fast.getvalue()) > len(slow.getvalue())  # the summary follows


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    ("lines", "fraction", "seed", "chunk_bytes", "breaks"),
    [
        (3000, 0.3, 21, 20_000, "\n"),
        (2000, 1.0, 22, 7_000, "\n"),
        (1500, 0.05, 23, 20_000, "\n"),
        # CRLF and lone CRs: a chunk's lines are then counted by splitting it, not from its LFs
        (3000, 0.3, 25, 20_000, "\r\n"),
        (2000, 0.5, 26, 7_000, "\r"),
    ],
)
def test_chunked_check_matches_whole_file(tmp_path, lines, fraction, seed, chunk_bytes, breaks, workers):
    from checker.chunked import check_large_file
    from checker.config import Options
    from checker.engine import Checker
    from checker.inputs.sources import InputRef

    page = tmp_path / "page.txt"
    # Duplicates far apart, across chunks: the page again at the end with some figures changed.
    text = generate_page(lines, fraction, seed)
    if breaks != "\n":  # every third line ends so, in the chunks of the page's first half
        rows = text.split("\n")
        half = len(rows) // 2
        text = "".join(r + (breaks if i < half and i % 3 == 0 else "\n") for i, r in enumerate(rows[:-1]))
    tail = text.splitlines()[:200]
    altered = [line.replace("Increased", "Decreased", 1) if i % 7 else line for i, line in enumerate(tail)]
    body = ("\ufeff" + text + "\n".join(altered) + "\n").encode("utf-8")
    middle = len(body) // 2
    page.write_bytes(body[:middle] + b"\xff\xfe" + body[middle:] + b"BAD \xff 1.00\n")
    assert len(body) > 3 * chunk_bytes
    checker = Checker(Options())
    whole = checker.check_input(InputRef(str(page), page))  # a small page: read whole
    chunked = check_large_file(checker, page, str(page), chunk_bytes=chunk_bytes, force=True, workers=workers)
    assert chunked is not None
    assert (chunked.result.lines, chunked.result.quotes, chunked.result.encoding) == (
        whole.result.lines,
        whole.result.quotes,
        whole.result.encoding,
    )
    assert {"QC305", "QC306", "QC902"} <= set(whole.findings["rule"])  # repeats across chunks, bad bytes
    assert _findings_rows(chunked.findings) == _findings_rows(whole.findings)
    assert chunked.sources == whole.sources


@pytest.mark.parametrize("swap", ["another page", "a fifo"])
def test_a_chunked_page_swapped_after_its_first_pass_is_still_read_from_the_file_checked(
    tmp_path, monkeypatch, swap
):
    import checker.chunked as chunked
    from checker.config import Options
    from checker.engine import Checker
    from checker.inputs.sources import InputRef

    page = tmp_path / "page.txt"
    page.write_text(generate_page(1500, 0.3, 24), encoding="utf-8")
    checker = Checker(Options())
    whole = checker.check_input(InputRef(str(page), page))
    offsets = chunked._chunk_offsets

    def swapped_after_the_first_pass(stream, chunk_bytes):
        yield from offsets(stream, chunk_bytes)
        page.unlink()  # the name now leads elsewhere: reading by name would read that
        if swap == "a fifo":
            os.mkfifo(page)  # opened by name for reading, it would block: no writer comes
        else:
            page.write_text("ZZQ 1.00 Increased By ▲ 0.50 (3.00%)\n" * 3000, encoding="utf-8")

    monkeypatch.setattr(chunked, "_chunk_offsets", swapped_after_the_first_pass)
    checked = chunked.check_large_file(checker, page, str(page), chunk_bytes=8_000, force=True)
    assert checked is not None
    assert checked.result.quotes == whole.result.quotes
    assert _findings_rows(checked.findings) == _findings_rows(whole.findings)


def test_parallel_run_gives_the_serial_report(tmp_path):
    from benchmarks.generate import write_directory
    from checker.api import check_paths

    write_directory(tmp_path / "pages", files=12, lines_per_file=150, fault_fraction=0.2, seed=5)
    (tmp_path / "pages" / "empty.txt").write_text("", encoding="utf-8")
    serial = check_paths([tmp_path / "pages"])
    parallel = check_paths([tmp_path / "pages"], jobs=2)
    assert len(serial.files) == 13 and len(serial.findings) > 50
    assert [f.as_dict() for f in parallel.files] == [f.as_dict() for f in serial.files]
    assert _findings_rows(parallel.findings) == _findings_rows(serial.findings)
    assert parallel.source_lines == serial.source_lines


def test_parse_fallback_batches_match_reference(monkeypatch):
    import checker.parse

    monkeypatch.setattr(checker.parse, "_FALLBACK_BATCH", 7)  # many batches of lines for the slow path
    fast, reference = _parse_both(generate_page(600, 0.6, seed=31))
    _assert_same_parse(fast, reference)


def test_a_text_page_is_read_in_chunks_from_large_file_bytes_and_other_inputs_whole(tmp_path, monkeypatch):
    import gzip

    import checker.chunked as chunked
    from checker.config import Options
    from checker.engine import Checker

    monkeypatch.setattr(chunked, "LARGE_FILE_BYTES", 20_000)
    text = generate_page(600, 0.2, 27)
    assert len(text.encode()) > 20_000
    large, small, packed = tmp_path / "large.txt", tmp_path / "small.txt", tmp_path / "large.txt.gz"
    large.write_text(text, encoding="utf-8")
    small.write_text(text[:15_000], encoding="utf-8")
    packed.write_bytes(gzip.compress(text.encode() * 4))
    checker = Checker(Options())
    assert chunked.check_large_file(checker, large, "large.txt") is not None
    assert chunked.check_large_file(checker, small, "small.txt") is None
    assert chunked.check_large_file(checker, packed, "large.txt.gz") is None
    keeping = Checker(Options(include_quotes=True))  # every quote in the report: read whole
    assert chunked.check_large_file(keeping, large, "large.txt") is None


def test_a_run_of_one_large_page_with_jobs_checks_its_chunks_in_threads_to_the_same_report(
    tmp_path, monkeypatch
):
    import checker.chunked as chunked
    import checker.engine
    from checker.api import check_paths

    monkeypatch.setattr(checker.engine, "BATCH_MAX_BYTES", 10_000)  # not a small page for a batch
    monkeypatch.setattr(chunked, "LARGE_FILE_BYTES", 20_000)
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 8_000)
    page = tmp_path / "page.txt"
    page.write_text(generate_page(2000, 0.3, 28), encoding="utf-8")
    seen: list[int] = []
    checked_chunks = chunked._checked_chunks

    def recorded(checker, stream, name, pieces, workers):
        seen.append(workers)
        return checked_chunks(checker, stream, name, pieces, workers)

    monkeypatch.setattr(chunked, "_checked_chunks", recorded)
    serial = check_paths([page])
    threaded = check_paths([page], jobs=2)
    many = check_paths([page], jobs=64)  # the threads are capped: each holds a chunk in memory
    assert seen == [1, 2, chunked.MAX_WORKERS]
    assert _findings_rows(many.findings) == _findings_rows(serial.findings)
    assert len(serial.findings) > 100
    assert [f.as_dict() for f in threaded.files] == [f.as_dict() for f in serial.files]
    assert _findings_rows(threaded.findings) == _findings_rows(serial.findings)
    assert threaded.source_lines == serial.source_lines


@pytest.mark.parametrize("workers", [1, 2])
def test_a_page_with_a_later_chunk_in_utf16_is_left_to_the_whole_file_reader(tmp_path, workers):
    from checker.chunked import check_large_file
    from checker.config import Options
    from checker.engine import Checker

    page = tmp_path / "page.txt"
    text = generate_page(600, 0.2, 3).encode("utf-8")
    utf16 = ("ZZ 1.00 Increased By ▲ 0.50 (100.00%)\n" * 400).encode("utf-16-le")
    page.write_bytes(text + utf16 + text)
    checker = Checker(Options())
    # a chunk that decode takes for UTF-16 (no BOM) is not a chunk of this UTF-8 page
    assert check_large_file(checker, page, str(page), chunk_bytes=8_000, force=True, workers=workers) is None


def test_a_chunk_that_fails_in_a_thread_is_an_internal_error_finding_not_a_hang(tmp_path, monkeypatch):
    import checker.chunked as chunked
    from checker.config import Options
    from checker.engine import Checker
    from checker.inputs.sources import InputRef

    page = tmp_path / "page.txt"
    page.write_text(generate_page(2000, 0.3, 29), encoding="utf-8")
    checker = Checker(Options())
    original = checker.check_lines

    def later_chunks_fail(lines, name, first_line=1, *scopes):
        if first_line > 1:  # every chunk but the first, whichever thread checks it
            raise MemoryError("a later chunk")
        return original(lines, name, first_line, *scopes)

    monkeypatch.setattr(checker, "check_lines", later_chunks_fail)
    with pytest.raises(MemoryError):  # out of the pool, once its threads are done
        chunked.check_large_file(checker, page, str(page), chunk_bytes=8_000, force=True, workers=2)
    monkeypatch.setattr(chunked, "LARGE_FILE_BYTES", 20_000)
    monkeypatch.setattr(checker, "check_lines", lambda *args: (_ for _ in ()).throw(MemoryError("all")))
    checker.chunk_workers = 2
    checked = checker.check_input(InputRef(str(page), page))
    assert list(checked.findings["rule"]) == ["QC904"]  # internal-error: exit status 3, said once
    assert "MemoryError" in checked.findings["message"][0]


def test_a_large_page_keeping_only_the_quotes_its_reports_show_gives_the_same_html_and_sarif(
    tmp_path, monkeypatch
):
    import checker.chunked as chunked
    import checker.engine
    from checker.api import check_paths
    from checker.config import Options
    from checker.render.html import render_html
    from checker.render.sarif import sarif_document
    from checker.repair import attach_fixes

    monkeypatch.setattr(checker.engine, "BATCH_MAX_BYTES", 10_000)
    monkeypatch.setattr(chunked, "LARGE_FILE_BYTES", 20_000)
    monkeypatch.setattr(chunked, "CHUNK_BYTES", 20_000)
    monkeypatch.setattr(chunked, "SHOWN_QUOTES", 40)  # the HTML report is asked for 40 below
    page = tmp_path / "page.txt"
    text = generate_page(3000, 0.2, 30)
    page.write_text(text + "\n".join(text.splitlines()[:50]) + "\n", encoding="utf-8")  # repeats
    calls: list[int] = []
    checked_chunks = chunked._checked_chunks
    monkeypatch.setattr(
        chunked,
        "_checked_chunks",
        lambda *a: calls.append(len(a[3])) or checked_chunks(*a),  # type: ignore[func-returns-value]
    )
    every = check_paths([page], Options(include_quotes=True))
    assert not calls  # every quote kept: read whole
    shown = check_paths([page], Options(include_quotes=True, quotes_kept="shown"), jobs=2)
    assert calls[0] > 3  # read in chunks
    assert 40 < len(shown.quotes) < len(every.quotes) == shown.files[0].quotes
    assert {"QC305", "QC306"} & set(shown.findings["rule"])  # the page rules' pass adds quotes too
    for report in (every, shown):
        attach_fixes(report)
    assert len(shown.fixes) == len(every.fixes) > 100
    assert render_html(shown, max_quotes=40) == render_html(every, max_quotes=40)
    assert sarif_document(shown) == sarif_document(every)
