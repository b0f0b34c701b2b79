"""The import rule: visible checks import neither the packages nor the hidden checks, and
``nngrade bundle`` refuses an assignment whose visible checks do."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from grader.course.bundle import bundle
from grader.course.import_rule import forbidden_imports
from grader.grading.assignment import Assignment, AssignmentError
from tests.conftest import ASSIGNMENTS
from tests.course_samples import write_course


@pytest.mark.parametrize("name", ["relu", "backprop", "bce", "torch_mlp", "layers"])
def test_the_course_s_assignments_keep_the_rule(name: str) -> None:
    assert forbidden_imports(Assignment.load(ASSIGNMENTS / name)) == []


@pytest.mark.parametrize(
    "line",
    [
        "import answers",
        "import answers.deep as a",
        "from answers import LARGE",
        "from answers.deep import x",
        "import importlib; importlib.import_module('answers')",
        "__import__('answers')",
        "from test_square_hidden import test_square_large",
        "from . import test_square_hidden",
    ],
)
def test_each_way_of_importing_is_seen(tmp_path: Path, line: str) -> None:
    course = write_course(tmp_path / "course")
    check = course / "test_square.py"
    check.write_text(check.read_text() + f"\n{line}\n", encoding="utf-8")
    found = forbidden_imports(Assignment.load(course))
    assert len(found) == 1
    assert found[0].file == "test_square.py"
    assert found[0].kind == ("hidden check" if "hidden" in line else "package")


def test_bundle_refuses_a_visible_check_that_imports_the_reference(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    check = course / "test_square.py"
    text = check.read_text()
    check.write_text(text + "\nimport answers\n", encoding="utf-8")
    line = text.count("\n") + 2
    with pytest.raises(AssignmentError) as caught:
        bundle(Assignment.load(course), tmp_path / "out")
    assert f"test_square.py, line {line}: imports answers, an instructor-only package" in str(
        caught.value
    )
    assert not (tmp_path / "out").exists()
    run = CliRunner().invoke(main, ["bundle", str(course), str(tmp_path / "out")])
    assert run.exit_code == 2
    assert "a visible check imports what students do not get" in run.output
    assert "Move the check into a hidden_checks file" in run.output
