"""Hidden checks for the PyTorch MLP assignment, run only when grading: the reference
forward pass and the bundled digits.

2 points. Neither fails a notebook again for what a visible check already failed: Net's
output is judged only when the visible architecture check passes (it names anything else),
and a short training run of a stand-in network with the student's train() is judged by
what it reaches.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch

import reference
from grader.checks import (
    CheckFailure,
    Notebook,
    NotJudged,
    describe,
    expect_network,
    fit_model,
    trace_model,
)
from reference import digits

BATCH_SIZE = 32
LEARNING_RATE = 0.05
EPOCHS = 10
# Over many seeds the solution reaches 92-94% with these; the target leaves a margin.
TARGET_ACCURACY = 0.85
ARCHITECTURE = ["Linear(784, 128)", "ReLU", "Linear(128, 64)", "ReLU", "Linear(64, 10)"]
# The short run trains a stand-in of the asked-for network (as the visible train checks do),
# so that it judges train() alone: Net is judged by the architecture and output checks.
STAND_IN = [784, 128, 64, 10]


@cache
def data() -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test): images (N, 1, 28, 28) in [0, 1], labels 0-9."""
    d = digits.load()

    def images(a: np.ndarray) -> torch.Tensor:
        return torch.tensor(a / 255, dtype=torch.float32).unsqueeze(1)

    return images(d.x_train), torch.tensor(d.y_train), images(d.x_test), torch.tensor(d.y_test)


def seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31))


@pytest.mark.points(1)
def test_forward_of_its_own_weights(notebook: Notebook, rng: np.random.Generator) -> None:
    """Net computes Linear → ReLU → Linear → ReLU → Linear of its own weights"""
    x = torch.rand(5, 784)
    trace = trace_model(notebook, "Net", x, seed=seed(rng), what="Net()")
    try:
        expect_network(trace, x, ARCHITECTURE, what="Net")
    except CheckFailure:
        # Named (and failed) by the visible architecture check, and charged there.
        raise NotJudged(
            "Net does not compute the network asked for (see the architecture check)",
            cause="Net's architecture",  # the architecture check's cause
        ) from None
    weights = [(layer.weight.numpy(), layer.bias.numpy()) for layer in trace.linear]
    expected = reference.linear_relu_stack(x.numpy(), weights)
    if not isinstance(trace.output, torch.Tensor):  # named by the output-shape check
        raise CheckFailure(
            f"Net() returned {describe(trace.output)}; expected a tensor, the output of its "
            "last Linear layer."
        )
    output = trace.output.numpy()
    if output.shape == expected.shape and np.allclose(output, expected, rtol=1e-4, atol=1e-5):
        return
    raise CheckFailure(
        "Net's output is not Linear → ReLU → Linear → ReLU → Linear of its own weights. "
        "Check forward(): a ReLU after each of the first two layers, none after the last "
        "(nn.CrossEntropyLoss applies the softmax)."
    )


@pytest.mark.points(1)
@pytest.mark.time_limit(90)
def test_short_training_run(notebook: Notebook, rng: np.random.Generator) -> None:
    """a network trained with train() classifies held-out digits"""
    x, y, x_test, y_test = data()
    what = f"{EPOCHS} epochs of train() with SGD (lr {LEARNING_RATE}, batches of {BATCH_SIZE})"
    run = fit_model(
        notebook,
        STAND_IN,
        "train",
        x,
        y,
        x_test,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        lr=LEARNING_RATE,
        seed=seed(rng),
        what=what,
    )
    accuracy = float(np.mean(run.test_output.numpy().argmax(axis=1) == y_test.numpy()))
    if not accuracy >= TARGET_ACCURACY:
        raise CheckFailure(
            f"After {what}, a fresh network of the asked-for sizes classifies "
            f"{accuracy:.1%} of the held-out digits correctly; expected at least "
            f"{TARGET_ACCURACY:.0%}."
        )
