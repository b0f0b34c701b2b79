"""Handles to objects in a real kernel: made, called, read, passed around, and stale after a
restart."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from grader.checks.notebook import Notebook, ObjectHandle
from grader.runner.cell_data import CodeCell
from grader.runner.cells import LiveNotebook
from grader.runner.kernel import KernelSession
from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox

pytestmark = pytest.mark.kernel

CELLS = [
    "import os\nimport numpy as np\nfrom collections import OrderedDict",
    """class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        return dout @ self.W.T

    def crash(self):
        os._exit(3)
""",
    """class TwoLayerNet:
    def __init__(self, n_in, n_out):
        self.params = {'W1': np.ones((n_in, n_out)), 'b1': np.zeros(n_out)}
        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])

    def first(self):
        return self.layers['Affine1']


class Picky:
    def __init__(self, size):
        if size > 2:
            raise ValueError(f"size {size} is too large")
""",
]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveNotebook]:
    sandbox = Sandbox.choose("auto", Limits(), ())
    with sandbox.box() as box, KernelSession(box, cell_timeout=10) as session:
        cells = [CodeCell(position, source) for position, source in enumerate(CELLS, start=1)]
        notebook = LiveNotebook(session, cells, cell_timeout=10)
        notebook.run()
        assert notebook.events == []
        yield notebook


def test_objects_live_in_the_kernel_and_answer_calls(live: LiveNotebook) -> None:
    notebook = Notebook(live)
    layer = notebook.new("Affine", np.eye(2), np.array([1.0, 0.0])).value.named("layer")
    assert layer.generation == live.generation
    out = layer.call("forward", np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(out.value, [[2.0, 2.0]])
    layer.call("backward", np.ones((1, 2))).raise_for_status()
    np.testing.assert_array_equal(layer.get("dW").value, [[1.0, 1.0], [2.0, 2.0]])


def test_nested_attributes_and_handles_returned_by_methods(live: LiveNotebook) -> None:
    net = Notebook(live).new("TwoLayerNet", 3, 2).value.named("net")
    assert net.what == "TwoLayerNet(3, 2)"
    assert net.get("params", "W1").value.shape == (3, 2)
    first = net.call("first").value
    assert isinstance(first, ObjectHandle) and first.type == "Affine"
    assert first == net.get("layers").value["Affine1"]
    # The layer shares the network's array: a write through one shows through the other.
    net.set("params", "W1", np.full((3, 2), 2.0)).raise_for_status()
    np.testing.assert_array_equal(first.get("W").value, np.full((3, 2), 2.0))


def test_missing_class_suggests_the_near_miss(live: LiveNotebook) -> None:
    made = Notebook(live).new("TwoLayerNEt", 3, 2)
    assert made.status == "missing" and "Did you mean `TwoLayerNet`?" in made.message


def test_a_constructor_that_raises_shows_the_students_lines(live: LiveNotebook) -> None:
    made = Notebook(live).new("Picky", 5)
    assert made.status == "raised"
    assert made.message == (
        "Picky(size) raised an exception:\nValueError: size 5 is too large\n"
        '  cell 3, line 14, in __init__: raise ValueError(f"size {size} is too large")'
    )


def test_handles_are_stale_after_the_kernel_restarts(live: LiveNotebook) -> None:
    notebook = Notebook(live)
    layer = notebook.new("Affine", np.eye(2), np.zeros(2)).value.named("layer")
    before = live.generation
    died = layer.call("crash")
    assert died.status == "kernel_died" and live.generation == before + 1
    stale = layer.get("W")
    assert stale.status == "stale" and stale.message == (
        "`layer` (Affine(W, b)) was created before the kernel restarted, so it no longer exists."
    )
    # The replayed cells define the class again: a new object works.
    fresh = notebook.new("Affine", np.eye(2), np.zeros(2)).value
    assert fresh.generation == before + 1 and fresh.get("W").ok
