"""Walking folders and reading what they hold: reports never over inputs, special files named and
skipped, the size cap from the file system, .gitignore, --force-exclude, and the pre-commit hook."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import checker.inputs.sources as sources
from checker.api import check_paths, check_text
from checker.cli import cli
from checker.config import Options
from checker.exitcodes import ExitStatus
from checker.inputs.detect import foreign_reason, is_own_report
from checker.inputs.sources import InputRef, expand_paths, read_input
from checker.render.html import render_html
from checker.render.json import write_json
from checker.render.junit import junit_tree
from checker.render.markdown import markdown_summary
from checker.render.sarif import sarif_document

REPO = Path(__file__).resolve().parents[1]
GOOD = "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)\n"
BAD = "FFL 17.17 Decreased By ▲ -0.25 (-1.44%)\n"  # an up arrow on a fall: QC302


def run(*args, cwd=None):
    """The CLI in a child process (a blocking read would hang only the child, never the suite)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "checker", "check", "--no-config", "--format", "text", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=env,
        timeout=300,  # a safety net against a hang, not a measurement
        check=False,
    )


def invoke(*args):
    return CliRunner().invoke(cli, ["check", "--no-config", "--format", "text", *map(str, args)])


def walked(root, **kwargs):
    return [Path(ref.name).relative_to(root).as_posix() for ref in expand_paths([root], **kwargs)]


def messages(report, code="QC901"):
    rows = report.findings[report.findings["rule"] == code]
    return sorted(rows["message"])


# ------------------------------------------------------------------ reports that name an input


def test_report_over_a_file_found_in_a_folder_is_refused_naming_both(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "page.txt").write_text(GOOD, encoding="utf-8")
    (data / "out.json").write_text("[]", encoding="utf-8")  # an input: a JSON file, not a report
    result = invoke("--no-report", "--json", data / "out.json", data)
    assert result.exit_code == ExitStatus.USAGE
    assert f"refusing to write the report {data / 'out.json'} over the input {data / 'out.json'}" in (
        result.output
    )
    assert f"(found in {data})" in result.output
    assert (data / "out.json").read_text(encoding="utf-8") == "[]"
    # the same for the HTML report over a page of the folder, reached by another spelling
    (data / "page.html").write_text(f"<p>{GOOD}</p>", encoding="utf-8")
    other = data / "sub" / ".." / "page.html"
    result = invoke("--no-report", "--html", other, data)
    assert result.exit_code == ExitStatus.USAGE
    assert "refusing to write the report" in result.output
    assert (data / "page.html").read_text(encoding="utf-8") == f"<p>{GOOD}</p>"


