"""The xdist groups that tests/conftest.py gives: under `make test` (--dist loadgroup) each
graded_* fixture and each module's own batch or cluster is built on one worker only."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FILES = [
    "assignments/test_relu_assignment.py",
    "assignments/test_layers_assignment.py",
    "batch/test_dask.py",
    "batch/test_grade_batch.py",
    "cli/test_wiring.py",
]


class _Groups:
    def __init__(self) -> None:
        self.found: dict[str, set[str]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            marks = item.iter_markers("xdist_group")
            self.found[item.nodeid.split("@")[0]] = {str(m.args[0]) for m in marks}


def test_tests_that_share_an_expensive_fixture_share_a_group() -> None:
    groups = _Groups()
    args = ["--collect-only", "-q", "-p", "no:cacheprovider"]
    code = pytest.main([*args, *(str(HERE / f) for f in FILES)], plugins=[groups])
    assert code == pytest.ExitCode.OK
    found = groups.found

    def of(prefix: str) -> set[str]:
        return {g for nodeid, gs in found.items() if nodeid.startswith(prefix) for g in gs}

    # Every test of an assignment's graded notebooks: that fixture's group, alone.
    for name in ("relu", "layers"):
        tests = [n for n in found if n.startswith(f"tests/assignments/test_{name}_assignment")]
        assert tests and all(found[n] == {f"graded_{name}"} for n in tests), name
    # The Dask cluster is shared by a test that also compares with graded_relu: the
    # module's cluster tests go with it, and its tests that need neither are spread.
    dask = {n.split("::")[1]: gs for n, gs in found.items() if "test_dask.py" in n}
    on_cluster = {
        "test_cluster_results_equal_local_ones",
        "test_workers_cannot_import_the_course_repository",
        "test_a_worker_killed_mid_task_loses_and_repeats_nothing",
        "test_a_submission_whose_workers_keep_dying_is_recorded_as_an_error",
        "test_sandbox_bwrap_is_refused_up_front_when_a_worker_cannot_run_it",
        "test_the_cli_grades_on_the_cluster_and_resumes_after_ctrl_c",
    }
    assert {n for n, gs in dask.items() if gs == {"graded_relu"}} == on_cluster
    assert dask["test_an_unreachable_scheduler_is_an_environment_error"] == set()
    # A module's own module-scoped batch: one group named after the module.
    assert of("tests/batch/test_grade_batch.py::test_parallel") == {
        "tests/batch/test_grade_batch.py"
    }
    # Tests with only function-scoped fixtures are not grouped.
    assert of("tests/cli/test_wiring.py") == set()
