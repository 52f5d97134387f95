"""The command line: a thin layer over checker.api. Only this module touches argv and streams."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from checker import __version__
from checker.exitcodes import ExitStatus
from checker.inputs.detect import FORMATS

if TYPE_CHECKING:
    from checker.report import Report

DEFAULT_REPORT_DIR = "reports"


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _split_codes(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(code.strip() for value in values for code in value.split(",") if code.strip())


class _SafeGroup(click.Group):
    """The command group, whose usage errors are printed escaped: they often quote a file name."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Run the command; a usage error's message is shown with its untrusted text escaped."""
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **kwargs)
        except click.ClickException as error:
            if not standalone_mode:
                raise
            # click 8.5 declares `message` Final; showing the escaped text means replacing it
            object.__setattr__(error, "message", _shown(error.message))
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            if not standalone_mode:
                raise
            click.echo("Aborted!", err=True)
            sys.exit(1)
        if not standalone_mode:
            return status
        sys.exit(status if isinstance(status, int) else 0)


@click.group(cls=_SafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="quotecheck")
def cli() -> None:
    """Check market quotes scraped from news pages: parse, validate, report."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Write the JSON report here (- for stdout)."
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    help="Write the HTML report here (default: report.html in the report folder; - for stdout).",
)
@click.option(
    "--report-dir",
    default=DEFAULT_REPORT_DIR,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for reports not given a path of their own.",
)
@click.option("--no-report", is_flag=True, help="Write no report file unless one is named.")
@click.option("--include-quotes", is_flag=True, help="Put every parsed quote in the JSON report.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="error",
    show_default=True,
    help="Lowest severity that makes the run fail (exit 1).",
)
@click.option("--max-errors", type=click.IntRange(min=0), help="Fail only when errors exceed N.")
@click.option(
    "--select", multiple=True, help="Run only these rules (codes, names or prefixes; comma-separated)."
)
@click.option("--ignore", multiple=True, help="Skip these rules (codes, names or prefixes; comma-separated).")
@click.option(
    "--severity",
    "severity_overrides",
    multiple=True,
    metavar="RULE=LEVEL",
    help="Override a rule's severity.",
)
@click.option(
    "--as-of", callback=_parse_date, help="Date of the snapshot: picks the circuit breaker in force."
)
@click.option("--profile", default="br-psx", show_default=True, help="Feed profile name or JSON file.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github", "json"]),
    help="Findings on stdout: text (default), github (workflow commands; the default when "
    "GITHUB_ACTIONS=true) or json (the JSON report).",
)
@click.option(
    "--output-file",
    "output_file",
    type=click.Path(dir_okay=False),
    help="Write what --format prints (finding lines and summary, no colours) to this file, not stdout.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print no finding lines, only the summary.")
@click.option("--statistics", is_flag=True, help="Print counts by rule instead of the finding lines.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), help="Write a JUnit XML report here.")
@click.option("--sarif", "sarif_path", type=click.Path(dir_okay=False), help="Write a SARIF 2.1.0 log here.")
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False),
    help="Write a Markdown job summary here (it is also appended to $GITHUB_STEP_SUMMARY when set).",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(),
    help="A JSON report of known findings: those are not counted again. A --json report to the same "
    "file records it anew, keeping the findings it suppressed.",
)
@click.option("--no-baseline", is_flag=True, help="Use no baseline, not even the configured one.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(),
    help="Read settings from this file instead of the nearest quotecheck.toml or pyproject.toml.",
)
@click.option("--no-config", is_flag=True, help="Read no configuration file.")
@click.option(
    "--input-format",
    type=click.Choice(FORMATS),
    help="Read every input in this format (default: by extension, else by content).",
)
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="In directories, check only files matching GLOB (default: the known input extensions).",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="In directories, skip files matching GLOB.")
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=True,
    help="In directories, pass over what .gitignore files ignore (the default).",
)
@click.option(
    "--force-exclude/--no-force-exclude",
    default=False,
    help="Apply --exclude and .gitignore to files named on the command line too.",
)
@click.option(
    "--only-quote-files",
    is_flag=True,
    help="Pass over, with no finding, files that are plainly not quote files (the pre-commit hook's mode).",
)
@click.option(
    "--max-decompressed-size",
    type=click.IntRange(min=1),
    default=1 << 30,
    show_default=True,
    metavar="BYTES",
    help="Refuse an input (a .gz file decompressed, or any file) larger than this.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Processes checking files in parallel when there are more than 8 and enough work to pay for "
    "starting them (default: the number of cores).",
)
@click.option(
    "--history",
    is_flag=True,
    help="Also check across snapshots: previous closes chain from session to session, no page is stale.",
)
@click.option(
    "--snapshots",
    "snapshots_path",
    type=click.Path(dir_okay=False),
    metavar="FILE.csv",
    help="Capture times of the pages (columns file,captured_at); implies --history.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help='local: this machine\'s processes (--jobs); dask: a Dask cluster (pip install "quotecheck[dask]").',
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the scheduler of your cluster (tcp://HOST:PORT); default: a local "
    "cluster of --jobs worker processes.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="With --engine dask: workers write the findings to DIR/findings/part-NNNNN.parquet; the "
    "reports are written from those parts (for runs whose findings do not fit in memory).",
)
@click.option(
    "--ledger",
    "ledger_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write every parsed quote, with its page's time, session and findings, to DIR/ledger-<n>.parquet.",
)
@click.option(
    "--export",
    "export_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write every parsed quote with a valid column to FILE (.csv or .parquet).",
)
@click.option(
    "--fix", "fix", is_flag=True, help="Apply the safe repairs to the files in place (README: Repairs)."
)
@click.option("--unsafe-fixes", is_flag=True, help="With --fix, --diff or --fix-to: the unsafe repairs too.")
@click.option(
    "--diff", "diff", is_flag=True, help="Print a unified diff of what --fix would do; change nothing."
)
@click.option(
    "--fix-to",
    "fix_to",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write repaired copies under DIR.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="With a repair flag: previous closes from this history state too (read only).",
)
def check(
    paths: tuple[str, ...],
    json_path: str | None,
    html_path: str | None,
    report_dir: str,
    no_report: bool,
    include_quotes: bool,
    fail_on: str,
    max_errors: int | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    severity_overrides: tuple[str, ...],
    as_of: dt.date | None,
    profile: str,
    output_format: str | None,
    output_file: str | None,
    quiet: bool,
    statistics: bool,
    junit_path: str | None,
    sarif_path: str | None,
    markdown_path: str | None,
    baseline_path: str | None,
    no_baseline: bool,
    config_path: str | None,
    no_config: bool,
    input_format: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    respect_gitignore: bool,
    force_exclude: bool,
    only_quote_files: bool,
    max_decompressed_size: int,
    jobs: int | None,
    history: bool,
    snapshots_path: str | None,
    engine: str,
    scheduler: str | None,
    output_dir: str | None,
    ledger_dir: str | None,
    export_path: str | None,
    fix: bool = False,
    unsafe_fixes: bool = False,
    diff: bool = False,
    fix_to: str | None = None,
    state_path: str | None = None,
) -> None:
    """Check PATHS (files, directories, or - for stdin) and write reports.

    Settings come from `--config FILE`, else the nearest quotecheck.toml or pyproject.toml
    [tool.quotecheck] at or above the current folder; flags given on the command line win.
    """
    ctx = click.get_current_context()
    _check_engine_flags(engine, scheduler, output_dir, paths, include_quotes, junit_path)
    settings = _config_settings(config_path, no_config)
    if html_path is None and not no_report:
        html_path = str(Path(report_dir) / "report.html")

    if no_baseline and baseline_path:
        raise click.UsageError("--baseline and --no-baseline exclude each other")
    if not no_baseline:
        baseline_path = _configured(ctx, settings, "baseline_path", "baseline", baseline_path)
    else:
        baseline_path = None
    json_named = json_path is not None
    if json_path is None and not no_report:
        json_path = str(Path(report_dir) / "report.json")
    reports = {"--json": json_path, "--html": html_path, "--junit": junit_path, "--sarif": sarif_path}
    reports["--markdown"] = markdown_path
    to_stdout = [flag for flag, path in reports.items() if path == STDOUT]
    if output_file == STDOUT:
        output_file = None
    if output_format == "json" and output_file is None:
        to_stdout.append("--format json")
    if len(to_stdout) > 1:
        raise click.UsageError(f"only one output can go to standard output, not {' and '.join(to_stdout)}")
    # A report on stdout moves the finding lines and summary to stderr, so stdout holds it alone.
    findings_to = "stderr" if to_stdout and to_stdout[0] != "--format json" else "stdout"
    if (fix or unsafe_fixes) and not (diff or fix_to) and STDOUT in paths:  # stdout: the repaired text
        if to_stdout:
            raise click.UsageError(
                f"--fix on standard input writes the repaired text to stdout, not {to_stdout[0]}"
            )
        findings_to = "stderr"
    recording = bool(
        baseline_path and json_path and json_path != STDOUT and _same_path(json_path, baseline_path)
    )
    if recording and output_dir is not None:
        raise click.UsageError("recording a baseline is not yet supported with --output-dir")
    if recording and not json_named:
        raise click.UsageError(
            f"the default JSON report {json_path} is the baseline; name it with --json to record "
            "the baseline, or choose another --report-dir"
        )
    if baseline_path:  # only the JSON report may go to the baseline: that is recording it
        for flag, path in (*reports.items(), ("--output-file", output_file)):
            if flag != "--json" and path and path != STDOUT and _same_path(path, baseline_path):
                raise click.UsageError(
                    f"refusing to write the {flag} report over the baseline {baseline_path}"
                )
    # The JSON report's quotes, the history step and the ledgers want every quote.
    every_quote = bool(include_quotes or history or snapshots_path or ledger_dir or export_path)
    options = _build_options(
        ctx,
        settings,
        select=select,
        ignore=ignore,
        severity_overrides=severity_overrides,
        fail_on=fail_on,
        max_errors=max_errors,
        as_of=as_of,
        profile=profile,
        include=include,
        exclude=exclude,
        input_format=input_format,
        max_decompressed_size=max_decompressed_size,
        include_quotes=every_quote
        or bool(html_path)
        or bool(sarif_path),  # a result's repair is found from its quote
        # the HTML and SARIF reports alone use only some quotes: a large page stays chunked
        quotes_kept="all" if every_quote or fix or unsafe_fixes or diff or fix_to else "shown",
        baseline=_read_baseline(baseline_path, recording) if baseline_path else None,
        respect_gitignore=respect_gitignore,
        force_exclude=force_exclude,
        only_quote_files=only_quote_files,
    )
    files = [p for p in (*reports.values(), output_file, export_path) if p and p != STDOUT]
    if export_path and not export_path.lower().endswith((".csv", ".parquet")):
        raise click.UsageError(f"--export {export_path}: the file must end in .csv or .parquet")
    # A folder walk passes over the report folder (and quotecheck's reports, told by their content);
    # a report over any other file it takes is refused, as over a file named on the command line.
    options.report_paths = () if no_report else (report_dir,)
    _refuse_overwriting_inputs(files, paths, options)
    _refuse_bad_report_paths(files)
    # With --output-dir the quotes stay on the workers, which write the ledger's parts themselves.
    ledger_parts = engine == "dask" and output_dir is not None and bool(ledger_dir)
    if engine == "dask" and output_dir is not None:
        if export_path:
            raise click.UsageError("--export is not yet supported with --engine dask --output-dir")
        parts_dir = os.path.join(output_dir, "ledger")
        if ledger_dir and not _same_path(ledger_dir, parts_dir):
            wanted = f"with --output-dir the ledger is written in {parts_dir}: give --ledger {parts_dir}"
            raise click.UsageError(_shown(wanted))
    repairs = None
    manifest = _read_manifest(snapshots_path) if snapshots_path else None
    if fix or diff or fix_to or unsafe_fixes:
        ledger = (manifest, state_path) if (history or snapshots_path or state_path) else None
        repairs, paths = _repair_inputs(paths, options, fix, unsafe_fixes, diff, fix_to, engine, ledger)
    elif state_path:
        raise click.UsageError("--state needs --fix, --diff or --fix-to (quotecheck history moves a state)")
    history_line = None
    if engine == "dask" and (history or snapshots_path or ledger_parts):  # the history step there too
        report, history_line = _run_dask_history(
            list(paths),
            options,
            scheduler,
            jobs or os.cpu_count() or 1,
            manifest,
            output_dir,
            history=bool(history or snapshots_path),
            ledger=ledger_parts,
        )
        quiet = quiet or output_dir is not None
    elif engine == "dask":
        report = _run_dask(list(paths), options, scheduler, jobs or os.cpu_count() or 1, output_dir)
        quiet = quiet or output_dir is not None  # the findings are in the parts and the reports
    else:
        repaired_stdin = repairs.stdin if repairs is not None else None
        history_next = bool(history or snapshots_path or ledger_dir or export_path)
        report = _run_check(list(paths), options, jobs or os.cpu_count() or 1, repaired_stdin, history_next)
    history_result = None
    if (history or snapshots_path) and history_line is None:
        history_line, history_result = _check_history(report, manifest)
    failures: list[str] = []
    if ledger_parts:
        _say(f"Ledger: {os.path.join(output_dir or '', 'ledger')} (its part-NNNNN.parquet files)")
    elif ledger_dir or export_path:
        _write_ledgers(report, manifest, ledger_dir, export_path, failures)
    # The HTML report's quotes table needs the quotes; the JSON report carries them only on request.
    html_quotes = report.quotes
    _attach_fixes(report, repairs, history_result)
    if not include_quotes:
        report.quotes = None
    if output_format is None:
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    _emit_findings(report, output_format, quiet, statistics, output_file, findings_to, failures)
    if history_line:
        _say(history_line, err=findings_to == "stderr" or output_format != "text" or bool(output_file))
    _warn_about_baseline(report, recording)
    _save_ci_reports(report, junit_path, sarif_path, markdown_path, failures)
    if json_path:
        if recording and options.baseline is not None:
            _write_report(
                "JSON report (the baseline, recorded anew)",
                failures,
                _save_baseline,
                _recorded(report, options.baseline),
                json_path,
            )
        else:
            from checker.render.json import save_json

            _write_report("JSON report", failures, save_json, report, json_path)
    if html_path:
        from dataclasses import replace

        from checker.render.html import save_html

        _write_report("HTML report", failures, save_html, replace(report, quotes=html_quotes), html_path)
    if failures:
        for failure in failures:
            _say(f"quotecheck: {failure}")
        sys.exit(max(int(ExitStatus.USAGE), int(report.exit_status)))  # 3 stays 3
    sys.exit(int(report.exit_status))


STDOUT = "-"


def _repair_inputs(
    paths: tuple[str, ...],
    options: Any,
    fix: bool,
    unsafe: bool,
    diff: bool,
    fix_to: str | None,
    engine: str,
    ledger: tuple[Any, str | None] | None = None,
) -> tuple[Any, tuple[str, ...]]:
    """--fix, --diff and --fix-to: repair the inputs, then give the paths the check goes on with
    (the repaired copies for --fix-to). --diff prints the diff and exits here. With `ledger`
    (--history: the manifest, and the --state file or None), previous closes confirm repairs."""
    from checker.profile import ProfileError
    from checker.repair import repair_closes, repair_paths, unified_diff

    if not (fix or diff or fix_to):
        raise click.UsageError("--unsafe-fixes needs --fix, --diff or --fix-to")
    if diff and fix_to:
        raise click.UsageError("--diff and --fix-to exclude each other (--diff writes nothing)")
    if engine == "dask":
        raise click.UsageError("repairs need files checked here: not --engine dask")
    stdin = _read_stdin(options, fix_to) if STDOUT in paths else None
    mode = "diff" if diff else ("copy" if fix_to else "fix")
    closes = None
    if ledger is not None:
        state = _read_state(ledger[1]) if ledger[1] else None
        try:
            closes = repair_closes(list(paths), options, ledger[0], state, stdin)
        except ProfileError as error:
            raise click.UsageError(str(error)) from None
        except Exception as error:  # the last resort: no close known, and said so, never a traceback
            _say(f"quotecheck: warning: no previous close known: {type(error).__name__}: {error}"[:500])
    run = repair_paths(list(paths), options, unsafe, mode, fix_to, closes, stdin)
    for problem in run.problems:
        _say(f"quotecheck: {problem}")
    counts = run.counts()
    hidden = "" if unsafe or not counts["remaining_unsafe"] else " (--unsafe-fixes applies the unsafe ones)"
    verb = "would be applied" if diff else "applied"
    _say(
        f"Repairs: {counts['applied']} {verb}, {counts['rolled_back']} rolled back, {counts['remaining']} "
        f"remaining ({counts['remaining_unsafe']} unsafe, {counts['remaining_display_only']} display-only)"
        + hidden
        + (f"; previous closes: {counts['confirmed']} confirmed, {counts['refused']} refused" * bool(ledger))
    )
    if fix_to and not run.written:
        raise click.UsageError(_shown(f"--fix-to {fix_to}: no repaired copy could be written"))
    if not diff:
        if run.stdin is not None:  # standard input repaired goes to stdout, as it came (ruff's way)
            _print_repaired_stdin(run.stdin)
        return run, (tuple(run.written) if fix_to else paths)
    out = sys.stdout.buffer
    shown = False
    for result in run.files:
        label = STDOUT if result.name == STDIN_NAME else result.name
        text = unified_diff(label, result.original, result.repaired)
        shown = shown or bool(text)
        if sys.stdout.isatty():
            out.write(_escaped_bytes(text))
        elif any(_acting_line(line) for line in text.splitlines()):
            # Piped, a diff must keep the bytes for patch; one whose lines would act on a
            # terminal or a CI log is withheld instead (the repaired copy is one option away).
            _say(
                f"quotecheck: {result.name}: diff not shown, its lines hold characters that act on a "
                "terminal or a CI log; --fix-to DIR writes the repaired copy"
            )
        else:
            out.write(text)
    out.flush()
    totals = {"error": 0, "warning": 0, "info": 0}
    for result in run.files:
        for name, count in (result.report.counts if result.report is not None else {}).items():
            totals[name] = totals.get(name, 0) + count
    unreadable = any(r.report is not None and r.report.exit_status >= ExitStatus.USAGE for r in run.files)
    status = ExitStatus.USAGE if unreadable or run.problems else ExitStatus.OK
    # --diff changes nothing: while it shows a repair, or a finding at the fail level would remain
    # after the repairs, the files are not right yet.
    sys.exit(int(ExitStatus.FINDINGS if shown or options.policy.fails(totals) else status))


STDIN_NAME = "<stdin>"


def _read_stdin(options: Any, fix_to: str | None) -> bytes:
    """Standard input, read once for a repair (--fix writes it repaired to stdout, --diff its diff)."""
    if fix_to:
        raise click.UsageError(
            "--fix-to writes files under DIR: standard input (-) is repaired by --fix or --diff"
        )
    data = sys.stdin.buffer.read(options.max_decompressed_size + 1)
    if len(data) > options.max_decompressed_size:
        raise click.UsageError("standard input is larger than --max-decompressed-size: not repaired")
    return data


def _read_state(path: str) -> Any:
    """A history state read for its previous closes; one that cannot be read is a usage error."""
    from checker.history.incremental import StateError, read_state

    if not os.path.exists(path):  # (something else there, a FIFO or a folder, read_state refuses)
        raise click.UsageError(_shown(f"--state {path}: no such file (quotecheck history writes one)"))
    try:
        return read_state(path)
    except StateError as error:
        raise click.UsageError(_shown(str(error))) from None


def _print_repaired_stdin(data: bytes) -> None:
    """Standard input repaired, on stdout: on a terminal with the characters that would act shown
    escaped; piped, byte for byte, or (when a line would act on a terminal or a CI log) not at all."""
    if sys.stdout.isatty():
        sys.stdout.buffer.write(_escaped_bytes(data))
    elif any(_acting_line(line) for line in data.splitlines()):
        raise click.UsageError(
            "standard input repaired not shown: its lines hold characters that act on a terminal or a "
            "CI log; repair it as a file (--fix or --fix-to DIR)"
        )
    else:
        sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _acting_line(line: bytes) -> bool:
    """Whether a line of a diff holds a character that acts on a terminal or starts a CI command
    (a tab and the CR of a CRLF line break are kept: they only show)."""
    from checker.render.escape import has_acting

    text = line.removesuffix(b"\r").decode("utf-8", "replace").replace("\t", " ")
    return "##[" in text or has_acting(text)


def _escaped_bytes(data: bytes) -> bytes:
    """A diff for a terminal: characters in the files' lines that would act shown as escapes."""
    out = []
    for line in data.splitlines(keepends=True):
        body = line.rstrip(b"\n")
        if _acting_line(body):
            body = _shown(body.decode("utf-8", "replace")).encode("utf-8")
        out.append(body + line[len(line.rstrip(b"\n")) :])
    return b"".join(out)


