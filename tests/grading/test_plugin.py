"""The pytest plugin: markers, points, hidden checks, messages and the seeded rng."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import CheckSuiteError, run_checks

CHECKS = Path(__file__).resolve().parents[1] / "files"


def assignment(tmp_path: Path, checks: str) -> Assignment:
    (tmp_path / "assignment.toml").write_text(f'name = "sample"\nchecks = ["{checks}"]\n')
    (tmp_path / checks).write_text((CHECKS / "sample_checks.py").read_text())
    return Assignment.load(tmp_path)


def namespace(seen: list[int]) -> dict[str, object]:
    return {"double": lambda x: 2 * x, "remember": lambda v: seen.append(v) or True}


def run(tmp_path: Path, *, include_hidden: bool, seed: int = 7, seen: list[int] | None = None):
    transport = InProcessTransport(namespace(seen if seen is not None else []))
    results = run_checks(
        assignment(tmp_path, "test_sample.py"), transport, seed=seed, include_hidden=include_hidden
    )
    return {r.name: r for r in results}


def test_points_shared_and_per_case(tmp_path: Path) -> None:
    results = run(tmp_path, include_hidden=True)
    assert [results[f"test_shared[{n}]"].max_points for n in (1, 2, 3)] == [1.0, 1.0, 1.0]
    assert results["test_each[1]"].points == 2.0 and results["test_each[1]"].passed
    assert results["test_each[2]"].points == 0.0 and results["test_each[2]"].max_points == 2.0
    assert results["test_each[2]"].message == "case two always fails"
    assert results["test_shared[2]"].description == "double(n) doubles [2]"


def test_hidden_checks_only_when_grading(tmp_path: Path) -> None:
    assert results_hidden(run(tmp_path, include_hidden=True)) == ["test_hidden"]
    assert results_hidden(run(tmp_path, include_hidden=False)) == []


def results_hidden(results: dict) -> list[str]:
    return [name for name, r in results.items() if r.hidden]


def test_assertion_and_check_bug_messages(tmp_path: Path) -> None:
    results = run(tmp_path, include_hidden=False)
    assert results["test_plain_assert"].message.startswith("arithmetic is broken")
    assert results["test_plain_assert"].outcome == "failed"
    bug = results["test_check_bug"]
    assert bug.outcome == "error" and "KeyError" in bug.message
    assert "not necessarily in your code" in bug.message


def test_time_limit_marker(tmp_path: Path) -> None:
    assert run(tmp_path, include_hidden=False)["test_time_limit"].passed


def test_rng_is_reproducible_from_the_seed(tmp_path: Path) -> None:
    first: list[int] = []
    again: list[int] = []
    other: list[int] = []
    run(tmp_path, include_hidden=False, seed=11, seen=first)
    run(tmp_path, include_hidden=False, seed=11, seen=again)
    run(tmp_path, include_hidden=False, seed=12, seen=other)
    assert first == again and first != other and len(first) == 1
    assert isinstance(np.int64(first[0]), np.integer)


def test_run_seed_is_the_seed_of_the_run(tmp_path: Path) -> None:
    assert run(tmp_path, include_hidden=False, seed=11)["test_run_seed"].message == "run seed 11"


def test_missing_points_marker_is_an_assignment_error(tmp_path: Path) -> None:
    (tmp_path / "assignment.toml").write_text('name = "bad"\nchecks = ["test_bad.py"]\n')
    (tmp_path / "test_bad.py").write_text("def test_unscored():\n    pass\n")
    with pytest.raises(CheckSuiteError, match="points"):
        run_checks(Assignment.load(tmp_path), InProcessTransport({}), seed=1, include_hidden=True)


def test_broken_check_file_is_an_assignment_error(tmp_path: Path) -> None:
    (tmp_path / "assignment.toml").write_text('name = "bad"\nchecks = ["test_bad.py"]\n')
    (tmp_path / "test_bad.py").write_text("import no_such_module_here\n")
    with pytest.raises(CheckSuiteError, match="no_such_module_here"):
        run_checks(Assignment.load(tmp_path), InProcessTransport({}), seed=1, include_hidden=True)


REPEATED = '''
import pytest
from grader.checks import CheckFailure

@pytest.mark.points(1)
@pytest.mark.parametrize("n", [1, 2])
def test_caused(n):
    """a shared cause"""
    raise CheckFailure("double returned a tuple\\nreturn a dict", short="a tuple.")

@pytest.mark.points(1)
def test_same_words():
    """the same words"""
    raise CheckFailure("it broke\\nhere is why")

@pytest.mark.points(1)
def test_same_words_again():
    """the same words again"""
    raise CheckFailure("it broke\\nhere is why")

@pytest.mark.points(1)
def test_one_line():
    raise CheckFailure("one line")

@pytest.mark.points(1)
def test_one_line_again():
    raise CheckFailure("one line")
'''


def test_a_cause_that_fails_several_checks_is_explained_once(tmp_path: Path) -> None:
    (tmp_path / "assignment.toml").write_text('name = "sample"\nchecks = ["test_repeated.py"]\n')
    (tmp_path / "test_repeated.py").write_text(REPEATED)
    transport = InProcessTransport(namespace([]))
    results = run_checks(Assignment.load(tmp_path), transport, seed=1, include_hidden=False)
    messages = {r.name: r.message for r in results}
    assert messages["test_caused[1]"] == "double returned a tuple\nreturn a dict"
    assert messages["test_caused[2]"] == (
        "a tuple. The check “a shared cause [1]” explains it in full."
    )
    assert messages["test_same_words"] == "it broke\nhere is why"
    assert messages["test_same_words_again"] == (
        "it broke. The check “the same words” explains it in full."
    )
    # A one-line message is as short as a reference to it would be: it stays.
    assert messages["test_one_line_again"] == "one line"


STAND_IN_VISIBLE = """
import pytest

