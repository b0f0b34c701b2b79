"""How the files nngrade generates (a CI workflow, Gradescope's setup.sh) install nngrade.

Two parts, both the instructor's to change: the pip arguments (``--install``, default
``nngrade``; a wheel file, a VCS requirement, index options) and a pip constraints file
that pins torch. Index hosts are never written by nngrade itself: a course that takes the
CPU-only torch wheel from an index of its own puts it in either part.
"""

from __future__ import annotations

import shlex
from importlib import metadata
from pathlib import Path

__all__ = ["CONSTRAINTS_NAME", "DEFAULT_INSTALL", "constraints_text", "pip_install_command"]

DEFAULT_INSTALL = "nngrade"
CONSTRAINTS_NAME = "nngrade-constraints.txt"


def _torch_pin() -> str:
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
        f"torch=={_torch_pin()}\n"
    )


def pip_install_command(python: str, spec: str, constraints: str) -> str:
    """A shell command: ``python -m pip install`` with the constraints file and the spec.
    ``python`` and ``constraints`` are shell words, used as given (they may name
    variables); the spec is split as a shell would (several requirements and options)."""
    args = " ".join(shlex.quote(arg) for arg in shlex.split(spec))
    return f"{python} -m pip install -c {constraints} {args}"
