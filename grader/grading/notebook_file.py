"""Reading a handed-in file as a notebook, or saying plainly why it cannot be graded."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = ["Ungradable", "read_notebook"]

MAX_BYTES = 200 * 1024 * 1024


class Ungradable(ValueError):
    """The file cannot be graded; the message says why, in a sentence for the student."""


def read_notebook(path: Path, notes: list[str] | None = None) -> NotebookNode:
    """Read ``path`` as an nbformat-4 Python notebook (converting older formats).

    What the student should know about the file (replaced bytes, a conversion) is
    appended to ``notes``.
    """
    notes = notes if notes is not None else []
    if not path.exists():
        raise Ungradable(f"{path} does not exist")
    if not path.is_file():
        raise Ungradable(f"{path} is not a file")
    if path.stat().st_size > MAX_BYTES:
        raise Ungradable(f"the file is larger than {MAX_BYTES // 2**20} MB")
    raw = path.read_bytes()
    if not raw.strip():
        raise Ungradable("the file is empty")
    # Stray non-UTF-8 bytes (an editor's mistake) should not cost a student the grade.
    text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text and "\ufffd".encode() not in raw:
        notes.append(
            "The file has bytes that are not UTF-8 text; they were replaced by \ufffd. "
            "Save the notebook from Jupyter or Colab to avoid this."
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Ungradable(
            f"the file is not a Jupyter notebook: it is not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise Ungradable("the file is JSON but not a Jupyter notebook (it has no cells)")
    major = data.get("nbformat")
    if not isinstance(major, int) or not 1 <= major <= nbformat.current_nbformat:
        raise Ungradable(f"the file names an unknown notebook format ({major!r})")
    try:
        nb = nbformat.from_dict(data)
        if major < 4:
            nb = _convert(nb)
            notes.append(
                f"The notebook was saved in the old nbformat {major} (Jupyter before 2015) and "
                "was converted to read it; save it in a current Jupyter or Colab next time."
            )
    except Exception as exc:  # noqa: BLE001 - any structural surprise makes it ungradable
        raise Ungradable(f"the notebook's structure is damaged: {exc}") from None
    language = _language(nb)
    if language and language != "python":
        raise Ungradable(f"the notebook is written for {language}, not Python")
    for cell in nb.cells:
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else str(source)
    return nb


def _convert(nb: NotebookNode) -> NotebookNode:
    """Upgrade to nbformat 4; a failure is reported to the student, not logged."""
    logger = logging.getLogger("traitlets")  # where nbformat logs an invalid old notebook
    disabled, logger.disabled = logger.disabled, True
    try:
        return nbformat.convert(nb, 4)
    finally:
        logger.disabled = disabled


def _language(nb: NotebookNode) -> str:
    metadata = nb.get("metadata", {})
    info = metadata.get("language_info", {}) or {}
    spec = metadata.get("kernelspec", {}) or {}
    return str(info.get("name") or spec.get("language") or "").lower()
