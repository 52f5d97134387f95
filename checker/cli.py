"""The command line: a thin layer over checker.api. Only this module touches argv and streams."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from checker import __version__
from checker.exitcodes import ExitStatus

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="quotecheck")
def cli() -> None:
    """Check market quotes scraped from news pages: parse, validate, report."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the JSON report here.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    help="Write the HTML report here (default: report.html in the report folder).",
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
    type=click.Path(dir_okay=False),
    help="A JSON report of known findings: those are not counted again.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Read settings from this file instead of the nearest quotecheck.toml or pyproject.toml.",
)
@click.option("--no-config", is_flag=True, help="Read no configuration file.")
@click.option(
    "--input-format",
    type=click.Choice(["text", "html", "csv", "tsv", "json", "jsonl"]),
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
    quiet: bool,
    statistics: bool,
    junit_path: str | None,
    sarif_path: str | None,
    markdown_path: str | None,
    baseline_path: str | None,
    config_path: str | None,
    no_config: bool,
    input_format: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    max_decompressed_size: int,
    jobs: int | None,
) -> None:
    """Check PATHS (files, directories, or - for stdin) and write reports.

    Settings come from `--config FILE`, else the nearest quotecheck.toml or pyproject.toml
    [tool.quotecheck] at or above the current folder; flags given on the command line win.
    """
    from checker.config import Options, Policy
    from checker.render.json import save_json

    ctx = click.get_current_context()
    settings = _config_settings(config_path, no_config)
    if html_path is None and not no_report:
        html_path = str(Path(report_dir) / "report.html")

    def configured(param: str, key: str, value: Any) -> Any:
        # A flag given on the command line wins; otherwise the file's value, then the default.
        source = ctx.get_parameter_source(param)
        if source in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP) and key in settings:
            return settings[key]
        return value

    fail_on = configured("fail_on", "fail-on", fail_on)
    max_errors = configured("max_errors", "max-errors", max_errors)
    select = configured("select", "select", select)
    ignore = configured("ignore", "ignore", ignore)
    as_of = configured("as_of", "as-of", as_of)
    profile = configured("profile", "profile", profile)
    baseline_path = configured("baseline_path", "baseline", baseline_path)
    include = configured("include", "include", include)
    exclude = configured("exclude", "exclude", exclude)
    overrides = {}
    for key, level in settings.get("severity", {}).items():
        overrides[_rule_code(key)] = level
    for item in severity_overrides:
        rule, sep, level = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not RULE=LEVEL", param_hint="--severity")
        overrides[_rule_code(rule)] = level.strip()
    baseline = None
    if baseline_path:
        from checker.baseline import BaselineError, load_baseline

        try:
            baseline = load_baseline(baseline_path)
        except BaselineError as error:
            raise click.UsageError(str(error)) from None
    try:
        policy = Policy(
            select=_split_codes(select),
            ignore=_split_codes(ignore),
            severity=overrides,
            fail_on=fail_on,
            max_errors=max_errors,
        )
        options = Options(
            profile=profile,
            as_of=as_of,
            policy=policy,
            include_quotes=include_quotes or bool(html_path),
            baseline=baseline,
            input_format=input_format,
            include=include,
            exclude=exclude,
            max_decompressed_size=max_decompressed_size,
        )
        from checker.profile import load_profile

        load_profile(profile).circuit_breaker(as_of)
    except (ValueError, KeyError) as error:
        raise click.UsageError(str(error)) from None
    if json_path is None and not no_report:
        json_path = str(Path(report_dir) / "report.json")
    outputs = [p for p in (json_path, html_path, junit_path, sarif_path, markdown_path) if p]
    _refuse_overwriting_inputs(outputs, paths)
    # A folder walk passes over the reports this run writes, and the report folder itself.
    options.report_paths = (*outputs, *(() if no_report else (report_dir,)))
    report = _run_check(list(paths), options, jobs or os.cpu_count() or 1)
    # The HTML report's quotes table needs the quotes; the JSON report carries them only on request.
    html_quotes = report.quotes
    if not include_quotes:
        report.quotes = None
    if output_format is None:
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    _print_findings(report, output_format, quiet, statistics)
    _save_ci_reports(report, junit_path, sarif_path, markdown_path)
    if json_path:
        save_json(report, json_path)
        click.echo(f"JSON report: {json_path}", err=True)
    if html_path:
        from dataclasses import replace

        from checker.render.html import save_html

        save_html(replace(report, quotes=html_quotes), html_path)
        click.echo(f"HTML report: {html_path}", err=True)
    sys.exit(int(report.exit_status))


def _config_settings(config_path: str | None, no_config: bool) -> dict[str, Any]:
    """The settings of the configuration file in force (none with --no-config)."""
    from checker.config import ConfigError, find_config, load_config

    if no_config and config_path:
        raise click.UsageError("--config and --no-config exclude each other")
    if no_config:
        return {}
    try:
        path = Path(config_path) if config_path else find_config(Path.cwd())
        if config_path and not path.is_file():
            raise ConfigError(f"{config_path}: no such configuration file")
        return load_config(path) if path else {}
    except ConfigError as error:
        raise click.UsageError(str(error)) from None


