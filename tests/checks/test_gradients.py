"""The numerical gradient checker on functions whose gradients are known."""

from __future__ import annotations

import numpy as np
import pytest

import reference
from grader.checks._gradients import (
    KINK_MARGIN,
    STEP,
    TOLERANCE,
    away_from_kinks,
    compare_gradients,
    elementwise_derivative,
    expect_gradient,
    numerical_gradient,
    parameter_gradients,
    parameter_gradients_at_once,
    relative_error,
)
from grader.checks.notebook import in_process_notebook
from tests.compare_support import failure

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
A = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0], [1.0, 1.0, -2.0]])


V = np.array([0.5, -1.0, 2.0])


@pytest.mark.parametrize(
    ("f", "gradient", "x"),
    [
        (lambda x: np.sum(x**2), lambda x: 2 * x, X),
        (lambda x: np.sum(np.sin(x)), np.cos, X),
        (lambda x: np.prod(x), lambda x: np.prod(x) / x, X),
        (lambda x: np.log(np.sum(np.exp(x))), lambda x: np.exp(x) / np.sum(np.exp(x)), X),
        (lambda x: x @ A @ x, lambda x: (A + A.T) @ x, V),
    ],
    ids=["square", "sin", "product", "logsumexp", "quadratic-form"],
)
def test_numerical_gradient_of_known_functions(f, gradient, x: np.ndarray) -> None:
    got = numerical_gradient(f, x)
    assert got.shape == x.shape and got.dtype == np.float64
    assert compare_gradients(got, gradient(x)).max_error < 1e-9


def test_a_wrong_gradient_is_far_above_the_tolerance() -> None:
    numerical = numerical_gradient(lambda x: np.sum(x**3), X)
    assert compare_gradients(3 * X**2, numerical).passed
    for wrong in (2 * X**2, -3 * X**2, 3 * X**2 / 7, (3 * X**2).T.reshape(X.shape)):
        assert compare_gradients(wrong, numerical).max_error > 100 * TOLERANCE


def test_numerical_gradient_works_in_float64_and_leaves_x_alone() -> None:
    x = X.astype(np.float32)
    before = x.copy()
    seen: list[np.dtype] = []

    def f(v: np.ndarray) -> float:
        seen.append(v.dtype)
        v *= 2.0  # a function that writes into its argument must not disturb the next call
        return float(np.sum(v**2)) / 4.0

    got = numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    assert set(seen) == {np.dtype(np.float64)}
    assert compare_gradients(got, 2 * X.astype(np.float32).astype(np.float64)).passed


def test_numerical_gradient_of_a_function_that_returns_no_number_fails_the_check() -> None:
    # The function is a student's: what it returns is theirs to answer for, not an error.
    message = failure(numerical_gradient, lambda x: x * 2, X)
    assert message.startswith("The function whose gradient is measured (by centred differences)")
    assert "an array of shape (2, 3) and dtype float64; expected a single number" in message
    assert "a dict with 1 key" in failure(numerical_gradient, lambda x: {"loss": 1.0}, X)


def test_relative_error_formula() -> None:
    a = np.array([1.0, 0.0, 1e-9, -1.0, 3.0])
    b = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(relative_error(a, b), [0.0, 0.0, 0.1, 1.0, 0.5])
    result = compare_gradients(a, b)
    assert (result.max_error, result.index, result.analytic, result.numerical) == (
        1.0,
        (3,),
        -1.0,
        1.0,
    )


def test_nan_is_the_worst_error() -> None:
    result = compare_gradients(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert result.index == (1,) and not result.passed


def test_elementwise_derivative_of_activations() -> None:
    s = np.linspace(-4.0, 4.0, 9).reshape(3, 3)
    got = elementwise_derivative(reference.sigmoid, s)
    assert compare_gradients(got, reference.d_sigmoid(s)).max_error < 1e-9
    message = failure(elementwise_derivative, np.sum, s)
    assert "returned the numpy float64" in message and "its input's shape (3, 3)" in message
    assert "returned None" in failure(elementwise_derivative, lambda v: None, s)


def test_inputs_away_from_the_kink_make_relu_checkable() -> None:
    rng = np.random.default_rng(3)
    x = away_from_kinks(rng, (400,), scale=0.01)  # many values start near 0
    assert np.min(np.abs(x)) > KINK_MARGIN > 2 * STEP
    got = elementwise_derivative(reference.relu, x)
    assert compare_gradients(got, reference.d_relu(x)).passed
    # At the kink itself the centred difference measures neither side's slope.
    at_kink = elementwise_derivative(reference.relu, np.array([0.0]))
    assert at_kink[0] == pytest.approx(0.5)


def test_away_from_kinks_keeps_each_value_on_its_side() -> None:
    x = away_from_kinks(np.random.default_rng(4), (1000,), kinks=(0.0, 1.0), scale=0.5)
    assert np.min(np.abs(x)) > KINK_MARGIN and np.min(np.abs(x - 1.0)) > KINK_MARGIN
    assert np.any(x < 0) and np.any((x > 0) & (x < 1)) and np.any(x > 1)


def test_gradient_of_a_student_function_across_the_boundary() -> None:
    notebook = in_process_notebook(loss=lambda w: float(np.sum((w - 1.0) ** 2)))
    got = numerical_gradient(lambda w: notebook.call("loss", w).value, X)
    expect_gradient(2 * (X - 1.0), got, what="2 (w - 1)")


def test_expect_gradient_explains_a_mismatch() -> None:
    numerical = numerical_gradient(lambda x: np.sum(x**2), X)
    assert expect_gradient(2 * X, numerical, what="grad").passed
    wrong = 2 * X
    wrong[1, 2] = 0.4
    message = failure(expect_gradient, wrong, numerical, what="grad")
    assert message.startswith("grad does not match the numerical gradient (centred differences)")
    assert "largest relative error is 1 at index (1, 2), where it is 0.4 and the" in message
    assert "numerical gradient is -0.8. A right gradient stays below 0.0001." in message
    assert "float32" not in message  # a large error is a real mistake, not rounding
    near = failure(expect_gradient, 2 * X * (1 + 1e-3), numerical, what="grad")
    assert "computing in float32" in near


@pytest.mark.parametrize(
    ("actual", "text"),
    [
        (X.T, "the transpose of the expected (2, 3)"),
        (np.full(X.shape, np.nan), "6 NaN values"),
        (None, "returned None"),
    ],
)
def test_expect_gradient_explains_shape_and_nan_like_expect_array(actual, text) -> None:
    assert text in failure(expect_gradient, actual, 2 * X, what="grad")


def test_parameter_gradients_at_once_are_the_one_at_a_time_ones() -> None:
    rng = np.random.default_rng(4)
    params = reference.init_params((3, 4, 2, 3), rng)
    x, y_true = rng.standard_normal((3, 5)), np.eye(3)[:, [0, 2, 1, 1, 0]]
    names = ("W1", "b3")
    calls = []

    def losses(points):
        calls.append(len(points))
        return [reference.loss(x, y_true, p) for p in points]

    at_once = parameter_gradients_at_once(losses, params, names)
    one_by_one = parameter_gradients(lambda p: reference.loss(x, y_true, p), params, names)
    assert calls == [4 * (12 + 3)]  # four points per element, all in one call
    for name in names:
        np.testing.assert_array_equal(at_once[name], one_by_one[name])
    with pytest.raises(ValueError, match="losses must return 60 values, not 59"):
        parameter_gradients_at_once(lambda points: losses(points)[1:], params, names)
