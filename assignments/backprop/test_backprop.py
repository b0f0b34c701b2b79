"""Visible checks for the backprop assignment: ``backward_pass(x, y_true, params)`` of a
three-layer MLP.

Students get these to self-check, so they hold no solution. The template gives
``forward_pass``; the expected gradients are numerical gradients (centred differences) of
the mean cross-entropy of the notebook's own ``forward_pass``, and the forward cache
(S1..A3) that ``backward_pass`` receives is what that ``forward_pass`` stored. The
comparisons with the reference solution, and other layer sizes, are in hidden_backprop.py.

13 points here, 14 when grading: 2 for each of the six gradients, 1 for leaving the
arguments alone (hidden_backprop.py adds 1 for other layer sizes). The gradients must be
computed by hand: a ``backward_pass`` that uses automatic differentiation (torch.autograd)
earns none of the gradient points, whatever it returns. These checks are
``self_check_only``: when grading, hidden_backprop.py runs the same checks again with the
reference's forward cache and gradients as their basis, so that a change to the given
forward_pass does not move backward_pass's grade. ``backward_pass`` is
called once per batch size; every check judges its own part of those calls, so one
gradient can be wrong while the others earn their points, and a message can say what the
others show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
import pytest

from grader.checks import (
    CheckFailure,
    GradientCall,
    Notebook,
    describe,
    expect_not_called,
    expect_unmodified,
    expect_working,
    parameter_gradients_at_once,
)

PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")
CACHE = ("S1", "A1", "S2", "A2", "S3", "A3")
# (n_in, h1, h2, n_out), all different so that a transposed gradient has the wrong shape.
SIZES = (5, 6, 4, 3)
# Batch sizes equal to no layer size; m = 1 is where a 1/m mistake cannot show.
BATCH_SIZES = (1, 7, 16)
TYPICAL_M = 7
# In the order backprop computes them, so that a report lists them in the order to fix them.
OUTPUT_FIRST = ("dW3", "db3", "dW2", "db2", "dW1", "db1")
# Networks per call into the kernel when computing numerical gradients (see
# mean_cross_entropies): 80 of the usual size make weight matrices of at most 480 x 400.
COPIES = 80
# What "by hand" rules out, outermost first so that a message names what the student wrote.
AUTODIFF = (
    "torch.Tensor.backward",
    "torch.autograd.functional.jacobian",
    "torch.func.grad",
    "torch.func.vjp",
    "torch.func.jacrev",
    "torch.autograd.grad",
    "torch.autograd.backward",
    "jax.grad",
    "autograd.grad",
)
BY_HAND = (
    "the assignment asks you to derive the gradients and compute them yourself, without "
    "automatic differentiation such as torch.autograd"
)
BASIS = (
    "The expected values are numerical gradients (centred differences) of the mean "
    "cross-entropy of your notebook's forward_pass, -(1/m) * sum(y_true * log(A3))."
)


class Calls:
    """The student's backward_pass on each problem, called once and shared by the checks."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._calls: dict[int, GradientCall] = {}
        self.inputs: dict[int, dict[str, np.ndarray]] = {}

    def get(self, notebook: Notebook, m: int) -> GradientCall:
        if m not in self._calls:
            rng = np.random.default_rng([self.seed, *SIZES, m])
            x, y_true, weights = problem(rng, SIZES, m)
            params = forward_cache(notebook, x, weights)
            self.inputs[m] = {"x": x, "y_true": y_true, **params}
            numerical = parameter_gradients_at_once(
                lambda points: mean_cross_entropies(notebook, x, y_true, points),
                weights,
                PARAMETERS,
            )
            call = notebook.call("backward_pass", x, y_true, params, watch=AUTODIFF)
            self._calls[m] = GradientCall.against_numerical(
                call, {f"d{k}": v for k, v in numerical.items()}, m=m, basis=BASIS
            )
        return self._calls[m]


def problem(
    rng: np.random.Generator, sizes: tuple[int, ...], m: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """x, one-hot y_true and random W1..b3 (biases nonzero so that db shows)."""
    weights = {}
    for layer, (fan_in, fan_out) in enumerate(pairwise(sizes), start=1):
        weights[f"W{layer}"] = rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)
        weights[f"b{layer}"] = rng.standard_normal((fan_out, 1)) * 0.5
    x = rng.standard_normal((sizes[0], m))
    y_true = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], m)]
    return x, y_true, weights


