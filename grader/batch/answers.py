"""Written answers: the questions a template marks and each student's answer to them, as data.

A question is a markdown cell of the assignment's template with ``metadata.nngrade.answer``
(id, points, prompt; docs/marking.md). A student's answer is the markdown cell with the same
id or, when a copy or a Colab export lost the metadata, the markdown cell just after the cell
whose text is the prompt. Answers are only read here, never run or rendered.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Answer", "Question", "collect_answers", "template_questions"]

ANSWERED, UNCHANGED, MISSING = "answered", "unchanged", "missing"


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    points: float
    template_text: str  # what the template's answer cell says ("YOUR ANSWER HERE")
    position: int


@dataclass(frozen=True)
class Answer:
    question: str
    state: str  # ANSWERED, UNCHANGED or MISSING
    text: str = ""
    # Cell attachments as stored in the notebook: {name: {mime type: base64}}.
    attachments: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the text and the images: a mark stays with the answer it was given for."""
        data = json.dumps([self.state, self.text, self.attachments], sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _normal(text: str) -> str:
    return " ".join(text.split())


def _answer_meta(cell: dict[str, Any]) -> dict[str, Any] | None:
    meta = cell.get("metadata")
    nngrade = meta.get("nngrade") if isinstance(meta, dict) else None
    answer = nngrade.get("answer") if isinstance(nngrade, dict) else None
    return answer if isinstance(answer, dict) and "id" in answer else None


def _cells(path: Path) -> list[dict[str, Any]]:
    """The notebook's cells; an unreadable file has none (its answers are all missing)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    cells = data.get("cells") if isinstance(data, dict) else None
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def template_questions(template: Path | None) -> list[Question]:
    """The questions of an assignment, in the template's order; none without a template."""
    if template is None or not template.is_file():
        return []
    questions: list[Question] = []
    for cell in _cells(template):
        meta = _answer_meta(cell)
        if meta is None or cell.get("cell_type") != "markdown":
            continue
        questions.append(
            Question(
                id=str(meta["id"]),
                prompt=str(meta.get("prompt", "")),
                points=float(meta.get("points", 0)),
                template_text=_source(cell),
                position=len(questions),
            )
        )
    return questions


def _attachments(cell: dict[str, Any]) -> dict[str, dict[str, str]]:
    found = cell.get("attachments")
    if not isinstance(found, dict):
        return {}
    return {
        str(name): {str(m): str(d) for m, d in bundle.items() if isinstance(d, str)}
        for name, bundle in found.items()
        if isinstance(bundle, dict)
    }


def _prompt_heading(prompt: str) -> str:
    # Students retitle nothing but often add a line to the prompt cell: its heading still matches.
    lines = [line for line in prompt.splitlines() if line.strip()]
    return _normal(lines[0]) if lines else ""


def _find_cell(cells: list[dict[str, Any]], question: Question) -> dict[str, Any] | None:
    for cell in cells:
        meta = _answer_meta(cell)
        if meta is not None and str(meta["id"]) == question.id and cell["cell_type"] == "markdown":
            return cell
    if not question.prompt.strip():
        return None
    prompt, heading = _normal(question.prompt), _prompt_heading(question.prompt)
    for matches in (
        lambda text: _normal(text) == prompt,
        lambda text: _prompt_heading(text) == heading,
    ):
        for index, cell in enumerate(cells[:-1]):
            if _answer_meta(cell) is None and matches(_source(cell)):
                after = cells[index + 1]
                return after if after.get("cell_type") == "markdown" else None
    return None


_BLANK = re.compile(r"\s+")


def collect_answers(notebook: Path, questions: list[Question]) -> list[Answer]:
    """Each question's answer in ``notebook``: answered, unchanged from the template, or missing."""
    cells = _cells(notebook)
    answers = []
    for question in questions:
        cell = _find_cell(cells, question)
        if cell is None:
            answers.append(Answer(question.id, MISSING))
            continue
        text, images = _source(cell), _attachments(cell)
        same = _BLANK.sub(" ", text).strip() == _BLANK.sub(" ", question.template_text).strip()
        state = UNCHANGED if same and not images else ANSWERED
        if not text.strip() and not images:
            state = MISSING
        answers.append(Answer(question.id, state, text, images))
    return answers