def _attach_fixes(report: Report, repairs: Any, history_result: Any = None) -> None:
    """Put the repairs in the report: those applied, and those the remaining findings have;
    without a repair flag but with the history step's result, weighed against the previous
    closes it knows, as --fix would weigh them."""
    from checker.repair import attach_fixes

    closes = None
    if repairs is None and history_result is not None and report.quotes is not None:
        from checker.history.closes import closes_for_findings
        from checker.profile import load_profile

        try:
            closes = closes_for_findings(history_result, report, load_profile(report.options.profile))
        except Exception as error:  # the repairs are then listed unweighed, never a traceback
            _say(f"quotecheck: warning: repairs not weighed against previous closes ({type(error).__name__})")
    attach_fixes(report, repairs, closes)


def _same_path(first: str, second: str) -> bool:
    """Whether two paths name one file (or would, once written)."""
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _configured(ctx: click.Context, settings: dict[str, Any], param: str, key: str, value: Any) -> Any:
    """A flag given on the command line wins; otherwise the configuration file's value, then the default."""
    source = ctx.get_parameter_source(param)
    if source in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP) and key in settings:
        return settings[key]
    return value


def _build_options(ctx: click.Context, settings: dict[str, Any], **flags: Any) -> Any:
    """The run's Options from the configuration file's settings and the flags (a flag given wins)."""
    from checker.config import Options, Policy, rule_code
    from checker.read import DEFAULT_MAX_DECOMPRESSED

    def configured(param: str, key: str) -> Any:
        return _configured(ctx, settings, param, key, flags.get(param))

    overrides = {}
    try:
        for key, level in settings.get("severity", {}).items():
            overrides[rule_code(key)] = level
        for item in flags.get("severity_overrides") or ():
            rule, sep, level = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item} is not RULE=LEVEL", param_hint="--severity")
            overrides[rule_code(rule)] = level.strip()
    except ValueError as error:
        raise click.UsageError(f"--severity: {error}") from None
    as_of = configured("as_of", "as-of")
    profile = configured("profile", "profile") or "br-psx"
    try:
        policy = Policy(
            select=_split_codes(configured("select", "select") or ()),
            ignore=_split_codes(configured("ignore", "ignore") or ()),
            severity=overrides,
            fail_on=configured("fail_on", "fail-on") or "error",
            max_errors=configured("max_errors", "max-errors"),
        )
        options = Options(
            profile=profile,
            as_of=as_of,
            policy=policy,
            include_quotes=bool(flags.get("include_quotes")),
            quotes_kept=flags.get("quotes_kept") or "all",
            baseline=flags.get("baseline"),
            input_format=flags.get("input_format"),
            include=tuple(configured("include", "include") or ()),
            exclude=tuple(configured("exclude", "exclude") or ()),
            max_decompressed_size=flags.get("max_decompressed_size") or DEFAULT_MAX_DECOMPRESSED,
            respect_gitignore=_unless_none(configured("respect_gitignore", "respect-gitignore"), True),
            force_exclude=bool(configured("force_exclude", "force-exclude")),
            only_quote_files=bool(flags.get("only_quote_files")),
        )
        from checker.profile import load_profile

        load_profile(profile).circuit_breaker(as_of)
    except (ValueError, KeyError) as error:
        raise click.UsageError(str(error.args[0] if error.args else error)) from None
    return options


