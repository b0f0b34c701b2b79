"""``nngrade validate``: each kind of problem in a deliberately broken assignment is named.

The assignments are ``nngrade new``'s scaffold with one thing broken; the solution and the
template run in this process, so no kernel starts.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.course.assign import template_bytes
from grader.course.point_table import format_table
from grader.course.scaffold import new_assignment
from grader.course.validate import Validation, validate
from grader.grading.assignment import Assignment


def scaffold(tmp_path: Path) -> Path:
    folder = new_assignment("demo", tmp_path)
    assign(folder)
    return folder


def assign(folder: Path) -> None:
    data = template_bytes(folder / "solution.ipynb", Assignment.load(folder))
    (folder / "template.ipynb").write_bytes(data)


def add_check(folder: Path, text: str, *, file: str = "test_demo.py") -> None:
    path = folder / file
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    assign(folder)  # the version (and so the template's stamp) follows the checks


def run(folder: Path, seeds: int = 3) -> Validation:
    return validate(Assignment.load(folder), seeds=seeds)


def texts(report: Validation, kind: str) -> list[str]:
    return [finding.text for finding in report.findings if finding.kind == kind]


def test_the_scaffold_passes(tmp_path: Path) -> None:
    report = run(scaffold(tmp_path))
    assert report.findings == []
    assert [(row.check, row.hidden, row.total) for row in report.table] == [
        ("test_sigmoid_values", False, 2.0),
        ("test_sigmoid_extremes", True, 1.0),
    ]


def test_a_visible_check_importing_the_reference_is_named(tmp_path: Path) -> None:
    folder = scaffold(tmp_path)
    add_check(folder, "\nimport demo_reference  # noqa\nfrom hidden_demo import ORDINARY  # noqa\n")
    report = run(folder)
    found = texts(report, "imports")
    assert len(found) == 2
    assert found[0].startswith("test_demo.py, line 21: imports demo_reference, an instructor-only")
    assert found[1].startswith("test_demo.py, line 22: imports hidden_demo, a hidden check file")
    assert "nngrade bundle refuses" in " ".join(report.notes)


def test_a_check_that_pays_the_template_is_named(tmp_path: Path) -> None:
    folder = scaffold(tmp_path)
    add_check(folder, '\n\n@pytest.mark.points(1)\ndef test_free(notebook):\n    """free"""\n')
    found = texts(run(folder), "template")
    assert found == [
        "test_free gives the template 1 of 1 points: it should judge the student's code, "
        "which the template does not have"
    ]


FLAKY = '''

import os


@pytest.mark.points(1)
def test_coin(notebook):
    """passes on every other run, whatever the seed"""
    runs = int(os.environ.get("NNGRADE_TEST_RUNS", "0")) + 1
    os.environ["NNGRADE_TEST_RUNS"] = str(runs)
    assert runs % 2
'''


def test_a_flaky_check_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNGRADE_TEST_RUNS", "0")
    folder = scaffold(tmp_path)
    add_check(folder, FLAKY)
    report = run(folder)
    flaky = texts(report, "flaky")
    assert flaky and all(text.startswith("test_coin was ") for text in flaky)
    assert "test_coin was passed then failed on two runs of seed 0" in flaky[0]
    assert texts(report, "solution")[0].startswith(
        "test_coin does not pass the solution on seed 1 (of 0-2): failed: "
    )


def test_a_check_without_points_is_named(tmp_path: Path) -> None:
    folder = scaffold(tmp_path)
    add_check(
        folder, "\n\ndef test_one(notebook):\n    pass\n\n\ndef test_two(notebook):\n    pass\n"
    )
    report = run(folder)
    assert texts(report, "points") == [
        "test_demo.py::test_one has no @pytest.mark.points(n)",
        "test_demo.py::test_two has no @pytest.mark.points(n)",
    ]


def test_a_check_worth_nothing_is_named(tmp_path: Path) -> None:
    folder = scaffold(tmp_path)
    add_check(
        folder,
        "\n\n@pytest.mark.points(0)\ndef test_zero(notebook):\n"
        "    notebook.call('sigmoid', Z).value\n",
    )
    assert "test_zero is worth no points" in texts(run(folder), "points")


def test_a_check_failing_the_solution_on_one_seed_is_named_with_it(tmp_path: Path) -> None:
    folder = scaffold(tmp_path)
    add_check(
        folder,
        "\n\n@pytest.mark.points(1)\ndef test_seedy(notebook, run_seed):\n"
        "    notebook.call('sigmoid', Z).value\n    assert run_seed != 2, 'unlucky'\n",
    )
    found = texts(run(folder, seeds=4), "solution")
    assert len(found) == 1
    assert found[0].startswith("test_seedy does not pass the solution on seed 2 (of 0-3): failed:")


def test_a_parametrised_check_shows_each_case_s_points(tmp_path: Path) -> None:
    folder = scaffold(tmp_path)
    add_check(
        folder,
        "\n\n@pytest.mark.points(1)\n@pytest.mark.parametrize('k', [0, 1, 2])\n"
        "def test_each(notebook, k):\n"
        "    expect_array(notebook.call('sigmoid', Z).value, SIGMOID_Z, what='s')\n",
    )
    add_check(
        folder,
        "\n\n@pytest.mark.points(2, shared=True)\n@pytest.mark.parametrize('k', [0, 1, 2, 3])\n"
        "def test_split(notebook, k):\n"
        "    expect_array(notebook.call('sigmoid', Z).value, SIGMOID_Z, what='s')\n",
    )
    report = run(folder)
    assert report.findings == []
    row = next(row for row in report.table if row.check == "test_each")
    assert (row.cases, row.each, row.total) == (3, 1.0, 3.0)
    table = format_table(report.table)
    assert "test_each" in table
    assert "3 = 3 cases x 1 (points(1) gives each case its points)" in table
    assert "2 = 4 cases x 0.5 (points(2, shared=True) splits its points over the cases)" in table
    assert table.splitlines()[-1].split() == ["total", "8", "(visible", "7,", "hidden", "1)"]


def test_a_template_edited_by_hand_is_named(tmp_path: Path) -> None:
    folder = scaffold(tmp_path)
    nb = nbformat.read(folder / "template.ipynb", as_version=4)
    nb.cells[0].source += "\n\nA hint added by hand."
    nbformat.write(nb, folder / "template.ipynb")
    found = texts(run(folder), "template")
    assert found == [
        "template.ipynb is not what nngrade assign makes of solution.ipynb (edited by hand, or "
        "the solution or checks changed since): run nngrade assign again"
    ]


def test_a_missing_template_is_named(tmp_path: Path) -> None:
    folder = new_assignment("demo", tmp_path)
    found = texts(run(folder), "template")
    assert found == ["there is no template notebook: run nngrade assign on the solution"]


@pytest.mark.kernel
def test_a_solution_that_cannot_run_here_is_graded_in_kernels(tmp_path: Path) -> None:
    folder = new_assignment("demo", tmp_path)
    nb = nbformat.read(folder / "solution.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("%load_ext autoreload"))  # IPython only
    nbformat.write(nb, folder / "solution.ipynb")
    assign(folder)
    report = run(folder, seeds=2)
    assert report.findings == []
    assert report.notes == [
        "The solution's cell 2 cannot run in this process (SyntaxError: invalid syntax "
        "(solution.ipynb, cell 2, line 1)): graded in a kernel, one per seed."
    ]
    assert [row.check for row in report.table] == ["test_sigmoid_values", "test_sigmoid_extremes"]
