"""The student report's working parts: grouping by cause, the student's lines, clean text."""

from __future__ import annotations

import json
from pathlib import Path

from grader.checks._i18n import use_language
from grader.grading.results import CellEvent, CheckResult, SubmissionResult
from grader.outputs.code_lines import excerpts, relevant_lines
from grader.outputs.notebook_cells import cell_label, read_cells
from grader.outputs.report_view import build_view
from grader.outputs.student_text import clean_traceback, student_message, student_notes
from grader.outputs.values import array_picture, differences, inputs, reproduce_snippet

BACKWARD = """def backward_pass(x, y_true, params):
    m = x.shape[1]
    dS2 = params["A3"] - y_true
    grads = {}
    grads["dW3"] = np.dot(dS3, params["A2"].T) / m
    dA2 = np.dot(params["W3"].T, dS3)
    dS2 = dA2 * d_relu(params["S2"])
    grads["dW2"] = np.dot(dS2, params["A1"].T) / m
    grads["db2"] = np.sum(dS2, axis=1, keepdims=True) / m
    return grads"""

# Cells by position: a markdown cell first, so positions and code-cell numbers differ.
CELLS = [
    {"cell_type": "markdown", "source": "# Homework"},
    {"cell_type": "code", "execution_count": 3, "source": "import numpy as np"},
    {"cell_type": "markdown", "source": "## Backward"},
    {"cell_type": "code", "execution_count": 7, "source": BACKWARD.splitlines(keepends=True)},
    {"cell_type": "code", "execution_count": None, "source": "def ReLU(x):\n    return x"},
]

NAME_ERROR = (
    "backward_pass(x, y_true, params) raised an exception:\n"
    "NameError: name 'dS3' is not defined\n"
    '  cell 4, line 5, in backward_pass: grads["dW3"] = np.dot(dS3, params["A2"].T) / m\n'
    "`dS3` is read before any line of your function assigns it."
)
SHORT_NAME_ERROR = (
    "backward_pass(x, y_true, params) raised an exception: NameError: name 'dS3' is not "
    "defined. The check “test_gradient[dW3] check” explains it in full."
)
LAYER = (
    "dW3 and db3 are right but dW2 and db2 are wrong: the error enters in the step back. "
    "Look at the activation derivative, dS2 = dA2 * d_sigmoid(S2)."
)


def gradient_message(key: str, size: int) -> str:
    return (
        f'backward_pass(x, y_true, params)["{key}"] for a batch of m = 1 returned wrong values: '
        f"{size} of {size} elements differ; the largest difference is 0.5 at index (1, 0): "
        "expected 0.25, got 0.75.\nFor example:\n  at index (0, 0): expected 0.1, got 0.4\n"
        f"{LAYER}"
    )


def notebook(tmp_path: Path) -> Path:
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps({"cells": CELLS, "nbformat": 4, "nbformat_minor": 5}))
    return path


def failed(name: str, message: str, points: float = 2.0, **extra: object) -> CheckResult:
    return CheckResult(name, f"{name} check", 0.0, points, False, message, **extra)  # type: ignore[arg-type]


def result_with(path: Path, checks: list[CheckResult]) -> SubmissionResult:
    return SubmissionResult(
        "s", "hw.ipynb", str(path), "backprop", "graded", checks=checks, max_score=10.0
    )


# --- cells as the student sees them -----------------------------------------------------------


def test_cells_are_named_by_execution_count_and_first_line(tmp_path: Path) -> None:
    cells = read_cells(notebook(tmp_path))
    assert sorted(cells) == [2, 4, 5]  # positions, markdown counted, as results count
    assert cell_label(4, cells) == "cell [7] (`def backward_pass(x, y_true, params):`)"
    assert cell_label(5, cells) == "code cell 3 (`def ReLU(x):`)"  # never run: no count
    assert cell_label(9, {}, "x = 1") == "the cell that starts with `x = 1`"
    assert read_cells(tmp_path / "missing.ipynb") == {}


def test_messages_name_cells_the_students_way(tmp_path: Path) -> None:
    cells = read_cells(notebook(tmp_path))
    text = student_message("cell 4, line 5, in backward_pass", cells)
    assert text == "cell [7] (`def backward_pass(x, y_true, params):`), line 5, in backward_pass"
    assert student_message("defined in cells 2 and 4", cells) == "defined in cells [3] and [7]"


def test_a_korean_page_names_the_raising_cell_and_finds_its_line(tmp_path: Path) -> None:
    # Messages locate a raising line as "cell N, line M" in every language (runner/cells.py
    # describe_cell); the page turns it into the student's name for the cell, in Korean.
    cells = read_cells(notebook(tmp_path))
    with use_language("ko"):
        text = student_message("cell 4, line 5, in backward_pass", cells)
        assert text.startswith("셀 [7] (`def backward_pass(x, y_true, params):`), line 5")
        assert relevant_lines(NAME_ERROR, cells) == {4: {3, 5}}


# --- the student's own lines -------------------------------------------------------------------


