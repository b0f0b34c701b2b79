"""Numerical gradients that know their own precision: a slope measured from a float32
function's values carries the error its rounding causes, and expect_gradient allows it."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks._gradients import (
    elementwise_derivative,
    expect_gradient,
    numerical_gradient,
    parameter_gradients_at_once,
)
from grader.checks._precision import NumericalGradient
from tests.compare_support import failure


def sigmoid32(x: np.ndarray) -> np.ndarray:
    """A student's Sigmoid.forward that casts its input to float32."""
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-np.asarray(x, dtype=np.float32)))).astype(np.float32)


def sigmoid_backward32(x: np.ndarray, dout: np.ndarray) -> np.ndarray:
    y = sigmoid32(x)
    return (np.asarray(dout, dtype=np.float32) * y * (1 - y)).astype(np.float32)


@pytest.mark.parametrize("seed", range(40))
def test_a_right_float32_sigmoid_passes_against_its_own_slope(seed: int) -> None:
    """As layers' visible sigmoid-backward check does it: about half of these seeds failed
    when the slope's float32 rounding (~1e-4 at a step of 1e-3) was not allowed for."""
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((4, 5)) * 2, rng.standard_normal((4, 5))
    slope = elementwise_derivative(sigmoid32, x)
    assert slope.precision == "float32"
    expect_gradient(sigmoid_backward32(x, dout), slope * dout, what="dx")


def test_the_slopes_own_error_is_what_rounding_float32_values_costs() -> None:
    x = np.linspace(-4, 4, 9)
    slope = elementwise_derivative(sigmoid32, x)
    assert slope.error is not None
    # Half an epsilon per value, weighted 18/12 by the stencil, over the step of 1e-3:
    # at least 1e-4 of the values' size, and no more than a few times that.
    assert np.all(slope.error > 5e-5) and np.all(slope.error < 5e-3)
    in64 = elementwise_derivative(lambda v: 1 / (1 + np.exp(-v)), x)
    assert in64.precision is None and np.all(in64.error < 1e-11)


def test_scaling_by_dout_scales_the_error() -> None:
    slope = elementwise_derivative(sigmoid32, np.array([0.5, -1.0]))
    scaled = slope * np.array([2.0, -3.0])
    assert isinstance(scaled, NumericalGradient) and scaled.precision == "float32"
    np.testing.assert_allclose(scaled.error, slope.error * np.array([2.0, 3.0]))


def test_the_allowance_is_the_measurements_not_the_results() -> None:
    """Errors the size of a float32 slope's rounding pass against a slope measured from
    float32 values, and fail against one measured in float64, naming float32."""
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((4, 5)) * 2, rng.standard_normal((4, 5))
    exact = dout / (2 + np.exp(x) + np.exp(-x))  # dout * s * (1 - s), in float64
    off = exact + 3e-5 * np.abs(dout)
    expect_gradient(off, elementwise_derivative(sigmoid32, x) * dout, what="dx")
    slope64 = elementwise_derivative(lambda v: 1 / (1 + np.exp(-v)), x)
    message = failure(lambda: expect_gradient(off, slope64 * dout, what="dx"))
    assert "float32" in message


def test_a_wrong_float32_gradient_still_fails_and_says_what_the_slope_is_good_to() -> None:
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal((4, 5)) * 2, rng.standard_normal((4, 5))
    slope = elementwise_derivative(sigmoid32, x)
    wrong = (sigmoid_backward32(x, dout) * np.float32(1.01)).astype(np.float32)
    message = failure(lambda: expect_gradient(wrong, slope * dout, what="dx"))
    assert "measured from float32 values of your forward" in message


def test_numerical_gradients_of_a_float32_loss_know_their_precision() -> None:
    w = np.array([0.3, -0.7, 1.1])

    def loss(v: np.ndarray) -> np.float32:
        return np.float32(np.sum(np.asarray(v, dtype=np.float32) ** 2))

    grad = numerical_gradient(loss, w)
    assert grad.precision == "float32"
    expect_gradient((2 * w).astype(np.float32), grad, what="dw")
    at_once = parameter_gradients_at_once(
        lambda points: [loss(p["w"]) for p in points], {"w": w}, ["w"]
    )["w"]
    assert at_once.precision == "float32"
    expect_gradient((2 * w).astype(np.float32), at_once, what="dw")
