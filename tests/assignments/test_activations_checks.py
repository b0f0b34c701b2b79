"""The activations assignment's checks on plain Python "students", in process: fast, no kernel.

tests/assignments/test_activations_assignment.py grades real notebooks; these pin down how
the checks judge each part (known wrong formulas named, MyReLU through .apply and
gradcheck, the rule against autograd in manual_backward, a mistake charged once) and that
the student's mistakes are failures, never errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from grader.grading.results import CheckResult
from tests.solution_support import grade, solution_namespace

FULL = 18.0


@pytest.fixture(scope="module")
def solution() -> dict[str, Any]:
    return solution_namespace("activations")


def graded(solution: dict[str, Any], **changes: Any) -> dict[str, CheckResult]:
    return grade("activations", {**solution, **changes})


def failed(results: dict[str, CheckResult]) -> dict[str, str]:
    return {name: r.message for name, r in results.items() if not r.passed}


def score(results: dict[str, CheckResult]) -> float:
    return round(sum(r.points for r in results.values()), 6)


def test_the_solution_scores_full_marks(solution: dict[str, Any]) -> None:
    results = graded(solution)
    assert not failed(results) and score(results) == FULL


def test_float32_and_integer_results_pass(solution: dict[str, Any]) -> None:
    """No dtype is asked for: float32 activations and an integer d_relu are judged by value."""

    def in_float32(name: str) -> Any:
        return lambda z: np.asarray(solution[name](np.asarray(z, dtype=np.float32)))

    results = graded(
        solution,
        **{name: in_float32(name) for name in ("sigmoid", "tanh", "relu", "d_sigmoid", "d_tanh")},
        d_relu=lambda z: (np.asarray(z) > 0).astype(np.int64),
    )
    assert not failed(results), failed(results)


def test_a_derivative_written_with_z_is_named(solution: dict[str, Any]) -> None:
    sigmoid = solution["sigmoid"]
    bad = failed(graded(solution, d_sigmoid=lambda z: sigmoid(z) * (1 - z)))
    assert set(bad) == {"test_derivative_values[d_sigmoid]"}
    assert "s is the activation sigmoid(z), not the input z" in bad[next(iter(bad))]


def test_a_derivative_that_forgets_the_two_is_a_factor_of_two(solution: dict[str, Any]) -> None:
    def derivative(f: Any, z: np.ndarray, eps: float = 1e-6) -> np.ndarray:
        return (f(z + eps) - f(z - eps)) / eps

    bad = failed(graded(solution, derivative=derivative))
    assert set(bad) == {f"test_numerical_derivative[{case}]" for case in CASES}
    assert "divide by 2 * eps" in bad["test_numerical_derivative[np.sin with eps = 0.01]"]


CASES = ("np.sin with eps = 0.01", "np.exp with the default eps")


class _Base(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)


class ReturnsNone(_Base):
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> None:
        return None


class TwoGradients(_Base):
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return grad_output, grad_output


class Halved(_Base):
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0) / 2


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (ReturnsNone, "MyReLU.backward returned None for x"),
        (TwoGradients, "incorrect number of gradients"),
        (Halved, "0.5 times"),
    ],
)
def test_a_wrong_backward_fails_only_its_check(
    solution: dict[str, Any], cls: type, words: str
) -> None:
    results = graded(solution, MyReLU=cls)
    bad = failed(results)
    assert set(bad) == {"test_myrelu_backward"}, bad
    assert results["test_myrelu_backward"].outcome == "failed"
    assert words in bad["test_myrelu_backward"]


def test_manual_backward_with_a_transposed_gradient(solution: dict[str, Any]) -> None:
    right = solution["manual_backward"]

    def manual_backward(*args: torch.Tensor) -> tuple:
        loss, grad_w1, grad_w2 = right(*args)
        return loss, grad_w1, grad_w2.t()

    results = graded(solution, manual_backward=manual_backward)
    bad = failed(results)
    assert set(bad) == {"test_manual_backward[grad_w2]", "test_manual_backward_other_sizes"}
    assert "transpose" in bad["test_manual_backward[grad_w2]"]
    assert results["test_manual_backward_other_sizes"].outcome == "not_judged"


def test_train_without_zeroing_is_charged_once(solution: dict[str, Any]) -> None:
    def train(x: Any, y: Any, w1: Any, w2: Any, learning_rate: float, steps: int) -> list:
        losses = []
        for _ in range(steps):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            losses.append(loss)  # 0-d tensors, not floats: judged by value
            loss.backward()
            with torch.no_grad():
                w1 -= learning_rate * w1.grad
                w2 -= learning_rate * w2.grad
        return losses

    results = graded(solution, train=train)
    assert set(failed(results)) == {"test_train_updates_weights", "test_train_returns_losses"}
    assert score(results) == FULL - 1
    assert "w.grad.zero_()" in results["test_train_updates_weights"].message


def test_train_that_rebinds_the_weights_is_told_to_update_in_place(
    solution: dict[str, Any],
) -> None:
    def train(x: Any, y: Any, w1: Any, w2: Any, learning_rate: float, steps: int) -> list:
        losses = []
        for _ in range(steps):
            w1, w2 = w1.detach().requires_grad_(True), w2.detach().requires_grad_(True)
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            losses.append(loss.item())
            loss.backward()
            w1, w2 = w1 - learning_rate * w1.grad, w2 - learning_rate * w2.grad
        return losses

    bad = failed(graded(solution, train=train))
    assert set(bad) == {"test_train_updates_weights"}
    assert "w1 is unchanged after train" in bad["test_train_updates_weights"]


def test_an_activation_wrong_on_ordinary_inputs_is_not_judged_on_extremes(
    solution: dict[str, Any],
) -> None:
    results = graded(solution, tanh=lambda z: np.tanh(z) + 0.1)
    assert results["test_activation_extremes"].outcome == "not_judged"

    def sigmoid(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):  # a warning in a kernel
            return np.exp(z) / (1 + np.exp(z))

    overflowing = graded(solution, sigmoid=sigmoid)
    assert set(failed(overflowing)) == {"test_activation_extremes"}
    assert "nan" in overflowing["test_activation_extremes"].message.lower()