def test_name_error_highlights_the_raising_line_and_the_look_alike(tmp_path: Path) -> None:
    cells = read_cells(notebook(tmp_path))
    # Line 5 reads dS3; line 3 assigns the look-alike dS2 (line 7, after it, is not the one).
    assert relevant_lines(NAME_ERROR, cells) == {4: {3, 5}}


def test_wrong_gradient_highlights_the_line_that_computes_it(tmp_path: Path) -> None:
    cells = read_cells(notebook(tmp_path))
    found = relevant_lines(gradient_message("db2", 4), cells)
    # The assignment to grads["db2"], and dS2 = ..., which the diagnosis names by formula.
    assert found == {4: {7, 9}}
    shown = excerpts(found, cells)[0]
    marked = [line.number for line in shown.lines if line is not None and line.highlighted]
    assert marked == [7, 9]
    assert shown.label.startswith("cell [7]")


def test_misspelled_function_highlights_the_suggested_definition(tmp_path: Path) -> None:
    cells = read_cells(notebook(tmp_path))
    message = "Your notebook does not define a function named `relu`. Did you mean `ReLU`?"
    assert relevant_lines(message, cells) == {5: {1}}


def test_a_function_that_does_the_wrong_thing_is_shown_from_its_def(tmp_path: Path) -> None:
    cells = read_cells(notebook(tmp_path))
    wrong_value = "backward_pass(x, y_true, params) returned 3; expected 4."
    assert relevant_lines(wrong_value, cells) == {4: {10}}  # its return statement
    wrong_act = "backward_pass(x, y_true, params) called optimizer.step() 0 times."
    assert relevant_lines(wrong_act, cells) == {4: {1}}  # not its return: its def


def test_long_cells_are_cut_around_the_highlight(tmp_path: Path) -> None:
    long = [f"x{n} = {n}" for n in range(1, 61)]
    cells_json = [{"cell_type": "code", "execution_count": 1, "source": "\n".join(long)}]
    path = tmp_path / "long.ipynb"
    path.write_text(json.dumps({"cells": cells_json}))
    cells = read_cells(path)
    shown = excerpts({1: {30}}, cells)[0].lines
    numbers = [line.number for line in shown if line is not None]
    assert numbers == list(range(27, 34))
    assert shown[0] is None and shown[-1] is None  # "…" before and after


# --- grouping by root cause --------------------------------------------------------------------


def test_one_cause_is_one_entry_ordered_by_points(tmp_path: Path) -> None:
    path = notebook(tmp_path)
    checks = [
        failed("test_gradient[dW3]", NAME_ERROR),
        failed("test_small", "relu(x) returned 1.0; expected 0.0.", points=1.0),
        failed("test_gradient[db3]", SHORT_NAME_ERROR),
        failed("test_gradient[dW2]", gradient_message("dW2", 6), points=3.0),
        failed("test_gradient[db2]", gradient_message("db2", 4), points=3.0),
        CheckResult("test_ok", "ok", 1.0, 1.0, True),
    ]
    view = build_view(result_with(path, checks))
    assert [len(fix.checks) for fix in view.fixes] == [2, 2, 1]
    assert [fix.points_lost for fix in view.fixes] == [6.0, 4.0, 1.0]
    layer = view.fixes[0]
    assert layer.headline.startswith("dW3 and db3 are right but dW2 and db2 are wrong")
    assert view.failed_count == 5 and view.total_checks == 6
    # No message twice: the rows add only their own numbers to the entry.
    rows = {row.check.name: row for row in view.problems}
    assert LAYER not in rows["test_gradient[db2]"].text
    assert "4 of 4 elements differ" in rows["test_gradient[db2]"].text
    assert rows["test_gradient[db3]"].text == "" and rows["test_gradient[db3]"].fix == 2
    assert view.fixes[1].also == []  # the same error everywhere: nothing else to say
    assert [row.check.name for row in view.passed] == ["test_ok"]


def test_a_cause_named_by_the_check_groups_its_failures(tmp_path: Path) -> None:
    counted = (
        'No points lost: the same mistake (batch-size factor) was already counted under "a".\n'
        "Every value is 7 times the expected one."
    )
    checks = [
        failed("a", "Every value is 7 times the expected one.", cause="batch-size factor"),
        CheckResult("b", "b", 2.0, 2.0, False, counted, cause="batch-size factor"),
        failed("c", "Not judged because relu(...) is wrong", outcome="not_judged"),
        failed("d", "relu(x) returned 1.0; expected 0.0."),
    ]
    view = build_view(result_with(notebook(tmp_path), checks))
    assert [[c.name for c in fix.checks] for fix in view.fixes] == [["d", "c"], ["a", "b"]]
    assert view.fixes[1].points_lost == 2.0  # b kept its points
    assert view.fixes[1].diagnosis == "Every value is 7 times the expected one."


def test_same_raising_line_groups_different_errors(tmp_path: Path) -> None:
    def raised(error: str) -> str:
        return f"relu(x) raised an exception:\n{error}\n  cell 2, line 1, in relu: import numpy"

    checks = [failed("a", raised("TypeError: one")), failed("b", raised("ValueError: two"))]
    view = build_view(result_with(notebook(tmp_path), checks))
    assert len(view.fixes) == 1
    assert view.fixes[0].also == ["ValueError: two"] or view.fixes[0].also == ["TypeError: one"]


