"""Precision, dtype and values nobody foresaw: what expect_array, expect_scalar and
expect_gradient make of float32 results, integers, broadcasting and odd objects."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader.checks import GradientCall, expect_array, expect_gradient, expect_scalar
from grader.checks.failures import CheckFailure
from grader.checks.handles import ObjectHandle
from grader.checks.notebook import CallResult
from grader.checks.notes import collecting
from tests.compare_support import failure

RNG = np.random.default_rng(0)
A = RNG.standard_normal((6, 5))
B = RNG.standard_normal((5, 7))
PRODUCT = A @ B


def test_a_float32_result_is_compared_within_float32_rounding() -> None:
    in_float32 = A.astype(np.float32) @ B.astype(np.float32)
    expect_array(in_float32, PRODUCT, what="f(x)")
    expect_array(torch.tensor(in_float32), PRODUCT, what="f(x)")
    # ... but a real mistake in float32 still fails, and is not blamed on float32.
    message = failure(expect_array, (in_float32 * 1.01).astype(np.float32), PRODUCT, what="f(x)")
    assert "1.01 times the expected" in message and "float32" not in message


def test_a_float64_result_with_float32_sized_differences_names_float32() -> None:
    # A long computation in float32 (a few dozen roundings), handed back as float64.
    rounded = PRODUCT * (1 + 3e-6)
    message = failure(expect_array, rounded, PRODUCT, what="f(x)")
    assert "no larger than float32 rounding" in message and "np.float32" in message
    single = failure(expect_scalar, (1 + 5e-6) / 3, 1 / 3, what="loss(x)")
    assert "float32 rounding" in single


def test_a_float32_gradient_is_judged_with_float32_rounding_in_mind() -> None:
    numerical = PRODUCT * 1e-3
    numerical[0, 0] = 1e-9  # a tiny element, whose float32 relative error is large
    in_float32 = numerical.astype(np.float32)
    in_float32[0, 0] = np.float32(2e-9)
    expect_gradient(in_float32, numerical, what="grad")
    with pytest.raises(CheckFailure, match="in float32, whose rounding is larger"):
        expect_gradient((numerical * 1.05).astype(np.float32), numerical, what="grad")


def test_rounding_in_a_gradient_is_judged_by_the_relative_error_not_rtol() -> None:
    # Off by 1e-5 relative: outside expect_array's default rtol, inside the gradient test.
    expected = {"dW1": PRODUCT}
    call = CallResult("backward_pass(x)", status="ok", raw_value={"dW1": PRODUCT * (1 + 1e-5)})
    assert GradientCall(call, expected, expected, m=7).failure("dW1") is None
    wrong = CallResult("backward_pass(x)", status="ok", raw_value={"dW1": PRODUCT * 7})
    message = GradientCall(wrong, expected, expected, m=7).failure("dW1") or ""
    assert "the mean over the batch is missing" in message


def test_an_n_by_n_matrix_from_broadcasting_is_named() -> None:
    y_hat, y = np.linspace(0.1, 0.9, 5).reshape(5, 1), np.array([0, 1, 1, 0, 1.0])
    expected = (y_hat.ravel() - y).reshape(5, 1)
    message = failure(expect_array, y_hat - y, expected, what="f(y_hat, y)")
    assert "an (n, n) matrix where (5, 1) was expected" in message
    assert "y of shape (5,) with y_hat of shape (5, 1)" in message


def test_a_known_mistake_of_a_scalar_is_named() -> None:
    message = failure(
        expect_scalar, 2.5, 1.0, what="bce_loss(y_hat, y)", mistakes={"Broadcast (n, n).": 2.5}
    )
    assert message == "bce_loss(y_hat, y) returned 2.5; expected 1. Broadcast (n, n)."


class Unconvertible:
    def __array__(self, *args: object, **kwargs: object) -> np.ndarray:
        raise RuntimeError("no")


@pytest.mark.parametrize(
    "value",
    [
        Unconvertible(),
        [Unconvertible()],
        {"dW": 1},
        ObjectHandle(1, 1, "Net", "Net()"),
        torch.zeros(3, 4, requires_grad=True),
        [torch.zeros(2), torch.zeros(2)],
        np.array(["a", "b"]),
        10**400,
        np.ones((1000, 1000)),
    ],
    ids=lambda v: type(v).__name__,
)
def test_any_value_fails_with_check_failure_only(value: object) -> None:
    for helper, expected in ((expect_array, np.zeros((3, 4))), (expect_scalar, 1.0)):
        try:
            helper(value, expected, what="f(x)")  # type: ignore[operator]
        except CheckFailure as exc:
            assert str(exc).startswith("f(x) ")


def test_right_integers_pass_with_a_note_and_floats_leave_none() -> None:
    with collecting() as notes:
        expect_array(np.array([0, 1, 1]), np.array([0.0, 1.0, 1.0]), what="d_relu(x)")
        expect_array(np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.0]), what="relu(x)")
    assert len(notes) == 1 and "d_relu(x) returned integers (int64)" in notes[0]


def test_a_difference_beyond_float32_rounding_is_not_blamed_on_float32() -> None:
    # log(p + 1e-5) where 1e-7 was meant: off by ~1e-4, a real difference.
    message = failure(expect_scalar, 0.5785 * (1 + 1e-4), 0.5785, what="loss(x)", rtol=1e-5)
    assert "float32" not in message
