"""What one call into the student's notebook did (``CallResult``, ``StudentError``), and
the failure it raises when it did not return (``CallFailed``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader._kernel.nngrade_protocol import Status
from grader.checks.failures import CheckFailure

__all__ = ["CallFailed", "CallResult", "StudentError"]


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
