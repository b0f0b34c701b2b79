"""What a student's report shows, worked out from a result and the submitted notebook.

- ``fixes``: the "What to fix first" entries, one per root cause, most points first. A
  cause is the check's ``cause`` (CheckFailure); else the line that raised, for an
  exception; else the check a shortened message refers to ("The check “X” explains it in
  full"); else the message itself. Each entry quotes the student's code with the relevant
  lines highlighted, the values the message names, and a call to paste.
- ``rows``: every check, with what it says beyond its entry's diagnosis (no message twice).
- ``cells``: the cells that did not simply run, one item per cell, named the way the
  student sees them, tracebacks cleaned of grader internals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.checks._i18n import gettext as _
from grader.grading.results import CellEvent, CheckResult, SubmissionResult
from grader.outputs.code_lines import Excerpt, excerpts, relevant_lines
from grader.outputs.notebook_cells import NotebookCell, cell_label, read_cells
from grader.outputs.student_text import clean_traceback, student_message, student_notes
from grader.outputs.values import Difference, array_picture, differences, inputs, reproduce_snippet
from grader.outputs.wording import cell_kind_words, check_label, first_line
from grader.outputs.written import is_written

__all__ = ["CellItem", "CheckRow", "Fix", "ReportView", "build_view"]

_EXPLAINED_IN = re.compile(r"The check “(.+?)” explains it in full\.\s*$")
_NO_POINTS_LOST = re.compile(r"^No points lost: .*\n", re.S)
_RAISED_AT = re.compile(r"\bcell (\d+), line (\d+)\b")
_LINE_PREFIX = re.compile(r"^line (\d+)(?: not run)?:\s*")
_FRAME_LINE = re.compile(r"^\s*cell \d+, line \d+, in .*$\n?", re.M)  # quoted as code instead
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_SUBJECT = re.compile(r"^\s*(?:Not judged because\s+)?(\w+)\(")


@dataclass
class Fix:
    number: int
    diagnosis: str  # the full explanation, in the student's words
    also: list[str]  # other errors the same line raised in other checks
    checks: list[CheckResult]
    points_lost: float
    code: list[Excerpt]
    given: dict[str, str]  # the input, by argument name
    values: list[Difference]
    picture: str  # inline SVG markup (built from numbers only) or ""
    snippet: str
    links: list[tuple[str, str, float]] = field(default_factory=list)  # label, anchor, lost
    shared: str = ""  # the diagnosis several value failures share: the entry's headline

    @property
    def headline(self) -> str:
        if self.shared:
            return self.shared
        lines = [line.strip() for line in self.diagnosis.splitlines() if line.strip()]
        if len(lines) > 1 and lines[0].endswith(":"):
            return f"{lines[0]} {lines[1]}"
        return lines[0] if lines else ""

    @property
    def body(self) -> str:
        """The diagnosis after its headline (which the entry shows on its own)."""
        lines = [line for line in self.diagnosis.splitlines() if line.strip()]
        if self.shared:
            return "\n".join(lines).rstrip()
        skip = 2 if len(lines) > 1 and lines[0].strip().endswith(":") else 1
        return "\n".join(lines[skip:]).rstrip()


@dataclass
class CheckRow:
    check: CheckResult
    anchor: str  # "check-3": its place on the page (test ids stay off a student's page)
    kind: str  # passed, failed, not_judged, error
    text: str  # what this check adds to its entry's diagnosis ("" when nothing)
    fix: int | None  # the number of its "What to fix first" entry


@dataclass
class CellItem:
    label: str
    lines: list[str]  # what happened, one line per event
    details: list[str]  # cleaned tracebacks and the like
    code: Excerpt | None = None
    serious: bool = True  # an error, a timeout, a limit: not a line skipped or a stand-in


@dataclass
class ReportView:
    fixes: list[Fix] = field(default_factory=list)
    passed: list[CheckRow] = field(default_factory=list)
    problems: list[CheckRow] = field(default_factory=list)
    cells: list[CellItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed_count: int = 0
    not_checked_count: int = 0
    total_checks: int = 0
    band: str = "none"


def _kind(check: CheckResult) -> str:
    if check.outcome == "error":
        return "error"
    if check.outcome == "not_judged":
        return "not_judged"
    return "passed" if check.passed else "failed"


def _cause_key(check: CheckResult, keys: dict[str, object]) -> object:
    if check.cause:
        return ("cause", check.cause)
    message = _NO_POINTS_LOST.sub("", check.message)
    explained = _EXPLAINED_IN.search(message)
    if explained and explained.group(1) in keys:
        return keys[explained.group(1)]
    if "raised an exception" in message.split("\n", 1)[0]:
        raised = _RAISED_AT.findall(message)
        if raised:
            return ("raised", raised[-1])
    shared = diagnosis_line(message)
    if shared:
        subject = _SUBJECT.match(message)
        return ("diagnosis", subject.group(1) if subject else "", _NUMBER.sub("#", shared))
    return ("message", message.strip())


def diagnosis_line(message: str) -> str:
    """The sentence that says what is wrong, in a value failure of several lines (its last
    line that is not an example): "dW3 and db3 are right but dW2 and db2 are wrong: ...".
    Failures of several values (dW2, db2, dW1) that end in the same one share a cause."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if len(lines) < 3 or not _SUBJECT.match(lines[0]) or "raised an exception" in lines[0]:
        return ""
    tail = [line for line in lines[1:] if not line.startswith(("at ", "For example"))]
    if not tail:
        return ""
    return re.split(r"(?<=[.:;])\s", tail[-1], maxsplit=1)[0]


