"""The SQLite gradebook: results stored one by one, found again for the same content only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from grader.batch.gradebook import Gradebook
from grader.grading.results import SubmissionResult


def result(id: str, status: str = "graded", score: float = 3.0) -> SubmissionResult:
    return SubmissionResult(
        id=id,
        submission=f"{id}.ipynb",
        path=f"in/{id}.ipynb",
        assignment="relu",
        status=status,
        score=score,
        max_score=10.0,
    )


def test_a_stored_result_is_found_for_the_same_content_and_version(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.store(result("a"), content_hash="h1", version="v1")
        assert book.stored("a", "h1", "v1") == result("a")
        assert book.stored("a", "h2", "v1") is None  # the student handed in a new file
        assert book.stored("a", "h1", "v2") is None  # the checks changed
        assert book.stored("b", "h1", "v1") is None


def test_results_survive_closing_and_are_replaced_not_duplicated(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with Gradebook(path) as book:
        book.store(result("a", score=1), content_hash="h", version="v")
        book.store(result("b"), content_hash="h", version="v")
    with Gradebook(path) as book:
        book.store(result("a", score=9), content_hash="h", version="v")
        assert len(book) == 2
        assert [r.score for r in book.results(["b", "a", "zzz"])] == [3.0, 9.0]


def test_nngrade_errors_are_tried_again(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.sqlite") as book:
        book.store(result("a", status="error"), content_hash="h", version="v")
        book.store(result("u", status="ungradable"), content_hash="h", version="v")
        assert book.stored("a", "h", "v") is None
        assert book.stored("u", "h", "v") is not None


def test_each_result_is_committed_when_stored(tmp_path: Path) -> None:
    """What another connection sees at once is what a crash right now would keep."""
    path = tmp_path / "g.sqlite"
    book = Gradebook(path)
    book.store(result("a"), content_hash="h", version="v")
    other = sqlite3.connect(path)
    assert other.execute("SELECT id, content_hash, status FROM results").fetchall() == [
        ("a", "h", "graded")
    ]
    other.close()
    book.close()


def test_a_resumed_run_keeps_the_first_runs_seed(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with Gradebook(path) as book:
        first = book.run_seed(None)
    with Gradebook(path) as book:
        assert book.run_seed(None) == first  # resumed: the same seed as before
        assert book.run_seed(5) == 5  # asked for: used, and kept from now on
    with Gradebook(path) as book:
        assert book.run_seed(None) == 5
