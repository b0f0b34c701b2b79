"""The class summary's mistakes: failures grouped by diagnosis, whichever student's numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from grader.grading.results import CheckResult, SubmissionResult
from grader.outputs.wording import headline

__all__ = ["Mistake", "mistake_key", "mistakes", "normalise"]

# Numbers standing alone (not the 2 of dW2 or x_1): ints, decimals, exponents, signs, and
# NumPy's "2." inside an array ([0. 1. 2.]), but not a sentence's full stop after a number.
_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?:\.(?=\s*[\d\])-]))?(?!\w)"
)
# A bracketed run of numbers, commas and placeholders: a shape (3, 2), an index [0, 1], a
# short array [0. 1. 2.]: one placeholder whatever its length.
_BRACKETS = re.compile(r"([(\[])\s*(?:#|nan|inf|-inf|\.{3}|…|[\s,;])*[)\]]", re.IGNORECASE)
# Quoted values ('abc', "abc") and long runs of numbers left after the replacements above.
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_RUNS = re.compile(r"#(?:[\s,]+#)+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
PLACEHOLDER = "…"


def normalise(message: str) -> str:
    """A failure's diagnosis without what differs between students: its headline (first
    line, with the next when the first only introduces it) with numbers, shapes, indices,
    values and quoted text replaced by "…"."""
    text = headline(message)
    text = _HEX.sub("#", text)
    text = _QUOTED.sub("#", text)
    text = _NUMBER.sub("#", text)
    text = _RUNS.sub("#", text)
    text = _BRACKETS.sub(lambda m: "(#)" if m.group(1) == "(" else "[#]", text)
    text = " ".join(text.split())
    return text.replace("#", PLACEHOLDER)


def mistake_key(check: CheckResult, *, merge_cases: bool = False) -> tuple[str, str]:
    """(check, diagnosis): a check that names its cause groups by it, others by the message.
    With ``merge_cases`` the cases of one parametrized check (relu_values[0-D], [1-D] ...)
    are one check: a misspelled function is one mistake, not one per case."""
    name = _base(check.name) if merge_cases else check.name
    return name, check.cause or normalise(check.message)


def _base(name: str) -> str:
    return name.split("[", 1)[0]


def _base_description(description: str) -> str:
    # The plugin appends a case's id to its docstring: "relu is max(0, x) [1-D]".
    return re.sub(r"\s*\[[^\]]*\]$", "", description)


@dataclass
class Mistake:
    """One diagnosis of one check, and the students whose submissions it was."""

    check: str
    description: str
    diagnosis: str
    example: str  # the first student's message, as written for them
    hidden: bool
    students: list[SubmissionResult] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.students)


def mistakes(
    results: Sequence[SubmissionResult],
    order: Callable[[str], int] | None = None,
    *,
    merge_cases: bool = False,
) -> list[Mistake]:
    """Every (check, diagnosis) that graded submissions failed with, most students first
    (then in the order of the checks, ``order`` giving a check's position); each student
    once per group. ``merge_cases``: see ``mistake_key``."""
    groups: dict[tuple[str, str], Mistake] = {}
    for result in results:
        if result.status != "graded":
            continue
        for check in result.checks:
            if check.passed or check.outcome in ("error", "not_judged"):
                continue
            key = mistake_key(check, merge_cases=merge_cases)
            group = groups.get(key)
            if group is None:
                diagnosis = normalise(check.message) or "(no message)"
                description = (
                    _base_description(check.description) if merge_cases else check.description
                )
                group = Mistake(key[0], description, diagnosis, check.message, check.hidden)
                groups[key] = group
            if not group.students or group.students[-1] is not result:
                group.students.append(result)
    position = order or (lambda name: 0)
    return sorted(groups.values(), key=lambda m: (-m.count, position(m.check)))
