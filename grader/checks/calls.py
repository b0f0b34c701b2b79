"""What one call into the student's notebook did (``CallResult``, ``StudentError``), and
the failure it raises when it did not return (``CallFailed``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader._kernel.nngrade_protocol import Status
from grader.checks.failures import CheckFailure

__all__ = ["CallFailed", "CallResult", "StudentError", "expect_called", "expect_not_called"]


@dataclass(frozen=True)
class StudentError:
    """An exception raised by the student's code, with the student's own lines."""

    ename: str
    evalue: str
    lines: tuple[str, ...]

    def __str__(self) -> str:
        head = f"{self.ename}: {self.evalue}" if self.evalue else self.ename
        return "\n".join([head, *self.lines])


@dataclass
class CallResult:
    """What one call of a student's function did."""

    what: str
    status: Status
    raw_value: Any = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    args_changed: bool = False
    error: StudentError | None = None
    stdout: str = ""
    duration: float = 0.0
    message: str = ""
    params: tuple[str, ...] = ()
    # The library functions the call watched for (``Notebook.call(..., watch=...)``) and,
    # of those, the ones it used with how often; see ``expect_not_called``.
    watched: tuple[str, ...] = ()
    called: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    @property
    def value(self) -> Any:
        """The returned value; fails the check with the reason if there is none."""
        self.raise_for_status()
        return self.raw_value

    def raise_for_status(self) -> None:
        """Fail the check, with the explanation, unless the call returned normally."""
        if not self.ok:
            raise CallFailed(self)

    def argument_name(self, position: int) -> str:
        """The student's name for positional argument ``position`` (``x`` in relu(x))."""
        if position < len(self.params):
            return self.params[position]
        return f"argument {position + 1}"


class CallFailed(CheckFailure):
    """A call into the student's code did not return: it raised, timed out, or a name it
    needs is missing. The typed torch routines (``trace_model`` ...) raise it.

    ``str(exc)`` is the same explanation as ``CallResult.message``; ``exc.call`` is the
    ``CallResult`` itself, for a check that adds advice when, say, the student's code
    raised (``exc.call.error is not None``) and not when a name is missing.
    """

    def __init__(self, call: CallResult) -> None:
        super().__init__(call.message)
        self.call = call


def expect_not_called(call: CallResult, *names: str, reason: str) -> None:
    """Fail the check if ``call`` used any of ``names`` (which it must have watched).

    ``reason`` is the assignment's rule in its words ("the assignment asks for BCE by
    formula, without torch.nn.BCELoss"). List classes before the functions they call
    (``torch.nn.BCELoss`` before ``torch.nn.functional.binary_cross_entropy``): the message
    names the first one used, which is what the student wrote. Every check that fails this
    way for one function fails with the same message, so only the first shows it whole.
    """
    _expect_watched(call, names)
    used = next((name for name in names if call.called.get(name)), None)
    if used is None:
        return
    function = call.what.split("(", 1)[0]
    raise CheckFailure(
        f"{call.what} uses `{used}` (whatever name your code gives it): {reason}. "
        f"So the checks of what {function} returns give no credit while it uses it; "
        f"write the computation out yourself.",
        short=f"{call.what} uses `{used}`, which the assignment rules out.",
    )


def expect_called(call: CallResult, name: str, *, reason: str) -> None:
    """Fail the check unless ``call`` used ``name`` (which it must have watched)."""
    _expect_watched(call, (name,))
    if not call.called.get(name):
        raise CheckFailure(
            f"{call.what} does not use `{name}`: {reason}.",
            short=f"{call.what} does not use `{name}`, which the assignment asks for.",
        )


def _expect_watched(call: CallResult, names: tuple[str, ...]) -> None:
    unwatched = [name for name in names if name not in call.watched]
    if unwatched:  # the check's own fault: it never asked to see these
        raise ValueError(
            f"{call.what} was not watching {', '.join(unwatched)}: "
            "pass them to notebook.call(..., watch=[...])"
        )
