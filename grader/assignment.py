"""An assignment folder: its settings, check files, template, solution and support files."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Assignment", "AssignmentError"]

CONFIG = "assignment.toml"
# "all": every cell runs. "definitions": only imports, functions, classes and assignments
# (see grader/definitions.py), for notebooks that download data and train at the top level.
EXECUTE_MODES = ("all", "definitions")


class AssignmentError(ValueError):
    """The assignment folder is missing or malformed (an instructor's error, exit code 2)."""


@dataclass(frozen=True)
class Assignment:
    root: Path
    name: str
    title: str
    checks: tuple[Path, ...]
    template: Path | None
    solution: Path | None
    support_files: tuple[Path, ...]
    execute: str = "all"

    @classmethod
    def load(cls, root: Path) -> Assignment:
        root = Path(root).resolve()
        config_path = root / CONFIG
        if not config_path.is_file():
            raise AssignmentError(f"{root} is not an assignment folder (no {CONFIG})")
        try:
            config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise AssignmentError(f"{config_path}: {exc}") from exc
        checks = tuple(root / name for name in config.get("checks", []))
        if not checks:
            raise AssignmentError(f"{config_path}: 'checks' must list at least one file")
        support = tuple(root / name for name in config.get("support_files", []))
        for path in (*checks, *support):
            if not path.is_file():
                raise AssignmentError(f"{config_path}: {path.name} does not exist")
        execute = str(config.get("execute", "all"))
        if execute not in EXECUTE_MODES:
            modes = " or ".join(f"'{mode}'" for mode in EXECUTE_MODES)
            raise AssignmentError(f"{config_path}: 'execute' must be {modes}, not '{execute}'")
        return cls(
            root=root,
            name=str(config.get("name", root.name)),
            title=str(config.get("title", root.name)),
            checks=checks,
            template=_optional(root, config.get("template")),
            solution=_optional(root, config.get("solution")),
            support_files=support,
            execute=execute,
        )

    @property
    def version(self) -> str:
        """A hash of the checks and support files: results change only when it does."""
        digest = hashlib.sha256()
        for path in (self.root / CONFIG, *self.checks, *self.support_files):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:12]


def _optional(root: Path, name: object) -> Path | None:
    return root / str(name) if name else None
