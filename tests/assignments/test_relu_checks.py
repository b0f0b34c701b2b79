"""The ReLU assignment's checks on plain Python "students", in process: fast, no kernel.

tests/assignments/test_relu_assignment.py grades real notebooks; these pin down how the visible
checks judge without a reference (fixed examples, properties, the slope of the student's relu)
and that a mistake costs its points once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import run_checks
from grader.grading.results import CheckResult

ASSIGNMENT = Assignment.load(Path(__file__).resolve().parents[2] / "assignments" / "relu")


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(0, x)


def d_relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1.0, 0.0)


def grade(relu: Callable[..., Any], d_relu: Callable[..., Any]) -> dict[str, CheckResult]:
    transport = InProcessTransport({"relu": relu, "d_relu": d_relu})
    return {r.name: r for r in run_checks(ASSIGNMENT, transport, seed=5, include_hidden=True)}


def failed(results: dict[str, CheckResult]) -> dict[str, str]:
    return {name: r.message for name, r in results.items() if not r.passed}


def on_the_examples_only(right: Callable[..., Any]) -> Callable[..., Any]:
    """Right for the visible checks' fixed examples (all multiples of 1/8), 0.5 elsewhere."""

    def function(x: np.ndarray) -> np.ndarray:
        return np.where(np.asarray(x) * 8 % 1 == 0, right(x), 0.5)

    return function


def test_right_answers_score_full_marks() -> None:
    results = grade(relu, d_relu)
    assert not failed(results) and sum(r.points for r in results.values()) == 10


def test_relu_right_only_on_the_fixed_examples_fails_on_random_inputs() -> None:
    bad = failed(grade(on_the_examples_only(relu), d_relu))
    assert {f"test_relu_values[{case}]" for case in ("1-D", "2-D", "3-D")} <= set(bad)
    message = bad["test_relu_values[2-D]"]
    assert "returned wrong values on random inputs" in message and "it returned 0.5" in message


def test_d_relu_is_judged_against_the_slope_of_the_students_relu() -> None:
    bad = failed(grade(relu, on_the_examples_only(d_relu)))
    assert set(bad) == {f"test_d_relu_values[{case}]" for case in ("0-D", "1-D", "2-D", "3-D")}
    assert (
        "compared with the slope of your relu, by centred differences"
        in (bad["test_d_relu_values[3-D]"])
    )


def test_a_wrong_relu_does_not_cost_d_relu_its_points() -> None:
    def leaky(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, 0.01 * x)

    bad = failed(grade(leaky, d_relu))
    assert not any(name.startswith("test_d_relu") for name in bad)
    # Nor the hidden extreme values: relu's negative inputs cost their points already.
    assert "test_relu_extreme_values" not in bad


def test_extreme_values_are_judged_for_the_signs_relu_gets_right() -> None:
    def arithmetic(x: np.ndarray) -> np.ndarray:  # right, except -inf + inf is NaN
        with np.errstate(invalid="ignore"):
            return (x + np.abs(x)) / 2

    bad = failed(grade(arithmetic, d_relu))
    assert set(bad) == {"test_relu_extreme_values"}
    assert "returned 1 NaN value" in bad["test_relu_extreme_values"]
    assert "at index (1, 1), where x = -inf" in bad["test_relu_extreme_values"]

    def raises(x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    message = failed(grade(raises, d_relu))["test_relu_extreme_values"]
    assert "does not return right values for ordinary inputs yet" in message
