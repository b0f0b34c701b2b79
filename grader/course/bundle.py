"""``nngrade bundle``: the student-facing copy of an assignment, to hand out or to push as
the assignment repository's starting point.

It holds the settings, the template (stamped with the assignment's name and version, so
that ``nngrade check`` finds the checks without flags), the visible checks and the support
files, what installs nngrade (``install/``: a wheel of the running nngrade and a
constraints file) and a README saying how to install and self-check. Never the solution,
the hidden checks or the packages the checks import (the references):
``Assignment.copy_to(hidden=False)``; the wheel holds only the ``grader`` package.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from grader.course.import_rule import forbidden_imports, import_rule_message
from grader.course.install import CONSTRAINTS_NAME, carry_install, constraints_text, torch_pin
from grader.grading.assignment import Assignment, AssignmentError
from grader.grading.discovery import stamp_notebook
from grader.outputs.files import atomic_write_text

__all__ = ["INSTALL_DIR", "README", "bundle"]

README = "README.md"
INSTALL_DIR = "install"
# A repository cloned empty (GitHub Classroom's starting point) holds only these.
_REPOSITORY_ONLY = {".git"}


def _install_lines(args: str, constraints: str) -> list[str]:
    pip = f"python -m pip install -c {constraints} {args}"
    torch = f"torch=={torch_pin()}"
    return [
        "## Install nngrade",
        "",
        "Once, from this folder (nngrade is not on PyPI: it comes with the assignment):",
        "",
        "```sh",
        pip,
        "```",
        "",
        "The constraints file keeps torch at the version the checks were tested with.",
        "Grading needs no GPU, so the CPU build of torch is enough:",
        "",
        "- Linux: PyPI's torch brings gigabytes of CUDA libraries; take the CPU build first:",
        f"  `python -m pip install {torch} --index-url https://download.pytorch.org/whl/cpu`",
        "- macOS: PyPI's torch is the CPU (and Apple GPU) build: nothing to add.",
        "- Windows: PyPI's torch is the CPU build: nothing to add.",
        "- Colab: torch is already installed; install without the constraints file, so",
        f"  that Colab's torch stays: `!pip install {args}` (see below).",
    ]


def _colab_lines(args: str, template: str) -> list[str]:
    return [
        "## Check your work in Colab",
        "",
        "Upload this folder to your Google Drive and open the notebook from there. Add a",
        "code cell at the end (nngrade skips these lines when it runs your notebook):",
        "",
        "```python",
        "from google.colab import drive",
        'drive.mount("/content/drive")',
        "%cd /content/drive/MyDrive/FOLDER",
        f"!pip install -q {args}",
        f"!nngrade check {template}",
        "```",
        "",
        "with FOLDER the folder's name in your Drive. Save the notebook first",
        "(File > Save): nngrade checks the saved file.",
    ]


def _readme(copy: Assignment, args: str, constraints: str, hidden: bool) -> str:
    template = copy.template.name if copy.template is not None else "your notebook"
    report = f"{Path(template).stem}.html"
    lines = [
        f"# {copy.title}",
        "",
        f"Do your work in `{template}`, in Jupyter, JupyterLab or Colab. Keep it in this",
        "folder (a copy under another name works too: the notebook remembers which",
        "assignment it belongs to).",
        "",
        *_install_lines(args, constraints),
        "",
        "## Check your work",
        "",
        "Run the checks on your notebook in this folder:",
        "",
        "```sh",
        f"nngrade check {template}",
        "```",
        "",
        "nngrade runs your notebook in a fresh kernel, prints a table of the checks with",
        f"your points and the first line of each failure, and writes `{report}` next to",
        "the notebook: open it in a browser for what went wrong and what to look at.",
        "It exits with 0 when every check passed, 1 when one failed, and 2 when the",
        "notebook could not be read.",
    ]
    if hidden:
        lines += [
            "",
            "Some checks run only when your work is graded, so a full score here is a good",
            "sign, not a promise.",
        ]
    lines += ["", *_colab_lines(args, template)]
    return "\n".join(lines) + "\n"


def _write(assignment: Assignment, dest: Path, install: str | None) -> Assignment:
    copy = assignment.copy_to(dest, hidden=False)
    if copy.template is not None:
        stamp_notebook(copy.template, copy)
    folder = dest / INSTALL_DIR
    args, _ = carry_install(install, folder, INSTALL_DIR)
    atomic_write_text(folder / CONSTRAINTS_NAME, constraints_text())
    constraints = f"{INSTALL_DIR}/{CONSTRAINTS_NAME}"
    readme = _readme(copy, args, constraints, bool(assignment.hidden_checks))
    atomic_write_text(dest / README, readme)
    return copy


def bundle(assignment: Assignment, dest: Path, *, install: str | None = None) -> Assignment:
    """Write the student bundle into ``dest`` (absent, empty, or an empty repository that
    holds only ``.git``); return it as an assignment. ``install``: see carry_install.
    Refuses (``AssignmentError``) an assignment whose visible checks import its packages or
    its hidden checks: in the students' copy they would not load."""
    found = forbidden_imports(assignment)
    if found:
        raise AssignmentError(import_rule_message(assignment, found))
    names = {path.name for path in (*assignment.checks, *assignment.support_files)}
    if names & {README, INSTALL_DIR}:
        raise AssignmentError(
            f"{assignment.root}: a check or support file is named {README} or {INSTALL_DIR}"
        )
    dest = dest.resolve()  # `nngrade bundle DIR .` from inside the repository: its parent
    present = {path.name for path in dest.iterdir()} if dest.is_dir() else set()
    if not present or not present <= _REPOSITORY_ONLY:
        return _write(assignment, dest, install)
    # Written beside the repository, then moved in: copy_to wants an empty folder.
    with tempfile.TemporaryDirectory(prefix=".nngrade-bundle-", dir=dest.parent) as scratch:
        _write(assignment, Path(scratch) / "bundle", install)
        for item in sorted((Path(scratch) / "bundle").iterdir()):
            shutil.move(item, dest / item.name)
    return Assignment.load(dest)