# --- values, snippet -------------------------------------------------------------------------


def test_values_and_a_call_to_paste_come_from_the_message() -> None:
    message = "bce_loss(y_hat, y) returned nan for y_hat = [0.0, 1.0] and y = [1.0, 0.0]; bad."
    assert inputs(message) == {"y_hat": "[0.0, 1.0]", "y": "[1.0, 0.0]"}
    assert reproduce_snippet(message) == (
        "import numpy as np\ny_hat = np.array([0.0, 1.0])\ny = np.array([1.0, 0.0])\n"
        "print(bce_loss(y_hat, y))"
    )
    # A batch size is not an argument, and random inputs are not in the message: no snippet.
    assert inputs(gradient_message("dW2", 6)) == {}
    assert reproduce_snippet(gradient_message("dW2", 6)) == ""
    rows = differences(gradient_message("dW2", 6))
    assert [(r.where, r.expected, r.got) for r in rows] == [
        ("index (1, 0)", "0.25", "0.75"),
        ("index (0, 0)", "0.1", "0.4"),
    ]


def test_two_small_matrices_get_a_picture() -> None:
    svg = array_picture("[[1, 2], [3, 4]]", "[[1, 2], [3, 5]]")
    assert svg.startswith("<svg") and svg.count("<rect") == 12
    assert array_picture("[1, 2]", "[1, 3]") == ""  # 1-D: the table says it all
    assert array_picture("[[1, 2]]", "[[1], [2]]") == ""


# --- no grader internals -----------------------------------------------------------------------

IPYTHON_TRACEBACK = """---------------------------------------------------------------------------
ModuleNotFoundError                       Traceback (most recent call last)
Cell In[12], line 2
      1 import numpy as np
----> 2 dA2 = np.dot(params["W3"].T, dS3)

File /work/grader/_kernel/nngrade_stand_ins.py:41, in _StandIn.__getattr__(self, name)
     39 def __getattr__(self, name):
     40     message = f"{self._name} is not installed"
---> 41     raise ModuleNotFoundError(message)

ModuleNotFoundError: fastai is not installed (2511288192.py, line 2)"""


def test_tracebacks_keep_only_the_students_frames(tmp_path: Path) -> None:
    cells = read_cells(notebook(tmp_path))
    cleaned = clean_traceback(IPYTHON_TRACEBACK, cells)
    assert "nngrade_stand_ins" not in cleaned and "_StandIn" not in cleaned
    assert "In[12]" not in cleaned and "2511288192" not in cleaned
    assert "------" not in cleaned
    # Line 2 of this traceback is not line 2 of any cell here: said without a guess.
    assert cleaned.startswith("ModuleNotFoundError")
    assert "In your cell, line 2" in cleaned
    assert "library code are left out" in cleaned
    assert cleaned.endswith("ModuleNotFoundError: fastai is not installed (line 2 of the cell)")


def test_a_frame_is_matched_to_its_cell_by_content(tmp_path: Path) -> None:
    cells = read_cells(notebook(tmp_path))
    text = 'Cell In[40], line 6\n----> 6     dA2 = np.dot(params["W3"].T, dS3)\n\nNameError: x'
    assert clean_traceback(text, cells).startswith("In cell [7] (`def backward_pass")


def test_grader_words_are_rewritten_and_the_sandbox_note_left_out() -> None:
    text = (
        "relu(x) returned something nngrade cannot read: a value of type generator cannot be "
        "sent as data."
    )
    rewritten = student_message(text, {})
    assert "sent as data" not in rewritten
    assert "a value of type generator, which the checks cannot compare" in rewritten
    notes = ["The sandbox was off (bwrap missing): ...", "Your notebook has no code."]
    assert student_notes(notes) == ["Your notebook has no code."]


def test_cell_events_are_grouped_per_cell_with_their_line(tmp_path: Path) -> None:
    path = notebook(tmp_path)
    result = result_with(path, [])
    result.cells = [
        CellEvent(2, "skipped", "line 1 not run: shell commands", "!pip x", "!pip x", line=1),
        CellEvent(
            2,
            "skipped",
            "line 2 not run: it uses `p`, which line 1 of cell 2 would have made",
            "",
            "",
            line=2,
        ),
        CellEvent(4, "error", "NameError: name 'dS3' is not defined", IPYTHON_TRACEBACK, "", 6),
    ]
    items = build_view(result).cells
    assert len(items) == 2  # one item per cell, however many events it had
    assert items[0].label == "cell [3] (`import numpy as np`)"
    assert items[0].lines == [
        "Line 1 skipped while grading: shell commands",
        "Line 2 skipped while grading: it uses `p`, which line 1 of this cell would have made",
    ]
    assert not items[0].serious and items[1].serious
    assert items[1].code is not None
    assert [n.number for n in items[1].code.lines if n is not None and n.highlighted] == [6]
    assert "nngrade_stand_ins" not in items[1].details[0]
