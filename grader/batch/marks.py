"""The gradebook's written-answer tables: questions, answers, rubric items, comments, marks.

A mark is one row per (submission, question, rubric item or comment) that is applied: two
browser tabs that apply different items write different rows, and one that applies an item
another tab removed writes exactly what its user asked for, so no tab overwrites a whole
record. Each row keeps the hash of the answer it was given for: when a student's answer
changes on a later ``nngrade grade``, the rows stay and the question is flagged as changed.
Every write is one committed statement (autocommit, WAL, synchronous=FULL).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from grader.batch.answers import Answer, Question
from grader.outputs.written import CHANGED, MARKED, UNMARKED, WrittenMark

__all__ = ["MARKS_SCHEMA", "Marks", "RubricItem"]

MARKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, prompt TEXT NOT NULL, points REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    submission TEXT NOT NULL, question TEXT NOT NULL,
    state TEXT NOT NULL,            -- answered, unchanged (as in the template) or missing
    text TEXT NOT NULL,             -- the markdown as handed in: data, never run or rendered raw
    attachments TEXT NOT NULL,      -- JSON {name: {mime: base64}}
    hash TEXT NOT NULL,             -- SHA-256 of state, text and attachments
    PRIMARY KEY (submission, question)
);
CREATE TABLE IF NOT EXISTS rubric_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL,
    label TEXT NOT NULL, points REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
    submission TEXT NOT NULL, question TEXT NOT NULL,
    kind TEXT NOT NULL,             -- 'item' or 'comment'
    ref INTEGER NOT NULL,           -- rubric_items.id or comments.id
    answer_hash TEXT NOT NULL,      -- the answer this mark was given for
    marked_at TEXT NOT NULL,
    PRIMARY KEY (submission, question, kind, ref)
);
"""


