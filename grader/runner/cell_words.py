"""Words for what a notebook's cells did: a missing module, where a missing name would have
come from, and which cells define the same function."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from grader._kernel.nngrade_protocol import StandIn
from grader.runner.cell_data import CodeCell
from grader.runner.i18n import gettext as _

__all__ = ["definitions", "missing_module", "name_origin", "numbers"]


def missing_module(record: StandIn) -> str:
    """What a stand-in stands for, in words: not installed, or missing from a package."""
    if record.within:
        short = record.module.removeprefix(record.within + ".")
        return _(
            "`{module}` does not exist where notebooks are graded (`{within}` is there, but "
            "has no module `{short}`)"
        ).format(module=record.module, within=record.within, short=short)
    return _("`{module}` is not installed where notebooks are graded").format(module=record.module)


def name_origin(name: str, stand_ins: Iterable[tuple[str | None, StandIn]]) -> str:
    """``Affine`` is not defined: where it would have come from, if a ``from x import *``
    (in the cell named beside it, "cell 2", or None if unknown) imported nothing; ""
    otherwise."""
    stars = [(cell, record) for cell, record in stand_ins if record.star]
    if not stars:
        return ""
    cell, record = stars[-1]  # the last one before the error
    words = {"name": name, "line": record.line, "cell": cell, "why": missing_module(record)}
    if cell:
        return _(
            "`{name}` is not defined: it would have come from `{line}` in {cell}, which "
            "imported nothing because {why}"
        ).format(**words)
    return _(
        "`{name}` is not defined: it would have come from `{line}`, which imported nothing "
        "because {why}"
    ).format(**words)


def definitions(cells: list[CodeCell]) -> dict[str, list[CodeCell]]:
    """The cells that define each function or class at their top level (inside an ``if``,
    ``try`` or ``with`` too, not inside another function or class)."""
    found: dict[str, list[CodeCell]] = {}
    for cell in cells:
        try:
            body = ast.parse(cell.source).body
        except (SyntaxError, ValueError):  # IPython syntax left in: the kernel said so
            continue
        for name in sorted(set(_defined(body))):
            found.setdefault(name, []).append(cell)
    return found


def _defined(nodes: Iterable[ast.AST]) -> Iterable[str]:
    for node in nodes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.stmt | ast.excepthandler | ast.match_case):
            yield from _defined(ast.iter_child_nodes(node))


def numbers(positions: list[int]) -> str:
    """2, 5 and 7."""
    shown = [str(p) for p in positions]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + _(" and ") + shown[-1]
