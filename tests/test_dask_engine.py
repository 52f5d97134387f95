"""The Dask engine (checker.distributed): batches, tasks under the synchronous scheduler, an
in-process cluster, a real scheduler and worker on 127.0.0.1, a worker killed mid-run, a task
that fails for good, findings left in Parquet parts, and the command line without the extra.

Every report is compared byte for byte with the one `--engine local` writes."""

from __future__ import annotations

import functools
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from checker import distributed as engine_dask  # noqa: E402
from checker.api import _add_part, _finish, _new_report, _Run, check_paths  # noqa: E402
from checker.cli import cli  # noqa: E402
from checker.engine import Checker  # noqa: E402
from checker.findings import combine  # noqa: E402
from checker.inputs.sources import InputRef, inputs_of  # noqa: E402
from checker.render.json import write_json  # noqa: E402
from checker.render.sarif import save_sarif  # noqa: E402
from tests.quote_pages import FAULTY_PAGE  # noqa: E402
from tests.test_history_partitions import Archive, assert_same, faulty_archive, write  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample-page.txt"
PAGES = 150  # three batches of BATCH_MIN_PAGES or so


def _json(report) -> str:
    stream = io.StringIO()
    write_json(report, stream)
    return stream.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Pages with findings (quote and page rules), a clean page, an empty and a binary file."""
    root = tmp_path_factory.mktemp("archive")
    pages = root / "pages"
    pages.mkdir()
    sample = SAMPLE.read_text(encoding="utf-8")
    for i in range(PAGES):
        text = FAULTY_PAGE if i % 3 else sample
        if i % 7 == 0:
            text += "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\n"  # a symbol twice on the page
        (pages / f"page-{i:03d}.txt").write_text(text.replace("207.00", f"{200 + i}.00"), encoding="utf-8")
    (pages / "empty.txt").write_bytes(b"")
    (pages / "zz-binary.txt").write_bytes(b"\x00\x01\x02BOP 10.39 Decreased By \xff\xfe")
    return root


def _paths(folder: Path) -> list[str]:
    # a page named again at the end: its findings come back beside its first check's (a merge)
    return [str(folder / "pages"), str(folder / "pages" / "page-001.txt")]


@pytest.fixture(scope="module")
def local_json(folder) -> str:
    return _json(check_paths(_paths(folder)))


# -- logic -------------------------------------------------------------------------------------
def test_batches_keep_input_order_and_a_minimum_size(tmp_path):
    refs = [InputRef(name=f"p{i}", path=tmp_path / f"p{i}") for i in range(1000)]
    cut = engine_dask.batches(refs, threads=2)
    assert [ref for batch in cut for ref in batch] == refs
    assert all(len(batch) >= engine_dask.BATCH_MIN_PAGES for batch in cut)
    assert len(cut) >= 2 * engine_dask.BATCHES_PER_WORKER  # enough for both threads
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * engine_dask.BATCH_MIN_BYTES)
    by_bytes = engine_dask.batches([InputRef(name="big", path=big), *refs[:10]], threads=1)
    assert [len(batch) for batch in by_bytes] == [1, 10]  # 4 MB is a batch on its own


def test_tasks_under_the_synchronous_scheduler_give_the_local_report(folder, local_json):
    checker = Checker()
    refs = [ref for path in _paths(folder) for ref in inputs_of([path], checker.options)]
    blob = engine_dask.options_blob(checker.options)
    tasks = [
        dask.delayed(engine_dask.check_batch)(blob, batch, index, None)
        for index, batch in enumerate(engine_dask.batches(refs, threads=1))
    ]
    with dask.config.set(scheduler="synchronous"):
        outcomes = dask.compute(*tasks)
    assert len(outcomes) > 1
    run = _Run(_new_report(checker.options))
    for parts in outcomes:
        for part in parts:
            _add_part(run, part)
    assert _json(_finish(run)) == local_json


def test_parts_under_the_synchronous_scheduler_stream_the_local_report(folder, local_json, tmp_path):
    checker = Checker()
    refs = [ref for path in _paths(folder) for ref in inputs_of([path], checker.options)]
    blob = engine_dask.options_blob(checker.options)
    cut = engine_dask.batches(refs, threads=1)
    tasks = [dask.delayed(engine_dask.check_batch)(blob, b, i, str(tmp_path)) for i, b in enumerate(cut)]
    with dask.config.set(scheduler="synchronous"):
        outputs = dask.compute(*tasks)
    names = sorted(p.name for p in (tmp_path / "findings").iterdir())
    assert names == [f"part-{i:05d}.parquet" for i in range(len(cut))]
    report = engine_dask.parted_report(outputs, checker.options)
    assert _json(report) == local_json
    assert len(report.findings) < report.summary()["findings"]  # the driver held only the first ones


def test_overlapping_parts_are_merged_as_one_stable_sort(folder, tmp_path):
    report = check_paths([str(folder / "pages")])
    findings = report.findings
    # Three parts whose files interleave: every third finding in each.
    parts = []
    for at in range(3):
        frame = findings.iloc[at::3].reset_index(drop=True)
        path = tmp_path / f"part-{at}.parquet"
        engine_dask.write_findings(frame, path)
        first, last = engine_dask._sort_key(frame, 0), engine_dask._sort_key(frame, len(frame) - 1)
        parts.append(engine_dask.PartFile(str(path), len(frame), first, last))
    merged = combine(list(engine_dask.ordered_findings(parts, rows=100)))
    expected = combine([findings.iloc[at::3] for at in range(3)])
    assert merged.equals(expected)
    assert merged.equals(findings)


@pytest.fixture(scope="module")
def faulty_pages(tmp_path_factory) -> list[str]:
    """An archive with a fault of every history rule, 40 pages over 9 sessions."""
    return [str(p) for p in write(tmp_path_factory.mktemp("faulty"), faulty_archive(11))]


@pytest.fixture(scope="module")
def faulty_local(faulty_pages) -> str:
    from checker.config import Options
    from checker.history.run import add_history

    report = check_paths(faulty_pages, Options(include_quotes=True))
    add_history(report)
    return _json(report)


def test_history_partitions_under_the_synchronous_scheduler(faulty_pages):
    # The summaries and their merges as a graph of dask.delayed tasks: the tree the cluster runs.
    from checker.history.partitions import partitioned_history
    from checker.profile import load_profile

    archive = Archive([Path(p) for p in faulty_pages])
    calls = []

    def submit(function, *args):
        calls.append(function.__name__)
        return dask.delayed(function)(*args)

    for bounds in ([7], [4, 9, 13, 21, 22, 30], list(range(3, len(archive), 3))):
        with dask.config.set(scheduler="synchronous"):
            got = partitioned_history(
                archive.blocks(bounds),
                archive.plan,
                load_profile(),
                submit=submit,
                result=lambda task: task.compute(),
            )
        assert_same(got, archive.whole)
    assert "merge" in calls and "summarize" in calls


@pytest.fixture(scope="module")
def small_batches():
    """Batches of 4 pages, so that a small archive makes many partitions."""
    saved = engine_dask.BATCH_MIN_PAGES
    engine_dask.BATCH_MIN_PAGES = 4
    yield
    engine_dask.BATCH_MIN_PAGES = saved


# -- an in-process cluster ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_in_process_cluster_gives_the_local_report(folder, local_json, client):
    assert _json(engine_dask.check_paths_dask(_paths(folder), client=client)) == local_json


def test_history_on_an_in_process_cluster_is_split_and_gives_the_local_report(
    faulty_pages, faulty_local, client, small_batches
):
    from checker.config import Options

    options = Options(include_quotes=True)
    report, history = engine_dask.check_history_dask(faulty_pages, options, client=client)
    assert not history.on_driver  # the partitions were summarised and merged on the cluster
    assert _json(report) == faulty_local
    # the same without the quotes in the report: the workers keep them for the history step
    bare, history = engine_dask.check_history_dask(faulty_pages, Options(), client=client)
    assert not history.on_driver
    assert len(bare.findings) == len(report.findings)


def test_pages_without_a_time_run_their_history_on_the_driver(faulty_pages, client, small_batches, tmp_path):
    from checker.config import Options
    from checker.history.run import add_history

    undated = tmp_path / "undated.txt"
    undated.write_text(Path(faulty_pages[5]).read_text(encoding="utf-8"), encoding="utf-8")
    pages = [*faulty_pages, str(undated)]
    local = check_paths(pages, Options(include_quotes=True))
    add_history(local)
    report, history = engine_dask.check_history_dask(pages, Options(include_quotes=True), client=client)
    assert history.on_driver  # its session could only come from its figures
    assert _json(report) == _json(local)


@pytest.fixture(scope="module")
def ledger_parts(faulty_pages, tmp_path_factory) -> list[str]:
    """The faulty archive's ledger in three parts, each of its own run (cut inside a session)."""
    folder = tmp_path_factory.mktemp("ledger")
    for start, stop in ((0, 13), (13, 27), (27, len(faulty_pages))):
        args = ["check", "--no-report", "-q", "--ledger", str(folder), *faulty_pages[start:stop]]
        assert CliRunner().invoke(cli, args).exit_code in (0, 1)
    return sorted(str(p) for p in folder.glob("ledger-*.parquet"))


