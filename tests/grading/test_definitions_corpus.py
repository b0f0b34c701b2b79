"""Definitions-only execution on real kernels: notebooks that build their definitions in
many ways all get full marks, long top-level training costs seconds, exit() and its
relatives give the same score every time, and a missing name names its cell.

The notebooks are made by tests/notebooks/definitions/build.py.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from grader.batch.grade import grade_into
from grader.grading.assignment import Assignment
from grader.grading.definitions import BUDGET
from grader.grading.engine import GradingOptions
from grader.grading.results import SubmissionResult
from tests.conftest import ASSIGNMENTS, SEED, TORCH_CELL_TIMEOUT

# timing: grading times are compared and the exits race their kernels' deaths.
pytestmark = [pytest.mark.kernel, pytest.mark.timing]

CORPUS = Path(__file__).parent.parent / "notebooks" / "definitions"
REPEATS = 10


def grade(name: str, paths: list[Path], cell_timeout: float) -> dict[str, SubmissionResult]:
    assignment = Assignment.load(ASSIGNMENTS / name)
    options = GradingOptions(cell_timeout=cell_timeout, seed=SEED)
    with tempfile.TemporaryDirectory(prefix="nngrade-test-") as out:
        run = grade_into(assignment, paths, Path(out), options)
    return {Path(r.path).stem: r for r in run.results}


@pytest.fixture(scope="module")
def corpus_torch_mlp() -> dict[str, SubmissionResult]:
    solution = ASSIGNMENTS / "torch_mlp" / "solution.ipynb"
    return grade("torch_mlp", [CORPUS / "torch_mlp", solution], TORCH_CELL_TIMEOUT)


@pytest.fixture(scope="module")
def corpus_bce() -> dict[str, SubmissionResult]:
    solution = ASSIGNMENTS / "bce" / "solution.ipynb"
    return grade("bce", [CORPUS / "bce", solution], TORCH_CELL_TIMEOUT)


def test_every_way_of_defining_gets_full_marks(
    corpus_torch_mlp: dict[str, SubmissionResult], corpus_bce: dict[str, SubmissionResult]
) -> None:
    results = {f"torch_mlp/{k}": r for k, r in corpus_torch_mlp.items()}
    results |= {f"bce/{k}": r for k, r in corpus_bce.items()}
    assert len(results) >= 17
    lost = {
        name: [c.message for c in r.checks if not c.passed]
        for name, r in results.items()
        if r.score != r.max_score or r.status != "graded"
    }
    assert lost == {}


def test_what_was_skipped_is_listed_line_by_line(
    corpus_torch_mlp: dict[str, SubmissionResult],
) -> None:
    events = [(e.cell, e.summary) for e in corpus_torch_mlp["downloads_and_fit"].cells]
    assert (2, "line 1 not run: downloads are not run while grading") in events
    assert (
        2,
        "line 2 not run: it uses `trainset`, which line 1 of cell 2 would have made (not run)",
    ) in events
    # history = fit(model, 100): fit() calls train(), which trains.
    assert (7, "line 7 not run: only definitions run for this assignment, not training") in events
    main = corpus_torch_mlp["main_guard"].cells
    assert [(e.cell, e.kind, e.source_head) for e in main] == [
        (2, "skipped", "for epoch in range(1, 101):")
    ]


def test_top_level_training_costs_seconds(corpus_bce: dict[str, SubmissionResult]) -> None:
    # Four times the solution's own grading, and at least 8 s: a forked kernel grades the
    # solution in about a second, while an interrupted cell costs a restart on top.
    usual = max(4 * corpus_bce["solution"].duration, 8.0)
    # A million epochs: skipped; a million epochs the list cannot see: cut at the budget.
    assert corpus_bce["tqdm_long_training"].duration < usual
    escaping = corpus_bce["escaping_training"]
    assert escaping.duration < usual + BUDGET
    (cut,) = [e for e in escaping.cells if e.kind == "timeout"]
    assert cut.cell == 6 and cut.summary.startswith(f"line 2 was stopped after {BUDGET:g} s")


def test_exits_give_the_same_score_every_time(tmp_path: Path) -> None:
    copies = []
    for notebook in sorted((CORPUS / "exits").glob("*.ipynb")):
        for run in range(REPEATS):
            copies.append(shutil.copy(notebook, tmp_path / f"{notebook.stem}-{run}.ipynb"))
    results = grade("relu", [tmp_path], 4.0)
    scores = {(Path(r.path).stem.rsplit("-", 1)[0], r.score) for r in results.values()}
    assert scores == {(n.stem, 10.0) for n in (CORPUS / "exits").glob("*.ipynb")}
    exit_call = results["exit_call-0"].cells
    assert [(e.cell, e.kind) for e in exit_call] == [(3, "error")]
    assert exit_call[0].summary.startswith("called exit()")
    # A real process death: recorded once; the cell that caused it is never replayed.
    os_exit = results["os_exit_last-0"].cells
    assert [(e.cell, e.kind) for e in os_exit] == [(3, "kernel_died")]


def test_a_missing_name_names_the_cell_that_would_define_it() -> None:
    results = grade("relu", [CORPUS / "missing"], 4.0)
    raw = {c.message for c in results["raw_cell"].checks if c.outcome == "failed"}
    assert raw == {
        "Your notebook does not define `d_relu` when it runs: `d_relu` is defined in a raw "
        "cell (cell 2), which Jupyter does not run: make it a code cell."
    }
    raised = {c.message for c in results["raised_first"].checks if c.outcome == "failed"}
    assert raised == {
        "Your notebook does not define `d_relu` when it runs: `d_relu` would be defined by "
        "cell 2 (line 3), which raised ValueError."
    }
