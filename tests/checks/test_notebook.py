"""Calls through the kernel helper's request handling, in process (no kernel needed)."""

from __future__ import annotations

import numpy as np
import pytest

from grader import CheckFailure
from grader.checks.notebook import in_process_notebook


def mutate(x: np.ndarray) -> np.ndarray:
    x[0] = 99.0
    return x


def chatty(x: float) -> float:
    print("computing", x)
    return x * 2


def broken(x: float) -> float:
    return undefined_name + x  # type: ignore[name-defined]  # noqa: F821


def test_value_and_student_parameter_names() -> None:
    call = in_process_notebook(relu=lambda z: np.maximum(z, 0)).call("relu", np.array([-1.0, 2]))
    assert call.ok and call.what == "relu(z)" and call.argument_name(0) == "z"
    np.testing.assert_array_equal(call.value, [0.0, 2.0])
    assert not call.args_changed and call.duration >= 0


def test_arguments_modified_in_place_come_back() -> None:
    x = np.array([1.0, 2.0])
    call = in_process_notebook(mutate=mutate).call("mutate", x)
    assert call.args_changed and call.args[0][0] == 99.0


def test_stdout_is_captured() -> None:
    call = in_process_notebook(chatty=chatty).call("chatty", 2.0)
    assert call.value == 4.0 and call.stdout == "computing 2.0\n"


def test_student_exception_fails_the_check_with_the_error() -> None:
    call = in_process_notebook(broken=broken).call("broken", 1.0)
    assert call.status == "raised" and call.error is not None
    assert call.error.ename == "NameError"
    with pytest.raises(CheckFailure, match="broken\\(x\\) raised an exception:\nNameError"):
        _ = call.value


def test_missing_function_suggests_near_misses() -> None:
    notebook = in_process_notebook(ReLU=lambda x: x, d_relu=lambda x: x)
    call = notebook.call("relu", 1.0)
    assert call.status == "missing" and "Did you mean `ReLU`" in call.message
    assert notebook.names() == ["ReLU", "d_relu"]


def test_unencodable_return_value_is_explained() -> None:
    call = in_process_notebook(make=lambda: {1, 2}).call("make")
    assert call.status == "unencodable" and "cannot read" in call.message
