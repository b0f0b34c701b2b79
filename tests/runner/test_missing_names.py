"""A name the checks need but the notebook lacks, explained by the cell that would have
defined it (no kernel: the live notebook's record of its cells, and the message a check
gets through a transport that can explain)."""

from __future__ import annotations

from typing import Any

from grader._kernel.nngrade_protocol import CellEventKind
from grader.checks.notebook import Notebook
from grader.runner.cell_data import CodeCell, Definition
from grader.runner.cells import LiveNotebook
from grader.runner.kernel import CellRun, CellRunStatus
from grader.runner.limits import Limits
from grader.runner.transport import InProcessTransport

SITES = {
    "sigmoid_grad": Definition("sigmoid_grad", 5, 3),
    "accuracy": Definition("accuracy", 7, 1, "in a raw cell (cell 7), which Jupyter does not run"),
}


def live(*failures: tuple[CodeCell, CellEventKind, str]) -> LiveNotebook:
    notebook = LiveNotebook(None, [], 1.0, definitions=SITES)  # type: ignore[arg-type]
    for cell, kind, summary in failures:
        notebook._record(cell, kind, summary)
    return notebook


def test_the_cell_that_raised_before_the_definition_is_named() -> None:
    notebook = live((CodeCell(5, "raise ValueError", 1), CellEventKind.ERROR, "ValueError: x"))
    assert notebook.explain_missing("sigmoid_grad") == (
        "`sigmoid_grad` would be defined by cell 5 (line 3), which raised ValueError."
    )
    assert notebook.explain_missing("accuracy") == (
        "`accuracy` is defined in a raw cell (cell 7), which Jupyter does not run."
    )
    assert notebook.explain_missing("relu") is None


def test_what_does_not_explain_a_missing_name_is_not_blamed() -> None:
    notebook = live(
        (CodeCell(5, "x", 1), CellEventKind.STAND_IN, "`torchvision` is not installed"),
        # A piece after the definition's line (definitions-only execution) failed.
        (CodeCell(5, "\n\n\n\nf()", 5), CellEventKind.ERROR, "NameError: f"),
    )
    assert notebook.explain_missing("sigmoid_grad") is None


class Explaining(InProcessTransport):
    def explain_missing(self, name: str) -> str | None:
        return f"`{name}` would be defined by cell 5 (line 3), which raised ValueError."


def test_the_check_message_carries_the_explanation() -> None:
    transport: Any = Explaining({})
    result = Notebook(transport).call("sigmoid_grad", 1.0)
    assert result.message == (
        "Your notebook does not define `sigmoid_grad` when it runs: `sigmoid_grad` would be "
        "defined by cell 5 (line 3), which raised ValueError."
    )
    plain = Notebook(InProcessTransport({})).call("sigmoid_grad", 1.0)
    assert plain.message == "Your notebook does not define a function named `sigmoid_grad`."


class Session:
    """Runs nothing: a piece whose source says `fail` raises, the others succeed."""

    limits = Limits()

    def __init__(self) -> None:
        self.ran: list[str] = []

    def execute(self, source: str, position: int, budget: float | None = None) -> CellRun:
        self.ran.append(source.strip())
        if "fail" in source:
            return CellRun(CellRunStatus.ERROR, {"ename": "NameError", "evalue": "fail"})
        return CellRun(CellRunStatus.OK)

    def found_dead(self) -> bool:
        return False


def test_a_piece_that_uses_what_a_failed_one_made_is_not_run() -> None:
    session = Session()
    pieces = [
        CodeCell(3, "path = fail()", 1, 10.0, frozenset({"fail"}), frozenset({"path"})),
        CodeCell(
            3, "\ndata = load(path)", 2, 10.0, frozenset({"load", "path"}), frozenset({"data"})
        ),
        CodeCell(3, "\n\nX = data + 1", 3, 10.0, frozenset({"data"}), frozenset({"X"})),
        CodeCell(4, "data = 2", 1, 10.0, frozenset(), frozenset({"data"})),
        CodeCell(4, "\nY = data", 2, 10.0, frozenset({"data"}), frozenset({"Y"})),
    ]
    notebook = LiveNotebook(session, pieces, 1.0)  # type: ignore[arg-type]
    notebook._run_cells()
    assert session.ran == ["path = fail()", "data = 2", "Y = data"]
    assert [(e.cell, e.kind, e.summary) for e in notebook.events] == [
        (3, CellEventKind.ERROR, "NameError: fail"),
        (
            3,
            CellEventKind.SKIPPED,
            "line 2 not run: it uses `path`, which line 1 of cell 3 would have made, "
            "but that line failed",
        ),
        (
            3,
            CellEventKind.SKIPPED,
            "line 3 not run: it uses `data`, which line 1 of cell 3 would have made, "
            "but that line failed",
        ),
    ]