def _unless_none(value: Any, default: Any) -> Any:
    return default if value is None else value


def _read_baseline(path: str, recording: bool) -> Any:
    """The baseline at `path`; one that does not exist yet is empty when it is being recorded."""
    from checker.baseline import BaselineError, load_baseline

    try:
        baseline = load_baseline(path, missing_ok=recording)
    except BaselineError as error:
        message = str(error)
        if not os.path.lexists(path):
            message += (
                f"; record it first with `quotecheck baseline record PATHS --baseline {path}`, "
                "or run with --no-baseline"
            )
        raise click.UsageError(message) from None
    baseline.keep_suppressed = recording  # what it suppresses is written back to the new baseline
    return baseline


def _warn_about_baseline(report: Report, recording: bool) -> None:
    baseline = report.options.baseline
    if baseline is None or recording or not baseline.known or report.baseline_suppressed:
        return
    _say(
        f"quotecheck: warning: the baseline {baseline.path} matched none of this run's findings "
        "(is it out of date, or recorded for other files?)"
    )


def _recorded(report: Report, baseline: Any) -> Report:
    """The report a baseline records: every finding of the run, those it suppressed included,
    and the old baseline's findings of files the run did not check; file names relative to the
    baseline's folder, no quotes and no baseline of its own."""
    from dataclasses import replace

    from checker.baseline import record_frame, relative_name, untouched_findings
    from checker.findings import combine, severity_counts

    checked = [result.path for result in report.files]
    untouched = untouched_findings(baseline, checked)  # already relative to the baseline's folder
    findings = record_frame(combine([report.findings, *baseline.suppressed]), baseline.folder)
    findings = combine([findings, untouched])
    files = []
    by_file = dict(tuple(findings.groupby("file", sort=False))) if len(findings) else {}
    for result in report.files:
        name = relative_name(result.path, baseline.folder)
        rows = by_file.get(name)
        counts = severity_counts(rows) if rows is not None else {"error": 0, "warning": 0, "info": 0}
        files.append(replace(result, path=name, counts=counts))
    options = replace(report.options, baseline=None)
    return replace(
        report, options=options, files=files, findings=findings, quotes=None, baseline_suppressed=0
    )


