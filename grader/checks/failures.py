"""The exceptions a check raises: to fail with a message written for the student
(`CheckFailure`), or to say there is nothing left to judge (`NotJudged`)."""

from __future__ import annotations

__all__ = ["CheckFailure", "NotJudged"]


class CheckFailure(AssertionError):
    """A check failed; ``str(exc)`` is the complete, student-facing explanation.

    Checks raise it (directly or through the comparison helpers) instead of a bare
    ``assert`` so the report shows plain words rather than pytest's introspection.

    ``cause`` names the mistake behind the failure when the check can tell it (for
    example ``"batch-size factor"``): with the assignment's ``charge_each_cause = "once"``
    (the default) only the first check that fails for a cause loses its points; later
    ones keep them and say where the mistake was counted.
    A failure with a cause is explained in full once: later checks with the same cause show
    ``short`` and where the full explanation is. ``short`` alone (no cause) shortens a
    message that later checks repeat word for word, without charging it once.
    """

    def __init__(self, message: str = "", *, cause: str | None = None, short: str = "") -> None:
        super().__init__(message)
        self.cause = cause
        self.short = short or message


class NotJudged(Exception):
    """There is nothing for this check to judge: 0 points, never counted as passed, and
    the report says "Not judged because <reason>".

    Raise it when another check already failed what this one would need (relu's extreme
    inputs are not judged when relu is wrong for ordinary negative ones), so that broken
    code gets no free point and is not failed twice for one mistake::

        raise NotJudged("relu is already wrong for ordinary negative inputs (see the check above)")

    Not a `CheckFailure`: code that catches failures to explain them does not catch it.
    ``cause``, as for `CheckFailure`, names the mistake when it is one that is counted once.
    """

    def __init__(self, reason: str, *, cause: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause
