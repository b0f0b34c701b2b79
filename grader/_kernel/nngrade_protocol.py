"""The kernel protocol, shared by both sides: operations, reply statuses, typed replies.

Imported as ``nngrade_protocol`` inside the kernel and as ``grader._kernel.nngrade_protocol``
in the grader, so it uses the standard library only. The string values are what crosses
the comm and what results.json and the reports hold: never change one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "COMM_TARGET",
    "HANDLE_TAG",
    "OUTPUT_LIMIT",
    "CellEventKind",
    "Frame",
    "GuardAttempt",
    "MissingKind",
    "Op",
    "ProtocolError",
    "RaisedError",
    "Reply",
    "Routine",
    "StandIn",
    "Status",
    "decode_reply",
    "handle_node",
]

COMM_TARGET = "nngrade"
OUTPUT_LIMIT = 100_000  # characters a cell may print; the kernel drops the rest
HANDLE_TAG = "object"  # the codec tag of a value that stays in the kernel


class Op(StrEnum):
    """What a request asks the kernel helper to do."""

    NAMES = "names"  # the functions and classes the notebook defines
    STAND_INS = "stand_ins"  # which imports were replaced by stand-ins, and where
    GUARD = "guard"  # what the guard refused, and where
    RELEASE = "release"  # forget a held object
    CALL = "call"  # a function by name
    NEW = "new"  # an instance of a class by name, held in the kernel
    CALL_METHOD = "call_method"  # a method of a held object
    GET = "get"  # what a path names inside a held object
    SET = "set"  # write where a path names inside a held object
    RUN = "run"  # a kernel-side routine (nngrade_torch) around the student's objects


class Routine(StrEnum):
    """The kernel-side routines an ``Op.RUN`` request names (nngrade_torch.ROUTINES)."""

    TRACE = "torch.trace"  # the layers a fresh model calls, and its output
    TRAIN_STEPS = "torch.train_steps"  # full-batch Adam with the student's loss
    TRAIN_EPOCH = "torch.train_epoch"  # one call of the student's train, watched
    EVALUATE = "torch.evaluate"  # one call of the student's evaluate, watched
    FIT = "torch.fit"  # the student's train and evaluate for some epochs
    AUTOGRAD_FUNCTION = "torch.autograd_function"  # Function.apply, backward, gradcheck
    CALL_WITH_FUNCTION = "call_with_function"  # name(f, ...) with f a ufunc or the student's


class Status(StrEnum):
    """How a request ended. The kernel helper answers all but the transport's two, and the
    grader's ``Notebook`` says ``stale`` itself for a handle from an earlier kernel."""

    OK = "ok"
    MISSING = "missing"  # the name (or method, attribute, key, item) does not exist
    RAISED = "raised"  # the student's code raised an exception
    UNUSABLE = "unusable"  # the name exists, but is not what a routine needs
    UNENCODABLE = "unencodable"  # the value cannot cross as data, or is over the size limit
    INTERRUPTED = "interrupted"  # stopped by an interrupt before it finished
    STALE = "stale"  # an object that no longer exists in the kernel
    BRIDGE_ERROR = "bridge_error"  # nngrade's own fault: a bad request or an unreadable reply
    TIMEOUT = "timeout"  # transport only: the call did not finish in time
    KERNEL_DIED = "kernel_died"  # transport only: the kernel died during the call


class MissingKind(StrEnum):
    """What a ``missing`` reply about a held object lacks (a missing name has no kind)."""

    METHOD = "method"
    ATTRIBUTE = "attribute"
    KEY = "key"
    ITEM = "item"


class CellEventKind(StrEnum):
    """A notebook cell that did not simply run, as results.json and the reports name it."""

    ERROR = "error"  # the cell raised
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    REDEFINED = "redefined"  # a later cell defines a function or class again
    SKIPPED = "skipped"  # not run: neutralized, outside the definitions, or out of time
    LARGE_OUTPUT = "large_output"
    STAND_IN = "stand_in"  # an import replaced by a stand-in
    MEMORY_LIMIT = "memory_limit"
    CPU_LIMIT = "cpu_limit"
    FILE_LIMIT = "file_limit"
    PROCESS_LIMIT = "process_limit"
    FORBIDDEN = "forbidden"  # the guard refused an import of the grader or one of its files
    INPUT = "input"  # input() with nobody to answer


def handle_node(key: int, type_name: str) -> dict[str, Any]:
    """The node that stands for an object held in the kernel, in requests and replies."""
    return {"$": HANDLE_TAG, "id": key, "type": type_name}


class ProtocolError(ValueError):
    """A reply that does not follow the protocol: a bug in nngrade, or a tampered helper."""


@dataclass(frozen=True)
class Frame:
    """One frame of a student's traceback (``execution_count`` None outside their cells)."""

    execution_count: int | None
    filename: str
    lineno: int | None
    name: str
    line: str


@dataclass(frozen=True)
class RaisedError:
    """The exception the student's code raised, with its frames in the student's cells."""

    ename: str
    evalue: str
    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class StandIn:
    """An import in the student's cell that got an empty stand-in module."""

    module: str  # the module that is missing: "torchvision", or "common.layers"
    execution_count: int | None
    lineno: int | None
    within: str = ""  # the real package it was looked for in ("common"), or ""
    line: str = ""  # the import statement as written

    @property
    def star(self) -> bool:
        """``from x import *``: it imported nothing, and the names it would have are not defined."""
        code = self.line.split("#", 1)[0].strip()
        return code.startswith("from ") and code.replace(" ", "").endswith("import*")


