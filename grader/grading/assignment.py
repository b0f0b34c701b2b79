"""An assignment folder: its settings, check files, template, solution and support files."""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from grader.checks._i18n import DEFAULT_LANGUAGE, LANGUAGES
from grader.grading.results import nngrade_version

__all__ = ["Assignment", "AssignmentError", "NngradeVersionError"]

CONFIG = "assignment.toml"
# "all": every cell runs. "definitions": all but what trains or downloads (see
# grader/grading/definitions.py), for notebooks that download data and train at the top level.
EXECUTE_MODES = ("all", "definitions")
# How a mistake that several checks fail for is charged (docs/authoring.md, partial credit).
CHARGE_MODES = ("once", "every")
# ``requires`` names this package before its versions: "nngrade>=0.3,<0.4".
PACKAGE = "nngrade"
# Where a self-contained copy keeps the packages the checks import.
PACKAGES_DIR = "packages"
# Never copied or hashed: caches that differ between machines.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


class AssignmentError(ValueError):
    """The assignment folder is missing or malformed (an instructor's error, exit code 2)."""


class NngradeVersionError(AssignmentError):
    """The assignment's ``requires`` excludes the nngrade that is running: its check files
    may import names this nngrade does not have, or no longer has."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


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
    # Run only when grading; never bundled for students.
    hidden_checks: tuple[Path, ...] = ()
    # Python packages (folders) the checks import, e.g. the reference solutions; their
    # parent folders are on sys.path while checks run. Instructor-only, like hidden checks.
    packages: tuple[Path, ...] = ()
    # The nngrade versions its check files are written for ("nngrade>=0.3,<0.4"): the API
    # in grader.checks they import. Empty: any.
    requires: str = ""
    # "once": a mistake that a check names as the cause of its failure costs points in the
    # first check that fails for it only; "every": in each check that fails for it.
    charge_each_cause: str = "once"
    # The language the checks' messages and the reports are written in ("" is English);
    # one with a catalogue in grader/locale (grader.checks._i18n.LANGUAGES).
    lang: str = ""
    # Modules every kernel imports as it boots (``preload = ["torch"]``): a kernel started
    # ahead of time has them ready when its submission arrives (runner/pool.py).
    preload: tuple[str, ...] = ()

    @classmethod
    def load(cls, root: Path) -> Assignment:
        """Read ``root/assignment.toml``. Raises ``AssignmentError`` when the folder is not a
        well-formed assignment, ``NngradeVersionError`` when it needs another nngrade."""
        root = Path(root).resolve()
        config_path = root / CONFIG
        if not config_path.is_file():
            raise AssignmentError(f"{root} is not an assignment folder (no {CONFIG})")
        try:
            config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise AssignmentError(f"{config_path}: {exc}") from exc
        checks = _paths(root, config, "checks")
        if not checks:
            raise AssignmentError(f"{config_path}: 'checks' must list at least one file")
        hidden = _paths(root, config, "hidden_checks")
        support = _paths(root, config, "support_files")
        packages = _paths(root, config, "packages")
        for path in (*checks, *hidden):
            if not path.is_file():
                raise AssignmentError(f"{config_path}: {path.name} does not exist")
        for path in support:
            if not path.exists():
                raise AssignmentError(f"{config_path}: {path.name} does not exist")
        for path in packages:
            if not (path / "__init__.py").is_file():
                raise AssignmentError(f"{config_path}: {path} is not a Python package")
        # A copy puts these side by side, and the kernel sees support files by name.
        names = [path.name for path in (*checks, *hidden, *support)]
        if len(set(names)) != len(names):
            raise AssignmentError(f"{config_path}: two checks or support files share a name")
        execute = str(config.get("execute", "all"))
        if execute not in EXECUTE_MODES:
            modes = " or ".join(f"'{mode}'" for mode in EXECUTE_MODES)
            raise AssignmentError(f"{config_path}: 'execute' must be {modes}, not '{execute}'")
        charge = str(config.get("charge_each_cause", "once"))
        if charge not in CHARGE_MODES:
            modes = " or ".join(f"'{mode}'" for mode in CHARGE_MODES)
            raise AssignmentError(
                f"{config_path}: 'charge_each_cause' must be {modes}, not '{charge}'"
            )
        lang = str(config.get("lang", ""))
        if lang and lang not in LANGUAGES:
            known = ", ".join(f"'{code}'" for code in LANGUAGES)
            raise AssignmentError(f"{config_path}: 'lang' must be one of {known}, not '{lang}'")
        preload = config.get("preload", [])
        if not isinstance(preload, list) or not all(
            isinstance(m, str) and all(part.isidentifier() for part in m.split("."))
            for m in preload
        ):
            raise AssignmentError(
                f"{config_path}: 'preload' must be a list of module names, such as [\"torch\"]"
            )
        name = str(config.get("name", root.name))
        requires = _requires(config_path, config.get("requires", ""), name)
        return cls(
            root=root,
            name=name,
            title=str(config.get("title", root.name)),
            checks=checks,
            template=_optional(root, config.get("template")),
            solution=_optional(root, config.get("solution")),
            support_files=support,
            execute=execute,
            hidden_checks=hidden,
            packages=packages,
            requires=requires,
            charge_each_cause=charge,
            lang="" if lang == DEFAULT_LANGUAGE else lang,
            preload=tuple(preload),
        )

    @property
    def version(self) -> str:
        """A hash of the settings, checks, support files and packages: results change only
        when it does. It hashes content, not paths, so a full copy has the same version."""
        digest = hashlib.sha256()
        settings = {"name": self.name, "title": self.title, "execute": self.execute}
        if self.charge_each_cause != "once":  # so that existing versions stay as they were
            settings["charge_each_cause"] = self.charge_each_cause
        if self.lang:  # the messages change with it
            settings["lang"] = self.lang
        digest.update(json.dumps(settings, sort_keys=True).encode() + b"\0")
        for kind, paths in (
            ("checks", self.checks),
            ("hidden_checks", self.hidden_checks),
            ("support_files", self.support_files),
            ("packages", self.packages),
        ):
            digest.update(kind.encode() + b"\0")
            for path in paths:
                for name, file in _files(path):
                    digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
        return digest.hexdigest()[:12]

    def copy_to(self, dest: Path, *, hidden: bool = True) -> Assignment:
        """Write a self-contained copy into ``dest`` (which must not exist or be empty):
        settings, checks, support files and the template, and with ``hidden`` also the
        hidden checks and the packages. The solution is never copied. Returns the copy."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        if any(dest.iterdir()):
            raise AssignmentError(f"{dest} is not empty")
        config: dict[str, object] = {
            "name": self.name,
            "title": self.title,
            "execute": self.execute,
            "charge_each_cause": self.charge_each_cause,
            **({"requires": self.requires} if self.requires else {}),
            **({"lang": self.lang} if self.lang else {}),
            **({"preload": list(self.preload)} if self.preload else {}),
            "checks": [_copy(path, dest) for path in self.checks],
            "support_files": [_copy(path, dest) for path in self.support_files],
        }
        if self.template is not None and self.template.is_file():
            config["template"] = _copy(self.template, dest)
        if hidden:
            config["hidden_checks"] = [_copy(path, dest) for path in self.hidden_checks]
            config["packages"] = [
                f"{PACKAGES_DIR}/{_copy(path, dest / PACKAGES_DIR)}" for path in self.packages
            ]
        (dest / CONFIG).write_text(_toml(config), encoding="utf-8")
        return Assignment.load(dest)


