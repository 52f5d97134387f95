"""The GitHub Action, the pre-commit hook and the README's examples use only flags the CLI has,
and the Action's check step runs as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from checker.cli import check

REPO = Path(__file__).resolve().parents[1]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def check_flags() -> set[str]:
    """Every option `quotecheck check` declares."""
    return {name for param in check.params for name in (*param.opts, *param.secondary_opts)}


def quotecheck_commands(script: str) -> list[str]:
    """The `quotecheck check ...` commands of a shell script, continuation lines joined."""
    joined = script.replace("\\\n", " ")
    return [
        line[line.index("quotecheck check") :] for line in joined.splitlines() if "quotecheck check" in line
    ]


def readme_yaml_blocks() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


def action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def test_action_runs_quotecheck_with_real_flags_only():
    steps = action()["runs"]["steps"]
    commands = [c for step in steps for c in quotecheck_commands(step.get("run", ""))]
    assert len(commands) == 1
    used = set(FLAG.findall(commands[0]))
    assert {"--sarif", "--html", "--markdown", "--json", "--fail-on", "--format"} <= used
    assert used <= check_flags(), used - check_flags()


def test_action_outputs_are_set_by_the_check_step():
    document = action()
    script = next(step["run"] for step in document["runs"]["steps"] if step.get("id") == "check")
    for name, output in document["outputs"].items():
        assert output["value"] == f"${{{{ steps.check.outputs.{name} }}}}"
        assert re.search(rf"\b{re.escape(name)}=", script), name


def test_readme_workflow_uses_the_action_and_real_flags():
    blocks = [yaml.safe_load(block) for block in readme_yaml_blocks()]
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    steps = workflow["jobs"]["quotecheck"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    inputs = action()["inputs"]
    ours = next(step for step in steps if step.get("uses", "").endswith("/quotecheck@main"))
    assert set(ours["with"]) <= set(inputs)
    assert all(name in ours["with"] for name, spec in inputs.items() if spec.get("required"))
    assert set(FLAG.findall(ours["with"]["args"])) <= check_flags()
    reports = inputs["reports-dir"]["default"]
    artifact = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@"))
    sarif = next(
        step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )
    assert artifact["with"]["path"] == f"{reports}/report.html"
    assert sarif["with"]["sarif_file"] == f"{reports}/report.sarif"


def test_every_quotecheck_check_command_in_the_readme_uses_real_flags():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = quotecheck_commands(text)
    for block in readme_yaml_blocks():  # folded YAML scalars span lines
        commands += quotecheck_commands(" ".join(block.split("\n")))
    assert len(commands) >= 4
    for command in commands:
        unknown = set(FLAG.findall(command)) - check_flags()
        assert not unknown, f"{command!r} uses {unknown}"


def test_readme_command_line_section_names_every_check_flag():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Command line") : text.index("### Exit status")]
    documented = set(FLAG.findall(section))
    missing = {flag for flag in check_flags() if flag.startswith("--") and flag != "--help"} - documented
    assert not missing, f"not in the README's Command line section: {sorted(missing)}"


def test_pre_commit_hook():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "quotecheck"
    assert hook["entry"].startswith("quotecheck check")
    assert set(FLAG.findall(hook["entry"])) <= check_flags()
    files = re.compile(hook["files"])
    for name in ("page.txt", "a/b.html", "x.htm", "q.csv", "q.json", "q.jsonl"):
        assert files.search(name), name
    for name in ("checker/cli.py", "README.md", "page.txt.bak"):
        assert not files.search(name), name


def run_action_step(tmp_path: Path, fail_on: str, pages: dict[str, str], config: str | None = None):
    """The Action's shell step, run by bash in `tmp_path` with the inputs GitHub would pass, and a
    `quotecheck` on PATH that runs this checkout's code."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "quotecheck"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m checker "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name, text in pages.items():
        (incoming / name).write_text(text, encoding="utf-8")
    if config is not None:
        (tmp_path / "quotecheck.toml").write_text(config, encoding="utf-8")
    step = next(step for step in action()["runs"]["steps"] if step.get("id") == "check")
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        "QC_PATHS": "incoming/*.txt",
        "QC_FAIL_ON": fail_on,
        "QC_ARGS": "--as-of 2024-03-28",
        "QC_REPORTS": "out",
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary"),
        "GITHUB_ACTIONS": "true",
    }
    return subprocess.run(
        [bash, "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


GOOD = "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)\n"
BAD = "FFL 17.17 Decreased By ▲ -0.25 (-1.44%)\n"
WARNING = "HUBC 132.30 Increased By 4.49 (3.51%)\n"  # no arrow: a warning only


def test_action_check_step_runs_as_written(tmp_path):
    result = run_action_step(tmp_path, "error", {"good.txt": GOOD, "bad.txt": BAD})
    assert result.returncode == 1, result.stderr
    assert "::error file=incoming/bad.txt,line=1,col=24" in result.stdout
    output = tmp_path / "github_output"
    outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())
    assert outputs["exit-code"] == "1"
    for name in ("json", "html", "sarif", "markdown"):
        assert (tmp_path / outputs[name]).is_file(), name
    assert "quotecheck: failed" in (tmp_path / "step_summary").read_text(encoding="utf-8")


def test_action_default_fail_on_is_empty_so_the_configuration_decides():
    assert action()["inputs"]["fail-on"]["default"] == ""


@pytest.mark.parametrize(
    ("fail_on", "config", "pages", "status"),
    [
        ("", 'fail-on = "never"\n', {"bad.txt": BAD}, 0),  # the project's configuration decides
        ("", 'fail-on = "warning"\n', {"warn.txt": WARNING}, 1),
        ("", None, {"warn.txt": WARNING}, 0),  # neither: the default, error
        ("", None, {"bad.txt": BAD}, 1),
        ("error", 'fail-on = "never"\n', {"bad.txt": BAD}, 1),  # the workflow's input wins
        ("never", 'fail-on = "warning"\n', {"warn.txt": WARNING}, 0),
    ],
)
def test_action_passes_fail_on_only_when_the_workflow_sets_it(tmp_path, fail_on, config, pages, status):
    result = run_action_step(tmp_path, fail_on, pages, config)
    assert result.returncode == status, result.stdout + result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    expected = fail_on or (config.split('"')[1] if config else "error")
    assert report["options"]["fail_on"] == expected
