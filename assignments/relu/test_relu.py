"""Checks for the ReLU assignment: ``relu(x)`` and ``d_relu(x)`` on NumPy arrays.

10 points when grading; 9 when a student self-checks (one check is hidden).
Parametrized checks use ``points(n, shared=True)``: the n points are split over the cases.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from grader import Notebook, expect_array, expect_unmodified

SHAPES = {"0-D": (), "1-D": (7,), "2-D": (3, 5), "3-D": (2, 3, 4)}
REFERENCE = {"relu": reference.relu, "d_relu": reference.d_relu}


def sample(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values with some exact zeros mixed in (every third element)."""
    x = np.asarray(rng.standard_normal(shape) * 3.0)  # 0-D: an array, not a scalar
    if x.size >= 3:
        x.flat[::3] = 0.0
    return x


@pytest.mark.points(4, shared=True)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_relu_values(notebook: Notebook, rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    """relu(x) is max(0, x) element-wise"""
    x = sample(rng, shape)
    call = notebook.call("relu", x)
    expect_array(call.value, reference.relu(x), what=call.what, inputs={"x": x})


@pytest.mark.points(1)
@pytest.mark.hidden
def test_relu_extreme_values(notebook: Notebook) -> None:
    """relu(x) handles exact zeros, huge magnitudes and infinities"""
    x = np.array([0.0, -0.0, 1e300, -1e300, np.inf, -np.inf, 5e-324, -5e-324])
    call = notebook.call("relu", x)
    expect_array(call.value, reference.relu(x), what=call.what, inputs={"x": x})


@pytest.mark.points(2, shared=True)
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_d_relu_values(
    notebook: Notebook, rng: np.random.Generator, shape: tuple[int, ...]
) -> None:
    """d_relu(x) is 1 where x > 0 and 0 elsewhere"""
    x = sample(rng, shape)
    call = notebook.call("d_relu", x)
    expect_array(call.value, reference.d_relu(x), what=call.what, inputs={"x": x})


@pytest.mark.points(1)
def test_d_relu_at_zero(notebook: Notebook) -> None:
    """d_relu(x) is 0 at exactly x = 0"""
    x = np.array([-2.0, -0.5, 0.0, 0.0, 0.5, 2.0])
    call = notebook.call("d_relu", x)
    expect_array(call.value, reference.d_relu(x), what=call.what, inputs={"x": x})


@pytest.mark.points(1)
@pytest.mark.parametrize("name", ["relu", "d_relu"])
def test_does_not_modify_input(notebook: Notebook, rng: np.random.Generator, name: str) -> None:
    """returns the right values and leaves x unchanged"""
    x = sample(rng, (4, 6))
    call = notebook.call(name, x)
    # Credit for not modifying x only goes to a working function, not to any function.
    expect_array(call.value, REFERENCE[name](x), what=call.what)
    expect_unmodified(x, call.args[0], what=call.what, argument=call.argument_name(0))
