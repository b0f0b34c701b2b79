"""Tests for describe() and expect_array(): what students read when an array is wrong."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from grader.checks._compare import describe, expect_array
from grader.checks.notes import collecting
from tests.compare_support import RELU, X, failure

D_RELU = (X > 0).astype(float)

# describe


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "None"),
        (np.zeros((3, 4)), "an array of shape (3, 4) and dtype float64"),
        (torch.zeros(2), "a torch tensor of shape (2,) and dtype torch.float32"),
        (0.5, "the float 0.5"),
        (3, "the int 3"),
        (True, "the bool True"),
        (np.float32(0.5), "the numpy float32 0.5"),
        ([1, 2, 3], "a list of 3 items"),
        ((1,), "a tuple of 1 item"),
        ({"a": 1, "b": 2}, "a dict with 2 keys"),
        ("hello", "a str"),
        (object(), "an object of type object"),
    ],
)
def test_describe(value: object, text: str) -> None:
    assert describe(value) == text


# expect_array: passing cases


@pytest.mark.parametrize(
    "actual",
    [
        RELU.copy(),
        RELU + 1e-9,
        RELU.astype(np.float32),
        RELU.tolist(),
        tuple(map(tuple, RELU.tolist())),
        torch.tensor(RELU),
        torch.tensor(RELU, dtype=torch.float32, requires_grad=True),
    ],
    ids=["exact", "within-tolerance", "float32", "list", "tuple", "tensor", "tensor-grad"],
)
def test_expect_array_accepts(actual: object) -> None:
    assert expect_array(actual, RELU, what="relu(x)", inputs={"x": X}) is None


def test_expect_array_accepts_bfloat16_tensor() -> None:
    # NumPy has no bfloat16; the values here are exact in it.
    expect_array(torch.tensor(RELU, dtype=torch.bfloat16), RELU, what="relu(x)")
    message = failure(expect_array, torch.tensor(X, dtype=torch.bfloat16), RELU, what="relu(x)")
    assert "4 of 12 elements differ" in message


@pytest.mark.parametrize("actual", [0.5, np.float64(0.5), np.array(0.5), torch.tensor(0.5)])
def test_expect_array_accepts_numbers_for_a_0d_result(actual: object) -> None:
    expect_array(actual, np.array(0.5), what="relu(x)")


def test_expect_array_accepts_python_int_for_a_0d_float_result() -> None:
    expect_array(2, np.array(2.0), what="relu(x)")


def test_expect_array_respects_tolerances() -> None:
    expect_array(RELU + 1e-3, RELU, what="relu(x)", atol=1e-2)
    message = failure(expect_array, RELU + 1e-3, RELU, what="relu(x)")
    assert "12 of 12 elements differ" in message


# expect_array: diagnoses, in the order they apply


def test_none_returned() -> None:
    assert failure(expect_array, None, RELU, what="relu(x)") == (
        "relu(x) returned None; expected an array of shape (3, 4). Did you forget `return`?"
    )


def test_dict_returned() -> None:
    assert failure(expect_array, {"out": RELU}, RELU, what="relu(x)") == (
        "relu(x) returned a dict with 1 key; expected an array of shape (3, 4)."
    )


def test_str_returned() -> None:
    message = failure(expect_array, "TODO", RELU, what="relu(x)")
    assert message.startswith("relu(x) returned a str; expected an array of shape (3, 4).")


def test_ragged_list_is_not_array_like() -> None:
    message = failure(expect_array, [1.0, [2.0, 3.0]], RELU, what="relu(x)")
    assert message.startswith("relu(x) returned a list of 2 items; expected an array of shape")
    assert "could not be turned into an array of numbers" in message


def test_list_of_none_is_not_array_like() -> None:
    message = failure(expect_array, [None, None], np.zeros(2), what="relu(x)")
    assert "returned a list of 2 items; expected an array of shape (2,)" in message


def test_bool_dtype() -> None:
    assert failure(expect_array, X > 0, D_RELU, what="d_relu(x)") == (
        "d_relu(x) returned an array of dtype bool; expected floating-point values (float64). "
        "Convert with .astype(float)."
    )


def test_integer_dtype_with_right_values_passes_with_a_note() -> None:
    with collecting() as notes:
        expect_array((X > 0).astype(np.int64), D_RELU, what="d_relu(x)")
    assert len(notes) == 1
    assert notes[0].startswith("d_relu(x) returned integers (int64) where floating-point")
    assert "The values are right, so this passes" in notes[0]


def test_integer_dtype_with_wrong_values_says_integers() -> None:
    message = failure(expect_array, np.zeros((3, 4), dtype=np.int32), D_RELU, what="d_relu(x)")
    assert "returned wrong values" in message
    assert "It returned integers (int32): was something rounded or truncated" in message
    assert "Convert with .astype(float)." in message


def test_integer_dtype_of_a_tensor() -> None:
    message = failure(expect_array, torch.tensor(X > 0), D_RELU, what="d_relu(x)")
    assert "returned a torch tensor of dtype torch.bool; expected floating-point" in message
    assert "Convert with .float()." in message


def test_dtype_is_checked_before_shape() -> None:
    message = failure(expect_array, (X > 0).T, D_RELU, what="d_relu(x)")
    assert "dtype bool" in message
    assert "transpose" not in message


def test_transpose() -> None:
    message = failure(expect_array, RELU.T, RELU, what="relu(x)")
    assert message.startswith("relu(x) returned shape (4, 3), the transpose of the expected (3, 4)")


def test_shape_names_the_input_of_the_same_shape() -> None:
    message = failure(expect_array, RELU.T, RELU, what="relu(x)", inputs={"x": X, "w": X.T[:2]})
    assert "the transpose of the expected (3, 4) (the same shape as x)" in message


def test_missing_keepdims_dimension() -> None:
    expected = RELU.sum(axis=1, keepdims=True)
    message = failure(expect_array, RELU.sum(axis=1), expected, what="row_sums(x)")
    assert message == (
        "row_sums(x) returned shape (3,); expected (3, 1): "
        "a dimension of size 1 is missing (keepdims=True?)."
    )


def test_extra_dimension_of_size_one() -> None:
    message = failure(expect_array, RELU[:, :1], RELU[:, 0], what="relu(x)")
    assert "returned shape (3, 1); expected (3,): it has an extra dimension of size 1" in message


def test_same_number_of_elements() -> None:
    message = failure(expect_array, RELU.ravel(), RELU, what="relu(x)")
    assert "has the right number of elements but shape (12,); expected (3, 4)" in message


def test_single_number_where_an_array_is_expected() -> None:
    message = failure(expect_array, 0.5, RELU, what="relu(x)")
    assert message == "relu(x) returned a single number (shape ()); expected shape (3, 4)."


def test_one_element_array_where_a_0d_result_is_expected() -> None:
    message = failure(expect_array, np.ones(1), np.array(1.0), what="loss(y)")
    assert "returned shape (1,); expected a single number (shape ())" in message


def test_plain_shape_mismatch() -> None:
    message = failure(expect_array, RELU[:2], RELU, what="relu(x)")
    assert message == "relu(x) returned shape (2, 4); expected (3, 4)."


def test_nan_with_index_and_input_value() -> None:
    x = X.copy()
    x[0, 1] = -1e300
    returned = RELU.copy()
    returned[0, 1] = np.nan
    message = failure(expect_array, returned, RELU, what="relu(x)", inputs={"x": x})
    assert message.startswith(
        "relu(x) returned 1 NaN value where finite values were expected; "
        "the first is at index (0, 1), where x = -1e+300."
    )


def test_nan_and_inf_are_counted() -> None:
    returned = RELU.copy()
    returned[1, 1] = np.nan
    returned[2, 0] = np.nan
    returned[0, 3] = -np.inf
    message = failure(expect_array, returned, RELU, what="relu(x)")
    assert "returned 2 NaN values and 1 inf value where finite values were expected" in message
    assert "the first is at index (0, 3)." in message


def test_sign_flipped() -> None:
    message = failure(expect_array, -RELU, RELU, what="relu(x)")
    assert message.startswith(
        "relu(x) returned wrong values. "
        "The sign is flipped: every value is the negative of the expected one."
    )


def test_constant_factor_with_hint() -> None:
    m = 2
    hints = {1 / m: "divided by the batch size twice?", float(m): "the mean over the batch?"}
    message = failure(expect_array, RELU / m, RELU, what="grad", factor_hints=hints)
    assert "Every value is 0.5 times the expected one (divided by the batch size twice?)." in (
        message
    )
    assert "For example, at index (0, 0): expected 1, got 0.5." in message


def test_constant_factor_without_hint() -> None:
    message = failure(expect_array, 3 * RELU, RELU, what="grad", factor_hints={0.5: "halved?"})
    assert "Every value is 3 times the expected one." in message
    assert "halved?" not in message


def test_factor_fitted_in_float32() -> None:
    message = failure(
        expect_array, (RELU / 4).astype(np.float32), RELU, what="grad", factor_hints={0.25: "hint"}
    )
    assert "Every value is 0.25 times the expected one (hint)." in message


def test_no_factor_when_values_are_not_proportional() -> None:
    message = failure(expect_array, RELU + 1.0, RELU, what="relu(x)")
    assert "times the expected" not in message
    assert "12 of 12 elements differ" in message


def test_no_factor_when_nothing_but_zeros_came_back() -> None:
    message = failure(expect_array, np.zeros_like(RELU), RELU, what="relu(x)")
    assert "times the expected" not in message
    assert "5 of 12 elements differ" in message


def test_differences_only_where_input_is_zero() -> None:
    returned = RELU.copy()
    returned[X == 0] = 1.0
    message = failure(expect_array, returned, RELU, what="relu(x)", inputs={"x": X})
    lines = message.splitlines()
    assert lines[0] == (
        "relu(x) returned wrong values: 3 of 12 elements differ; "
        "the largest difference is 1 at index (0, 2): expected 0, got 1."
    )
    assert lines[1] == "All of them are where x == 0 exactly (check what you return at 0)."
    assert lines[2:] == [
        "For example:",
        "  at x[0, 2] = 0: expected 0, got 1",
        "  at x[1, 1] = 0: expected 0, got 1",
        "  at x[2, 1] = 0: expected 0, got 1",
    ]


def test_differences_only_where_input_is_negative() -> None:
    message = failure(expect_array, X, RELU, what="relu(x)", inputs={"x": X})
    assert "4 of 12 elements differ; the largest difference is 3 at index (2, 2)" in message
    assert "All of them are where x < 0." in message
    assert "  at x[0, 1] = -0.5: expected 0, got -0.5" in message


def test_differences_only_where_input_is_positive() -> None:
    returned = np.where(X > 0, X + 1, 0.0)  # wrong exactly where x > 0, right elsewhere
    message = failure(expect_array, returned, RELU, what="relu(x)", inputs={"x": X})
    assert "All of them are where x > 0." in message


def test_a_condition_the_right_elements_meet_too_is_not_a_pattern() -> None:
    """One wrong element among positive ones: "where x > 0" would not set it apart."""
    returned = RELU.copy()
    returned[0, 0] = 5.0
    message = failure(expect_array, returned, RELU, what="relu(x)", inputs={"x": X})
    assert "1 of 12 elements differ" in message
    assert "where x > 0" not in message
    assert "at x[0, 0] = 1: expected 1, got 5" in message


def test_a_condition_every_element_meets_is_not_a_pattern() -> None:
    """Issue 18: every grad_output was > 0, right or wrong; the cause was x <= 0."""
    x = np.array([[-1.0, 2.0, 0.0], [3.0, -4.0, 5.0]])
    grad_output = np.array([[0.5, 1.0, 2.0], [0.1, 0.3, 0.7]])
    expected = grad_output * (x > 0)
    returned = grad_output.copy()  # the mask is missing: wrong where x <= 0
    message = failure(
        expect_array,
        returned,
        expected,
        what="backward(grad_output)",
        inputs={"x": x, "grad_output": grad_output},
    )
    assert "grad_output > 0" not in message
    assert "All of them are where x < 0" not in message  # x == 0 is wrong too
    assert "3 of 6 elements differ" in message


def test_a_condition_that_separates_is_named_beside_one_that_does_not() -> None:
    x = np.array([-1.0, 2.0, -3.0, 5.0])
    grad_output = np.array([0.5, 1.0, 2.0, 0.7])
    expected = grad_output * (x > 0)
    message = failure(
        expect_array,
        grad_output,
        expected,
        what="backward(grad_output)",
        inputs={"x": x, "grad_output": grad_output},
    )
    assert "All of them are where x < 0." in message


def test_no_pattern_when_every_element_is_wrong() -> None:
    x = np.array([-1.0, -2.0, -3.0])
    message = failure(expect_array, x, np.zeros(3), what="relu(x)", inputs={"x": x})
    assert "where x < 0" not in message


def test_differences_with_mixed_inputs_name_no_pattern() -> None:
    returned = RELU.copy()
    returned[0, 0] = 5.0
    returned[0, 1] = 5.0
    message = failure(expect_array, returned, RELU, what="relu(x)", inputs={"x": X})
    assert "All of them" not in message
    assert "at x[0, 1] = -0.5: expected 0, got 5" in message


def test_differences_without_inputs_use_indices() -> None:
    message = failure(expect_array, X, RELU, what="relu(x)")
    assert "  at index (0, 1): expected 0, got -0.5" in message
    assert "where x" not in message
    assert len(message.splitlines()) == 5


def test_differences_in_one_dimension() -> None:
    x = np.array([-1.0, 0.0, 2.0])
    message = failure(expect_array, x, np.maximum(x, 0), what="relu(x)", inputs={"x": x})
    assert "largest difference is 1 at index (0,): expected 0, got -1." in message
    assert "at x[0] = -1: expected 0, got -1" in message


def test_torch_tensor_is_compared() -> None:
    message = failure(expect_array, torch.tensor(X), RELU, what="relu(x)", inputs={"x": X})
    assert "4 of 12 elements differ" in message
    assert "All of them are where x < 0." in message


def test_list_is_compared() -> None:
    message = failure(expect_array, X.tolist(), RELU, what="relu(x)")
    assert "4 of 12 elements differ" in message


def test_wrong_0d_value() -> None:
    message = failure(expect_array, 0.25, np.array(0.5), what="f(x)")
    assert message == "f(x) returned 0.25; expected 0.5."


def test_works_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "from grader.checks import expect_array\n"
        "expect_array([1.0, 2.0], np.array([1.0, 2.0]), what='f(x)')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_messages_name_the_call() -> None:
    message = failure(expect_array, None, RELU, what="sigmoid(z)")
    assert re.match(r"sigmoid\(z\) returned None", message)
