"""Kernel half of the bridge: answers the grader's requests over a Jupyter comm.

Loaded inside the student's kernel by a fixed setup cell (``import nngrade_kernel``).
It never receives code: a request names a function in the notebook's namespace and
carries its arguments as data; the reply carries the result, the arguments as they
are after the call, the exception if one was raised, and the captured stdout. The
operations and statuses are nngrade_protocol's, which the grader decodes replies with.
"""

from __future__ import annotations

import inspect
import io
import os
import sys
import time
import traceback
import types
from contextlib import redirect_stdout
from typing import Any

try:  # imported as grader._kernel.nngrade_kernel by the in-process fake bridge
    from . import nngrade_codec as codec
    from . import nngrade_guard as guard
    from .nngrade_lookup import MissingName, Unusable, definition_sites
    from .nngrade_objects import NoSuchObject, ObjectTable, PathError, assign, walk
    from .nngrade_protocol import COMM_TARGET, OUTPUT_LIMIT, MissingKind, Op, Routine, Status
    from .nngrade_stand_ins import MissingModules, install_colab_stand_in
    from .nngrade_watch import watching
except ImportError:  # imported as a top-level module inside the kernel
    import nngrade_codec as codec  # type: ignore[no-redef]
    import nngrade_guard as guard  # type: ignore[no-redef]
    from nngrade_lookup import (  # type: ignore[no-redef]
        MissingName,
        Unusable,
        definition_sites,
    )
    from nngrade_objects import (  # type: ignore[no-redef]
        NoSuchObject,
        ObjectTable,
        PathError,
        assign,
        walk,
    )
    from nngrade_protocol import (  # type: ignore[no-redef]
        COMM_TARGET,
        OUTPUT_LIMIT,
        MissingKind,
        Op,
        Routine,
        Status,
    )
    from nngrade_stand_ins import (  # type: ignore[no-redef]
        MissingModules,
        install_colab_stand_in,
    )
    from nngrade_watch import watching  # type: ignore[no-redef]

__all__ = ["ObjectTable", "handle", "install"]

STDOUT_LIMIT = 20_000
MAX_REPLY_BYTES = 64 * 1024 * 1024  # unless the request says otherwise (--max-value-size)


def install() -> None:
    """Register the comm target and the Colab stand-in in the running kernel."""
    from comm import get_comm_manager
    from IPython import get_ipython

    shell = get_ipython()
    guard.set_cell_counter(lambda: _innermost_cell(_cell_of(shell)))
    install_colab_stand_in()
    missing = MissingModules(_cell_of(shell))
    sys.meta_path.append(missing)
    _cap_cell_output(shell)
    objects = ObjectTable()  # lives as long as this kernel, like the objects it holds

    def on_open(comm: Any, _open_msg: dict[str, Any]) -> None:
        def on_msg(msg: dict[str, Any]) -> None:
            buffers = [bytes(b) for b in msg.get("buffers") or []]
            data = msg["content"]["data"]
            reply, out = handle(
                shell.user_ns, data, buffers, _cell_of(shell), missing.records, objects
            )
            comm.send(reply, buffers=out)

        comm.on_msg(on_msg)

    get_comm_manager().register_target(COMM_TARGET, on_open)


def handle(
    namespace: dict[str, Any],
    request: dict[str, Any],
    buffers: list[bytes],
    cell_of: Any = None,
    stand_ins: list[dict[str, Any]] | None = None,
    objects: ObjectTable | None = None,
) -> tuple[dict[str, Any], list[bytes]]:
    """Answer one request; never raises, whatever the student's code does.

    ``objects`` holds what earlier requests left in the kernel (instances made by ``new``,
    values that are not data); without it, each request starts from an empty table.
    """
    reply: dict[str, Any] = {"id": request.get("id")}
    objects = objects if objects is not None else ObjectTable()
    try:
        op = Op(request.get("op", ""))
        if op is Op.NAMES:
            names = _user_names(namespace)
            sites = definition_sites(namespace, names, cell_of or (lambda _f: None))
            reply.update(status=Status.OK, names=names, sites=sites)
            return reply, []
        if op is Op.STAND_INS:
            reply.update(status=Status.OK, stand_ins=list(stand_ins or []))
            return reply, []
        if op is Op.GUARD:
            reply.update(status=Status.OK, attempts=guard.attempts())
            return reply, []
        if op is Op.RELEASE:
            reply.update(status=Status.OK, released=objects.release(int(request["object"])))
            return reply, []
        call = _Call(namespace, objects, cell_of or (lambda _f: None))
        return call.answer(op, request, buffers, reply)
    except KeyboardInterrupt:
        reply.update(status=Status.INTERRUPTED)
    except NoSuchObject as exc:
        reply.update(status=Status.STALE, message=str(exc))
    except BaseException as exc:  # noqa: BLE001 - a bad request must still get a reply
        reply.update(status=Status.BRIDGE_ERROR, message=f"{type(exc).__name__}: {exc}")
    return reply, []


