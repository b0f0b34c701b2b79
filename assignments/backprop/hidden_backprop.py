"""Hidden checks for the backprop assignment, run only when grading: the reference solution.

1 point: gradients that stay right for other layer sizes. The student's function gets
parameters and a forward cache computed by the reference (so a forward bug cannot
cascade), and is judged against the reference's gradients, which must agree with numerical
gradients of the reference's loss. Only gradients that are right at the usual sizes are
judged at the others: a gradient wrong everywhere has lost its points in test_backprop.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from grader.checks import (
    CheckFailure,
    GradientCall,
    Notebook,
    compare_gradients,
    expect_not_called,
    expect_working,
    parameter_gradients,
)
from reference.mlp import GRADIENTS, PARAMETERS

# The visible checks' layer sizes and typical batch size, and others, all different.
SIZES = (5, 6, 4, 3)
TYPICAL_M = 7
OTHER_SIZES = (8, 5, 7, 4)
OTHER_M = 3
OUTPUT_FIRST = ("dW3", "db3", "dW2", "db2", "dW1", "db1")
# As in test_backprop.py: the gradients are to be computed by hand.
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


def judged(notebook: Notebook, seed: int, sizes: tuple[int, ...], m: int) -> GradientCall:
    """The student's backward_pass on a reference problem, judged against the reference."""
    rng = np.random.default_rng([seed, *sizes, m])
    n_in, h1, h2, n_out = sizes
    params = reference.init_params((n_in, h1, h2, n_out), rng)
    x = rng.standard_normal((n_in, m))
    y_true = np.eye(n_out)[:, rng.integers(0, n_out, m)]
    reference.forward_pass(x, params)
    call = notebook.call("backward_pass", x, y_true, params, watch=AUTODIFF)
    return GradientCall(call, *expected_gradients(x, y_true, params), m=m)


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
                f"(relative error {result.max_error:.3g} > {result.tolerance:g})"
            )
    return expected, numerical


@pytest.mark.points(1)
def test_other_layer_sizes(notebook: Notebook, run_seed: int) -> None:
    """backward_pass works for other layer sizes too"""
    usual_call = judged(notebook, run_seed, SIZES, TYPICAL_M)
    expect_not_called(usual_call.call, *AUTODIFF, reason=BY_HAND)
    usual = expect_working(usual_call)
    other = judged(notebook, run_seed, OTHER_SIZES, OTHER_M)
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


def _sizes(sizes: tuple[int, ...]) -> str:
    names = ("n_in", "h1", "h2", "n_out")
    return "(" + ", ".join(f"{n}={s}" for n, s in zip(names, sizes, strict=True)) + ")"
