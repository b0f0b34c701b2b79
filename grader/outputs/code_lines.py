"""Which lines of the student's own code a failure is about, found from the notebook's source.

A report quotes the student's code with the relevant lines highlighted: the line that
raised (messages cite "cell N, line L"); for a NameError also the line that assigns the
look-alike name (`dS2 = ...` where `dS3` is read); for a wrong value the line that computes
it (`grads["dW2"] = ...` in the function the check called); for a misspelled function the
`def` of the name the message suggests.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from grader.outputs.notebook_cells import NotebookCell, cell_label

__all__ = ["CodeLine", "Excerpt", "excerpts", "relevant_lines"]

_RAISED_AT = re.compile(r"\bcell (\d+), line (\d+)\b")
_UNDEFINED = re.compile(r"name '(\w+)' is not defined")
_DID_YOU_MEAN = re.compile(r"Did you mean `(\w+)`")
_CALLED = re.compile(r"^\s*(?:[\w.]+\.)?(\w+)\(")  # "backward_pass(x, ...)" at a message's start
_RETURNED = re.compile(r"^\s*[\w.]+\([^)]*\)(?:\[[^\]]*\])?\s+(?:for [^;]*\s)?returned\b")
_KEY = re.compile(r"\[\s*[\"'](\w+)[\"']\s*\]")  # ["dW2"]
_COMPUTES = re.compile(r"the line that computes (\w+)")
_NAMED_LINE = re.compile(r"\b([A-Za-z_]\w+) = (?!\d)")  # "Look at ..., dS2 = dA2 * ..."
_ASSIGNED = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:[-+*/@]|//)?=(?!=)")
_CONTEXT = 3  # lines shown around a highlighted one
_MAX_LINES = 24  # an excerpt longer than this keeps only the windows around its highlights


@dataclass(frozen=True)
class CodeLine:
    number: int  # 1-based within the cell
    text: str
    highlighted: bool


@dataclass(frozen=True)
class Excerpt:
    label: str  # "cell [7] (`def relu(x):`)"
    lines: tuple[CodeLine | None, ...]  # None: lines left out


def relevant_lines(message: str, cells: dict[int, NotebookCell]) -> dict[int, set[int]]:
    """Cell position -> the 1-based lines a failure message is about."""
    found: dict[int, set[int]] = {}

    def add(position: int, line: int) -> None:
        cell = cells.get(position)
        if cell is not None and 1 <= line <= len(cell.lines):
            found.setdefault(position, set()).add(line)

    raised = [(int(c), int(n)) for c, n in _RAISED_AT.findall(message)]
    for position, line in raised:
        add(position, line)
    undefined = _UNDEFINED.search(message)
    if undefined:
        # The look-alike is assigned near where the name is read: the same cell first.
        where = raised[-1:] or [(p, 0) for p in cells]
        for position, at in where:
            lines = _look_alike_assignments(undefined.group(1), cells.get(position))
            # The look-alike assigned before the line that reads the name is the one meant.
            before = [line for line in lines if line < at]
            for line in before or lines:
                add(position, line)
    suggested = _DID_YOU_MEAN.search(message)
    if suggested:
        for position, line in _definitions(suggested.group(1), cells):
            add(position, line)
    if not raised and not suggested:
        for position, line in _computing_lines(message, cells):
            add(position, line)
    return found


def _look_alike_assignments(name: str, cell: NotebookCell | None) -> list[int]:
    if cell is None:
        return []
    assigned = {
        number: match.group(1)
        for number, text in enumerate(cell.lines, start=1)
        if (match := _ASSIGNED.match(text))
    }
    close = set(difflib.get_close_matches(name, set(assigned.values()) - {name}, n=3, cutoff=0.6))
    return [number for number, target in assigned.items() if target in close]


def _definitions(name: str, cells: dict[int, NotebookCell]) -> list[tuple[int, int]]:
    pattern = re.compile(rf"^\s*(?:def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*=")
    return [
        (position, number)
        for position, cell in cells.items()
        for number, text in enumerate(cell.lines, start=1)
        if pattern.match(text)
    ]


def _computing_lines(message: str, cells: dict[int, NotebookCell]) -> list[tuple[int, int]]:
    """For a wrong value: the lines of the called function that compute it (the assignment
    to the returned key, or its return statements when it returns one value)."""
    called = _CALLED.match(message)
    if called is None:
        return []
    function = called.group(1)
    head = message.split("\n", 1)[0]
    key_match = _KEY.search(head) or _COMPUTES.search(message)
    key = key_match.group(1) if key_match else None
    _, _, rest = message.partition("\n")
    named = set(_NAMED_LINE.findall(rest))
    found = []
    for position, cell in cells.items():
        body = _function_body(function, cell)
        if not body:
            continue
        if key:
            target = re.compile(
                rf"""(\[\s*["']{key}["']\s*\]\s*=(?!=))|(^\s*{key}\s*=(?!=))|(["']{key}["']\s*:)"""
            )
            hits = [n for n in body if target.search(cell.lines[n - 1])]
        elif _RETURNED.match(head):  # the value it returns is wrong: where it returns
            hits = [n for n in body if re.match(r"\s*return\b", cell.lines[n - 1])]
        else:  # what it does is wrong (zero_grad never called): the function it is in
            hits = [body[0]]
        # The lines the diagnosis points at by their formula ("dS2 = dA2 * ..."): of each
        # name, the last assignment before the value's own line (the one that feeds it).
        until = min(hits, default=body[-1])
        last: dict[str, int] = {}
        for n in body:
            assigned = _ASSIGNED.match(cell.lines[n - 1])
            if assigned and assigned.group(1) in named and n <= until:
                last[assigned.group(1)] = n
        hits += last.values()
        found += [(position, n) for n in hits]
    return found


def _function_body(function: str, cell: NotebookCell) -> list[int]:
    """The line numbers of ``def function`` in this cell, its own line included."""
    lines = cell.lines
    for number, text in enumerate(lines, start=1):
        match = re.match(rf"^(\s*)def\s+{re.escape(function)}\s*\(", text)
        if not match:
            continue
        indent = len(match.group(1))
        body = [number]
        for later in range(number + 1, len(lines) + 1):
            line = lines[later - 1]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(later)
        return body
    return []


def excerpts(found: dict[int, set[int]], cells: dict[int, NotebookCell]) -> list[Excerpt]:
    """The cells with highlighted lines, each cut to the lines around its highlights."""
    shown = []
    for position in sorted(found):
        cell = cells[position]
        marked = found[position]
        total = len(cell.lines)
        if total <= _MAX_LINES:
            keep = set(range(1, total + 1))
        else:
            keep = {
                n
                for line in marked
                for n in range(line - _CONTEXT, line + _CONTEXT + 1)
                if 1 <= n <= total
            }
        lines: list[CodeLine | None] = []
        for number in range(1, total + 1):
            if number in keep:
                lines.append(CodeLine(number, cell.lines[number - 1], number in marked))
            elif not lines or lines[-1] is not None:
                lines.append(None)
        shown.append(Excerpt(cell_label(position, cells), tuple(lines)))
    return shown
