"""Handles to objects that stay in the student's kernel: a layer, a network, what they hold.

``notebook.new("Affine", W, b).value`` is an ``ObjectHandle``: a plain value on the grader's
side (an id, the kernel generation it belongs to, and words for messages) through which
a check calls the object's methods and reads or writes inside it, all as data. A handle
made before a kernel restart names nothing any more, and every use of it says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from grader._kernel.nngrade_protocol import handle_node
from grader.checks.calls import CallResult

__all__ = ["HandleOwner", "ObjectHandle", "StaleHandle"]


class HandleOwner(Protocol):
    """What a handle asks of the notebook it came from (``checks.notebook.Notebook``)."""

    def call_method(
        self, handle: ObjectHandle, method: str, /, *args: Any, **kwargs: Any
    ) -> CallResult: ...

    def get_path(self, handle: ObjectHandle, path: list[Any]) -> CallResult: ...

    def set_path(self, handle: ObjectHandle, path: list[Any], value: Any) -> CallResult: ...

    def release(self, handle: ObjectHandle) -> None: ...


@dataclass(frozen=True)
class ObjectHandle:
    """An object in the kernel. ``what`` says how it was made (``ThreeLayerNet(12, 7, 5, 4)``),
    ``label`` how messages call it (``net``; ``what`` unless renamed with ``named``)."""

    id: int
    generation: int
    type: str
    # Words for messages: two handles to the same object are equal however they were reached.
    what: str = field(compare=False)
    label: str = field(default="", compare=False)
    notebook: HandleOwner | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.what)

    def named(self, label: str) -> ObjectHandle:
        """The same object, called ``label`` in messages (``net.gradient(x, t) raised ...``)."""
        return replace(self, label=label)

    def call(self, method: str, /, *args: Any, **kwargs: Any) -> CallResult:
        """Call the object's ``method(*args, **kwargs)`` in the kernel."""
        return self._notebook().call_method(self, method, *args, **kwargs)

    def get(self, *path: str | int) -> CallResult:
        """What ``path`` names inside the object: ``get("dW")`` is ``obj.dW``,
        ``get("params", "W1")`` is ``obj.params["W1"]`` (keys in mappings, indexes in lists
        and tuples, attributes elsewhere). Values that are not data come back as handles."""
        return self._notebook().get_path(self, list(path))

    def set(self, *path_and_value: Any) -> CallResult:
        """``set("params", "W1", value)``: an array of the same shape is overwritten in place
        (as ``params[key] -= lr * grad`` does, so layers that share it see the change);
        anything else is assigned."""
        *path, value = path_and_value
        if not path:
            raise TypeError("set needs a path and a value")
        return self._notebook().set_path(self, path, value)

    def release(self) -> None:
        """Let the kernel forget the object (it is freed once nothing else holds it)."""
        self._notebook().release(self)

    @property
    def node(self) -> dict[str, Any]:
        """How a request names the object (the kernel puts the object in its place)."""
        return handle_node(self.id, self.type)

    @property
    def stale_message(self) -> str:
        name = f"`{self.label}`" if self.label == self.what else f"`{self.label}` ({self.what})"
        return f"{name} was created before the kernel restarted, so it no longer exists."

    def _notebook(self) -> HandleOwner:
        if self.notebook is None:
            raise TypeError("this handle belongs to no notebook")
        return self.notebook


class StaleHandle(LookupError):
    """A request would use a handle from an earlier kernel; the message says which."""

    def __init__(self, handle: ObjectHandle) -> None:
        super().__init__(handle.stale_message)
        self.handle = handle
