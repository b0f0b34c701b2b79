"""The PyTorch MLP assignment's checks on a plain Python "student", in process (no kernel):
what the hidden check of Net's output catches that the visible layer list cannot."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import run_checks
from grader.grading.results import CheckResult

ASSIGNMENT = Assignment.load(Path(__file__).resolve().parents[2] / "assignments" / "torch_mlp")


class OneReluMissing(nn.Module):
    """The asked layers, but forward() skips the second ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1, self.layer2 = nn.Linear(784, 128), nn.Linear(128, 64)
        self.layer3, self.relu = nn.Linear(64, 10), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer3(self.layer2(self.relu(self.layer1(x.view(-1, 784)))))


def test_a_missing_relu_passes_the_visible_layer_list_and_fails_the_hidden_output() -> None:
    transport = InProcessTransport({"Net": OneReluMissing})
    results = {r.name: r for r in run_checks(ASSIGNMENT, transport, seed=2, include_hidden=True)}
    assert results["test_architecture"].passed
    forward = results["test_forward_of_its_own_weights"]
    assert forward.hidden and not forward.passed
    assert "is not Linear → ReLU → Linear → ReLU → Linear of its own weights" in forward.message


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
    returned early (its layers are failed by the visible architecture check). Now it is not
    judged, and keeps its point only because the architecture check charged that mistake."""
    results = grade(SigmoidNet)
    assert not results["test_architecture"].passed
    assert results["test_architecture"].cause == "layers other than Linear and ReLU"
    forward = results["test_forward_of_its_own_weights"]
    assert (forward.outcome, forward.points, forward.passed) == ("not_judged", 1.0, False)
    assert forward.counted_under.startswith("Net is Linear(784, 128)")
    assert "Not judged because Net calls layers other than Linear and ReLU" in forward.message
    every = replace(ASSIGNMENT, charge_each_cause="every")
    transport = InProcessTransport({"Net": SigmoidNet})
    charged = {r.name: r for r in run_checks(every, transport, seed=2, include_hidden=True)}
    assert charged["test_forward_of_its_own_weights"].points == 0