@pytest.mark.points(2)
@pytest.mark.self_check_only
def test_value(notebook):
    '''judged with the notebook's own given code'''
    raise AssertionError("the visible version ran")

@pytest.mark.points(1)
def test_other(notebook):
    '''an ordinary visible check'''
"""
STAND_IN_HIDDEN = """
import pytest

@pytest.mark.points(2)
def test_value(notebook):
    '''judged against the reference'''
"""


def stand_in_assignment(tmp_path: Path, hidden: str) -> Assignment:
    (tmp_path / "assignment.toml").write_text(
        'name = "sample"\nchecks = ["test_visible.py"]\nhidden_checks = ["hidden_sample.py"]\n'
    )
    (tmp_path / "test_visible.py").write_text(STAND_IN_VISIBLE)
    (tmp_path / "hidden_sample.py").write_text(hidden)
    return Assignment.load(tmp_path)


def test_a_self_check_only_check_is_replaced_by_its_hidden_stand_in(tmp_path: Path) -> None:
    assignment = stand_in_assignment(tmp_path, STAND_IN_HIDDEN)
    graded = run_checks(assignment, InProcessTransport({}), seed=1, include_hidden=True)
    assert [(r.name, r.passed, r.max_points, r.hidden) for r in graded] == [
        ("test_other", True, 1.0, False),
        ("test_value", True, 2.0, False),  # shown as the visible check it stands in for
    ]
    checked = run_checks(assignment, InProcessTransport({}), seed=1, include_hidden=False)
    assert [(r.name, r.passed) for r in checked] == [("test_value", False), ("test_other", True)]


def test_a_self_check_only_check_without_a_stand_in_is_an_assignment_error(
    tmp_path: Path,
) -> None:
    assignment = stand_in_assignment(tmp_path, STAND_IN_HIDDEN.replace("test_value", "test_x"))
    with pytest.raises(CheckSuiteError, match="no hidden check is named test_value"):
        run_checks(assignment, InProcessTransport({}), seed=1, include_hidden=True)


ALONE = '''
import pytest

@pytest.mark.points(1)
def test_alone(request):
    """no installed plugin joins the checks"""
    assert request.config.pluginmanager.list_plugin_distinfo() == []
'''


def test_installed_pytest_plugins_stay_out_of_the_checks(tmp_path: Path) -> None:
    # This suite's own plugins (xdist, timeout, playwright) are installed here: a check
    # run that loaded them would fail this check.
    (tmp_path / "assignment.toml").write_text('name = "alone"\nchecks = ["test_alone.py"]\n')
    (tmp_path / "test_alone.py").write_text(ALONE)
    results = run_checks(
        Assignment.load(tmp_path), InProcessTransport({}), seed=1, include_hidden=True
    )
    assert [(r.name, r.passed) for r in results] == [("test_alone", True)], results[0].message
