"""JUnit XML: one test suite per input file, one test case per rule that ran on it.

A test case fails when its rule found something at or above the run's fail level (`--fail-on`);
its <failure> carries every finding of that rule in that file, one `path:line:col: ...` line each.
Findings below the fail level are kept in the case's <system-out>, so nothing is dropped.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from checker.findings import Severity, column_lists
from checker.render.escape import display
from checker.render.output import atomic_writer
from checker.render.text import location
from checker.report import TOOL_NAME, Report

# The two non-characters XML 1.0 forbids beyond those render.escape.display already escapes
# (the C0 controls and the surrogates).
_NOT_XML = re.compile("[\ufffe\uffff]")


def xml_text(text: object) -> str:
    """Untrusted text safe to show (render.escape.display) and made of characters XML 1.0 allows."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", display(text))


def _fails(severity: str, fail_on: str) -> bool:
    if fail_on == "never":
        return False
    return Severity.parse(severity) >= Severity.parse(fail_on)


def junit_tree(report: Report) -> ET.ElementTree:
    """The JUnit document for a report."""
    frame = report.findings
    by_case: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    if len(frame):
        columns = column_lists(frame, ("file", "line", "column", "rule", "severity", "message"))
        for file, line, column, rule, severity, message in zip(*columns, strict=True):
            text = xml_text(f"{location(file, line, column)}: {rule} [{severity}] {display(message)}")
            by_case[(str(file), str(rule))].append((str(severity), text))
    fail_on = report.options.policy.fail_on
    rules = list(report.rules)
    known = {rule.code for rule in rules}
    files = [result.path for result in report.files]
    root = ET.Element("testsuites", name=TOOL_NAME)
    total_tests = total_failures = 0
    for path in files:
        suite = ET.SubElement(root, "testsuite", name=xml_text(path))
        codes = [rule.code for rule in rules]
        # A finding of a rule outside the run's rule list (never expected) still gets its case.
        codes += sorted({code for (file, code) in by_case if file == path and code not in known})
        names = {rule.code: rule.name for rule in rules}
        tests = failures = 0
        for code in codes:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=xml_text(path),
                name=f"{code} {names.get(code, '')}".strip(),
            )
            tests += 1
            found = by_case.get((path, code), [])
            failing = [text for severity, text in found if _fails(severity, fail_on)]
            passing = [text for severity, text in found if not _fails(severity, fail_on)]
            if failing:
                failures += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    type=code,
                    message=f"{len(failing)} finding{'s' if len(failing) != 1 else ''} of {code}",
                )
                failure.text = "\n".join(failing)
            if passing:
                ET.SubElement(case, "system-out").text = "\n".join(passing)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total_tests += tests
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    return ET.ElementTree(root)


def save_junit(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the JUnit XML report to `path` atomically."""
    tree = junit_tree(report)
    ET.indent(tree)
    with atomic_writer(path) as stream:
        tree.write(stream, encoding="unicode", xml_declaration=True)
        stream.write("\n")
