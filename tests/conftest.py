"""Shared fixtures: the system Chromium for the browser tests, installed with apt when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Flags that keep Chromium from contacting anything on its own (updates, sync, field trials).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _apt(*args: str) -> None:
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(["apt-get", *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        pytest.fail(f"apt-get {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's chromium; installed with apt-get (update first) when it is missing."""
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)")
        _apt("update")
        _apt("install", "-y", "chromium")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """A headless Chromium driven by Playwright; never a downloaded browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
