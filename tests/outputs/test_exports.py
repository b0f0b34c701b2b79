"""Tests for the Gradescope results.json and JUnit XML exports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.grading.results import CheckResult, SubmissionResult
from grader.outputs.exports import gradescope_result, junit_xml, write_gradescope, write_junit
from tests.report_samples import (
    ERROR_MESSAGE,
    FAIL_MESSAGE,
    HIDDEN_MESSAGE,
    KOREAN_NAME,
    XSS,
    graded_result,
    not_graded_result,
    ungradable_result,
)

VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


def nngrade_error_result() -> SubmissionResult:
    reason = "nngrade failed: RuntimeError: boom\n  File grading.py, line 3"
    return not_graded_result("crashed", "error", reason, duration=2.5)


# --- Gradescope -------------------------------------------------------------------------------


def assert_gradescope_shape(data: dict[str, object]) -> None:
    """The documented fields with their documented types; nothing a JSON encoder rejects."""
    json.dumps(data, allow_nan=False)
    assert isinstance(data["score"], float)
    assert isinstance(data["output"], str)
    assert isinstance(data["execution_time"], int)
    assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"
    tests = data["tests"]
    assert isinstance(tests, list)
    for test in tests:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert test["status"] in {"passed", "failed"}
        assert isinstance(test["output"], str)
        assert test["visibility"] in VISIBILITIES


def test_gradescope_graded_submission() -> None:
    result = graded_result()
    data = gradescope_result(result)
    assert_gradescope_shape(data)
    assert data["score"] == 5.5
    assert data["execution_time"] == 12
    tests = {t["extra_data"]["check"]: t for t in data["tests"]}
    assert list(tests) == [c.name for c in result.checks]
    positives = tests["relu_positives"]
    assert positives["name"] == "relu keeps positive values"
    assert (positives["score"], positives["max_score"]) == (0.0, 2.0)
    assert positives["status"] == "failed"
    assert positives["output"] == FAIL_MESSAGE
    assert positives["visibility"] == "visible"
    negatives = tests["relu_negatives"]
    assert (negatives["status"], negatives["score"], negatives["output"]) == ("passed", 2.0, "")
    # A check without a description is named by its name.
    assert tests["relu_shape_only_name"]["name"] == "relu_shape_only_name"


def test_gradescope_hidden_checks_show_after_the_grades_are_published() -> None:
    tests = {t["extra_data"]["check"]: t for t in gradescope_result(graded_result())["tests"]}
    assert tests["relu_grad"]["visibility"] == "after_published"
    assert tests["relu_grad"]["output"] == HIDDEN_MESSAGE
    assert tests["relu_shape_only_name"]["visibility"] == "after_published"
    assert tests["relu_negatives"]["visibility"] == "visible"


def test_gradescope_output_does_not_give_hidden_checks_away() -> None:
    result = graded_result()
    output = gradescope_result(result)["output"]
    assert "5.5" not in output and "gradient" not in output
    # It says what happened to the notebook's cells.
    assert "Cell 3: NameError: name 'np' is not defined" in output
    assert "Cell 5: timed out after 30 s" in output
    result.cells = []
    assert gradescope_result(result)["output"] == "Every cell of the notebook ran without problems."


def test_gradescope_check_that_crashed_is_not_blamed_on_the_student() -> None:
    tests = {t["extra_data"]["check"]: t for t in gradescope_result(graded_result())["tests"]}
    dtype = tests["relu_dtype"]
    assert dtype["status"] == "failed"
    assert dtype["extra_data"]["outcome"] == "error"
    assert dtype["output"].startswith("This check could not be checked (a problem in the grader")
    assert ERROR_MESSAGE in dtype["output"]


def test_gradescope_ungradable_scores_zero_and_says_why() -> None:
    result = ungradable_result()
    result.score = 3.0  # even a stray score is not passed on
    data = gradescope_result(result)
    assert_gradescope_shape(data)
    assert data["score"] == 0.0
    assert data["tests"] == []
    assert "could not be graded: the file is not valid JSON, line 1, column 1" in data["output"]
    error = gradescope_result(nngrade_error_result())
    assert error["score"] == 0.0 and error["tests"] == []
    assert "nngrade itself failed" in error["output"]
    assert "RuntimeError: boom" in error["output"]
    assert "not in your work" in error["output"]


def test_write_gradescope_one_file_per_submission(tmp_path: Path) -> None:
    korean = graded_result()
    korean.id = "2022021241_이다온"
    korean.checks[1].message = "odd output: \ud800 end"  # a lone surrogate cannot be UTF-8
    results = [korean, ungradable_result()]
    folder = write_gradescope(results, tmp_path)
    assert folder == tmp_path / "gradescope"
    assert sorted(p.name for p in folder.iterdir()) == ["2022021241_이다온.json", "hw1-broken.json"]
    for result in results:
        text = (folder / f"{result.id}.json").read_text(encoding="utf-8")
        assert json.loads(text) == gradescope_result(result)
    assert KOREAN_NAME in (folder / "2022021241_이다온.json").read_text(encoding="utf-8")


# --- JUnit XML --------------------------------------------------------------------------------


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
