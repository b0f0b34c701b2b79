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
        top = fullname.split(".")[0]
        if all(record["module"] != top for record in self.records):  # one note per package
            self.records.append({"module": top, **where})
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _StandInModule(spec.name)

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
        return {"execution_count": execution_count, "lineno": frame.f_lineno}


class _StandInModule(types.ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []  # a package, so `import torchvision.transforms` works
        self.__all__: list[str] = []  # `from fastai.vision.all import *` imports nothing

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Unavailable(f"{self.__name__}.{attribute}")


class _Unavailable:
    """Anything taken from a stand-in module: fails, with the reason, once it is used."""

    def __init__(self, dotted: str) -> None:
        self._dotted = dotted

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Unavailable(f"{self._dotted}.{attribute}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module = self._dotted.split(".")[0]
        raise ModuleNotFoundError(
            f"{self._dotted}(...) cannot run: the module '{module}' is not installed where "
            "your notebook is graded, so its import was replaced by an empty stand-in.",
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