def _rule_code(key: str) -> str:
    from checker.rules import get_rule

    try:
        return get_rule(key).code
    except KeyError as error:
        raise click.UsageError(f"--severity: {error.args[0]} (see `quotecheck rules`)") from None


def _refuse_overwriting_inputs(outputs: list[str], paths: tuple[str, ...]) -> None:
    """A usage error when a report would be written over one of the inputs named on the command line."""
    from checker.inputs.sources import output_over_input

    clash = output_over_input(outputs, paths)
    if clash is not None:
        output, given = clash
        raise click.UsageError(f"refusing to write the report {output} over the input {given}")


def _run_check(paths: list[str], options: Any, jobs: int = 1) -> Report:
    """Check the paths, with a progress bar on stderr when it is a terminal and the run is long."""
    from checker.api import check_paths

    if not sys.stderr.isatty():  # piped or captured: never a bar, and no second walk of the folders
        return check_paths(paths, options, stdin=sys.stdin.buffer, jobs=jobs)
    from checker.inputs.sources import expand_paths
    from checker.render.terminal import make_console, progress_bar, wants_progress

    refs = expand_paths(paths, options.include, options.exclude, options.report_paths)
    files = [str(ref.path) for ref in refs if ref.path is not None]
    if not wants_progress(files, stderr_is_terminal=True):
        return check_paths(paths, options, stdin=sys.stdin.buffer, jobs=jobs)
    with progress_bar(files, make_console(file=sys.stderr)) as checked:
        return check_paths(paths, options, on_checked=checked, stdin=sys.stdin.buffer, jobs=jobs)


def _stdout_console() -> Any:
    from checker.render.terminal import make_console

    # rich keeps bold and underline under NO_COLOR; plain means plain, so drop styles entirely.
    no_color = bool(os.environ.get("NO_COLOR"))
    return make_console(file=sys.stdout, color_system=None if no_color else "auto")


def _print_findings(report: Report, output_format: str, quiet: bool, statistics: bool) -> None:
    """Findings on stdout in the chosen format, then the summary (except for json)."""
    if output_format == "json":
        from checker.render.json import write_json

        write_json(report, sys.stdout)
        return
    from checker.render.terminal import render_terminal

    if output_format == "github":
        from checker.render.github import github_lines

        if not quiet and not statistics:
            for line in github_lines(report):
                click.echo(line)
        render_terminal(report, _stdout_console(), quiet=quiet, statistics=statistics, show_findings=False)
        return
    render_terminal(report, _stdout_console(), quiet=quiet, statistics=statistics)


def _save_ci_reports(
    report: Report, junit_path: str | None, sarif_path: str | None, markdown_path: str | None
) -> None:
    """Write the CI report files that were asked for, and the GitHub step summary when in Actions."""
    if junit_path:
        from checker.render.junit import save_junit

        save_junit(report, junit_path)
        click.echo(f"JUnit report: {junit_path}", err=True)
    if sarif_path:
        from checker.render.sarif import save_sarif

        save_sarif(report, sarif_path, base=Path.cwd())
        click.echo(f"SARIF report: {sarif_path}", err=True)
    if markdown_path:
        from checker.render.markdown import save_markdown

        save_markdown(report, markdown_path)
        click.echo(f"Markdown summary: {markdown_path}", err=True)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        from checker.render.markdown import append_markdown

        try:
            append_markdown(report, step_summary)
        except OSError as error:
            click.echo(f"quotecheck: cannot append to $GITHUB_STEP_SUMMARY: {error}", err=True)


@cli.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for people, markdown for docs (the README's table), json for tools.",
)
def rules(output_format: str) -> None:
    """List every rule: code, name, severity and summary."""
    import json

    from checker.rules import all_rules

    if output_format == "json":
        click.echo(json.dumps([r.as_dict() for r in all_rules()], indent=2, ensure_ascii=False))
    elif output_format == "markdown":
        click.echo(rules_markdown())
    else:
        for rule in all_rules():
            click.echo(f"{rule.code}  {rule.name:<28} {rule.severity.label:<8} {rule.summary}")


def rules_markdown() -> str:
    """The rule catalogue as a Markdown table (the README's rule table is this, verbatim)."""
    from checker.rules import all_rules

    rows = ["| code | name | family | severity | summary |", "|---|---|---|---|---|"]
    for rule in all_rules():
        summary = rule.summary.replace("|", "\\|")
        rows.append(f"| {rule.code} | `{rule.name}` | {rule.family} | {rule.severity.label} | {summary} |")
    return "\n".join(rows)


@cli.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print a rule's documentation, with a passing and a failing example."""
    from checker.rules import get_rule

    try:
        rule = get_rule(code)
    except KeyError as error:
        raise click.UsageError(str(error.args[0])) from None
    click.echo(f"{rule.code} {rule.name} ({rule.family}, default severity {rule.severity.label})\n")
    click.echo(f"{rule.summary}\n\n{rule.description}\n")
    click.echo(f"Passes:\n    {rule.passing}\nFails:\n    {rule.failing}")


def main() -> None:
    """Entry point of the `quotecheck` console script."""
    try:
        cli.main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as error:  # the promise: never a bare traceback
        click.echo(f"quotecheck: internal error: {type(error).__name__}: {error}", err=True)
        sys.exit(int(ExitStatus.INTERNAL))