@dataclass(frozen=True)
class GuardAttempt:
    """Something the guard refused: ``what`` is "import" or "file"."""

    what: str
    name: str
    execution_count: int | None


@dataclass(frozen=True)
class Reply:
    """One reply, decoded. ``value`` and ``args`` stay codec trees (their arrays travel in
    the buffers beside the reply); ``args`` is None unless the call changed its arguments."""

    status: Status
    id: int | str | None = None
    value: Any = None
    args: Any = None
    params: tuple[str, ...] = ()  # the student's positional parameter names
    names: tuple[str, ...] = ()  # what exists instead, for ``missing``; ``names`` itself
    missing: str | int | float | None = None  # the name, or the step of a path, not found
    kind: MissingKind | None = None
    where: str | None = None  # the path as text (``.params['W1']``), for ``get`` and paths
    error: RaisedError | None = None
    message: str = ""
    reason: str = ""  # why the kernel died, for ``kernel_died``
    stdout: str = ""
    duration: float = 0.0
    stand_ins: tuple[StandIn, ...] = ()
    attempts: tuple[GuardAttempt, ...] = ()
    released: bool = False
    # For a request that watched library functions (its ``watch``): how often each ran
    # during the call, those that never ran left out; None if the request did not watch.
    called: dict[str, int] | None = None
    # For ``names``: the cell (execution count) each function or class was defined in.
    sites: dict[str, int] | None = None


def decode_reply(data: Any) -> Reply:
    """The reply as a ``Reply``; ProtocolError, saying what is wrong, if it is not one."""
    if not isinstance(data, dict):
        raise ProtocolError(f"a reply is a dict, not {type(data).__name__}")
    try:
        status = Status(data.get("status", ""))
    except ValueError:
        raise ProtocolError(f"unknown reply status {data.get('status')!r}") from None
    if status is Status.RAISED and "error" not in data:
        raise ProtocolError("a `raised` reply without the error")
    fields = _Fields(data)
    return Reply(
        status=status,
        id=fields.get("id", int, str),
        value=data.get("value"),
        args=data.get("args"),
        params=fields.strings("params"),
        names=fields.strings("names"),
        missing=fields.get("missing", str, int, float),
        kind=_kind(fields.get("kind", str)),
        where=fields.get("where", str),
        error=_raised(data["error"]) if "error" in data else None,
        message=fields.get("message", str) or "",
        reason=fields.get("reason", str) or "",
        stdout=fields.get("stdout", str) or "",
        duration=float(fields.get("duration", int, float) or 0.0),
        stand_ins=tuple(_stand_in(record) for record in fields.records("stand_ins")),
        attempts=tuple(_attempt(record) for record in fields.records("attempts")),
        released=bool(fields.get("released", bool)),
        called=_counts(fields.get("called", dict), "called"),
        sites=_counts(fields.get("sites", dict), "sites"),
    )


class _Fields:
    """Typed reads of a reply's (or a record's) fields: a wrong type is a ProtocolError."""

    def __init__(self, data: dict[str, Any], where: str = "reply") -> None:
        self.data = data
        self.where = where

    def get(self, key: str, *types: type) -> Any:
        value = self.data.get(key)
        if value is None or isinstance(value, types):
            return value
        raise ProtocolError(f"{self.where} field {key!r} is a {type(value).__name__}")

    def strings(self, key: str) -> tuple[str, ...]:
        values = tuple(self.get(key, list) or ())
        if not all(isinstance(value, str) for value in values):
            raise ProtocolError(f"{self.where} field {key!r} holds more than strings")
        return values

    def records(self, key: str) -> list[_Fields]:
        values = self.get(key, list) or []
        if not all(isinstance(value, dict) for value in values):
            raise ProtocolError(f"{self.where} field {key!r} holds more than records")
        return [_Fields(value, key) for value in values]

    def text(self, key: str) -> str:
        value = self.get(key, str)
        if value is None:
            raise ProtocolError(f"{self.where} lacks {key!r}")
        return str(value)


def _counts(value: dict[str, Any] | None, key: str) -> dict[str, int] | None:
    if value is None:
        return None
    if not all(isinstance(k, str) and type(v) is int for k, v in value.items()):
        raise ProtocolError(f"reply field {key!r} holds more than names and numbers")
    return dict(value)


def _kind(value: str | None) -> MissingKind | None:
    try:
        return None if value is None else MissingKind(value)
    except ValueError:
        raise ProtocolError(f"unknown kind of missing thing {value!r}") from None


def _raised(data: Any) -> RaisedError:
    if not isinstance(data, dict):
        raise ProtocolError("the error of a `raised` reply is not a record")
    error = _Fields(data, "error")
    frames = tuple(
        Frame(
            execution_count=frame.get("execution_count", int),
            filename=frame.get("filename", str) or "",
            lineno=frame.get("lineno", int),
            name=frame.get("name", str) or "",
            line=frame.get("line", str) or "",
        )
        for frame in error.records("frames")
    )
    return RaisedError(error.text("ename"), error.get("evalue", str) or "", frames)


def _stand_in(record: _Fields) -> StandIn:
    return StandIn(
        record.text("module"),
        record.get("execution_count", int),
        record.get("lineno", int),
        record.get("within", str) or "",
        record.get("line", str) or "",
    )


def _attempt(record: _Fields) -> GuardAttempt:
    return GuardAttempt(
        record.text("what"), record.get("name", str) or "", record.get("execution_count", int)
    )
