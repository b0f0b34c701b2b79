"""Tests for the JUnit XML that CI dashboards read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from grader.grading.results import CheckResult
from grader.outputs.junit import junit_xml, write_junit
from tests.report_samples import (
    ERROR_MESSAGE,
    FAIL_MESSAGE,
    KOREAN_NAME,
    XSS,
    graded_result,
    nngrade_error_result,
    ungradable_result,
)


def parse_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def properties(element: ET.Element) -> dict[str, str]:
    block = element.find("properties")
    assert block is not None
    return {p.attrib["name"]: p.attrib["value"] for p in block.findall("property")}


def test_junit_one_suite_per_submission_one_case_per_check() -> None:
    results = [graded_result(), ungradable_result(), nngrade_error_result()]
    root = parse_junit(junit_xml(results))
    assert root.tag == "testsuites"
    assert [s.attrib["name"] for s in root.findall("testsuite")] == [r.id for r in results]
    assert (root.attrib["tests"], root.attrib["failures"], root.attrib["errors"]) == ("7", "2", "3")
    suite = root.findall("testsuite")[0]
    assert (suite.attrib["tests"], suite.attrib["failures"], suite.attrib["errors"]) == (
        "5",
        "2",
        "1",
    )
    assert properties(suite)["submission"] == KOREAN_NAME
    assert properties(suite)["score"] == "5.5"
    cases = suite.findall("testcase")
    assert [c.attrib["name"] for c in cases] == [c.name for c in results[0].checks]
    assert {c.attrib["classname"] for c in cases} == {"2022021241-relu"}


def test_junit_failure_carries_the_message_and_points() -> None:
    root = parse_junit(junit_xml([graded_result()]))
    cases = {c.attrib["name"]: c for c in root.iter("testcase")}
    failure = cases["relu_positives"].find("failure")
    assert failure is not None
    assert failure.attrib["message"] == FAIL_MESSAGE.splitlines()[0]
    assert failure.text == FAIL_MESSAGE  # the full message, <script> and all, as text
    assert properties(cases["relu_positives"]) == {"points": "0", "max_points": "2"}
    assert properties(cases["relu_grad"]) == {"points": "0.5", "max_points": "1", "hidden": "true"}
    passed = cases["relu_negatives"]
    assert passed.find("failure") is None and passed.find("error") is None
    assert properties(passed) == {"points": "2", "max_points": "2"}
    crashed = cases["relu_dtype"].find("error")
    assert crashed is not None and cases["relu_dtype"].find("failure") is None
    assert crashed.attrib["type"] == "check_error"
    assert ERROR_MESSAGE in (crashed.text or "")


def test_junit_ungradable_is_one_errored_case() -> None:
    root = parse_junit(junit_xml([ungradable_result(), nngrade_error_result()]))
    ungradable, crashed = root.findall("testsuite")
    (case,) = ungradable.findall("testcase")
    assert case.attrib["classname"] == "hw1-broken"
    error = case.find("error")
    assert error is not None and error.attrib["type"] == "ungradable"
    assert "the file is not valid JSON, line 1, column 1" in error.attrib["message"]
    assert properties(case) == {"points": "0", "max_points": "10"}
    (case,) = crashed.findall("testcase")
    error = case.find("error")
    assert error is not None and error.attrib["type"] == "nngrade_error"
    assert "  File grading.py, line 3" in (error.text or "")


def test_junit_survives_characters_xml_forbids() -> None:
    result = graded_result()
    printed = "bell\x07 nul\x00 esc\x1b[31m lone\ud800 nonchar\ufffe tab\tok é 이"
    result.checks[1].message = printed
    result.checks[0].name = "name\x01"
    result.submission = "sub\x02.ipynb"
    root = parse_junit(junit_xml([result]))
    failure = next(root.iter("failure"))
    assert failure.text == "bell\\x07 nul\\x00 esc\\x1b[31m lone\\ud800 nonchar\\ufffe tab\tok é 이"
    assert failure.attrib["message"] == failure.text
    assert next(root.iter("testcase")).attrib["name"] == "name\\x01"
    assert properties(root.findall("testsuite")[0])["submission"] == "sub\\x02.ipynb"


def test_junit_escapes_markup_in_names_and_messages() -> None:
    result = graded_result()
    result.id = XSS
    result.checks[0] = CheckResult('a"b<c>&', "", 0.0, 1.0, False, f'{XSS} & "quoted"')
    text = junit_xml([result])
    assert "<script>" not in text
    case = next(parse_junit(text).iter("testcase"))
    assert case.attrib["name"] == 'a"b<c>&' and case.attrib["classname"] == XSS
    failure = case.find("failure")
    assert failure is not None and failure.text == f'{XSS} & "quoted"'


def test_junit_no_results() -> None:
    root = parse_junit(junit_xml([]))
    assert root.findall("testsuite") == []
    assert root.attrib["tests"] == "0"


def test_write_junit(tmp_path: Path) -> None:
    result = graded_result()
    path = write_junit([result], tmp_path / "junit.xml")
    assert path == tmp_path / "junit.xml"
    assert path.read_text(encoding="utf-8") == junit_xml([result])
    assert ET.parse(path).getroot().find("testsuite") is not None