def band(result: SubmissionResult) -> str:
    """The score bar's colour: full, good (80% or more), partial (50% or more), low."""
    if result.max_score <= 0:
        return "none"
    share = result.score / result.max_score
    if share >= 0.9999:
        return "full"
    return "good" if share >= 0.8 else "partial" if share >= 0.5 else "low"


def build_view(result: SubmissionResult) -> ReportView:
    cells = read_cells(result.path) if result.path else {}
    view = ReportView(notes=student_notes(result.notes), band=band(result))
    # Written answers marked by hand have their own section (_answers.html.j2).
    checks = [check for check in result.checks if not is_written(check.name)]
    view.total_checks = len(checks)
    groups: dict[object, list[CheckResult]] = {}
    keys: dict[str, object] = {}  # a check's description -> its group
    for check in checks:
        if check.passed or check.outcome == "error":
            continue
        key = _cause_key(check, keys)
        groups.setdefault(key, []).append(check)
        keys[check.description or check.name] = key
    _attach_not_judged(groups)
    _merge_same_lines(groups, cells)
    ordered = sorted(
        groups.values(),
        key=lambda members: (
            all(c.outcome == "not_judged" for c in members),  # the real causes first
            -sum(c.max_points - c.points for c in members),
        ),
    )
    anchors = {id(check): f"check-{n}" for n, check in enumerate(checks, start=1)}
    fix_of: dict[int, Fix] = {}
    for number, members in enumerate(ordered, start=1):
        fix = _fix(number, members, cells)
        fix.links = [(check_label(c), anchors[id(c)], c.max_points - c.points) for c in members]
        view.fixes.append(fix)
        for check in members:
            fix_of[id(check)] = fix
    for check in checks:
        kind = _kind(check)
        home = fix_of.get(id(check))
        text = _row_text(check, home, cells)
        row = CheckRow(check, anchors[id(check)], kind, text, home.number if home else None)
        (view.passed if kind == "passed" else view.problems).append(row)
    view.failed_count = sum(1 for c in checks if not c.passed and c.outcome != "error")
    view.not_checked_count = sum(1 for c in checks if c.outcome == "error")
    view.cells = _cell_items(result.cells, cells)
    return view


def _subjects(members: list[CheckResult]) -> set[str]:
    """The functions a group's messages are about: the call they start with, the names
    they quote (`relu`)."""
    names: set[str] = set()
    for check in members:
        first = check.message.split("\n", 1)[0]
        if match := _SUBJECT.match(first):
            names.add(match.group(1))
        names.update(re.findall(r"`(\w+)`", first))
    return names


def _attach_not_judged(groups: dict[object, list[CheckResult]]) -> None:
    """A check not judged because a function is still wrong belongs with that function's
    mistake: fixing it is what makes the check count."""
    real = [
        (key, _subjects(members))
        for key, members in groups.items()
        if any(c.outcome != "not_judged" for c in members)
    ]
    for key, members in list(groups.items()):
        if any(c.outcome != "not_judged" for c in members):
            continue
        subject = _SUBJECT.match(members[0].message)
        home = next((other for other, names in real if subject and subject.group(1) in names), None)
        if home is not None:
            groups[home].extend(members)
            del groups[key]


def _merge_same_lines(
    groups: dict[object, list[CheckResult]], cells: dict[int, NotebookCell]
) -> None:
    """Failures that point at the very same lines of the student's code are fixed there
    together: one entry (W3 and b3 both missing from the same `return grads`)."""
    home: dict[frozenset[tuple[int, int]], object] = {}
    for key, members in list(groups.items()):
        judged = [c for c in members if c.outcome != "not_judged"]
        # Exceptions are grouped by the line that raised; a value failure at that line
        # is another mistake there (torch.log on an array vs a sum for a mean).
        if not judged or any(_error_line(c.message) for c in judged):
            continue
        found = relevant_lines(max((c.message for c in judged), key=len), cells)
        lines = frozenset((p, n) for p, numbers in found.items() for n in numbers)
        if not lines:
            continue
        if lines in home:
            groups[home[lines]].extend(groups.pop(key))
        else:
            home[lines] = key


