"""What one call into the student's notebook did: ``CallResult``, and ``StudentError``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader._kernel.nngrade_protocol import Status
from grader.checks.failures import CheckFailure

__all__ = ["CallResult", "StudentError"]


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
            raise CheckFailure(self.message)

    def argument_name(self, position: int) -> str:
        """The student's name for positional argument ``position`` (``x`` in relu(x))."""
        if position < len(self.params):
            return self.params[position]
        return f"argument {position + 1}"