def test_report_outside_the_walked_folders_or_in_the_report_folder_is_written(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "page.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "notes.json").write_text("[]", encoding="utf-8")  # not read: report folder
    monkeypatch.chdir(tmp_path)
    result = invoke(".")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert [f["path"] for f in report["files"]] == ["data/page.txt"]


def test_own_reports_are_passed_over_so_checking_a_folder_twice_gives_the_same_result(tmp_path, monkeypatch):
    (tmp_path / "page.txt").write_text(GOOD + BAD, encoding="utf-8")
    (tmp_path / "quotes.json").write_text(
        json.dumps([{"symbol": "AIRLINK", "price": 207.0, "direction": "Increased By", "change": 6.71,
                     "percent": 3.35}]),
        encoding="utf-8",
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    outputs = ["--json", "out/r.json", "--html", "out/r.html", "--sarif", "out/r.sarif.json"]
    outputs += ["--junit", "out/r.junit.xml", "--markdown", "out/r.md", "--include", "*"]
    first = invoke(*outputs, "--include-quotes", ".")
    saved = (tmp_path / "out" / "r.json").read_text(encoding="utf-8")
    second = invoke(*outputs, "--include-quotes", ".")
    assert first.exit_code == second.exit_code == 1, second.output
    assert second.output == first.output
    assert (tmp_path / "out" / "r.json").read_text(encoding="utf-8") == saved
    assert [f["path"] for f in json.loads(saved)["files"]] == ["page.txt", "quotes.json"]


def test_every_report_quotecheck_writes_is_recognised_and_quote_files_are_not():
    report = check_text(GOOD + BAD, "page.txt", Options(include_quotes=True))
    import io
    import xml.etree.ElementTree as ET

    stream = io.StringIO()
    write_json(report, stream)
    heads = {
        "json": stream.getvalue(),
        "sarif": json.dumps(sarif_document(report), indent=2),
        "junit": ET.tostring(junit_tree(report).getroot(), encoding="unicode", xml_declaration=True),
        "html": render_html(report),
        "markdown": markdown_summary(report),
    }
    for kind, text in heads.items():
        assert is_own_report(text.encode("utf-8")[:4096]), kind
    quotes = json.dumps({"quotes": [{"symbol": "AIRLINK", "price": 207.0}], "tool": {"name": "quotecheck"}})
    for text in (GOOD, f"<!DOCTYPE html><title>{GOOD}</title>", quotes, "[]", "## quotecheck notes"):
        assert not is_own_report(text.encode("utf-8")), text


# ------------------------------------------------------------------ special files


def make_special_folder(root: Path) -> dict[str, str]:
    """A folder with one good page, one faulty page whose name is not UTF-8, and every special file."""
    (root / "good.txt").write_text(GOOD, encoding="utf-8")
    bad_name = os.fsdecode(b"bad\xff.txt")
    (root / bad_name).write_text(BAD, encoding="utf-8")
    os.mkfifo(root / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock.txt"))
    server.close()
    os.symlink("loop.txt", root / "loop.txt")
    os.symlink("/dev/zero", root / "zero.txt")
    os.symlink("missing.txt", root / "dangling.txt")
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")
    return {
        "pipe.txt": "a FIFO (named pipe), not a regular file; skipped",
        "sock.txt": "a socket, not a regular file; skipped",
        "loop.txt": "a symbolic link loop (loop.txt), not a regular file; skipped",
        "zero.txt": "a symbolic link to a character device (/dev/zero), not a regular file; skipped",
        "dangling.txt": "a dangling symbolic link (missing.txt), not a regular file; skipped",
        "sub/up": "a symbolic link loop (..), not a regular file; skipped",
    }


def test_special_files_in_a_folder_are_named_and_skipped_and_the_rest_is_checked(tmp_path):
    expected = make_special_folder(tmp_path)
    report = check_paths([tmp_path])
    assert messages(report) == sorted(f"{tmp_path / name}: {why}" for name, why in expected.items())
    assert report.summary()["quotes"] == 2
    assert report.exit_status == ExitStatus.USAGE
    # the page whose name is not UTF-8 is read, and its finding names it with the byte escaped
    arrow = report.findings[report.findings["rule"] == "QC302"]
    assert list(arrow["file"]) == [f"{tmp_path}/bad\\xff.txt"]


def test_special_files_in_a_folder_never_block_or_crash_the_command_line(tmp_path):
    (tmp_path / "in").mkdir()
    make_special_folder(tmp_path / "in")
    out = tmp_path / "out"
    reports = ["--json", out / "r.json", "--html", out / "r.html", "--sarif", out / "r.sarif"]
    reports += ["--junit", out / "r.xml", "--markdown", out / "r.md"]
    done = run(*reports, tmp_path / "in")
    assert done.returncode == ExitStatus.USAGE, done.stderr
    assert "internal error" not in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert done.stdout.count("QC901") == 6
    assert "bad\\xff.txt:1:24: QC302" in done.stdout
    assert json.loads((out / "r.json").read_text(encoding="utf-8"))["summary"]["quotes"] == 2


def test_fifo_and_devices_named_on_the_command_line_never_block(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    done = run("--no-report", tmp_path / "pipe.txt", "/dev/zero", tmp_path / "good.txt")
    assert done.returncode == ExitStatus.USAGE
    assert f"{tmp_path / 'pipe.txt'}: a FIFO (named pipe), not a regular file; skipped" in done.stdout
    assert "/dev/zero: a character device, not a regular file; skipped" in done.stdout
    assert re.search(r"\b3 files, 1 quote\b", done.stdout), done.stdout


def test_dev_stdin_is_read_when_a_regular_file_and_refused_when_a_pipe(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(BAD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "checker", "check", "--no-config", "--no-report", "/dev/stdin"]
    with page.open("rb") as stream:  # a redirect `< page.txt`: a regular file
        done = subprocess.run(command, stdin=stream, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1 and "/dev/stdin:1:24: QC302" in done.stdout
    done = subprocess.run(command, input=BAD, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == ExitStatus.USAGE
    assert "(give - to read standard input)" in done.stdout


def test_input_over_the_cap_is_refused_from_its_size_before_a_byte_is_read(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    with big.open("wb") as stream:
        stream.truncate(1 << 40)  # a sparse terabyte: reading it first would never end in time

    def no_read(*_args, **_kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr(sources, "read_stream", no_read)
    raw = read_input(InputRef(str(big), big))
    assert raw.refused and not raw.complete
    assert raw.problem == (
        f"{big}: {1 << 40} bytes, larger than the cap of {1 << 30} bytes (--max-decompressed-size); refused"
    )
    monkeypatch.undo()
    report = check_paths([big], Options(max_decompressed_size=10))
    assert messages(report) == [f"{big}: {1 << 40} bytes, larger than the cap of 10 bytes "
                                "(--max-decompressed-size); refused"]  # fmt: skip


def test_a_small_gzip_that_inflates_past_the_cap_is_still_refused_while_inflating(tmp_path):
    import gzip

    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(GOOD.encode() * 10_000))
    assert bomb.stat().st_size < 5000
    report = check_paths([bomb], Options(max_decompressed_size=5000))
    (message,) = messages(report)
    assert "decompresses to more than 5000 bytes" in message


# ------------------------------------------------------------------ .gitignore


def make_repository(root: Path) -> Path:
    """A repository (a .git folder is all git needs to find its root) with ignore files at each level."""
    (root / ".git" / "info").mkdir(parents=True)
    (root / ".git" / "info" / "exclude").write_text("secret.txt\n", encoding="utf-8")
    (root / ".gitignore").write_text("build/\n*.tmp.txt\ndata/skip.txt\n!keep.tmp.txt\n", encoding="utf-8")
    data = root / "data"
    (data / "build").mkdir(parents=True)
    (data / "nested").mkdir()
    (data / "nested" / ".gitignore").write_text("local.txt\n!../never.txt\n[\n", encoding="utf-8")
    for name in (
        "page.txt", "skip.txt", "secret.txt", "x.tmp.txt", "keep.tmp.txt", "build/out.txt",
        "nested/local.txt", "nested/other.txt",
    ):  # fmt: skip
        (data / name).write_text(GOOD, encoding="utf-8")
    return data


def test_walk_respects_gitignore_up_to_the_repository_root(tmp_path):
    data = make_repository(tmp_path)
    assert walked(data) == ["keep.tmp.txt", "nested/other.txt", "page.txt"]
    assert walked(data, respect_gitignore=False) == [
        "build/out.txt", "keep.tmp.txt", "nested/local.txt", "nested/other.txt", "page.txt",
        "secret.txt", "skip.txt", "x.tmp.txt",
    ]  # fmt: skip
    assert walked(tmp_path) == ["data/keep.tmp.txt", "data/nested/other.txt", "data/page.txt"]


def test_a_folder_the_repository_ignores_is_walked_when_named_with_its_own_rules(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("out/\n*.log.txt\n", encoding="utf-8")
    pages = tmp_path / "out" / "pages"
    pages.mkdir(parents=True)
    (pages / ".gitignore").write_text("draft.txt\n", encoding="utf-8")
    for name in ("page.txt", "draft.txt", "run.log.txt"):
        (pages / name).write_text(GOOD, encoding="utf-8")
    (tmp_path / "top.txt").write_text(GOOD, encoding="utf-8")
    # Asked for by name, the ignored folder is checked; only the rules found inside it apply.
    assert walked(pages) == ["page.txt", "run.log.txt"]
    assert walked(tmp_path / "out") == ["pages/page.txt", "pages/run.log.txt"]
    # Walked from above, the repository's rules keep it out.
    assert walked(tmp_path) == ["top.txt"]


def test_outside_a_repository_only_the_walked_folders_gitignore_counts(tmp_path):
    (tmp_path / ".gitignore").write_text("*.txt\n", encoding="utf-8")  # above the walk: not read
    data = tmp_path / "data"
    data.mkdir()
    (data / ".gitignore").write_text("old.txt\n", encoding="utf-8")
    (data / "page.txt").write_text(GOOD, encoding="utf-8")
    (data / "old.txt").write_text(GOOD, encoding="utf-8")
    assert walked(data) == ["page.txt"]


def test_no_respect_gitignore_flag_and_configuration_key(tmp_path, monkeypatch):
    data = make_repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert "3 files" in invoke("--no-report", "data").output
    assert "8 files" in invoke("--no-report", "--no-respect-gitignore", "data").output
    (tmp_path / "quotecheck.toml").write_text("respect-gitignore = false\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--no-report", "--format", "text", str(data)])
    assert "8 files" in result.output
    (tmp_path / "quotecheck.toml").write_text('respect-gitignore = "no"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--no-report", str(data)])
    assert (
        result.exit_code == ExitStatus.USAGE and "respect-gitignore: expected true or false" in result.output
    )


def test_a_fifo_named_gitignore_does_not_block_the_walk(tmp_path):
    os.mkfifo(tmp_path / ".gitignore")
    (tmp_path / "page.txt").write_text(GOOD, encoding="utf-8")
    done = run("--no-report", tmp_path)
    assert done.returncode == 0 and "1 file" in done.stdout


def test_named_files_are_checked_even_if_ignored_unless_force_exclude(tmp_path, monkeypatch):
    make_repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    named = [
        "data/skip.txt",
        "data/build/out.txt",
        "data/nested/local.txt",
        "data/secret.txt",
        "data/page.txt",
    ]
    assert [r.name for r in expand_paths(named)] == named
    assert [r.name for r in expand_paths(named, force_exclude=True)] == ["data/page.txt"]
    plain = {"force_exclude": True, "respect_gitignore": False}
    assert [r.name for r in expand_paths(named, exclude=("nested",), **plain)] == [
        "data/skip.txt", "data/build/out.txt", "data/secret.txt", "data/page.txt"
    ]  # fmt: skip
    assert [r.name for r in expand_paths(["data/page.txt"], exclude=("data/*",), force_exclude=True)] == []
    assert "5 files" in invoke("--no-report", *named).output
    assert "1 file" in invoke("--no-report", "--force-exclude", *named).output
    (tmp_path / "quotecheck.toml").write_text(
        'force-exclude = true\nexclude = ["page.*"]\n', encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["check", "--no-report", "--format", "text", *named])
    assert "0 files" in result.output and result.exit_code == 0
    result = CliRunner().invoke(
        cli, ["check", "--no-report", "--format", "text", "--no-force-exclude", *named]
    )
    assert "5 files" in result.output


# ------------------------------------------------------------------ the pre-commit hook


def make_ordinary_repository(root: Path) -> None:
    """What a project holds besides quote pages, one clean quote page, and one with a fault."""
    (root / "package.json").write_text(
        json.dumps({"name": "site", "version": "1.0.0", "dependencies": {"react": "^18.2.0"}}, indent=2),
        encoding="utf-8",
    )
    (root / "requirements.txt").write_text("pandas>=2.2\nrequests==2.31.0\n", encoding="utf-8")
    (root / "users.csv").write_text("id,name,email,change\n1,Ali,ali@example.com,+2.5\n", encoding="utf-8")
    (root / "README.md").write_text("# Site\n\nQuotes in `quotes/`.\n", encoding="utf-8")
    (root / "events.jsonl").write_text('{"event": "login"}\n{"event": "logout"}\n', encoding="utf-8")
    (root / "quotes").mkdir()
    (root / "quotes" / "today.txt").write_text(GOOD, encoding="utf-8")
    (root / "quotes" / "table.csv").write_text(
        "symbol,price,direction,arrow,change,percent\nAIRLINK,207.00,Increased By,▲,6.71,3.35\n",
        encoding="utf-8",
    )
    (root / "quotes" / "broken.txt").write_text(GOOD + BAD, encoding="utf-8")
    report = check_text(GOOD, "quotes/today.txt")
    import io

    stream = io.StringIO()
    write_json(report, stream)
    (root / "reports").mkdir()
    (root / "reports" / "baseline.json").write_text(stream.getvalue(), encoding="utf-8")


def test_foreign_files_are_told_from_quote_files(tmp_path):
    make_ordinary_repository(tmp_path)
    reasons = {
        p.relative_to(tmp_path).as_posix(): foreign_reason(p.name, p.read_bytes())
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file()
    }
    assert reasons == {
        "README.md": "no quote and nothing quote-like",
        "events.jsonl": "JSON without quote records",
        "package.json": "JSON without quote records",
        "quotes/broken.txt": None,
        "quotes/table.csv": None,
        "quotes/today.txt": None,
        "reports/baseline.json": "a quotecheck report",
        "requirements.txt": "no quote and nothing quote-like",
        "users.csv": "a table without quote columns",
    }
    # in doubt, a file is checked: broken JSON, a half-typed quote, a record with quote fields
    for name, text in (
        ("q.json", '[{"symbol": "AIRLINK", "price": '),
        ("q.txt", "AIRLINK 207.00 Incr"),
        ("q.json", '{"symbol": "AIRLINK", "price": "207.00"}'),
        ("q.jsonl", '{"a": 1}\n{"symbol": "X", "change": 1}\n'),
        ("q.csv", "Symbol;Price\nAIRLINK;207.00\n"),
        ("q.html", "<p>AIRLINK 207.00 &#9650; 6.71</p>"),
    ):
        assert foreign_reason(name, text.encode("utf-8")) is None, text


def test_only_quote_files_passes_over_the_rest_and_still_fails_on_a_faulty_quote_file(tmp_path, monkeypatch):
    make_ordinary_repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    result = invoke("--no-report", "--only-quote-files", *files)
    assert result.exit_code == 1, result.output
    assert re.search(r"\b3 files, 4 quotes\b", result.output), result.output
    assert [line.split(":")[0] for line in result.output.splitlines() if " QC" in line] == [
        "quotes/broken.txt"
    ]
    files.remove("quotes/broken.txt")
    assert invoke("--no-report", "--only-quote-files", "--fail-on", "info", *files).exit_code == 0
    # without the flag the ordinary files fail the run
    assert invoke("--no-report", *files).exit_code != 0


def test_pre_commit_run_on_an_ordinary_repository_fails_only_on_the_faulty_quote_file(tmp_path):
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["entry"].startswith("quotecheck check ")
    # This checkout's hook, run by pre-commit as a local hook with this checkout's code.
    entry = hook["entry"].replace("quotecheck", f"{sys.executable} -m checker", 1)
    repo = tmp_path / "project"
    repo.mkdir()
    make_ordinary_repository(repo)
    config = {
        "repos": [
            {
                "repo": "local",
                "hooks": [
                    {
                        "id": hook["id"],
                        "name": hook["name"],
                        "entry": entry,
                        "language": "system",
                        "files": hook["files"],
                        "require_serial": True,
                    }
                ],
            }
        ]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "NO_COLOR": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(tmp_path),
    }

    def git(*args):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=120)

    def pre_commit():
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    git("init", "-q")
    git("add", "-A")
    failed = pre_commit()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    findings = [line for line in failed.stdout.splitlines() if " QC" in line]
    assert findings and all(line.startswith("quotes/broken.txt:") for line in findings), failed.stdout
    assert "3 files" in failed.stdout
    (repo / "quotes" / "broken.txt").write_text(GOOD + BAD.replace("▲", "▼"), encoding="utf-8")
    git("add", "-A")
    passed = pre_commit()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


@pytest.mark.parametrize("name", ["page.txt", "a/b.html", "q.csv", "q.tsv", "q.jsonl", "q.json.gz"])
def test_pre_commit_hook_files_pattern_takes_every_input_format(name):
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert re.search(hook["files"], name)
    assert "--only-quote-files" in hook["entry"] and "--force-exclude" in hook["entry"]


def test_a_folder_a_thousand_levels_deep_is_walked(tmp_path):
    # os.walk recurses in Python 3.11 and would exhaust the stack here.
    deep = str(tmp_path)
    for _level in range(1200):  # one at a time: os.makedirs recurses too
        deep = os.path.join(deep, "a")
        os.mkdir(deep)
    deep = Path(deep)
    (deep / "page.txt").write_text(BAD, encoding="utf-8")
    (tmp_path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    page = str(deep / "page.txt")
    try:
        report = check_paths([tmp_path])
    finally:
        (deep / "page.txt").unlink()
        while deep != tmp_path:  # shutil.rmtree recurses too: pytest's clean-up would fail
            deep.rmdir()
            deep = deep.parent
    assert [f.path for f in report.files] == [page]
    assert list(report.findings["rule"]) == ["QC302"]
