"""``nngrade export`` and ``nngrade mark`` on the command line (CliRunner, no server)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from grader.batch.gradebook import Gradebook
from grader.cli.commands import main
from tests.marking.support import ANSWERS, AUTO_POINTS, grade_class, write_class


def test_export_writes_the_grades_again_with_the_marks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    grade_class(write_class(tmp_path / "class", ANSWERS), out)
    with Gradebook(out / "gradebook.sqlite") as book:
        full = book.marks.items("relu_zero")[0].id
        book.marks.set_mark(["bob"], "relu_zero", "item", full, True)
    result = CliRunner().invoke(main, ["export", str(out)])
    assert result.exit_code == 0, result.output
    assert "Grades:" in result.output and "JUnit:" in result.output
    rows = json.loads((out / "results.json").read_text(encoding="utf-8"))["submissions"]
    assert {r["id"]: r["score"] for r in rows} == {
        "alice": AUTO_POINTS,
        "bob": AUTO_POINTS + 2,
        "carol": AUTO_POINTS,
    }


def test_a_folder_without_a_gradebook_is_a_usage_error(tmp_path: Path) -> None:
    for command in (["export"], ["mark", "--no-browser"]):
        result = CliRunner().invoke(main, [*command, str(tmp_path)])
        assert result.exit_code == 2
        assert "run nngrade grade --out" in result.output
