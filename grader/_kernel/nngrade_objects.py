"""The kernel's table of objects that checks hold handles to (a student's layer, a network).

An object that cannot cross the boundary as data stays in the kernel: the table keeps it
under a small integer id, and the grader gets ``{"$": "object", "id": n, "type": ...}``
in its place. Requests name such objects by id, and reach inside them by a path that is
data too (a list of attribute names, keys and indexes), never by code to evaluate.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np

try:  # as grader._kernel.nngrade_objects in the in-process fake bridge
    from .nngrade_protocol import MissingKind, handle_node
except ImportError:  # as a top-level module inside the kernel
    from nngrade_protocol import MissingKind, handle_node  # type: ignore[no-redef]

__all__ = ["NoSuchObject", "ObjectTable", "PathError", "assign", "walk"]

# Py_TPFLAGS_HEAPTYPE: set on every class made by a class statement, on no built-in type.
_HEAP_TYPE = 1 << 9


class NoSuchObject(LookupError):
    """A request named an id the table does not hold (released, or from another kernel)."""


class PathError(LookupError):
    """A step of an attribute path leads nowhere: where (the path before it, as text such
    as ``.params``), the step, what kind of step it was, and what was there instead."""

    def __init__(self, where: str, step: Any, kind: MissingKind, names: list[str]) -> None:
        super().__init__(f"{where or 'the object'} has no {kind} {step!r}")
        self.where, self.step, self.kind, self.names = where, step, kind, names


class ObjectTable:
    """Objects held for the grader, by id; one table per kernel helper, never module state."""

    def __init__(self) -> None:
        self._objects: dict[int, Any] = {}
        self._ids: dict[int, int] = {}  # id(obj) -> table id: the same object, the same handle
        self._next = 0

    def refer(self, value: Any) -> dict[str, Any] | None:
        """The handle node for ``value``, adding it to the table; None for values that must
        stay unencodable: instances of built-in types (a set, a function, a generator) are
        not objects a check works with, only instances of classes someone wrote are."""
        if not type(value).__flags__ & _HEAP_TYPE:
            return None
        return self.hold(value)

    def known(self, value: Any) -> dict[str, Any] | None:
        """The handle node for ``value`` if the table already holds it, else None."""
        key = self._ids.get(id(value))
        if key is None or self._objects.get(key) is not value:
            return None
        return handle_node(key, type(value).__name__)

    def hold(self, value: Any) -> dict[str, Any]:
        """The handle node for ``value``, whatever it is; the same object keeps its id."""
        key = self._ids.get(id(value))
        if key is None or self._objects.get(key) is not value:
            self._next += 1
            key = self._next
            self._objects[key] = value
            self._ids[id(value)] = key
        return handle_node(key, type(value).__name__)

    def resolve(self, node: Mapping[str, Any]) -> Any:
        """The object a handle node stands for."""
        key = node.get("id")
        if not isinstance(key, int) or key not in self._objects:
            raise NoSuchObject(f"no object with id {key!r}")
        return self._objects[key]

    def release(self, key: int) -> bool:
        value = self._objects.pop(key, None)
        if value is None:
            return False
        self._ids.pop(id(value), None)
        return True

    def __len__(self) -> int:
        return len(self._objects)


def walk(value: Any, path: Sequence[Any]) -> tuple[Any, str]:
    """Follow ``path`` from ``value``: in a mapping each step is a key, in a list or tuple an
    index, elsewhere an attribute name (so ``["params", "W1"]`` is ``value.params["W1"]``).
    Returns the value found and the path as text (``.params['W1']``)."""
    where = ""
    for step in path:
        value, where = _step(value, step, where)
    return value, where


def _step(value: Any, step: Any, where: str) -> tuple[Any, str]:
    if isinstance(value, Mapping):
        if step in value:
            return value[step], f"{where}[{step!r}]"
        raise PathError(where, step, MissingKind.KEY, [str(k) for k in value])
    if isinstance(value, list | tuple) and not isinstance(step, str):
        if isinstance(step, int) and -len(value) <= step < len(value):
            return value[step], f"{where}[{step!r}]"
        raise PathError(where, step, MissingKind.ITEM, [])
    # Dunder attributes lead to the interpreter's internals, never to a student's values.
    if not isinstance(step, str) or step.startswith("__"):
        raise PathError(where, step, MissingKind.ATTRIBUTE, [])
    try:
        return getattr(value, step), f"{where}.{step}"
    except AttributeError:
        names = [n for n in dir(value) if not n.startswith("__")]
        raise PathError(where, step, MissingKind.ATTRIBUTE, names) from None


def assign(held: Any, path: list[Any], value: Any) -> None:
    """Set what ``path`` names to ``value``. An array of the same shape is overwritten in
    place, as ``params[key] -= lr * grad`` does, so that layers sharing it see the change."""
    parent, _ = walk(held, path[:-1])
    try:
        current, _ = walk(parent, path[-1:])
    except PathError:  # a new key or attribute
        current = None
    if isinstance(current, np.ndarray) and np.shape(value) == current.shape:
        current[...] = value
    elif isinstance(parent, MutableMapping):
        parent[path[-1]] = value
    else:
        setattr(parent, path[-1], value)
