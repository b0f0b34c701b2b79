"""Graded in Korean (`lang = "ko"` / --lang ko): the report's fixed text and the check
library's messages are Korean; what the checks do not translate stays English."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, grade_notebook
from grader.grading.results import SubmissionResult
from grader.outputs.class_summary import render_summary
from grader.outputs.student_report import render_report
from tests.conftest import ASSIGNMENTS, CELL_TIMEOUT, SEED

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.kernel


def _grade(assignment: str, notebook: str, lang: str | None) -> SubmissionResult:
    options = GradingOptions(cell_timeout=CELL_TIMEOUT, seed=SEED, lang=lang)
    path = EXAMPLES / assignment / f"{notebook}.ipynb"
    return grade_notebook(Assignment.load(ASSIGNMENTS / assignment), path, options)


def _messages(result: SubmissionResult) -> str:
    return "\n".join(check.message for check in result.checks)


def test_relu_in_korean() -> None:
    result = _grade("relu", "only_2d", "ko")
    assert result.lang == "ko" and result.status == "graded"
    # The loop over rows fails on 1-D input: the exception's words are Korean, the
    # student's own line and Python's error stay as they are.
    assert "relu(x) 실행 중 예외가 발생했습니다:" in _messages(result)
    assert "TypeError" in _messages(result)
    report = render_report(result)
    assert '<html lang="ko">' in report
    for fixed in ("nngrade 채점 결과", "검사 항목", "통과", "실패", "시드"):
        assert fixed in report
    assert "Checks</h2>" not in report and "Passed</span>" not in report


def test_backprop_in_korean_and_english() -> None:
    korean = _grade("backprop", "relu_derivative", "ko")
    english = _grade("backprop", "relu_derivative", None)
    # The same verdicts, whatever the language.
    assert [(c.name, c.points) for c in korean.checks] == [
        (c.name, c.points) for c in english.checks
    ]
    text = _messages(korean)
    assert "의 반환값이 틀렸습니다" in text and "returned wrong values" not in text
    assert "returned wrong values" in _messages(english)
    assert english.lang == "" and "nngrade report" in render_report(english)
    summary = render_summary([korean], assignment_title="backprop")
    assert "가장 흔한 실수" in summary and "Most common mistakes" not in summary
