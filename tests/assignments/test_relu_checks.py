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

    results = grade(leaky, d_relu)
    bad = failed(results)
    assert not any(name.startswith("test_d_relu") for name in bad)
    # The hidden extreme values are not judged: relu's negative inputs failed already.
    extreme = results["test_relu_extreme_values"]
    assert (extreme.outcome, extreme.points) == ("not_judged", 0.0)
    assert extreme.message == (
        "Not judged because relu is already wrong on ordinary negative inputs; see the checks "
        "of relu's values above."
    )


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

    extreme = grade(raises, d_relu)["test_relu_extreme_values"]
    assert extreme.outcome == "not_judged" and extreme.message == (
        "Not judged because relu(x) raises NotImplementedError on ordinary inputs; see the "
        "checks of relu's values above."
    )


def test_identity_gets_no_free_point_for_extreme_values() -> None:
    """relu(x) = x is right for every extreme input that is not negative: before "not
    judged", it earned the hidden point there."""
    results = grade(lambda x: x, d_relu)
    extreme = results["test_relu_extreme_values"]
    assert (extreme.outcome, extreme.points, extreme.passed) == ("not_judged", 0.0, False)
    assert "relu is already wrong on ordinary negative inputs" in extreme.message
    # Nor a point for leaving x alone: it returns wrong values.
    unchanged = results["test_does_not_modify_input[relu]"]
    assert (unchanged.outcome, unchanged.points) == ("not_judged", 0.0)
    assert unchanged.message.startswith("Not judged because relu(x) does not return the right")
    assert sum(r.points for r in results.values()) == 4  # d_relu's 4 points, nothing for relu
    # The same for a relu that is 0 everywhere: right for the negative extremes only.
    zero = grade(lambda x: np.zeros_like(x), d_relu)["test_relu_extreme_values"]
    assert zero.outcome == "not_judged" and "ordinary positive inputs" in zero.message


def test_edge_cases_tell_right_from_wrong() -> None:
    """Each edge-case check fails a plausible wrong implementation."""
    # d_relu at exactly 0: the convention the template asks for is 0.
    at_zero = grade(relu, lambda x: np.where(x >= 0, 1.0, 0.0))["test_d_relu_at_zero"]
    assert at_zero.outcome == "failed" and "expected" in at_zero.message
    # 0-D input: a relu that loops over the elements cannot take it.
    looped = grade(lambda x: np.array([max(0.0, v) for v in x]), d_relu)
    assert looped["test_relu_values[0-D]"].outcome == "failed"
    assert looped["test_relu_values[1-D]"].outcome == "passed"
    # Exact zeros, infinities and -0.0: np.maximum is right, a clip at a huge bound is not.
    clipped = grade(lambda x: np.clip(x, 0, 1e300), d_relu)["test_relu_extreme_values"]
    assert clipped.outcome == "failed" and "inf" in clipped.message