class _Call:
    """One request that runs the student's code: a function or class by name (``call``,
    ``new``, ``run``), a method of a held object (``call_method``), or reading and writing
    inside one (``get``, ``set``: a property or ``__setattr__`` is student code too)."""

    def __init__(self, namespace: dict[str, Any], objects: ObjectTable, cell_of: Any) -> None:
        self.namespace = namespace
        self.objects = objects
        self.cell_of = cell_of

    def answer(
        self, op: Op, request: dict[str, Any], buffers: list[bytes], reply: dict[str, Any]
    ) -> tuple[dict[str, Any], list[bytes]]:
        target = self._target(op, request, reply)
        if target is None:
            return reply, []
        args, kwargs = codec.decode(request["args"], buffers, resolve=self.objects.resolve)
        out = _CappedWriter(STDOUT_LIMIT)
        value: Any = None
        started = time.perf_counter()
        watch = [str(name) for name in request.get("watch") or []]
        recorder = None
        try:
            with redirect_stdout(out), watching(watch) as recorder:
                value = target(*args, **kwargs)
            reply["status"] = Status.OK
        except KeyboardInterrupt:
            reply["status"] = Status.INTERRUPTED
        except MissingName as exc:
            reply.update(status=Status.MISSING, missing=exc.name)
            reply["names"] = _user_names(self.namespace, objects=True)
        except PathError as exc:
            reply.update(status=Status.MISSING, missing=exc.step, kind=exc.kind, where=exc.where)
            reply["names"] = exc.names
        except Unusable as exc:
            reply.update(status=Status.UNUSABLE, message=str(exc))
        except BaseException as exc:  # noqa: BLE001 - SystemExit from student code is an error
            reply.update(status=Status.RAISED, error=_describe_exception(exc, self.cell_of))
        reply["duration"] = time.perf_counter() - started
        if recorder is not None:  # what it called, whether it returned or raised
            reply["called"] = recorder.counts(watch)
        reply["stdout"] = out.getvalue()
        return self._encode(op, value, args, kwargs, request, buffers, reply)

    def _target(self, op: Op, request: dict[str, Any], reply: dict[str, Any]) -> Any:
        """What the request runs; None (with the reply filled in) if it does not exist."""
        if op is Op.RUN:
            return _routine(request["routine"], self.namespace)
        if op in (Op.GET, Op.SET):
            held = self.objects.resolve({"id": request.get("object")})
            path = list(request.get("path", []))
            if op is Op.SET:
                return lambda value: assign(held, path, value)

            def get() -> Any:
                value, reply["where"] = walk(held, path)
                return value

            return get
        kind: MissingKind | None = None
        if op is Op.CALL_METHOD:
            held = self.objects.resolve({"id": request.get("object")})
            # getattr runs the student's code only for a property, which is what it is for.
            target = getattr(held, request["name"], None)
            names = [n for n in dir(held) if not n.startswith("__")]
            kind = MissingKind.METHOD
        else:
            target = self.namespace.get(request["name"])
            names = _user_names(self.namespace)
        if target is None or not callable(target):
            reply.update(status=Status.MISSING, missing=request["name"], names=names)
            if kind is not None:
                reply["kind"] = kind
            return None
        reply["params"] = _positional_names(target)
        if op is Op.NEW:  # the instance stays here, whatever it is: the grader gets a handle
            return lambda *args, **kwargs: _Held(target(*args, **kwargs))
        return target

    def _encode(
        self,
        op: Op,
        value: Any,
        args: list[Any],
        kwargs: dict[str, Any],
        request: dict[str, Any],
        buffers: list[bytes],
        reply: dict[str, Any],
    ) -> tuple[dict[str, Any], list[bytes]]:
        out_buffers: list[bytes] = []
        # What a function or routine returns must be data, as ever; methods and attributes
        # of held objects may also give objects (a layer, net.layers), which are held too.
        objects = self.objects
        refer = objects.refer if op in (Op.CALL_METHOD, Op.GET) else objects.known
        try:
            max_bytes = int(request.get("max_bytes") or MAX_REPLY_BYTES)
            if isinstance(value, _Held):
                reply["value"] = self.objects.hold(value.value)
            else:
                reply["value"] = codec.encode_into(
                    value, out_buffers, max_bytes=max_bytes, refer=refer
                )
            # Send the arguments back only if the call changed them: checks look for
            # in-place modification, and most calls leave their arguments alone.
            after: list[bytes] = []
            after_tree = codec.encode_into([list(args), kwargs], after, refer=refer)
            if after_tree != request["args"] or after != buffers:
                reply["args"] = codec.encode_into([list(args), kwargs], out_buffers, refer=refer)
        except codec.EncodeError as exc:
            reply.update(status=Status.UNENCODABLE, message=str(exc), value=None)
            return reply, []
        return reply, out_buffers


class _Held:
    """An instance made by ``new``, on its way into the object table."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _routine(name: str, namespace: dict[str, Any]) -> Any:
    """One of the helper routines that run a scenario around the student's objects, e.g.
    a training epoch with a loader and an optimizer they cannot be sent as data."""
    if name not in set(Routine):
        raise ValueError(f"unknown routine {name!r}")
    try:
        from . import nngrade_torch as module
    except ImportError:
        import nngrade_torch as module  # type: ignore[no-redef]
    function = module.ROUTINES[Routine(name)]
    return lambda *args, **kwargs: function(namespace, *args, **kwargs)


def _positional_names(target: Any) -> list[str]:
    """The student's parameter names, so messages can say relu(x) rather than relu(arg1)."""
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in parameters if p.kind in positional]


def _user_names(namespace: dict[str, Any], objects: bool = False) -> list[str]:
    """The functions and classes the student defined (not imported ones, not modules nor
    plain variables); with ``objects``, also the callable objects the notebook holds (a
    model ``net``), for a routine that looks an object up by name."""
    module = namespace.get("__name__")  # "__main__" in the kernel; none in the fake

    def wanted(value: Any) -> bool:
        if inspect.isfunction(value) or inspect.isclass(value):
            return module is None or getattr(value, "__module__", None) == module
        return objects and callable(value) and not inspect.isroutine(value)

    return sorted(
        name
        for name, value in namespace.items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"exit", "quit", "get_ipython", "open"}
        and wanted(value)
    )


def _cell_of(shell: Any) -> Any:
    filename_map = getattr(shell.compile, "_filename_map", {})
    return filename_map.get


def _innermost_cell(cell_of: Any) -> int | None:
    """The execution count of the innermost student cell on the current call stack."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        count = cell_of(frame.f_code.co_filename)
        if count is not None:
            return int(count)
        frame = frame.f_back
    return None


def _describe_exception(exc: BaseException, cell_of: Any) -> dict[str, Any]:
    """The exception with the frames of the student's cells (and the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop this module's own frame
    kept = []
    for index, frame in enumerate(frames):
        execution_count = cell_of(frame.filename)
        if execution_count is not None or index == len(frames) - 1:
            kept.append(
                {
                    "execution_count": execution_count,
                    "filename": frame.filename,
                    "lineno": frame.lineno,
                    "name": frame.name,
                    "line": frame.line or "",
                }
            )
    return {"ename": type(exc).__name__, "evalue": str(exc)[:2000], "frames": kept[-8:]}


class _CappedWriter(io.StringIO):
    """A stdout replacement that keeps the first ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.dropped = 0

    def write(self, text: str) -> int:
        room = self.limit - self.tell()
        if room > 0:
            super().write(text[:room])
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        suffix = f"\n[... {self.dropped:,} more characters not kept]" if self.dropped else ""
        return super().getvalue() + suffix


def _cap_cell_output(shell: Any) -> None:
    """Drop what a cell prints beyond OUTPUT_LIMIT before it is sent anywhere."""
    budget = _OutputBudget(sys.stdout, sys.stderr)
    budget.reset()
    shell.events.register("pre_run_cell", budget.reset)


class _OutputBudget:
    """One per-cell character budget shared by stdout and stderr.

    Once a cell is over budget both point at /dev/null (a C-level writer) until the
    next cell, so printing a million lines costs little more than the loop itself.
    """

    def __init__(self, stdout: Any, stderr: Any) -> None:
        self.written = 0
        self.streams = (_CappedStream(stdout, self), _CappedStream(stderr, self))
        self.sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the kernel

    def reset(self, *_args: Any) -> None:
        self.written = 0
        sys.stdout, sys.stderr = self.streams

    def silence(self) -> None:
        sys.stdout = sys.stderr = self.sink


class _CappedStream:
    def __init__(self, stream: Any, budget: _OutputBudget) -> None:
        self._stream = stream
        self._budget = budget

    def write(self, text: str) -> int:
        room = OUTPUT_LIMIT - self._budget.written
        self._budget.written += len(text)
        if room <= 0:  # a reference to this stream kept from an earlier cell
            return len(text)
        self._stream.write(text[:room])
        if len(text) >= room:
            self._stream.write(f"\n[nngrade: output beyond {OUTPUT_LIMIT:,} characters dropped]\n")
            self._stream.flush()
            self._budget.silence()
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
