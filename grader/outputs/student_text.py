"""Text from the grader made fit for a student's page: no grader internals.

Tracebacks keep only the frames in the student's own cells (frames in nngrade's kernel
helpers or in libraries are dropped), IPython's temporary file names (``2511288192.py``) and
``Cell In[3]`` become the cell as the student sees it, and messages written for the grader
("cannot be sent as data") are said in the student's terms. The instructor's outputs (JSON,
CSV, the class summary) keep the original text.
"""

from __future__ import annotations

import re

from grader.checks._i18n import gettext as _
from grader.outputs.notebook_cells import NotebookCell, cell_label, rewrite_cell_references

__all__ = ["SANDBOX_NOTE_START", "clean_traceback", "student_message", "student_notes"]

SANDBOX_NOTE_START = "The sandbox was off"  # grader/runner/sandbox.py: for the instructor only
_RULE = re.compile(r"^-{20,}$")
_CELL_FRAME = re.compile(r"^Cell In\s*\[\d*\], line (\d+)")
_FILE_FRAME = re.compile(r"^File \S.*?:(\d+)(?:, in .*)?$")
_PLAIN_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+)')
_TEMP_FILE = re.compile(r"(?:[\w/.-]*/)?(?:ipykernel_\d+/)?\d{6,}\.py")
_ARROW = re.compile(r"^-*>\s*(\d+)\s?(.*)$")
_UNENCODABLE = re.compile(
    r"returned something nngrade cannot read: (?:a value of type (\w+)|(.+?)) cannot be sent "
    r"as data\.?"
)


def _is_cell_file(path: str) -> bool:
    return bool(_TEMP_FILE.fullmatch(path.strip())) or path.startswith("<ipython-input")


def _which_cell(line: int, code: str, cells: dict[int, NotebookCell]) -> str:
    """The student's name of the cell whose line ``line`` reads ``code``, found by content:
    IPython's ``In[k]`` counts the grader's runs, not the student's."""
    code = code.strip()
    if code:
        for position, cell in cells.items():
            lines = cell.lines
            if 1 <= line <= len(lines) and lines[line - 1].strip() == code:
                return cell_label(position, cells)
    return _("your cell")


def clean_traceback(text: str, cells: dict[int, NotebookCell]) -> str:
    """A cell's traceback with only the student's own frames, in the student's words."""
    kept: list[str] = []
    dropped = 0
    frame: list[str] | None = None  # the frame being read; None between frames

    def close() -> None:
        nonlocal frame, dropped
        if frame is None:
            return
        first = frame[0]
        if cell_frame := _CELL_FRAME.match(first):
            arrow = next((m for line in frame[1:] if (m := _ARROW.match(line.strip()))), None)
            where = _which_cell(int(cell_frame.group(1)), arrow.group(2) if arrow else "", cells)
            kept.extend([f"In {where}, line {cell_frame.group(1)}", *frame[1:], ""])
        elif (file_frame := _FILE_FRAME.match(first)) and _is_cell_file(first[5:].split(":")[0]):
            kept.extend([f"In your cell, line {file_frame.group(1)}", *frame[1:], ""])
        else:
            dropped += 1
        frame = None

    for line in text.strip("\n").split("\n"):
        stripped = line.strip()
        if _RULE.match(stripped):
            continue
        if _CELL_FRAME.match(stripped) or _FILE_FRAME.match(stripped):
            close()
            frame = [stripped]
        elif frame is not None and stripped:
            frame.append(line)
        else:
            close()
            if stripped or (kept and kept[-1]):
                kept.append(line)
    close()
    lines = _drop_plain_frames(kept)
    if dropped:
        # Before the error line, which ends the traceback.
        end = max((n for n, line in enumerate(lines) if line.strip()), default=-1)
        lines.insert(max(end, 0), _("(the lines that ran inside library code are left out)"))
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return student_message(cleaned, cells)


def _drop_plain_frames(lines: list[str]) -> list[str]:
    """Python's own traceback format: drop ``File "..."`` frames outside the cells, with the
    source line under each."""
    out: list[str] = []
    skip_source = False
    for line in lines:
        frame = _PLAIN_FRAME.match(line)
        if frame:
            skip_source = not _is_cell_file(frame.group(1))
            if not skip_source:
                out.append(f"  In your cell, line {frame.group(2)}")
            continue
        if skip_source and line.startswith("    "):
            continue
        skip_source = False
        out.append(line)
    return out


def student_message(text: str, cells: dict[int, NotebookCell]) -> str:
    """A message with the grader's words and file names replaced by the student's."""

    def unencodable(match: re.Match[str]) -> str:
        kind = match.group(1)
        what = f"a value of type {kind}" if kind else "a value"
        return (
            f"returned {what}, which the checks cannot compare: return a NumPy array, a number, "
            "or a list, tuple or dict of those."
        )

    text = _UNENCODABLE.sub(unencodable, text)
    text = re.sub(r"\bcannot be sent as data\b", "cannot be checked as a value", text)
    text = re.sub(r"\((?:[\w/.-]*/)?\d{6,}\.py, line (\d+)\)", r"(line \1 of the cell)", text)
    text = _TEMP_FILE.sub("your cell", text)
    return rewrite_cell_references(text, cells)


def student_notes(notes: list[str]) -> list[str]:
    """The notes a student should read: the sandbox note is for the instructor."""
    return [note for note in notes if not note.startswith(SANDBOX_NOTE_START)]
