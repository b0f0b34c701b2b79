"""Assignment folders: settings read from assignment.toml, mistakes reported with the file."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import grader.grading.assignment as assignment_module
from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment, AssignmentError, NngradeVersionError
from grader.grading.engine import run_checks
from grader.grading.results import nngrade_version
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


def write_assignment(root: Path, config: str) -> Path:
    """An assignment with one visible and one hidden check, a support file and a support
    folder, and a package the hidden check imports."""
    sys.modules.pop("answers", None)  # imported by an earlier test's checks
    root.mkdir(parents=True)
    (root / "test_visible.py").write_text(
        "import pytest\n\n@pytest.mark.points(1)\ndef test_visible(notebook):\n    pass\n"
    )
    (root / "test_secret.py").write_text(
        "import pytest\nimport answers\n\n@pytest.mark.points(2)\n"
        "def test_secret(notebook):\n    assert answers.ANSWER == 42\n"
    )
    (root / "data.txt").write_text("data")
    (root / "helpers").mkdir()
    (root / "helpers" / "common.py").write_text("X = 1\n")
    (root / "solution.ipynb").write_text("{}")
    (root / "template.ipynb").write_text("{}")
    package = root.parent / "course" / "answers"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("ANSWER = 42\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "junk.pyc").write_bytes(b"\0")
    (root / "assignment.toml").write_text(
        'name = "demo"\nchecks = ["test_visible.py"]\nhidden_checks = ["test_secret.py"]\n'
        'support_files = ["data.txt", "helpers"]\npackages = ["../course/answers"]\n'
        'template = "template.ipynb"\nsolution = "solution.ipynb"\n' + config
    )
    return root


def test_hidden_checks_and_packages_are_read(tmp_path: Path) -> None:
    assignment = Assignment.load(write_assignment(tmp_path / "demo", ""))
    assert [p.name for p in assignment.checks] == ["test_visible.py"]
    assert [p.name for p in assignment.hidden_checks] == ["test_secret.py"]
    assert [p.name for p in assignment.support_files] == ["data.txt", "helpers"]
    assert assignment.packages == ((tmp_path / "course" / "answers").resolve(),)


def test_hidden_check_files_run_only_when_grading_and_see_the_packages(tmp_path: Path) -> None:
    assignment = Assignment.load(write_assignment(tmp_path / "demo", ""))
    graded = run_checks(assignment, InProcessTransport({}), seed=1, include_hidden=True)
    assert [(c.name, c.hidden, c.passed) for c in graded] == [
        ("test_visible", False, True),
        ("test_secret", True, True),
    ]
    assert sys.modules["answers"].__file__ == str(tmp_path / "course" / "answers" / "__init__.py")
    del sys.modules["answers"]
    assert str(tmp_path / "course") not in " ".join(sys.path), "sys.path is restored"
    checked = run_checks(assignment, InProcessTransport({}), seed=1, include_hidden=False)
    assert [c.name for c in checked] == ["test_visible"]


def test_a_full_copy_is_self_contained_and_has_the_same_version(tmp_path: Path) -> None:
    original = Assignment.load(write_assignment(tmp_path / "demo", ""))
    version = original.version
    copy = original.copy_to(tmp_path / "copy")
    shutil.rmtree(tmp_path / "demo")
    shutil.rmtree(tmp_path / "course")
    assert copy.version == version
    assert copy.root == (tmp_path / "copy").resolve()
    assert (copy.root / "helpers" / "common.py").read_text() == "X = 1\n"
    assert copy.template is not None and copy.template.is_file()
    assert copy.solution is None and not (copy.root / "solution.ipynb").exists()
    assert not list(copy.root.rglob("__pycache__"))
    graded = run_checks(copy, InProcessTransport({}), seed=1, include_hidden=True)
    assert [c.passed for c in graded] == [True, True]


def test_a_copy_without_hidden_checks_leaves_them_and_the_packages_out(tmp_path: Path) -> None:
    original = Assignment.load(write_assignment(tmp_path / "demo", ""))
    copy = original.copy_to(tmp_path / "student", hidden=False)
    assert copy.hidden_checks == () and copy.packages == ()
    files = sorted(p.relative_to(copy.root).as_posix() for p in copy.root.rglob("*"))
    assert files == [
        "assignment.toml",
        "data.txt",
        "helpers",
        "helpers/common.py",
        "template.ipynb",
        "test_visible.py",
    ]
    assert "secret" not in (copy.root / "assignment.toml").read_text()
    assert copy.version != original.version


def test_the_version_follows_content(tmp_path: Path) -> None:
    root = write_assignment(tmp_path / "demo", "")
    before = Assignment.load(root).version
    (tmp_path / "course" / "answers" / "__init__.py").write_text("ANSWER = 41\n")
    assert Assignment.load(root).version != before
    (tmp_path / "course" / "answers" / "__init__.py").write_text("ANSWER = 42\n")
    assert Assignment.load(root).version == before
    (root / "helpers" / "common.py").write_text("X = 2\n")
    assert Assignment.load(root).version != before


def test_copying_into_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    original = Assignment.load(write_assignment(tmp_path / "demo", ""))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    with pytest.raises(AssignmentError, match="is not empty"):
        original.copy_to(tmp_path / "busy")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('hidden_checks = "test_x.py"\n', "'hidden_checks' must be a list of file names"),
        ('hidden_checks = ["nope.py"]\n', "nope.py does not exist"),
        ('packages = ["."]\n', "is not a Python package"),
        ('support_files = ["test_x.py"]\n', "share a name"),
        ('preload = "torch"\n', "'preload' must be a list of module names"),
        ('preload = ["torch; import os"]\n', "'preload' must be a list of module names"),
    ],
)
def test_bad_settings_name_the_problem(tmp_path: Path, config: str, message: str) -> None:
    (tmp_path / "test_x.py").write_text("")
    (tmp_path / "assignment.toml").write_text('checks = ["test_x.py"]\n' + config)
    with pytest.raises(AssignmentError, match=message):
        Assignment.load(tmp_path)


def test_the_course_assignments_import_reference_through_packages() -> None:
    for folder in sorted(ASSIGNMENTS.iterdir()):
        assignment = Assignment.load(folder)
        assert [p.name for p in assignment.packages] == ["reference"], folder.name


# -- requires: the nngrade an assignment's check files are written for --------------------


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Pretend to be another nngrade: the version that ``requires`` is checked against."""

    def pretend(version: str) -> None:
        monkeypatch.setattr(assignment_module, "nngrade_version", lambda: version)

    return pretend


