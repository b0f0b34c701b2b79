"""Hidden checks for the ReLU assignment, run only when grading: the reference solution on
inputs the visible checks do not try.

1 point. A check here fails only for what the visible checks cannot already have failed:
a relu that is wrong for ordinary negative numbers has lost its points for that, so its
extreme negative inputs are not judged again.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from grader.checks import CheckFailure, Notebook, expect_array

# 2-D, like one of the visible cases, so that a relu limited to one shape is judged on
# extreme values here and not a second time on its shape.
EXTREME = np.array([[0.0, -0.0, 1e300, -1e300], [np.inf, -np.inf, 5e-324, -5e-324]])
# Ordinary numbers with the same signs, element by element: which kinds of input relu
# already gets right.
ORDINARY = np.array([[0.0, 0.0, 2.5, -2.5], [0.5, -0.5, 1.0, -1.0]])


def sign_class(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1 per element; -0.0 counts as 0."""
    return np.sign(x).astype(int)


def in_precision_of(value: object, x: np.ndarray) -> np.ndarray:
    """x as a relu computing in ``value``'s float type sees it: 1e300 is inf in float32.
    The assignment asks for no dtype, so a float32 relu is judged on float32's numbers."""
    dtype = getattr(value, "dtype", None)
    if not isinstance(dtype, np.dtype) or dtype.kind != "f" or dtype.itemsize >= 8:
        return x
    with np.errstate(over="ignore", under="ignore"):
        return x.astype(dtype).astype(np.float64)


@pytest.mark.points(1)
def test_relu_extreme_values(notebook: Notebook) -> None:
    """relu(x) handles exact zeros, huge magnitudes and infinities"""
    ordinary = notebook.call("relu", ORDINARY.copy())
    right = None
    if ordinary.ok and np.shape(ordinary.raw_value) == ORDINARY.shape:
        with np.errstate(all="ignore"):
            matches = np.asarray(ordinary.raw_value, dtype=np.float64) == reference.relu(ORDINARY)
        right = {int(k) for k in (-1, 0, 1) if matches[sign_class(ORDINARY) == k].all()}
    if not right:
        raise CheckFailure(
            f"{ordinary.what} does not return right values for ordinary inputs yet (see the "
            f"other relu checks), so this check of extreme inputs gives no credit."
            + (f"\n{ordinary.message}" if ordinary.message else "")
        )
    x = EXTREME.copy()
    call = notebook.call("relu", x)
    value = call.value
    expected = reference.relu(in_precision_of(value, EXTREME))
    if np.shape(value) != EXTREME.shape:  # explained as for any wrong shape or type
        expect_array(value, expected, what=call.what, inputs={"x": x})
    # Judged only for the signs relu gets right on ordinary inputs; elsewhere as expected.
    judged = np.isin(sign_class(EXTREME), sorted(right))
    expect_array(np.where(judged, value, expected), expected, what=call.what, inputs={"x": x})
