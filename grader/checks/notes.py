"""Notes a passing comparison leaves for the student (integers where floats were expected).

A helper deep inside a check cannot reach pytest's ``record_property``; it calls
``note(text)`` instead, and the grading plugin collects what was noted while each check
ran (``collecting``) and shows it with the check's result. Outside a check, notes go nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["collecting", "note"]

# The notes of the check that is running; a ContextVar rather than module state, so that
# checks running in other threads or contexts never see each other's notes.
_CURRENT: ContextVar[list[str] | None] = ContextVar("nngrade_check_notes", default=None)


def note(text: str) -> None:
    """Tell the student ``text`` with the running check's result (once, however often)."""
    notes = _CURRENT.get()
    if notes is not None and text not in notes:
        notes.append(text)


@contextmanager
def collecting() -> Iterator[list[str]]:
    """Collect what ``note`` is told until the block ends, into the list it yields."""
    notes: list[str] = []
    token = _CURRENT.set(notes)
    try:
        yield notes
    finally:
        _CURRENT.reset(token)