def _fix(number: int, members: list[CheckResult], cells: dict[int, NotebookCell]) -> Fix:
    # The member that explains it in full: the longest message (the others are short forms);
    # a check not judged only points at the others.
    judged = [c for c in members if c.outcome != "not_judged"] or members
    messages = [_NO_POINTS_LOST.sub("", c.message) for c in judged]
    full = max(messages, key=len)
    shared = ""
    if len({m.split("\n", 1)[0] for m in messages}) > 1 and diagnosis_line(full):
        # Several values wrong for one reason: the entry leads with the reason, and its
        # numbers are the first value's (each check's own are in its fold below).
        lines = full.splitlines()
        last = next(line for line in reversed(lines) if line.strip())
        shared = student_message(last.strip(), cells)
        first = next(m for m in messages if diagnosis_line(m))
        full = "\n".join(line for line in first.splitlines() if line.strip() not in last)
    found = relevant_lines(full if not shared else f"{full}\n{shared}", cells)
    values = differences(full)
    picture = next((array_picture(v.expected, v.got) for v in values if not v.where), "")
    shown = _FRAME_LINE.sub("", full) if found else full
    errors = [_error_line(c.message) for c in judged]
    also = sorted({e for e in errors if e and e != _error_line(full)})
    if not shared:  # merged by their lines: the other mistakes' own headlines
        heads = [
            first_line(m)
            for m in messages
            if not _EXPLAINED_IN.search(m) and "raised an exception" not in first_line(m)
        ]
        also += [h for h in dict.fromkeys(heads) if h and h != first_line(full)]
    return Fix(
        number=number,
        diagnosis=student_message(shown, cells),
        also=[student_message(e, cells) for e in also],
        checks=members,
        points_lost=sum(c.max_points - c.points for c in members),
        code=excerpts(found, cells),
        given=inputs(full),
        values=values,
        picture=picture,
        snippet=reproduce_snippet(full),
        shared=shared,
    )


def _error_line(message: str) -> str:
    """The "TypeError: ..." line of a message that reports an exception, or ""."""
    lines = message.split("\n")
    if len(lines) > 1 and "raised an exception" in lines[0]:
        return lines[1].strip()
    return ""


def _row_text(check: CheckResult, fix: Fix | None, cells: dict[int, NotebookCell]) -> str:
    if check.outcome == "error" or not check.message:
        return student_message(check.message, cells) if check.outcome != "error" else ""
    if fix is None:
        return student_message(check.message, cells)
    raw = _FRAME_LINE.sub("", _EXPLAINED_IN.sub("", check.message)).strip()
    text = student_message(raw, cells)
    # Only the lines the entry does not already say: a check's own numbers, its m.
    shown = {line.strip() for line in fix.diagnosis.splitlines()} | set(fix.also)
    shown |= {fix.headline, *fix.headline.split(": ", 1)}
    shown = {line.rstrip(".") for line in shown}
    lines = [
        line for line in text.splitlines() if line.strip() and line.strip().rstrip(".") not in shown
    ]
    if lines and lines[0].strip().endswith(":") and len(lines) == 1:
        return ""  # "f(x) raised an exception:" with its error already in the entry
    return "\n".join(lines).strip()


def _cell_items(events: list[CellEvent], cells: dict[int, NotebookCell]) -> list[CellItem]:
    by_cell: dict[int, CellItem] = {}
    marked: dict[int, set[int]] = {}
    for event in events:
        item = by_cell.get(event.cell)
        if item is None:
            item = by_cell[event.cell] = CellItem(
                cell_label(event.cell, cells, event.source_head), [], [], serious=False
            )
        line = event.line or _legacy_line(event)
        # Inside the cell's own item, "cell 3" is "this cell".
        own = re.sub(rf"\bcell {event.cell}\b(?!, line)", _("this cell"), event.summary)
        summary = student_message(_LINE_PREFIX.sub("", own), cells)
        words = _(cell_kind_words(event.kind))
        where = _("Line {line}").format(line=line) if line else _("The cell")
        item.lines.append(f"{where} {words}: {summary}" if summary else f"{where} {words}")
        if event.detail and event.kind not in ("skipped",):
            cleaned = (
                clean_traceback(event.detail, cells)
                if event.kind == "error"
                else student_message(event.detail, cells)
            )
            if cleaned and cleaned not in item.details:
                item.details.append(cleaned)
        if event.kind not in ("skipped", "stand_in", "large_output", "redefined"):
            item.serious = True
        if line:
            marked.setdefault(event.cell, set()).add(line)
    for position, item in by_cell.items():
        if position in marked and position in cells:
            shown = excerpts({position: marked[position]}, cells)
            item.code = shown[0] if shown else None
    return [by_cell[p] for p in sorted(by_cell)]


def _legacy_line(event: CellEvent) -> int:
    """Results written before CellEvent had ``line`` say "line N not run: ..."."""
    match = _LINE_PREFIX.match(event.summary) if event.kind in ("skipped", "stand_in") else None
    return int(match.group(1)) if match else 0
