"""Collecting written answers from notebooks (contracts B): by id, by prompt, unchanged, missing."""

from __future__ import annotations

import json
from pathlib import Path

from grader.batch.answers import collect_answers, template_questions
from tests.conftest import RELU
from tests.marking.support import PROMPT_TEXT, notebook

QUESTIONS = template_questions(RELU / "template.ipynb")


def answers_of(tmp_path: Path, nb: dict) -> list:
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return collect_answers(path, QUESTIONS)


def test_the_relu_template_asks_one_written_question() -> None:
    assert [(q.id, q.points, q.prompt) for q in QUESTIONS] == [("relu_zero", 2.0, PROMPT_TEXT)]
    assert QUESTIONS[0].template_text == "YOUR ANSWER HERE"


def test_an_answer_is_found_by_the_cell_id_wherever_it_moved(tmp_path: Path) -> None:
    nb = notebook("my answer")
    nb["cells"].insert(0, nb["cells"].pop())  # moved to the top, away from its prompt
    [answer] = answers_of(tmp_path, nb)
    assert (answer.state, answer.text) == ("answered", "my answer")


def test_without_metadata_the_cell_after_the_prompt_is_the_answer(tmp_path: Path) -> None:
    [answer] = answers_of(tmp_path, notebook("from colab", metadata=False))
    assert (answer.state, answer.text) == ("answered", "from colab")


def test_a_prompt_with_a_line_added_still_matches_by_its_heading(tmp_path: Path) -> None:
    nb = notebook("answer", metadata=False)
    nb["cells"][1]["source"] = PROMPT_TEXT + "\n(my notes)"
    [answer] = answers_of(tmp_path, nb)
    assert answer.text == "answer"


def test_unchanged_and_missing_answers_are_recorded_as_such(tmp_path: Path) -> None:
    assert answers_of(tmp_path, notebook("  YOUR ANSWER\nHERE "))[0].state == "unchanged"
    assert answers_of(tmp_path, notebook(None))[0].state == "missing"
    assert answers_of(tmp_path, notebook("   "))[0].state == "missing"
    (tmp_path / "bad.ipynb").write_text("not json")
    assert collect_answers(tmp_path / "bad.ipynb", QUESTIONS)[0].state == "missing"


def test_attachments_are_kept_and_change_the_hash(tmp_path: Path) -> None:
    nb = notebook("![plot](attachment:p.png)")
    plain = answers_of(tmp_path, nb)[0]
    nb["cells"][-1]["attachments"] = {"p.png": {"image/png": "iVBORw0KGgo="}}
    with_image = answers_of(tmp_path, nb)[0]
    assert with_image.attachments == {"p.png": {"image/png": "iVBORw0KGgo="}}
    assert with_image.content_hash != plain.content_hash
    assert answers_of(tmp_path, nb)[0].content_hash == with_image.content_hash
