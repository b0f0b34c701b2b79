"""The student's objects by name, for the kernel helper and its routines, and the two ways
a name can let a routine down: not defined (``missing``), or not what it needs (``unusable``)."""

from __future__ import annotations

from typing import Any

__all__ = ["MissingName", "Unusable", "student_object"]


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
