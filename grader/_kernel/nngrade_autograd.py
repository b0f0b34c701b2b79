"""Kernel half of the checks of a student's ``torch.autograd.Function`` subclass.

The class is used the way PyTorch means it to be, through ``Function.apply`` (never
instantiated: PyTorch deprecates calling an instance). The routine runs forward on fresh
leaves that require grad, reads what forward saved for backward, runs backward with the
check's ``grad_output``, and runs ``torch.autograd.gradcheck`` in float64. Everything comes
back as data. An exception in the student's forward or backward propagates, so the kernel
reports it with the student's own lines; a gradcheck failure is a finding, returned as its
message, never raised.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

try:  # as grader._kernel.nngrade_autograd in the in-process fake bridge
    from .nngrade_lookup import Unusable, student_object
except ImportError:  # as a top-level module inside the kernel
    from nngrade_lookup import Unusable, student_object  # type: ignore[no-redef]

__all__ = ["apply_function", "call_with_function"]

# gradcheck's own defaults (eps 1e-6, atol 1e-5, rtol 1e-3) in float64: a right backward
# passes with a wide margin and a wrong one (a missing mask, a factor) fails by far more.
EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3


def apply_function(
    namespace: dict[str, Any],
    name: str,
    inputs: list[torch.Tensor],
    grad_output: torch.Tensor | None,
    *,
    gradcheck: bool = True,
) -> dict[str, Any]:
    """``name.apply(*inputs)`` then ``output.backward(grad_output)``, watched (forward
    alone, without gradcheck, when ``grad_output`` is None)."""
    function = _function_class(namespace, name)
    leaves = [_leaf(value) for value in inputs]
    before = [leaf.detach().clone() for leaf in leaves]
    output = function.apply(*leaves)
    reply: dict[str, Any] = {
        "output": _detached(output),
        "grads": None,
        "skipped": None,
        "saved": [],
        "stored": [],
    }
    node = output.grad_fn if isinstance(output, torch.Tensor) else None
    if node is not None:
        # The node of a custom Function is its ctx: what forward saved is readable here,
        # before backward frees it.
        reply["saved"] = [_detached(t) for t in getattr(node, "saved_tensors", ()) or ()]
        reply["stored"] = (
            sorted(key for key, value in vars(node).items() if not key.startswith("_"))
            if hasattr(node, "__dict__")
            else []
        )
    if grad_output is None:
        reply.update(skipped="no grad_output was given", inputs_modified=_modified(leaves, before))
        reply["gradcheck"] = None
        return reply
    reply["skipped"] = _why_no_backward(output, grad_output)
    if reply["skipped"] is None:
        output.backward(grad_output.to(output.dtype))
        reply["grads"] = [_detached(leaf.grad) for leaf in leaves]
    reply["inputs_modified"] = _modified(leaves, before)
    reply["gradcheck"] = _gradcheck(function, inputs) if gradcheck else None
    return reply


def call_with_function(
    namespace: dict[str, Any], name: str, function: str, *args: Any, **kwargs: Any
) -> Any:
    """The student's ``name(f, *args, **kwargs)`` where ``f`` is ``function``: a NumPy
    ufunc (``"numpy.sin"``) or one of the notebook's own functions by name. A function
    cannot cross the boundary as data, so a check of a function that takes one (a
    numerical ``derivative(f, z, eps)``) names it instead."""
    target = student_object(namespace, name)
    if not callable(target):
        raise Unusable(f"`{name}` is a {type(target).__name__}, not a function")
    if function.startswith("numpy."):
        found = getattr(np, function.removeprefix("numpy."), None)
        if not isinstance(found, np.ufunc):  # only NumPy's own element-wise functions
            raise ValueError(f"{function} is not a NumPy ufunc")
    else:
        found = student_object(namespace, function)
    return target(found, *args, **kwargs)


def _modified(leaves: list[torch.Tensor], before: list[torch.Tensor]) -> list[bool]:
    return [not torch.equal(leaf.detach(), old) for leaf, old in zip(leaves, before, strict=True)]


def _function_class(namespace: dict[str, Any], name: str) -> Any:
    found = student_object(namespace, name)
    if isinstance(found, type) and issubclass(found, torch.autograd.Function):
        return found
    if isinstance(found, torch.autograd.Function):
        raise Unusable(
            f"`{name}` is an instance of {type(found).__name__}; keep the class itself under "
            f"this name (`class {name}(torch.autograd.Function)`) and call {name}.apply(x)"
        )
    kind = "None" if found is None else f"a {type(found).__name__}"
    raise Unusable(
        f"`{name}` is {kind}; expected a subclass of torch.autograd.Function "
        f"(`class {name}(torch.autograd.Function)` with static forward and backward)"
    )


def _leaf(value: Any) -> torch.Tensor:
    """A fresh leaf tensor that requires grad (floating point: only those can)."""
    tensor = torch.as_tensor(value).detach().clone()
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    return tensor.requires_grad_(True)


def _why_no_backward(output: Any, grad_output: torch.Tensor) -> str | None:
    """Why backward cannot run on what forward returned (None if it can)."""
    if not isinstance(output, torch.Tensor):
        kind = "None" if output is None else f"a {type(output).__name__}"
        return f"forward returned {kind}, not a tensor"
    if output.grad_fn is None:
        return "forward's output is not connected to autograd (it has no grad_fn)"
    if tuple(output.shape) != tuple(grad_output.shape):
        return (
            f"forward returned a tensor of shape {tuple(output.shape)}; backward was to run "
            f"with a grad_output of shape {tuple(grad_output.shape)}"
        )
    return None


def _gradcheck(function: Any, inputs: list[torch.Tensor]) -> dict[str, Any]:
    """gradcheck in float64 on copies of the inputs: passed, and why not as text."""
    leaves = [_leaf(value).detach().double().requires_grad_(True) for value in inputs]
    try:
        torch.autograd.gradcheck(function.apply, tuple(leaves), eps=EPS, atol=ATOL, rtol=RTOL)
    except Exception as exc:  # noqa: BLE001 - a finding about the student's code, as data
        first = str(exc).strip().splitlines()
        return {
            "passed": False,
            "message": f"{type(exc).__name__}: {first[0] if first else ''}",
            "details": str(exc)[:4000],
        }
    return {"passed": True, "message": "", "details": ""}


def _detached(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple | list):
        return [_detached(item) for item in value]
    return value