def write_requiring(root: Path, requires: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "test_x.py").write_text("")
    (root / "assignment.toml").write_text(f'checks = ["test_x.py"]\n{requires}')
    return root


def test_every_course_assignment_requires_this_minor_version() -> None:
    for folder in sorted(ASSIGNMENTS.iterdir()):
        assert Assignment.load(folder).requires == "nngrade>=0.3.1,<0.4", folder.name
    running = nngrade_version()
    assert running == "unknown" or Version(running) in SpecifierSet(">=0.3.1,<0.4"), (
        "bump requires with the version"
    )


@pytest.mark.parametrize("version", ["0.2.0", "0.2.7", "0.2.1rc1", "unknown", "not a version"])
def test_a_version_in_range_or_unknown_loads(
    tmp_path: Path, running: Callable[[str], None], version: str
) -> None:
    running(version)
    root = write_requiring(tmp_path, 'requires = "nngrade>=0.2,<0.3"\n')
    assert Assignment.load(root).requires == "nngrade>=0.2,<0.3"


@pytest.mark.parametrize("version", ["0.1.0", "0.3.0", "1.0"])
def test_a_version_out_of_range_is_one_line_naming_both(
    tmp_path: Path, running: Callable[[str], None], version: str
) -> None:
    running(version)
    root = write_requiring(tmp_path / "relu", 'name = "relu"\nrequires = "nngrade>=0.2,<0.3"\n')
    with pytest.raises(NngradeVersionError) as error:
        Assignment.load(root)
    assert (
        str(error.value) == f"{root.resolve()} needs nngrade>=0.2,<0.3; this is nngrade {version}"
    )
    assert isinstance(error.value, AssignmentError) and error.value.name == "relu"


