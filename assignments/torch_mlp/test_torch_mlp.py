"""Checks for the PyTorch MLP assignment (seed 000, tasks 3-4): ``Net``, ``train``, ``evaluate``.

Every check builds a fresh ``Net()`` in the kernel, seeded from the grading seed, and
runs the student's code on the bundled digits (never on the notebook's own data).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest
import torch

import reference
from grader import CheckFailure, Notebook, expect_layers, expect_scalar
from reference import digits

LINEAR_LAYERS = ["Linear(784, 128)", "Linear(128, 64)", "Linear(64, 10)"]
# Over many seeds the solution reaches 92-94% with these; the target leaves a margin.
BATCH_SIZE = 32
LEARNING_RATE = 0.05
EPOCHS = 10
TARGET_ACCURACY = 0.85


@cache
def data() -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test): images (N, 1, 28, 28) in [0, 1], labels 0-9."""
    d = digits.load()

    def images(a: np.ndarray) -> torch.Tensor:
        return torch.tensor(a / 255, dtype=torch.float32).unsqueeze(1)

    return images(d.x_train), torch.tensor(d.y_train), images(d.x_test), torch.tensor(d.y_test)


def seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31))


@pytest.mark.points(3)
def test_architecture(notebook: Notebook, rng: np.random.Generator) -> None:
    """Net is Linear(784, 128) → ReLU → Linear(128, 64) → ReLU → Linear(64, 10)"""
    x = torch.rand(5, 784)
    trace = notebook.run("torch.trace", "Net", x, seed=seed(rng), what="Net()").value
    linear = [call for call in trace["calls"] if call["type"] == "Linear"]
    expect_layers(linear, LINEAR_LAYERS, what="Net (counting its Linear layers)")
    weights = [(layer["weight"].numpy(), layer["bias"].numpy()) for layer in trace["linear"]]
    expected = reference.linear_relu_stack(x.numpy(), weights)
    if np.allclose(trace["output"].numpy(), expected, rtol=1e-4, atol=1e-5):
        return
    others = sorted({call["type"] for call in trace["calls"]} - {"Linear", "ReLU"})
    if others:
        used = ", ".join(others)
        raise CheckFailure(
            f"Net's forward() uses {used} between its Linear layers; the assignment asks for "
            "ReLU after the first and the second Linear layer, and nothing after the last."
        )
    raise CheckFailure(
        "Net's output is not Linear → ReLU → Linear → ReLU → Linear of its own weights. "
        "Check forward(): a ReLU after each of the first two layers, none after the last "
        "(nn.CrossEntropyLoss applies the softmax)."
    )


@pytest.mark.points(1, shared=True)
@pytest.mark.parametrize("shape", [(6, 784), (6, 1, 28, 28)], ids=["(N, 784)", "(N, 1, 28, 28)"])
def test_output_shape(notebook: Notebook, rng: np.random.Generator, shape: tuple[int]) -> None:
    """Net() maps a batch of N images to (N, 10) scores"""
    x = torch.rand(shape)
    call = notebook.run("torch.trace", "Net", x, seed=seed(rng), what=f"Net() on input {shape}")
    advice = "Flatten the input in forward() with x.view(-1, 784) (or x.flatten(1))."
    if call.error is not None:
        raise CheckFailure(f"{call.message}\n{advice}")
    got = tuple(call.value["output"].shape)
    if got != (6, 10):
        raise CheckFailure(
            f"Net() returned shape {got} for input of shape {shape}; expected (6, 10). {advice}"
        )


def train_one_epoch(notebook: Notebook, rng: np.random.Generator) -> dict[str, Any]:
    x, y, _, _ = data()
    return notebook.run(
        "torch.train_epoch",
        "Net",
        "train",
        x,
        y,
        batch_size=BATCH_SIZE,
        lr=LEARNING_RATE,
        seed=seed(rng),
        what="train(model, train_loader, optimizer)",
    ).value


@pytest.mark.points(2)
@pytest.mark.time_limit(60)
def test_train_updates_the_model(notebook: Notebook, rng: np.random.Generator) -> None:
    """one epoch of train() updates every parameter and lowers the loss"""
    run = train_one_epoch(notebook, rng)
    batches, what = run["batches"], "train(model, train_loader, optimizer)"
    if batches == 0:
        raise CheckFailure(f"{what} never took a batch from train_loader.")
    unchanged = [name for name, change in run["changed"].items() if change == 0]
    if len(unchanged) == len(run["changed"]):
        cause = (
            "optimizer.step() was never called: call it after loss.backward() for each batch."
            if run["step_calls"] == 0
            else "optimizer.step() was called, but there were no gradients: "
            "did you call loss.backward()?"
        )
        raise CheckFailure(
            f"{what} went through {batches} batches but did not change the model's "
            f"parameters. {cause}"
        )
    if run["zero_grad_calls"] < batches:
        raise CheckFailure(
            f"{what} called optimizer.zero_grad() {run['zero_grad_calls']} times for "
            f"{batches} batches. Without it, each batch's gradients are added to those of "
            "all the batches before: call it at the start of every batch."
        )
    if unchanged:
        raise CheckFailure(f"{what} did not update these parameters: {', '.join(unchanged)}.")
    before, after = run["loss_before"], run["loss_after"]
    if not after < before:
        raise CheckFailure(
            f"One epoch of {what} did not lower the loss on the training data "
            f"(from {before:.4g} to {after:.4g}). Check the loss and the sign of the update."
        )


