"""Definitions-only execution: everything runs but what trains or downloads, one statement
at a time, with line numbers kept and every skip listed."""

from __future__ import annotations

import pytest

from grader.grading.definitions import BUDGET, REASON, keep_definitions, where_defined
from grader.grading.neutralize import Skipped
from grader.runner.cell_data import CodeCell


def plan(*sources: str) -> tuple[list[CodeCell], list[Skipped]]:
    cells = [CodeCell(position, source) for position, source in enumerate(sources, start=1)]
    return keep_definitions(cells)


def ran(*sources: str) -> str:
    """What runs, as one text (pieces joined): easy to compare."""
    pieces, _ = plan(*sources)
    return "\n".join(piece.source.strip("\n") for piece in pieces)


def skipped(*sources: str) -> list[tuple[int, int, str]]:
    return [(s.cell, s.line, s.text) for s in plan(*sources)[1]]


def test_training_loop_skipped_the_rest_runs_line_numbers_kept() -> None:
    source = (
        "import torch\n"
        "EPOCHS = 3\n"
        "for epoch in range(EPOCHS):\n"
        "    loss = model(x).sum()\n"
        "    loss.backward()\n"
        "def f(x):\n"
        "    return x\n"
        "criterion = torch.nn.CrossEntropyLoss()\n"
        "plt.plot([1, 2])"
    )
    pieces, notes = plan(source)
    assert [(p.first_line, p.source.splitlines()[p.first_line - 1]) for p in pieces] == [
        (1, "import torch"),
        (2, "EPOCHS = 3"),
        (6, "def f(x):"),
        (8, "criterion = torch.nn.CrossEntropyLoss()"),
        (9, "plt.plot([1, 2])"),
    ]
    # Padded with blank lines: a traceback's line number is the cell's.
    assert all(
        p.source.count("\n") == p.first_line - 1 + p.source.strip("\n").count("\n") for p in pieces
    )
    assert [(n.line, n.last_line, n.reason) for n in notes] == [(3, 5, REASON)]
    # Imports and definitions get the cell timeout; statements the short budget.
    assert [p.budget for p in pieces] == [None, BUDGET, None, BUDGET, BUDGET]


@pytest.mark.parametrize(
    "source",
    [
        "model.fc = nn.Linear(3, 4)",
        "x[0] = 1",
        "total += 1",
        "layers = []\nfor n in sizes:\n    layers.append(nn.Linear(n, n))",
        "net.add_module('fc', nn.Linear(2, 2))",
        "with torch.no_grad():\n    net[0].weight.fill_(0)",
        "torch.manual_seed(0)",
        "assert x > 0",
        "print(model)",
    ],
)
def test_what_builds_definitions_runs(source: str) -> None:
    assert ran(source) == source
    assert skipped(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "loss.backward()",
        "optimizer.step()",
        "history = model.fit(X, y, epochs=10)",
        "for epoch in range(5):\n    for xb, yb in loader:\n        opt.step()",
        "while True:\n    scheduler.step()",
        "data = torchvision.datasets.MNIST('.', download=True)",
        "urllib.request.urlretrieve(URL, 'data.npz')",
        "r = requests.get(URL)",
    ],
)
def test_training_and_downloads_are_skipped(source: str) -> None:
    assert ran(source) == ""
    assert skipped(source) == [(1, 1, source.splitlines()[0])]


def test_a_function_that_trains_makes_its_callers_train() -> None:
    cells = (
        "def one_epoch(m):\n    opt.step()",
        "def fit_all(m, n):\n    for _ in range(n):\n        one_epoch(m)",
        "class T:\n    def run(self):\n        fit_all(self.m, 3)",
        "fit_all(model, 3)",
        "T().run()",
        "history = [one_epoch(model) for _ in range(3)]",
        "evaluate(model)",
    )
    assert skipped(*cells) == [
        (4, 1, "fit_all(model, 3)"),
        (5, 1, "T().run()"),
        (6, 1, "history = [one_epoch(model) for _ in range(3)]"),
    ]
    assert ran(*cells).endswith("evaluate(model)")


def test_blocks_are_judged_statement_by_statement_main_guard_included() -> None:
    source = (
        "if __name__ == '__main__':\n"
        "    def train(m):\n"
        "        loss(m).backward()\n"
        "    model = Net()\n"
        "    train(model)\n"
        "    try:\n"
        "        import tqdm\n"
        "    except ImportError:\n"
        "        tqdm = None"
    )
    assert ran(source).splitlines() == [
        "if __name__ == '__main__':",
        "    def train(m):",
        "        loss(m).backward()",
        "    model = Net()",
        "    pass",
        "    try:",
        "        import tqdm",
        "    except ImportError:",
        "        tqdm = None",
    ]
    assert skipped(source) == [(1, 5, "train(model)")]


def test_statements_using_what_a_skipped_one_made_are_skipped_and_say_why() -> None:
    cells = (
        "trainset = datasets.MNIST('.', download=True)\nloader = DataLoader(trainset)",
        "for x, y in loader:\n    print(x.shape)\nloader = make_loader()\nfor x, y in loader: pass",
    )
    _, notes = plan(*cells)
    assert [(n.cell, n.line) for n in notes] == [(1, 1), (1, 2), (2, 1)]
    assert notes[1].reason == "it uses `trainset`, which line 1 of cell 1 would have made (not run)"
    # Made again by a statement that runs: usable again.
    assert ran(*cells).endswith("loader = make_loader()\nfor x, y in loader: pass")


def test_capture_cells_run_their_code() -> None:
    source = "%%capture\ndef train(m):\n    opt.step()\nmodel = Net()\ntrain(model)"
    pieces, notes = plan(source)
    assert [p.first_line for p in pieces] == [2, 4]
    assert [(n.line, n.text) for n in notes] == [(5, "train(model)")]


def test_cells_that_do_not_parse_or_are_other_cell_magics_run_as_written() -> None:
    cells = ("def f(:\n    pass", "%%writefile a.py\nprint(1)", "")
    assert [p.source for p in plan(*cells)[0]] == list(cells[:2])


def test_where_defined_names_raw_cells_and_skipped_lines() -> None:
    notes = [Skipped(3, 1, "if ready:", "it uses `x`", 3)]
    found = where_defined(
        [
            (1, "def accuracy(y):\n    return y", True),
            (2, "import numpy as np\nsigmoid_grad = lambda z: z", False),
            (3, "if ready:\n    def f():\n        pass", False),
        ],
        notes,
    )
    assert "raw cell (cell 1), which Jupyter does not run" in found["accuracy"].not_run
    assert (found["sigmoid_grad"].cell, found["sigmoid_grad"].line) == (2, 2)
    assert found["sigmoid_grad"].not_run == ""
    assert found["f"].not_run.startswith("at line 2 of cell 3, which was not run")


def test_statements_sharing_a_line_share_the_verdict() -> None:
    source = "loss = f(x); loss.backward(); opt.step()\nprint(loss)"
    assert ran(source) == ""
    assert skipped(source) == [
        (1, 1, "loss = f(x); loss.backward(); opt.step()"),
        (1, 2, "print(loss)"),
    ]
