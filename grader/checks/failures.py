"""The exceptions a check raises to fail with a message written for the student."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.checks.notebook import CallResult


class CheckFailure(AssertionError):
    """A check failed; ``str(exc)`` is the complete, student-facing explanation.

    Checks raise it (directly or through the comparison helpers) instead of a bare
    ``assert`` so the report shows plain words rather than pytest's introspection.
    """


class CallFailed(CheckFailure):
    """A call into the student's code did not return: it raised, timed out, or a name it
    needs is missing. The typed torch routines (``trace_model`` ...) raise it.

    ``str(exc)`` is the same explanation as ``CallResult.message``; ``exc.call`` is the
    ``CallResult`` itself, for a check that adds advice when, say, the student's code
    raised (``exc.call.error is not None``) and not when a name is missing.
    """

    def __init__(self, call: CallResult) -> None:
        super().__init__(call.message)
        self.call = call
