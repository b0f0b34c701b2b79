"""Definitions-only execution: what runs, what is replaced, and that line numbers hold."""

from __future__ import annotations

import pytest

from grader.grading.definitions import REASON, keep_definitions
from grader.runner.cells import CodeCell


def kept(*sources: str) -> tuple[list[str], list[tuple[int, int, str]]]:
    cells = [CodeCell(position, source) for position, source in enumerate(sources, start=1)]
    new, skipped = keep_definitions(cells)
    assert all(s.reason == REASON for s in skipped)
    return [cell.source for cell in new], [(s.cell, s.line, s.text) for s in skipped]


def test_definitions_and_assignments_run_everything_else_is_listed() -> None:
    source = (
        "import torch\n"
        "EPOCHS = 3\n"
        "for epoch in range(EPOCHS):\n"
        "    train(model)\n"
        "    print(epoch)\n"
        "def f(x):\n"
        "    return x\n"
        "criterion = torch.nn.CrossEntropyLoss()\n"
        "plt.plot([1, 2])"
    )
    sources, skipped = kept(source)
    assert sources[0].splitlines() == [
        "import torch",
        "EPOCHS = 3",
        "pass",
        "",
        "",
        "def f(x):",
        "    return x",
        "criterion = torch.nn.CrossEntropyLoss()",
        "pass",
    ]
    assert skipped == [(1, 3, "for epoch in range(EPOCHS):"), (1, 9, "plt.plot([1, 2])")]


@pytest.mark.parametrize(
    "source",
    [
        "class Net(nn.Module):\n    pass",
        "from torch import nn as t",
        "@decorator\ndef f():\n    pass",
        "a, (b, c) = 1, (2, 3)",
        "x: int = 4",
        "try:\n    import google.colab\n    COLAB = True\nexcept ImportError:\n    COLAB = False",
        "if torch.cuda.is_available():\n    device = 'cuda'\nelse:\n    device = 'cpu'",
        '"""A docstring."""',
    ],
)
def test_kept(source: str) -> None:
    assert kept(source) == ([source], [])


@pytest.mark.parametrize(
    "source",
    [
        "model.fc = nn.Linear(3, 4)",  # an attribute: changes an object the cell did not define
        "x[0] = 1",
        "total += 1",
        "with open('log.txt', 'w') as f:\n    f.write('x')",
        "while True:\n    pass",
        "if __name__ == '__main__':\n    main()",
        "if ready:\n    train(model)",
        "try:\n    train(model)\nexcept Exception:\n    pass",
        "assert x > 0",
        "del model",
    ],
)
def test_replaced(source: str) -> None:
    sources, skipped = kept(source)
    height = len(source.splitlines())
    assert sources == ["\n".join(["pass"] + [""] * (height - 1))]
    assert skipped == [(1, 1, source.splitlines()[0])]


def test_magics_are_judged_as_the_python_ipython_runs() -> None:
    sources, skipped = kept(
        "%load_ext autoreload\nx = 1", "%%capture\nfor i in range(3):\n    f(i)"
    )
    assert sources == ["pass\nx = 1", "pass\n\n"]
    assert skipped == [(1, 1, "%load_ext autoreload"), (2, 1, "%%capture")]


def test_cells_that_do_not_parse_are_left_for_the_kernel_to_report() -> None:
    assert kept("def f(:\n    pass", "", "   \n") == (["def f(:\n    pass", "", "   \n"], [])
