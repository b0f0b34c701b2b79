"""Results use enums for their statuses, outcomes and cell kinds, and their JSON is the same
plain strings it always was."""

from __future__ import annotations

import json

from grader._kernel.nngrade_protocol import CellEventKind
from grader.grading.results import (
    CellEvent,
    CheckOutcome,
    CheckResult,
    SubmissionResult,
    SubmissionStatus,
)

EXPECTED_JSON = {
    "id": "ada",
    "submission": "ada.ipynb",
    "path": "/in/ada.ipynb",
    "assignment": "relu",
    "status": "error",
    "score": 0.0,
    "max_score": 2.0,
    "reason": "nngrade failed: RuntimeError: boom",
    "seed": 7,
    "mode": "grade",
    "checks": [
        {
            "name": "test_relu",
            "description": "relu",
            "points": 0.0,
            "max_points": 1.0,
            "passed": False,
            "message": "wrong",
            "hidden": False,
            "duration": 0.5,
            "outcome": "failed",
            "cause": "",
            "counted_under": "",
        },
        {
            "name": "test_d_relu",
            "description": "d_relu",
            "points": 0.0,
            "max_points": 1.0,
            "passed": False,
            "message": "The check could not run to the end",
            "hidden": True,
            "duration": 0.25,
            "outcome": "error",
            "cause": "",
            "counted_under": "",
        },
    ],
    "cells": [
        {
            "cell": 2,
            "kind": "error",
            "summary": "NameError: x",
            "detail": "",
            "source_head": "print(x)",
            "line": 0,
        },
        {
            "cell": 3,
            "kind": "memory_limit",
            "summary": "ran out of memory",
            "detail": "",
            "source_head": "",
            "line": 0,
        },
    ],
    "duration": 1.5,
    "graded_at": "2026-01-01T00:00:00+00:00",
    "nngrade_version": "0.1",
    "sandbox": "none",
    "notes": [],
    "lang": "",
}


def result() -> SubmissionResult:
    return SubmissionResult(
        id="ada",
        submission="ada.ipynb",
        path="/in/ada.ipynb",
        assignment="relu",
        status=SubmissionStatus.ERROR,
        max_score=2.0,
        reason="nngrade failed: RuntimeError: boom",
        seed=7,
        checks=[
            CheckResult(
                "test_relu", "relu", 0.0, 1.0, False, "wrong", False, 0.5, CheckOutcome.FAILED
            ),
            CheckResult(
                "test_d_relu",
                "d_relu",
                0.0,
                1.0,
                False,
                "The check could not run to the end",
                hidden=True,
                duration=0.25,
                outcome=CheckOutcome.ERROR,
            ),
        ],
        cells=[
            CellEvent(2, CellEventKind.ERROR, "NameError: x", source_head="print(x)"),
            CellEvent(3, CellEventKind.MEMORY_LIMIT, "ran out of memory"),
        ],
        duration=1.5,
        graded_at="2026-01-01T00:00:00+00:00",
        nngrade_version="0.1",
        sandbox="none",
    )


def test_the_json_holds_the_same_plain_strings() -> None:
    text = result().to_json()
    assert json.loads(text) == EXPECTED_JSON
    assert '"status": "error"' in text and '"kind": "memory_limit"' in text
    assert '"outcome": "error"' in text and "Status." not in text and "Kind." not in text


def test_a_result_read_back_is_the_same() -> None:
    copy = SubmissionResult.from_dict(json.loads(result().to_json()))
    assert copy == result()
    assert copy.status == SubmissionStatus.ERROR and copy.checks[1].outcome == CheckOutcome.ERROR
    assert copy.cells[1].kind == CellEventKind.MEMORY_LIMIT


def test_the_enums_compare_equal_to_their_strings() -> None:
    """Readers (outputs/, batch/) compare with plain strings and look words up by kind."""
    assert SubmissionStatus.GRADED == "graded" and CheckOutcome.ERROR == "error"
    assert {"timeout": "timed out"}[CellEventKind.TIMEOUT] == "timed out"
    assert f"{SubmissionStatus.UNGRADABLE}: no file" == "ungradable: no file"


def test_a_result_written_before_not_judged_and_causes_reads_back() -> None:
    """JSON from before the cause and counted_under fields were added still loads."""
    old = json.loads(result().to_json())
    for check in old["checks"]:
        del check["cause"], check["counted_under"]
    assert SubmissionResult.from_dict(old) == result()
    assert CheckOutcome.NOT_JUDGED == "not_judged"
