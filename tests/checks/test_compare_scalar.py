"""Tests for expect_scalar() and expect_unmodified() in grader.checks._compare."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader.checks._compare import expect_scalar, expect_unmodified
from tests.compare_support import X, failure

# expect_scalar


@pytest.mark.parametrize(
    "actual",
    [
        0.693147,
        np.float64(0.693147),
        np.float32(0.693147),
        np.array(0.693147),
        np.array([0.693147]),
        torch.tensor(0.693147),
        torch.tensor([0.693147]),
        torch.tensor([[0.693147]], requires_grad=True),
    ],
)
def test_expect_scalar_accepts(actual: object) -> None:
    assert expect_scalar(actual, 0.693147, what="bce(y, t)", rtol=1e-6) is None


def test_expect_scalar_accepts_int() -> None:
    expect_scalar(3, 3.0, what="count(x)")
    expect_scalar(np.int64(3), 3.0, what="count(x)")


def test_scalar_none() -> None:
    assert failure(expect_scalar, None, 0.69, what="bce(y, t)") == (
        "bce(y, t) returned None; expected a number. Did you forget `return`?"
    )


def test_scalar_array_of_several_values() -> None:
    message = failure(expect_scalar, np.full(5, 0.69), 0.69, what="bce(y, t)")
    assert message.startswith("bce(y, t) returned an array of shape (5,)")
    assert "expected a single number (did you forget to take the mean?)" in message


def test_scalar_empty_array_gets_no_mean_hint() -> None:
    message = failure(expect_scalar, np.zeros(0), 0.69, what="bce(y, t)")
    assert "expected a single number." in message
    assert "mean" not in message


def test_scalar_not_a_number() -> None:
    message = failure(expect_scalar, {"loss": 1.0}, 0.69, what="bce(y, t)")
    assert message == "bce(y, t) returned a dict with 1 key; expected a single number."


def test_scalar_bool() -> None:
    message = failure(expect_scalar, True, 1.0, what="f(x)")
    assert "returned a value of dtype bool; expected floating-point values" in message


@pytest.mark.parametrize(("actual", "shown"), [(float("nan"), "nan"), (np.inf, "inf")])
def test_scalar_not_finite(actual: float, shown: str) -> None:
    message = failure(expect_scalar, actual, 0.693147, what="bce(y, t)")
    assert message.startswith(f"bce(y, t) returned {shown}; expected 0.693147, a finite number.")


def test_scalar_wrong_value() -> None:
    message = failure(expect_scalar, 0.25, 0.6931471805599453, what="bce(y, t)")
    assert message == "bce(y, t) returned 0.25; expected 0.693147."


def test_scalar_sign_flipped() -> None:
    message = failure(expect_scalar, -0.6931471805599453, 0.6931471805599453, what="bce(y, t)")
    assert message == (
        "bce(y, t) returned -0.693147; expected 0.693147. "
        "The sign is flipped: it is the negative of the expected value."
    )


def test_scalar_factor_with_hint() -> None:
    hints = {0.25: "divided by the batch size twice?"}
    message = failure(expect_scalar, 0.5, 2.0, what="loss(y)", factor_hints=hints)
    assert message.endswith(
        "It is 0.25 times the expected value (divided by the batch size twice?)."
    )


def test_scalar_factor_without_hint_is_not_claimed() -> None:
    message = failure(expect_scalar, 0.5, 2.0, what="loss(y)", factor_hints={0.5: "halved?"})
    assert message == "loss(y) returned 0.5; expected 2."


# expect_unmodified


def test_unmodified_passes() -> None:
    before = X.copy()
    before[0, 0] = np.nan
    assert expect_unmodified(before, before.copy(), what="d_relu(x)", argument="x") is None
    expect_unmodified(X, torch.tensor(X), what="d_relu(x)", argument="x")


def test_modified_in_place() -> None:
    after = X.copy()
    after[after < 0] = 0.0
    message = failure(expect_unmodified, X, after, what="d_relu(x)", argument="x")
    assert message == (
        "d_relu(x) changed its argument x in place: 4 of 12 elements differ afterwards "
        "(x[0, 1] was -0.5, is now 0). Work on a copy instead (e.g. np.where(...) or x.copy())."
    )


def test_modified_shape() -> None:
    message = failure(expect_unmodified, X, X.ravel(), what="d_relu(x)", argument="x")
    assert "changed its argument x in place: its shape was (3, 4) and is now (12,)" in message


def test_modified_dtype() -> None:
    message = failure(expect_unmodified, X, X.astype(np.float32), what="f(x)", argument="x")
    assert "its dtype was float64 and is now float32" in message


def test_nan_written_into_argument() -> None:
    after = X.copy()
    after[2, 3] = np.nan
    message = failure(expect_unmodified, X, after, what="f(x)", argument="x")
    assert "1 of 12 elements differ afterwards (x[2, 3] was 1, is now nan)" in message
