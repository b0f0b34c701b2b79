"""Visible checks for the BCE assignment (seed 004): ``bce_loss``, ``accuracy`` and ``net``.

Students get these to self-check, so they hold no solution: the losses and accuracies are
judged on small fixed examples whose expected values are written out below, and the
network is trained (a fresh copy, seeded from the grading seed) with the student's
``bce_loss`` on a small made-up problem, judged by what the loss does. Training on the
digits to a held-out accuracy is in hidden_bce.py.

9 points here, 10 when grading (hidden_bce.py adds 1). The template asks for BCE by
formula: a ``bce_loss`` that uses ``torch.nn.BCELoss`` or its functional form earns none of
its 4 value points (``bce_call``), whatever it returns; the training checks judge ``net``
and keep theirs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader.checks import (
    CallResult,
    CheckFailure,
    Notebook,
    TrainingSteps,
    expect_network,
    expect_not_called,
    expect_scalar,
    trace_model,
    train_steps,
)

ARCHITECTURE = ["Linear(784, 64)", "ReLU", "Linear(64, 1)", "Sigmoid"]
# A network other than the one asked for (one without its Sigmoid breaks training with any
# loss of probabilities too): charged once, at the architecture check.
NET_CAUSE = "net's architecture"
TRAINING_STEPS = 100
LEARNING_RATE = 0.002
CLAMP_ADVICE = (
    "log(0) is -inf, and 0 * -inf is nan, so the formula breaks as soon as the network's "
    "outputs reach exactly 0 or 1 (which happens quickly with unnormalised inputs). "
    "torch.nn.BCELoss clamps each log term at -100: use torch.clamp(torch.log(y_hat), min=-100) "
    "and the same for torch.log(1 - y_hat)."
)

# Fixed examples. Every expected value below was computed once, offline, with the reference
# solution (the same numbers as torch.nn.BCELoss in float64), and pasted here.
BCE_Y_HAT = [0.17, 0.618, 0.022, 0.942, 0.782, 0.358, 0.349, 0.647, 0.369, 0.389]
BCE_Y_HAT += [0.808, 0.737, 0.468, 0.457, 0.58, 0.227, 0.308, 0.75, 0.435, 0.06]
BCE_Y = [1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0]
BCE_EXPECTED = 0.9254974
# Outputs exactly 0 and 1: each log term clamped at -100, as torch.nn.BCELoss does.
SATURATED_Y_HAT = [0.0, 1.0, 0.0, 1.0, 0.3]
SATURATED_Y = [0.0, 1.0, 1.0, 0.0, 1.0]
SATURATED_EXPECTED = 40.240795
# The template asks only for a finite loss "as BCELoss's does", not for BCELoss's clamp at
# -100: any clamp of log(0) to -c with c from -log(1e-2) to 100 (eps = 1e-7 gives 16.1,
# log(p + 1e-8) gives 18.4) is as right. Two of the five terms are log(0) (wrong
# predictions), two are log(1) = 0 and one is -log(0.3): the mean is (2c - log(0.3)) / 5.
SATURATED_CLAMPS = (-np.log(1e-2), 100.0)
SATURATED_RANGE = tuple((2 * c - np.log(0.3)) / 5 for c in SATURATED_CLAMPS)
NUMPY_Y_HAT = [0.088, 0.937, 0.841, 0.907, 0.145, 0.797, 0.262, 0.286, 0.734, 0.852]
NUMPY_Y = [0, 0, 0, 1, 0, 0, 1, 0, 0, 1]
NUMPY_EXPECTED = 0.9705114
ACCURACY_Y_HAT = [0.808, 0.987, 0.164, 0.994, 0.998, 0.962, 0.839, 0.21, 0.88, 0.292]
ACCURACY_Y_HAT += [0.489, 0.359, 0.638, 0.929, 0.248, 0.122, 0.119, 0.126, 0.054, 0.139]
ACCURACY_Y_HAT += [0.93, 0.234, 0.626, 0.081, 0.584]
ACCURACY_Y = [1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1]
ACCURACY_EXPECTED = 0.72  # 18 of 25
# Exactly 0.5 counts as predicting 0: the template asks for 1 only if y_hat > 0.5. Both 0.5s
# are labelled 0, so that a threshold of y_hat >= 0.5 scores differently (were one of them
# labelled 1, > and >= would each get one of the two right, and the same score).
EDGE_Y_HAT = [0.5, 0.5, 0.0, 1.0, 0.50001, 0.49999, 0.9, 0.1]
EDGE_Y = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
EDGE_EXPECTED = 0.75  # 6 of 8
EDGE_AT_LEAST = 0.5  # 4 of 8: what y_hat >= 0.5 gives
SHAPES = {"(n, 1)": (-1, 1), "(n,)": (-1,)}
# What the template rules out ("by formula, without torch.nn.BCELoss"), classes before the
# functions they call, so that a message names what the student wrote.
NOT_BY_FORMULA = (
    "torch.nn.BCELoss",
    "torch.nn.BCEWithLogitsLoss",
    "torch.nn.functional.binary_cross_entropy",
    "torch.nn.functional.binary_cross_entropy_with_logits",
)
RULE = "the assignment asks for binary cross-entropy by formula, without torch.nn.BCELoss"


def tensors(y_hat: list[float], y: list[float], shape: tuple[int, ...] = (-1, 1)) -> tuple:
    """Predictions and labels as float32 tensors of ``shape``, like a network's."""
    return tuple(torch.tensor(v, dtype=torch.float32).reshape(shape) for v in (y_hat, y))


