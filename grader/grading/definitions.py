"""The "definitions only" execution mode: run what a notebook defines, not what it does.

Student notebooks download data sets and train for many epochs at the top level. An
assignment whose checks need only the notebook's definitions declares
``execute = "definitions"``; then only these top-level statements run:
imports, ``def`` and ``class``, assignments to names (``criterion = nn.CrossEntropyLoss()``,
``trainset = load(...)``: a function's globals must exist), and ``if`` / ``try`` blocks made
only of such statements. Everything else (loops, calls, ``with`` blocks, plots) is replaced
by ``pass``, keeping line numbers, and listed in the report. Training normally sits in a
loop; an assignment that trains (``history = fit(model, 100)``) is bounded by the cell
timeout like any cell.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from IPython.core.inputtransformer2 import TransformerManager

from grader.grading.neutralize import Skipped
from grader.runner.cells import CodeCell

__all__ = ["REASON", "keep_definitions"]

REASON = "only definitions (imports, functions, classes, assignments) run for this assignment"

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def keep_definitions(cells: list[CodeCell]) -> tuple[list[CodeCell], list[Skipped]]:
    """The cells with every top-level statement that is not a definition replaced by
    ``pass``, and one ``Skipped`` per replaced statement."""
    kept: list[CodeCell] = []
    skipped: list[Skipped] = []
    for cell in cells:
        tree = _parse(cell.source)
        if tree is None:  # a syntax error: the kernel reports it when the cell runs
            kept.append(cell)
            continue
        lines = cell.source.splitlines()
        replaced = [node for node in tree.body if not (_is_definition(node) or _is_no_op(node))]
        for node in replaced:
            first, last = node.lineno, node.end_lineno or node.lineno
            skipped.append(Skipped(cell.position, first, lines[first - 1].strip(), REASON))
            lines[first - 1 : last] = ["pass"] + [""] * (last - first)
        kept.append(CodeCell(cell.position, "\n".join(lines)) if replaced else cell)
    return kept, skipped


def _parse(source: str) -> ast.Module | None:
    """The cell as Python, magics turned into calls line for line; None if it is not."""
    if not source.strip():
        return ast.Module(body=[], type_ignores=[])
    python = TransformerManager().transform_cell(source)
    height = len(source.splitlines())
    if len(python.splitlines()) != height:
        # A %%cell magic became one call: treat the whole cell as a single statement.
        python = "_cell_magic(" + "\n" * (height - 1) + ")"
    try:
        return ast.parse(python)
    except SyntaxError:
        return None


def _is_definition(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return all(_names_only(t) for t in targets)
    if isinstance(node, ast.If):
        return not _is_main_guard(node) and _all_definitions(node.body + node.orelse)
    if isinstance(node, ast.Try):
        handlers = [s for handler in node.handlers for s in handler.body]
        blocks = node.body + handlers + node.orelse + node.finalbody
        return _all_definitions(blocks)
    return False


def _all_definitions(nodes: Iterable[ast.stmt]) -> bool:
    return all(_is_definition(n) or _is_no_op(n) for n in nodes)


def _is_no_op(node: ast.stmt) -> bool:
    """``pass`` (left by neutralize) and bare constants such as docstrings: nothing to list."""
    return isinstance(node, ast.Pass) or (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    )


def _names_only(target: ast.expr) -> bool:
    if isinstance(target, ast.Tuple | ast.List):
        return all(_names_only(t) for t in target.elts)
    return isinstance(target, ast.Name)


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )
