"""In a real kernel: the library functions a student's function used (an alias, the
functional form, by formula), a star import from a module its package lacks and the
NameError it causes, and a function that a later cell defines again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from grader._kernel.nngrade_protocol import CellEventKind
from grader.checks import CheckFailure, expect_not_called
from grader.checks.notebook import Notebook
from grader.runner.cell_data import CodeCell
from grader.runner.cells import LiveNotebook
from grader.runner.kernel import KernelSession
from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox

pytestmark = pytest.mark.kernel

BCE = ("torch.nn.BCELoss", "torch.nn.functional.binary_cross_entropy")
CELLS = [
    "import torch\nfrom torch.nn import BCELoss as L\nimport torch.nn.functional as F",
    "def by_formula(y_hat, y):\n    return torch.tensor(0.0)",
    "def by_alias(y_hat, y):\n    return L()(y_hat, y)\n\n"
    "def by_functional(y_hat, y):\n    return F.binary_cross_entropy(y_hat, y)",
    # A package of the student's (like the assignment's `common`) without `layers`.
    "import os, sys, importlib\nos.makedirs('nngrade_pkg', exist_ok=True)\n"
    "open(os.path.join('nngrade_pkg', '__init__.py'), 'w').close()\n"
    "sys.path.insert(0, os.getcwd())\nimportlib.invalidate_caches()\nimport nngrade_pkg",
    "from nngrade_pkg.layers import *",
    "layer = Affine(2, 3)",
    "def by_formula(y_hat, y):\n"
    "    return -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()",
]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveNotebook]:
    sandbox = Sandbox.choose("auto", Limits(), ())
    with sandbox.box() as box, KernelSession(box, cell_timeout=30) as session:
        cells = [CodeCell(position, source) for position, source in enumerate(CELLS, start=1)]
        notebook = LiveNotebook(session, cells, cell_timeout=30)
        notebook.run()
        yield notebook


@pytest.mark.parametrize(
    ("name", "used"),
    [
        ("by_formula", {}),
        ("by_alias", {"torch.nn.BCELoss": 1, "torch.nn.functional.binary_cross_entropy": 1}),
        ("by_functional", {"torch.nn.functional.binary_cross_entropy": 1}),
    ],
)
def test_the_kernel_reports_what_a_call_used(
    live: LiveNotebook, name: str, used: dict[str, int]
) -> None:
    y_hat, y = torch.tensor([0.2, 0.9]), torch.tensor([0.0, 1.0])
    call = Notebook(live).call(name, y_hat, y, watch=BCE)
    assert call.ok and call.called == used
    if used:
        with pytest.raises(CheckFailure, match=f"{name}\\(y_hat, y\\) uses `"):
            expect_not_called(call, *BCE, reason="by formula")


def test_a_module_its_package_lacks_and_the_name_error_it_causes(live: LiveNotebook) -> None:
    events = {(e.cell, e.kind): e.summary for e in live.events}
    assert events[(5, CellEventKind.STAND_IN)] == (
        "line 1: `nngrade_pkg.layers` does not exist where notebooks are graded (`nngrade_pkg` "
        "is there, but has no module `layers`); the import was replaced by an empty stand-in"
    )
    assert events[(6, CellEventKind.ERROR)].startswith(
        "`Affine` is not defined: it would have come from `from nngrade_pkg.layers import *` "
        "in cell 5, which imported nothing"
    )


def test_a_function_defined_again_names_the_graded_cell(live: LiveNotebook) -> None:
    events = {(e.cell, e.kind): e.summary for e in live.events}
    assert events[(7, CellEventKind.REDEFINED)] == (
        "`by_formula` is defined in cells 2 and 7; the checks grade the one in cell 7, the "
        "last one that ran"
    )
    assert Notebook(live).names() == ["by_alias", "by_formula", "by_functional"]
