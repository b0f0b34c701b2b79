"""Run a submission's cells in its kernel, record what went wrong, keep going.

``LiveNotebook`` executes the (neutralized) code cells in order. A cell that raises or
times out is recorded and execution continues; a cell that kills the kernel is
recorded, the kernel is restarted, the cells that succeeded are replayed, and
execution continues after it; so does a cell that ran out of memory, to give the
memory back. Failures caused by a limit or the sandbox are recorded in those terms.
Afterwards it serves the checks' requests, recovering the same way when a call hangs
or kills the kernel.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any, TypeVar

from grader._kernel.nngrade_protocol import (
    OUTPUT_LIMIT,
    CellEventKind,
    GuardAttempt,
    Op,
    ProtocolError,
    Reply,
    StandIn,
    Status,
    decode_reply,
)
from grader.runner.cell_data import CellEvent, CodeCell, Definition
from grader.runner.cell_words import definitions, missing_module, name_origin, numbers
from grader.runner.i18n import N_
from grader.runner.i18n import gettext as _
from grader.runner.kernel import CallTimeout, CellRunStatus, KernelDied, KernelSession
from grader.runner.limits import KernelExit, LimitHit, classify_error, format_size

__all__ = ["LiveNotebook"]

MAX_RESTARTS = 5
AFTER_RESTART = N_("the cells before this one were run again, and grading went on after it.")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
_TOP_FRAME = re.compile(r"^Cell In\s*\[\d*\], line (\d+)", re.M)  # IPython: the cell's own frame
_Placed = TypeVar("_Placed", StandIn, GuardAttempt)  # what the kernel helper recorded


# Events that leave the cell's own code running: no reason for a name to be missing.
_NOT_FAILURES = (CellEventKind.STAND_IN, CellEventKind.LARGE_OUTPUT, CellEventKind.FORBIDDEN)


def _where(cell: CodeCell) -> str:
    return _("line {line} of cell {cell}").format(line=cell.first_line, cell=cell.position)


class LiveNotebook:
    """A submission's kernel after its cells ran: the transport the checks call through."""

    def __init__(
        self,
        session: KernelSession,
        cells: list[CodeCell],
        cell_timeout: float,
        notebook_timeout: float = float("inf"),
        definitions: dict[str, Definition] | None = None,
    ) -> None:
        self.session = session
        self.cells = cells
        self.definitions = definitions or {}
        self._failures: list[tuple[CodeCell, CellEvent]] = []  # cells that raised, stopped...
        self._unmade: dict[str, str] = {}  # a name a failed piece would have made -> where
        self.cell_timeout = cell_timeout
        # All cells together: 5,000 cells, or many cells each sleeping just under the
        # cell timeout, must not hold up a batch for hours.
        self.notebook_timeout = notebook_timeout
        self.events: list[CellEvent] = []
        self._succeeded: list[CodeCell] = []
        self._last_run: CodeCell | None = None  # the last cell run in the kernel as it is now
        self._restarts = 0

    # -- running the notebook -------------------------------------------------------------

    def run(self) -> None:
        self._run_cells()
        self._check_still_alive()
        # What the kernel helper saw while the cells ran, even if they were cut short.
        stand_ins = self._record_stand_ins()
        self._link_name_errors(stand_ins)
        self._record_guard_attempts()
        self._record_redefinitions()

    def _run_cells(self) -> None:
        deadline = time.monotonic() + self.notebook_timeout
        for index, cell in enumerate(self.cells):
            if not cell.source.strip():
                continue
            self._check_still_alive()
            if time.monotonic() > deadline:
                # Cells, not pieces (definitions-only execution runs a cell in pieces).
                rest = len({c.position for c in self.cells[index:] if c.source.strip()})
                self._record(
                    cell,
                    CellEventKind.SKIPPED,
                    _(
                        "not run, nor the {rest} code cells after it: the notebook's cells ran "
                        "for more than {seconds} s in all"
                    ).format(rest=f"{rest - 1:,}", seconds=f"{self.notebook_timeout:g}"),
                )
                return
            if self._restarts > MAX_RESTARTS:
                self._record(
                    cell, CellEventKind.SKIPPED, _("not run: the kernel was restarted too often")
                )
                continue
            if broken := sorted(cell.uses & self._unmade.keys()):
                self._record(
                    cell,
                    CellEventKind.SKIPPED,
                    _(
                        "line {line} not run: it uses `{name}`, which {where} would have made, "
                        "but that line failed"
                    ).format(line=cell.first_line, name=broken[0], where=self._unmade[broken[0]]),
                    line=cell.first_line,
                )
                self._unmade.update(dict.fromkeys(cell.makes, self._unmade[broken[0]]))
                continue
            run = self.session.execute(cell.source, cell.position, cell.budget)
            self._last_run = cell
            if run.status is not CellRunStatus.OK:
                self._unmade.update(dict.fromkeys(cell.makes, _where(cell)))
            if run.status is CellRunStatus.OK:
                for name in cell.makes:
                    self._unmade.pop(name, None)
                self._succeeded.append(cell)
            elif run.status is CellRunStatus.ERROR:
                self._record_error(cell, run.reply)
            elif run.status in (CellRunStatus.TIMEOUT, CellRunStatus.TIMEOUT_KILLED):
                self._record_timeout(cell)
                if run.status is CellRunStatus.TIMEOUT_KILLED:
                    self._restart()
            else:
                self._record_death(cell)
            if run.output_chars >= OUTPUT_LIMIT:
                self._record(
                    cell,
                    CellEventKind.LARGE_OUTPUT,
                    _("printed more than {limit} characters; the rest was dropped").format(
                        limit=f"{OUTPUT_LIMIT:,}"
                    ),
                )

    def _record_death(self, cell: CodeCell) -> None:
        """``cell`` killed the kernel: say how, and go on in a new one."""
        hit = self._death()
        self._record(
            cell,
            hit.kind,
            hit.summary,
            _("The kernel was restarted; {after}").format(after=_(AFTER_RESTART)),
        )
        self._restart()

    def _check_still_alive(self) -> None:
        """A kernel found dead after a cell answered was killed by that cell (a process it
        killed took the kernel down a moment later): the cell is blamed, not the next one,
        and it is left out of the replay, which it would kill again."""
        cell = self._last_run
        if cell is None or self._restarts > MAX_RESTARTS or not self.session.found_dead():
            return
        if cell in self._succeeded:
            self._succeeded.remove(cell)
            self._unmade.update(dict.fromkeys(cell.makes, _where(cell)))
        self._record_death(cell)

    def _restart(self) -> None:
        self._restarts += 1
        self._last_run = None
        if self._restarts > MAX_RESTARTS:
            return
        self.session.restart()
        for cell in list(self._succeeded):
            run = self.session.execute(cell.source, cell.position, cell.budget)
            self._last_run = cell
            if run.status is CellRunStatus.KERNEL_DIED:
                self.session.restart()
                self._last_run = None
                break

    def _record_timeout(self, cell: CodeCell) -> None:
        if cell.budget is None:
            summary = _("did not finish within {seconds} s and was stopped").format(
                seconds=f"{self.cell_timeout:g}"
            )
        else:
            summary = _(
                "line {line} was stopped after {seconds} s: only definitions run for this "
                "assignment, and a statement that runs this long is taken for training"
            ).format(line=cell.first_line, seconds=f"{cell.budget:g}")
        line = 0 if cell.budget is None else cell.first_line  # a piece: the line it starts on
        rest = _("The rest of the notebook still ran.")
        self._record(cell, CellEventKind.TIMEOUT, summary, rest, line)

    def _record_error(self, cell: CodeCell, reply: dict[str, Any]) -> None:
        ename, evalue = reply.get("ename", "Error"), reply.get("evalue", "")
        lines = [_ANSI.sub("", line) for line in reply.get("traceback", [])]
        detail = "\n".join(lines)[-4000:]
        if ename == "SystemExit":  # exit(), quit(), sys.exit(): see kernel.SETUP_CODE
            self._record(
                cell,
                CellEventKind.ERROR,
                "called exit() (or sys.exit, or raised SystemExit): the rest of this cell "
                "did not run; the cells after it did",
                detail,
            )
            return
        hit = classify_error(ename, evalue, self.session.limits)
        if hit is None:
            top = _TOP_FRAME.search(detail)
            line = cell.first_line - 1 + int(top.group(1)) if top else 0
            self._record(cell, CellEventKind.ERROR, f"{ename}: {evalue}"[:300], detail, line)
            return
        if hit.restart:  # the cell's variables or processes may still hold what it took
            detail = f"The kernel was restarted to free it; {AFTER_RESTART}\n\n{detail}"
            self._restart()
        self._record(cell, hit.kind, hit.summary, detail)

    def _death(self) -> LimitHit:
        return (self.session.last_exit or KernelExit()).explain(self.session.limits)

    def _record_stand_ins(self) -> list[tuple[CodeCell, StandIn]]:
        """Say which imports the kernel replaced by stand-ins (see nngrade_stand_ins)."""
        placed = self._in_cells(self._ask(Op.STAND_INS).stand_ins)
        for cell, record in placed:
            detail = "The rest of the cell still ran. Code that uses the module fails with "
            detail += "ModuleNotFoundError."
            if record.star:
                detail = (
                    f"`{record.line}` imported nothing, so the names it would have given are "
                    "not defined: code that uses them fails with NameError."
                )
            self._record(
                cell,
                CellEventKind.STAND_IN,
                f"line {record.lineno}: {missing_module(record)}; the import was replaced by "
                "an empty stand-in",
                detail,
            )
        return placed

    def _link_name_errors(self, stand_ins: list[tuple[CodeCell, StandIn]]) -> None:
        """A cell's NameError about a name that a failed ``from x import *`` in it or an
        earlier cell would have given: say so where the NameError is reported."""
        for event in self.events:
            found = _NAME_ERROR.match(event.summary) if event.kind is CellEventKind.ERROR else None
            if found is None:
                continue
            before = [(f"cell {c.position}", r) for c, r in stand_ins if c.position <= event.cell]
            origin = name_origin(found.group(1), before)
            if origin:
                event.summary = origin[:300]

    def _record_guard_attempts(self) -> None:
        """Note what the guard refused (imports of the grader's modules, its files) in
        cells whose error did not already say so: a student may have caught the error."""
        noted = {(e.cell, e.kind) for e in self.events}
        for cell, attempt in self._in_cells(self._ask(Op.GUARD).attempts):
            if (cell.position, CellEventKind.FORBIDDEN) in noted:
                continue
            noted.add((cell.position, CellEventKind.FORBIDDEN))
            tried = (
                _(
                    "tried to import `{name}`, which belongs to the grader; this was blocked, "
                    "so code relying on it gets no credit"
                )
                if attempt.what == "import"
                else _(
                    "tried to open `{name}`, which belongs to the grader; this was blocked, "
                    "so code relying on it gets no credit"
                )
            )
            self._record(cell, CellEventKind.FORBIDDEN, tried.format(name=attempt.name))

    def _record_redefinitions(self) -> None:
        """A function or class that several cells define: the checks call the definition
        that ran last, which is not always the one the student is looking at. Say which."""
        repeated = {
            name: cells for name, cells in definitions(self.cells).items() if len(cells) > 1
        }
        if not repeated:
            return  # the common case asks the kernel nothing
        sites = self._ask(Op.NAMES).sites or {}
        for name, cells in sorted(repeated.items()):
            count = sites.get(name)
            position = None if count is None else self.session.execution_counts.get(count)
            graded = next((cell for cell in cells if cell.position == position), None)
            if graded is None:  # not a function or class of a cell now, or cannot say which
                continue
            later = [cell.position for cell in cells if cell.position > graded.position]
            summary = _(
                "`{name}` is defined in cells {cells}; the checks grade the one in cell "
                "{graded}, the last one that ran"
            ).format(name=name, cells=numbers([c.position for c in cells]), graded=graded.position)
            if later:
                summary += " " + _("(the one in cell {cells} did not run)").format(
                    cells=numbers(later)
                )
            self._record(graded, CellEventKind.REDEFINED, summary)

    def _ask(self, op: Op) -> Reply:
        """What the kernel helper recorded while the cells ran (nothing if it cannot say)."""
        reply, _buffers = self.request({"op": op, "id": op}, [], self.cell_timeout)
        return reply

    def _in_cells(self, records: Iterable[_Placed]) -> list[tuple[CodeCell, _Placed]]:
        """Records that name the cell where something happened (by execution count), each
        with its cell, leaving out those no cell of ours ran."""
        by_position = {cell.position: cell for cell in self.cells}
        found = []
        for record in records:
            if record.execution_count is None:
                continue
            position = self.session.execution_counts.get(record.execution_count)
            if position in by_position:
                found.append((by_position[position], record))
        return found

    def _record(
        self, cell: CodeCell, kind: CellEventKind, summary: str, detail: str = "", line: int = 0
    ) -> None:
        event = CellEvent(cell.position, kind, summary, detail, cell.head, line)
        self.events.append(event)
        if kind not in _NOT_FAILURES:
            self._failures.append((cell, event))

    def explain_missing(self, name: str) -> str | None:
        """Why ``name`` is not defined although a cell defines it, naming that cell; None
        when no cell does (or nothing is known)."""
        site = self.definitions.get(name)
        if site is None:
            return None
        if site.not_run:
            return f"`{name}` is defined {site.not_run}."
        for cell, event in self._failures:
            if cell.position != site.cell or cell.first_line > site.line:
                continue
            words = {"name": name, "cell": site.cell, "line": site.line}
            if event.kind is CellEventKind.ERROR:
                return _(
                    "`{name}` would be defined by cell {cell} (line {line}), which raised {error}."
                ).format(error=event.summary.split(":")[0], **words)
            if event.kind is CellEventKind.SKIPPED:
                return _(
                    "`{name}` would be defined by cell {cell} (line {line}), which was {what}."
                ).format(what=event.summary, **words)
            return _(
                "`{name}` would be defined by cell {cell} (line {line}), which did not finish: "
                "{what}."
            ).format(what=event.summary, **words)
        return None

    # -- the Transport the checks use ------------------------------------------------------

    def request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[Reply, list[bytes]]:
        if self._restarts > MAX_RESTARTS:
            return Reply(Status.KERNEL_DIED), []
        limit = self.session.limits.value_size
        try:
            raw, out = self.session.request({**data, "max_bytes": limit}, buffers, timeout)
        except CallTimeout as exc:
            if not exc.recovered:
                self._restart()
            return Reply(Status.TIMEOUT), []
        except KernelDied:
            reason = self._death().summary
            self._restart()
            return Reply(Status.KERNEL_DIED, reason=reason), []
        if sum(len(b) for b in out) > limit:  # the helper in the kernel was tampered with
            message = f"the value is larger than the {format_size(limit)} limit"
            return Reply(Status.UNENCODABLE, message=message), []
        try:
            return decode_reply(raw), out
        except ProtocolError as exc:
            # nngrade's fault (or a tampered helper's), never the student's, and never a
            # reason to stop the batch: the call fails with nngrade's own explanation.
            return Reply(Status.BRIDGE_ERROR, message=f"its reply could not be read: {exc}"), []

    @property
    def generation(self) -> int:
        return self.session.generation

    def describe_cell(self, execution_count: int | None) -> str | None:
        if execution_count is None:
            return None
        position = self.session.execution_counts.get(execution_count)
        # Not translated: reports find the raising line from "cell N, line M" and rewrite
        # it into the student's own name for the cell, in the page's language.
        return f"cell {position}" if position and position > 0 else None
