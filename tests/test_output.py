"""Report files: written atomically, with the permissions an ordinary new file gets; written
through devices and symlinks; exit 2 with the path and the reason when they cannot be written;
never half-written when the run is interrupted; standard output and --output-file."""

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner
from quote_pages import FAULTY_PAGE

from checker.cli import cli
from checker.render.output import ReportWriteError, atomic_writer


def test_report_file_gets_umask_permissions_not_private_ones(tmp_path):
    previous = os.umask(0o022)
    try:
        with atomic_writer(tmp_path / "report.json") as stream:
            stream.write("{}")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "report.json").stat().st_mode)
    assert mode == 0o644


def test_no_temporary_file_is_left_beside_the_report(tmp_path):
    with atomic_writer(tmp_path / "report.json") as stream:
        stream.write("{}")
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


# --- devices, symlinks and paths no report can be written to ----------------------------------


REPO = Path(__file__).resolve().parents[1]
ENV = {"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": "", "NO_COLOR": "1"}


def run(args, **kwargs):
    return CliRunner().invoke(cli, ["check", "--no-report", "--no-config", *args], env=ENV, **kwargs)


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "faulty.txt"
    path.write_text(FAULTY_PAGE, encoding="utf-8")
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


def test_a_device_is_written_through_not_replaced():
    before = os.stat("/dev/null")
    with atomic_writer("/dev/null") as stream:
        stream.write("{}")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_dev_null_as_every_report_keeps_the_device(page):
    result = run([str(page), "--json", "/dev/null", "--sarif", "/dev/null", "--junit", "/dev/null"])
    assert result.exit_code == 1, result.output
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_with_a_reader_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader waiting, as `cat fifo` would
    try:
        with atomic_writer(fifo) as stream:
            stream.write('{"ok": true}\n')
        assert os.read(reader, 100) == b'{"ok": true}\n'
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_fifo_without_a_reader_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ReportWriteError, match="no process is reading it"), atomic_writer(fifo) as stream:
        stream.write("{}")


def test_a_symlink_is_followed_and_stays_a_link(tmp_path, page):
    real = tmp_path / "kept" / "report.json"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = run([str(page), "--json", str(link)])
    assert result.exit_code == 1, result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text(encoding="utf-8"))["summary"]["findings"] == 4
    assert leftovers(tmp_path) == []


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "target.json")
    with atomic_writer(link) as stream:
        stream.write("{}")
    assert link.is_symlink() and (tmp_path / "target.json").read_text(encoding="utf-8") == "{}"


@pytest.mark.parametrize("flag", ["--json", "--html", "--junit", "--sarif", "--markdown", "--output-file"])
def test_a_report_under_a_regular_file_is_exit_2_naming_the_path(page, flag):
    target = f"{page}/report.out"
    result = run([str(page), flag, target])
    assert result.exit_code == 2
    assert f"cannot write the report {target}: a folder on the way is a file" in result.output
    assert page.read_text(encoding="utf-8") == FAULTY_PAGE


def test_a_report_path_that_is_a_folder_is_exit_2(tmp_path, page):
    folder = tmp_path / "out"
    folder.mkdir()
    result = run([str(page), "--sarif", str(folder)])
    assert result.exit_code == 2
    assert str(folder) in result.output and ("folder" in result.output or "directory" in result.output)


@pytest.mark.parametrize(
    ("code", "reason"), [(errno.ENOSPC, "no space left on the device"), (errno.EROFS, "read-only")]
)
def test_a_failed_rename_keeps_the_old_report_and_leaves_no_temporary(tmp_path, page, code, reason):
    report = tmp_path / "report.json"
    report.write_text("previous", encoding="utf-8")
    with mock.patch("checker.render.output.os.replace", side_effect=OSError(code, os.strerror(code))):
        result = run([str(page), "--json", str(report)])
    assert result.exit_code == 2
    assert f"cannot write the report {report}: {reason}" in result.output
    assert report.read_text(encoding="utf-8") == "previous"
    assert leftovers(tmp_path) == []


def test_a_full_disk_while_writing_keeps_the_old_report(tmp_path, page):
    report = tmp_path / "report.json"
    report.write_text("previous", encoding="utf-8")
    import checker.render.json as json_renderer

    original = json_renderer.write_json

    def fill_up(report_, stream):
        stream.write("{")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with mock.patch.object(json_renderer, "write_json", fill_up):
        result = run([str(page), "--json", str(report), "--junit", str(tmp_path / "junit.xml")])
    assert json_renderer.write_json is original
    assert result.exit_code == 2
    assert f"cannot write the report {report}: no space left on the device" in result.output
    assert report.read_text(encoding="utf-8") == "previous"
    assert (tmp_path / "junit.xml").is_file()  # the other reports are still written
    assert leftovers(tmp_path) == []


