"""Writing output files: atomically, in UTF-8 that whatever a student printed can be written in."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_text", "escape_matches", "json_text"]

_SURROGATE = re.compile("[\ud800-\udfff]")


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


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_matches(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with each character ``pattern`` matches written as the escape Python and JSON
    both write for it: ``\\x1b``, ``\\ud800``."""
    return pattern.sub(_escape_char, text)


def json_text(data: dict[str, Any]) -> str:
    """``data`` as indented JSON text that can be written as UTF-8 whatever a student
    printed (results.json, Gradescope's results.json, ``nngrade check --json``)."""
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    # A lone surrogate (from a student's odd output) cannot be written as UTF-8; inside a
    # JSON string its \u escape stands for the same value.
    return escape_matches(_SURROGATE, text)
