"""The exception a check raises to fail with a message written for the student."""

from __future__ import annotations


class CheckFailure(AssertionError):
    """A check failed; ``str(exc)`` is the complete, student-facing explanation.

    Checks raise it (directly or through the comparison helpers) instead of a bare
    ``assert`` so the report shows plain words rather than pytest's introspection.
    """