def as_number(value: object) -> float | None:
    """The single number a loss function returned, or None (expect_scalar then explains)."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None
    return float(array.ravel()[0]) if array.size == 1 else None


def bce_call(notebook: Notebook, *args: object) -> CallResult:
    """The student's bce_loss(*args); fails the check if it used what the template rules out."""
    call = notebook.call("bce_loss", *args, watch=NOT_BY_FORMULA)
    expect_not_called(call, *NOT_BY_FORMULA, reason=RULE)
    return call


def mean_hints(n: int) -> dict[float, str]:
    return {float(n): f"the sum over the batch instead of the mean: divide by n = {n}"}


BROADCAST = (
    "That is the value over an (n, n) matrix: y_hat of shape (n, 1) and y of shape (n,) (or "
    "the other way round) broadcast against each other, pairing every prediction with every "
    "label. Give both the same shape first (y.reshape(-1, 1), or y_hat.reshape(-1))."
)


def broadcast_mistakes(y_hat: list[float], y: list[float]) -> dict[str, dict[str, float]]:
    """What bce_loss and accuracy give when y_hat (n, 1) meets y (n,): every pair (i, j)."""
    p, t = np.array(y_hat)[:, None], np.array(y)[None, :]
    with np.errstate(divide="ignore"):
        terms = t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100)
    return {
        "bce_loss": {BROADCAST: float(-terms.mean())},
        "accuracy": {BROADCAST: float(((p > 0.5) == t).mean())},
    }


@pytest.mark.points(2, shared=True)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_bce_values(notebook: Notebook, shape: tuple[int, ...]) -> None:
    """bce_loss(y_hat, y) is the mean binary cross-entropy"""
    call = bce_call(notebook, *tensors(BCE_Y_HAT, BCE_Y, shape))
    hints = mean_hints(len(BCE_Y))
    mistakes = broadcast_mistakes(BCE_Y_HAT, BCE_Y)["bce_loss"]
    expect_scalar(
        call.value,
        BCE_EXPECTED,
        what=call.what,
        rtol=1e-5,
        factor_hints=hints,
        mistakes=mistakes,
    )


