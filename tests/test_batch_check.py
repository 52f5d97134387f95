"""Small pages checked in batches, and in parallel, give the report of checking each file alone.

The reference is `check_input` per file (what a run did before pages were batched); the reports
are compared as the bytes of their JSON, with the quotes and the source lines kept for HTML.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import checker.api as api
import checker.engine as engine
from benchmarks.heavy import ticker_page
from checker.baseline import load_baseline
from checker.config import Options, Policy
from checker.engine import Checker
from checker.render.json import save_json

SAMPLE = Path(__file__).parent.parent / "samples" / "sample-page.txt"


def _folder(root: Path) -> Path:
    """20 faulty ticker pages, with pages that batches must set apart or leave to another reader."""
    pages = root / "pages"
    pages.mkdir()
    for i in range(20):
        (pages / f"p{i:02d}.txt").write_text(ticker_page(100 + i, faults=0.2), encoding="utf-8")
    sample = SAMPLE.read_text(encoding="utf-8")
    first = sample.splitlines()[3]  # AIRLINK's quote
    (pages / "p05-marquee.txt").write_text(sample + first + "\n", encoding="utf-8")  # identical repeat
    altered = first.replace("207.00", "207.50")
    (pages / "p06-altered.txt").write_text(sample + altered + "\n", encoding="utf-8")  # a repeat that differs
    (pages / "p07-prose.txt").write_text("no quote here\nKSE100 Edges Higher\n", encoding="utf-8")
    (pages / "p08-empty.txt").write_text("", encoding="utf-8")
    (pages / "p09-bom.txt").write_bytes(b"\xef\xbb\xbf" + sample.encode("utf-8"))
    (pages / "p10-bad-bytes.txt").write_bytes(sample.encode("utf-8").replace(b"\xe2\x96\xb2", b"\xe2\x96", 1))
    (pages / "p11-no-final-newline.txt").write_text(sample.rstrip("\n"), encoding="utf-8")
    (pages / "p12.csv").write_text("symbol,price\nBOP,x\n", encoding="utf-8")
    (pages / "p13.txt.gz").write_bytes(gzip.compress(ticker_page(7, faults=0.5).encode("utf-8")))
    (pages / "p14-crlf.txt").write_bytes(ticker_page(8, faults=0.3).replace("\n", "\r\n").encode("utf-8"))
    return pages


def _json(report, path: Path) -> bytes:
    save_json(report, path)
    return path.read_bytes()


def _one_by_one(monkeypatch):
    """Make check_paths check every input on its own, as it did before batches."""
    monkeypatch.setattr(Checker, "_prepare", lambda self, ref, stdin: self.check_input(ref, stdin))


def _options(kind: str, root: Path, pages: Path) -> Options:
    if kind == "quotes and policy":
        return Options(include_quotes=True, policy=Policy(ignore=("QC303",), severity={"QC401": "info"}))
    # A baseline holding half the findings of a run, so that some are suppressed in every file.
    report = api.check_paths([pages], Options())
    recorded = root / "baseline.json"
    save_json(report, recorded)
    document = json.loads(recorded.read_text(encoding="utf-8"))
    document["findings"] = document["findings"][::2]
    recorded.write_text(json.dumps(document), encoding="utf-8")
    return Options(baseline=load_baseline(recorded))


@pytest.mark.parametrize("kind", ["quotes and policy", "baseline"])
def test_batched_pages_give_the_report_of_checking_each_file_alone(tmp_path, monkeypatch, kind):
    pages = _folder(tmp_path)
    options = _options(kind, tmp_path, pages)
    monkeypatch.setattr(engine, "BATCH_PAGES", 7)  # several batches, and pages set apart inside them
    inputs = [pages, pages / "p03.txt"]  # a page given twice is never twice in one batch
    batched = api.check_paths(inputs, options)
    with monkeypatch.context() as patch:
        _one_by_one(patch)
        alone = api.check_paths(inputs, options)
    assert len(alone.files) == 31 and len(alone.findings) > 50
    assert alone.baseline_suppressed == batched.baseline_suppressed
    assert (kind == "baseline") == (alone.baseline_suppressed > 0)
    assert _json(batched, tmp_path / "batched.json") == _json(alone, tmp_path / "alone.json")
    assert list(batched.source_lines.items()) == list(alone.source_lines.items())
    if kind == "quotes and policy":
        assert batched.quotes is not None and alone.quotes is not None
        assert batched.quotes.equals(alone.quotes)
        assert list(batched.quotes.dtypes) == list(alone.quotes.dtypes)


def test_a_parallel_run_gives_the_serial_report(tmp_path, monkeypatch):
    pages = _folder(tmp_path)
    options = Options(include_quotes=True)
    serial = api.check_paths([pages], options, jobs=1)
    monkeypatch.setattr(api, "PARALLEL_MIN_BYTES", 0)  # spread even this small run over processes
    monkeypatch.setattr(engine, "BATCH_PAGES", 5)  # in several chunks
    import checker.parallel

    spread = []
    real = checker.parallel.check_in_parallel
    monkeypatch.setattr(checker.parallel, "check_in_parallel", lambda *a: spread.append(1) or real(*a))
    checked: list[Path] = []
    parallel = api.check_paths([pages], options, on_checked=checked.append, jobs=2)
    assert spread  # the run was spread over processes
    assert checked == [Path(f.path) for f in serial.files]
    assert _json(parallel, tmp_path / "parallel.json") == _json(serial, tmp_path / "serial.json")
    assert list(parallel.source_lines.items()) == list(serial.source_lines.items())


def test_a_page_that_breaks_its_batch_is_one_finding_and_the_others_are_still_checked(tmp_path, monkeypatch):
    pages = tmp_path / "pages"
    pages.mkdir()
    for i in range(5):
        (pages / f"p{i}.txt").write_text(ticker_page(i, faults=0.2), encoding="utf-8")
    clean = api.check_paths([pages])
    real = Checker.check_parsed

    def fails_on_p2(self, parsed, name, *rest):
        if name.endswith("p2.txt"):
            raise RuntimeError("boom")
        return real(self, parsed, name, *rest)

    def batch_fails(*args):
        raise RuntimeError("batch")

    monkeypatch.setattr(Checker, "_check_batch", batch_fails)
    monkeypatch.setattr(Checker, "check_parsed", fails_on_p2)
    report = api.check_paths([pages])
    assert [f.status for f in report.files] == ["checked", "checked", "failed", "checked", "checked"]
    assert "internal error: RuntimeError: boom" in (report.files[2].message or "")
    for mine, reference in zip(report.files, clean.files, strict=True):
        if mine.status == "checked":
            assert mine.as_dict() == reference.as_dict()


def test_chunks_a_worker_fails_on_are_checked_by_the_run_itself(tmp_path, monkeypatch):
    from concurrent.futures import Future

    import checker.parallel

    handed: list[str] = []

    class DyingPool:  # every worker dies: each chunk handed out comes back as a failure
        def __init__(self, *args, **kwargs):
            pass

        def submit(self, function, *args):
            handed.append(function.__name__)
            future: Future = Future()
            future.set_exception(RuntimeError("worker died"))
            return future

        def shutdown(self, wait=True, cancel_futures=False):
            pass

    pages = _folder(tmp_path)
    serial = api.check_paths([pages], Options())
    monkeypatch.setattr(checker.parallel, "ProcessPoolExecutor", DyingPool)
    monkeypatch.setattr(api, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "BATCH_PAGES", 5)
    parallel = api.check_paths([pages], Options(), jobs=3)
    assert "_check_chunk" in handed
    assert _json(parallel, tmp_path / "parallel.json") == _json(serial, tmp_path / "serial.json")


def test_a_worker_checks_its_chunk_as_the_run_would_and_keeps_quotes_only_when_asked(tmp_path):
    from checker.inputs.sources import expand_paths
    from checker.parallel import _check_chunk, _start

    pages = _folder(tmp_path)
    refs = list(expand_paths([pages]))
    for options in (Options(), Options(include_quotes=True)):
        _start(options)
        sent = _check_chunk(refs)
        here = list(Checker(options).check_inputs(refs))
        assert [p.names for p in sent] == [p.names for p in here]
        assert [[r.as_dict() for r in p.results] for p in sent] == [
            [r.as_dict() for r in p.results] for p in here
        ]
        assert all(a.findings.equals(b.findings) for a, b in zip(sent, here, strict=True))
        assert any(p.quotes for p in sent) == options.include_quotes


class _InlinePool:
    """A pool whose one worker is up at once and runs each job as it is handed out, in order."""

    def __init__(self, max_workers=1, mp_context=None, initializer=None, initargs=()):
        self.handed: list[str] = []
        if initializer is not None:
            initializer(*initargs)
        _InlinePool.last = self

    def submit(self, function, *args):
        from concurrent.futures import Future

        self.handed.append(getattr(function, "__name__", type(function).__name__))
        future: Future = Future()
        try:
            future.set_result(function(*args))
        except Exception as error:
            future.set_exception(error)
        return future

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def _beside_run(tmp_path, monkeypatch, job):
    """A run spread over an inline pool with `job` beside its chunks: the JSON of the run and of
    a serial one, what the job's result reached, and the names of what the pool was handed."""
    import checker.parallel
    from checker.parallel import Beside

    pages = _folder(tmp_path)
    serial = api.check_paths([pages], Options())
    monkeypatch.setattr(checker.parallel, "ProcessPoolExecutor", _InlinePool)
    monkeypatch.setattr(api, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "BATCH_PAGES", 5)
    received: list[object] = []
    report = api.check_paths([pages], Options(), jobs=2, beside=Beside(job, received.append))
    spread, alone = _json(report, tmp_path / "parallel.json"), _json(serial, tmp_path / "serial.json")
    return spread, alone, received, _InlinePool.last.handed


def test_a_job_beside_the_chunks_goes_to_the_first_worker_up_once_and_its_result_comes_back(
    tmp_path, monkeypatch
):
    def job() -> str:
        return "tables"

    spread, alone, received, handed = _beside_run(tmp_path, monkeypatch, job)
    assert received == ["tables"]
    assert handed.count("job") == 1
    assert handed.index("job") < handed.index("_check_chunk")  # ahead of the worker's chunks
    assert spread == alone


def test_a_beside_job_that_fails_is_let_go_and_the_report_is_the_same(tmp_path, monkeypatch):
    def job() -> str:
        raise RuntimeError("no calendar today")

    spread, alone, received, _ = _beside_run(tmp_path, monkeypatch, job)
    assert received == []
    assert spread == alone
