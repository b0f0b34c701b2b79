"""Hidden checks for the activations assignment, run only when grading: the reference
solution on inputs the visible checks do not try.

2 points. A check here fails only for what the visible checks cannot already have failed:
an activation that is wrong on ordinary inputs, or a manual_backward that is wrong on the
visible problem, is not judged here (0 points, "not judged"), never failed twice.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from grader.checks import CheckFailure, Notebook, NotJudged, expect_array
from reference import two_layer

# exp(1000) overflows to inf, so exp(z) / (1 + exp(z)) (or tanh by exponentials) is nan
# there. Not -1000: every usual formula is right there, after an overflow warning.
EXTREME = np.array([-50.0, -1e-300, 0.0, 1e-300, 50.0, 1000.0])
ORDINARY = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
ACTIVATIONS = {"sigmoid": reference.sigmoid, "tanh": reference.tanh, "relu": reference.relu}


@pytest.mark.points(1)
def test_activation_extremes(notebook: Notebook) -> None:
    """sigmoid, tanh and relu stay finite and right for huge and tiny z"""
    for name, function in ACTIVATIONS.items():
        ordinary = notebook.call(name, ORDINARY.copy())
        try:
            expect_array(ordinary.value, function(ORDINARY), what=ordinary.what)
        except CheckFailure:
            # Judging extreme inputs of a function that is wrong on ordinary ones would fail
            # it twice; judging only the others would pay for part of the work undone.
            raise NotJudged(
                f"{name} is already wrong on ordinary inputs (see the checks of {name}'s values)"
            ) from None
    for name, function in ACTIVATIONS.items():
        call = notebook.call(name, EXTREME.copy())
        expect_array(call.value, function(EXTREME), what=call.what, inputs={"z": EXTREME})


def problem(rng: np.random.Generator, sizes: tuple[int, int, int, int]) -> list[torch.Tensor]:
    n, d_in, h, d_out = sizes
    shapes = [(n, d_in), (n, d_out), (d_in, h), (h, d_out)]
    return [torch.tensor(rng.standard_normal(s)) for s in shapes]


def returns_right(notebook: Notebook, tensors: list[torch.Tensor]) -> bool:
    """Whether manual_backward returns the reference's three results for ``tensors``."""
    call = notebook.call("manual_backward", *tensors)
    if not call.ok or not isinstance(call.raw_value, tuple | list) or len(call.raw_value) != 3:
        return False
    try:
        # In float64 from the same float32 inputs: a float32 result is judged within its own
        # rounding, a float64 one (a student who casts) against float64 values.
        expected_parts = two_layer.manual_backward(*(t.double() for t in tensors))
        for got, expected in zip(call.raw_value, expected_parts, strict=True):
            expect_array(got, expected.numpy(), what="manual_backward")
    except CheckFailure:
        return False
    return True


@pytest.mark.points(1)
def test_manual_backward_other_sizes(notebook: Notebook, rng: np.random.Generator) -> None:
    """manual_backward is right for other sizes, in float64 and for a batch of one"""
    visible = [t.float() for t in problem(rng, (8, 5, 7, 3))]
    if not returns_right(notebook, visible):
        raise NotJudged(
            "manual_backward is already wrong on the visible checks' problem (see the checks "
            "of manual_backward above)"
        )
    for sizes in ((1, 4, 6, 2), (32, 20, 16, 10)):
        tensors = problem(rng, sizes)
        call = notebook.call("manual_backward", *tensors)
        value = call.value
        if not isinstance(value, tuple | list) or len(value) != 3:
            raise CheckFailure(f"{call.what} did not return (loss, grad_w1, grad_w2)")
        expected = two_layer.manual_backward(*tensors)
        for part, got, right in zip(("loss", "grad_w1", "grad_w2"), value, expected, strict=True):
            what = f"The {part} returned by {call.what} for N, D_in, H, D_out = {sizes}"
            expect_array(got, right.numpy(), what=what)
