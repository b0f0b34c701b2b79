"""How the files nngrade generates (a bundle's README, a CI workflow, Gradescope's setup.sh)
install nngrade: from files they carry, since nngrade is on no package index.

Two parts, both the instructor's to change: what pip installs (``--install``; by default
the wheel of the running nngrade, see grader.course.wheel; else a spec: a wheel file, a VCS
requirement, index options) and a pip constraints file that pins torch. Files a spec names
on this machine are copied in and named by a relative path, since the instructor's paths
do not exist where the artifact is used. Index hosts are never written by nngrade itself: a
course that takes the CPU-only torch wheel from an index of its own puts it in either part.
"""

from __future__ import annotations

import posixpath
import shlex
import shutil
from importlib import metadata
from pathlib import Path

from grader.course.wheel import build_wheel

__all__ = [
    "CONSTRAINTS_NAME",
    "carry_install",
    "constraints_text",
    "pip_install_command",
    "torch_pin",
]

CONSTRAINTS_NAME = "nngrade-constraints.txt"


def torch_pin() -> str:
    # The torch nngrade runs with here, without a local label such as "+cpu": the plain
    # version also matches the CPU build's "2.13.0+cpu" on an index that has it.
    return metadata.version("torch").split("+")[0]


def constraints_text(source: Path | None = None) -> str:
    """The constraints file to ship: ``source``'s text, or one pinning torch."""
    if source is not None:
        return source.read_text(encoding="utf-8")
    return (
        "# Written by nngrade: pip constraints for installing nngrade.\n"
        "# torch stays at the version nngrade is tested with. Another version, or the default\n"
        "# Linux wheel, pulls gigabytes of CUDA libraries that grading never uses: to take the\n"
        "# CPU-only build from your course's wheel index, add its --extra-index-url line here.\n"
        f"torch=={torch_pin()}\n"
    )


def carry_install(spec: str | None, folder: Path, relative: str) -> tuple[str, list[Path]]:
    """The pip arguments that install nngrade from ``folder``, the artifact's folder that
    is ``relative`` (a POSIX path, '' for the same folder) from where pip runs. With no
    ``spec``, the running nngrade's wheel is written there. A spec is kept, except that each
    of its words naming a file here is copied there and replaced by its relative path.
    Returns the arguments and the files written."""
    if spec is None:
        wheel = build_wheel(folder)
        return shlex.quote(posixpath.join(relative, wheel.name)), [wheel]
    words, written = [], []
    for word in shlex.split(spec):
        local = Path(word).expanduser()
        if not word.startswith("-") and local.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            written.append(Path(shutil.copyfile(local, folder / local.name)))
            word = posixpath.join(relative, local.name)
        words.append(word)
    return shlex.join(words), written


def pip_install_command(python: str, spec: str, constraints: str) -> str:
    """A shell command: ``python -m pip install`` with the constraints file and the spec.
    ``python`` and ``constraints`` are shell words, used as given (they may name
    variables); the spec is split as a shell would (several requirements and options)."""
    args = " ".join(shlex.quote(arg) for arg in shlex.split(spec))
    return f"{python} -m pip install -c {constraints} {args}"
