"""Assignment folders: settings read from assignment.toml, mistakes reported with the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.assignment import Assignment, AssignmentError
from tests.conftest import ASSIGNMENTS


def test_torch_assignments_run_definitions_only_with_the_bundled_digits() -> None:
    for name in ("bce", "torch_mlp"):
        assignment = Assignment.load(ASSIGNMENTS / name)
        assert assignment.execute == "definitions"
        assert [p.name for p in assignment.support_files] == ["digits28.npz"]
    assert Assignment.load(ASSIGNMENTS / "relu").execute == "all"


def test_an_unknown_execute_mode_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("")
    (tmp_path / "assignment.toml").write_text('checks = ["test_x.py"]\nexecute = "some"\n')
    with pytest.raises(
        AssignmentError, match="'execute' must be 'all' or 'definitions', not 'some'"
    ):
        Assignment.load(tmp_path)
