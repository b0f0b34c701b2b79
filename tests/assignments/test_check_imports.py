"""Check files are handed to students in bundles, so they import nngrade only through its
contract: ``grader.checks`` (or ``grader``, which re-exports it). Hidden check files may also
import the reference solutions (``reference``); no other file under assignments/ may."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import grader.checks
from grader.grading.assignment import Assignment
from tests.conftest import ASSIGNMENTS

AUTHOR_API = {"grader", "grader.checks"}
REFERENCE = "reference"
FILES = sorted(
    path
    for path in ASSIGNMENTS.rglob("*.py")
    if "__pycache__" not in path.relative_to(ASSIGNMENTS).parts
)


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) for each absolute import in ``source``, including
    ``importlib.import_module("m")`` and ``__import__("m")`` with a literal name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, _source(node.module, alias.name)) for alias in node.names]
        elif isinstance(node, ast.Call) and _imports_by_name(node):
            found += [
                (node.lineno, arg.value)
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
    return found


def _source(module: str, name: str) -> str:
    """Where ``from module import name`` takes ``name`` from: ``module`` for a name of the
    API (``from grader import Notebook``), else the submodule it names (``from grader
    import grading`` is grader.grading, ``from grader.checks import _gradients`` too)."""
    if module in AUTHOR_API and name in grader.checks.__all__:
        return module
    return f"{module}.{name}" if module in AUTHOR_API else module


def _imports_by_name(call: ast.Call) -> bool:
    function = call.func
    name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
    return name in ("__import__", "import_module")


def violations(source: str, *, hidden: bool) -> list[str]:
    """What in ``source`` imports nngrade other than through the author API, one line each."""
    found = []
    for line, module in imported_modules(source):
        top = module.split(".")[0]
        if top == "grader" and module not in AUTHOR_API:
            found.append(f"line {line}: imports {module}; import from grader.checks")
        elif top == REFERENCE and not hidden:
            found.append(f"line {line}: imports {module}, which only hidden checks may")
    return found


def hidden_check_files() -> set[Path]:
    configs = ASSIGNMENTS.glob("*/assignment.toml")
    return {path for config in configs for path in Assignment.load(config.parent).hidden_checks}


def test_the_walk_finds_every_kind_of_file() -> None:
    names = {path.relative_to(ASSIGNMENTS).as_posix() for path in FILES}
    assert {"relu/test_relu.py", "relu/hidden_relu.py", "layers/common/functions.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(ASSIGNMENTS).as_posix() for p in FILES])
def test_assignment_files_import_nngrade_only_through_grader_checks(path: Path) -> None:
    hidden = path.resolve() in hidden_check_files()
    assert violations(path.read_text(encoding="utf-8"), hidden=hidden) == []


def test_the_finder_finds_each_kind_of_import() -> None:
    source = (
        "import numpy as np\n"
        "import grader\n"
        "import grader.checks\n"
        "from grader import Notebook, checks\n"
        "from grader.checks import expect_array\n"
        "from grader.checks.notebook import Notebook\n"
        "from grader.checks._gradients import TOLERANCE\n"
        "import grader.grading.engine as engine\n"
        "from grader import grading\n"
        "from grader.checks import _networks\n"
        "from . import helpers\n"
        "import reference\n"
        "from reference.mlp import GRADIENTS\n"
        "import importlib\n"
        "m = importlib.import_module('grader.checks._networks')\n"
    )
    assert violations(source, hidden=True) == [
        "line 6: imports grader.checks.notebook; import from grader.checks",
        "line 7: imports grader.checks._gradients; import from grader.checks",
        "line 8: imports grader.grading.engine; import from grader.checks",
        "line 9: imports grader.grading; import from grader.checks",
        "line 10: imports grader.checks._networks; import from grader.checks",
        "line 15: imports grader.checks._networks; import from grader.checks",
    ]
    assert violations(source, hidden=False)[-3:] == [
        "line 12: imports reference, which only hidden checks may",
        "line 13: imports reference.mlp, which only hidden checks may",
        "line 15: imports grader.checks._networks; import from grader.checks",
    ]