def _save_baseline(report: Report, path: str) -> None:
    from checker.render.json import save_json

    save_json(report, path)


def _write_report(what: str, failures: list[str], save: Any, report: Report, path: str, *args: Any) -> None:
    """Write one report; a failure is kept to be told after the others are written (exit 2)."""
    from checker.render.output import ReportWriteError

    target: Any = sys.stdout if path == STDOUT else path
    sys.stdout.flush()  # what was printed comes first, should the report go to /dev/stdout
    try:
        save(report, target, *args)
    except ReportWriteError as error:
        failures.append(str(error))
        return
    if path == STDOUT:
        sys.stdout.flush()
    elif what:
        _say(f"{what}: {path}")


def _refuse_bad_report_paths(paths: list[str]) -> None:
    """A usage error, before the run, for a report path no report can be written to."""
    from checker.render.output import report_path_problem

    for path in paths:
        problem = report_path_problem(path)
        if problem is not None:
            raise click.UsageError(f"cannot write the report {path}: {problem}")


def _shown(text: object) -> str:
    """Text that may hold a file name or scraped data, safe to print (render.escape.display)."""
    from checker.render.escape import display

    return display(text)


def _say(text: object, err: bool = True) -> None:
    """Print one line of quotecheck's own that may hold a file name: escaped, never obeyed."""
    click.echo(_shown(text), err=err)


