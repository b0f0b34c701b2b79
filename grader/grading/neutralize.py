"""Colab and IPython habits that must not run while grading, rewritten before execution.

Shell escapes, package installs, ``%cd`` into a Drive folder and interactive plotting
set-up are replaced by ``pass`` (keeping indentation, so the cell still parses); each
replacement is returned so the report can say what was skipped and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Skipped", "neutralize"]


@dataclass(frozen=True)
class Skipped:
    """One line (or whole cell) that was not run, and why."""

    cell: int  # 1-based position in the notebook
    line: int  # 1-based line in the cell
    text: str
    reason: str
    last_line: int = 0  # the statement's last line, when it spans several (0: ``line``)


_SKIPPED_MAGICS = {
    "pip": "packages are not installed while grading",
    "conda": "packages are not installed while grading",
    "cd": "the working directory is fixed while grading",
    "matplotlib": "plots use a non-interactive backend while grading",
    "sx": "shell commands are not run while grading",
    "system": "shell commands are not run while grading",
    "run": "other scripts are not run while grading",
    "reset": "the namespace is not reset while grading",
}
_SKIPPED_CELL_MAGICS = {"bash", "sh", "script", "system", "javascript", "js", "html", "perl"}
_TIMING_MAGICS = {"time", "timeit", "prun"}  # run the statement once, without the timing

_LINE_MAGIC = re.compile(r"^(\s*)%(\w+)\b\s*(.*)$")
_SHELL = re.compile(r"^(\s*)!")
_SHELL_ASSIGN = re.compile(r"^(\s*)([\w.\[\], ]+?)\s*=\s*[!%]")


def neutralize(source: str, cell: int) -> tuple[str, list[Skipped]]:
    """Return the cell's source with the habits above replaced, and what was replaced."""
    lines = source.splitlines()
    if not lines:
        return source, []
    first = lines[0].strip()
    if first.startswith("%%"):
        magic = first[2:].split()[0] if len(first) > 2 else ""
        if magic in _SKIPPED_CELL_MAGICS:
            return "", [Skipped(cell, 1, first, f"%%{magic} cells are not run while grading")]
        if magic in _TIMING_MAGICS:
            lines = ["pass", *lines[1:]]  # keep line numbers stable for tracebacks
    skipped: list[Skipped] = []
    out: list[str] = []
    continuing = False
    for number, line in enumerate(lines, start=1):
        if continuing:  # the rest of a skipped command continued with a backslash
            continuing = line.rstrip().endswith("\\")
            out.append("")
            continue
        replacement, reason = _rewrite(line)
        if reason:
            skipped.append(Skipped(cell, number, line.strip(), reason))
            continuing = line.rstrip().endswith("\\")
        out.append(replacement)
    return "\n".join(out), skipped


def _rewrite(line: str) -> tuple[str, str]:
    """(new line, reason) for a line to skip; (line, "") for a line to keep."""
    if match := _SHELL.match(line):
        return f"{match[1]}pass", "shell commands are not run while grading"
    if match := _SHELL_ASSIGN.match(line):
        return f"{match[1]}{match[2]} = []", "shell commands are not run while grading"
    if match := _LINE_MAGIC.match(line):
        indent, magic, rest = match[1], match[2], match[3]
        if magic in _SKIPPED_MAGICS:
            return f"{indent}pass", f"%{magic}: {_SKIPPED_MAGICS[magic]}"
        if magic in _TIMING_MAGICS:
            return f"{indent}{rest}" if rest else f"{indent}pass", ""
    if "drive.mount(" in line:  # kept: the kernel's google.colab stand-in makes it a no-op
        return line, "Google Drive is not mounted while grading"
    return line, ""
