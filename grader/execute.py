"""Run a submission's cells in its kernel, record what went wrong, keep going.

``LiveNotebook`` executes the (neutralized) code cells in order. A cell that raises or
times out is recorded and execution continues; a cell that kills the kernel is
recorded, the kernel is restarted, the cells that succeeded are replayed, and
execution continues after it. Afterwards it serves the checks' requests, recovering
the same way when a call hangs or kills the kernel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from grader._kernel.nngrade_kernel import OUTPUT_LIMIT
from grader.kernel import CallTimeout, KernelDied, KernelSession
from grader.results import CellEvent

__all__ = ["CodeCell", "LiveNotebook"]

MAX_RESTARTS = 5
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class CodeCell:
    position: int  # 1-based position in the notebook, as the student counts cells
    source: str  # after neutralization

    @property
    def head(self) -> str:
        first = next((line for line in self.source.splitlines() if line.strip()), "")
        return first.strip()[:80]


class LiveNotebook:
    """A submission's kernel after its cells ran: the transport the checks call through."""

    def __init__(self, session: KernelSession, cells: list[CodeCell], cell_timeout: float) -> None:
        self.session = session
        self.cells = cells
        self.cell_timeout = cell_timeout
        self.events: list[CellEvent] = []
        self._succeeded: list[CodeCell] = []
        self._restarts = 0

    # -- running the notebook -------------------------------------------------------------

    def run(self) -> None:
        for cell in self.cells:
            if not cell.source.strip():
                continue
            if self._restarts > MAX_RESTARTS:
                self._record(cell, "skipped", "not run: the kernel was restarted too often")
                continue
            run = self.session.execute(cell.source, cell.position)
            if run.status == "ok":
                self._succeeded.append(cell)
            elif run.status == "error":
                self._record_error(cell, run.reply)
            elif run.status in ("timeout", "timeout_killed"):
                self._record(
                    cell,
                    "timeout",
                    f"did not finish within {self.cell_timeout:g} s and was stopped",
                    "The rest of the notebook was still run and graded.",
                )
                if run.status == "timeout_killed":
                    self._restart()
            else:
                self._record(
                    cell,
                    "kernel_died",
                    "killed the kernel (os._exit, a crash, or running out of memory)",
                    "The kernel was restarted, the cells before it were run again, "
                    "and grading went on after this cell.",
                )
                self._restart()
            if run.output_chars >= OUTPUT_LIMIT:
                self._record(
                    cell,
                    "large_output",
                    f"printed more than {OUTPUT_LIMIT:,} characters; the rest was dropped",
                )
        self._record_stand_ins()

    def _restart(self) -> None:
        self._restarts += 1
        if self._restarts > MAX_RESTARTS:
            return
        self.session.restart()
        for cell in list(self._succeeded):
            if self.session.execute(cell.source, cell.position).status == "kernel_died":
                self.session.restart()
                break

    def _record_stand_ins(self) -> None:
        """Say which imports the kernel replaced by stand-ins (see nngrade_stand_ins)."""
        reply, _ = self.request({"op": "stand_ins", "id": "stand_ins"}, [], self.cell_timeout)
        by_position = {cell.position: cell for cell in self.cells}
        for record in reply.get("stand_ins", []):
            cell = by_position.get(self.session.execution_counts.get(record["execution_count"], 0))
            if cell is not None:
                self._record(
                    cell,
                    "stand_in",
                    f"line {record['lineno']}: `{record['module']}` is not installed where "
                    "notebooks are graded; the import was replaced by an empty stand-in",
                    "The rest of the cell still ran. Code that uses the module fails with "
                    "ModuleNotFoundError.",
                )

    def _record_error(self, cell: CodeCell, reply: dict[str, Any]) -> None:
        ename, evalue = reply.get("ename", "Error"), reply.get("evalue", "")
        lines = [_ANSI.sub("", line) for line in reply.get("traceback", [])]
        self._record(cell, "error", f"{ename}: {evalue}"[:300], "\n".join(lines)[-4000:])

    def _record(self, cell: CodeCell, kind: str, summary: str, detail: str = "") -> None:
        self.events.append(CellEvent(cell.position, kind, summary, detail, cell.head))

    # -- the Transport the checks use ------------------------------------------------------

    def request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[dict[str, Any], list[bytes]]:
        if self._restarts > MAX_RESTARTS:
            return {"status": "kernel_died"}, []
        try:
            return self.session.request(data, buffers, timeout)
        except CallTimeout as exc:
            if not exc.recovered:
                self._restart()
            return {"status": "timeout"}, []
        except KernelDied:
            self._restart()
            return {"status": "kernel_died"}, []

    def describe_cell(self, execution_count: int | None) -> str | None:
        if execution_count is None:
            return None
        position = self.session.execution_counts.get(execution_count)
        return f"cell {position}" if position and position > 0 else None