@dataclass(frozen=True)
class RubricItem:
    id: int
    question: str
    label: str
    points: float


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Marks:
    """The written-answer tables of one gradebook connection (autocommit)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        db.executescript(MARKS_SCHEMA)

    # Questions and answers, written by ``nngrade grade``.
    def put_questions(self, questions: list[Question]) -> None:
        """Store the template's questions; a new one gets a starting rubric to edit."""
        for q in questions:
            known = self._db.execute("SELECT 1 FROM questions WHERE id = ?", (q.id,)).fetchone()
            self._db.execute(
                "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?)",
                (q.id, q.position, q.prompt, q.points),
            )
            if known is None:
                self.add_item(q.id, "Correct and complete", q.points)
                self.add_item(q.id, "No credit", 0.0)

    def put_answers(self, submission: str, answers: list[Answer]) -> None:
        """Store a submission's answers; the marks stay, whatever the new text."""
        for a in answers:
            self._db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (
                    submission,
                    a.question,
                    a.state,
                    a.text,
                    json.dumps(a.attachments),
                    a.content_hash,
                ),
            )

    def questions(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT id, prompt, points FROM questions ORDER BY position")
        return [{"id": i, "prompt": p, "points": pts} for i, p, pts in rows.fetchall()]

    def answers(self, question: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT submission, state, text, attachments, hash FROM answers "
            "WHERE question = ? ORDER BY submission",
            (question,),
        ).fetchall()
        return [
            {"submission": s, "state": st, "text": t, "attachments": json.loads(a), "hash": h}
            for s, st, t, a, h in rows
        ]

    # The rubric and the comments of a question, shared by all its answers.
    def add_item(self, question: str, label: str, points: float) -> int:
        cursor = self._db.execute(
            "INSERT INTO rubric_items (question, label, points) VALUES (?, ?, ?)",
            (question, label, points),
        )
        return int(cursor.lastrowid or 0)

    def update_item(self, item: int, label: str, points: float) -> None:
        """Change an item for every answer it is applied to, as Gradescope's rubrics do."""
        self._db.execute(
            "UPDATE rubric_items SET label = ?, points = ? WHERE id = ?", (label, points, item)
        )

    def items(self, question: str) -> list[RubricItem]:
        rows = self._db.execute(
            "SELECT id, question, label, points FROM rubric_items WHERE question = ? ORDER BY id",
            (question,),
        )
        return [RubricItem(*row) for row in rows.fetchall()]

    def add_comment(self, question: str, text: str) -> int:
        cursor = self._db.execute(
            "INSERT INTO comments (question, text) VALUES (?, ?)", (question, text)
        )
        return int(cursor.lastrowid or 0)

    def comments(self, question: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, text FROM comments WHERE question = ? ORDER BY id", (question,)
        )
        return [{"id": i, "text": t} for i, t in rows.fetchall()]

    # Marks: one row per applied item or comment.
    def set_mark(
        self, submissions: list[str], question: str, kind: str, ref: int, applied: bool
    ) -> None:
        """Apply (or remove) one item or comment for each of ``submissions``, in one commit."""
        if kind not in ("item", "comment"):
            raise ValueError(f"unknown kind of mark: {kind!r}")
        with self._db:  # one transaction: all the answers at once, or none
            self._db.execute("BEGIN IMMEDIATE")
            for submission in submissions:
                if applied:
                    self._db.execute(
                        "INSERT OR REPLACE INTO marks SELECT ?, ?, ?, ?, hash, ? FROM answers "
                        "WHERE submission = ? AND question = ?",
                        (submission, question, kind, ref, _now(), submission, question),
                    )
                else:
                    self._db.execute(
                        "DELETE FROM marks WHERE submission = ? AND question = ? "
                        "AND kind = ? AND ref = ?",
                        (submission, question, kind, ref),
                    )

    def confirm(self, submission: str, question: str) -> None:
        """Keep the marks of a changed answer for its new text (the marker read it again)."""
        self._db.execute(
            "UPDATE marks SET answer_hash = (SELECT hash FROM answers WHERE submission = ? "
            "AND question = ?) WHERE submission = ? AND question = ?",
            (submission, question, submission, question),
        )

    def applied(self, question: str) -> dict[str, dict[str, Any]]:
        """Per submission: the items and comments applied, and whether any was for an older
        answer."""
        rows = self._db.execute(
            "SELECT m.submission, m.kind, m.ref, m.answer_hash != a.hash FROM marks m "
            "JOIN answers a ON a.submission = m.submission AND a.question = m.question "
            "WHERE m.question = ?",
            (question,),
        ).fetchall()
        out: dict[str, dict[str, Any]] = {}
        for submission, kind, ref, stale in rows:
            entry = out.setdefault(submission, {"item": [], "comment": [], "changed": False})
            entry[kind].append(ref)
            entry["changed"] = entry["changed"] or bool(stale)
        return out

    def written_marks(self, submissions: list[str]) -> dict[str, list[WrittenMark]]:
        """Every question's mark for each of ``submissions``, for the exports: a few queries
        per question, whatever the size of the class."""
        marks: dict[str, list[WrittenMark]] = {s: [] for s in submissions}
        for q in self.questions():
            states = dict(
                self._db.execute(
                    "SELECT submission, state FROM answers WHERE question = ?", (q["id"],)
                ).fetchall()
            )
            applied = self.applied(q["id"])
            items = {i.id: i for i in self.items(q["id"])}
            texts = {c["id"]: c["text"] for c in self.comments(q["id"])}
            for submission, found in marks.items():
                found.append(
                    _mark(
                        q, states.get(submission, "missing"), applied.get(submission), items, texts
                    )
                )
        return marks


def _mark(
    question: dict[str, Any],
    answer_state: str,
    applied: dict[str, Any] | None,
    items: dict[int, RubricItem],
    texts: dict[int, str],
) -> WrittenMark:
    status = UNMARKED
    chosen: list[RubricItem] = []
    notes: list[str] = []
    if applied is not None:
        chosen = [items[i] for i in sorted(applied["item"]) if i in items]
        notes = [texts[c] for c in sorted(applied["comment"]) if c in texts]
        if applied["changed"]:
            status = CHANGED
        elif chosen:
            status = MARKED
    # Items may take points off: the total stays between 0 and the question's points.
    total = min(max(sum(i.points for i in chosen), 0.0), question["points"])
    return WrittenMark(
        question=question["id"],
        prompt=question["prompt"],
        max_points=question["points"],
        answer_state=answer_state,
        status=status,
        points=total,
        items=tuple((i.label, i.points) for i in chosen),
        comments=tuple(notes),
    )
