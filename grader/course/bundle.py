"""``nngrade bundle``: the student-facing copy of an assignment, to hand out or to push as
the assignment repository's starting point.

It holds the settings, the template (stamped with the assignment's name and version, so
that ``nngrade check`` finds the checks without flags), the visible checks and the support
files, and a README saying how to self-check. Never the solution, the hidden checks or the
packages the checks import (the references): ``Assignment.copy_to(hidden=False)``.
"""

from __future__ import annotations

from pathlib import Path

from grader.course.install import DEFAULT_INSTALL
from grader.grading.assignment import Assignment, AssignmentError
from grader.grading.discovery import stamp_notebook
from grader.outputs.files import atomic_write_text

__all__ = ["README", "bundle"]

README = "README.md"


def _readme(copy: Assignment, install: str, hidden: bool) -> str:
    template = copy.template.name if copy.template is not None else "your notebook"
    report = f"{Path(template).stem}.html"
    lines = [
        f"# {copy.title}",
        "",
        f"Do your work in `{template}`, in Jupyter, JupyterLab or Colab. Keep it in this",
        "folder (a copy under another name works too: the notebook remembers which",
        "assignment it belongs to).",
        "",
        "## Check your work",
        "",
        "Install nngrade once, then run the checks on your notebook in this folder:",
        "",
        "```sh",
        f"python -m pip install {install}",
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
    return "\n".join(lines) + "\n"


def bundle(assignment: Assignment, dest: Path, *, install: str = DEFAULT_INSTALL) -> Assignment:
    """Write the student bundle into ``dest`` (absent or empty); return it as an assignment."""
    if any(path.name == README for path in (*assignment.checks, *assignment.support_files)):
        raise AssignmentError(f"{assignment.root}: a check or support file is named {README}")
    copy = assignment.copy_to(dest, hidden=False)
    if copy.template is not None:
        stamp_notebook(copy.template, copy)
    atomic_write_text(dest / README, _readme(copy, install, bool(assignment.hidden_checks)))
    return copy
