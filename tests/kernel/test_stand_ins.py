"""Stand-ins for modules a student's cell imports but grading does not have."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from grader._kernel.nngrade_stand_ins import MissingModules

CELL = "<nngrade test cell>"


@pytest.fixture
def finder() -> Iterator[MissingModules]:
    finder = MissingModules(lambda filename: 7 if filename == CELL else None)
    sys.meta_path.append(finder)
    before = set(sys.modules)
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        for name in set(sys.modules) - before:
            del sys.modules[name]


def run_cell(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, CELL, "exec"), namespace)
    return namespace


def test_imports_in_a_cell_succeed_and_are_recorded_once_per_package(
    finder: MissingModules,
) -> None:
    namespace = run_cell(
        "x = 1\n"
        "from nngrade_absent_vision import transforms, datasets\n"
        "import nngrade_absent_vision.io as io\n"
        "from nngrade_absent_fastai.data.all import *\n"
    )
    where = {"execution_count": 7, "within": "", "line": ""}
    assert finder.records == [
        {"module": "nngrade_absent_vision", "lineno": 2, **where},
        {"module": "nngrade_absent_fastai", "lineno": 4, **where},
    ]
    assert repr(namespace["transforms"]) == (
        "<nngrade_absent_vision.transforms: not installed while grading>"
    )


def test_using_a_stand_in_fails_with_the_reason(finder: MissingModules) -> None:
    namespace = run_cell(
        "from nngrade_absent_vision import datasets\nclass Digits(datasets.MNIST):\n    pass\n"
    )
    assert isinstance(namespace["Digits"], type)  # the class statement still defines it
    with pytest.raises(ModuleNotFoundError) as raised:
        namespace["datasets"].MNIST(root=".", download=True)
    assert str(raised.value) == (
        "nngrade_absent_vision.datasets.MNIST(...) cannot run: the module "
        "'nngrade_absent_vision' is not installed where your notebook is graded, so its "
        "import was replaced by an empty stand-in."
    )


def test_imports_outside_the_students_cells_still_fail(finder: MissingModules) -> None:
    """Libraries probe optional modules with try/except ImportError: they must see none."""
    with pytest.raises(ImportError):
        importlib.import_module("nngrade_absent_optional")
    assert finder.records == []


def test_a_module_missing_from_a_real_package_is_named_as_such(
    finder: MissingModules, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`common` is the folder handed out with the assignment; `common.layers` is not in it."""
    (tmp_path / "nngrade_common").mkdir()
    (tmp_path / "nngrade_common" / "__init__.py").write_text("")
    (tmp_path / "nngrade_common" / "functions.py").write_text("def softmax(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace = run_cell(
        "from nngrade_common.functions import softmax\n"
        "from nngrade_common.layers import *\n"
        "from nngrade_common.layers import Affine\n"
    )
    assert finder.records == [
        {
            "module": "nngrade_common.layers",
            "within": "nngrade_common",
            "execution_count": 7,
            "lineno": 2,
            "line": "",
        }
    ]
    with pytest.raises(ModuleNotFoundError) as raised:
        namespace["Affine"](1, 2)
    assert str(raised.value) == (
        "nngrade_common.layers.Affine(...) cannot run: the module 'nngrade_common.layers' does "
        "not exist where your notebook is graded, so its import was replaced by an empty "
        "stand-in."
    )
