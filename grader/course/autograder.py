"""``nngrade gradescope``: a Gradescope autograder zip, and what its run_autograder does.

Gradescope unzips the autograder into ``/autograder/source``, runs ``setup.sh`` there once
when it builds the image, and for each submission runs ``run_autograder`` with the
student's files in ``/autograder/submission``; the score goes to
``/autograder/results/results.json``. The zip holds a full copy of the assignment (hidden
checks and the packages the checks import, never the solution), so grading needs nothing
but the installed nngrade. ``NNGRADE_AUTOGRADER_ROOT`` moves ``/autograder`` (for tests).
"""

from __future__ import annotations

import shlex
import stat
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.batch.sources import collect
from grader.course.install import (
    CONSTRAINTS_NAME,
    carry_install,
    constraints_text,
    pip_install_command,
)
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions, grade_notebook
from grader.outputs.files import atomic_write_text, json_text
from grader.outputs.gradescope import gradescope_result

__all__ = ["ROOT_ENV", "build_autograder", "run_autograder"]

ROOT_ENV = "NNGRADE_AUTOGRADER_ROOT"
ASSIGNMENT_DIR = "assignment"
VENV = "nngrade-venv"

_SETUP = """\
#!/usr/bin/env bash
# Written by nngrade gradescope. Gradescope runs this once, as root, when it builds the
# autograder's image: it installs nngrade into a virtual environment of its own.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="${{{root_env}:-/autograder}}"
# nngrade needs Python 3.11 or later; older images get it from the distribution.
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PYTHON="$candidate"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
    PYTHON=python3.11
fi
if ! "$PYTHON" -m venv "$ROOT/{venv}"; then
    # Debian and Ubuntu ship venv separately.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(basename "$PYTHON")-venv"
    "$PYTHON" -m venv "$ROOT/{venv}"
fi
# bubblewrap lets nngrade run each notebook in a sandbox; without it, grading still works.
if ! command -v bwrap >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) ||
        echo "bubblewrap could not be installed: notebooks will run without the sandbox"
fi
{pip}
"""

_RUN = """\
#!/usr/bin/env bash
# Written by nngrade gradescope. Gradescope runs this for each submission: nngrade grades
# the notebook in $ROOT/submission, hidden checks included, into $ROOT/results/results.json.
set -uo pipefail
ROOT="${{{root_env}:-/autograder}}"
NNGRADE="$ROOT/{venv}/bin/nngrade"
[ -x "$NNGRADE" ] || NNGRADE=nngrade
"$NNGRADE" gradescope-run "$ROOT" {options}
status=$?
if [ "$status" -ne 0 ] && [ ! -s "$ROOT/results/results.json" ]; then
    # nngrade did not even start (setup.sh failed?): the student still gets a result.
    mkdir -p "$ROOT/results"
    printf '{{"score": 0.0, "output": "%s"}}\\n' \\
        "The autograder could not run nngrade: tell the course staff (not your fault)." \\
        > "$ROOT/results/results.json"
fi
exit "$status"
"""


def build_autograder(
    assignment: Assignment,
    out: Path,
    *,
    install: str | None = None,
    constraints: Path | None = None,
    cell_timeout: float = GradingOptions.cell_timeout,
    notebook_timeout: float = GradingOptions.notebook_timeout,
) -> Path:
    """Write the autograder zip to ``out`` and return it."""
    options = shlex.join(
        ["--timeout", str(cell_timeout), "--notebook-timeout", str(notebook_timeout)]
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nngrade-autograder-") as scratch:
        # setup.sh runs in the unzipped folder: what it installs lies beside it.
        carried = Path(scratch) / "install"
        args, _ = carry_install(install, carried, "")
        pip = pip_install_command(f'"$ROOT/{VENV}/bin/python"', args, CONSTRAINTS_NAME)
        scripts = {
            "setup.sh": _SETUP.format(root_env=ROOT_ENV, venv=VENV, pip=pip),
            "run_autograder": _RUN.format(root_env=ROOT_ENV, venv=VENV, options=options),
        }
        copy = assignment.copy_to(Path(scratch) / ASSIGNMENT_DIR, hidden=True)
        partial = out.with_name(f".{out.name}.tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in scripts.items():
                _add(archive, name, text.encode(), executable=True)
            _add(archive, CONSTRAINTS_NAME, constraints_text(constraints).encode())
            for file in sorted(carried.glob("*")):
                _add(archive, file.name, file.read_bytes())
            for file in sorted(copy.root.rglob("*")):
                if file.is_file():
                    name = file.relative_to(copy.root.parent).as_posix()
                    _add(archive, name, file.read_bytes())
        partial.replace(out)
    return out


def _add(archive: zipfile.ZipFile, name: str, data: bytes, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # same bytes on every build
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    archive.writestr(info, data)


def _not_graded(message: str) -> dict[str, Any]:
    return {"score": 0.0, "output": message, "output_format": "text", "tests": []}


def run_autograder(root: Path, options: GradingOptions) -> dict[str, Any]:
    """Grade the one notebook in ``root/submission`` with every check, write
    ``root/results/results.json`` and return what it holds."""
    assignment = Assignment.load(root / "source" / ASSIGNMENT_DIR)
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    submission = root / "submission"
    expected = assignment.template.name if assignment.template is not None else "your notebook"
    with tempfile.TemporaryDirectory(prefix="nngrade-submission-") as scratch:
        found = collect([submission], Path(scratch)) if submission.is_dir() else []
        if not found:
            data = _not_graded(
                "No notebook (.ipynb file) was found in your submission, so nothing could be "
                f"graded. Upload your notebook ({expected}) and submit again."
            )
        elif len(found) > 1:
            names = ", ".join(s.name for s in found)
            data = _not_graded(
                f"Your submission has {len(found)} notebooks ({names}); nngrade grades exactly "
                "one. Submit again with only the notebook to be graded."
            )
        else:
            # The kernel sees none of the autograder's folders, only the support files.
            private = (root / "source", submission, results, Path(scratch))
            options = replace(options, include_hidden=True, private_paths=private)
            sub = found[0]
            result = grade_notebook(
                assignment, sub.path, options, submission_id=sub.id, problem=sub.problem
            )
            data = gradescope_result(result)
    atomic_write_text(results / "results.json", json_text(data))
    return data
