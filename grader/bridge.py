"""Calling the student's functions from a check: arguments in as data, results out as data.

A ``Notebook`` is what a check receives. It encodes the arguments, hands the request
to a transport (the live kernel, or an in-process fake for fast tests), and turns the
reply into a ``CallResult`` that knows how to explain itself when something went wrong.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from grader._kernel import nngrade_codec as codec
from grader._kernel import nngrade_kernel
from grader.failures import CheckFailure

__all__ = ["CallResult", "InProcessTransport", "Notebook", "StudentError", "Transport"]


class Transport(Protocol):
    """Sends one request to wherever the student's code lives and returns the reply.

    Besides the kernel helper's statuses, a transport may answer ``timeout`` (the call
    was interrupted) or ``kernel_died``; it never raises for the student's misdeeds.
    """

    def request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[dict[str, Any], list[bytes]]: ...

    def describe_cell(self, execution_count: int | None) -> str | None: ...


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
    status: str
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
        return self.status == "ok"

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


class Notebook:
    """The student's notebook as a check sees it: functions to call by name."""

    def __init__(self, transport: Transport, *, timeout: float = 10.0) -> None:
        self._transport = transport
        self.timeout = timeout
        self._next_id = 0

    def call(self, name: str, /, *args: Any, **kwargs: Any) -> CallResult:
        """Call the student's ``name(*args, **kwargs)`` in the kernel."""
        buffers: list[bytes] = []
        tree = codec.encode_into([list(args), kwargs], buffers)
        reply, out = self._send({"op": "call", "name": name, "args": tree}, buffers)
        return self._result(name, args, kwargs, reply, out)

    def run(self, routine: str, /, *args: Any, what: str, **kwargs: Any) -> CallResult:
        """Run a kernel-side routine around the student's objects (see
        grader/_kernel/nngrade_torch.py), e.g. ``run("torch.train_epoch", "Net", "train", ...)``;
        ``what`` names the student's code in messages."""
        buffers: list[bytes] = []
        tree = codec.encode_into([list(args), kwargs], buffers)
        reply, out = self._send({"op": "run", "routine": routine, "args": tree}, buffers)
        return self._result(what, args, kwargs, reply, out, what=what)

    def names(self) -> list[str]:
        """Functions and classes the notebook defines."""
        reply, _ = self._send({"op": "names"}, [])
        return list(reply.get("names", []))

    def _send(
        self, data: dict[str, Any], buffers: list[bytes]
    ) -> tuple[dict[str, Any], list[bytes]]:
        self._next_id += 1
        return self._transport.request({**data, "id": self._next_id}, buffers, self.timeout)

    def _result(
        self,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        reply: dict[str, Any],
        buffers: list[bytes],
        what: str | None = None,
    ) -> CallResult:
        status = reply.get("status", "bridge_error")
        params = tuple(reply.get("params", ()))
        what = what or _call_text(name, params, len(args), kwargs)
        result = CallResult(
            what=what,
            status=status,
            stdout=reply.get("stdout", ""),
            duration=float(reply.get("duration", 0.0)),
            params=params,
            args=args,
            kwargs=kwargs,
        )
        if status == "ok":
            result.raw_value = codec.decode(reply["value"], buffers)
        if "args" in reply:
            after_args, after_kwargs = codec.decode(reply["args"], buffers)
            result.args, result.kwargs, result.args_changed = tuple(after_args), after_kwargs, True
        if status == "raised":
            result.error = self._student_error(reply["error"])
        result.message = self._explain(name, what, status, reply, result.error)
        return result

    def _student_error(self, error: dict[str, Any]) -> StudentError:
        lines = []
        for frame in error.get("frames", []):
            where = self._transport.describe_cell(frame.get("execution_count"))
            place = f"{where}, line {frame['lineno']}" if where else f"line {frame['lineno']}"
            lines.append(f"  {place}, in {frame['name']}: {frame['line'].strip()}")
        return StudentError(error["ename"], error.get("evalue", ""), tuple(lines))

    def _explain(
        self,
        name: str,
        what: str,
        status: str,
        reply: dict[str, Any],
        error: StudentError | None,
    ) -> str:
        if status == "ok":
            return ""
        if status == "missing":
            missing, defined = reply.get("missing", name), reply.get("names", [])
            if missing != name:  # a routine's class or function, not the function called
                return _missing_message(missing, defined, noun="")
            return _missing_message(name, defined)
        if status == "raised":
            return f"{what} raised an exception:\n{error}"
        if status == "timeout":
            return f"{what} did not finish within {self.timeout:g} s and was stopped."
        if status == "kernel_died":
            reason = reply.get("reason") or "a crash or os._exit in your code"
            return f"The kernel died while running {what}: {reason}."
        if status == "interrupted":
            return f"{what} was interrupted before it finished."
        if status == "unusable":
            return f"{what} could not be run: {reply.get('message', '')}."
        if status == "unencodable":
            return f"{what} returned something nngrade cannot read: {reply.get('message', '')}."
        return f"nngrade could not call {what}: {reply.get('message', status)}"


def _call_text(name: str, params: tuple[str, ...], nargs: int, kwargs: dict[str, Any]) -> str:
    if len(params) < nargs:  # no signature (the call never started, or *args)
        return f"{name}(...)"
    names = list(params[:nargs]) + [f"{key}=..." for key in kwargs]
    return f"{name}({', '.join(names)})"


def _missing_message(name: str, defined: list[str], noun: str = "a function named ") -> str:
    message = f"Your notebook does not define {noun}`{name}`."
    near = [n for n in defined if n.lower() == name.lower()]
    near += [n for n in difflib.get_close_matches(name, defined, n=3, cutoff=0.6) if n not in near]
    if near:
        message += " Did you mean " + " or ".join(f"`{n}`" for n in near) + "?"
        message += f" The checks look for the exact name `{name}`."
    elif defined:
        shown = ", ".join(f"`{n}`" for n in defined[:8])
        message += f" Functions and classes it defines: {shown}."
    return message


class InProcessTransport:
    """Runs the kernel helper in this process on a plain namespace: for fast unit tests.

    It exercises the same request handling and encoding as the real kernel; it only
    lacks the process boundary, so it must never run untrusted code.
    """

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[dict[str, Any], list[bytes]]:
        return nngrade_kernel.handle(self.namespace, data, buffers)

    def describe_cell(self, execution_count: int | None) -> str | None:
        return None


def in_process_notebook(**functions: Callable[..., Any]) -> Notebook:
    """A Notebook over plain Python functions, for testing checks without a kernel."""
    return Notebook(InProcessTransport(dict(functions)))