@pytest.mark.points(1)
def test_bce_saturated_outputs(notebook: Notebook) -> None:
    """bce_loss(y_hat, y) stays finite when y_hat is exactly 0 or 1"""
    call = bce_call(notebook, *tensors(SATURATED_Y_HAT, SATURATED_Y))
    value = call.value
    number = as_number(value)
    if number is not None and not np.isfinite(number):
        raise CheckFailure(
            f"{call.what} returned {number} for y_hat = {SATURATED_Y_HAT} and "
            f"y = {SATURATED_Y}; torch.nn.BCELoss gives {SATURATED_EXPECTED:.6g}.\n{CLAMP_ADVICE}"
        )
    if number is None:  # not a single number: explained as for any loss
        expect_scalar(value, SATURATED_EXPECTED, what=call.what, rtol=1e-5)
        return
    low, high = SATURATED_RANGE
    if low * (1 - 1e-4) <= number <= high * (1 + 1e-4):
        return  # log(0) clamped somewhere between log(1e-2) and BCELoss's -100
    n = len(SATURATED_Y)
    summed = low * n * (1 - 1e-4) <= number <= high * n * (1 + 1e-4)
    sum_hint = f" It is the sum over the batch instead of the mean: divide by n = {n}."
    raise CheckFailure(
        f"{call.what} returned {number:.6g} for y_hat = {SATURATED_Y_HAT} and y = {SATURATED_Y}; "
        f"expected a finite loss between {low:.4g} and {high:.4g}: the mean over the {n} "
        "examples, with log(0) clamped to a large negative number (torch.nn.BCELoss clamps at "
        f"-100, which gives {SATURATED_EXPECTED:.6g}; log(y_hat + 1e-7) gives about 6.7)."
        + (sum_hint if summed else "")
    )


@pytest.mark.points(1)
def test_bce_accepts_numpy_arrays(notebook: Notebook) -> None:
    """bce_loss(y_hat, y) is right on another batch (given as NumPy arrays if it takes them)"""
    given = tensors(NUMPY_Y_HAT, NUMPY_Y)
    call = bce_call(notebook, *(t.numpy() for t in given))
    if call.error is not None:
        # The template promises tensors only: a bce_loss that refuses NumPy arrays is not
        # wrong, and is judged on the same values as tensors.
        call = bce_call(notebook, *given)
    expect_scalar(call.value, NUMPY_EXPECTED, what=call.what, rtol=1e-5)


@pytest.mark.points(1, shared=True)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_accuracy_values(notebook: Notebook, shape: tuple[int, ...]) -> None:
    """accuracy(y_hat, y) is the fraction of correct predictions"""
    call = notebook.call("accuracy", *tensors(ACCURACY_Y_HAT, ACCURACY_Y, shape))
    n = len(ACCURACY_Y)
    hints = {float(n): f"a count of correct predictions instead of a fraction: divide by n = {n}"}
    mistakes = broadcast_mistakes(ACCURACY_Y_HAT, ACCURACY_Y)["accuracy"]
    expect_scalar(
        call.value, ACCURACY_EXPECTED, what=call.what, factor_hints=hints, mistakes=mistakes
    )


@pytest.mark.points(1)
def test_accuracy_edge_cases(notebook: Notebook) -> None:
    """accuracy(y_hat, y) counts exactly 0.5 as predicting 0"""
    call = notebook.call("accuracy", *tensors(EDGE_Y_HAT, EDGE_Y))
    if as_number(call.value) == EDGE_AT_LEAST:
        raise CheckFailure(
            f"{call.what} returned {EDGE_AT_LEAST} for y_hat = {EDGE_Y_HAT} and y = {EDGE_Y}; "
            f"expected {EDGE_EXPECTED}. It counts y_hat exactly 0.5 as predicting 1; the task "
            "asks for 1 only if y_hat > 0.5 (strictly greater), so 0.5 predicts 0."
        )
    hints = {float(len(EDGE_Y)): "a count, not a fraction"}
    expect_scalar(call.value, EDGE_EXPECTED, what=call.what, factor_hints=hints)


