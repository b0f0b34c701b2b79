"""The import rule: a visible check imports neither the assignment's packages (the reference
solutions) nor a hidden check file.

Visible checks are handed to students, without the packages and the hidden checks: a
visible check that imports one would fail to load in every student's copy (a raw
ImportError instead of a self-check) and, where it loads, hand over the solution. Read from
each file's AST, so nothing is imported to find out.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.grading.assignment import Assignment

__all__ = ["ForbiddenImport", "forbidden_imports", "import_rule_message"]

# Calls that import a module named by a string.
_IMPORTERS = {"import_module", "__import__"}


@dataclass(frozen=True)
class ForbiddenImport:
    file: str  # the visible check file's name
    line: int
    module: str  # as written
    kind: str  # "package" or "hidden check"

    def __str__(self) -> str:
        what = "an instructor-only package" if self.kind == "package" else "a hidden check file"
        return f"{self.file}, line {self.line}: imports {self.module}, {what}"


def forbidden_imports(assignment: Assignment) -> list[ForbiddenImport]:
    """Every import of a package or a hidden check module in the visible check files."""
    packages = {path.name for path in assignment.packages}
    hidden = {path.stem for path in assignment.hidden_checks}
    found = []
    for path in assignment.checks:
        for line, module in _imports(path):
            top = module.lstrip(".").split(".")[0]
            if top in packages:
                found.append(ForbiddenImport(path.name, line, module, "package"))
            elif top in hidden:
                found.append(ForbiddenImport(path.name, line, module, "hidden check"))
    return found


def import_rule_message(assignment: Assignment, found: list[ForbiddenImport]) -> str:
    """Why an assignment whose visible checks break the rule cannot be handed out."""
    lines = "\n".join(f"  {item}" for item in found)
    return (
        f"{assignment.root}: a visible check imports what students do not get:\n{lines}\n"
        "Visible checks are handed to students without the packages and the hidden checks, "
        "so their self-check would stop with an ImportError (and the solution would be in "
        "reach). Move the check into a hidden_checks file, or write its expected values out "
        "as numbers."
    )


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for each import statement and string-named import call in ``path``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []  # loading the checks reports it, with pytest's own words
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            if node.module:
                found.append((node.lineno, base))
            else:  # from . import hidden_x
                found += [(node.lineno, base + alias.name) for alias in node.names]
        elif isinstance(node, ast.Call) and _called_name(node.func) in _IMPORTERS:
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""
