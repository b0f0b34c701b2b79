"""Checks for the backprop assignment: ``backward_pass(x, y_true, params)`` of a three-layer MLP.

14 points when grading, 13 when a student self-checks (one check is hidden): 2 for each of
the six gradients, 1 for leaving the arguments alone, 1 for other layer sizes.

The student's function gets parameters and a forward cache (S1..A3) computed by the
reference, so a forward bug cannot cascade into the backward checks. It is called once
per batch size; every check judges its own part of those calls, so one gradient can be
wrong while the others earn their points, and a message can say what the others show.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from grader import CheckFailure, Notebook, expect_unmodified
from grader.backprop import GradientCall
from grader.gradcheck import TOLERANCE, compare_gradients, parameter_gradients
from reference.mlp import CACHE, GRADIENTS, PARAMETERS

# (n_in, h1, h2, n_out), all different so that a transposed gradient has the wrong shape.
SIZES = (5, 6, 4, 3)
OTHER_SIZES = (8, 5, 7, 4)
# Batch sizes equal to no layer size; m = 1 is where a 1/m mistake cannot show.
BATCH_SIZES = (1, 7, 16)
TYPICAL_M = 7
# In the order backprop computes them, so that a report lists them in the order to fix them.
OUTPUT_FIRST = ("dW3", "db3", "dW2", "db2", "dW1", "db1")


class Calls:
    """The student's backward_pass on each problem, called once and shared by the checks."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._calls: dict[tuple[tuple[int, ...], int], GradientCall] = {}
        self.inputs: dict[tuple[tuple[int, ...], int], dict[str, np.ndarray]] = {}

    def get(self, notebook: Notebook, sizes: tuple[int, ...], m: int) -> GradientCall:
        key = (sizes, m)
        if key not in self._calls:
            rng = np.random.default_rng([self.seed, *sizes, m])
            x, y_true, params = problem(rng, sizes, m)
            self.inputs[key] = {"x": x, "y_true": y_true, **params}
            call = notebook.call("backward_pass", x, y_true, params)
            self._calls[key] = GradientCall(call, *expected_gradients(x, y_true, params), m=m)
        return self._calls[key]


def problem(
    rng: np.random.Generator, sizes: tuple[int, ...], m: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """x, one-hot y_true, and parameters holding the reference's forward cache."""
    n_in, h1, h2, n_out = sizes
    params = reference.init_params((n_in, h1, h2, n_out), rng)
    x = rng.standard_normal((n_in, m))
    y_true = np.eye(n_out)[:, rng.integers(0, n_out, m)]
    reference.forward_pass(x, params)
    return x, y_true, params


def expected_gradients(
    x: np.ndarray, y_true: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The reference's gradients and the numerical ones, which must agree."""
    expected = reference.backward_pass(x, y_true, params)
    weights = {name: params[name] for name in PARAMETERS}
    found = parameter_gradients(lambda p: reference.loss(x, y_true, p), weights, PARAMETERS)
    numerical = {f"d{name}": found[name] for name in PARAMETERS}
    for name in GRADIENTS:
        result = compare_gradients(expected[name], numerical[name])
        if not result.passed:  # a bug in the reference must never be blamed on a student
            raise RuntimeError(
                f"the reference {name} disagrees with the numerical gradient "
                f"(relative error {result.max_error:.3g} > {TOLERANCE:g})"
            )
    return expected, numerical


@pytest.fixture(scope="module")
def calls(run_seed: int) -> Calls:
    return Calls(run_seed)


def working(call: GradientCall) -> GradientCall:
    """Fail unless the call returned at least one right gradient: credit for the extras
    below only goes to a function that works."""
    call.gradients()
    if not any(call.right.values()):
        raise CheckFailure(
            f"{call.call.what} returned no right gradient yet (see the checks of each "
            "gradient), so this check gives no credit."
        )
    return call


@pytest.mark.points(2)
@pytest.mark.parametrize("name", OUTPUT_FIRST)
def test_gradient(notebook: Notebook, calls: Calls, name: str) -> None:
    """backward_pass returns the right gradient"""
    failures = {m: calls.get(notebook, SIZES, m).failure(name) for m in BATCH_SIZES}
    wrong = [m for m, message in failures.items() if message]
    if not wrong:
        return
    message = failures[wrong[0]] or ""
    right = [m for m in BATCH_SIZES if m not in wrong]
    if right:
        message += f"\n{name} is right for {_batches(right)} but not for {_batches(wrong)}."
    raise CheckFailure(message)


@pytest.mark.points(1)
def test_leaves_arguments_unchanged(notebook: Notebook, calls: Calls) -> None:
    """backward_pass does not change x, y_true or the arrays in params"""
    call = working(calls.get(notebook, SIZES, TYPICAL_M)).call
    before = calls.inputs[(SIZES, TYPICAL_M)]
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


@pytest.mark.points(1)
@pytest.mark.hidden
def test_other_layer_sizes(notebook: Notebook, calls: Calls) -> None:
    """backward_pass works for other layer sizes too"""
    usual = working(calls.get(notebook, SIZES, TYPICAL_M))
    other = calls.get(notebook, OTHER_SIZES, 3)
    lead = f"for the layer sizes {_sizes(SIZES)} but not for {_sizes(OTHER_SIZES)}."
    advice = (
        "Is a layer size or the batch size written into your code? "
        "Take sizes from the arrays (x.shape[1], W.shape)."
    )
    if not other.call.ok:
        raise CheckFailure(f"{other.call.what} works {lead} {advice}\n{other.call.message}")
    for name in OUTPUT_FIRST:
        message = other.failure(name)
        if usual.right[name] and message:
            raise CheckFailure(f"{name} is right {lead} {advice}\n{message}")


def _recomputed(before: np.ndarray, after: object) -> bool:
    """A cache entry that forward_pass wrote again: the same values up to the last digits
    (the notebook's sigmoid rounds differently from the reference's), which is harmless."""
    return (
        isinstance(after, np.ndarray)
        and after.shape == before.shape
        and bool(np.allclose(after, before, rtol=1e-12, atol=1e-300))
    )


def _batches(sizes: list[int]) -> str:
    return "m = " + " and ".join(map(str, sizes))


def _sizes(sizes: tuple[int, ...]) -> str:
    names = ("n_in", "h1", "h2", "n_out")
    return "(" + ", ".join(f"{n}={s}" for n, s in zip(names, sizes, strict=True)) + ")"