def _config_settings(config_path: str | None, no_config: bool) -> dict[str, Any]:
    """The settings of the configuration file in force (none with --no-config)."""
    from checker.config import ConfigError, find_config, load_config

    if no_config and config_path:
        raise click.UsageError("--config and --no-config exclude each other")
    if no_config:
        return {}
    try:
        path = Path(config_path) if config_path else find_config(Path.cwd())
        return load_config(path) if path else {}
    except ConfigError as error:
        raise click.UsageError(_shown(error)) from None


def _refuse_overwriting_inputs(outputs: list[str], paths: tuple[str, ...], options: Any) -> None:
    """A usage error when a report would be written over an input, named or found in a folder."""
    from checker.inputs.sources import output_over_input, output_over_walked_input

    clash = output_over_input(outputs, paths)
    if clash is not None:
        output, given = clash
        raise click.UsageError(_shown(f"refusing to write the report {output} over the input {given}"))
    walked = output_over_walked_input(
        outputs, paths, options.include, options.exclude, options.report_paths, options.respect_gitignore
    )
    if walked is not None:
        output, found, folder = walked
        raise click.UsageError(
            f"refusing to write the report {output} over the input {found} (found in {folder})"
        )


def _read_manifest(path: str) -> Any:
    """The --snapshots manifest; one that cannot be read at all is a usage error (exit 2)."""
    from checker.history.run import ManifestError, read_manifest_file

    try:
        return read_manifest_file(path)
    except ManifestError as error:
        raise click.UsageError(str(error)) from None


def _check_history(report: Report, manifest: Any) -> tuple[str, Any]:
    """Run the checks across snapshots into the report; the manifest's problems go to stderr.
    Returns the line the summary gives the sessions found, and the step's result."""
    from checker.history.run import add_history
    from checker.profile import ProfileError

    # The pages' results live to the end of the process: the collector need not walk them again
    # each time the history step makes objects (about 0.04 s over 10,000 pages).
    gc.freeze()
    try:
        result = add_history(report, manifest)
    except ProfileError as error:
        raise click.UsageError(str(error)) from None
    for problem in result.problems:
        _say(f"quotecheck: warning: {problem}")
    return f"History: {result.summary()}", result


def _write_ledgers(
    report: Report, manifest: Any, ledger_dir: str | None, export_path: str | None, failures: list[str]
) -> None:
    """--ledger and --export: the run's quotes with their times, sessions and findings. Times and
    sessions are those of the history step (run here when --history was not given)."""
    from checker.history.ledger import LedgerError, save_export, write_ledger
    from checker.history.run import run_ledger, snapshot_times
    from checker.profile import ProfileError
    from checker.render.output import ReportWriteError

    snapshots = report.snapshots
    if snapshots is None:
        try:
            snapshots = snapshot_times(report, manifest).snapshots
        except ProfileError as error:
            raise click.UsageError(str(error)) from None
    if ledger_dir:
        try:
            written = write_ledger(run_ledger(report, snapshots), ledger_dir)
        except LedgerError as error:
            failures.append(str(error))
        else:
            _say(f"Ledger: {written}")
    if export_path:
        try:
            save_export(run_ledger(report, snapshots, valid=True), export_path)
        except (OSError, ReportWriteError) as error:
            failures.append(f"cannot write the export {export_path}: {error}")
        else:
            _say(f"Export: {export_path}")


def _run_check(
    paths: list[str], options: Any, jobs: int = 1, stdin: bytes | None = None, history_next: bool = False
) -> Report:
    """Check the paths, with a progress bar on stderr when it is a terminal and the run is long;
    `stdin`, the bytes `-` stands for when standard input was read already (repaired); `history_next`:
    a history step follows (a worker, if any, builds its calendar tables)."""
    import io

    from checker.api import check_paths

    stream = io.BytesIO(stdin) if stdin is not None else sys.stdin.buffer
    beside = None
    if history_next:
        from checker.history.run import calendar_job
        from checker.parallel import Beside

        job = calendar_job(options)
        beside = None if job is None else Beside(*job)
    if not sys.stderr.isatty():  # piped or captured: never a bar, and no second walk of the folders
        return check_paths(paths, options, stdin=stream, jobs=jobs, beside=beside)
    from checker.inputs.sources import inputs_of
    from checker.render.terminal import make_console, progress_bar, wants_progress

    refs = inputs_of(paths, options)
    files = [str(ref.path) for ref in refs if ref.path is not None]
    if not wants_progress(files, stderr_is_terminal=True):
        return check_paths(paths, options, stdin=stream, jobs=jobs, beside=beside)
    with progress_bar(files, make_console(file=sys.stderr)) as checked:
        return check_paths(paths, options, on_checked=checked, stdin=stream, jobs=jobs, beside=beside)


def _check_engine_flags(
    engine: str,
    scheduler: str | None,
    output_dir: str | None,
    paths: tuple[str, ...],
    include_quotes: bool,
    junit_path: str | None,
) -> None:
    """Usage errors for --engine, --scheduler and --output-dir given together wrongly."""
    if engine != "dask":
        for flag, value in (("--scheduler", scheduler), ("--output-dir", output_dir)):
            if value:
                raise click.UsageError(f"{flag} needs --engine dask")
        return
    from checker.distributed import DaskMissing, require_dask

    try:
        require_dask()
    except DaskMissing as error:
        raise click.UsageError(str(error)) from None
    if STDOUT in paths:
        raise click.UsageError("standard input (-) cannot be checked with --engine dask")
    if output_dir is not None:
        unsupported: tuple[tuple[str, object], ...] = (
            ("--include-quotes", include_quotes),
            ("--junit", junit_path),
        )
        for option, given in unsupported:
            if given:
                raise click.UsageError(f"{option} is not yet supported with --output-dir")


