"""Visible checks for the PyTorch MLP assignment (seed 000, tasks 3-4): ``Net``, ``train``,
``evaluate``.

Students get these to self-check, so they hold no solution: Net is judged by what it
computes (its Linear layers' sizes, and the activations between them found from the values,
so modules or torch.relu, Sequential or a class are all accepted) and the shape of its
output; train and evaluate by what they do to a fresh network, seeded from the grading seed,
on made-up images (never the notebook's own data), run with a stand-in network of the
asked-for sizes rather than the student's Net, so that a wrong Net costs its own points
only. evaluate gets every image once with
each of the ten labels, so whatever the model predicts, exactly a tenth of its answers are
right. Net's output against a reference forward pass, and a
short training run on the bundled digits, are in hidden_torch_mlp.py.

8 points here, 10 when grading (hidden_torch_mlp.py adds 2).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional

from grader.checks import (
    CallFailed,
    CheckFailure,
    Evaluation,
    Notebook,
    TrainingEpoch,
    describe,
    evaluate_model,
    expect_network,
    expect_scalar,
    trace_model,
    train_epoch,
)

ARCHITECTURE = ["Linear(784, 128)", "ReLU", "Linear(128, 64)", "ReLU", "Linear(64, 10)"]
# What the architecture check charges, once, for a network other than the one asked for.
ARCHITECTURE_CAUSE = "Net's architecture"
# train() and evaluate() are judged with a stand-in network of the asked-for sizes (built in
# the kernel, Flatten first), never with the student's Net: a wrong Net is failed (once) by
# the checks above, and does not move the verdict on train or evaluate.
STAND_IN = [784, 128, 64, 10]
BATCH_SIZE = 32
LEARNING_RATE = 0.05
# 45 batches of 32 for train(), as many as the digits' training set makes.
TRAIN_IMAGES = 1440
# evaluate(): each image with all ten labels, in batches of whole groups of ten.
EVALUATE_IMAGES = 12
EVALUATE_BATCH = 30
EVERY_LABEL = torch.arange(10).repeat(EVALUATE_IMAGES)


def made_up_images(rng: np.random.Generator, labels: np.ndarray) -> torch.Tensor:
    """Images (N, 1, 28, 28) in [0, 1], each a noisy copy of its label's own random
    pattern: a problem any right network and training loop start learning at once."""
    patterns = rng.uniform(0.0, 1.0, (10, 1, 28, 28))
    noise = rng.uniform(0.0, 1.0, (len(labels), 1, 28, 28))
    return torch.tensor(0.7 * patterns[labels] + 0.3 * noise, dtype=torch.float32)


def seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31))


@pytest.mark.points(2)
def test_architecture(notebook: Notebook, rng: np.random.Generator) -> None:
    """Net is Linear(784, 128) → ReLU → Linear(128, 64) → ReLU → Linear(64, 10)"""
    x = torch.rand(5, 784)
    trace = trace_model(notebook, "Net", x, seed=seed(rng), what="Net()")
    try:
        expect_network(trace, x, ARCHITECTURE, what="Net")
    except CheckFailure as failure:
        message = str(failure)
        if message.startswith("After Linear(64, 10)"):
            message += (
                "\nnn.CrossEntropyLoss applies the softmax itself: forward() returns "
                "the last Linear layer's scores."
            )
        # The hidden check of Net's output is not judged for it: charged once, here.
        raise CheckFailure(message, cause=ARCHITECTURE_CAUSE) from None


@pytest.mark.points(1, shared=True)
@pytest.mark.parametrize("shape", [(6, 784), (6, 1, 28, 28)], ids=["(N, 784)", "(N, 1, 28, 28)"])
def test_output_shape(notebook: Notebook, rng: np.random.Generator, shape: tuple[int]) -> None:
    """Net() maps a batch of N images to (N, 10) scores"""
    x = torch.rand(shape)
    advice = "Flatten the input in forward() with x.view(-1, 784) (or x.flatten(1))."
    try:
        trace = trace_model(notebook, "Net", x, seed=seed(rng), what=f"Net() on input {shape}")
    except CallFailed as failed:
        if failed.call.error is None:
            raise
        raise CheckFailure(f"{failed}\n{advice}") from None
    if not isinstance(trace.output, torch.Tensor):
        raise CheckFailure(
            f"Net() returned {describe(trace.output)} for input of shape {shape}; expected a "
            "tensor of shape (6, 10): forward() returns the last layer's output."
        )
    got = tuple(trace.output.shape)
    if got != (6, 10):
        raise CheckFailure(
            f"Net() returned shape {got} for input of shape {shape}; expected (6, 10). {advice}"
        )


def train_one_epoch(notebook: Notebook, rng: np.random.Generator) -> TrainingEpoch:
    labels = rng.integers(0, 10, TRAIN_IMAGES)
    x, y = made_up_images(rng, labels), torch.tensor(labels)
    return train_epoch(
        notebook,
        STAND_IN,
        "train",
        x,
        y,
        batch_size=BATCH_SIZE,
        lr=LEARNING_RATE,
        seed=seed(rng),
        what="train(model, train_loader, optimizer)",
    )


@pytest.mark.points(2)
@pytest.mark.time_limit(60)
def test_train_updates_the_model(notebook: Notebook, rng: np.random.Generator) -> None:
    """one epoch of train() updates every parameter and lowers the loss"""
    run = train_one_epoch(notebook, rng)
    batches, what = run.batches, "train(model, train_loader, optimizer)"
    if batches == 0:
        raise CheckFailure(f"{what} never took a batch from train_loader.")
    unchanged = [name for name, change in run.changed.items() if change == 0]
    if len(unchanged) == len(run.changed):
        cause = (
            "optimizer.step() was never called: call it after loss.backward() for each batch."
            if run.step_calls == 0
            else "optimizer.step() was called, but there were no gradients: "
            "did you call loss.backward()?"
        )
        raise CheckFailure(
            f"{what} went through {batches} batches but did not change the model's "
            f"parameters. {cause}"
        )
    if run.zero_grad_calls < batches:
        raise CheckFailure(
            f"{what} called optimizer.zero_grad() {run.zero_grad_calls} times for "
            f"{batches} batches. Without it, each batch's gradients are added to those of "
            "all the batches before: call it at the start of every batch."
        )
    if unchanged:
        raise CheckFailure(f"{what} did not update these parameters: {', '.join(unchanged)}.")
    before, after = run.loss_before, run.loss_after
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
    losses = run.batch_losses
    if not losses:
        raise CheckFailure("train(model, train_loader, optimizer) never ran the model.")
    what = "train(model, train_loader, optimizer)"
    returned = run.returned
    number = single_number(returned)
    if number is not None and np.isclose(number, losses[-1], rtol=1e-4):
        if not np.isclose(losses[-1], np.mean(losses), rtol=1e-4):
            raise CheckFailure(
                f"{what} returned {number:.6g}, the loss of the last batch; expected "
                f"the mean over all {len(losses)} batches, {np.mean(losses):.6g}."
            )
    hints = {
        float(len(losses)): f"the sum of the batch losses: divide by the {len(losses)} batches"
    }
    expect_scalar(returned, float(np.mean(losses)), what=what, rtol=1e-4, factor_hints=hints)


def single_number(value: object) -> float | None:
    """The one number ``value`` holds, or None (expect_scalar then explains what it is)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        return None
    return float(array.reshape(())) if array.size == 1 else None


