"""The BCE assignment's visible checks on plain Python "students", in process (no kernel):
messages that no test notebook pins down, and net judged by what it computes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (as students write it)

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import run_checks
from grader.grading.results import CheckResult

ASSIGNMENT = Assignment.load(Path(__file__).resolve().parents[2] / "assignments" / "bce")


def test_a_negated_loss_is_told_to_check_its_sign() -> None:
    def bce_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        log_p = torch.clamp(torch.log(y_hat), min=-100)
        log_q = torch.clamp(torch.log(1 - y_hat), min=-100)
        return torch.mean(y * log_p + (1 - y) * log_q)  # the minus sign is missing

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1), torch.nn.Sigmoid()
    )
    transport = InProcessTransport({"bce_loss": bce_loss, "net": net})
    results = {r.name: r for r in run_checks(ASSIGNMENT, transport, seed=1, include_hidden=False)}
    message = results["test_training_with_bce_loss"].message
    assert "bce_loss became negative" in message and "Check its sign." in message
    assert "The sign is flipped" in results["test_bce_values[(n, 1)]"].message


def sequential_net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1), torch.nn.Sigmoid()
    )


def library_bce(spelling: str) -> object:
    """A bce_loss that uses what the template rules out, spelt as students spell it."""
    from torch.nn import BCELoss as L  # noqa: N817
    from torch.nn import functional as F  # noqa: N812

    def bce_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y_hat, y = torch.as_tensor(y_hat), torch.as_tensor(y)
        if spelling == "module":
            return torch.nn.BCELoss()(y_hat, y)
        if spelling == "alias":
            return L()(y_hat, y)
        return F.binary_cross_entropy(y_hat, y)

    return bce_loss


VALUE_CHECKS = [
    "test_bce_values[(n, 1)]",
    "test_bce_values[(n,)]",
    "test_bce_saturated_outputs",
    "test_bce_accepts_numpy_arrays",
]


@pytest.mark.parametrize(
    ("spelling", "named"),
    [
        ("module", "torch.nn.BCELoss"),
        ("alias", "torch.nn.BCELoss"),
        ("functional", "torch.nn.functional.binary_cross_entropy"),
    ],
)
def test_a_library_bce_loss_earns_no_value_points_and_is_told_once(
    spelling: str, named: str
) -> None:
    transport = InProcessTransport({"bce_loss": library_bce(spelling), "net": sequential_net()})
    results = {r.name: r for r in run_checks(ASSIGNMENT, transport, seed=1, include_hidden=False)}
    assert [results[name].points for name in VALUE_CHECKS] == [0, 0, 0, 0]
    first, *others = (results[name].message for name in VALUE_CHECKS)
    assert first.startswith(f"bce_loss(y_hat, y) uses `{named}` (whatever name your code gives it)")
    assert "by formula, without torch.nn.BCELoss" in first
    for message in others:
        assert message.startswith(f"bce_loss(y_hat, y) uses `{named}`, which the assignment")
        assert "explains it in full" in message and results[VALUE_CHECKS[0]].description in message
    # The network is the student's own, and the training checks judge it.
    assert results["test_training_with_bce_loss"].passed
    assert results["test_net_architecture"].passed


class ClassNet(torch.nn.Module):
    """784-64-1 written as a class, with the given activation functions."""

    def __init__(self, hidden: int = 64, relu: Any = torch.relu, sigmoid: Any = torch.sigmoid):
        super().__init__()
        self.l1, self.l2 = torch.nn.Linear(784, hidden), torch.nn.Linear(hidden, 1)
        self.relu, self.sigmoid = relu, sigmoid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.l2(self.relu(self.l1(x))))


def architecture(net: torch.nn.Module) -> CheckResult:
    transport = InProcessTransport({"net": net})
    results = run_checks(ASSIGNMENT, transport, seed=1, include_hidden=False)
    return next(r for r in results if r.name == "test_net_architecture")


def sequential(*layers: torch.nn.Module) -> torch.nn.Sequential:
    return torch.nn.Sequential(*layers)


SPELLINGS = {
    "class with torch.relu and torch.sigmoid": lambda: ClassNet(),
    "class with F.relu and nn.Sigmoid": lambda: ClassNet(relu=F.relu, sigmoid=nn.Sigmoid()),
    "Sequential with Flatten": lambda: sequential(
        nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 1), nn.Sigmoid()
    ),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_net_passes(spelling: str) -> None:
    result = architecture(SPELLINGS[spelling]())
    assert result.passed, result.message


WRONG = {
    "missing sigmoid": (
        lambda: sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 1)),
        "After Linear(64, 1), net applies no activation; Sigmoid was expected "
        "(nn.Sigmoid() or torch.sigmoid).",
    ),
    "sigmoid for relu, in a class": (
        lambda: ClassNet(relu=torch.sigmoid),
        "Between Linear(784, 64) and Linear(64, 1), net applies Sigmoid; ReLU was expected "
        "(nn.ReLU() or torch.relu).",
    ),
    "wrong hidden size": (
        lambda: ClassNet(hidden=32),
        "net (counting its Linear layers) runs Linear(784, 32) → Linear(32, 1); expected "
        "Linear(784, 64) → Linear(64, 1), in this order.\n"
        "Layer 1 is Linear(784, 32) where Linear(784, 64) was expected.",
    ),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_a_net_that_computes_something_else_is_told_what(mistake: str) -> None:
    make, message = WRONG[mistake]
    result = architecture(make())
    assert not result.passed and result.message == message


def bce(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    y_hat, y = torch.as_tensor(y_hat), torch.as_tensor(y)
    log_p = torch.clamp(torch.log(y_hat), min=-100)
    log_q = torch.clamp(torch.log(1 - y_hat), min=-100)
    return -torch.mean(y * log_p + (1 - y) * log_q)


def edge_cases(**functions: object) -> dict[str, CheckResult]:
    """The visible checks of bce_loss and accuracy (net is left out: its checks fail)."""
    transport = InProcessTransport({"bce_loss": bce, **functions})
    results = run_checks(ASSIGNMENT, transport, seed=1, include_hidden=False)
    return {r.name: r for r in results}


def test_accuracy_at_exactly_one_half_tells_greater_from_greater_or_equal() -> None:
    """The template asks for 1 if y_hat > 0.5: exactly 0.5 predicts 0. The edge case labels
    both of its 0.5s 0, so that >= loses points there (with one labelled 1, > and >= each
    got one of them right and the same score)."""

    def strictly(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((y_hat > 0.5).float() == y).float().mean()

    def at_least(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((y_hat >= 0.5).float() == y).float().mean()

    def rounded(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (torch.round(y_hat) == y).float().mean()  # rounds 0.5 to the even 0

    for right in (strictly, rounded):
        assert edge_cases(accuracy=right)["test_accuracy_edge_cases"].outcome == "passed"
    wrong = edge_cases(accuracy=at_least)["test_accuracy_edge_cases"]
    assert wrong.outcome == "failed"
    assert "It counts y_hat exactly 0.5 as predicting 1" in wrong.message
    assert "only if y_hat > 0.5 (strictly greater)" in wrong.message


def test_a_loss_without_the_clamp_fails_the_saturated_case() -> None:
    def unclamped(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return -torch.mean(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat))

    def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((y_hat > 0.5).float() == y).float().mean()

    results = edge_cases(accuracy=accuracy)
    assert results["test_bce_saturated_outputs"].outcome == "passed"
    transport = InProcessTransport({"bce_loss": unclamped, "accuracy": accuracy})
    wrong = {r.name: r for r in run_checks(ASSIGNMENT, transport, seed=1, include_hidden=False)}
    assert wrong["test_bce_saturated_outputs"].outcome == "failed"
    assert wrong["test_bce_values[(n, 1)]"].outcome == "passed"


def test_labels_broadcast_against_predictions_are_named() -> None:
    """A bce_loss and accuracy that flatten y (but not y_hat) pair every prediction with
    every label on the (n, 1) inputs: the messages say so."""

    def bce_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = torch.as_tensor(y).reshape(-1)
        log_p = torch.clamp(torch.log(y_hat), min=-100)
        log_q = torch.clamp(torch.log(1 - y_hat), min=-100)
        return -torch.mean(y * log_p + (1 - y) * log_q)

    def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
        return float(torch.mean(((y_hat > 0.5).float() == torch.as_tensor(y).reshape(-1)).float()))

    transport = InProcessTransport({"bce_loss": bce_loss, "accuracy": accuracy})
    results = {r.name: r for r in run_checks(ASSIGNMENT, transport, seed=1, include_hidden=False)}
    for name in ("test_bce_values[(n, 1)]", "test_accuracy_values[(n, 1)]"):
        assert "That is the value over an (n, n) matrix" in results[name].message
    assert results["test_bce_values[(n,)]"].passed and results["test_accuracy_values[(n,)]"].passed
