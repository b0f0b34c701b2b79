"""Which assignment a notebook belongs to: the stamp in its metadata and the search for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from grader.grading.assignment import Assignment, NngradeVersionError
from grader.grading.discovery import (
    DiscoveryError,
    Stamp,
    choose_assignment,
    find_assignment,
    read_stamp,
    require_nngrade,
    stamp_notebook,
    student_version,
)
from grader.grading.results import nngrade_version
from tests.course_samples import TEMPLATE, write_course, write_notebook


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return write_course(tmp_path / "course")


def test_a_stamp_survives_nbformat_and_a_copy(course: Path, tmp_path: Path) -> None:
    assignment = Assignment.load(course)
    notebook = write_notebook(tmp_path / "nb.ipynb", TEMPLATE, {"colab": {"name": "x"}})
    stamp = stamp_notebook(notebook, assignment)
    assert stamp == Stamp("square", student_version(assignment), nngrade_version(), "")
    # What Jupyter's "Make a copy" and Colab's save do: read the model, write it elsewhere.
    copy = tmp_path / "nb-Copy1.ipynb"
    nbformat.write(nbformat.read(notebook, as_version=4), copy)
    assert read_stamp(copy) == stamp
    assert nbformat.read(copy, as_version=4).metadata["colab"] == {"name": "x"}
    shutil.copy(copy, tmp_path / "renamed.ipynb")
    assert read_stamp(tmp_path / "renamed.ipynb") == stamp


def test_a_notebook_without_a_stamp_needs_assignment(course: Path, tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "mine.ipynb", TEMPLATE)
    assert read_stamp(notebook) is None
    with pytest.raises(DiscoveryError, match="does not say which assignment.*--assignment DIR"):
        choose_assignment(notebook, None)
    assignment, note = choose_assignment(notebook, course)
    assert assignment.root == course.resolve() and note == ""


def test_the_student_version_ignores_what_students_never_get(course: Path, tmp_path: Path) -> None:
    full = Assignment.load(course)
    public = full.copy_to(tmp_path / "public", hidden=False)
    private = full.copy_to(tmp_path / "private", hidden=True)
    assert student_version(full) == public.version == student_version(private)
    (course.parent.parent / "answers" / "__init__.py").write_text("LARGE = 1\n")
    assert student_version(Assignment.load(course)) == public.version
    (course / "test_square.py").write_text("# changed\n")
    assert student_version(Assignment.load(course)) != public.version


def test_found_in_the_notebooks_folder_and_in_assignments_below_a_parent(course: Path) -> None:
    root = course.parent.parent
    # The instructor's repository: a notebook anywhere under it finds assignments/square.
    (root / "work" / "deep").mkdir(parents=True)
    for notebook in (course / "template.ipynb", root / "work" / "deep" / "nb.ipynb"):
        assert find_assignment(notebook, "square").root == course.resolve()
    with pytest.raises(DiscoveryError) as info:
        find_assignment(root / "work" / "nb.ipynb", "cube")
    message = str(info.value)
    assert "no assignment named 'cube'" in message
    assert str((root / "work").resolve()) in message and "assignments/*/" in message


def test_the_nearest_match_wins_and_two_at_one_level_are_an_error(course: Path) -> None:
    root = course.parent.parent
    bundle = Assignment.load(course).copy_to(root / "work", hidden=False)
    # The bundle in work/ is nearer to work/nb.ipynb than assignments/square.
    assert find_assignment(root / "work" / "nb.ipynb", "square").root == bundle.root
    shutil.copytree(course, root / "assignments" / "square_again")
    with pytest.raises(DiscoveryError, match="several assignments are named 'square'"):
        find_assignment(root / "nb.ipynb", "square")


def test_a_broken_assignment_on_the_way_is_named_when_nothing_matches(course: Path) -> None:
    broken = course.parent / "broken"
    broken.mkdir()
    (broken / "assignment.toml").write_text("checks = [")
    with pytest.raises(DiscoveryError, match=r"skipped, because it could not be read: .*broken"):
        find_assignment(course / "template.ipynb", "cube")


def test_another_version_or_assignment_is_a_note_not_an_error(course: Path) -> None:
    notebook = course / "template.ipynb"
    stamp_notebook(notebook, Assignment.load(course))
    assignment, note = choose_assignment(notebook, None)
    assert assignment.root == course.resolve() and note == ""
    (course / "test_square.py").write_text((course / "test_square.py").read_text() + "\n# v2\n")
    _, note = choose_assignment(notebook, None)
    assert "made from another version of this assignment" in note
    other = course.parent / "other"
    shutil.copytree(course, other)
    (other / "assignment.toml").write_text(
        (other / "assignment.toml").read_text().replace('"square"', '"cube"', 1)
    )
    _, note = choose_assignment(notebook, other)
    assert "template of assignment 'square', but it is checked against 'cube'" in note


def test_the_assignment_found_but_needing_another_nngrade_says_so(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle made for another nngrade: the error says which, not "could not be read"."""
    monkeypatch.setattr("grader.grading.assignment.nngrade_version", lambda: "0.2.0")
    config = course / "assignment.toml"
    config.write_text(config.read_text() + 'requires = "nngrade>=99"\n')
    with pytest.raises(NngradeVersionError, match="needs nngrade>=99; this is nngrade 0.2.0"):
        find_assignment(course / "template.ipynb", "square")
    with pytest.raises(DiscoveryError, match="skipped, .*needs nngrade>=99; this is nngrade 0.2.0"):
        find_assignment(course / "template.ipynb", "cube")


def test_a_stamp_whose_requires_excludes_this_nngrade_says_so_before_any_search(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A student's nngrade upgraded (or another course's): the stamp names what is needed,
    # even where no assignment is found.
    monkeypatch.setattr("grader.grading.discovery.nngrade_version", lambda: "0.3.0")
    stamp = Stamp("square", "abc", "0.2.0", "nngrade>=0.2,<0.3")
    with pytest.raises(NngradeVersionError) as info:
        require_nngrade(stamp)
    assert str(info.value) == (
        "this notebook's assignment 'square' was handed out with nngrade 0.2.0 and its checks "
        "need nngrade>=0.2,<0.3; this is nngrade 0.3.0"
    )
    (tmp_path / "alone").mkdir()
    meta = {"nngrade": {"assignment": "square", "version": "abc", "nngrade": "0.2.0"}}
    meta["nngrade"]["requires"] = "nngrade>=0.2,<0.3"
    notebook = write_notebook(tmp_path / "alone" / "nb.ipynb", TEMPLATE, meta)
    with pytest.raises(NngradeVersionError, match="need nngrade>=0.2,<0.3; this is nngrade 0.3"):
        choose_assignment(notebook, None)
    for fine in ("nngrade>=0.3", "", "nngrade>=0.3.0.dev0,<0.4"):
        require_nngrade(Stamp("square", "abc", "0.2.0", fine))  # nothing raised


def test_a_notebook_without_a_stamp_beside_assignment_toml_is_checked_against_it(
    course: Path,
) -> None:
    # `nngrade check solution.ipynb` in the instructor's assignment folder.
    assignment, note = choose_assignment(course / "solution.ipynb", None)
    assert assignment.root == course.resolve()
    assert "checked against the one in its folder, 'square'" in note
