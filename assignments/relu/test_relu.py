"""Visible checks for the ReLU assignment: ``relu(x)`` and ``d_relu(x)`` on NumPy arrays.

Students get these to self-check, so they hold no solution: each function is judged on
small fixed examples whose expected values are written out below, and on random inputs
by properties (relu keeps positive values and is 0 for negative ones; d_relu is the slope
of the student's own relu, measured by centred differences away from the kink at 0).
The comparisons with the reference solution are in hidden_relu.py.

9 points here, 10 when grading (hidden_relu.py adds 1). Parametrized checks use
``points(n, shared=True)``: the n points are split over the cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from grader.checks import (
    CheckFailure,
    Notebook,
    NotJudged,
    away_from_kinks,
    elementwise_derivative,
    expect_array,
    expect_unmodified,
)

# Small inputs with exact zeros (where d_relu's convention matters), one per shape.
EXAMPLES = {
    "0-D": np.array(-1.5),
    "1-D": np.array([-2.0, 0.0, 3.5, -0.25, 0.0, 1.0, -7.0]),
    "2-D": np.array(
        [[1.5, -0.5, 0.0, 2.25, -3.0], [0.0, 4.0, -1.25, 0.75, 0.0], [-2.5, 0.5, 6.0, 0.0, -0.125]]
    ),
    "3-D": np.array(
        [
            [[0.0, -1.0, 2.0, -0.5], [3.0, 0.0, -4.5, 0.25], [-0.75, 1.25, 0.0, -2.0]],
            [[5.0, -3.5, 0.0, 0.5], [0.0, -0.25, 1.75, -6.0], [2.5, 0.0, -1.5, 4.0]],
        ]
    ),
}
# relu and d_relu of EXAMPLES, computed once with the reference solution and pasted here.
EXPECTED = {
    "relu": {
        "0-D": np.array(0.0),
        "1-D": np.array([0.0, 0.0, 3.5, 0.0, 0.0, 1.0, 0.0]),
        "2-D": np.array(
            [[1.5, 0.0, 0.0, 2.25, 0.0], [0.0, 4.0, 0.0, 0.75, 0.0], [0.0, 0.5, 6.0, 0.0, 0.0]]
        ),
        "3-D": np.array(
            [
                [[0.0, 0.0, 2.0, 0.0], [3.0, 0.0, 0.0, 0.25], [0.0, 1.25, 0.0, 0.0]],
                [[5.0, 0.0, 0.0, 0.5], [0.0, 0.0, 1.75, 0.0], [2.5, 0.0, 0.0, 4.0]],
            ]
        ),
    },
    "d_relu": {
        "0-D": np.array(0.0),
        "1-D": np.array([0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]),
        "2-D": np.array(
            [[1.0, 0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0, 0.0]]
        ),
        "3-D": np.array(
            [
                [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]],
                [[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]],
            ]
        ),
    },
}
SHAPES = {name: x.shape for name, x in EXAMPLES.items()}


# A d_relu wrong only at exactly 0 (x >= 0) is one mistake: charged once, at the first check
# that meets it (charge_each_cause in assignment.toml), whichever of them that is.
AT_ZERO_CAUSE = "d_relu's value at x = 0"


def expect_example(notebook: Notebook, name: str, case: str) -> None:
    """Fail unless ``name`` returns the written-out values on the fixed example ``case``."""
    x = EXAMPLES[case].copy()
    call = notebook.call(name, x)
    with charged_at_zero(name, x, call.value, EXPECTED[name][case]):
        expect_array(call.value, EXPECTED[name][case], what=call.what, inputs={"x": x})


@contextmanager
def charged_at_zero(name: str, x: np.ndarray, got: object, want: np.ndarray) -> Iterator[None]:
    """A failure inside names AT_ZERO_CAUSE when d_relu is right everywhere but at x = 0."""
    try:
        yield
    except CheckFailure as exc:
        if name == "d_relu" and only_wrong_at_zero(x, got, want):
            raise CheckFailure(str(exc), cause=AT_ZERO_CAUSE) from None
        raise


def only_wrong_at_zero(x: np.ndarray, got: object, want: np.ndarray) -> bool:
    try:
        values = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        return False
    if values.shape != want.shape:
        return False
    wrong = ~np.isclose(values, want, rtol=1e-6, atol=1e-6)
    return bool(wrong.any() and np.all(x[wrong] == 0))


def random_input(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values, none within the numerical derivative's reach of the kink at 0."""
    return np.asarray(away_from_kinks(rng, shape, scale=3.0))


def relu_properties(x: np.ndarray, returned: object) -> np.ndarray:
    """Where ``returned`` has ReLU's defining properties: x itself where x > 0, 0 where x < 0
    (nowhere, if it is not an array of numbers of x's shape)."""
    try:
        values = np.asarray(returned)
        got = values.astype(np.float64)
    except (TypeError, ValueError, RuntimeError):
        return np.zeros(x.shape, dtype=bool)
    if got.shape != x.shape:
        return np.zeros(x.shape, dtype=bool)
    # Up to rounding, for a relu written as arithmetic, e.g. (x + abs(x)) / 2, or computed
    # in float32 (which keeps 7 digits of x).
    rtol = 1e-9 if values.dtype.kind != "f" else max(1e-9, 4 * float(np.finfo(values.dtype).eps))
    with np.errstate(all="ignore"):
        keeps = (x > 0) & np.isclose(got, x, rtol=rtol, atol=0.0)
        zero = (x < 0) & np.isclose(got, 0.0, rtol=0.0, atol=1e-12)
    return np.asarray(keeps | zero)


