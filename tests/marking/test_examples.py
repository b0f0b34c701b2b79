"""The relu examples graded for real: their written answers collected, marked, exported."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from grader.batch.executor import LocalExecutor
from grader.batch.grade import grade_into
from grader.batch.gradebook import Gradebook
from grader.batch.out_folder import export_outputs
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from tests.conftest import CELL_TIMEOUT, RELU, ROOT

EXAMPLES = ROOT / "examples" / "relu"


@pytest.mark.kernel
def test_the_relu_examples_answers_are_collected_and_their_marks_exported(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("correct", "colab", "d_relu_inplace", "misnamed"):
        shutil.copy(EXAMPLES / f"{name}.ipynb", folder)
    out = tmp_path / "out"
    options = GradingOptions(cell_timeout=CELL_TIMEOUT, sandbox="none")
    run = grade_into(Assignment.load(RELU), [folder], out, options, executor=LocalExecutor(2))
    auto = {r.id: r.score for r in run.results}
    with Gradebook(out / "gradebook.sqlite") as book:
        states = {a["submission"]: a["state"] for a in book.marks.answers("relu_zero")}
        # By the cell's id; by the prompt (Colab dropped the metadata); left as the template
        # had it; no answer cell at all.
        assert states == {
            "correct": "answered",
            "colab": "answered",
            "d_relu_inplace": "unchanged",
            "misnamed": "missing",
        }
        full = book.marks.items("relu_zero")[0]
        book.marks.set_mark(["correct", "colab"], "relu_zero", "item", full.id, True)
    export_outputs(out)
    rows = csv.DictReader((out / "grades.csv").read_text(encoding="utf-8").splitlines())
    scores = {r["id"]: (float(r["score"]), float(r["max_score"])) for r in rows}
    assert scores == {
        "correct": (auto["correct"] + 2, 12.0),
        "colab": (auto["colab"] + 2, 12.0),
        "d_relu_inplace": (auto["d_relu_inplace"], 12.0),
        "misnamed": (auto["misnamed"], 12.0),
    }
