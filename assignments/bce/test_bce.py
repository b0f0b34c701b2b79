"""Checks for the BCE assignment (seed 004): ``bce_loss``, ``accuracy`` and ``net``.

The network is judged on a fresh copy: the checks re-initialise it from the grading seed
and train it with the student's ``bce_loss`` on the bundled 0-vs-1 digits.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from grader import CheckFailure, Notebook, expect_layers, expect_scalar
from reference import digits

ARCHITECTURE = ["Linear(784, 64)", "ReLU", "Linear(64, 1)", "Sigmoid"]
TRAINING_STEPS = 100
TARGET_ACCURACY = 0.95
CLAMP_ADVICE = (
    "log(0) is -inf, and 0 * -inf is nan, so the formula breaks as soon as the network's "
    "outputs reach exactly 0 or 1 (which happens quickly with unnormalised inputs). "
    "torch.nn.BCELoss clamps each log term at -100: use torch.clamp(torch.log(y_hat), min=-100) "
    "and the same for torch.log(1 - y_hat)."
)


def predictions(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[torch.Tensor, ...]:
    """Sigmoid outputs and 0/1 labels as float32 tensors, like a network's."""
    y_hat = 1 / (1 + np.exp(-2 * rng.standard_normal(shape)))
    y = rng.integers(0, 2, shape)
    return torch.tensor(y_hat, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def as_number(value: object) -> float | None:
    """The single number a loss function returned, or None (expect_scalar then explains)."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None
    return float(array.ravel()[0]) if array.size == 1 else None


def mean_hints(n: int) -> dict[float, str]:
    return {float(n): f"the sum over the batch instead of the mean: divide by n = {n}"}


@pytest.mark.points(2, shared=True)
@pytest.mark.parametrize("shape", [(20, 1), (20,)], ids=["(n, 1)", "(n,)"])
def test_bce_values(notebook: Notebook, rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    """bce_loss(y_hat, y) is the mean binary cross-entropy"""
    y_hat, y = predictions(rng, shape)
    call = notebook.call("bce_loss", y_hat, y)
    expected = reference.bce(y_hat.numpy(), y.numpy())
    expect_scalar(call.value, expected, what=call.what, rtol=1e-5, factor_hints=mean_hints(20))


@pytest.mark.points(1)
def test_bce_saturated_outputs(notebook: Notebook) -> None:
    """bce_loss(y_hat, y) stays finite when y_hat is exactly 0 or 1"""
    y_hat = torch.tensor([[0.0], [1.0], [0.0], [1.0], [0.3]])
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0], [1.0]])
    call = notebook.call("bce_loss", y_hat, y)
    expected = reference.bce(y_hat.numpy(), y.numpy())
    value = call.value
    number = as_number(value)
    if number is not None and not np.isfinite(number):
        raise CheckFailure(
            f"{call.what} returned {number} for "
            f"y_hat = {y_hat.ravel().tolist()} and y = {y.ravel().tolist()}; "
            f"torch.nn.BCELoss gives {expected:.6g}.\n{CLAMP_ADVICE}"
        )
    expect_scalar(value, expected, what=call.what, rtol=1e-5, factor_hints=mean_hints(5))


@pytest.mark.points(1)
def test_bce_accepts_numpy_arrays(notebook: Notebook, rng: np.random.Generator) -> None:
    """bce_loss(y_hat, y) also takes NumPy arrays"""
    y_hat, y = (t.numpy() for t in predictions(rng, (10, 1)))
    call = notebook.call("bce_loss", y_hat, y)
    if call.error is not None:
        raise CheckFailure(
            f"{call.what} raised an exception when given NumPy arrays:\n{call.error}\n"
            "Convert them first, e.g. with torch.as_tensor(y_hat)."
        )
    expect_scalar(call.value, reference.bce(y_hat, y), what=call.what, rtol=1e-5)


@pytest.mark.points(1, shared=True)
@pytest.mark.parametrize("shape", [(25, 1), (25,)], ids=["(n, 1)", "(n,)"])
def test_accuracy_values(
    notebook: Notebook, rng: np.random.Generator, shape: tuple[int, ...]
) -> None:
    """accuracy(y_hat, y) is the fraction of correct predictions"""
    y_hat, y = predictions(rng, shape)
    call = notebook.call("accuracy", y_hat, y)
    expected = reference.accuracy(y_hat.numpy(), y.numpy())
    hints = {25.0: "a count of correct predictions instead of a fraction: divide by n = 25"}
    expect_scalar(call.value, expected, what=call.what, factor_hints=hints)


@pytest.mark.points(1)
def test_accuracy_edge_cases(notebook: Notebook) -> None:
    """accuracy(y_hat, y) counts exactly 0.5 as predicting 0"""
    y_hat = torch.tensor([[0.5], [0.5], [0.0], [1.0], [0.50001], [0.49999], [0.9], [0.1]])
    y = torch.tensor([[0.0], [1.0], [0.0], [1.0], [1.0], [0.0], [0.0], [1.0]])
    call = notebook.call("accuracy", y_hat, y)
    expected = reference.accuracy(y_hat.numpy(), y.numpy())  # 5 of 8
    expect_scalar(
        call.value, expected, what=call.what, factor_hints={8.0: "a count, not a fraction"}
    )


@pytest.mark.points(2)
def test_net_architecture(notebook: Notebook, rng: np.random.Generator) -> None:
    """net is Linear(784, 64) → ReLU → Linear(64, 1) → Sigmoid"""
    x = torch.rand(3, 784)
    call = notebook.run("torch.trace", "net", x, seed=int(rng.integers(2**31)), what="net")
    expect_layers(call.value["calls"], ARCHITECTURE, what="net")


@pytest.mark.points(2)
@pytest.mark.time_limit(60)
def test_training_with_bce_loss(notebook: Notebook, rng: np.random.Generator) -> None:
    """a fresh copy of net trained with bce_loss tells 0s from 1s"""
    data = digits.load().binary(0, 1)
    x, x_test = (
        torch.tensor(a.reshape(len(a), -1) / 255, dtype=torch.float32)
        for a in (data.x_train, data.x_test)
    )
    y = torch.tensor(data.y_train, dtype=torch.float32).reshape(-1, 1)
    what = f"training a copy of net with bce_loss ({TRAINING_STEPS} Adam steps, lr 0.002)"
    call = notebook.run(
        "torch.train_steps",
        "net",
        "bce_loss",
        x,
        y,
        x_test,
        steps=TRAINING_STEPS,
        lr=0.002,
        seed=int(rng.integers(2**31)),
        what=what,
    )
    run = call.value
    if not run["trainable"]:
        raise CheckFailure(
            f"bce_loss returned a {run['returned']}, which cannot be trained with: return the "
            "loss as a tensor (without .item() or float()) so that loss.backward() works."
        )
    losses = run["losses"]
    if not np.isfinite(losses[-1]):
        low, high = run["output_range"]
        cause = CLAMP_ADVICE
        if low < 0 or high > 1:
            cause = (
                f"net's outputs ranged from {low:.4g} to {high:.4g}, but a loss of probabilities "
                "needs outputs between 0 and 1: end net with a Sigmoid."
            )
        raise CheckFailure(
            f"While {what}, the loss became {losses[-1]} at step {len(losses)}.\n{cause}"
        )
    accuracy = reference.accuracy(run["test_output"].numpy().ravel(), data.y_test)
    if accuracy < TARGET_ACCURACY:
        raise CheckFailure(
            f"After {what}, the network classifies {accuracy:.1%} of the held-out digits "
            f"correctly; expected at least {TARGET_ACCURACY:.0%}. The loss went from "
            f"{losses[0]:.4g} to {losses[-1]:.4g}: check that bce_loss decreases as the "
            "predictions get better (its sign) and that it is a mean."
        )
