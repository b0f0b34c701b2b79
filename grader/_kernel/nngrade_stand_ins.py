"""Stand-ins, inside the kernel, for modules a notebook imports but grading cannot provide.

``google.colab`` gets harmless no-ops. Any other module that a student's cell imports and
that is not installed (torchvision, fastai, a helper file not handed in) becomes an empty
stand-in: the import succeeds, so the rest of the cell still runs, and using anything
from it raises ModuleNotFoundError with the reason. Libraries' own optional imports are
untouched: only imports written in the student's cells are stood in for.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import linecache
import sys
import types
from typing import Any

__all__ = ["MissingModules", "install_colab_stand_in"]


class MissingModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: reached only when no real module was found."""

    def __init__(self, cell_of: Any) -> None:
        self._cell_of = cell_of  # a code filename -> the execution count of its cell, or None
        self.records: list[dict[str, Any]] = []  # which modules, imported where

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        where = self._student_import_site()
        if where is None:
            return None
        missing, within = _missing_part(fullname)
        if all(record["module"] != missing for record in self.records):  # one note each
            self.records.append({"module": missing, "within": within, **where})
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _StandInModule(spec.name, _missing_part(spec.name)[0])

    def exec_module(self, module: types.ModuleType) -> None:
        pass

    def _student_import_site(self) -> dict[str, Any] | None:
        """The cell and line of the import statement, if a student's cell made it directly."""
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return None
        execution_count = self._cell_of(frame.f_code.co_filename)
        if execution_count is None:
            return None
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        return {"execution_count": execution_count, "lineno": frame.f_lineno, "line": line}


def _missing_part(fullname: str) -> tuple[str, str]:
    """(the module that is missing, the real package it was looked for in, or ""):
    ("torchvision", "") for torchvision.transforms, ("common.layers", "common") when the
    folder `common` is there without layers.py."""
    parts = fullname.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        parent = sys.modules.get(".".join(parts[:cut]))
        if parent is not None and not isinstance(parent, _StandInModule):
            return ".".join(parts[: cut + 1]), ".".join(parts[:cut])
    return parts[0], ""


class _StandInModule(types.ModuleType):
    def __init__(self, name: str, missing: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []  # a package, so `import torchvision.transforms` works
        self.__all__: list[str] = []  # `from fastai.vision.all import *` imports nothing
        self._nngrade_missing = missing

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Unavailable(f"{self.__name__}.{attribute}", self._nngrade_missing)


class _Unavailable:
    """Anything taken from a stand-in module: fails, with the reason, once it is used."""

    def __init__(self, dotted: str, missing: str) -> None:
        self._dotted = dotted
        self._missing = missing  # the module that does not exist

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Unavailable(f"{self._dotted}.{attribute}", self._missing)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module = self._missing
        reason = (
            f"the module '{module}' does not exist where your notebook is graded"
            if "." in module
            else f"the module '{module}' is not installed where your notebook is graded"
        )
        raise ModuleNotFoundError(
            f"{self._dotted}(...) cannot run: {reason}, so its import was replaced by an "
            "empty stand-in.",
            name=module,
        )

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (object,)  # `class Data(Dataset)` with Dataset from a stand-in still defines

    def __repr__(self) -> str:
        return f"<{self._dotted}: not installed while grading>"


def install_colab_stand_in() -> None:
    """Make ``from google.colab import drive; drive.mount(...)`` harmless no-ops."""
    if "google.colab" in sys.modules:
        return
    google = sys.modules.get("google")
    if google is None:
        try:
            import google  # type: ignore[no-redef]  # protobuf's namespace, if installed
        except ImportError:
            google = types.ModuleType("google")
            google.__path__ = []  # a package, so that submodule imports resolve
            sys.modules["google"] = google
    colab = types.ModuleType("google.colab")
    colab.__path__ = []
    drive = types.ModuleType("google.colab.drive")
    vars(drive).update(
        mount=lambda *args, **kwargs: print("nngrade: drive.mount() skipped while grading"),
        flush_and_unmount=lambda *args, **kwargs: None,
    )
    files = types.ModuleType("google.colab.files")
    vars(files).update(upload=lambda *args, **kwargs: {}, download=lambda *args, **kwargs: None)
    vars(colab).update(drive=drive, files=files)
    vars(google)["colab"] = colab
    sys.modules.update(
        {"google.colab": colab, "google.colab.drive": drive, "google.colab.files": files}
    )