def _run_dask(
    paths: list[str], options: Any, scheduler: str | None, jobs: int, output_dir: str | None
) -> Report:
    """Check the paths on a Dask cluster (the user's at `scheduler`, else a local one of `jobs` workers)."""
    from checker.distributed import check_paths_dask

    if output_dir is not None:
        try:
            Path(output_dir).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise click.UsageError(_shown(f"cannot write to --output-dir {output_dir}: {error}")) from None
    try:
        return check_paths_dask(paths, options, scheduler=scheduler, workers=jobs, output_dir=output_dir)
    except (OSError, TimeoutError) as error:
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise click.UsageError(_shown(f"cannot use {where}: {type(error).__name__}: {error}")) from None


def _run_dask_history(
    paths: list[str],
    options: Any,
    scheduler: str | None,
    jobs: int,
    manifest: Any,
    output_dir: str | None = None,
    history: bool = True,
    ledger: bool = False,
) -> tuple[Report, str | None]:
    """Check the paths and run the checks across snapshots on a Dask cluster; the manifest's
    problems go to stderr. Returns the report and the line the summary gives the sessions (with
    `history`; without it, the step only times the pages for the ledger's parts)."""
    from checker.distributed import check_history_dask
    from checker.profile import ProfileError

    if output_dir is not None:
        try:
            Path(output_dir).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise click.UsageError(_shown(f"cannot write to --output-dir {output_dir}: {error}")) from None
    try:
        report, run = check_history_dask(
            paths,
            options,
            manifest,
            scheduler=scheduler,
            workers=jobs,
            output_dir=output_dir,
            history=history,
            ledger=ledger,
        )
    except ProfileError as error:
        raise click.UsageError(str(error)) from None
    except (OSError, TimeoutError) as error:
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise click.UsageError(_shown(f"cannot use {where}: {type(error).__name__}: {error}")) from None
    if not history:
        return report, None
    for problem in run.result.problems:
        _say(f"quotecheck: warning: {problem}")
    return report, f"History: {run.result.summary()}"


def _stdout_console(stream: Any = None, plain: bool = False) -> Any:
    from checker.render.terminal import make_console

    # rich keeps bold and underline under NO_COLOR; plain means plain, so drop styles entirely.
    no_color = plain or bool(os.environ.get("NO_COLOR"))
    return make_console(file=stream or sys.stdout, color_system=None if no_color else "auto")


def _emit_findings(
    report: Report,
    output_format: str,
    quiet: bool,
    statistics: bool,
    output_file: str | None,
    findings_to: str,
    failures: list[str],
) -> None:
    """The --format output: to --output-file (plain, written whole), else stdout, or stderr when a
    report goes to stdout."""
    if output_file is None:
        stream = sys.stderr if findings_to == "stderr" else sys.stdout
        _print_findings(report, output_format, quiet, statistics, stream)
        return
    from checker.render.output import ReportWriteError, atomic_writer

    try:
        with atomic_writer(output_file) as stream:
            _print_findings(report, output_format, quiet, statistics, stream, plain=True)
    except ReportWriteError as error:
        failures.append(str(error))
        return
    _say(f"Findings: {output_file}")


def _print_findings(
    report: Report, output_format: str, quiet: bool, statistics: bool, stream: Any = None, plain: bool = False
) -> None:
    """Findings on `stream` (stdout) in the chosen format, then the summary (except for json)."""
    stream = stream or sys.stdout
    if output_format == "json":
        from checker.render.json import write_json

        write_json(report, stream)
        return
    from checker.render.terminal import render_terminal

    if output_format == "github":
        from checker.render.github import github_lines

        if not quiet and not statistics:
            for line in github_lines(report):
                click.echo(line, file=stream)
        console = _stdout_console(stream, plain)
        render_terminal(report, console, quiet=quiet, statistics=statistics, show_findings=False)
        return
    render_terminal(report, _stdout_console(stream, plain), quiet=quiet, statistics=statistics)


def _save_ci_reports(
    report: Report,
    junit_path: str | None,
    sarif_path: str | None,
    markdown_path: str | None,
    failures: list[str] | None = None,
) -> None:
    """Write the CI report files that were asked for, and the GitHub step summary when in Actions."""
    failures = [] if failures is None else failures
    if junit_path:
        from checker.render.junit import save_junit

        _write_report("JUnit report", failures, save_junit, report, junit_path)
    if sarif_path:
        from checker.render.sarif import save_sarif

        _write_report("SARIF report", failures, save_sarif, report, sarif_path, Path.cwd())
    if markdown_path:
        from checker.render.markdown import save_markdown

        _write_report("Markdown summary", failures, save_markdown, report, markdown_path)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        from checker.render.markdown import append_markdown

        try:
            append_markdown(report, step_summary)
        except OSError as error:
            click.echo(f"quotecheck: cannot append to $GITHUB_STEP_SUMMARY: {_shown(error)}", err=True)


@cli.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for people, markdown for docs (the README's table), json for tools.",
)
@click.option(
    "--readme",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Write the markdown table into this file, between its rules-table markers.",
)
def rules(output_format: str, readme: Path | None) -> None:
    """List every rule: code, name, severity and summary."""
    import json

    from checker.rules import all_rules

    if readme is not None:
        from checker.docs import with_rule_table

        text = readme.read_text(encoding="utf-8")
        try:
            updated = with_rule_table(text)
        except ValueError as error:
            raise click.UsageError(f"{readme}: {error}") from None
        if updated != text:
            readme.write_text(updated, encoding="utf-8")
        click.echo(f"{readme}: rule table {'regenerated' if updated != text else 'already up to date'}")
    elif output_format == "json":
        click.echo(json.dumps([r.as_dict() for r in all_rules()], indent=2, ensure_ascii=False))
    elif output_format == "markdown":
        click.echo(rules_markdown())
    else:
        for rule in all_rules():
            click.echo(f"{rule.code}  {rule.name:<28} {rule.severity.label:<8} {rule.summary}")


def rules_markdown() -> str:
    """The rule catalogue as a Markdown table (the README's rule table; see checker.docs)."""
    from checker.docs import rules_markdown as table

    return table()


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--snapshots", "snapshots_path", type=click.Path(dir_okay=False), metavar="FILE.csv",
              help="Capture times of the pages (columns file,captured_at).")  # fmt: skip
