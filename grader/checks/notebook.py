"""Calling the student's functions from a check: arguments in as data, results out as data.

A ``Notebook`` is what a check receives. It encodes the arguments, hands the request
to a transport (the live kernel, or an in-process fake for fast tests), and turns the
reply into a ``CallResult`` that knows how to explain itself when something went wrong.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any, assert_never

from grader._kernel import nngrade_codec as codec
from grader._kernel.nngrade_protocol import MissingKind, Op, RaisedError, Reply, Routine, Status
from grader.checks._i18n import gettext as _
from grader.checks.calls import CallResult, StudentError
from grader.checks.handles import ObjectHandle, StaleHandle
from grader.runner.cell_words import name_origin
from grader.runner.transport import InProcessTransport, Transport

__all__ = ["CallResult", "Notebook", "ObjectHandle", "StudentError", "in_process_notebook"]


class Notebook:
    """The student's notebook as a check sees it: functions to call by name."""

    def __init__(self, transport: Transport, *, timeout: float = 10.0) -> None:
        self._transport = transport
        self.timeout = timeout
        self._next_id = 0

    @property
    def generation(self) -> int:
        return self._transport.generation

    def call(
        self, name: str, /, *args: Any, watch: Sequence[str] = (), **kwargs: Any
    ) -> CallResult:
        """Call the student's ``name(*args, **kwargs)`` in the kernel; arguments may be
        handles (``ObjectHandle``), which the kernel replaces by the objects they name.

        ``watch`` names library functions or classes (``"torch.nn.BCELoss"``) to look out
        for while the call runs: ``result.called`` says which of them it used, however the
        student's code spelled them (see ``expect_not_called``)."""
        data: dict[str, Any] = {"op": Op.CALL, "name": name}
        if watch:
            data["watch"] = list(watch)
        return self._request(data, name, args, kwargs)

    def new(self, class_name: str, /, *args: Any, **kwargs: Any) -> CallResult:
        """Make an instance of the student's class ``class_name(*args, **kwargs)``; it stays
        in the kernel, and ``.value`` is its ``ObjectHandle`` (``what``: ``Affine(W, b)``,
        with the numbers among the arguments written out: ``ThreeLayerNet(12, 7, 5, 4)``)."""
        return self._request({"op": Op.NEW, "name": class_name}, class_name, args, kwargs)

    def call_method(
        self, handle: ObjectHandle, method: str, /, *args: Any, **kwargs: Any
    ) -> CallResult:
        """Call ``method`` of the object ``handle`` names (``handle.call(...)`` does this)."""
        data = {"op": Op.CALL_METHOD, "object": handle.id, "name": method}
        return self._request(data, f"{handle.label}.{method}", args, kwargs, owner=handle)

    def get_path(self, handle: ObjectHandle, path: list[Any]) -> CallResult:
        """Read what ``path`` names inside ``handle``'s object (``handle.get(...)``)."""
        data = {"op": Op.GET, "object": handle.id, "path": path}
        return self._request(data, handle.label, (), {}, owner=handle, path=path)

    def set_path(self, handle: ObjectHandle, path: list[Any], value: Any) -> CallResult:
        """Write ``value`` where ``path`` names inside ``handle``'s object (``handle.set``)."""
        data = {"op": Op.SET, "object": handle.id, "path": path}
        return self._request(data, handle.label, (value,), {}, owner=handle, path=path)

    def release(self, handle: ObjectHandle) -> None:
        if handle.generation == self.generation:
            self._send({"op": Op.RELEASE, "object": handle.id}, [])

    def run(self, routine: Routine, /, *args: Any, what: str, **kwargs: Any) -> CallResult:
        """Run a kernel-side routine around the student's objects (see
        grader/_kernel/nngrade_torch.py); check files call the typed functions of
        ``grader.checks`` (``train_epoch(notebook, ...)``) instead. ``what`` names the
        student's code in messages."""
        # No function name: what a routine misses is an object or class it looks up.
        return self._request({"op": Op.RUN, "routine": routine}, "", args, kwargs, what=what)

    def names(self) -> list[str]:
        """Functions and classes the notebook defines."""
        reply, _buffers = self._send({"op": Op.NAMES}, [])
        return list(reply.names)

    def _request(
        self,
        data: dict[str, Any],
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        owner: ObjectHandle | None = None,
        path: list[Any] | None = None,
        what: str | None = None,
    ) -> CallResult:
        """Encode the arguments (handles as ids), send, and explain the reply."""
        generation = self.generation
        buffers: list[bytes] = []
        try:
            if owner is not None and owner.generation != generation:
                raise StaleHandle(owner)
            tree = codec.encode_into([list(args), kwargs], buffers, refer=self._refer)
        except StaleHandle as exc:
            text = what or (owner.label if owner is not None else f"{name}(...)")
            return CallResult(what=text, status=Status.STALE, message=str(exc), args=args)
        reply, out = self._send({**data, "args": tree}, buffers)
        if path is not None:
            what = name + (_path_text(path) if reply.where is None else reply.where)
        result = self._result(name, args, kwargs, reply, out, what=what, generation=generation)
        result.watched = tuple(data.get("watch", ()))
        if data["op"] is Op.NEW and result.ok:
            handle = result.raw_value
            if isinstance(handle, ObjectHandle):
                what = _new_text(name, result.params, args, kwargs)
                result.raw_value = ObjectHandle(
                    handle.id, generation, handle.type, what, notebook=self
                )
        return result

    def _refer(self, value: Any) -> dict[str, Any] | None:
        if not isinstance(value, ObjectHandle):
            return None
        if value.generation != self.generation:
            raise StaleHandle(value)
        return value.node

    def _send(self, data: dict[str, Any], buffers: list[bytes]) -> tuple[Reply, list[bytes]]:
        self._next_id += 1
        return self._transport.request({**data, "id": self._next_id}, buffers, self.timeout)

    def _result(
        self,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        reply: Reply,
        buffers: list[bytes],
        what: str | None = None,
        generation: int = 0,
    ) -> CallResult:
        what = what or _call_text(name, reply.params, len(args), kwargs)
        result = CallResult(
            what=what,
            status=reply.status,
            stdout=reply.stdout,
            duration=reply.duration,
            params=reply.params,
            args=args,
            kwargs=kwargs,
            called=dict(reply.called or {}),
        )

        def held(node: dict[str, Any]) -> ObjectHandle:
            """A value that is not data: it stayed in the kernel, and this is its handle."""
            kind = str(node.get("type", "object"))
            text = f"the {kind} from {what}"
            return ObjectHandle(int(node["id"]), generation, kind, text, notebook=self)

        if reply.status is Status.OK:
            result.raw_value = codec.decode(reply.value, buffers, resolve=held)
        if reply.args is not None:
            after_args, after_kwargs = codec.decode(reply.args, buffers, resolve=held)
            result.args, result.kwargs, result.args_changed = tuple(after_args), after_kwargs, True
        if reply.error is not None:
            result.error = self._student_error(reply.error)
        result.message = self._explain(name, what, reply, result.error)
        return result

    def _origin(self, names: list[str]) -> str:
        """Where an undefined name would have come from: a ``from x import *`` that imported
        nothing because x does not exist (see runner.cells.name_origin); "" if none."""
        if not names:
            return ""
        reply, _buffers = self._send({"op": Op.STAND_INS}, [])
        placed = [(self._transport.describe_cell(r.execution_count), r) for r in reply.stand_ins]
        origin = name_origin(names[0], placed)
        return f"\n{origin}." if origin else ""

    def _student_error(self, error: RaisedError) -> StudentError:
        lines = []
        for frame in error.frames:
            where = self._transport.describe_cell(frame.execution_count)
            place = f"{where}, line {frame.lineno}" if where else f"line {frame.lineno}"
            lines.append(f"  {place}, in {frame.name}: {frame.line.strip()}")
        return StudentError(error.ename, error.evalue, tuple(lines))

    def _explain(self, name: str, what: str, reply: Reply, error: StudentError | None) -> str:
        """The reason a call did not return a value, in the student's terms; every status
        has its own (mypy checks that none is left out)."""
        match reply.status:
            case Status.OK:
                return ""
            case Status.MISSING:
                if reply.kind is not None:  # a method, attribute, key or item of a held object
                    return _missing_inside(what, reply)
                missing = name if reply.missing is None else str(reply.missing)
                # A live notebook knows the cell that would have defined it (raw, raised...).
                explain = getattr(self._transport, "explain_missing", None)
                if explain is not None and (why := explain(missing)):
                    return _("Your notebook does not define `{name}` when it runs: {why}").format(
                        name=missing, why=why
                    )
                if missing != name:  # a routine's class or function, not the function called
                    return _missing_message(missing, list(reply.names), noun="")
                return _missing_message(name, list(reply.names)) + self._origin([name])
            case Status.RAISED:
                origin = ""
                if error is not None and error.ename == "NameError":
                    origin = self._origin(error.evalue.split("'")[1::2][:1])
                return _("{what} raised an exception:").format(what=what) + f"\n{error}{origin}"
            case Status.TIMEOUT:
                return _("{what} did not finish within {seconds} s and was stopped.").format(
                    what=what, seconds=f"{self.timeout:g}"
                )
            case Status.KERNEL_DIED:
                reason = reply.reason or _("a crash or os._exit in your code")
                return _("The kernel died while running {what}: {reason}.").format(
                    what=what, reason=reason
                )
            case Status.INTERRUPTED:
                return _("{what} was interrupted before it finished.").format(what=what)
            case Status.STALE:
                return _(
                    "{what} uses an object that no longer exists (the kernel restarted)."
                ).format(what=what)
            case Status.UNUSABLE:
                return f"{what} could not be run: {reply.message}."
            case Status.UNENCODABLE:
                return f"{what} returned something nngrade cannot read: {reply.message}."
            case Status.BRIDGE_ERROR:  # nngrade's fault, and it says so
                return f"nngrade could not call {what}: {reply.message or 'no reason given'}"
            case _:
                assert_never(reply.status)


