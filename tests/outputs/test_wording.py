"""Tests for the words the outputs share."""

from __future__ import annotations

import pytest

from grader.grading.results import CellEvent
from grader.outputs.wording import (
    CELL_KIND_WORDS,
    cell_problems,
    check_text,
    first_line,
    format_points,
    headline,
    not_graded_text,
    percent,
)
from tests.report_samples import (
    ERROR_MESSAGE,
    FAIL_MESSAGE,
    graded_result,
    nngrade_error_result,
    student_result,
    ungradable_result,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.0, "2"),
        (0.5, "0.5"),
        (7.5, "7.5"),
        (10, "10"),
        (0.0, "0"),
        (-0.0, "0"),
        (1 / 3, "0.33"),
        (0.1 + 0.2, "0.3"),
        (1.25, "1.25"),
    ],
)
def test_format_points(value: float, expected: str) -> None:
    assert format_points(value) == expected


def test_percent_is_clamped_and_none_without_a_maximum() -> None:
    result = student_result("s1")
    result.score, result.max_score = 5.5, 10.0
    assert percent(result) == 55.0
    result.score = 12.0
    assert percent(result) == 100.0
    result.score = -1.0
    assert percent(result) == 0.0
    result.max_score = 0.0
    assert percent(result) is None


def test_first_line_and_headline() -> None:
    assert first_line("\n\n  first  \nsecond") == "first"
    assert first_line("   ") == ""
    assert headline("square(x) raised an exception:\n  ValueError: bad\nmore") == (
        "square(x) raised an exception: ValueError: bad"
    )
    assert headline("just one line\nand another") == "just one line"
    assert headline("") == ""


def test_cell_problems_one_line_each_in_words_when_there_is_no_summary() -> None:
    result = graded_result()
    result.cells = [
        CellEvent(2, "timeout", "timed out after 30 s\nand more", "", ""),
        CellEvent(4, "memory_limit", "", "", ""),
        CellEvent(9, "something_new", "", "", ""),
    ]
    assert cell_problems(result) == [
        (2, "timed out after 30 s"),
        (4, CELL_KIND_WORDS["memory_limit"]),
        (9, "something_new"),
    ]


def test_not_graded_text_says_whose_problem_it_is() -> None:
    ungradable = not_graded_text(ungradable_result())
    assert ungradable.startswith("This notebook could not be graded: the file is not valid JSON")
    assert "hand it in again" in ungradable
    failed = not_graded_text(nngrade_error_result())
    assert failed.startswith("nngrade itself failed while grading this notebook: nngrade failed")
    assert "not in your work" in failed


def test_check_text() -> None:
    passed, failed, _, _, crashed = graded_result().checks
    assert check_text(passed) == ""
    assert check_text(failed) == FAIL_MESSAGE
    assert check_text(crashed).startswith("This check could not be checked")
    assert check_text(crashed).endswith(ERROR_MESSAGE)
