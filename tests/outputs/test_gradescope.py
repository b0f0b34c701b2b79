"""Tests for Gradescope's results.json."""

from __future__ import annotations

import json
from pathlib import Path

from grader.outputs.gradescope import gradescope_result, write_gradescope
from tests.report_samples import (
    ERROR_MESSAGE,
    FAIL_MESSAGE,
    HIDDEN_MESSAGE,
    KOREAN_NAME,
    graded_result,
    nngrade_error_result,
    ungradable_result,
)

VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


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
