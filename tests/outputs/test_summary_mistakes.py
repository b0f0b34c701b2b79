"""Tests for grouping failures by diagnosis (grader/outputs/summary_mistakes.py)."""

from __future__ import annotations

import pytest

from grader.outputs.summary_mistakes import mistakes, normalise
from tests.report_samples import student_result


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Values and indices differ between students; the diagnosis does not.
        (
            "relu(x) returned wrong values: 3 of 12 elements differ; the largest difference is "
            "0.5 at index (1, 2): expected 0, got 0.5.",
            "relu(x) returned wrong values: 7 of 20 elements differ; the largest difference is "
            "1.25e-03 at index (0, 0): expected -1, got 2.",
        ),
        # Shapes of any length.
        (
            "backward(...) returned shape (3, 2), the transpose of the expected (2, 3).",
            "backward(...) returned shape (10, 4, 5), the transpose of the expected (5, 4, 10).",
        ),
        # An exception's type stays (the line after "raised an exception:"); its numbers go.
        (
            "relu(x) raised an exception:\nValueError: operands could not be broadcast together "
            "with shapes (3,4) (3,)\n  cell [5], line 2, in relu",
            "relu(x) raised an exception:\nValueError: operands could not be broadcast together "
            "with shapes (2,2) (7,)\n  cell [9], line 4, in relu",
        ),
        # Quoted names and values.
        (
            "relu raised NameError: name 'dS2' is not defined",
            "relu raised NameError: name 'x' is not defined",
        ),
    ],
)
def test_messages_that_differ_in_numbers_only_share_a_diagnosis(first: str, second: str) -> None:
    assert normalise(first) == normalise(second)


def test_numbers_inside_names_stay() -> None:
    # dW2 and dW3 are different gradients: different mistakes.
    one = normalise("dW2 does not match the numerical gradient: error 0.3")
    other = normalise("dW3 does not match the numerical gradient: error 0.3")
    assert one != other
    assert one == "dW2 does not match the numerical gradient: error …"


def test_exception_types_differ() -> None:
    value = normalise("f(x) raised an exception:\nValueError: bad")
    kind = normalise("f(x) raised an exception:\nTypeError: bad")
    assert value != kind
    assert value == "f(x) raised an exception: ValueError: bad"


def test_a_named_cause_groups_whatever_the_message() -> None:
    one, two = student_result("s1", {"B": "x is 2 times"}), student_result("s2", {"B": "other"})
    one.checks[1].cause = two.checks[1].cause = "batch-size factor"
    found = mistakes([one, two])
    assert [(m.check, m.count) for m in found] == [("B", 2)]
    assert found[0].example == "x is 2 times"


def test_most_students_first() -> None:
    results = [
        student_result("s1", {"A": "a", "C": "shared 1"}),
        student_result("s2", {"C": "shared 2"}),
    ]
    assert [(m.check, m.diagnosis, m.count) for m in mistakes(results)] == [
        ("C", "shared …", 2),
        ("A", "a", 1),
    ]


def test_the_cases_of_a_parametrized_check_are_one_mistake_when_merged() -> None:
    checks = (
        ("relu_values[0-D]", "relu is max(0, x) [0-D]", 1.0, False),
        ("relu_values[1-D]", "relu is max(0, x) [1-D]", 1.0, False),
        ("d_relu", "d_relu is right", 1.0, False),
    )
    missing = "Your notebook does not define a function named `relu`."
    failing = {"relu_values[0-D]": missing, "relu_values[1-D]": missing}
    results = [student_result(f"s{n}", failing, checks=checks) for n in range(2)]
    per_case = mistakes(results)
    assert [(m.check, m.count) for m in per_case] == [
        ("relu_values[0-D]", 2),
        ("relu_values[1-D]", 2),
    ]
    merged = mistakes(results, merge_cases=True)
    assert [(m.check, m.description, m.count) for m in merged] == [
        ("relu_values", "relu is max(0, x)", 2)  # each student once
    ]
    assert [s.id for s in merged[0].students] == ["s0", "s1"]
