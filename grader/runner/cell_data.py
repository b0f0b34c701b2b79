"""What the runner works on and records: code cells, where names are defined, cell events."""

from __future__ import annotations

from dataclasses import dataclass

from grader._kernel.nngrade_protocol import CellEventKind

__all__ = ["CellEvent", "CodeCell", "Definition"]


@dataclass
class CellEvent:
    """A cell that did not simply run: it raised, timed out, killed the kernel or was skipped."""

    cell: int  # 1-based position in the notebook
    # Read back from JSON, the plain string (equal to the member; another version's kind is
    # kept as written, and reports show it as it is).
    kind: CellEventKind
    summary: str  # one line for tables
    detail: str = ""  # traceback lines, skipped text, ...
    source_head: str = ""  # the cell's first line, to help find it
    # The 1-based line of the cell the event is about (the line that raised, the line not
    # run); 0 for the whole cell or when it is not known. Reports quote it from the source.
    line: int = 0


@dataclass(frozen=True)
class CodeCell:
    position: int  # 1-based position in the notebook, as the student counts cells
    source: str  # after neutralization
    # A piece of a cell (definitions-only execution runs one statement at a time): the
    # line it starts on, and a time budget shorter than the cell timeout (None: that).
    first_line: int = 1
    budget: float | None = None
    # The global names a piece reads and makes: a piece that reads what a failed one
    # would have made is not run (one error, not a NameError per line after it).
    uses: frozenset[str] = frozenset()
    makes: frozenset[str] = frozenset()

    @property
    def head(self) -> str:
        first = next((line for line in self.source.splitlines() if line.strip()), "")
        return first.strip()[:80]


@dataclass(frozen=True)
class Definition:
    """Where a notebook binds a global name, to explain why a check did not find it."""

    name: str
    cell: int  # 1-based position in the notebook
    line: int
    # Why that line never ran, when it is known before running: a raw cell, a skipped line.
    not_run: str = ""
