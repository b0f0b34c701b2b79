"""The student's objects by name, for the kernel helper and its routines, and the two ways
a name can let a routine down: not defined (``missing``), or not what it needs (``unusable``)."""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["MissingName", "Unusable", "definition_sites", "student_object"]


class MissingName(LookupError):
    """A routine needed something the notebook does not define."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class Unusable(TypeError):
    """What the notebook defines under a name is not what a routine needs (a message)."""


def student_object(namespace: dict[str, Any], name: str) -> Any:
    """What the notebook defines as ``name``, for routines; MissingName if nothing."""
    if name not in namespace or name.startswith("_"):
        raise MissingName(name)
    return namespace[name]


def definition_sites(namespace: dict[str, Any], names: list[str], cell_of: Any) -> dict[str, int]:
    """The cell (execution count) each of the student's functions and classes in ``names``
    was defined in: the definition the checks call, when a later cell defines it again."""
    sites = {}
    for name in names:
        value = namespace.get(name)
        if inspect.isclass(value):  # a class's cell is its methods' cell
            value = next((v for v in vars(value).values() if inspect.isfunction(v)), None)
        code = getattr(value, "__code__", None)
        count = cell_of(code.co_filename) if code is not None else None
        if isinstance(count, int):
            sites[name] = count
    return sites
