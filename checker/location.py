"""Where something is, written the way editors and compilers write it: `file:line:col`.

It imports no other module of the package, so every layer can use it.
"""

from __future__ import annotations


def location(file: str, line: object, column: object) -> str:
    """`file:line:col`, or the file alone when there is no line; a missing column is column 1."""
    return file if line is None else f"{file}:{line}:{column or 1}"