def slope_of_relu(notebook: Notebook, x: np.ndarray, right: np.ndarray) -> np.ndarray | None:
    """The slope of the student's relu at x by centred differences, or None if it cannot be
    measured (relu fails on the moved inputs: its own checks say so). Where relu has ReLU's
    properties and the slope is within 1e-2 of 1 (x > 0) or 0 (x < 0), it is that exact
    number: a relu computed in float32 rounds x, and the difference quotient with it."""
    try:
        slope = elementwise_derivative(lambda v: notebook.call("relu", v).value, x)
    except (CheckFailure, TypeError, ValueError, RuntimeError):
        return None
    exact = np.where(x > 0, 1.0, 0.0)
    with np.errstate(all="ignore"):
        near = right & (np.abs(slope - exact) <= 1e-2)
    return np.where(near, exact, slope)


@pytest.mark.points(4, shared=True)
@pytest.mark.parametrize("case", EXAMPLES)
def test_relu_values(notebook: Notebook, rng: np.random.Generator, case: str) -> None:
    """relu(x) is max(0, x) element-wise"""
    expect_example(notebook, "relu", case)
    x = random_input(rng, SHAPES[case])
    call = notebook.call("relu", x)
    # Only the type, shape and finiteness here (any finite values pass); the properties below.
    expect_array(call.value, x, what=call.what, rtol=0.0, atol=np.inf, inputs={"x": x})
    returned = np.asarray(call.value, dtype=np.float64)
    wrong = ~relu_properties(x, call.value)
    if wrong.any():
        index = tuple(int(i) for i in np.argwhere(wrong)[0]) if x.ndim else ()
        rule = "x itself where x > 0" if x[index] > 0 else "0 where x < 0"
        at = f"x[{', '.join(map(str, index))}]" if index else "x"
        raise CheckFailure(
            f"{call.what} returned wrong values on random inputs: {np.count_nonzero(wrong)} of "
            f"{x.size} elements differ. At {at} = {x[index]:.6g} it returned "
            f"{returned[index]:.6g}; relu is {rule}."
        )


@pytest.mark.points(2, shared=True)
@pytest.mark.parametrize("case", EXAMPLES)
def test_d_relu_values(notebook: Notebook, rng: np.random.Generator, case: str) -> None:
    """d_relu(x) is 1 where x > 0 and 0 elsewhere"""
    expect_example(notebook, "d_relu", case)
    x = random_input(rng, SHAPES[case])
    call = notebook.call("d_relu", x)
    expect_array(call.value, x, what=call.what, rtol=0.0, atol=np.inf, inputs={"x": x})
    # The slope of the student's own relu is the expected derivative, but only where that
    # relu is right: a wrong relu must not cost d_relu its points (its checks fail already).
    relu = notebook.call("relu", x)
    if not relu.ok:
        return
    right = relu_properties(x, relu.raw_value)
    slope = slope_of_relu(notebook, x, right) if right.any() else None
    if slope is None:
        return
    got = np.asarray(call.value, dtype=np.float64)
    expect_array(
        np.where(right, got, slope),
        slope,
        what=f"{call.what} (compared with the slope of your relu, by centred differences)",
        rtol=1e-6,
        atol=1e-6,
        inputs={"x": x},
    )


@pytest.mark.points(1)
def test_d_relu_at_zero(notebook: Notebook) -> None:
    """d_relu(x) is 0 at exactly x = 0"""
    x = np.array([-2.0, -0.5, 0.0, 0.0, 0.5, 2.0])
    call = notebook.call("d_relu", x)
    expected = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0])  # the convention: 0 at exactly 0
    with charged_at_zero("d_relu", x, call.value, expected):
        expect_array(call.value, expected, what=call.what, inputs={"x": x})


@pytest.mark.points(1)
@pytest.mark.parametrize("name", ["relu", "d_relu"])
def test_does_not_modify_input(notebook: Notebook, name: str) -> None:
    """returns the right values and leaves x unchanged"""
    x = EXAMPLES["2-D"].copy()
    call = notebook.call(name, x)
    # Credit for not modifying x only goes to a working function, not to any function.
    try:
        expect_array(call.value, EXPECTED[name]["2-D"], what=call.what)
    except CheckFailure:
        wrong_at_zero = name == "d_relu" and only_wrong_at_zero(
            x, call.value, EXPECTED[name]["2-D"]
        )
        raise NotJudged(
            f"{call.what} does not return the right values yet (see the checks of {name}'s values)",
            cause=AT_ZERO_CAUSE if wrong_at_zero else None,
        ) from None
    expect_unmodified(EXAMPLES["2-D"], call.args[0], what=call.what, argument=call.argument_name(0))