def forward_cache(
    notebook: Notebook, x: np.ndarray, weights: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The weights plus S1..A3 as the notebook's forward_pass stores them.

    forward_pass is given code: when a notebook has changed it, what these checks need from
    it (the cache stored in params, A3 returned) may be missing. That is said in one line,
    as a failure of the self-check; graded, backward_pass is judged against the reference's
    forward pass instead, whatever the notebook's forward_pass does."""
    call = notebook.call("forward_pass", x, dict(weights))
    lead = "The checks run your notebook's forward_pass (given in the template) first"
    graded = "When graded, backward_pass is judged with the reference's forward pass instead."
    if not call.ok:
        raise CheckFailure(f"{lead}, and it failed:\n{call.message}")
    params = call.args[1] if call.args_changed and isinstance(call.args[1], dict) else {}
    missing = [key for key in CACHE if key not in params]
    if missing:
        raise CheckFailure(
            f"{lead}; it did not store {', '.join(missing)} in params, which the template's "
            f"forward_pass stores and backward_pass needs. {graded}"
        )
    returned = call.raw_value
    if not isinstance(returned, np.ndarray):
        raise CheckFailure(
            f"Your notebook's forward_pass returns {describe(returned)}; the template's returns "
            f"A3, which these checks need for the loss. {graded}"
        )
    a3 = np.asarray(params["A3"], dtype=np.float64)
    if a3.shape != (SIZES[-1], x.shape[1]) or not np.allclose(a3.sum(axis=0), 1.0):
        raise CheckFailure(
            f"{lead}; its A3 is not one probability per class and example (shape "
            f"{(SIZES[-1], x.shape[1])}, each column summing to 1) as the template's is. {graded}"
        )
    if returned.shape != a3.shape or not np.allclose(returned, a3, rtol=1e-12, atol=0.0):
        raise CheckFailure(
            "Your notebook's forward_pass returns an array that is not the A3 it stores in "
            f'params; the template\'s returns params["A3"]. {graded}'
        )
    return dict(params)


def mean_cross_entropy(a3: np.ndarray, y_true: np.ndarray) -> float:
    """The loss the assignment states, -(1/m) * sum(y_true * log(A3))."""
    return float(-np.sum(y_true * np.log(a3)) / y_true.shape[1])


def mean_cross_entropies(
    notebook: Notebook,
    x: np.ndarray,
    y_true: np.ndarray,
    points: Sequence[Mapping[str, np.ndarray]],
) -> list[float]:
    """The loss of the notebook's forward_pass at each set of weights in ``points``.

    A numerical gradient needs hundreds of them, and a call into the kernel costs a few
    milliseconds: so COPIES networks at a time go into one call, side by side as one wide
    network (block-diagonal weights, x repeated), which the template's forward_pass computes
    like any other. Its softmax then runs over all the copies' outputs together; dividing
    each copy's block by its sum gives that copy's own softmax back. If the notebook's
    forward_pass cannot do this (it would have to be written for fixed sizes), or gets a
    different loss than one network at a time, the networks go one per call.
    """

    def alone(weights: Mapping[str, np.ndarray]) -> float:
        call = notebook.call("forward_pass", x, dict(weights))
        a3 = call.value
        if not isinstance(a3, np.ndarray) or a3.shape != y_true.shape:
            # forward_cache checked one call; a forward_pass may still answer others otherwise
            raise CheckFailure(
                f"Your notebook's forward_pass returned {describe(a3)} for other weights; the "
                f"template's returns A3 of shape {y_true.shape}. When graded, backward_pass is "
                "judged with the reference's forward pass instead."
            )
        return mean_cross_entropy(np.asarray(a3, dtype=np.float64), y_true)

    losses: list[float] = []
    for start in range(0, len(points), COPIES):
        chunk = points[start : start + COPIES]
        side_by_side = _side_by_side(notebook, x, y_true, chunk)
        if side_by_side is None or not np.isclose(side_by_side[0], alone(chunk[0]), rtol=1e-12):
            return [alone(weights) for weights in points]
        losses += [mean_cross_entropy(a3, y_true) for a3 in side_by_side[1]]
    return losses


def _side_by_side(
    notebook: Notebook,
    x: np.ndarray,
    y_true: np.ndarray,
    chunk: Sequence[Mapping[str, np.ndarray]],
) -> tuple[float, list[np.ndarray]] | None:
    """Each network's A3 from one forward_pass of them all side by side, and the first
    one's loss (to compare with a call of its own); None if forward_pass fails on it."""
    wide = {}
    for layer in (1, 2, 3):
        wide[f"W{layer}"] = _block_diagonal([weights[f"W{layer}"] for weights in chunk])
        wide[f"b{layer}"] = np.vstack([weights[f"b{layer}"] for weights in chunk])
    call = notebook.call("forward_pass", np.vstack([x] * len(chunk)), wide)
    n_out = SIZES[-1]
    if not call.ok or np.shape(call.raw_value) != (n_out * len(chunk), x.shape[1]):
        return None
    a3 = np.asarray(call.raw_value, dtype=np.float64)
    blocks = [a3[i : i + n_out] / a3[i : i + n_out].sum(axis=0) for i in range(0, len(a3), n_out)]
    return mean_cross_entropy(blocks[0], y_true), blocks


def _block_diagonal(blocks: Sequence[np.ndarray]) -> np.ndarray:
    rows, cols = blocks[0].shape
    out = np.zeros((rows * len(blocks), cols * len(blocks)))
    for i, block in enumerate(blocks):
        out[i * rows : (i + 1) * rows, i * cols : (i + 1) * cols] = block
    return out


@pytest.fixture(scope="module")
def calls(run_seed: int) -> Calls:
    return Calls(run_seed)


@pytest.mark.points(2)
@pytest.mark.self_check_only
@pytest.mark.parametrize("name", OUTPUT_FIRST)
def test_gradient(notebook: Notebook, calls: Calls, name: str) -> None:
    """backward_pass returns the right gradient"""
    expect_not_called(calls.get(notebook, TYPICAL_M).call, *AUTODIFF, reason=BY_HAND)
    failures = {m: calls.get(notebook, m).failure(name) for m in BATCH_SIZES}
    wrong = [m for m, message in failures.items() if message]
    if not wrong:
        return
    message = failures[wrong[0]] or ""
    right = [m for m in BATCH_SIZES if m not in wrong]
    if right:
        message += f"\n{name} is right for {_batches(right)} but not for {_batches(wrong)}."
    # One missing division by m makes every gradient wrong by m: charged once (assignment.toml).
    causes = {calls.get(notebook, m).cause(name) for m in wrong}
    raise CheckFailure(message, cause=causes.pop() if len(causes) == 1 else None)


@pytest.mark.points(1)
@pytest.mark.self_check_only
def test_leaves_arguments_unchanged(notebook: Notebook, calls: Calls) -> None:
    """backward_pass does not change x, y_true or the arrays in params"""
    judged = calls.get(notebook, TYPICAL_M)
    judged.gradients()  # fails unless the call returned a dict
    call = judged.call
    before = calls.inputs[TYPICAL_M]
    x_name, y_name, params_name = (call.argument_name(i) for i in range(3))
    expect_unmodified(before["x"], call.args[0], what=call.what, argument=x_name)
    expect_unmodified(before["y_true"], call.args[1], what=call.what, argument=y_name)
    params_after = call.args[2]
    for key in [*PARAMETERS, *CACHE]:
        argument = f'{params_name}["{key}"]'
        if key not in params_after:
            raise CheckFailure(
                f"{call.what} removed {argument} from the dict it was given; "
                "the caller still needs it."
            )
        if key in CACHE and _recomputed(before[key], params_after[key]):
            continue
        expect_unmodified(before[key], params_after[key], what=call.what, argument=argument)
    # Judged above whatever the gradients are; credit only goes to a backward pass that works.
    expect_working(judged)


def _recomputed(before: np.ndarray, after: object) -> bool:
    """A cache entry that forward_pass wrote again: the same values up to the last digits
    (a sigmoid written differently rounds differently), which is harmless."""
    return (
        isinstance(after, np.ndarray)
        and after.shape == before.shape
        and bool(np.allclose(after, before, rtol=1e-12, atol=1e-300))
    )


def _batches(sizes: list[int]) -> str:
    return "m = " + " and ".join(map(str, sizes))