def evaluate_once(notebook: Notebook, rng: np.random.Generator) -> Evaluation:
    x, y = every_label(rng)
    return evaluate_model(
        notebook,
        STAND_IN,
        "evaluate",
        x,
        y,
        batch_size=EVALUATE_BATCH,
        seed=seed(rng),
        what="evaluate(model, test_loader)",
    )


def every_label(rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """EVALUATE_IMAGES images, each ten times in a row, with the labels 0 to 9: a model
    predicts one class per image, so exactly one in ten of its predictions is right."""
    images = made_up_images(rng, rng.integers(0, 10, EVALUATE_IMAGES))
    return images.repeat_interleave(10, dim=0), EVERY_LABEL


@pytest.mark.points(1)
def test_evaluate_values(notebook: Notebook, rng: np.random.Generator) -> None:
    """evaluate() returns (mean batch loss, accuracy in percent)"""
    run = evaluate_once(notebook, rng)
    what = "evaluate(model, test_loader)"
    returned = run.returned
    if not (isinstance(returned, tuple | list) and len(returned) == 2):
        raise CheckFailure(f"{what} returned {returned!r}; expected (mean loss, accuracy).")
    labels = EVERY_LABEL
    # Batches of equal size: the mean of the batch losses is the loss over all examples,
    # which the notebook's criterion (nn.CrossEntropyLoss) computes from the outputs.
    loss = float(functional.cross_entropy(run.outputs, labels))
    batches = len(labels) // EVALUATE_BATCH
    sums = {float(batches): f"the sum of the batch losses: divide by the {batches} batches"}
    expect_scalar(returned[0], loss, what=f"{what}[0], the loss", rtol=1e-4, factor_hints=sums)
    n = len(labels)
    hints = {
        0.01: "a fraction; the assignment asks for a percentage: multiply by 100",
        n / 100: "the number of correct predictions, not a percentage",
    }
    # Each image comes with every label once: exactly 1 in 10 predictions is right.
    note = f" (on {n // 10} images given with each of the 10 labels, exactly 1 in 10 is right)"
    expect_scalar(
        returned[1], 10.0, what=f"{what}[1], the accuracy{note}", rtol=1e-4, factor_hints=hints
    )


@pytest.mark.points(1)
def test_evaluate_mode(notebook: Notebook, rng: np.random.Generator) -> None:
    """evaluate() puts the model in eval mode and computes no gradients"""
    run = evaluate_once(notebook, rng)
    what = "evaluate(model, test_loader)"
    if not run.grad_enabled:
        raise CheckFailure(f"{what} never ran the model.")
    problems = []
    if run.training_after:
        problems.append(
            "It left the model in training mode: call model.eval() before evaluating "
            "(layers such as dropout and batch norm behave differently in training)."
        )
    if any(run.grad_enabled):
        problems.append(
            "It ran the model with gradients enabled: wrap the loop in "
            "`with torch.no_grad():` so that no computation graph is built."
        )
    if problems:
        raise CheckFailure("\n".join([f"{what} is not a proper evaluation.", *problems]))
