"""The command line: a thin layer over checker.api. Only this module touches argv and streams."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from checker import __version__
from checker.exitcodes import ExitStatus

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
def check(
    paths: tuple[str, ...],
    json_path: str | None,
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
) -> None:
    """Check PATHS (files, or - for stdin) and write reports."""
    from checker.api import check_paths
    from checker.config import Options, Policy
    from checker.render.json import save_json
    from checker.render.text import finding_lines, summary_line

    overrides = {}
    for item in severity_overrides:
        rule, sep, level = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not RULE=LEVEL", param_hint="--severity")
        overrides[rule.strip()] = level.strip()
    try:
        policy = Policy(
            select=_split_codes(select),
            ignore=_split_codes(ignore),
            severity=overrides,
            fail_on=fail_on,
            max_errors=max_errors,
        )
        options = Options(profile=profile, as_of=as_of, policy=policy, include_quotes=include_quotes)
        from checker.profile import load_profile

        load_profile(profile).circuit_breaker(as_of)
    except (ValueError, KeyError) as error:
        raise click.UsageError(str(error)) from None
    report = check_paths(paths, options)
    for line in finding_lines(report):
        click.echo(line)
    click.echo(summary_line(report))
    if json_path is None and not no_report:
        json_path = str(Path(report_dir) / "report.json")
    if json_path:
        save_json(report, json_path)
        click.echo(f"JSON report: {json_path}", err=True)
    sys.exit(int(report.exit_status))


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
