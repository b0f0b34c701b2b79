"""Turn grading results into student HTML reports, grades.csv, results.json and terminal tables."""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from grader.grading.results import SubmissionResult, nngrade_version

__all__ = [
    "CELL_KIND_WORDS",
    "CSV_COLUMNS",
    "TEMPLATES_DIR",
    "atomic_write_text",
    "format_points",
    "first_line",
    "format_table",
    "headline",
    "render_report",
    "template_environment",
    "write_grades_csv",
    "write_report",
    "write_results_json",
]


def _templates_dir() -> Path:
    # The wheel carries the top-level templates/ as grader/templates/ (pyproject's
    # package-dir); a checkout, editable or not, reads them where they are edited.
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


TEMPLATES_DIR = _templates_dir()

CSV_COLUMNS = (
    "id",
    "submission",
    "score",
    "max_score",
    "status",
    "reason",
    "failed_checks",
    "report",
)

# Words used for a cell event, shared by the HTML report and the terminal table.
CELL_KIND_WORDS = {
    "stand_in": "imports a module that is not installed",
    "error": "raised an error",
    "timeout": "timed out",
    "kernel_died": "killed the kernel (the kernel was restarted and grading went on)",
    "skipped": "skipped while grading",
    "large_output": "printed a very large output (not kept)",
    "memory_limit": "hit the memory limit",
    "cpu_limit": "hit the CPU time limit",
    "file_limit": "hit the file size limit",
    "process_limit": "hit the process limit",
    "forbidden": "reached for the grader's own code or files",
    "input": "waited for keyboard input",
}


def format_points(value: float) -> str:
    """Format points for people: ``2.0`` -> ``"2"``, ``0.5`` -> ``"0.5"``, ``1/3`` -> ``"0.33"``."""
    # Two decimals is finer than any rubric uses and hides float noise such as 0.30000000000000004.
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _percent(result: SubmissionResult) -> float | None:
    """Share of the maximum score in 0..100, or None when there is nothing to score against."""
    if result.max_score <= 0:
        return None
    return min(100.0, max(0.0, 100.0 * result.score / result.max_score))


@functools.lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The jinja2 environment for every HTML page nngrade writes (reports, the class summary)."""
    # Built once: jinja2 compiles and caches templates per Environment.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # student text (file names, messages, tracebacks) may contain HTML
        undefined=StrictUndefined,  # a typo in the template fails loudly instead of rendering ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["points"] = format_points
    return env


def render_report(result: SubmissionResult) -> str:
    """Render the self-contained HTML report a student reads for one submission."""
    template = template_environment().get_template("report.html.j2")
    return template.render(result=result, percent=_percent(result), cell_kinds=CELL_KIND_WORDS)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp file must live in the same directory: os.replace is only atomic within a filesystem.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        # newline="" writes the text exactly as given (the csv module already chose "\r\n").
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600 files; keep an existing file's mode, else make it world-readable
        # so a TA or a web server can open the reports.
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself survive a power loss; not supported everywhere (e.g. Windows).
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_report(result: SubmissionResult, reports_dir: Path) -> Path:
    """Write ``reports_dir/<id>.html`` for one submission and return its path."""
    path = reports_dir / f"{result.id}.html"
    atomic_write_text(path, render_report(result))
    return path


def write_grades_csv(results: Sequence[SubmissionResult], path: Path) -> None:
    """Write one row per submission, for a spreadsheet or an LMS upload."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for result in results:
        writer.writerow(
            [
                result.id,
                result.submission,
                format_points(result.score),
                format_points(result.max_score),
                result.status,
                result.reason,
                "; ".join(check.name for check in result.failed_checks),
                # Relative to the CSV so the output folder can be moved or zipped as a whole.
                f"reports/{result.id}.html",
            ]
        )
    atomic_write_text(path, buffer.getvalue())


def write_results_json(results: Sequence[SubmissionResult], path: Path) -> None:
    """Write every result as JSON that ``SubmissionResult.from_dict`` reads back."""
    data = {
        "nngrade_version": nngrade_version(),
        "submissions": [result.to_dict() for result in results],
    }
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _char_width(char: str) -> int:
    # Korean and other wide characters take two terminal columns; combining marks take none.
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` terminal columns, ending in "…" when it was cut."""
    text = text.replace("\t", " ")
    if sum(_char_width(c) for c in text) <= width:
        return text
    out: list[str] = []
    used = 0
    for char in text:
        char_width = _char_width(char)
        if used + char_width > width - 1:
            break
        out.append(char)
        used += char_width
    return "".join(out) + "…"


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped: a message's headline for tables."""
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


def headline(message: str) -> str:
    """A failure message's headline for a table row: its first line, joined with the next
    when it only introduces it ("square(x) raised an exception:" says little alone)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {lines[1]}"
    return lines[0] if lines else ""


def format_table(result: SubmissionResult, width: int = 100) -> str:
    """A compact plain-text summary of one result for a terminal, each line at most ``width``."""
    width = max(width, 20)  # below this nothing useful fits
    if result.status != "graded":
        label = "ungradable" if result.status == "ungradable" else "error in nngrade"
        reason_lines = result.reason.strip().splitlines() or ["(no reason given)"]
        reason_lines[0] = f"{label}: {reason_lines[0]}"
        return "\n".join(_fit(line, width) for line in reason_lines)

    lines: list[str] = []
    earned = [f"{format_points(c.points)}/{format_points(c.max_points)}" for c in result.checks]
    points_width = max((len(p) for p in earned), default=0)
    for check, points in zip(result.checks, earned, strict=True):
        if check.outcome == "error":
            label = "ERROR"
        else:
            label = "PASS" if check.passed else "FAIL"
        text = check.description or check.name
        if check.hidden:
            text += " (hidden)"
        if not check.passed:
            first = headline(check.message)
            if first:
                text += f" - {first}"
        lines.append(_fit(f"{label:<5} {points:>{points_width}}  {text}", width))
    for event in result.cells:
        summary = event.summary or CELL_KIND_WORDS.get(event.kind, event.kind)
        lines.append(_fit(f"cell {event.cell}: {first_line(summary)}", width))
    total = f"Score: {format_points(result.score)}/{format_points(result.max_score)}"
    if result.mode == "check":
        total += " (self-check: visible checks only)"
    lines.append(_fit(total, width))
    return "\n".join(lines)
