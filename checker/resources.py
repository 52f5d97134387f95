"""Where the data files the package reads at run time live (schemas, profiles, templates)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
# In a wheel, `schemas/` is shipped inside the package as `checker/_schemas`; in a source
# checkout (or an editable install) it is the top-level `schemas/` folder beside the package.
_CANDIDATES = (_PACKAGE_DIR / "_schemas", _PACKAGE_DIR.parent / "schemas")


def schemas_dir() -> Path:
    """The folder holding the JSON Schemas and feed profiles."""
    for candidate in _CANDIDATES:
        if (candidate / "report.schema.json").exists():
            return candidate
    raise FileNotFoundError("quotecheck's schemas folder is missing from this installation")


def schema_path(*parts: str) -> Path:
    """Path of a file under the schemas folder."""
    return schemas_dir().joinpath(*parts)


def templates_dir() -> Path:
    """The folder holding the Jinja2 templates of the HTML report."""
    return _PACKAGE_DIR / "render" / "templates"
