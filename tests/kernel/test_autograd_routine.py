"""The kernel half of apply_function and call_with_function, called directly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from grader._kernel import nngrade_autograd, nngrade_torch
from grader._kernel.nngrade_lookup import MissingName
from grader._kernel.nngrade_protocol import Routine


def test_every_routine_the_protocol_names_exists() -> None:
    assert set(nngrade_torch.ROUTINES) == set(Routine)


def test_only_numpy_ufuncs_or_the_students_functions_are_passed() -> None:
    """A check names the function; the name must not reach anything but a ufunc."""
    namespace: dict[str, Any] = {"apply": lambda f, z: f(z), "_private": np.sin}
    z = np.array([0.0, 1.0])
    np.testing.assert_allclose(
        nngrade_autograd.call_with_function(namespace, "apply", "numpy.cos", z), np.cos(z)
    )
    with pytest.raises(ValueError, match="not a NumPy ufunc"):
        nngrade_autograd.call_with_function(namespace, "apply", "numpy.load", z)
    with pytest.raises(MissingName):
        nngrade_autograd.call_with_function(namespace, "apply", "_private", z)


def test_integer_inputs_become_leaves_that_require_grad() -> None:
    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
            return 2 * x

        @staticmethod
        def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
            return 2 * grad_output

    reply = nngrade_autograd.apply_function(
        {"Double": Double}, "Double", [torch.tensor([1, 2])], torch.ones(2)
    )
    assert reply["grads"][0].tolist() == [2.0, 2.0] and reply["gradcheck"]["passed"]
