"""The result of grading one submission, as plain data that round-trips through JSON."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from importlib import metadata
from typing import Any

from grader.runner.cell_data import CellEvent

__all__ = [
    "CellEvent",
    "CheckOutcome",
    "CheckResult",
    "SubmissionResult",
    "SubmissionStatus",
    "nngrade_version",
    "safe_id",
]


class SubmissionStatus(StrEnum):
    """Whether a submission was graded. A StrEnum: its members are the strings in JSON."""

    GRADED = "graded"
    UNGRADABLE = "ungradable"  # not a notebook nngrade can read: the reason says why
    ERROR = "error"  # nngrade itself failed: not the student's fault


class CheckOutcome(StrEnum):
    """How a check ended: besides passed and failed, ``not_judged`` when there was nothing
    to judge (0 points, never a pass) and ``error`` for a bug in the check itself."""

    PASSED = "passed"
    FAILED = "failed"
    # Another check already failed what this one needs: the message says "Not judged because".
    NOT_JUDGED = "not_judged"
    ERROR = "error"  # the check could not run to the end: not the student's fault


def nngrade_version() -> str:
    """The installed nngrade's version, recorded in every result."""
    try:
        return metadata.version("nngrade")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


@dataclass
class CheckResult:
    """One check: its points, whether it passed, and the explanation if it did not."""

    name: str
    description: str
    points: float
    max_points: float
    passed: bool
    message: str = ""
    hidden: bool = False
    duration: float = 0.0
    outcome: CheckOutcome = CheckOutcome.PASSED  # read back from JSON, the plain string
    # The mistake behind a failure, when the check could name it ("batch-size factor").
    cause: str = ""
    # The check whose failure for the same cause was charged: this one kept its points.
    counted_under: str = ""


@dataclass
class SubmissionResult:
    """Everything nngrade knows about one graded (or ungradable) submission."""

    id: str  # stable and unique within a batch; names the report file
    submission: str  # the file name as handed in
    path: str
    assignment: str
    # A SubmissionStatus, or its plain string: executors in batch/ set it so, and so does JSON.
    status: str
    score: float = 0.0
    max_score: float = 0.0
    reason: str = ""  # why a submission is ungradable, or what went wrong in nngrade
    seed: int = 0
    mode: str = "grade"  # "grade" (all checks) or "check" (visible checks only)
    checks: list[CheckResult] = field(default_factory=list)
    cells: list[CellEvent] = field(default_factory=list)
    duration: float = 0.0
    graded_at: str = ""
    nngrade_version: str = ""
    sandbox: str = ""  # "bwrap" (isolated) or "none" (resource limits only)
    notes: list[str] = field(default_factory=list)  # things the student should know
    lang: str = ""  # the language its messages are written in ("" or "en": English)

    @property
    def failed_checks(self) -> list[CheckResult]:
        """The checks that did not pass: failed, not judged, or could not be checked."""
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["checks"] = [CheckResult(**c) for c in data.get("checks", [])]
        values["cells"] = [CellEvent(**c) for c in data.get("cells", [])]
        return cls(**values)


def safe_id(text: str) -> str:
    # \w keeps letters of every script, so 2022021241_이다온 stays readable.
    return re.sub(r"[^\w.-]+", "_", text).strip("._") or "submission"
