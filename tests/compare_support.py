"""Inputs and a helper shared by the tests of grader.checks._compare."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.failures import CheckFailure

X = np.array([[1.0, -0.5, 0.0, 2.0], [-1.0, 0.0, 3.0, -2.0], [0.5, 0.0, -3.0, 1.0]])
RELU = np.maximum(X, 0.0)


def failure(check: object, *args: object, **kwargs: object) -> str:
    """The message ``check(*args, **kwargs)`` fails with."""
    assert callable(check)
    with pytest.raises(CheckFailure) as excinfo:
        check(*args, **kwargs)
    return str(excinfo.value)
