"""What each check of an assignment is worth: the table ``validate`` prints, and the checks
that have no points marker.

A parametrised check is one row with its cases counted, so that ``points(1)`` over four
cases reads as the 4 points it gives, not as 1.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.grading.assignment import Assignment
from grader.grading.results import CheckResult

__all__ = ["PointRow", "format_table", "missing_points", "point_rows", "points_markers"]


@dataclass(frozen=True)
class PointRow:
    check: str  # the test function's name
    hidden: bool
    cases: int  # 1, or the number of parametrised cases
    each: float  # the points of one case
    total: float
    marker: str = ""  # as written, e.g. "points(4, shared=True)"; '' when not found


def point_rows(results: list[CheckResult], markers: dict[str, str] | None = None) -> list[PointRow]:
    """One row per check function, in the order the checks ran; ``markers``: each check's
    points marker as written (``points_markers``)."""
    groups: dict[tuple[str, bool], list[CheckResult]] = {}
    for result in results:
        groups.setdefault((result.name.split("[")[0], result.hidden), []).append(result)
    rows = []
    for (name, hidden), cases in groups.items():
        total = sum(case.max_points for case in cases)
        parametrised = len(cases) > 1 or "[" in cases[0].name
        count = len(cases) if parametrised else 1
        marker = (markers or {}).get(name, "")
        rows.append(PointRow(name, hidden, count, cases[0].max_points, total, marker))
    return rows


def format_table(rows: list[PointRow]) -> str:
    """The table: check, visible or hidden, points (a parametrised check's cases spelt out)."""
    lines = [("check", "shown", "points")]
    for row in rows:
        points = _num(row.total)
        if row.cases > 1:
            points += f" = {row.cases} cases x {_num(row.each)}"
            if "shared" in row.marker:
                points += f" ({row.marker} splits its points over the cases)"
            elif row.marker:
                points += f" ({row.marker} gives each case its points)"
        lines.append((row.check, "hidden" if row.hidden else "visible", points))
    visible = sum(row.total for row in rows if not row.hidden)
    hidden = sum(row.total for row in rows if row.hidden)
    summary = f"{_num(visible + hidden)} (visible {_num(visible)}, hidden {_num(hidden)})"
    lines.append(("total", "", summary))
    width = max(len(line[0]) for line in lines) + 2
    return "\n".join(
        f"  {check:<{width}}{shown:<9}{points}".rstrip() for check, shown, points in lines
    )


def points_markers(assignment: Assignment) -> dict[str, str]:
    """Each check function's points marker as written (``points(4, shared=True)``)."""
    found = {}
    for path in (*assignment.checks, *assignment.hidden_checks):
        tree = _parse(path)
        if tree is None:
            continue
        for _, node in _tests(tree):
            for decorator in node.decorator_list:
                if _is_points(decorator):
                    text = ast.unparse(decorator)
                    found[node.name] = text[text.index("points") :]
    return found


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None  # loading the checks reports it, in pytest's words


def missing_points(assignment: Assignment) -> list[str]:
    """The checks (``file::test``) written without ``@pytest.mark.points(n)`` on the function,
    its class or the module's ``pytestmark``, read from the files' AST. Loading the checks
    stops at the first; this names them all."""
    found = []
    for path in (*assignment.checks, *assignment.hidden_checks):
        tree = _parse(path)
        if tree is None:
            continue
        module_marked = _module_marked(tree)
        for scope, node in _tests(tree):
            if not (module_marked or _marked(node) or (scope is not None and _marked(scope))):
                where = f"{scope.name}::{node.name}" if scope is not None else node.name
                found.append(f"{Path(path).name}::{where}")
    return found


def _tests(tree: ast.Module) -> list[tuple[ast.ClassDef | None, ast.FunctionDef]]:
    found: list[tuple[ast.ClassDef | None, ast.FunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            found.append((None, node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            found += [
                (node, item)
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
            ]
    return found


def _marked(node: ast.FunctionDef | ast.ClassDef) -> bool:
    return any(_is_points(decorator) for decorator in node.decorator_list)


def _module_marked(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark" for target in node.targets
        ):
            return any(_is_points(child) for child in ast.walk(node.value))
    return False


def _is_points(node: ast.AST) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "points"


def _num(value: float) -> str:
    return f"{value:g}"
