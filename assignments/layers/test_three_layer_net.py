"""Visible checks for the layers assignment: ThreeLayerNet, its params and its gradient.

8 points of the 25 that students can self-check (test_layer_classes.py has the layers'):
the network's ``gradient`` is judged against its own ``numerical_gradient``, parameter
by parameter, so no reference solution is needed. hidden_layer_classes.py compares the
network with the reference when grading.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import (
    CheckFailure,
    GradientCall,
    NetworkCalls,
    NetworkProblem,
    Notebook,
    agrees_with_own,
    describe,
)

NET_PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")
# In the order backprop computes them: the order in which to report them, and to fix them.
OUTPUT_FIRST = ("W3", "b3", "W2", "b2", "W1", "b1")


class Networks:
    """The student's ThreeLayerNet, made and called once per run, shared by the checks."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._calls: NetworkCalls | None = None

    def get(self, notebook: Notebook) -> NetworkCalls:
        if self._calls is None:
            problem = NetworkProblem.for_run(self.seed)
            self._calls = NetworkCalls(notebook, "ThreeLayerNet", problem)
        return self._calls


@pytest.fixture(scope="module")
def networks(run_seed: int) -> Networks:
    return Networks(run_seed)


def own_gradients(calls: NetworkCalls) -> GradientCall:
    """The network's gradient judged against its own numerical_gradient, gradient by gradient."""
    net = calls.require()
    numerical = calls.numerical
    if not numerical.ok:
        raise CheckFailure(
            f"{numerical.message}\nThe checks compare net.gradient with net.numerical_gradient, "
            "so this must work first."
        )
    found = numerical.value
    if not isinstance(found, dict) or any(name not in found for name in NET_PARAMETERS):
        keys = (
            f"a dict with the keys {', '.join(map(repr, found))}"
            if isinstance(found, dict)
            else describe(found)
        )
        raise CheckFailure(
            f"{net.label}.numerical_gradient(x, t) returned {keys}; expected a dict with the keys "
            f"{', '.join(NET_PARAMETERS)}, which gradient's results are compared with."
        )
    if all(not np.any(np.asarray(found[name])) for name in NET_PARAMETERS):
        raise CheckFailure(
            f"{net.label}.numerical_gradient(x, t) is 0 everywhere: changing the arrays in "
            f"{net.label}.params does not change {net.label}.loss(x, t). The Affine layers must "
            "use the arrays in self.params themselves (Affine(self.params['W1'], ...)), not "
            "copies, or neither numerical_gradient nor the training loop reaches them."
        )
    m = calls.problem.m
    hints = {
        float(m): (
            f"gradient lacks a division by the batch size m = {m}: SoftmaxWithLoss.backward "
            "divides by it once; if it does, the loss is divided by it twice, which makes "
            "numerical_gradient m times too small"
        ),
        1 / m: (
            f"gradient divides by the batch size m = {m} twice, or the loss is not the mean "
            "over the batch"
        ),
    }
    expected = {name: np.asarray(found[name], dtype=np.float64) for name in NET_PARAMETERS}
    return calls.against_own(expected, factor_hints=hints)


@pytest.mark.points(1)
def test_net_params(notebook: Notebook, networks: Networks) -> None:
    """ThreeLayerNet(n_in, h1, h2, n_out).params holds W1, b1, W2, b2, W3, b3 of the right shapes"""
    calls = networks.get(notebook)
    if calls.setup_error is not None:
        raise CheckFailure(calls.setup_error)


@pytest.mark.points(1)
@pytest.mark.parametrize("name", OUTPUT_FIRST)
def test_net_gradient(notebook: Notebook, networks: Networks, name: str) -> None:
    """net.gradient agrees with net.numerical_gradient"""
    calls = networks.get(notebook)
    judged = own_gradients(calls)
    message = judged.failure(name)
    if message is None:
        return
    grads = calls.gradient.raw_value
    if isinstance(grads, dict) and name not in grads:
        message += _collected_hint(calls, judged, name)
    # SoftmaxWithLoss.backward without / m makes every gradient m times too big: charged once.
    # Any other mistake in this gradient is its own cause, which the hidden comparison of the
    # same gradient with the reference (not judged then) does not charge again.
    raise CheckFailure(message, cause=judged.cause(name) or f"net.gradient(x, t)['{name}']")


def _collected_hint(calls: NetworkCalls, judged: GradientCall, name: str) -> str:
    """Say so when the layer holds the right gradient but gradient() does not return it."""
    kind, k = name[0], int(name[1:])
    affine = calls.affine_layer(k)
    if affine is None:
        return ""
    held = affine.get(f"d{kind}")
    if not held.ok or judged.expected[name].shape != np.shape(held.raw_value):
        return ""
    if not agrees_with_own(held.raw_value, judged.expected[name]):
        return ""
    return (
        f"\n{affine.label}.d{kind} holds the right gradient after backward: gradient() only "
        f"has to return it as grads['{name}']."
    )


@pytest.mark.points(1)
def test_net_gradient_leaves_weights(notebook: Notebook, networks: Networks) -> None:
    """net.gradient computes gradients without changing net.params"""
    calls = networks.get(notebook)
    net = calls.require()
    calls.gradient.raise_for_status()
    before, after = calls.before_gradient.value, calls.after_gradient.value
    changed = [
        name
        for name in NET_PARAMETERS
        if not isinstance(after.get(name), np.ndarray)
        or after[name].shape != before[name].shape
        or not np.array_equal(after[name], before[name])
    ]
    if changed:
        names = ", ".join(f"{net.label}.params['{n}']" for n in changed)
        raise CheckFailure(
            f"{net.label}.gradient(x, t) changed {names}. gradient only computes the gradients; "
            "the weights are updated by the training loop (params[key] -= lr * grad[key]). "
            "Look for an update inside a layer's backward (W -= lr * dW)."
        )
