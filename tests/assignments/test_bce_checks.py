"""The BCE assignment's visible checks on a plain Python "student", in process (no kernel):
a message that no test notebook pins down."""

from __future__ import annotations

from pathlib import Path

import torch

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