@pytest.mark.points(2)
def test_net_architecture(notebook: Notebook, rng: np.random.Generator) -> None:
    """net is Linear(784, 64) → ReLU → Linear(64, 1) → Sigmoid"""
    x = torch.rand(3, 784)
    trace = trace_model(notebook, "net", x, seed=int(rng.integers(2**31)), what="net")
    try:
        expect_network(trace, x, ARCHITECTURE, what="net")
    except CheckFailure as failure:
        # An output outside [0, 1] also breaks the training checks: charged once, here.
        raise CheckFailure(str(failure), cause=NET_CAUSE) from None


def made_up_problem(rng: np.random.Generator, n: int = 200) -> tuple[torch.Tensor, ...]:
    """Images (n, 784) in [0, 1] of two kinds, the upper or the lower half brighter, with
    labels (n, 1) saying which: a problem any right network and loss learn at once."""
    y = rng.integers(0, 2, n)
    x = rng.uniform(0.0, 0.5, (n, 784))
    x[:, :392] += 0.5 * (y == 0)[:, None]
    x[:, 392:] += 0.5 * (y == 1)[:, None]
    as_float = {"dtype": torch.float32}
    return torch.tensor(x, **as_float), torch.tensor(y, **as_float).reshape(-1, 1)


def train_with_bce_loss(
    notebook: Notebook, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor, seed: int, what: str
) -> TrainingSteps:
    """A fresh copy of net trained on (x, y) with the student's bce_loss; fails the check,
    with the reason, unless the loss could be trained with and stayed finite."""
    run = train_steps(
        notebook,
        "net",
        "bce_loss",
        x,
        y,
        x_test,
        steps=TRAINING_STEPS,
        lr=LEARNING_RATE,
        seed=seed,
        what=what,
    )
    if not run.trainable:
        raise CheckFailure(
            f"bce_loss returned a {run.returned_type}, which cannot be trained with: return the "
            "loss as a tensor (without .item() or float()) so that loss.backward() works."
        )
    losses = run.losses
    negative = [loss for loss in losses if loss < 0]
    if negative:  # before NaN: minimising a negated loss drives the outputs to 0 or 1
        raise CheckFailure(
            f"While {what}, bce_loss became negative ({negative[0]:.4g} at step "
            f"{losses.index(negative[0]) + 1}); a binary cross-entropy is never negative. "
            "Check its sign."
        )
    if not np.isfinite(losses[-1]):
        low, high = run.output_range
        cause = CLAMP_ADVICE
        if low < 0 or high > 1:
            cause = (
                f"net's outputs ranged from {low:.4g} to {high:.4g}, but a loss of probabilities "
                "needs outputs between 0 and 1: end net with a Sigmoid."
            )
        raise CheckFailure(
            f"While {what}, the loss became {losses[-1]} at step {len(losses)}.\n{cause}",
            cause=NET_CAUSE if low < 0 or high > 1 else None,
        )
    return run


@pytest.mark.points(1)
@pytest.mark.time_limit(60)
def test_training_with_bce_loss(notebook: Notebook, rng: np.random.Generator) -> None:
    """a fresh copy of net trained with bce_loss learns a simple problem"""
    x, y = made_up_problem(rng)
    what = (
        f"training a copy of net with bce_loss on two kinds of made-up images "
        f"({TRAINING_STEPS} Adam steps, lr {LEARNING_RATE})"
    )
    run = train_with_bce_loss(notebook, x, y, x[:1], int(rng.integers(2**31)), what)
    first, last = run.losses[0], run.losses[-1]
    # Learnt at once by any right network and loss: the loss falls below a tenth.
    if not last < 0.1 * first:
        raise CheckFailure(
            f"While {what}, the loss only went from {first:.4g} to {last:.4g}; a right network "
            "and loss bring it below a tenth of where it started. Check that bce_loss is a "
            "mean that decreases as the predictions get better."
        )