def test_ledger_history_on_an_in_process_cluster_equals_the_local_run(ledger_parts, client):
    from checker.config import Options
    from checker.history.incremental import history_of_ledgers
    from checker.history.ledger import read_ledgers

    assert len(ledger_parts) == 3
    options = Options()
    local = history_of_ledgers(read_ledgers(ledger_parts), options)
    remote = engine_dask.ledger_history_dask(ledger_parts, options, client=client)
    assert _json(remote.report) == _json(local.report)
    assert {f"QC60{n}" for n in range(1, 9)} <= set(local.report.findings["rule"].astype(str))
    assert remote.state.as_dict() == local.state.as_dict()
    # incrementally: the first two parts, then the third after the state they leave
    first = history_of_ledgers(read_ledgers(ledger_parts[:2]), options)
    first_remote = engine_dask.ledger_history_dask(ledger_parts[:2], options, client=client)
    assert first_remote.state.as_dict() == first.state.as_dict()
    then = history_of_ledgers(read_ledgers(ledger_parts[2:]), options, first.state)
    then_remote = engine_dask.ledger_history_dask(ledger_parts[2:], options, first.state, client=client)
    assert _json(then_remote.report) == _json(then.report)
    assert then_remote.state.as_dict() == then.state.as_dict()


def test_output_dir_reports_equal_the_local_ones(folder, client, tmp_path):
    local = check_paths(_paths(folder))
    parted = engine_dask.check_paths_dask(_paths(folder), client=client, output_dir=tmp_path / "out")
    assert isinstance(parted, engine_dask.PartedReport)
    assert _json(parted) == _json(local)
    save_sarif(local, tmp_path / "local.sarif", base=folder)
    save_sarif(parted, tmp_path / "dask.sarif", base=folder)
    assert (tmp_path / "dask.sarif").read_bytes() == (tmp_path / "local.sarif").read_bytes()
    assert parted.rule_counts() == local.rule_counts()


