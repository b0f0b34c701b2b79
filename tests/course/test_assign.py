"""``nngrade assign``: the template made from a solution notebook (contracts A)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.course.assign import AssignError, make_template, stub, template_bytes
from grader.grading.assignment import Assignment
from grader.grading.discovery import METADATA_KEY, student_version

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"


def notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=list(cells))
    for position, cell in enumerate(nb.cells, start=1):
        cell["id"] = f"c{position}"
    return nb


def code(source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.execution_count = 7
    cell.outputs = [nbformat.v4.new_output("stream", text="the solution's output\n")]
    return cell


def md(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(source)


def sources(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells]


def test_a_region_becomes_a_stub_at_its_indentation_named_after_its_function() -> None:
    nb = notebook(
        code(
            "import numpy as np\n\ndef relu(x):\n    # BEGIN SOLUTION\n"
            "    return np.maximum(x, 0)\n    # END SOLUTION\n\nprint('kept')"
        )
    )
    assert sources(make_template(nb, None)) == [
        "import numpy as np\n\ndef relu(x):\n"
        "    raise NotImplementedError(\"Write your code here: relu\")\n\nprint('kept')"
    ]


def test_a_region_in_a_method_is_named_with_its_class() -> None:
    nb = notebook(
        code(
            "class MyReLU(torch.autograd.Function):\n    @staticmethod\n"
            "    def forward(ctx, x):\n        # BEGIN SOLUTION\n"
            "        ctx.save_for_backward(x)\n"
            "        return x.clamp(min=0)\n        # END SOLUTION\n\n    @staticmethod\n"
            "    def backward(ctx, g):\n        # BEGIN SOLUTION\n"
            "        (x,) = ctx.saved_tensors\n"
            "        return g * (x > 0)\n        # END SOLUTION"
        )
    )
    lines = make_template(nb, None).cells[0].source.splitlines()
    assert lines[3] == '        raise NotImplementedError("Write your code here: MyReLU.forward")'
    assert lines[-1] == '        raise NotImplementedError("Write your code here: MyReLU.backward")'
    assert "saved_tensors" not in "\n".join(lines)


def test_a_whole_solution_cell_becomes_one_stub() -> None:
    nb = notebook(
        code("# SOLUTION\ndef d_relu(x):\n    return (x > 0) * 1.0"),
        code("# SOLUTION\nw -= lr * g"),
    )
    assert sources(make_template(nb, None)) == [stub("", "d_relu"), stub("", "cell 2")]


def test_the_stub_fails_clearly_when_run() -> None:
    nb = notebook(code("def f(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION"))
    namespace: dict[str, object] = {}
    exec(make_template(nb, None).cells[0].source, namespace)  # noqa: S102 - our own text
    with pytest.raises(NotImplementedError, match="Write your code here: f"):
        namespace["f"](1)  # type: ignore[operator]


def test_markdown_is_kept_and_outputs_cleared() -> None:
    nb = notebook(md("# Title\n\nDo this."), code("x = 1\nprint(x)"))
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-01-01"}
    template = make_template(nb, None)
    assert sources(template) == ["# Title\n\nDo this.", "x = 1\nprint(x)"]
    assert template.cells[1].outputs == [] and template.cells[1].execution_count is None
    assert "execution" not in template.cells[1].metadata
    assert nb.cells[1].outputs  # the solution itself is left alone


def test_a_written_answer_becomes_a_question_with_its_prompt() -> None:
    nb = notebook(
        md("Why does ReLU's gradient vanish for x < 0?"),
        md("<!-- ANSWER id=why-zero points=2 -->\nBecause its slope there is 0."),
        md("<!-- ANSWER id=first points=0.5 -->\nno prompt above"),
    )
    nb.cells.insert(0, nb.cells.pop(2))  # an answer cell first: its prompt is ''
    template = make_template(nb, None)
    first, _, second = template.cells
    assert second.source == "YOUR ANSWER HERE"
    assert second.metadata[METADATA_KEY] == {
        "answer": {
            "id": "why-zero",
            "points": 2,
            "prompt": "Why does ReLU's gradient vanish for x < 0?",
        }
    }
    assert first.metadata[METADATA_KEY]["answer"] == {"id": "first", "points": 0.5, "prompt": ""}
    assert "slope there is 0" not in json.dumps(template)


def test_a_model_answer_above_an_answer_is_never_its_prompt() -> None:
    nb = notebook(
        md("Two questions."),
        md("<!-- ANSWER id=a points=1 -->\nMODEL ANSWER A"),
        md("<!-- ANSWER id=b points=1 -->\nMODEL ANSWER B"),
    )
    nb.metadata["widgets"] = {"state": "MODEL ANSWER C"}
    template = make_template(nb, None)
    assert template.cells[2].metadata[METADATA_KEY]["answer"]["prompt"] == ""
    assert "MODEL ANSWER" not in json.dumps(template)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1", "BEGIN SOLUTION without # END SOLUTION"),
        ("def f():\n    return 1\n    # END SOLUTION", "END SOLUTION without # BEGIN SOLUTION"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside another region"),
        ("x = 1\n# SOLUTION\ny = 2", "must be its first line"),
    ],
)
def test_malformed_markers_are_errors_naming_the_cell_and_line(source: str, words: str) -> None:
    with pytest.raises(AssignError, match=words) as caught:
        make_template(notebook(md("intro"), code(source)), None)
    assert str(caught.value).startswith("cell 2, line ")


def test_a_malformed_answer_marker_is_an_error() -> None:
    with pytest.raises(AssignError, match="ANSWER id=ID points=N"):
        make_template(notebook(md("<!-- ANSWER points=2 -->\nx")), None)


def test_the_template_is_stamped_and_byte_for_byte_reproducible(tmp_path: Path) -> None:
    assignment = Assignment.load(ASSIGNMENTS / "relu")
    nb = notebook(
        md("intro"), code("def relu(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION")
    )
    path = tmp_path / "solution.ipynb"
    nbformat.write(nb, path)
    first, second = template_bytes(path, assignment), template_bytes(path, assignment)
    assert first == second
    stamp = json.loads(first)["metadata"][METADATA_KEY]
    assert stamp["assignment"] == "relu"
    assert stamp["version"] == student_version(assignment)
    assert stamp["requires"] == assignment.requires


def test_cells_without_ids_get_ids_from_their_positions(tmp_path: Path) -> None:
    """nbformat would give them random ids, and the template would differ on each run."""
    nb = notebook(md("intro"), code("x = 1"))
    nb.nbformat_minor = 5
    data = json.loads(nbformat.writes(nb))
    for cell in data["cells"]:
        del cell["id"]
    path = tmp_path / "solution.ipynb"
    path.write_text(json.dumps(data), encoding="utf-8")
    template = json.loads(template_bytes(path, None))
    assert [cell["id"] for cell in template["cells"]] == ["cell-1", "cell-2"]
    assert template_bytes(path, None) == template_bytes(path, None)
