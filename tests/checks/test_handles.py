"""Handles to objects held in the kernel, through the in-process transport (no kernel)."""

from __future__ import annotations

from collections import OrderedDict

import grimp
import numpy as np
import pytest

from grader import CheckFailure
from grader._kernel.nngrade_protocol import handle_node
from grader.checks.notebook import InProcessTransport, Notebook, ObjectHandle


class Affine:
    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W, b
        self.x: np.ndarray | None = None
        self.dW: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.x is not None
        self.dW = self.x.T @ dout
        return dout @ self.W.T


class Net:
    def __init__(self, n_in: int, n_out: int) -> None:
        self.params = {"W1": np.ones((n_in, n_out)), "b1": np.zeros(n_out)}
        self.layers = OrderedDict(Affine1=Affine(self.params["W1"], self.params["b1"]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.layers["Affine1"].forward(x)

    def first(self) -> Affine:
        return self.layers["Affine1"]


def apply(layer: Affine, x: np.ndarray) -> np.ndarray:
    return layer.forward(x)


class Broken:
    def __init__(self, n: int) -> None:
        self.n = n / 0


@pytest.fixture
def transport() -> InProcessTransport:
    return InProcessTransport({"Affine": Affine, "Net": Net, "apply": apply, "Broken": Broken})


@pytest.fixture
def notebook(transport: InProcessTransport) -> Notebook:
    return Notebook(transport)


def test_new_gives_a_handle_named_by_its_arguments(notebook: Notebook) -> None:
    made = notebook.new("Net", 3, 2)
    net = made.value
    # Numbers are written out, arrays named by the student's parameter names.
    assert isinstance(net, ObjectHandle) and net.type == "Net" and net.what == "Net(3, 2)"
    assert net.generation == notebook.generation and net.label == net.what
    assert made.what == "Net(n_in, n_out)"  # the constructor call itself
    assert notebook.new("Net", 3, n_out=2).value.what == "Net(3, n_out=2)"
    affine = notebook.new("Affine", np.eye(2), np.zeros(2)).value
    assert affine.what == "Affine(W, b)"


def test_methods_run_on_the_same_object_and_attributes_read_back(notebook: Notebook) -> None:
    layer = notebook.new("Affine", np.eye(2), np.array([1.0, 0.0])).value.named("layer")
    out = layer.call("forward", np.array([[1.0, 2.0]]))
    assert out.what == "layer.forward(x)"
    np.testing.assert_array_equal(out.value, [[2.0, 2.0]])
    layer.call("backward", np.array([[1.0, 1.0]])).raise_for_status()
    dW = layer.get("dW")
    assert dW.what == "layer.dW"
    np.testing.assert_array_equal(dW.value, [[1.0, 1.0], [2.0, 2.0]])


def test_nested_paths_reach_keys_inside_attributes(notebook: Notebook) -> None:
    net = notebook.new("Net", 3, 2).value.named("net")
    w1 = net.get("params", "W1")
    assert w1.what == "net.params['W1']" and w1.value.shape == (3, 2)
    missing = net.get("params", "W3")
    assert missing.status == "missing"
    assert missing.message == "net.params has no key 'W3' (its keys: 'W1', 'b1')."
    typo = net.get("param", "W1")
    assert "net has no attribute `param`. Did you mean `params`?" in typo.message


def test_objects_inside_values_come_back_as_handles(notebook: Notebook) -> None:
    net = notebook.new("Net", 3, 2).value.named("net")
    layers = net.get("layers").value
    assert list(layers) == ["Affine1"] and isinstance(layers["Affine1"], ObjectHandle)
    first = net.call("first").value
    # The same object has the same id, however it was reached.
    assert first.id == layers["Affine1"].id and first.what == "the Affine from net.first()"
    np.testing.assert_array_equal(first.get("W").value, np.ones((3, 2)))


def test_set_writes_arrays_in_place_so_layers_that_share_them_see_it(notebook: Notebook) -> None:
    net = notebook.new("Net", 2, 2).value.named("net")
    net.set("params", "W1", np.full((2, 2), 3.0)).raise_for_status()
    out = net.call("predict", np.array([[1.0, 0.0]])).value
    np.testing.assert_array_equal(out, [[3.0, 3.0]])
    net.set("params", "extra", 5).raise_for_status()  # a new key is simply assigned
    assert net.get("params", "extra").value == 5


def test_handles_passed_as_arguments_are_the_objects(notebook: Notebook) -> None:
    layer = notebook.new("Affine", np.eye(2), np.zeros(2)).value
    out = notebook.call("apply", layer, np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(out.value, [[1.0, 2.0]])
    assert not out.args_changed


def test_missing_class_and_method_suggest_near_misses(notebook: Notebook) -> None:
    assert "Did you mean `Affine`?" in notebook.new("affine", 1).message
    layer = notebook.new("Affine", np.eye(2), np.zeros(2)).value.named("layer")
    call = layer.call("Forward", np.eye(2))
    assert call.status == "missing"
    assert call.message.startswith("layer.Forward(...): the object has no method `Forward`.")
    assert "Did you mean `forward`?" in call.message


def test_a_constructor_that_raises_shows_the_error(notebook: Notebook) -> None:
    made = notebook.new("Broken", 3)
    assert made.status == "raised" and made.what == "Broken(n)"
    with pytest.raises(CheckFailure, match=r"Broken\(n\) raised an exception:\nZeroDivisionError"):
        _ = made.value


def test_handles_from_before_a_restart_are_stale(
    notebook: Notebook, transport: InProcessTransport
) -> None:
    net = notebook.new("Net", 3, 2).value.named("net")
    layer = notebook.new("Affine", np.eye(2), np.zeros(2)).value
    transport.restart()
    for call in (net.call("predict", np.ones((1, 3))), net.get("params"), net.set("x", 1)):
        assert call.status == "stale"
        assert call.message == (
            "`net` (Net(3, 2)) was created before the kernel restarted, so it no longer exists."
        )
    passed = notebook.call("apply", layer, np.ones((1, 2)))
    assert passed.status == "stale" and "`Affine(W, b)` was created before" in passed.message
    with pytest.raises(CheckFailure, match="no longer exists"):
        _ = passed.value


def test_an_id_the_kernel_does_not_hold_is_stale_too(notebook: Notebook) -> None:
    ghost = ObjectHandle(99, notebook.generation, "Net", "Net(3, 2)", notebook=notebook)
    call = ghost.call("predict", np.ones((1, 3)))
    assert call.status == "stale" and "no longer exists" in call.message


def test_released_objects_are_forgotten(notebook: Notebook, transport: InProcessTransport) -> None:
    layer = notebook.new("Affine", np.eye(2), np.zeros(2)).value
    assert len(transport.objects) == 1
    layer.release()
    assert len(transport.objects) == 0 and layer.get("W").status == "stale"


def test_plain_functions_still_return_only_data() -> None:
    """A function's value must be data, as ever (a class with a custom __eq__ must not pass
    for an array); only methods and attributes of held objects may give objects."""
    notebook = Notebook(InProcessTransport({"make": lambda: {1, 2}, "layer": lambda: Affine(1, 2)}))
    assert notebook.call("make").status == "unencodable"
    made = notebook.call("layer")
    assert made.status == "unencodable" and "type Affine cannot be sent as data" in made.message


def test_a_handle_is_sent_as_the_protocols_node(notebook: Notebook) -> None:
    layer = notebook.new("Affine", np.eye(2), np.zeros(2)).value
    assert layer.node == handle_node(layer.id, "Affine")


def test_handles_need_no_notebook_module() -> None:
    """The handle asks its owner for calls through a small Protocol: no cycle with notebook.py,
    not even one hidden under TYPE_CHECKING."""
    graph = grimp.build_graph("grader", cache_dir=None)
    chain = graph.find_shortest_chain(
        importer="grader.checks.handles", imported="grader.checks.notebook"
    )
    assert chain is None, chain
