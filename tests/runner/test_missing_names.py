"""A name the checks need but the notebook lacks, explained by the cell that would have
defined it (no kernel: the live notebook's record of its cells, and the message a check
gets through a transport that can explain)."""

from __future__ import annotations

from typing import Any

from grader._kernel.nngrade_protocol import CellEventKind
from grader.checks.notebook import Notebook
from grader.runner.cells import CodeCell, Definition, LiveNotebook
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
