"""apply_function and call_with_function: a student's torch.autograd.Function and a function
that takes a function, run through the kernel's routine in process (no kernel)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from grader.checks import (
    CallFailed,
    CheckFailure,
    Notebook,
    apply_function,
    call_with_function,
)
from grader.checks.notebook import in_process_notebook


class Right(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.note = "kept"
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        grad = grad_output.clone()
        grad[x < 0] = 0
        return grad


class Unmasked(Right):
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        return grad_output


class ReturnsNone(Right):
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> None:
        return None


class TwoGradients(Right):
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return grad_output, grad_output


class RaisesInBackward(Right):
    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        x = ctx.saved_tensor  # a typo students make: saved_tensors
        return grad_output * x


class Flattens(Right):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(min=0).reshape(-1)


def derivative(f: Any, z: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return (f(z + eps) - f(z - eps)) / (2 * eps)


def square(z: np.ndarray) -> np.ndarray:
    return z * z


with pytest.warns(DeprecationWarning):  # what a student who writes Right() gets
    INSTANCE = Right()


@pytest.fixture
def notebook() -> Notebook:
    return in_process_notebook(
        Right=Right,
        Unmasked=Unmasked,
        ReturnsNone=ReturnsNone,
        TwoGradients=TwoGradients,
        RaisesInBackward=RaisesInBackward,
        Flattens=Flattens,
        instance=INSTANCE,
        derivative=derivative,
        square=square,
    )


X = torch.tensor([[-1.5, 0.5, 2.0], [0.25, -0.75, 1.0]])
G = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_a_right_function_gives_output_gradients_saved_tensors_and_passes_gradcheck(
    notebook: Notebook,
) -> None:
    run = apply_function(notebook, "Right", X, grad_output=G)
    assert torch.equal(run.output, X.clamp(min=0))
    assert run.grads is not None and torch.equal(run.grads[0], G * (X > 0))
    assert len(run.saved) == 1 and torch.equal(run.saved[0], X)
    assert run.stored == ("note",) and run.inputs_modified == (False,)
    assert run.gradcheck_passed is True and run.skipped is None


def test_a_wrong_backward_is_data_and_gradcheck_says_why(notebook: Notebook) -> None:
    run = apply_function(notebook, "Unmasked", X, grad_output=G)
    assert run.grads is not None and torch.equal(run.grads[0], G)
    assert run.gradcheck_passed is False
    assert run.gradcheck_message.startswith("GradcheckError: Jacobian mismatch")
    assert "numerical" in run.gradcheck_details.lower()
    none = apply_function(notebook, "ReturnsNone", X, grad_output=G, gradcheck=False)
    assert none.grads == (None,) and none.gradcheck_passed is None


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("TwoGradients", "incorrect number of gradients"),
        ("RaisesInBackward", "saved_tensor"),
        ("Missing", "Missing"),
        ("instance", "keep the class itself"),
        ("square", "expected a subclass of torch.autograd.Function"),
    ],
)
def test_what_the_students_code_gets_wrong_fails_the_check(
    notebook: Notebook, name: str, words: str
) -> None:
    with pytest.raises(CallFailed) as failed:
        apply_function(notebook, name, X, grad_output=G)
    assert isinstance(failed.value, CheckFailure) and words in str(failed.value)


def test_an_output_of_another_shape_skips_backward(notebook: Notebook) -> None:
    run = apply_function(notebook, "Flattens", X, grad_output=G, gradcheck=False)
    assert run.grads is None and run.skipped is not None and "(6,)" in run.skipped
    assert tuple(run.output.shape) == (6,)


def test_call_with_function_passes_a_ufunc_or_the_students_function(notebook: Notebook) -> None:
    z = np.array([0.0, 0.5, 1.0])
    call = call_with_function(notebook, "derivative", "numpy.sin", z, 0.01)
    assert call.what == "derivative(np.sin, z, 0.01)"
    np.testing.assert_allclose(call.value, (np.sin(z + 0.01) - np.sin(z - 0.01)) / 0.02)
    own = call_with_function(notebook, "derivative", "square", z)
    np.testing.assert_allclose(own.value, 2 * z, atol=1e-6)
    missing = call_with_function(notebook, "derivative", "cube", z)
    assert not missing.ok and "cube" in missing.message
    with pytest.raises(ValueError, match="ufunc"):
        call_with_function(notebook, "derivative", "os.system", z)


def test_forward_alone_runs_no_backward(notebook: Notebook) -> None:
    """A check of forward's values must not fail for what backward gets wrong."""
    run = apply_function(notebook, "TwoGradients", X, grad_output=None)
    assert torch.equal(run.output, X.clamp(min=0)) and run.grads is None
    assert run.skipped == "no grad_output was given" and run.gradcheck_passed is None