def test_policy_and_baseline_travel_to_the_workers(folder, client, tmp_path):
    from checker.baseline import load_baseline
    from checker.config import Options, Policy
    from checker.render.json import save_json

    recorded = tmp_path / "baseline.json"
    save_json(check_paths([str(folder / "pages" / "page-001.txt")]), recorded)
    policy = Policy(ignore=("QC406",), severity={"QC303": "warning"}, fail_on="warning")

    def options() -> Options:
        return Options(policy=policy, baseline=load_baseline(recorded))

    local = check_paths(_paths(folder), options())
    assert local.baseline_suppressed > 0
    assert _json(engine_dask.check_paths_dask(_paths(folder), options(), client=client)) == _json(local)
    parted = engine_dask.check_paths_dask(_paths(folder), options(), client=client, output_dir=tmp_path / "o")
    assert _json(parted) == _json(local)


def _local_run(pages, history=True, options=None):
    """The report and ledger table of `check --ledger` (with --history or not) on this machine."""
    from checker.config import Options
    from checker.history.run import add_history, run_ledger, snapshot_times

    report = check_paths(pages, options or Options(include_quotes=True))
    if history:
        add_history(report)
    snapshots = report.snapshots if history else snapshot_times(report).snapshots
    table = run_ledger(report, snapshots)
    report.quotes = None  # as the command line leaves them out of the JSON report
    return report, table