def _call_text(name: str, params: tuple[str, ...], nargs: int, kwargs: dict[str, Any]) -> str:
    if len(params) < nargs:  # no signature (the call never started, or *args)
        return f"{name}(...)"
    names = list(params[:nargs]) + [f"{key}=..." for key in kwargs]
    return f"{name}({', '.join(names)})"


def _missing_message(name: str, defined: list[str], noun: str = "a function named ") -> str:
    # Without a noun the name is an object a routine needs (a model `net`): the kernel
    # then lists the objects the notebook holds as well as its functions and classes.
    if noun:
        message = _("Your notebook does not define a function named `{name}`.")
        listing = _("Functions and classes it defines")
    else:
        message = _("Your notebook does not define `{name}`.")
        listing = _("What it defines")
    return message.format(name=name) + _near_misses(name, defined, listing)


def _near_misses(name: str, defined: list[str], listing: str) -> str:
    near = [n for n in defined if n.lower() == name.lower()]
    near += [n for n in difflib.get_close_matches(name, defined, n=3, cutoff=0.6) if n not in near]
    if near:
        shown = _(" or ").join(f"`{n}`" for n in near)
        return " " + _("Did you mean {names}? The checks look for the exact name `{name}`.").format(
            names=shown, name=name
        )
    if defined:
        return f" {listing}: {', '.join(f'`{n}`' for n in defined[:8])}."
    return ""


