"""The "definitions only" execution mode: run everything a notebook defines, skip what trains.

Student notebooks download data sets and train for many epochs at the top level. An
assignment whose checks need only the notebook's definitions declares
``execute = "definitions"``; then every statement runs except those that clearly train or
fetch (grader.grading.training): a loop or call that reaches ``.backward()``, an
optimizer's ``.step()``, ``.fit(`` or a function of the notebook that does, and known
downloads. A statement that reads a name only a skipped statement would have made is
skipped too (say why, instead of failing with a NameError). Statements inside ``if``,
``with`` and ``try`` blocks (the ``__main__`` guard included) are judged one by one;
``%%capture`` cells run as plain code.

Each top-level statement runs as its own piece, padded so its line numbers stay those of
the cell: an error or a stopped statement costs that statement, not the definitions after
it. Imports and definitions get the cell timeout; any other statement gets a short
``budget`` (interrupted and recorded when it runs longer), so a training loop that escapes
the list costs seconds.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from IPython.core.inputtransformer2 import TransformerManager

from grader.grading.neutralize import Skipped
from grader.grading.training import (
    Trainers,
    assigned_names,
    downloads,
    find_trainers,
    trains,
    used_names,
)
from grader.runner.cell_data import CodeCell, Definition

__all__ = ["BUDGET", "REASON", "keep_definitions", "parse_cell", "where_defined"]

REASON = "only definitions run for this assignment, not training"
BUDGET = 10.0  # seconds for a statement that is not an import or a definition

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BLOCKS = (ast.If, ast.With, ast.AsyncWith, ast.Try)


@dataclass
class _Plan:
    """One cell being cut into pieces, its lines edited in place."""

    cell: CodeCell
    lines: list[str]
    skipped: list[Skipped] = field(default_factory=list)


def keep_definitions(
    cells: list[CodeCell], budget: float = BUDGET
) -> tuple[list[CodeCell], list[Skipped]]:
    """The pieces to run, in order (several per cell, each a ``CodeCell`` of that cell's
    position), and one ``Skipped`` per statement left out."""
    parsed = [(cell, parse_cell(cell.source)) for cell in cells]
    trainers = find_trainers(tree for _, tree in parsed if tree is not None)
    tainted: dict[str, str] = {}  # a name -> where the skipped statement that makes it is
    pieces: list[CodeCell] = []
    skipped: list[Skipped] = []
    for cell, tree in parsed:
        if tree is None:  # a syntax error or a cell magic: run as written
            pieces.append(cell)
            continue
        plan = _Plan(cell, _unwrapped(cell.source).splitlines())
        for group in _groups(tree.body):
            first, last = _span(group[0])[0], max(_span(node)[1] for node in group)
            if all(_is_no_op(node) for node in group):
                continue  # nothing to run: a docstring, a pass
            if len(group) > 1:  # `loss = f(x); loss.backward()`: one line, one verdict
                reasons = [_skip_reason(node, trainers, tainted) for node in group]
                if any(reasons):
                    _skip(plan, group, next(r for r in reasons if r), tainted, top=True)
                    continue
            if _judge_all(plan, group, trainers, tainted, top=True):
                source = "\n" * (first - 1) + "\n".join(plan.lines[first - 1 : last])
                timed = None if all(_only_definitions(n) for n in group) else budget
                uses = frozenset().union(*(used_names(n) for n in group))
                makes = frozenset().union(*(assigned_names(n) for n in group))
                pieces.append(CodeCell(cell.position, source, first, timed, uses, makes))
        skipped += plan.skipped
    return pieces, skipped


def _judge_all(
    plan: _Plan, nodes: list[ast.stmt], trainers: Trainers, tainted: dict[str, str], top: bool
) -> bool:
    """Judge statements in order, editing out the ones to skip; False if they were all
    skipped as a whole (at the top level: nothing to run)."""
    keep = False
    for node in nodes:
        keep = _judge(plan, node, trainers, tainted, top) or keep
    return keep


def _judge(
    plan: _Plan, node: ast.stmt, trainers: Trainers, tainted: dict[str, str], top: bool
) -> bool:
    reason = _skip_reason(node, trainers, tainted)
    if reason:
        _skip(plan, [node], reason, tainted, top)
        return False
    if isinstance(node, _BLOCKS) and not _one_line(node):
        for body in _bodies(node):
            _judge_all(plan, body, trainers, tainted, top=False)
    else:  # it runs: the names it makes are real again
        for name in assigned_names(node):
            tainted.pop(name, None)
    return True


def _skip(
    plan: _Plan, nodes: list[ast.stmt], reason: str, tainted: dict[str, str], top: bool
) -> None:
    """List statements (one line's worth, or one) as skipped; the names they would have
    made are tainted. Inside a block they become ``pass``, keeping the block valid."""
    first, last = _span(nodes[0])[0], max(_span(node)[1] for node in nodes)
    text = plan.lines[first - 1].strip()
    plan.skipped.append(Skipped(plan.cell.position, first, text, reason, last))
    where = f"line {first} of cell {plan.cell.position}"
    for node in nodes:
        tainted.update(dict.fromkeys(assigned_names(node), where))
    if not top:
        indent = plan.lines[first - 1][: nodes[0].col_offset]
        plan.lines[first - 1 : last] = [indent + "pass"] + [""] * (last - first)


def _skip_reason(node: ast.stmt, trainers: Trainers, tainted: dict[str, str]) -> str:
    if isinstance(node, _DEFINITIONS):
        return ""
    header = _header(node)
    if trains(header, trainers):
        return REASON
    if downloads(header):
        return "downloads are not run while grading"
    missing = sorted(used_names(header) & tainted.keys())
    if missing:
        name = missing[0]
        return f"it uses `{name}`, which {tainted[name]} would have made (not run)"
    return ""


def _header(node: ast.stmt) -> ast.AST:
    """What a statement runs itself: a block's test or context managers (its body is
    judged statement by statement), or the whole statement."""
    if isinstance(node, ast.If) and not _one_line(node):
        return node.test
    if isinstance(node, ast.With | ast.AsyncWith) and not _one_line(node):
        return ast.Module(
            body=[ast.Expr(item.context_expr) for item in node.items], type_ignores=[]
        )
    if isinstance(node, ast.Try):
        return ast.Module(body=[], type_ignores=[])
    return node


def _bodies(node: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(node, ast.If):
        return [node.body, node.orelse]
    if isinstance(node, ast.Try):
        return [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
    assert isinstance(node, ast.With | ast.AsyncWith)
    return [node.body]


def _one_line(node: ast.stmt) -> bool:
    """``if x: train()``: the body shares the header's line, so it is judged as a whole."""
    body = getattr(node, "body", [])
    return bool(body) and body[0].lineno == node.lineno


