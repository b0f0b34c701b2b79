"""The BCE assignment's visible checks on a plain Python "student", in process (no kernel):
a message that no test notebook pins down."""

from __future__ import annotations

from pathlib import Path

import torch

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import run_checks

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