def _missing_inside(what: str, reply: Reply) -> str:
    """A method, attribute, key or item an object held in the kernel does not have."""
    missing, defined = reply.missing, list(reply.names)
    if reply.kind is MissingKind.METHOD:
        return _("{what}: the object has no method `{name}`.").format(
            what=what, name=missing
        ) + _near_misses(str(missing), defined, _("What it has"))
    where = what.removesuffix(reply.where or "") + (reply.where or "")
    if reply.kind is MissingKind.KEY:
        keys = ", ".join(repr(k) for k in defined) or "none"
        return f"{where} has no key {missing!r} (its keys: {keys})."
    if reply.kind is MissingKind.ITEM:
        return f"{where} has no item {missing!r}."
    return _("{what} has no attribute `{name}`.").format(what=where, name=missing) + _near_misses(
        str(missing), defined, _("Its attributes")
    )


def _path_text(path: list[Any]) -> str:
    """``.params['W1']`` for ["params", "W1"]: a guess at the path's spelling, used only
    when the kernel did not say (it knows which steps were keys)."""
    head, *rest = path or [""]
    return f".{head}" + "".join(f"[{step!r}]" for step in rest)


def _new_text(name: str, params: tuple[str, ...], args: tuple[Any, ...], kw: dict[str, Any]) -> str:
    """``ThreeLayerNet(12, 7, 5, 4)``, ``Affine(W, b)``: numbers written out, arrays named."""

    def shown(value: Any, fallback: str) -> str:
        plain = value is None or isinstance(value, bool | int | float | str)
        return repr(value) if plain else fallback

    parts = [shown(a, params[i] if i < len(params) else "...") for i, a in enumerate(args)]
    parts += [f"{key}={shown(value, '...')}" for key, value in kw.items()]
    return f"{name}({', '.join(parts)})"


def in_process_notebook(**functions: Callable[..., Any]) -> Notebook:
    """A Notebook over plain Python functions, for testing checks without a kernel."""
    return Notebook(InProcessTransport(dict(functions)))
