"""The import contracts of pyproject.toml ([tool.importlinter]) hold: layers import downwards only.

CONTRIBUTING.md draws the layers; `lint-imports` checks them, and so does this test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter", reason="import-linter is not installed (pip install -e '.[test]')")

ROOT = Path(__file__).resolve().parent.parent
_LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
)


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the package in `root` (its folder first on sys.path)."""
    return subprocess.run(
        [sys.executable, "-c", _LINT], cwd=root, capture_output=True, text=True, encoding="utf-8", timeout=300
    )


def test_the_import_contracts_are_kept() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_running_up_the_layers_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "checker", tmp_path / "checker", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    vocabulary = tmp_path / "checker" / "vocabulary.py"
    # The bottom layer reaching for the top: what the contract exists to refuse.
    source = vocabulary.read_text(encoding="utf-8")
    vocabulary.write_text(source + "\nimport checker.report\n", encoding="utf-8")
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "checker.vocabulary is not allowed to import checker.report" in result.stdout