def test_a_read_only_folder_is_exit_2(tmp_path, page):
    # Tests run as root, for whom permission bits do not stop a write: a file system that is
    # really read-only (/proc) stands in for a read-only folder.
    result = run([str(page), "--json", "/proc/quotecheck-report.json"])
    assert result.exit_code == 2
    assert "cannot write the report /proc/quotecheck-report.json" in result.output


# --- standard output and --output-file ----------------------------------------------------------


@pytest.mark.parametrize("flag", ["--json", "--html", "--junit", "--sarif", "--markdown"])
def test_every_report_flag_writes_to_stdout_with_dash(page, flag):
    result = CliRunner().invoke(cli, ["check", "--no-report", "--no-config", str(page), flag, "-"], env=ENV)
    assert result.exit_code == 1, result.stderr
    out = result.stdout
    # stdout holds the report alone; the finding lines and summary went to stderr
    assert f"{page}:2:37: QC303 [error]" in result.stderr
    assert "(failed)" in result.stderr
    assert "files   quotes   errors" not in out
    if flag == "--json":
        assert json.loads(out)["summary"]["findings"] == 4
    elif flag == "--sarif":
        assert json.loads(out)["version"] == "2.1.0"
    elif flag == "--junit":
        assert out.startswith("<?xml")
    elif flag == "--html":
        assert out.lstrip().lower().startswith("<!doctype html")
    else:
        assert "QC303" in out
    assert not Path("-").exists()


def test_two_outputs_on_stdout_are_a_usage_error(page):
    result = run([str(page), "--json", "-", "--sarif", "-"])
    assert result.exit_code == 2
    assert "only one output can go to standard output" in result.output
    result = run([str(page), "--json", "-", "--format", "json"])
    assert result.exit_code == 2


def test_output_file_holds_the_text_format_without_colours(tmp_path, page):
    out = tmp_path / "findings.txt"
    result = CliRunner().invoke(
        cli,
        ["check", "--no-report", "--no-config", str(page), "--output-file", str(out)],
        env={**ENV, "NO_COLOR": "", "FORCE_COLOR": "1"},
    )
    assert result.exit_code == 1
    text = out.read_text(encoding="utf-8")
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[0].startswith(f"{page}:2:37: QC303 [error]")
    assert sum(": QC" in line for line in lines) == 4
    assert "3 errors" in text and "(failed)" in text
    assert "QC303" not in result.stdout  # nothing of it on stdout


def test_output_file_takes_the_chosen_format(tmp_path, page):
    out = tmp_path / "findings.json"
    result = run([str(page), "--format", "json", "--output-file", str(out)])
    assert result.exit_code == 1
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["errors"] == 3


# --- signals while a report is written -----------------------------------------------------------

# Runs the command line with the JSON writer slowed at a known point: it writes half a report,
# tells the test it has (a marker file), and waits for the signal.
SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import checker.render.json as renderer

    marker = Path(sys.argv[1])
    original = renderer.write_json

    def slow(report, stream):
        stream.write('{"half": ')
        stream.flush()
        marker.write_text("writing")
        time.sleep(120)
        original(report, stream)

    renderer.write_json = slow
    sys.argv = ["quotecheck", *sys.argv[2:]]
    from checker.cli import main
    main()
    """
)


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_writing_leaves_the_old_report_and_no_temporary(tmp_path, page, signum, status):
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    report.write_text("previous", encoding="utf-8")
    marker = tmp_path / "marker"
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(marker), "check", "--no-config", "--no-report",
         str(page), "--json", str(report)],
        cwd=REPO,
        env={**os.environ, **ENV, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(1200):  # up to 120 s for the run to reach the write on a busy machine
            if marker.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), process.communicate(timeout=5)
        assert [p.name for p in report.parent.iterdir() if p.name.endswith(".tmp")]  # mid-write
        process.send_signal(signum)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, err
    assert b"Traceback" not in err
    assert report.read_text(encoding="utf-8") == "previous"
    assert leftovers(tmp_path) == []


def test_dev_stdout_is_written_through_after_the_finding_lines(tmp_path, page):
    out = tmp_path / "out.txt"
    with out.open("w", encoding="utf-8") as stream:
        result = subprocess.run(
            [sys.executable, "-m", "checker", "check", "--no-config", "--no-report", "-q", str(page),
             "--json", "/dev/stdout"],
            cwd=REPO, env={**os.environ, **ENV}, stdout=stream, stderr=subprocess.PIPE, timeout=120,
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert os.path.islink("/dev/stdout")
    text = out.read_text(encoding="utf-8")
    summary, _, report = text.partition("{\n")
    assert "(failed)" in summary  # the summary printed first is kept, the report follows it
    assert json.loads("{\n" + report)["summary"]["findings"] == 4


def test_a_regular_file_under_dev_shm_is_replaced_not_appended_to(tmp_path):
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    path = Path("/dev/shm") / f"quotecheck-test-{os.getpid()}.json"
    try:
        for text in ("first", "second"):
            with atomic_writer(path) as stream:
                stream.write(text)
        assert path.read_text(encoding="utf-8") == "second"
    finally:
        path.unlink(missing_ok=True)