@click.option("--profile", default="br-psx", show_default=True, help="Feed profile name or JSON file.")
def timeline(paths: tuple[str, ...], snapshots_path: str | None, profile: str) -> None:
    """Print the sessions of PATHS in order: each page's capture time, its source and its session,
    found from time stamps or, where pages carry none, from their figures."""
    from checker.config import Options

    manifest = _read_manifest(snapshots_path) if snapshots_path else None
    report = _run_check(list(paths), Options(profile=profile, include_quotes=True))
    from checker.history.run import ManifestError

    try:
        from checker.history.run import add_history

        result = add_history(report, manifest)
    except (ManifestError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    for problem in result.problems:
        _say(f"quotecheck: warning: {problem}")
    snapshots = result.snapshots
    times = dict(zip(snapshots["file"].tolist(), snapshots["captured_at"].tolist(), strict=True))
    sources = dict(zip(snapshots["file"].tolist(), snapshots["time_source"].tolist(), strict=True))
    sessions = result.sessions
    for position, session, source, files in zip(
        sessions["position"].tolist(),
        sessions["session"].tolist(),
        sessions["source"].tolist(),
        sessions["files"].tolist(),
        strict=True,
    ):
        place = "unordered" if position is None or position != position else f"{int(position) + 1}."
        _say(f"{place} session {session} ({'time stamps' if source == 'stamp' else 'figures'})", err=False)
        for name in files:
            _say(f"    {name}  {times.get(name) or 'no time'} ({sources.get(name)})", err=False)
    loose = result.snapshots[result.snapshots["session"].isna()]
    for name in loose["file"]:
        _say(f"no session: {name}", err=False)
    _say(f"History: {result.summary()}", err=False)
    for entry in report.files:
        if entry.status != "checked":
            _say(f"quotecheck: {entry.message or entry.path}")
    if any(entry.status != "checked" for entry in report.files):
        sys.exit(int(report.exit_status))


@cli.command(name="history")
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Incremental: compare with the last session that passed, and move it on (JSON).",
)
@click.option("--profile", default="br-psx", show_default=True, help="Feed profile name or JSON file.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github", "json"]),
    help="Findings on stdout: text (default), github or json (the JSON report).",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the JSON report here.")
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False),
    help="Findings in this baseline are suppressed (and do not hold the state back).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="error",
    show_default=True,
    help="Lowest severity that makes the run fail (exit 1).",
)
@click.option("--select", multiple=True, help="Run only these rules (codes, names or prefixes).")
@click.option("--ignore", multiple=True, help="Skip these rules (codes, names or prefixes).")
@click.option(
    "--severity",
    "severity_overrides",
    multiple=True,
    metavar="RULE=LEVEL",
    help="Override a rule's severity.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print no finding lines, only the summary.")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: this process; dask: the ledger parts read and compared on a Dask cluster "
    '(pip install "quotecheck[dask]").',
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the scheduler of your cluster (tcp://HOST:PORT); default: a local cluster.",
)
def history_command(
    ledgers: tuple[str, ...],
    state_path: str | None,
    profile: str,
    output_format: str | None,
    json_path: str | None,
    baseline_path: str | None,
    fail_on: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    severity_overrides: tuple[str, ...],
    quiet: bool,
    engine: str,
    scheduler: str | None,
) -> None:
    """Run the checks across snapshots over quote ledgers (written by `check --ledger DIR`).

    A folder stands for its ledger-*.parquet files (and the part-NNNNN.parquet files of
    `check --engine dask --output-dir`). With --state, the first session is compared
    with the state's, and the state moves past the sessions that drew no history error.
    """
    from checker.history.incremental import StateError, history_of_ledger_files, read_state, write_state
    from checker.history.ledger import LEDGER_NAME, LedgerError

    options = _build_options(
        click.get_current_context(),
        {},
        select=select,
        ignore=ignore,
        severity_overrides=severity_overrides,
        fail_on=fail_on,
        profile=profile,
        baseline=_read_baseline(baseline_path, False) if baseline_path else None,
    )
    files: list[str] = []
    for path in ledgers:
        if os.path.isdir(path):
            found = [name for name in os.listdir(path) if LEDGER_NAME.match(name)]
            found.sort(key=lambda name: int(LEDGER_NAME.match(name).group(1)))  # type: ignore[union-attr]
            # the parts an --engine dask --output-dir run writes, in batch order
            parted = sorted(
                n for n in os.listdir(path) if n[:5] == "part-" and n[5:-8].isdigit() and n[-8:] == ".parquet"
            )
            files += [os.path.join(path, name) for name in (*found, *parted)]
        else:
            files.append(path)
    if engine == "dask":
        run = _ledger_history_dask(files, options, state_path, scheduler)
    elif scheduler:
        raise click.UsageError("--scheduler needs --engine dask")
    else:
        try:
            state = read_state(state_path) if state_path else None
            run = history_of_ledger_files(files, options, state)
        except (LedgerError, StateError) as error:
            raise click.UsageError(str(error)) from None
    report = run.report
    failures: list[str] = []
    if output_format is None:
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    findings_to = "stdout"
    _emit_findings(report, output_format, quiet, False, None, findings_to, failures)
    _say(f"History: {run.result.summary()}", err=output_format != "text")
    if json_path:
        from checker.render.json import save_json

        _write_report("JSON report", failures, save_json, report, json_path)
    if state_path:
        try:
            write_state(run.state, state_path)
        except StateError as error:
            failures.append(str(error))
        else:
            _say(f"State: {state_path} (session {run.state.session or 'none'})")
    if failures:
        for failure in failures:
            _say(f"quotecheck: {failure}")
        sys.exit(max(int(ExitStatus.USAGE), int(report.exit_status)))
    sys.exit(int(report.exit_status))


def _ledger_history_dask(
    files: list[str], options: Any, state_path: str | None, scheduler: str | None
) -> Any:
    """`quotecheck history --engine dask`: the ledger parts on a Dask cluster (usage errors as with
    --engine local, and for a cluster that cannot be used)."""
    from checker.distributed import DaskMissing, ledger_history_dask, require_dask
    from checker.history.incremental import StateError, read_state
    from checker.history.ledger import LedgerError
    from checker.profile import ProfileError

    try:
        require_dask()
        state = read_state(state_path) if state_path else None
        if not files:
            raise LedgerError("no ledger named")
        return ledger_history_dask(files, options, state, scheduler=scheduler, workers=os.cpu_count() or 1)
    except (DaskMissing, LedgerError, StateError, ProfileError) as error:
        raise click.UsageError(str(error)) from None
    except (OSError, TimeoutError) as error:
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise click.UsageError(_shown(f"cannot use {where}: {type(error).__name__}: {error}")) from None


