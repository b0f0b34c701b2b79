"""Hidden checks for the backprop assignment, run only when grading: the reference solution.

The visible checks of test_backprop.py (13 points), run again here with the reference as
their basis: the student's backward_pass gets a forward cache computed by the reference and
is judged against the reference's gradients, so that a notebook whose given forward_pass was
changed is graded on its backward_pass alone. When grading they stand in for the visible
ones (``self_check_only``), under the same names and points.

1 point: gradients that stay right for other layer sizes. The student's function gets
parameters and a forward cache computed by the reference (so a forward bug cannot
cascade), and is judged against the reference's gradients, which must agree with numerical
gradients of the reference's loss. Only gradients that are right at the usual sizes are
judged at the others: a gradient wrong everywhere has lost its points in test_backprop.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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


def _visible_checks() -> ModuleType:
    """test_backprop.py, loaded from beside this file (check files are not on sys.path)."""
    path = Path(__file__).with_name("test_backprop.py")
    spec = importlib.util.spec_from_file_location("backprop_visible_checks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pytest look a module up by name
    spec.loader.exec_module(module)
    return module


_visible = _visible_checks()
# Collected here, these checks use this module's ``calls`` fixture: the reference's basis.
test_gradient = _visible.test_gradient
test_leaves_arguments_unchanged = _visible.test_leaves_arguments_unchanged
BATCH_SIZES = _visible.BATCH_SIZES
# What "by hand" rules out, and why: as the visible checks say it.
AUTODIFF, BY_HAND = _visible.AUTODIFF, _visible.BY_HAND


class ReferenceCalls:
    """The student's backward_pass on reference problems, one per batch size, shared by the
    checks as test_backprop.py's ``Calls`` are: ``get`` and ``inputs`` as there."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._calls: dict[int, GradientCall] = {}
        self.inputs: dict[int, dict[str, np.ndarray]] = {}

    def get(self, notebook: Notebook, m: int) -> GradientCall:
        if m not in self._calls:
            self._calls[m], self.inputs[m] = judged_with_inputs(notebook, self.seed, SIZES, m)
        return self._calls[m]


@pytest.fixture(scope="module")
def calls(run_seed: int) -> ReferenceCalls:
    return ReferenceCalls(run_seed)


def judged_with_inputs(
    notebook: Notebook, seed: int, sizes: tuple[int, ...], m: int
) -> tuple[GradientCall, dict[str, np.ndarray]]:
    """The student's backward_pass on a reference problem, judged against the reference,
    and the arguments it was given (x, y_true and the entries of params)."""
    rng = np.random.default_rng([seed, *sizes, m])
    n_in, h1, h2, n_out = sizes
    params = reference.init_params((n_in, h1, h2, n_out), rng)
    x = rng.standard_normal((n_in, m))
    y_true = np.eye(n_out)[:, rng.integers(0, n_out, m)]
    reference.forward_pass(x, params)
    inputs = {"x": x.copy(), "y_true": y_true.copy(), **{k: v.copy() for k, v in params.items()}}
    call = notebook.call("backward_pass", x, y_true, params, watch=AUTODIFF)
    return GradientCall(call, *expected_gradients(x, y_true, params), m=m), inputs


def judged(notebook: Notebook, seed: int, sizes: tuple[int, ...], m: int) -> GradientCall:
    return judged_with_inputs(notebook, seed, sizes, m)[0]


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
def test_other_layer_sizes(notebook: Notebook, run_seed: int, calls: ReferenceCalls) -> None:
    """backward_pass works for other layer sizes too"""
    usual_call = calls.get(notebook, TYPICAL_M)
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
