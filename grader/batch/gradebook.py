"""The batch's gradebook: one SQLite row per submission, stored the moment it is graded.

A run that is interrupted (Ctrl-C, kill -9, a power cut) and started again with the same
command asks the gradebook which submissions already have a result for the same file
content and the same assignment version, and grades only the others. Each result is
committed on its own, so nothing graded is lost and nothing is stored twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from grader.batch.marks import Marks
from grader.grading.engine import choose_seed
from grader.grading.results import SubmissionResult
from grader.outputs.written import merge_written

__all__ = ["GRADEBOOK", "Gradebook"]

GRADEBOOK = "gradebook.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id TEXT PRIMARY KEY,          -- the submission id, stable across runs
    submission TEXT NOT NULL,     -- the file name as handed in
    origin TEXT NOT NULL,         -- where it was found
    content_hash TEXT NOT NULL,   -- SHA-256 of the notebook's bytes
    assignment_version TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    duration REAL NOT NULL,       -- seconds spent grading it
    stored_at TEXT NOT NULL,
    result_json TEXT NOT NULL
)
"""


class Gradebook:
    """The SQLite file ``out_dir/gradebook.sqlite``: one row written per finished submission
    by the process that collects results, and the written answers' marks by ``nngrade mark``
    (each its own connection; WAL lets them read while the other writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)  # autocommit: one row, one commit
        # WAL keeps committed rows through a crash; FULL syncs each commit to disk.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")  # a grade run and a marker, at once
        self._db.execute(_SCHEMA)
        self._db.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT)")
        # Written answers and their marks (batch/marks.py), in the same file and journal.
        self.marks = Marks(self._db)

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def run_seed(self, requested: int | None) -> int:
        """The seed for this run, kept for the next: a resumed batch is graded like one run."""
        row = self._db.execute("SELECT value FROM settings WHERE key = 'seed'").fetchone()
        seed = choose_seed(requested, None if row is None else int(row[0]))
        self._db.execute("INSERT OR REPLACE INTO settings VALUES ('seed', ?)", (str(seed),))
        return seed

    def setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))

    def stored(self, id: str, content_hash: str, version: str) -> SubmissionResult | None:
        """The stored result for this submission, if it is for the same content and
        assignment version and nngrade did not fail on it (those are tried again)."""
        row = self._db.execute(
            "SELECT result_json FROM results WHERE id = ? AND content_hash = ? "
            "AND assignment_version = ? AND status != 'error'",
            (id, content_hash, version),
        ).fetchone()
        return SubmissionResult.from_dict(json.loads(row[0])) if row else None

    def store(self, result: SubmissionResult, *, content_hash: str, version: str) -> None:
        """Store (or replace) the result for ``result.id`` in one committed statement."""
        self._db.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                result.id,
                result.submission,
                result.path,
                content_hash,
                version,
                result.status,
                result.score,
                result.max_score,
                result.duration,
                datetime.now(UTC).isoformat(timespec="seconds"),
                result.to_json(),
            ),
        )

    def results(self, ids: Iterable[str]) -> list[SubmissionResult]:
        """The stored results for ``ids``, in that order (ids without a result are left out)."""
        wanted = list(ids)
        rows = dict(self._db.execute("SELECT id, result_json FROM results").fetchall())
        return [SubmissionResult.from_dict(json.loads(rows[id])) for id in wanted if id in rows]

    def all_results(self) -> list[SubmissionResult]:
        """Every stored result, in the order of their ids (what ``nngrade export`` writes)."""
        rows = self._db.execute("SELECT result_json FROM results ORDER BY id").fetchall()
        return [SubmissionResult.from_dict(json.loads(row[0])) for row in rows]

    def with_marks(self, results: Iterable[SubmissionResult]) -> list[SubmissionResult]:
        """``results`` with their written answers' marks counted (outputs/written.py)."""
        results = list(results)
        marks = self.marks.written_marks([r.id for r in results])
        return [merge_written(r, marks[r.id]) for r in results]

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