def _ledger_of(folder: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted((folder / "ledger").glob("part-*.parquet"))
    return parts, pa.concat_tables([pq.read_table(part) for part in parts])


def _same_ledger(got, want) -> None:
    # read back from Parquet as the local ledger file is: the same columns, types and values
    import pyarrow.parquet as pq

    stream = io.BytesIO()
    pq.write_table(want, stream)
    assert got.equals(pq.read_table(io.BytesIO(stream.getvalue())))


def test_held_batches_under_the_synchronous_scheduler_write_the_local_parts(
    faulty_pages, small_batches, tmp_path
):
    # The two tasks of a run with --output-dir --history --ledger as dask.delayed: the batches
    # checked and held, then each given its share of the history findings and written out.
    from checker.config import Options

    local, table = _local_run(faulty_pages)
    checker = Checker(Options(include_quotes=True))
    refs = [ref for path in faulty_pages for ref in inputs_of([path], checker.options)]
    cut = engine_dask.batches(refs, threads=1)
    blob = engine_dask.options_blob(checker.options)
    with dask.config.set(scheduler="synchronous"):
        held = dask.compute(*[dask.delayed(engine_dask.check_held_batch)(blob, batch) for batch in cut])
    assert len(held) > 2 and all(len(batch.quotes) for batch in held)  # the quotes stay with the batch
    history = local.findings[local.findings["rule"].astype(str).str.startswith("QC6")]
    tasks = []
    for index, batch in enumerate(held):
        names = set(batch.parts[0].names)
        mine = history[history["file"].isin(names)].reset_index(drop=True)
        counts = {n: c for n, c in engine_dask._counts_by_file(mine).items() if n in names}
        snapshots = local.snapshots[local.snapshots["file"].isin(names)]
        args = (batch, index, str(tmp_path), mine, counts, snapshots, True, False)
        tasks.append(dask.delayed(engine_dask.finish_held_batch)(*args))
    with dask.config.set(scheduler="synchronous"):
        outputs = dask.compute(*tasks)
    report = engine_dask.parted_report(outputs, Options())
    report.snapshots = local.snapshots
    assert _json(report) == _json(local)
    parts, got = _ledger_of(tmp_path)
    assert len(parts) == len(cut)
    _same_ledger(got, table)


@pytest.mark.parametrize("history", [True, False], ids=["history", "ledger-only"])
def test_history_and_ledger_in_an_output_dir_equal_the_local_run(
    faulty_pages, client, small_batches, tmp_path, history
):
    from checker.config import Options

    local, table = _local_run(faulty_pages, history)
    out = tmp_path / "out"
    parted, step = engine_dask.check_history_dask(
        faulty_pages, Options(), client=client, output_dir=out, history=history, ledger=True
    )
    assert isinstance(parted, engine_dask.PartedReport)
    assert not step.on_driver  # the partitions were summarised and merged on the cluster
    assert _json(parted) == _json(local)
    save_sarif(local, tmp_path / "local.sarif")
    save_sarif(parted, tmp_path / "dask.sarif")
    assert (tmp_path / "dask.sarif").read_bytes() == (tmp_path / "local.sarif").read_bytes()
    assert parted.rule_counts() == local.rule_counts()
    assert ({f"QC60{n}" for n in range(1, 9)} <= set(parted.rule_counts())) == history
    parts, got = _ledger_of(out)
    assert len(parts) == len(list((out / "findings").glob("part-*.parquet"))) > 2
    _same_ledger(got, table)
    # a run without --ledger leaves the ledger's parts alone; the findings' parts are new
    engine_dask.check_history_dask(faulty_pages[:9], Options(), client=client, output_dir=out)
    assert _ledger_of(out)[0] == parts
    assert len(list((out / "findings").glob("part-*.parquet"))) < len(parts)


def test_an_output_dir_archive_that_cannot_be_split_has_its_history_on_the_driver(
    faulty_pages, client, small_batches, tmp_path
):
    from checker.baseline import load_baseline
    from checker.config import Options, Policy
    from checker.render.json import save_json

    undated = tmp_path / "undated.txt"
    undated.write_text(Path(faulty_pages[5]).read_text(encoding="utf-8"), encoding="utf-8")
    pages = [*faulty_pages, str(undated)]
    # a baseline that suppresses history findings too, and a policy that changes them
    recorded = tmp_path / "baseline.json"
    save_json(_local_run(pages[:12])[0], recorded)
    policy = Policy(ignore=("QC605",), severity={"QC601": "warning"})

    def options(**more) -> Options:
        return Options(policy=policy, baseline=load_baseline(recorded), **more)

    local, table = _local_run(pages, options=options(include_quotes=True))
    assert local.baseline_suppressed > 0
    parted, step = engine_dask.check_history_dask(
        pages, options(), client=client, output_dir=tmp_path / "o", ledger=True
    )
    assert step.on_driver  # the undated page's session could only come from its figures
    assert _json(parted) == _json(local)
    _same_ledger(_ledger_of(tmp_path / "o")[1], table)


def _always_fails(blob, refs, index, output_dir):
    raise RuntimeError("this task never works")


def _cluster_report(folder, client, task):
    """The report of the folder's pages checked on `client` by `task`, without retries."""
    checker = Checker()
    refs = [ref for path in _paths(folder) for ref in inputs_of([path], checker.options)]
    run = _Run(_new_report(checker.options))
    for _index, parts in engine_dask.check_on_cluster(refs, checker, client, retries=0, task=task):
        for part in parts:
            _add_part(run, part)
    return _finish(run)


def test_a_batch_whose_task_fails_is_checked_by_the_driver(folder, local_json, client):
    assert _json(_cluster_report(folder, client, _always_fails)) == local_json


# -- a real scheduler and worker on 127.0.0.1 --------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment() -> dict[str, str]:
    # the worker imports this checkout's checker (and this test module, for the killing task)
    # (pytest imports it as `test_dask_engine`, from the tests folder)
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    return os.environ | {"PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """`dask scheduler` and one `dask worker` (one process, one thread) on 127.0.0.1; killed after."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("cluster")
    dask_cli = [sys.executable, "-m", "dask", "scheduler"]  # the `dask scheduler` command
    worker_cli = [sys.executable, "-m", "dask", "worker"]
    processes = []
    try:
        processes.append(
            subprocess.Popen(
                [*dask_cli, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=(logs / "scheduler.log").open("w"),
                env=_environment(),
                cwd=ROOT,
            )
        )
        processes.append(
            subprocess.Popen(
                [*worker_cli, address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=(logs / "worker.log").open("w"),
                env=_environment(),
                cwd=ROOT,
            )
        )
        with distributed.Client(address, timeout="60s") as probe:
            probe.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _cli_json(args: list[str], out: Path, cwd: Path = ROOT) -> tuple[int, bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "checker", "check", *args, "--no-report", "--json", str(out), "-q"],
        capture_output=True,
        env=_environment(),
        cwd=cwd,
        timeout=180,
        check=False,
    )
    assert out.exists(), done.stderr.decode(errors="replace")[-2000:]
    return done.returncode, out.read_bytes()


def test_real_scheduler_and_worker_give_the_local_report_byte_for_byte(folder, scheduler, tmp_path):
    paths = _paths(folder)
    local_status, local = _cli_json([*paths, "--jobs", "1"], tmp_path / "local.json")
    args = [*paths, "--engine", "dask", "--scheduler", scheduler]
    status, remote = _cli_json(args, tmp_path / "dask.json")
    assert remote == local
    assert status == local_status == 2  # the binary page is unreadable
    parted_status, parted = _cli_json([*args, "--output-dir", str(tmp_path / "out")], tmp_path / "p.json")
    assert parted == local and parted_status == local_status
    assert len(list((tmp_path / "out" / "findings").glob("part-*.parquet"))) >= 3


def test_a_local_cluster_started_by_the_run_gives_the_local_report(folder, tmp_path):
    paths = _paths(folder)
    _local_status, local = _cli_json([*paths, "--jobs", "1"], tmp_path / "local.json")
    _status, started = _cli_json([*paths, "--engine", "dask", "--jobs", "1"], tmp_path / "dask.json")
    assert started == local


def test_history_on_a_cluster_gives_the_local_report(tmp_path):
    # The pages are checked on the workers and so are the rules across snapshots; the report is
    # the local one byte for byte.
    archive = ROOT / "tests" / "fixtures" / "history" / "QC601-fail"
    pages = sorted(str(p) for p in archive.iterdir() if p.suffix == ".txt")
    local_status, local = _cli_json([*pages, "--history", "--jobs", "1"], tmp_path / "local.json")
    status, remote = _cli_json([*pages, "--history", "--engine", "dask", "--jobs", "1"], tmp_path / "d.json")
    assert remote == local
    assert status == local_status == 1
    assert b'"QC601"' in remote


def test_history_on_a_real_scheduler_and_worker_gives_the_local_report(scheduler, tmp_path):
    # 35 sessions of pages: three batches, so three partitions summarised and merged on the worker
    pages = [str(p) for p in write(tmp_path / "pages", faulty_archive(5, sessions=35))]
    local_status, local = _cli_json([*pages, "--history", "--jobs", "1"], tmp_path / "local.json")
    args = [*pages, "--history", "--engine", "dask", "--scheduler", scheduler]
    status, remote = _cli_json(args, tmp_path / "dask.json")
    assert remote == local
    assert status == local_status == 1
    assert all(f'"QC60{n}"'.encode() in remote for n in range(1, 9))


def test_relative_paths_are_read_by_workers_started_in_another_folder(scheduler, tmp_path):
    # The worker runs in the repository's folder, the command in another: the pages are named
    # relative to the command's folder, and the workers still read them (and their crawler times).
    write(tmp_path / "pages", faulty_archive(3, sessions=12))
    local_status, local = _cli_json(["pages", "--history", "--jobs", "1"], tmp_path / "local.json", tmp_path)
    args = ["pages", "--history", "--engine", "dask", "--scheduler", scheduler]
    status, remote = _cli_json(args, tmp_path / "dask.json", tmp_path)
    assert remote == local and status == local_status == 1
    assert b'"path": "pages/' in remote


def test_history_and_ledger_in_an_output_dir_on_a_real_scheduler_equal_the_local_run(scheduler, tmp_path):
    # The workers write the findings and the ledger in parts; the driver streams the reports.
    import pyarrow.parquet as pq

    pages = [str(p) for p in write(tmp_path / "pages", faulty_archive(5, sessions=35))]
    mine = ["--history", "--sarif", str(tmp_path / "{}.sarif")]
    local_args = [*pages, *mine, "--jobs", "1", "--ledger", str(tmp_path / "local-ledger")]
    local_status, local = _cli_json([a.format("local") for a in local_args], tmp_path / "local.json")
    out = tmp_path / "out"
    args = [*pages, *mine, "--engine", "dask", "--scheduler", scheduler, "--output-dir", str(out)]
    status, remote = _cli_json(
        [*(a.format("dask") for a in args), "--ledger", str(out / "ledger")], tmp_path / "d.json"
    )
    assert remote == local and status == local_status == 1
    assert (tmp_path / "dask.sarif").read_bytes() == (tmp_path / "local.sarif").read_bytes()
    parts, got = _ledger_of(out)
    assert len(parts) >= 3
    assert got.equals(pq.read_table(tmp_path / "local-ledger" / "ledger-1.parquet"))

    # `quotecheck history` takes the folder of parts as it takes the local ledger's folder
    def history(folder: Path) -> bytes:
        command = [sys.executable, "-m", "checker", "history", "--format", "json", str(folder)]
        done = subprocess.run(
            command, capture_output=True, env=_environment(), cwd=ROOT, timeout=180, check=False
        )
        assert done.stdout.startswith(b"{"), done.stderr.decode(errors="replace")[-2000:]
        return done.stdout

    assert history(out / "ledger") == history(tmp_path / "local-ledger")


def test_history_command_on_a_real_scheduler_gives_the_local_report(ledger_parts, scheduler, tmp_path):
    def run(*extra: str) -> tuple[int, bytes, bytes]:
        state = tmp_path / f"state{len(extra)}.json"
        command = [sys.executable, "-m", "checker", "history", "--format", "json", *ledger_parts]
        done = subprocess.run(
            [*command, "--state", str(state), *extra],
            capture_output=True,
            env=_environment(),
            cwd=ROOT,
            timeout=180,
            check=False,
        )
        assert done.stdout.startswith(b"{"), done.stderr.decode(errors="replace")[-2000:]
        return done.returncode, done.stdout, state.read_bytes()

    local = run()
    remote = run("--engine", "dask", "--scheduler", scheduler)
    assert remote == local
    assert local[0] == 1


def _dies_once(marker, blob, refs, index, output_dir):
    """Kill this worker process the first time batch 1 runs (the marker file says it happened)."""
    if index == 1 and not Path(marker).exists():
        Path(marker).write_text("killed", encoding="utf-8")
        os._exit(1)
    return engine_dask.check_batch(blob, refs, index, output_dir)


def _not_on_the_driver(*args, **kwargs):
    raise AssertionError("the driver checked a batch itself: Dask did not run it again")


def test_a_worker_killed_mid_run_leaves_the_report_unchanged(
    folder, local_json, scheduler, tmp_path, monkeypatch
):
    monkeypatch.setattr(engine_dask, "run_batch", _not_on_the_driver)  # the driver's, not the worker's
    marker = tmp_path / "killed"
    task = functools.partial(_dies_once, str(marker))  # the worker imports this module for it
    with distributed.Client(scheduler, timeout="60s") as client:
        report = _cluster_report(folder, client, task)
        client.wait_for_workers(1, timeout=60)  # the nanny started a new worker process
    assert marker.read_text(encoding="utf-8") == "killed"  # the worker did die
    assert _json(report) == local_json


def _slow_batch(seconds, blob, refs, index, output_dir):
    """A batch checked as always, after a pause (so that the test can kill its worker mid-run)."""
    time.sleep(seconds)
    return engine_dask.check_batch(blob, refs, index, output_dir)


@pytest.mark.slow
def test_a_worker_process_killed_from_outside_mid_run_leaves_the_report_unchanged(
    folder, local_json, scheduler, monkeypatch
):
    # SIGKILL on the `dask worker` process (its nanny starts another) while it runs a batch: Dask
    # runs the batches it held again (the driver checks none itself) and the report is the local one.
    monkeypatch.setattr(engine_dask, "run_batch", _not_on_the_driver)
    outcome: dict[str, object] = {}
    with distributed.Client(scheduler, timeout="60s") as client:
        client.wait_for_workers(1, timeout=60)
        (victim,) = client.run(os.getpid).values()
        task = functools.partial(_slow_batch, 1.0)

        def run() -> None:
            try:
                outcome["report"] = _cluster_report(folder, client, task)
            except BaseException as error:  # the test says what went wrong
                outcome["error"] = error

        driver = threading.Thread(target=run)
        driver.start()
        deadline = time.monotonic() + 60
        while not any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert driver.is_alive()  # mid-run: batches are in flight, the run is not over
        os.kill(victim, signal.SIGKILL)
        driver.join(timeout=120)
        assert not driver.is_alive() and "error" not in outcome, outcome.get("error")
        client.wait_for_workers(1, timeout=60)
        assert victim not in client.run(os.getpid).values()  # a new worker process took over
    assert _json(outcome["report"]) == local_json


def _held_batch_fails(blob, refs):
    raise RuntimeError("this task never works")


@pytest.mark.slow
@pytest.mark.parametrize("checked_by", ["workers", "driver"])
def test_a_worker_killed_while_it_keeps_the_checked_batches_leaves_the_reports_and_ledger_unchanged(
    faulty_pages, scheduler, tmp_path, monkeypatch, checked_by
):
    # --output-dir --history --ledger: once every batch is checked and kept on the worker, its
    # process is killed (SIGKILL; its nanny starts another). Dask checks the lost batches again;
    # batches the driver checked itself (their tasks failed for good) are handed to the cluster
    # as tasks of their own, so Dask makes them again too.
    from checker.config import Options

    local, table = _local_run(faulty_pages)
    killed = []
    step = engine_dask._history_step

    def kill_first(client, *args):
        (victim,) = client.run(os.getpid).values()
        assert client.who_has()  # the checked batches are kept on the worker
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
        client.wait_for_workers(1, timeout=60)
        return step(client, *args)

    monkeypatch.setattr(engine_dask, "_history_step", kill_first)
    if checked_by == "workers":
        monkeypatch.setattr(engine_dask, "held_batch", _not_on_the_driver)
    else:  # the task the worker runs (this module's, imported there), then the driver's own check
        monkeypatch.setattr(engine_dask, "check_held_batch", _held_batch_fails)
    monkeypatch.setattr(engine_dask, "BATCH_MIN_PAGES", 8)
    with distributed.Client(scheduler, timeout="60s") as client:
        client.wait_for_workers(1, timeout=60)
        parted, history = engine_dask.check_history_dask(
            faulty_pages, Options(), client=client, output_dir=tmp_path / "out", ledger=True
        )
        assert killed and killed[0] not in client.run(os.getpid).values()
    assert history.error is None, repr(history.error)
    assert not history.on_driver
    assert _json(parted) == _json(local)
    parts, got = _ledger_of(tmp_path / "out")
    assert len(parts) > 2
    _same_ledger(got, table)


# -- the command line --------------------------------------------------------------------------
def test_engine_dask_without_the_extra_says_how_to_install_it(folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    result = CliRunner().invoke(cli, ["check", str(folder / "pages"), "--engine", "dask", "--no-report"])
    assert result.exit_code == 2
    assert 'pip install "quotecheck[dask]"' in result.output


@pytest.mark.parametrize("flag", [["--scheduler", "tcp://127.0.0.1:1"], ["--output-dir", "out"]])
def test_cluster_flags_need_engine_dask(folder, flag):
    result = CliRunner().invoke(cli, ["check", str(folder / "pages"), *flag, "--no-report"])
    assert result.exit_code == 2
    assert "needs --engine dask" in result.output


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--ledger", "elsewhere"], "the ledger is written in"),
        (["--export", "quotes.csv"], "--export is not yet supported"),
    ],
)
def test_output_dir_refuses_a_ledger_elsewhere_and_an_export(folder, flags, said, tmp_path):
    args = ["check", str(folder / "pages"), "--engine", "dask", "--output-dir", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, [*args, *flags, "--no-report"])
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_an_unreachable_scheduler_is_a_usage_error(folder):
    port = _free_port()  # nothing listens there
    args = ["check", str(folder / "pages"), "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"]
    result = CliRunner().invoke(cli, [*args, "--no-report"])
    assert result.exit_code == 2, result.output
    assert "cannot use the Dask scheduler" in result.output