def _only_definitions(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINITIONS) or _is_no_op(node):
        return True
    if isinstance(node, ast.If | ast.Try):
        return all(_only_definitions(n) for body in _bodies(node) for n in body)
    return False


def _is_no_op(node: ast.stmt) -> bool:
    return isinstance(node, ast.Pass) or (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    )


def _groups(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """Top-level statements, those sharing a line (``a = 1; b = 2``) kept together."""
    groups: list[list[ast.stmt]] = []
    for node in body:
        if groups and _span(node)[0] <= _span(groups[-1][-1])[1]:
            groups[-1].append(node)
        else:
            groups.append([node])
    return groups


def _span(node: ast.stmt) -> tuple[int, int]:
    """First and last line, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return first, node.end_lineno or node.lineno


def _unwrapped(source: str) -> str:
    """A ``%%capture`` cell as the code it wraps (its first line a ``pass``): the cell's
    output is not graded, and its code must be seen to be judged."""
    lines = source.splitlines()
    if lines and lines[0].strip().startswith("%%capture"):
        return "\n".join(["pass", *lines[1:]])
    return source


def parse_cell(source: str) -> ast.Module | None:
    """The cell as Python, magics turned into calls line for line; None if it is not
    (a syntax error, which the kernel reports, or a cell magic, which runs as written)."""
    source = _unwrapped(source)
    if not source.strip():
        return ast.Module(body=[], type_ignores=[])
    python = TransformerManager().transform_cell(source)
    if len(python.splitlines()) != len(source.splitlines()):
        return None
    try:
        return ast.parse(python)
    except SyntaxError:
        return None


def where_defined(
    cells: list[tuple[int, str, bool]], notes: list[Skipped]
) -> dict[str, Definition]:
    """For each global name the notebook binds, where: ``cells`` are (position, source,
    is a raw cell), code cells already neutralized. A code cell's binding wins over a raw
    cell's; a binding on a line that ``notes`` say was skipped says so."""
    found: dict[str, Definition] = {}
    for position, source, raw in cells:
        tree = parse_cell(source)
        if tree is None:
            continue
        for name, line in _bindings(tree.body):
            if raw:
                found.setdefault(
                    name,
                    Definition(
                        name,
                        position,
                        line,
                        f"in a raw cell (cell {position}), which Jupyter "
                        "does not run: make it a code cell",
                    ),
                )
                continue
            skip = next((n for n in notes if _covers(n, position, line)), None)
            not_run = (
                f"at line {line} of cell {position}, which was not run while grading: {skip.reason}"
                if skip
                else ""
            )
            if name not in found or found[name].not_run.startswith("in a raw cell"):
                found[name] = Definition(name, position, line, not_run)
    return found


def _bindings(body: list[ast.stmt]) -> list[tuple[str, int]]:
    """(name, line of the statement binding it), looking inside blocks and loops."""
    out: list[tuple[str, int]] = []
    for node in body:
        if isinstance(node, ast.If | ast.With | ast.AsyncWith | ast.Try | ast.For | ast.While):
            inner = [s for b in _all_bodies(node) for s in b]
            out += _bindings(inner)
        else:
            out += [(n, node.lineno) for n in assigned_names(node)]
    return out


def _all_bodies(node: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(node, ast.For | ast.While):
        return [node.body, node.orelse]
    return _bodies(node)


def _covers(note: Skipped, cell: int, line: int) -> bool:
    return note.cell == cell and note.line <= line <= max(note.line, note.last_line)
