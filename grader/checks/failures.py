"""The exception a check raises to fail with a message written for the student."""

from __future__ import annotations

from collections.abc import Hashable


class CheckFailure(AssertionError):
    """A check failed; ``str(exc)`` is the complete, student-facing explanation.

    Checks raise it (directly or through the comparison helpers) instead of a bare
    ``assert`` so the report shows plain words rather than pytest's introspection.

    ``cause`` names what went wrong when several checks fail for one reason (the same
    function returned a tuple where a dict is expected, or used a function it must not):
    the first check with that cause shows the whole explanation, the others ``short``
    and where the whole one is, so a report does not repeat a paragraph eight times.
    """

    def __init__(self, message: str = "", *, cause: Hashable = None, short: str = "") -> None:
        super().__init__(message)
        self.cause = cause
        self.short = short or message
