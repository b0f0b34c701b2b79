"""The plugin's outcomes beyond pass and fail: a check with nothing to judge (``NotJudged``),
and a mistake that several checks fail for, charged once (``charge_each_cause``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment, AssignmentError
from grader.grading.engine import run_checks
from grader.grading.results import CheckResult

CHECKS = '''
import pytest

from grader.checks import CheckFailure, NotJudged


@pytest.mark.points(2)
def test_dw3(notebook):
    """dW3"""
    raise CheckFailure("dW3 is 7 times the expected one", cause="batch-size factor")


@pytest.mark.points(2)
def test_dw2(notebook):
    """dW2"""
    raise CheckFailure("dW2 is 7 times the expected one", cause="batch-size factor")


@pytest.mark.points(1)
def test_arguments(notebook):
    """arguments left alone"""
    raise NotJudged("no gradient is right yet", cause="batch-size factor")


@pytest.mark.points(1)
def test_sign(notebook):
    """db1"""
    raise CheckFailure("the sign is flipped", cause="sign")


@pytest.mark.points(1)
def test_extreme(notebook):
    """extreme values"""
    raise NotJudged("relu is already wrong on ordinary negative inputs; see the check above.")


@pytest.mark.points(1)
def test_caught(notebook):
    """a NotJudged is not a CheckFailure"""
    try:
        raise NotJudged("nothing to judge")
    except CheckFailure:
        pass
'''


def grade(tmp_path: Path, policy: str | None = None) -> dict[str, CheckResult]:
    setting = f'charge_each_cause = "{policy}"\n' if policy else ""
    (tmp_path / "assignment.toml").write_text(f'checks = ["test_x.py"]\n{setting}')
    (tmp_path / "test_x.py").write_text(CHECKS)
    results = run_checks(
        Assignment.load(tmp_path), InProcessTransport({}), seed=1, include_hidden=True
    )
    return {r.name: r for r in results}


def test_not_judged_is_zero_points_never_a_pass_and_says_why(tmp_path: Path) -> None:
    extreme = grade(tmp_path)["test_extreme"]
    assert (extreme.outcome, extreme.points, extreme.passed) == ("not_judged", 0.0, False)
    assert extreme.message == (
        "Not judged because relu is already wrong on ordinary negative inputs; see the check above."
    )
    # Code that catches failures to explain them does not swallow it.
    assert grade(tmp_path)["test_caught"].outcome == "not_judged"


def test_a_cause_is_charged_once_by_default(tmp_path: Path) -> None:
    results = grade(tmp_path)
    assert results["test_dw3"].points == 0 and not results["test_dw3"].counted_under
    dw2 = results["test_dw2"]
    assert (dw2.points, dw2.passed, dw2.outcome) == (2.0, False, "failed")
    assert dw2.counted_under == "dW3" and dw2.cause == "batch-size factor"
    assert dw2.message == (
        'No points lost: the same mistake (batch-size factor) was already counted under "dW3".\n'
        "dW2 is 7 times the expected one"
    )
    # Not judged for a counted cause: it keeps its points too.
    arguments = results["test_arguments"]
    assert (arguments.points, arguments.outcome) == (1.0, "not_judged")
    assert arguments.message.startswith("No points lost: the same mistake (batch-size factor)")
    # Another cause is charged on its own; a not-judged check without a cause keeps 0.
    assert results["test_sign"].points == 0 and results["test_extreme"].points == 0


def test_every_charges_each_check(tmp_path: Path) -> None:
    results = grade(tmp_path, "every")
    assert results["test_dw2"].points == 0 and not results["test_dw2"].counted_under
    assert results["test_arguments"].points == 0


def test_the_policy_is_checked_when_the_assignment_loads(tmp_path: Path) -> None:
    with pytest.raises(AssignmentError, match="'charge_each_cause' must be 'once' or 'every'"):
        grade(tmp_path, "twice")