@cli.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print a rule's documentation, with a passing and a failing example."""
    from checker.rules import get_rule

    try:
        rule = get_rule(code)
    except KeyError:
        from checker.config import unknown_rule_message

        raise click.UsageError(unknown_rule_message(code)) from None
    click.echo(f"{rule.code} {rule.name} ({rule.family}, default severity {rule.severity.label})\n")
    click.echo(f"{rule.summary}\n\n{rule.description}\n")
    from checker.render.escape import visible

    # An example may hold the very bytes its rule is about (QC901's NULs): shown as escapes.
    click.echo(f"Passes:\n    {visible(rule.passing)}\nFails:\n    {visible(rule.failing)}")


@cli.group()
def baseline() -> None:
    """Record, update or prune a baseline: the known findings `check --baseline` does not count.

    \b
    record  write every current finding to the baseline (a new one, or over the old)
    update  the same, and say which findings are new and which are gone
    prune   drop the entries that no longer occur; never add one (the baseline only shrinks)

    The baseline is --baseline FILE, else the configuration's `baseline`. Its file names are
    relative to its own folder, so `check --baseline` matches from any folder.
    """


def _baseline_options(command: Any) -> Any:
    options = [
        click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str)),
        click.option(
            "--baseline",
            "baseline_path",
            type=click.Path(),
            help="The baseline file (default: the configuration's `baseline`).",
        ),
        click.option("--config", "config_path", type=click.Path(), help="Settings file."),
        click.option("--no-config", is_flag=True, help="Read no configuration file."),
        click.option(
            "--profile", default="br-psx", show_default=True, help="Feed profile name or JSON file."
        ),
        click.option("--as-of", callback=_parse_date, help="Date of the snapshot (circuit breaker)."),
        click.option(
            "--input-format",
            type=click.Choice(FORMATS),
            help="Read every input in this format.",
        ),
        click.option("--include", multiple=True, metavar="GLOB", help="In directories, check only these."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="In directories, skip these."),
        click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N", help="Processes."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _baseline_run(mode: str, flags: dict[str, Any]) -> None:
    """record, update or prune: check the paths and write the baseline."""
    from dataclasses import replace

    from checker.baseline import Baseline, BaselineError, load_baseline
    from checker.findings import empty_findings

    ctx = click.get_current_context()
    settings = _config_settings(flags["config_path"], flags["no_config"])
    path = flags["baseline_path"] or settings.get("baseline")
    if not path:
        raise click.UsageError(
            "no baseline file: give --baseline FILE, or set `baseline` in the configuration"
        )
    if mode == "record":
        old = Baseline(path=path, folder=os.path.dirname(os.path.abspath(path)), exists=False)
    else:
        try:
            old = load_baseline(path)
        except BaselineError as error:
            hint = "; record it first with `quotecheck baseline record`" if not os.path.lexists(path) else ""
            raise click.UsageError(f"{error}{hint}") from None
        old.keep_suppressed = True
    options = _build_options(
        ctx,
        settings,
        profile=flags["profile"],
        as_of=flags["as_of"],
        include=flags["include"],
        exclude=flags["exclude"],
        input_format=flags["input_format"],
        baseline=old if mode != "record" else None,
    )
    # The baseline, a quotecheck report, is passed over by a walk; so is the default report folder.
    options.report_paths = (DEFAULT_REPORT_DIR,)
    _refuse_overwriting_inputs([path], flags["paths"], options)
    _refuse_bad_report_paths([path])
    report = _run_check(list(flags["paths"]), options, flags["jobs"] or os.cpu_count() or 1)
    report.quotes = None
    new = 0 if mode == "prune" else len(report.findings)
    if mode == "prune":
        report = replace(report, findings=empty_findings())
    recorded = _recorded(report, old)
    failures: list[str] = []
    _write_report("", failures, _save_baseline, recorded, path)
    if failures:
        _say(f"quotecheck: {failures[0]}")
        sys.exit(int(ExitStatus.USAGE))
    total = len(recorded.findings)
    noun = "finding" if total == 1 else "findings"
    gone = old.size - (total - new)
    if mode == "record":
        _say(f"baseline {path}: {total} {noun} recorded", err=False)
    elif mode == "update":
        _say(
            f"baseline {path}: {total} {noun} recorded ({new} new, {gone} no longer found, dropped)",
            err=False,
        )
    else:
        _say(f"baseline {path}: {total} {noun} kept, {gone} no longer found (dropped)", err=False)
    status = report.exit_status
    sys.exit(int(status) if status in (ExitStatus.USAGE, ExitStatus.INTERNAL) else int(ExitStatus.OK))


@baseline.command("record")
@_baseline_options
def baseline_record(**flags: Any) -> None:
    """Check PATHS and write every finding to the baseline (created, or replaced)."""
    _baseline_run("record", flags)


@baseline.command("update")
@_baseline_options
def baseline_update(**flags: Any) -> None:
    """Check PATHS and rewrite the existing baseline with every current finding."""
    _baseline_run("update", flags)


@baseline.command("prune")
@_baseline_options
def baseline_prune(**flags: Any) -> None:
    """Check PATHS and drop the baseline's entries that no longer occur, adding none."""
    _baseline_run("prune", flags)


class Interrupted(BaseException):
    """SIGINT or SIGTERM: the run stops; a report being written is dropped, not left half-written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def _install_signal_handlers() -> None:
    """SIGINT and SIGTERM raise Interrupted, which click does not catch, so they unwind like an error."""
    for name in ("SIGINT", "SIGTERM"):
        number = getattr(signal, name, None)
        if number is not None:
            with contextlib.suppress(ValueError, OSError):  # not the main thread: keep the defaults
                signal.signal(number, _on_signal)


def main() -> None:
    """Entry point of the `quotecheck` console script."""
    _install_signal_handlers()
    try:
        cli.main(standalone_mode=True)
    except SystemExit:
        # The process ends here: the collector's last pass over everything the run made (about
        # 0.1 s after 10,000 pages) is spared; memory goes back to the system with the process.
        gc.freeze()
        raise
    except Interrupted as interrupted:
        # Ignore a second signal while leaving: the report writers have cleaned up already.
        for name in ("SIGINT", "SIGTERM"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_IGN)
        what = "interrupted" if interrupted.signum == signal.SIGINT else "terminated"
        click.echo(f"\nquotecheck: {what}; no report was left half-written", err=True)
        sys.exit(128 + interrupted.signum)
    except Exception as error:  # the promise: never a bare traceback
        click.echo(f"quotecheck: internal error: {type(error).__name__}: {_shown(error)}", err=True)
        sys.exit(int(ExitStatus.INTERNAL))
