"""The PyTorch MLP assignment's checks on plain Python "students", in process (no kernel):
Net is judged by what it computes, whatever its spelling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn import functional

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import run_checks
from grader.grading.results import CheckResult
from tests.direct_checks import failures, run
from tests.solution_support import solution_namespace

ASSIGNMENT = Assignment.load(Path(__file__).resolve().parents[2] / "assignments" / "torch_mlp")


class OneReluMissing(nn.Module):
    """The asked layers, but forward() skips the second ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1, self.layer2 = nn.Linear(784, 128), nn.Linear(128, 64)
        self.layer3, self.relu = nn.Linear(64, 10), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer3(self.layer2(self.relu(self.layer1(x.view(-1, 784)))))


def test_a_missing_relu_is_named_by_the_visible_check_and_costs_its_points_once() -> None:
    results = graded({"Net": OneReluMissing})
    assert results["test_architecture"].message == (
        "Between Linear(128, 64) and Linear(64, 10), Net applies no activation; ReLU was "
        "expected (nn.ReLU() or torch.relu)."
    )
    forward = results["test_forward_of_its_own_weights"]  # not failed a second time
    assert (forward.outcome, forward.points) == ("not_judged", 1.0)
    assert results["test_output_shape[(N, 784)]"].passed


def graded(namespace: dict[str, object]) -> dict[str, CheckResult]:
    namespace = {
        name: as_class(value) if name == "Net" and not isinstance(value, type) else value
        for name, value in namespace.items()
    }
    transport = InProcessTransport(namespace)
    return {r.name: r for r in run_checks(ASSIGNMENT, transport, seed=2, include_hidden=True)}