def _requires(config_path: Path, value: object, name: str) -> str:
    """``value`` as read from ``requires``, once it is a version range of nngrade that
    includes the running one; when that version is unknown (a source tree that was never
    installed), any well-formed range."""
    example = f'"{PACKAGE}>=0.2,<0.3"'
    if not isinstance(value, str):
        raise AssignmentError(f"{config_path}: 'requires' must be a string such as {example}")
    text = value.strip()
    if not text:
        return ""
    if not text.startswith(PACKAGE):
        raise AssignmentError(f"{config_path}: 'requires' must name {PACKAGE}, as in {example}")
    try:
        versions = SpecifierSet(text.removeprefix(PACKAGE))
    except InvalidSpecifier:
        raise AssignmentError(
            f"{config_path}: 'requires' is not a version range such as {example}: {text!r}"
        ) from None
    running = nngrade_version()
    try:
        version = Version(running)
    except InvalidVersion:  # "unknown": nothing to compare with
        return text
    # A pre-release of a version in range is in range: a development install can grade.
    if not versions.contains(version, prereleases=True):
        where = config_path.parent
        raise NngradeVersionError(f"{where} needs {text}; this is {PACKAGE} {running}", name)
    return text


def _paths(root: Path, config: dict[str, object], key: str) -> tuple[Path, ...]:
    value = config.get(key, [])
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise AssignmentError(f"{root / CONFIG}: '{key}' must be a list of file names")
    return tuple((root / name).resolve() for name in value)


def _optional(root: Path, name: object) -> Path | None:
    return root / str(name) if name else None


def _files(path: Path) -> Iterator[tuple[str, Path]]:
    """(name relative to path's parent, file) for a file, or each file in a folder."""
    if path.is_file():
        yield path.name, path
        return
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path.parent)
        if file.is_file() and not _IGNORED("", list(relative.parts)):
            yield relative.as_posix(), file


def _copy(path: Path, folder: Path) -> str:
    """Copy a file or folder into ``folder`` under its own name; return that name."""
    folder.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        shutil.copytree(path, folder / path.name, ignore=_IGNORED)
    else:
        shutil.copy2(path, folder / path.name)
    return path.name


def _toml(config: dict[str, object]) -> str:
    # JSON strings and lists of them are valid TOML basic strings and arrays.
    lines = ["# Written by nngrade: a self-contained copy of an assignment."]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in config.items()]
    return "\n".join(lines) + "\n"