@pytest.mark.points(1)
@pytest.mark.time_limit(60)
def test_train_returns_mean_batch_loss(notebook: Notebook, rng: np.random.Generator) -> None:
    """train() returns the mean of the batch losses"""
    run = train_one_epoch(notebook, rng)
    losses = run["batch_losses"]
    if not losses:
        raise CheckFailure("train(model, train_loader, optimizer) never ran the model.")
    what = "train(model, train_loader, optimizer)"
    returned = run["returned"]
    if np.size(returned) == 1 and np.isclose(float(returned), losses[-1], rtol=1e-4):
        if not np.isclose(losses[-1], np.mean(losses), rtol=1e-4):
            raise CheckFailure(
                f"{what} returned {float(returned):.6g}, the loss of the last batch; expected "
                f"the mean over all {len(losses)} batches, {np.mean(losses):.6g}."
            )
    hints = {
        float(len(losses)): f"the sum of the batch losses: divide by the {len(losses)} batches"
    }
    expect_scalar(returned, float(np.mean(losses)), what=what, rtol=1e-4, factor_hints=hints)


def evaluate_once(notebook: Notebook, rng: np.random.Generator) -> dict[str, Any]:
    _, _, x, y = data()
    return notebook.run(
        "torch.evaluate",
        "Net",
        "evaluate",
        x,
        y,
        batch_size=BATCH_SIZE,
        seed=seed(rng),
        what="evaluate(model, test_loader)",
    ).value


@pytest.mark.points(1)
def test_evaluate_values(notebook: Notebook, rng: np.random.Generator) -> None:
    """evaluate() returns (mean batch loss, accuracy in percent)"""
    run = evaluate_once(notebook, rng)
    what = "evaluate(model, test_loader)"
    returned = run["returned"]
    if not (isinstance(returned, tuple | list) and len(returned) == 2):
        raise CheckFailure(f"{what} returned {returned!r}; expected (mean loss, accuracy).")
    _, _, _, y = data()
    logits, labels = run["outputs"].numpy(), y.numpy()
    starts = range(0, len(labels), BATCH_SIZE)
    batch_means = [
        reference.softmax_cross_entropy(logits[i : i + BATCH_SIZE], labels[i : i + BATCH_SIZE])
        for i in starts
    ]
    # The mean of the batch means, as asked; the mean over all examples is as good.
    loss = float(returned[0]) if np.size(returned[0]) == 1 else returned[0]
    overall = reference.softmax_cross_entropy(logits, labels)
    if not np.isclose(loss, overall, rtol=1e-4):
        expect_scalar(loss, float(np.mean(batch_means)), what=f"{what}[0], the loss", rtol=1e-4)
    percent = 100 * float(np.mean(logits.argmax(axis=1) == labels))
    hints = {
        0.01: "a fraction; the assignment asks for a percentage: multiply by 100",
        len(labels) / 100: "the number of correct predictions, not a percentage",
    }
    expect_scalar(
        returned[1], percent, what=f"{what}[1], the accuracy", rtol=1e-4, factor_hints=hints
    )


@pytest.mark.points(1)
def test_evaluate_mode(notebook: Notebook, rng: np.random.Generator) -> None:
    """evaluate() puts the model in eval mode and computes no gradients"""
    run = evaluate_once(notebook, rng)
    what = "evaluate(model, test_loader)"
    if not run["grad_enabled"]:
        raise CheckFailure(f"{what} never ran the model.")
    problems = []
    if run["training_after"]:
        problems.append(
            "It left the model in training mode: call model.eval() before evaluating "
            "(layers such as dropout and batch norm behave differently in training)."
        )
    if any(run["grad_enabled"]):
        problems.append(
            "It ran the model with gradients enabled: wrap the loop in "
            "`with torch.no_grad():` so that no computation graph is built."
        )
    if problems:
        raise CheckFailure("\n".join([f"{what} is not a proper evaluation.", *problems]))


@pytest.mark.points(1)
@pytest.mark.time_limit(90)
def test_short_training_run(notebook: Notebook, rng: np.random.Generator) -> None:
    """a fresh Net trained with train() classifies held-out digits"""
    x, y, x_test, y_test = data()
    what = f"{EPOCHS} epochs of train() with SGD (lr {LEARNING_RATE}, batches of {BATCH_SIZE})"
    run = notebook.run(
        "torch.fit",
        "Net",
        "train",
        x,
        y,
        x_test,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        lr=LEARNING_RATE,
        seed=seed(rng),
        what=what,
    ).value
    accuracy = float(np.mean(run["test_output"].numpy().argmax(axis=1) == y_test.numpy()))
    if not accuracy >= TARGET_ACCURACY:
        raise CheckFailure(
            f"After {what}, a fresh Net classifies {accuracy:.1%} of the held-out digits "
            f"correctly; expected at least {TARGET_ACCURACY:.0%}."
        )
