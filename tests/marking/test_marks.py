"""Marks in the gradebook: kept while an answer is unchanged, flagged when it changes, never
dropped by --force, and counted in every export (autograded points plus manual points)."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.batch.gradebook import Gradebook
from grader.batch.out_folder import export_outputs
from tests.marking.support import ANSWERS, AUTO_MAX, AUTO_POINTS, grade_class, write_class

Q = "relu_zero"


@pytest.fixture
def graded(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    grade_class(write_class(tmp_path / "class", dict(ANSWERS, dave=None)), out)
    return out


def items(book: Gradebook) -> dict[str, int]:
    return {i.label: i.id for i in book.marks.items(Q)}


def test_grading_collects_every_answer_into_the_gradebook(graded: Path) -> None:
    with Gradebook(graded / "gradebook.sqlite") as book:
        answers = {a["submission"]: a for a in book.marks.answers(Q)}
    assert {s: a["state"] for s, a in answers.items()} == {
        "alice": "answered",
        "bob": "answered",
        "carol": "answered",
        "dave": "missing",
    }
    assert answers["carol"]["text"] == ANSWERS["carol"]


def export_points(out: Path) -> dict[str, dict[str, float]]:
    """Each submission's score in every export."""
    rows = csv.DictReader((out / "grades.csv").read_text(encoding="utf-8").splitlines())
    found: dict[str, dict[str, float]] = {r["id"]: {"csv": float(r["score"])} for r in rows}
    for s in json.loads((out / "results.json").read_text(encoding="utf-8"))["submissions"]:
        found[s["id"]]["json"] = s["score"]
    for id in found:
        data = json.loads((out / "gradescope" / f"{id}.json").read_text(encoding="utf-8"))
        found[id]["gradescope"] = data["score"]
        found[id]["gradescope_tests"] = sum(t["score"] for t in data["tests"])
    for suite in ET.parse(out / "junit.xml").getroot():
        props = {p.get("name"): p.get("value") for p in suite.find("properties") or []}
        found[suite.get("name", "")]["junit"] = float(props["score"] or 0)
        cases = [c.find("properties") for c in suite.findall("testcase")]
        found[suite.get("name", "")]["junit_cases"] = sum(
            float(p.get("value") or 0)
            for props_el in cases
            if props_el is not None
            for p in props_el
            if p.get("name") == "points"
        )
    return found


def test_exports_after_marking_are_autograded_plus_manual_points(graded: Path) -> None:
    with Gradebook(graded / "gradebook.sqlite") as book:
        ids = items(book)
        half = book.marks.add_item(Q, "Half right", 1.0)
        book.marks.set_mark(["alice"], Q, "item", ids["Correct and complete"], True)
        book.marks.set_mark(["bob", "carol"], Q, "item", half, True)  # many answers at once
        book.marks.set_mark(["dave"], Q, "item", ids["No credit"], True)
        comment = book.marks.add_comment(Q, "Say why the gradient is 0.")
        book.marks.set_mark(["bob"], Q, "comment", comment, True)
    export_outputs(graded)
    manual = {"alice": 2.0, "bob": 1.0, "carol": 1.0, "dave": 0.0}
    for id, scores in export_points(graded).items():
        expected = AUTO_POINTS + manual[id]
        assert set(scores.values()) == {expected}, (id, scores)
    results = json.loads((graded / "results.json").read_text(encoding="utf-8"))["submissions"]
    assert {r["max_score"] for r in results} == {AUTO_MAX + 2}
    report = (graded / "reports" / "bob.html").read_text(encoding="utf-8")
    assert "Half right (+1)" in report and "Comment: Say why the gradient is 0." in report
    summary = (graded / "index.html").read_text(encoding="utf-8")
    assert 'id="written-answers"' in summary and "3 marked" not in summary
    assert "4 marked, mean 1.00" in summary


def test_an_unmarked_answer_counts_nothing_and_says_so(graded: Path) -> None:
    export_outputs(graded)
    assert {s["json"] for s in export_points(graded).values()} == {AUTO_POINTS}
    report = (graded / "reports" / "alice.html").read_text(encoding="utf-8")
    assert "Not marked yet." in report


def test_regrading_keeps_marks_of_unchanged_answers_and_flags_changed_ones(
    graded: Path, tmp_path: Path
) -> None:
    with Gradebook(graded / "gradebook.sqlite") as book:
        full = items(book)["Correct and complete"]
        book.marks.set_mark(["alice", "bob"], Q, "item", full, True)
    write_class(tmp_path / "class", {"bob": "a different answer"})
    for force in (False, True):  # --force regrades all, and still drops no mark
        results = {r.id: r for r in grade_class(tmp_path / "class", graded, force=force)}
        assert results["alice"].score == AUTO_POINTS + 2
        assert results["bob"].score == AUTO_POINTS  # changed: not counted until re-marked
        [written] = [c for c in results["bob"].checks if c.name == "written:relu_zero"]
        assert "changed after it was marked" in written.message
        with Gradebook(graded / "gradebook.sqlite") as book:
            assert book.marks.applied(Q)["bob"] == {"item": [full], "comment": [], "changed": True}
    with Gradebook(graded / "gradebook.sqlite") as book:
        book.marks.confirm("bob", Q)
    export_outputs(graded)
    assert export_points(graded)["bob"]["csv"] == AUTO_POINTS + 2


def test_changing_a_rubric_item_changes_every_answer_it_is_applied_to(graded: Path) -> None:
    with Gradebook(graded / "gradebook.sqlite") as book:
        full = items(book)["Correct and complete"]
        book.marks.set_mark(["alice", "bob"], Q, "item", full, True)
        book.marks.update_item(full, "Correct", 1.5)
        assert [m.points for m in book.marks.written_marks(["bob"])["bob"]] == [1.5]
        book.marks.set_mark(["alice"], Q, "item", full, False)
        assert [m.status for m in book.marks.written_marks(["alice"])["alice"]] == ["unmarked"]
