"""Hidden checks for the ReLU assignment, run only when grading: the reference solution on
inputs the visible checks do not try.

1 point. A check here fails only for what the visible checks cannot already have failed:
a relu that is wrong for ordinary inputs of any sign has lost its points for that, so its
extreme inputs are not judged (0 points, "not judged": relu(x) = x gets no free point).
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from grader.checks import Notebook, NotJudged, expect_array

# 2-D, like one of the visible cases, so that a relu limited to one shape is judged on
# extreme values here and not a second time on its shape.
EXTREME = np.array([[0.0, -0.0, 1e300, -1e300], [np.inf, -np.inf, 5e-324, -5e-324]])
# Ordinary numbers with the same signs, element by element: which kinds of input relu
# already gets right.
ORDINARY = np.array([[0.0, 0.0, 2.5, -2.5], [0.5, -0.5, 1.0, -1.0]])


SIGNS = {-1: "negative", 0: "zero", 1: "positive"}


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
    wrong: list[str] = ["negative", "zero", "positive"]
    if ordinary.ok and np.shape(ordinary.raw_value) == ORDINARY.shape:
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(ordinary.raw_value, dtype=np.float64)
        except (TypeError, ValueError):  # not numbers: the visible checks say what it is
            got = np.full(ORDINARY.shape, np.nan)
        matches = got == reference.relu(ORDINARY)
        signs = sign_class(ORDINARY)
        wrong = [word for k, word in SIGNS.items() if not matches[signs == k].all()]
    if wrong:
        # Judging extreme inputs of a relu that is wrong on ordinary ones would either fail it
        # twice or, for the signs it gets wrong, hand out a free point (relu(x) = x).
        if ordinary.error is not None:
            reason = f"{ordinary.what} raises {ordinary.error.ename} on ordinary inputs"
        elif not ordinary.ok:
            first = (ordinary.message.strip().splitlines() or ["it failed"])[0]
            reason = f"{ordinary.what} does not return a value yet ({first.rstrip(':')})"
        elif np.shape(ordinary.raw_value) != ORDINARY.shape:
            reason = f"{ordinary.what} does not return an array of x's shape yet"
        else:
            reason = f"relu is already wrong on ordinary {' and '.join(wrong)} inputs"
        raise NotJudged(f"{reason}; see the checks of relu's values above")
    x = EXTREME.copy()
    call = notebook.call("relu", x)
    value = call.value
    # A float32 relu is judged on float32's numbers (1e300 is inf there).
    expected = reference.relu(in_precision_of(value, EXTREME))
    expect_array(value, expected, what=call.what, inputs={"x": x})
