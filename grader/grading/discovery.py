"""Which assignment a notebook belongs to: the stamp in its metadata, and where to find it.

A template handed out by ``nngrade bundle`` carries ``{"nngrade": {"assignment": NAME,
"version": VERSION, "nngrade": NNGRADE, "requires": REQUIRES}}`` in its notebook metadata.
Jupyter, JupyterLab and Colab keep a notebook's top-level metadata when they save it or
make a copy, so the student's notebook still says where it came from, and
``nngrade check NOTEBOOK`` needs no flags.

VERSION is the assignment's (``student_version``: a hash of what students get), not
nngrade's. NNGRADE is the nngrade that made the bundle (the one its install/ folder holds)
and REQUIRES the assignment's ``requires``: which nngrade can run its checks, checked when
the assignment is loaded and, from the stamp, before it is looked for, so that a student
with the wrong nngrade hears it before anything else. A notebook without a stamp inside an
assignment's folder is checked against that folder's assignment.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import nbformat
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from grader.grading.assignment import CONFIG, Assignment, AssignmentError, NngradeVersionError
from grader.grading.notebook_file import Ungradable, read_notebook
from grader.grading.results import nngrade_version

__all__ = [
    "METADATA_KEY",
    "DiscoveryError",
    "Stamp",
    "choose_assignment",
    "find_assignment",
    "read_stamp",
    "require_nngrade",
    "stamp_notebook",
    "student_version",
    "version_note",
]

METADATA_KEY = "nngrade"
# Below each folder searched, so a notebook anywhere in the instructor's course repository
# (or next to it) finds assignments/NAME/ too.
ASSIGNMENTS_DIR = "assignments"


class DiscoveryError(ValueError):
    """No single assignment could be chosen for the notebook (a usage error, exit code 2)."""


@dataclass(frozen=True)
class Stamp:
    assignment: str
    version: str
    nngrade: str = ""  # the nngrade that stamped it; '' in stamps older than this field
    requires: str = ""  # the assignment's ``requires``, e.g. "nngrade>=0.3,<0.4"


def student_version(assignment: Assignment) -> str:
    """The version of what students get: settings, visible checks and support files.

    It is what ``Assignment.version`` says of the bundle, and it is the same for the
    instructor's full folder and for a copy with hidden checks, which also hash what
    students never see. A stamp records it, so a student's notebook and the checks it is
    run against can be compared wherever the checks come from."""
    return dataclasses.replace(assignment, hidden_checks=(), packages=()).version


def read_stamp(notebook: Path) -> Stamp | None:
    """The notebook's stamp, or None when it has none. Raises ``Ungradable`` when the file
    cannot be read as a notebook."""
    meta = read_notebook(notebook).metadata.get(METADATA_KEY)
    if not isinstance(meta, dict):
        return None
    name = meta.get("assignment")
    if not isinstance(name, str) or not name:
        return None
    fields = [str(meta.get(key, "")) for key in ("version", "nngrade", "requires")]
    return Stamp(name, *fields)


def stamp_notebook(path: Path, assignment: Assignment) -> Stamp:
    """Record the assignment's name, its student version and ``requires``, and the running
    nngrade's version in the notebook's metadata."""
    stamp = Stamp(
        assignment.name, student_version(assignment), nngrade_version(), assignment.requires
    )
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nb.metadata[METADATA_KEY] = dataclasses.asdict(stamp)
    nbformat.write(nb, path)
    return stamp


def require_nngrade(stamp: Stamp) -> None:
    """Raise ``NngradeVersionError`` when the stamp's ``requires`` excludes the running
    nngrade. A malformed or missing range, or a running
    version that is unknown (a source tree), is not checked here: loading the assignment
    checks its own ``requires``."""
    running = nngrade_version()
    try:
        versions = SpecifierSet(stamp.requires.strip().removeprefix(METADATA_KEY))
        version = Version(running)
    except (InvalidSpecifier, InvalidVersion):
        return
    # As Assignment.load: a pre-release of a version in range is in range.
    if not stamp.requires.strip() or versions.contains(version, prereleases=True):
        return
    made = f" with nngrade {stamp.nngrade}" if stamp.nngrade else ""
    raise NngradeVersionError(
        f"this notebook's assignment '{stamp.assignment}' was handed out{made} and its checks "
        f"need {stamp.requires.strip()}; this is nngrade {running}",
        stamp.assignment,
    )


def version_note(stamp: Stamp | None, assignment: Assignment) -> str:
    """What to tell a student whose notebook was made for other checks; '' when it was not."""
    if stamp is None:
        return ""
    if stamp.assignment != assignment.name:
        return (
            f"This notebook was made from the template of assignment '{stamp.assignment}', "
            f"but it is checked against '{assignment.name}' ({assignment.root})."
        )
    current = student_version(assignment)
    if stamp.version and stamp.version != current:
        return (
            f"Your notebook was made from another version of this assignment (version "
            f"{stamp.version}; the checks here are version {current}). If a check asks for "
            "something your notebook does not mention, compare it with the current template."
        )
    return ""


def choose_assignment(notebook: Path, assignment_dir: Path | None) -> tuple[Assignment, str]:
    """The assignment to check ``notebook`` against, and a note for the student ('' if
    none): ``assignment_dir`` when given, else the one its stamp names, found nearby.
    Raises ``AssignmentError``, ``DiscoveryError`` or, without ``assignment_dir``,
    ``Ungradable`` (with it, grading says the notebook cannot be read, as CI should hear);
    ``NngradeVersionError`` when the stamp or the assignment needs another nngrade."""
    try:
        stamp = read_stamp(notebook)
    except Ungradable:
        if assignment_dir is None:
            raise
        stamp = None
    if assignment_dir is not None:
        assignment = Assignment.load(assignment_dir)
    elif stamp is None and (notebook.resolve().parent / CONFIG).is_file():
        # `nngrade check solution.ipynb` in the assignment's own folder.
        assignment = Assignment.load(notebook.resolve().parent)
        return assignment, (
            f"This notebook does not say which assignment it belongs to; it was checked "
            f"against the one in its folder, '{assignment.name}'."
        )
    elif stamp is None:
        raise DiscoveryError(
            f"{notebook} does not say which assignment it belongs to (it was not made from a "
            "template handed out by nngrade bundle); pass --assignment DIR"
        )
    else:
        require_nngrade(stamp)
        assignment = find_assignment(notebook, stamp.assignment)
    return assignment, version_note(stamp, assignment)


def find_assignment(notebook: Path, name: str) -> Assignment:
    """The assignment called ``name`` nearest to the notebook: in its folder or a parent
    folder, as ``assignment.toml`` there or in ``assignments/*/`` below it. The nearest
    folder with a match wins; two matches there are an error, and so is a match that needs
    another nngrade (``NngradeVersionError``)."""
    start = notebook.resolve().parent
    broken: list[str] = []
    for folder in (start, *start.parents):
        matches = []
        for config in _candidates(folder):
            try:
                assignment = Assignment.load(config.parent)
            except NngradeVersionError as exc:
                if exc.name == name:  # the one asked for: say why it cannot be used
                    raise
                broken.append(str(exc))
                continue
            except AssignmentError as exc:
                broken.append(str(exc))
                continue
            if assignment.name == name:
                matches.append(assignment)
        if len(matches) == 1:
            return matches[0]
        if matches:
            roots = ", ".join(str(a.root) for a in matches)
            raise DiscoveryError(
                f"several assignments are named '{name}' ({roots}); pass --assignment DIR"
            )
    message = (
        f"no assignment named '{name}' was found: looked for {CONFIG} in {start} and every "
        f"folder above it, and in their {ASSIGNMENTS_DIR}/*/ folders. Run nngrade from the "
        "assignment's folder or pass --assignment DIR"
    )
    if broken:
        message += f" (skipped, because it could not be read: {'; '.join(broken)})"
    raise DiscoveryError(message)


def _candidates(folder: Path) -> list[Path]:
    found = [folder / CONFIG] if (folder / CONFIG).is_file() else []
    # An unreadable folder on the way up (another user's home) is simply not searched.
    try:
        found += sorted((folder / ASSIGNMENTS_DIR).glob(f"*/{CONFIG}"))
    except OSError:
        pass
    return found
