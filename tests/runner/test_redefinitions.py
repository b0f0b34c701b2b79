"""A function or class that several cells define: the report says which definition the
checks graded (the last one that ran) and where the others are."""

from __future__ import annotations

from typing import Any

from grader._kernel import nngrade_kernel
from grader._kernel.nngrade_protocol import CellEventKind, Op
from grader.runner.cell_data import CodeCell
from grader.runner.cells import LiveNotebook
from grader.runner.kernel import CellRun, CellRunStatus
from grader.runner.limits import Limits

FIRST = "def backward_pass(x, y_true, params):\n    return {}\n"
AGAIN = (
    "import numpy as np\nif True:\n    def backward_pass(x, y_true, params):\n        return None\n"
)
CLASS = "class Net:\n    def forward(self, x):\n        return x\n"


class _Session:
    """Runs each cell in a plain namespace under a cell filename, as the kernel would; a
    cell whose position is in ``failing`` raises before it defines anything."""

    limits = Limits()
    generation = 1
    last_exit = None

    def __init__(self, failing: set[int]) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        self.execution_counts: dict[int, int] = {}
        self.failing = failing

    def execute(self, source: str, position: int, timeout: float | None = None) -> CellRun:
        count = len(self.execution_counts) + 1
        self.execution_counts[count] = position
        if position in self.failing or source.startswith("%"):  # IPython syntax: the kernel's
            return CellRun(CellRunStatus.ERROR, {"ename": "ValueError", "evalue": "early"})
        exec(compile(source, f"<cell {count}>", "exec"), self.namespace)
        return CellRun(CellRunStatus.OK)

    def found_dead(self) -> bool:
        return False

    def request(self, data: dict[str, Any], buffers: list[bytes], timeout: float) -> Any:
        def cell_of(filename: str) -> int | None:
            return int(filename[6:-1]) if filename.startswith("<cell ") else None

        return nngrade_kernel.handle(self.namespace, data, buffers, cell_of)


def events(sources: list[str], failing: frozenset[int] = frozenset()) -> dict[int, str]:
    cells = [CodeCell(position, source) for position, source in enumerate(sources, start=1)]
    notebook = LiveNotebook(_Session(set(failing)), cells, cell_timeout=1.0)  # type: ignore[arg-type]
    notebook.run()
    return {e.cell: e.summary for e in notebook.events if e.kind is CellEventKind.REDEFINED}


def test_the_last_definition_that_ran_is_named_and_the_others_located() -> None:
    assert events([FIRST, CLASS, AGAIN, CLASS]) == {
        3: "`backward_pass` is defined in cells 1 and 3; the checks grade the one in cell 3, "
        "the last one that ran",
        4: "`Net` is defined in cells 2 and 4; the checks grade the one in cell 4, the last "
        "one that ran",
    }


def test_a_later_definition_that_did_not_run_is_said_to_have_not_run() -> None:
    assert events([FIRST, AGAIN], failing=frozenset({2})) == {
        1: "`backward_pass` is defined in cells 1 and 2; the checks grade the one in cell 1, "
        "the last one that ran (the one in cell 2 did not run)"
    }


def test_one_definition_each_says_nothing_and_asks_nothing() -> None:
    asked: list[Any] = []
    session = _Session(set())

    def request(data: dict[str, Any], *rest: Any) -> Any:
        asked.append(data["op"])
        return {"status": "ok"}, []

    session.request = request  # type: ignore[method-assign]
    cells = [
        CodeCell(1, FIRST),
        CodeCell(2, CLASS),
        CodeCell(3, "%matplotlib inline\ndef f(): pass"),
    ]
    notebook = LiveNotebook(session, cells, cell_timeout=1.0)  # type: ignore[arg-type]
    notebook.run()
    assert Op.NAMES not in asked
    assert not [e for e in notebook.events if e.kind is CellEventKind.REDEFINED]
