"""nngrade check in CI: JUnit XML, the JSON result, the GitHub job summary, Classroom's notices."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from grader.course.bundle import bundle
from grader.grading.assignment import Assignment
from grader.grading.results import CheckResult
from grader.outputs.github import MAX_SUMMARY_CHARS, classroom_notices, markdown_summary
from tests.course_samples import SOLUTION, WRONG, student_work, write_course, write_notebook
from tests.report_samples import graded_result, ungradable_result


def test_classroom_notices_are_the_reporters_lines() -> None:
    result = graded_result()  # 5.5 of 10
    assert classroom_notices(result) == [
        "::notice title=Autograding complete::Points 5.5/10",
        '::notice title=Autograding report::{"totalPoints":5.5,"maxPoints":10}',
    ]
    result.score, result.max_score = 0.1 + 0.2, 3.0
    assert classroom_notices(result)[0].endswith("Points 0.3/3")


def test_the_summary_escapes_student_text_in_the_table() -> None:
    result = graded_result()
    result.checks[0].description = "a | b\nc <img src=x onerror=alert(1)>"
    text = markdown_summary(result, title="ReLU", report=Path("out/r.html"))
    row = next(line for line in text.splitlines() if "a \\| b" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # three cells, none added by the text
    assert "c &lt;img" in row and "<img" not in text.split("#### Failed checks")[0]
    assert text.startswith("### nngrade: ReLU: 5.5/10 points")
    assert "`r.html`" in text


def test_a_failure_message_cannot_close_its_code_block() -> None:
    result = graded_result()
    failed = result.failed_checks[0]
    failed.message = "boom\n```\n# heading outside?\n````"
    text = markdown_summary(result, title="t", report=None)
    block = text[text.index(failed.description) :]
    fence = re.search(r"^(`{3,})text$", block, re.M)
    assert fence is not None and len(fence.group(1)) == 5
    assert f"\n{fence.group(1)}\n" in block  # closed by the same, longer fence


def test_the_summary_stays_bounded() -> None:
    result = graded_result()
    result.checks = [
        CheckResult(f"test_{i}", f"check {i}", 0.0, 1.0, False, "x" * 5000 + "\n" * 500)
        for i in range(200)
    ]
    text = markdown_summary(result, title="t", report=None)
    assert len(text) < MAX_SUMMARY_CHARS + 200
    assert "more failed checks in the HTML report" in text
    assert text.count("```text") == text.count("\n```\n")  # every block closed


def test_an_ungradable_notebook_gets_a_short_summary() -> None:
    text = markdown_summary(ungradable_result(), title="t", report=None)
    assert "could not be checked" in text and "not valid JSON" in text


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    course = Assignment.load(write_course(tmp_path / "course"))
    return bundle(course, tmp_path / "repo").root


@pytest.mark.kernel
def test_check_writes_junit_json_summary_and_notices(
    bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    notebook = write_notebook(bundled / "mine.ipynb", WRONG)
    run = CliRunner().invoke(
        main,
        ["check", str(notebook), "--assignment", str(bundled), "--junit", str(tmp_path / "j.xml")]
        + ["--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "out")],
    )
    assert run.exit_code == 1, run.output
    assert "::notice title=Autograding complete::Points 2/3" in run.stdout
    assert '::notice title=Autograding report::{"totalPoints":2,"maxPoints":3}' in run.stdout
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == "2"
    points = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in suite.iter("testcase")
    }
    assert points["test_square_negative"] == {"points": "0", "max_points": "1"}
    data = json.loads((tmp_path / "r.json").read_text())
    assert (data["score"], data["max_score"], data["mode"]) == (2.0, 3.0, "check")
    text = summary.read_text()
    assert text.startswith("earlier step\n### nngrade: Squares: 2/3 points")
    assert "square(-2) returned -4, expected 4" in text
    assert (tmp_path / "out" / "mine.html").is_file()


@pytest.mark.kernel
def test_without_github_there_are_no_notices(
    bundled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    notebook = student_work(bundled, "mine.ipynb", SOLUTION)
    run = CliRunner().invoke(main, ["check", str(notebook)])
    assert run.exit_code == 0, run.output
    assert "::notice" not in run.stdout and "Score: 3/3" in run.stdout


def test_an_unreadable_notebook_still_reports_to_ci(
    bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    broken = bundled / "broken.ipynb"
    broken.write_text("{not json")
    junit = tmp_path / "j.xml"
    run = CliRunner().invoke(
        main, ["check", str(broken), "--assignment", str(bundled), "--junit", str(junit)]
    )
    assert run.exit_code == 2 and "not valid JSON" in run.stderr and run.stdout == ""
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None and case.find("error") is not None
    assert "could not be checked" in summary.read_text()


@pytest.mark.kernel
def test_checks_newer_than_the_notebook_are_a_note_in_the_output_and_report(
    bundled: Path, tmp_path: Path
) -> None:
    notebook = student_work(bundled, "mine.ipynb", SOLUTION)
    checks = bundled / "test_square.py"
    checks.write_text(checks.read_text() + "\n# a check added since\n")
    run = CliRunner().invoke(main, ["check", str(notebook), "--report", str(tmp_path)])
    assert run.exit_code == 0, run.output
    assert run.stdout.startswith(f"Squares ({bundled.resolve()})\nNote: Your notebook was made")
    assert "made from another version of this assignment" in (tmp_path / "mine.html").read_text()