def test_no_requires_loads_with_any_version(tmp_path: Path, running: Callable[[str], None]) -> None:
    running("9.9.9")
    assert Assignment.load(write_requiring(tmp_path, "")).requires == ""
    assert Assignment.load(write_requiring(tmp_path, 'requires = ""\n')).requires == ""


@pytest.mark.parametrize(
    ("requires", "message"),
    [
        ("requires = 2\n", "'requires' must be a string such as \"nngrade>=0.2,<0.3\""),
        ('requires = ">=0.2,<0.3"\n', "'requires' must name nngrade"),
        ('requires = "numpy>=1"\n', "'requires' must name nngrade"),
        ('requires = "nngrade=>0.2"\n', "'requires' is not a version range"),
        ('requires = "nngrade>=0.2,<"\n', "'requires' is not a version range"),
    ],
)
def test_a_malformed_requires_names_the_file(
    tmp_path: Path, running: Callable[[str], None], requires: str, message: str
) -> None:
    running("unknown")  # malformed is malformed, whatever runs
    root = write_requiring(tmp_path, requires)
    with pytest.raises(AssignmentError) as error:
        Assignment.load(root)
    assert str(error.value).startswith(f"{root / 'assignment.toml'}: {message}")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("hidden", [True, False])
def test_copies_keep_requires_and_refuse_another_nngrade(
    tmp_path: Path, running: Callable[[str], None], hidden: bool
) -> None:
    running("0.2.0")
    original = Assignment.load(
        write_assignment(tmp_path / "demo", 'requires = "nngrade>=0.2,<0.3"\n')
    )
    copy = original.copy_to(tmp_path / "copy", hidden=hidden)
    assert copy.requires == original.requires == "nngrade>=0.2,<0.3"
    assert 'requires = "nngrade>=0.2,<0.3"' in (copy.root / "assignment.toml").read_text()
    running("0.3.0")
    with pytest.raises(NngradeVersionError, match="needs nngrade>=0.2,<0.3; this is nngrade 0.3.0"):
        Assignment.load(copy.root)


def test_requires_is_not_part_of_the_version(
    tmp_path: Path, running: Callable[[str], None]
) -> None:
    """The version says what the checks are; requires, which nngrade can run them."""
    running("0.2.0")
    root = write_assignment(tmp_path / "demo", "")
    before = Assignment.load(root).version
    config = root / "assignment.toml"
    config.write_text(config.read_text() + 'requires = "nngrade>=0.2"\n')
    assert Assignment.load(root).version == before


def test_lang_picks_a_language_with_a_catalogue(tmp_path: Path) -> None:
    english = Assignment.load(write_assignment(tmp_path / "en" / "a", ""))
    korean = Assignment.load(write_assignment(tmp_path / "ko" / "a", 'lang = "ko"\n'))
    assert (english.lang, korean.lang) == ("", "ko")
    assert korean.version != english.version  # the messages change with it
    assert korean.copy_to(tmp_path / "copy").lang == "ko"
    assert Assignment.load(write_assignment(tmp_path / "en2" / "a", 'lang = "en"\n')).lang == ""
    with pytest.raises(AssignmentError, match="'lang' must be one of 'en', 'ko', not 'fr'"):
        Assignment.load(write_assignment(tmp_path / "fr" / "a", 'lang = "fr"\n'))


def test_assignments_whose_notebooks_import_torch_preload_it(tmp_path: Path) -> None:
    for folder in sorted(ASSIGNMENTS.iterdir()):
        assignment = Assignment.load(folder)
        template = assignment.template.read_text() if assignment.template else ""
        imports_torch = "import torch" in template
        assert ("torch" in assignment.preload) == imports_torch, folder.name
    copy = Assignment.load(ASSIGNMENTS / "torch_mlp").copy_to(tmp_path / "copy", hidden=False)
    assert copy.preload == ("torch",)  # a bundle's kernels preload it too
