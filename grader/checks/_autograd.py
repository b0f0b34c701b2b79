"""A student's ``torch.autograd.Function`` subclass, applied in the kernel and read as data;
and a student's function that takes a function (``derivative(f, z, eps)``).

The class is called the way PyTorch means it to be, ``MyReLU.apply(x)`` (never
instantiated), on leaves that require grad; backward runs with the check's
``grad_output``; ``torch.autograd.gradcheck`` runs in float64 (grader/_kernel/
nngrade_autograd.py). A failing gradcheck is a finding (``gradcheck_passed`` False, its
message as text), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grader._kernel.nngrade_protocol import Routine
from grader.checks.calls import CallFailed
from grader.checks.notebook import CallResult, Notebook

if TYPE_CHECKING:  # only for annotations: grader.checks must work without torch
    import torch

__all__ = ["FunctionApplied", "apply_function", "call_with_function"]


@dataclass(frozen=True)
class FunctionApplied:
    """What ``apply_function`` saw.

    ``output`` is what ``Function.apply`` returned (a tensor from a working forward,
    anything else as it came). ``grads`` has, for each input, the gradient backward gave it
    (None where backward returned None for it), or is None when backward did not run:
    ``skipped`` then says why in a sentence (forward returned no tensor, or one of another
    shape than ``grad_output``). ``saved`` are the tensors forward passed to
    ``ctx.save_for_backward`` (``ctx.saved_tensors``), ``stored`` the names of other
    attributes forward set on ``ctx`` (``ctx.mask = ...``). ``inputs_modified`` says, per
    input, whether forward or backward changed it in place. ``gradcheck_passed`` is the
    result of ``torch.autograd.gradcheck`` on float64 copies of the inputs (None when not
    asked for), ``gradcheck_message`` its first line when it failed (``GradcheckError:
    Jacobian mismatch for output 0 with respect to input 0, ...``) and
    ``gradcheck_details`` the whole of it (numerical and analytical Jacobians).
    """

    output: Any
    grads: tuple[torch.Tensor | None, ...] | None
    skipped: str | None
    saved: tuple[torch.Tensor, ...]
    stored: tuple[str, ...]
    inputs_modified: tuple[bool, ...]
    gradcheck_passed: bool | None
    gradcheck_message: str = ""
    gradcheck_details: str = ""


def apply_function(
    notebook: Notebook,
    function: str,
    *inputs: torch.Tensor,
    grad_output: torch.Tensor | None,
    gradcheck: bool = True,
    what: str | None = None,
) -> FunctionApplied:
    """Apply the student's ``torch.autograd.Function`` subclass named ``function`` to
    ``inputs`` with ``function.apply`` (copies made leaves that require grad; integer
    tensors become floating point), run ``backward(grad_output)`` on its output, and, with
    ``gradcheck``, ``torch.autograd.gradcheck`` (eps 1e-6, atol 1e-5, rtol 1e-3) on float64
    copies of the inputs: choose inputs away from kinks (``away_from_kinks``) for it.
    With ``grad_output=None`` only forward runs (no backward, no gradcheck), so that a
    check of forward's values does not fail for backward's mistakes.

    ``what`` names the call in messages (default ``MyReLU.apply(x)`` style, with one
    ``x``/``x1, x2, ...`` per input). Raises ``CallFailed`` (the student's failure, with
    their own lines) when the name is missing or is not such a class, or when their
    forward or backward raises, including PyTorch's own complaints about what backward
    returned ("returned an incorrect number of gradients", "invalid gradient ... shape").
    """
    if what is None:
        names = ["x"] if len(inputs) == 1 else [f"x{i + 1}" for i in range(len(inputs))]
        then = "" if grad_output is None else " with its backward"
        what = f"{function}.apply({', '.join(names)}){then}"
    call = notebook.run(
        Routine.AUTOGRAD_FUNCTION,
        function,
        list(inputs),
        grad_output,
        gradcheck=gradcheck,
        what=what,
    )
    if not call.ok:
        raise CallFailed(call)
    reply: dict[str, Any] = call.raw_value
    grads = reply["grads"]
    check = reply["gradcheck"]
    return FunctionApplied(
        output=reply["output"],
        grads=None if grads is None else tuple(grads),
        skipped=reply["skipped"],
        saved=tuple(reply["saved"]),
        stored=tuple(str(name) for name in reply["stored"]),
        inputs_modified=tuple(bool(flag) for flag in reply["inputs_modified"]),
        gradcheck_passed=None if check is None else bool(check["passed"]),
        gradcheck_message="" if check is None else str(check["message"]),
        gradcheck_details="" if check is None else str(check["details"]),
    )


def call_with_function(
    notebook: Notebook, name: str, function: str, /, *args: Any, **kwargs: Any
) -> CallResult:
    """Call the student's ``name(f, *args, **kwargs)`` where ``f`` is ``function``, named,
    as a function cannot cross the boundary as data: a NumPy ufunc (``"numpy.sin"``) or
    one of the notebook's own functions (``"sigmoid"``). For checks of a function that
    takes a function, such as a numerical ``derivative(f, z, eps)``.

    Returns the ``CallResult`` (``.value`` fails the check with the reason if the call
    raised or a name is missing); ``what`` reads ``derivative(np.sin, z)``.
    """
    shown = function.replace("numpy.", "np.", 1)
    if not (function.removeprefix("numpy.").isidentifier() and function.count(".") <= 1):
        raise ValueError(f"not a NumPy ufunc or a function's name: {function!r}")
    if "." in function and not function.startswith("numpy."):
        raise ValueError(f"only NumPy's functions may be named with a module: {function!r}")
    what = f"{name}({', '.join([shown, *_shown_args(args), *_shown_kwargs(kwargs)])})"
    return notebook.run(Routine.CALL_WITH_FUNCTION, name, function, *args, what=what, **kwargs)


def _shown_args(args: tuple[Any, ...]) -> list[str]:
    """An array argument as ``z`` (the name students give it), a number as itself."""
    return [repr(a) if isinstance(a, int | float) else "z" for a in args]


def _shown_kwargs(kwargs: dict[str, Any]) -> list[str]:
    return [f"{key}={value!r}" for key, value in kwargs.items()]
