"""What the report says about an import that got a stand-in: a module missing from a package
that is there (``common.layers`` beside the assignment's ``common``), and the NameErrors a
``from x import *`` that imported nothing causes later."""

from __future__ import annotations

from typing import Any

from grader._kernel.nngrade_protocol import CellEventKind, Op, StandIn
from grader.checks.notebook import Notebook
from grader.runner.cell_data import CodeCell
from grader.runner.cells import LiveNotebook
from grader.runner.kernel import CellRun, CellRunStatus
from grader.runner.limits import Limits

STAR = {
    "module": "common.layers",
    "within": "common",
    "execution_count": 2,
    "lineno": 3,
    "line": "from common.layers import *",
}
CELLS = [
    CodeCell(1, "import numpy as np"),
    CodeCell(2, "import sys\nsys.path.append('..')\nfrom common.layers import *"),
    CodeCell(3, "layer = Affine(np.ones((2, 2)), np.zeros(2))"),
    CodeCell(4, "print(undefined_thing)"),
]
ERRORS = {
    3: {"ename": "NameError", "evalue": "name 'Affine' is not defined"},
    4: {"ename": "NameError", "evalue": "name 'undefined_thing' is not defined"},
}


class _Session:
    """Runs nothing: cells 3 and 4 raise NameError, and the helper recorded STAR."""

    limits = Limits()
    execution_counts = {1: 1, 2: 2, 3: 3, 4: 4}
    generation = 1
    last_exit = None

    def __init__(self, stand_ins: list[dict[str, Any]]) -> None:
        self.stand_ins = stand_ins

    def execute(self, source: str, position: int, timeout: float | None = None) -> CellRun:
        if position in ERRORS:
            return CellRun(CellRunStatus.ERROR, ERRORS[position])
        return CellRun(CellRunStatus.OK)

    def found_dead(self) -> bool:
        return False

    def request(self, data: dict[str, Any], buffers: list[bytes], timeout: float) -> Any:
        if data["op"] == Op.STAND_INS:
            return {"id": data["id"], "status": "ok", "stand_ins": self.stand_ins}, []
        if data["op"] == Op.CALL and data["name"] == "make_net":
            error = {"ename": "NameError", "evalue": "name 'Affine' is not defined", "frames": []}
            return {"id": data["id"], "status": "raised", "error": error}, []
        if data["op"] == Op.CALL:
            return {"id": data["id"], "status": "missing", "missing": data["name"]}, []
        return {"id": data["id"], "status": "ok"}, []


def ran(stand_ins: list[dict[str, Any]]) -> LiveNotebook:
    notebook = LiveNotebook(_Session(stand_ins), CELLS, cell_timeout=1.0)  # type: ignore[arg-type]
    notebook.run()
    return notebook


def test_a_module_missing_from_a_package_that_is_there_is_not_called_uninstalled() -> None:
    events = {(e.cell, e.kind): e for e in ran([STAR]).events}
    stand_in = events[(2, CellEventKind.STAND_IN)]
    assert stand_in.summary == (
        "line 3: `common.layers` does not exist where notebooks are graded (`common` is there, "
        "but has no module `layers`); the import was replaced by an empty stand-in"
    )
    assert "`from common.layers import *` imported nothing" in stand_in.detail


def test_the_name_errors_it_causes_are_linked_to_it() -> None:
    events = {(e.cell, e.kind): e for e in ran([STAR]).events}
    assert events[(3, CellEventKind.ERROR)].summary == (
        "`Affine` is not defined: it would have come from `from common.layers import *` in "
        "cell 2, which imported nothing because `common.layers` does not exist where notebooks "
        "are graded (`common` is there, but has no module `layers`)"
    )


def test_without_a_star_import_a_name_error_is_left_as_it_is() -> None:
    plain = {**STAR, "line": "from common.layers import Affine"}
    events = {(e.cell, e.kind): e for e in ran([plain]).events}
    assert events[(3, CellEventKind.ERROR)].summary == "NameError: name 'Affine' is not defined"


def test_a_check_that_misses_the_name_says_where_it_would_have_come_from() -> None:
    notebook = Notebook(ran([STAR]))
    message = notebook.call("Affine", 1).message
    assert message.startswith("Your notebook does not define a function named `Affine`.")
    assert message.endswith(
        "\n`Affine` is not defined: it would have come from `from common.layers import *` in "
        "cell 2, which imported nothing because `common.layers` does not exist where notebooks "
        "are graded (`common` is there, but has no module `layers`)."
    )


def test_a_name_error_raised_in_a_call_says_where_the_name_would_have_come_from() -> None:
    message = Notebook(ran([STAR])).call("make_net").message
    assert message.startswith("make_net() raised an exception:\nNameError: name 'Affine'")
    assert message.endswith(
        "in cell 2, which imported nothing because `common.layers` does not "
        "exist where notebooks are graded (`common` is there, but has no module `layers`)."
    )


def test_an_uninstalled_package_is_still_named_as_such() -> None:
    record = StandIn("torchvision", 1, 2)
    from grader.runner.cell_words import missing_module

    assert missing_module(record) == "`torchvision` is not installed where notebooks are graded"