def as_class(make: Callable[[], nn.Module]) -> type[nn.Module]:
    """A class ``Net`` made with no arguments, as the assignment asks, around ``make()``."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = make()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x)

    return Net


class Spelled(nn.Module):
    """784-128-64-10 with ReLUs, written with the ``flatten`` and ``relu`` given."""

    def __init__(self, flatten: Callable[[torch.Tensor], torch.Tensor], relu: Callable[..., Any]):
        super().__init__()
        self.flatten, self.relu = flatten, relu
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 128), nn.Linear(128, 64), nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.fc1(self.flatten(x)))
        return self.fc3(self.relu(self.fc2(x)))


def sequential_with_flatten() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )  # fmt: skip


SPELLINGS: dict[str, Callable[[], nn.Module]] = {
    "Sequential with Flatten": sequential_with_flatten,
    "torch.relu and view": lambda: Spelled(lambda x: x.view(-1, 784), torch.relu),
    "F.relu and reshape": lambda: Spelled(lambda x: x.reshape(len(x), -1), functional.relu),
    "nn.ReLU(inplace=True) and flatten": lambda: Spelled(
        lambda x: x.flatten(1), nn.ReLU(inplace=True)
    ),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_the_network_passes(spelling: str) -> None:
    results = graded({"Net": SPELLINGS[spelling]})
    assert results["test_architecture"].passed, results["test_architecture"].message
    assert results["test_forward_of_its_own_weights"].passed
    assert results["test_output_shape[(N, 1, 28, 28)]"].passed


WRONG: dict[str, tuple[Callable[[], nn.Module], str]] = {
    "sigmoid": (
        lambda: Spelled(lambda x: x.view(-1, 784), torch.sigmoid),
        "Between Linear(784, 128) and Linear(128, 64), Net applies Sigmoid; ReLU was expected "
        "(nn.ReLU() or torch.relu).\n"
        "Between Linear(128, 64) and Linear(64, 10), Net applies Sigmoid; ReLU was expected "
        "(nn.ReLU() or torch.relu).",
    ),
    "softmax at the end": (
        lambda: nn.Sequential(sequential_with_flatten(), nn.Softmax(dim=1)),
        "After Linear(64, 10), Net applies Softmax; nothing was expected.\n"
        "nn.CrossEntropyLoss applies the softmax itself: forward() returns the last Linear "
        "layer's scores.",
    ),
    "dropout": (
        lambda: Spelled(lambda x: x.view(-1, 784), nn.Sequential(nn.ReLU(), nn.Dropout(0.5))),
        "Between Linear(784, 128) and Linear(128, 64), Net applies something else (the modules "
        "it calls there: ReLU, Dropout); ReLU was expected (nn.ReLU() or torch.relu).\n"
        "Between Linear(128, 64) and Linear(64, 10), Net applies something else (the modules "
        "it calls there: ReLU, Dropout); ReLU was expected (nn.ReLU() or torch.relu).",
    ),
    "input scaled": (
        lambda: Spelled(lambda x: x.view(-1, 784) / 255, torch.relu),
        "The first Linear layer of Net does not get the input as it is, flattened to one row "
        "per example (nn.Flatten(), x.view(-1, 784) or x.flatten(1)): Net's forward() changes "
        "it before that layer.",
    ),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_a_network_that_computes_something_else_is_told_what(mistake: str) -> None:
    make, message = WRONG[mistake]
    assert graded({"Net": make})["test_architecture"].message == message


def grade(net: type[nn.Module]) -> dict[str, CheckResult]:
    transport = InProcessTransport({"Net": net})
    return {r.name: r for r in run_checks(ASSIGNMENT, transport, seed=2, include_hidden=True)}


class NoFlatten(nn.Module):
    """Right for input of shape (N, 784), but it never flattens (N, 1, 28, 28) images."""

    def __init__(self) -> None:
        super().__init__()
        self.stack = nn.Sequential(
            nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stack(x)


class SigmoidNet(NoFlatten):
    """Sigmoid where ReLU is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.stack = nn.Sequential(
            nn.Linear(784, 128), nn.Sigmoid(), nn.Linear(128, 64), nn.Sigmoid(), nn.Linear(64, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stack(x.flatten(1))


def test_image_shaped_input_tells_a_net_that_never_flattens() -> None:
    results = grade(NoFlatten)
    assert results["test_output_shape[(N, 784)]"].passed
    wrong = results["test_output_shape[(N, 1, 28, 28)]"]
    assert wrong.outcome == "failed" and "Flatten the input in forward()" in wrong.message


def test_other_layers_are_not_judged_again_for_the_output_of_their_weights() -> None:
    """Before "not judged", a Net with other activations passed this hidden check: it
    returned early (the visible architecture check fails it). Now it is not judged, and
    keeps its point only because the architecture check charged that mistake."""
    results = grade(SigmoidNet)
    assert not results["test_architecture"].passed
    assert results["test_architecture"].cause == "Net's architecture"
    forward = results["test_forward_of_its_own_weights"]
    assert (forward.outcome, forward.points, forward.passed) == ("not_judged", 1.0, False)
    assert forward.counted_under.startswith("Net is Linear(784, 128)")
    assert "Not judged because Net does not compute the network asked for" in forward.message
    every = replace(ASSIGNMENT, charge_each_cause="every")
    transport = InProcessTransport({"Net": SigmoidNet})
    charged = {r.name: r for r in run_checks(every, transport, seed=2, include_hidden=True)}
    assert charged["test_forward_of_its_own_weights"].points == 0


class LogSigmoidNet(NoFlatten):
    """LogSigmoid where ReLU is asked for: a network that trains slowly, so that a short
    training run with it reached the target on some seeds and not on others."""

    def __init__(self) -> None:
        super().__init__()
        self.stack = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 128), nn.LogSigmoid(), nn.Linear(128, 64),
            nn.LogSigmoid(), nn.Linear(64, 10),
        )  # fmt: skip


TRAIN_AND_EVALUATE = (
    "test_train_updates_the_model",
    "test_train_returns_mean_batch_loss",
    "test_evaluate_values",
    "test_evaluate_mode",
)


@pytest.mark.slow
@pytest.mark.parametrize("net", [NoFlatten, LogSigmoidNet], ids=lambda n: n.__name__)
def test_a_wrong_net_does_not_move_the_verdict_on_train_and_evaluate(net: type) -> None:
    """train and evaluate run with a stand-in of the asked-for network, never with Net: a
    Net that cannot take images (or trains slowly) costs its own points only."""
    namespace = {**solution_namespace("torch_mlp"), "Net": net}
    outcomes = run("torch_mlp", namespace, 3, only=lambda name: name in TRAIN_AND_EVALUATE)
    assert set(outcomes) == set(TRAIN_AND_EVALUATE)
    assert failures(outcomes) == {}
