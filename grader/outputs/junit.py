"""Every submission as a JUnit XML test suite of its checks, for CI dashboards."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from grader.grading.results import SubmissionResult
from grader.outputs.files import atomic_write_text, escape_matches
from grader.outputs.wording import (
    NOT_CHECKED,
    check_text,
    first_line,
    format_points,
    headline,
    is_not_judged,
    not_graded_text,
)

__all__ = ["junit_xml", "write_junit"]

# XML 1.0 allows tab, newline, carriage return and the characters from U+0020 on, except the
# surrogates and U+FFFE/U+FFFF. Students print the rest too (ANSI colours, \x00, \x08).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids written as a visible escape (``\\x1b``)."""
    return escape_matches(_NOT_XML, text)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: _xml_safe(v) for k, v in attrib.items()})
    if text:
        node.text = _xml_safe(text)
    return node


def _properties(parent: ET.Element, **values: str) -> None:
    properties = _element(parent, "properties")
    for name, value in values.items():
        _element(properties, "property", name=name, value=value)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _suite(root: ET.Element, result: SubmissionResult) -> tuple[int, int, int, int]:
    """Add one submission's <testsuite>; return its (tests, failures, errors, skipped)."""
    suite = _element(root, "testsuite", name=result.id, time=_seconds(result.duration))
    if result.graded_at:
        suite.set("timestamp", result.graded_at)
    _properties(
        suite,
        submission=result.submission,
        status=result.status,
        score=format_points(result.score),
        max_score=format_points(result.max_score),
        seed=str(result.seed),
    )
    failures = errors = skipped = 0
    if result.status != "graded":
        # One errored case, so CI shows the submission as broken rather than as empty.
        case = _element(
            suite, "testcase", name="grade notebook", classname=result.id, time=_seconds(0)
        )
        _properties(case, points="0", max_points=format_points(result.max_score))
        kind = "ungradable" if result.status == "ungradable" else "nngrade_error"
        output = not_graded_text(result)
        _element(case, "error", output, message=first_line(output), type=kind)
        tests, errors = 1, 1
    else:
        for check in result.checks:
            case = _element(
                suite,
                "testcase",
                name=check.name,
                classname=result.id,
                time=_seconds(check.duration),
            )
            hidden = {"hidden": "true"} if check.hidden else {}
            _properties(
                case,
                points=format_points(check.points),
                max_points=format_points(check.max_points),
                **hidden,
            )
            if check.outcome == "error":
                errors += 1
                _element(case, "error", check_text(check), message=NOT_CHECKED, type="check_error")
            elif is_not_judged(check):
                # Not a failure of the student's code here: another check failed it already.
                skipped += 1
                message = headline(check.message) or "not judged"
                _element(case, "skipped", check.message, message=message)
            elif not check.passed:
                failures += 1
                message = headline(check.message) or "failed"
                _element(case, "failure", check.message, message=message, type="failed")
        tests = len(result.checks)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    return tests, failures, errors, skipped


def junit_xml(results: Sequence[SubmissionResult]) -> str:
    """Every submission as a JUnit <testsuite> of its checks, for CI dashboards."""
    root = ET.Element("testsuites", name="nngrade")
    totals = [0, 0, 0, 0]
    for result in results:
        for i, n in enumerate(_suite(root, result)):
            totals[i] += n
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("skipped", str(totals[3]))
    root.set("time", _seconds(sum(r.duration for r in results)))
    ET.indent(root)
    # The declaration by hand: ElementTree's would name the locale's encoding, not the file's.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(results: Sequence[SubmissionResult], path: Path) -> Path:
    """Write :func:`junit_xml` to ``path`` atomically and return it."""
    atomic_write_text(path, junit_xml(results))
    return path
