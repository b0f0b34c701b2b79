"""A small synthetic course for the student, CI and Gradescope tests: assignment "square"
with a visible and a hidden check file, a support file, and a package of answers that only
the hidden checks import (as the real checks import reference/)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
# The venv's commands (nngrade, python) first, as a student's shell would have them.
VENV_BIN = Path(sys.executable).parent

TEMPLATE = "def square(x):\n    raise NotImplementedError('write square(x)')\n"
SOLUTION = "def square(x):\n    return x * x  # SOLUTION-MARKER\n"
# Right for positive numbers only: passes one visible check and the hidden one.
WRONG = "def square(x):\n    return x * abs(x)\n"

VISIBLE = '''\
import pytest


@pytest.mark.points(2)
def test_square_small(notebook):
    """square(3) is 9"""
    value = notebook.call("square", 3).value
    assert value == 9, f"square(3) returned {value}, expected 9"


@pytest.mark.points(1)
def test_square_negative(notebook):
    """square(-2) is 4"""
    value = notebook.call("square", -2).value
    assert value == 4, f"square(-2) returned {value}, expected 4\\nA square is never negative."
'''

HIDDEN = '''\
import pytest

import answers


@pytest.mark.points(3)
def test_square_large(notebook):
    """square works for large numbers"""
    assert notebook.call("square", answers.LARGE).value == answers.square(answers.LARGE)
'''

ANSWERS = "LARGE = 12345\n\n\ndef square(x):\n    return x * x  # REFERENCE-MARKER\n"


def write_notebook(path: Path, source: str, metadata: dict[str, object] | None = None) -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# Squares"), new_code_cell(source)])
    nb.metadata.update(metadata or {})
    nbformat.write(nb, path)
    return path


def student_work(bundle: Path, name: str, source: str) -> Path:
    """The bundle's stamped template as a student saves it: their code, under ``name``."""
    nb = nbformat.read(bundle / "template.ipynb", as_version=4)
    code = next(cell for cell in nb.cells if cell.cell_type == "code")
    code.source = source
    nbformat.write(nb, bundle / name)
    return bundle / name


def write_course(root: Path) -> Path:
    """``root/assignments/square`` and ``root/answers``; returns the assignment folder."""
    folder = root / "assignments" / "square"
    folder.mkdir(parents=True)
    (folder / "test_square.py").write_text(VISIBLE)
    (folder / "test_square_hidden.py").write_text(HIDDEN)
    (folder / "data.txt").write_text("support\n")
    write_notebook(folder / "template.ipynb", TEMPLATE)
    write_notebook(folder / "solution.ipynb", SOLUTION)
    (root / "answers").mkdir()
    (root / "answers" / "__init__.py").write_text(ANSWERS)
    (folder / "assignment.toml").write_text(
        'name = "square"\ntitle = "Squares"\nchecks = ["test_square.py"]\n'
        'hidden_checks = ["test_square_hidden.py"]\nsupport_files = ["data.txt"]\n'
        'packages = ["../../answers"]\ntemplate = "template.ipynb"\n'
        'solution = "solution.ipynb"\n'
    )
    return folder


def student_env(**extra: str) -> dict[str, str]:
    """The environment of a student's shell: the venv on PATH, no PYTHONPATH (so nothing
    of the checkout is importable but the installed nngrade), no GitHub variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTHON"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def path_without_bwrap(scratch: Path) -> str:
    """A PATH like this one with no ``bwrap`` on it, as on a machine without bubblewrap:
    each folder that holds bwrap (/usr/bin, and /bin where it links there) is replaced by a
    folder of links to everything else in it. The venv's commands come first."""
    folders = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        folder = Path(entry)
        if entry and (folder / "bwrap").exists():
            links = scratch / f"no-bwrap-{len(folders)}"
            links.mkdir(parents=True, exist_ok=True)
            for item in folder.iterdir():
                if item.name != "bwrap" and not (links / item.name).exists():
                    (links / item.name).symlink_to(item)
            folder = links
        folders.append(str(folder))
    return os.pathsep.join([str(VENV_BIN), *folders])


# Left out of an offline venv's packages: the checkout's nngrade (an editable install).
_CHECKOUT_ENTRIES = ("nngrade", "__editable__", "grader", "_nngrade")


def offline_venv(folder: Path) -> Path:
    """A fresh virtual environment holding this venv's packages except nngrade, so that pip
    finds nngrade's dependencies installed (torch is gigabytes, and tests have no network)
    and must install nngrade itself from what it is given. Returns its python.

    The packages are hard links (no copy of torch; /tmp and the checkout share a file
    system here), in the venv's own site-packages, where the sandbox lets its kernels see
    them. It gets no pip or setuptools of its own: the ones venv bundles are older than
    torch requires, and a newer one cannot be downloaded; this venv's are linked instead."""
    command = [sys.executable, "-m", "venv", "--without-pip", str(folder)]
    done = subprocess.run(command, capture_output=True)
    assert done.returncode == 0, done.stderr
    site = Path(sysconfig.get_paths()["purelib"])
    (own,) = (folder / "lib").glob("python3*/site-packages")
    items = [str(i) for i in site.iterdir() if not i.name.startswith(_CHECKOUT_ENTRIES)]
    done = subprocess.run(["cp", "-al", *items, str(own)], capture_output=True)
    assert done.returncode == 0, done.stderr
    return folder / "bin" / "python"


def offline_env(venv_python: Path, **extra: str) -> dict[str, str]:
    """A shell with ``venv_python``'s venv first on PATH instead of this one, and pip told
    to use no package index (there is no network here)."""
    env = {k: v for k, v in student_env().items() if k != "VIRTUAL_ENV"}
    rest = [p for p in env["PATH"].split(os.pathsep) if Path(p) != VENV_BIN]
    env["PATH"] = os.pathsep.join([str(venv_python.parent), *rest])
    env["PIP_NO_INDEX"] = "1"
    env.update(extra)
    return env
