"""Results in formats other tools read: Gradescope's results.json and JUnit XML for CI."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.grading.results import CheckResult, SubmissionResult
from grader.outputs.report import (
    CELL_KIND_WORDS,
    atomic_write_text,
    first_line,
    format_points,
    headline,
)

__all__ = [
    "gradescope_result",
    "json_text",
    "junit_xml",
    "write_gradescope",
    "write_junit",
]

# Said wherever a check crashed on the grader's side, so it is never read as the student's fault.
NOT_CHECKED = "This check could not be checked (a problem in the grader, not your code)."

# Gradescope's "hidden" hides a test from students for good, and the specification adds that
# students then cannot see their total score either. nngrade's hidden checks are only kept out
# of self-checks: they count in the grade and the student's own report shows them. So they are
# "after_published": shown once the instructor publishes the grades.
HIDDEN_VISIBILITY = "after_published"


def _not_graded_output(result: SubmissionResult) -> str:
    reason = result.reason.strip() or "no reason given"
    if result.status == "ungradable":
        return (
            f"This notebook could not be graded: {reason}\n"
            "Open it in Jupyter, save it, and hand it in again."
        )
    return (
        f"nngrade itself failed while grading this notebook: {reason}\n"
        "This is a problem in the grader, not in your work: tell the course staff so they can\n"
        "grade it again; you do not need to hand it in again."
    )


def _check_output(check: CheckResult) -> str:
    if check.outcome == "error":
        return f"{NOT_CHECKED}\n\nDetails for the course staff:\n{check.message}".rstrip()
    return "" if check.passed else check.message


def _overall_output(result: SubmissionResult) -> str:
    # No total and no count of failed checks: both would give hidden checks away before the
    # grades are published. The tests list says the rest.
    if not result.cells:
        return "Every cell of the notebook ran without problems."
    lines = ["Cells of your notebook that did not simply run:"]
    for event in result.cells:
        summary = event.summary or CELL_KIND_WORDS.get(event.kind, event.kind)
        lines.append(f"Cell {event.cell}: {first_line(summary)}")
    return "\n".join(lines)


def _gradescope_test(check: CheckResult) -> dict[str, Any]:
    status = "passed" if check.passed else "failed"
    return {
        "name": check.description or check.name,
        "score": check.points,
        "max_score": check.max_points,
        "status": status,
        "output": _check_output(check),
        "visibility": HIDDEN_VISIBILITY if check.hidden else "visible",
        "extra_data": {
            "check": check.name,
            "outcome": "error" if check.outcome == "error" else status,
        },
    }


def gradescope_result(result: SubmissionResult) -> dict[str, Any]:
    """One submission as Gradescope's autograder results.json (its documented fields only).

    Not graded (ungradable, or nngrade failed): score 0, no tests, and the output says why.
    """
    graded = result.status == "graded"
    return {
        "score": result.score if graded else 0.0,
        "output": _overall_output(result) if graded else _not_graded_output(result),
        # Shown as is: student text such as "<script>" must never be read as HTML or Markdown.
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "execution_time": round(result.duration),
        "tests": [_gradescope_test(check) for check in result.checks] if graded else [],
        "extra_data": {
            "id": result.id,
            "submission": result.submission,
            "status": result.status,
            "seed": result.seed,
            "nngrade_version": result.nngrade_version,
        },
    }


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    """A character as the escape Python and JSON both write for it: ``\\x1b``, ``\\ud800``."""
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def write_gradescope(results: Sequence[SubmissionResult], out_dir: Path) -> Path:
    """Write ``out_dir/gradescope/<id>.json`` for each submission; return that folder."""
    folder = out_dir / "gradescope"
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:
        atomic_write_text(folder / f"{result.id}.json", json_text(gradescope_result(result)))
    return folder


def json_text(data: dict[str, Any]) -> str:
    """``data`` as indented JSON text that can be written as UTF-8 whatever a student
    printed (results.json for Gradescope, ``nngrade check --json``)."""
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    # A lone surrogate (from a student's odd output) cannot be written as UTF-8; inside a
    # JSON string its \u escape stands for the same value.
    return _SURROGATE.sub(_escape_char, text)


# XML 1.0 allows tab, newline, carriage return and the characters from U+0020 on, except the
# surrogates and U+FFFE/U+FFFF. Students print the rest too (ANSI colours, \x00, \x08).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids written as a visible escape (``\\x1b``)."""
    return _NOT_XML.sub(_escape_char, text)


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


def _suite(root: ET.Element, result: SubmissionResult) -> tuple[int, int, int]:
    """Add one submission's <testsuite>; return its (tests, failures, errors)."""
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
    failures = errors = 0
    if result.status != "graded":
        # One errored case, so CI shows the submission as broken rather than as empty.
        case = _element(
            suite, "testcase", name="grade notebook", classname=result.id, time=_seconds(0)
        )
        _properties(case, points="0", max_points=format_points(result.max_score))
        kind = "ungradable" if result.status == "ungradable" else "nngrade_error"
        output = _not_graded_output(result)
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
                _element(
                    case, "error", _check_output(check), message=NOT_CHECKED, type="check_error"
                )
            elif not check.passed:
                failures += 1
                message = headline(check.message) or "failed"
                _element(case, "failure", check.message, message=message, type="failed")
        tests = len(result.checks)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    return tests, failures, errors


def junit_xml(results: Sequence[SubmissionResult]) -> str:
    """Every submission as a JUnit <testsuite> of its checks, for CI dashboards."""
    root = ET.Element("testsuites", name="nngrade")
    totals = [0, 0, 0]
    for result in results:
        for i, n in enumerate(_suite(root, result)):
            totals[i] += n
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("time", _seconds(sum(r.duration for r in results)))
    ET.indent(root)
    # The declaration by hand: ElementTree's would name the locale's encoding, not the file's.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(results: Sequence[SubmissionResult], path: Path) -> Path:
    """Write :func:`junit_xml` to ``path`` atomically and return it."""
    atomic_write_text(path, junit_xml(results))
    return path
