"""Visible checks for the layers assignment: ThreeLayerNet, its params and its gradient.

8 points of the 25 that students can self-check (test_layer_classes.py has the layers'):
the network's ``gradient`` is judged against its own ``numerical_gradient``, parameter
by parameter, so no reference solution is needed. numerical_gradient (and the loss it
differentiates) is given code: when a notebook's no longer computes the centred differences
of net.loss that the template's does, the self-check says so in one line rather than blame
gradient. The gradient checks are ``self_check_only``: when grading, hidden_layer_classes.py
runs them again with the reference's gradients as their basis, so that a change to the given
code does not move the grade of gradient.
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
    """The student's ThreeLayerNet, made and called once per run, shared by the checks, and
    the basis its gradient is judged on here: its own numerical_gradient. When grading,
    hidden_layer_classes.py gives the same checks the reference's gradients instead."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._calls: NetworkCalls | None = None
        self._own: GradientCall | None = None
        self._probed: dict[str, np.ndarray | None] = {}

    def get(self, notebook: Notebook) -> NetworkCalls:
        if self._calls is None:
            problem = NetworkProblem.for_run(self.seed)
            self._calls = NetworkCalls(notebook, "ThreeLayerNet", problem)
        return self._calls

    def judge(self, notebook: Notebook, name: str) -> GradientCall:
        """gradient() judged against the network's own numerical_gradient, unless that
        method (given in the template) no longer computes what the template's does."""
        calls = self.get(notebook)
        calls.require()
        try:
            if self._own is None:
                self._own = own_gradients(calls)
        except CheckFailure as exc:
            raise CheckFailure(self._changed_numerical(calls, name) or str(exc)) from None
        if self._own.failure(name) is not None:
            changed = self._changed_numerical(calls, name)
            if changed is not None:
                raise CheckFailure(changed)
        return self._own

    def note(self, name: str) -> str:
        """What else explains a wrong gradient ``name``: nothing here."""
        return ""

    def _changed_numerical(self, calls: NetworkCalls, name: str) -> str | None:
        """One line if net.numerical_gradient(x, t)[name] is not the centred differences of
        net.loss(x, t) that the template's numerical_gradient computes; None otherwise."""
        if name not in self._probed:
            self._probed[name] = centred_differences(calls, name)
        probe = self._probed[name]
        if not calls.numerical.ok:  # its own failure says more
            return None
        found = calls.numerical.raw_value
        own = found.get(name) if isinstance(found, dict) else None
        if probe is None or not np.any(probe) or agrees_with_own(own, probe):
            return None
        grads = calls.gradient.raw_value if calls.gradient.ok else None
        agrees = isinstance(grads, dict) and agrees_with_own(grads.get(name), probe)
        verdict = (
            f"net.gradient(x, t)['{name}'] agrees with these."
            if agrees
            else f"net.gradient(x, t)['{name}'] does not agree with these either."
        )
        return (
            f"net.numerical_gradient differs from the template's: {_difference(own, probe, name)}"
            f" (h = {PROBE_H:g}, as the template's computes). The self-check compares gradient "
            f"with it; {verdict} When graded, net.gradient is judged against the reference's "
            "gradients instead."
        )


def _difference(own: object, probe: np.ndarray, name: str) -> str:
    """Where the network's numerical gradient and the template's differ most, in words."""
    try:
        found = np.asarray(own, dtype=np.float64)
    except (TypeError, ValueError):
        found = None
    where = "centred differences of net.loss(x, t) give"
    if found is None or found.shape != probe.shape:
        return f"['{name}'] is {describe(own)}, where {where} {describe(probe)}"
    if not np.any(found):
        return f"['{name}'] is 0 everywhere, where {where} nonzero values"
    index = np.unravel_index(int(np.argmax(np.abs(found - probe))), probe.shape)
    at = f"[{', '.join(map(str, index))}]" if index else ""
    return f"['{name}']{at} is {found[index]:.6g}, where {where} {probe[index]:.6g}"


LOSS_IGNORES_PARAMS = (
    "changing the arrays in net.params does not change net.loss(x, t). The Affine layers must "
    "use the arrays in self.params themselves (Affine(self.params['W1'], ...)), not copies, or "
    "neither numerical_gradient nor the training loop reaches them."
)
# The template's numerical_gradient: centred differences with this step (common/gradient.py).
PROBE_H = 1e-4


def centred_differences(calls: NetworkCalls, name: str) -> np.ndarray | None:
    """The numerical gradient of net.loss(x, t) by params[name], as the template's
    numerical_gradient computes it, with the problem's weights; None if net.loss fails."""
    net, problem = calls.require(), calls.problem
    for key, value in problem.params.items():  # gradient() may have changed them
        net.set("params", key, value)
    start = problem.params[name]
    probe = np.zeros_like(start)
    try:
        for index in np.ndindex(start.shape):
            losses = []
            for step in (PROBE_H, -PROBE_H):
                moved = start.copy()
                moved[index] += step
                net.set("params", name, moved)
                loss = net.call("loss", problem.x, problem.t)
                value = loss.raw_value if loss.ok else None
                if np.ndim(value) != 0 or not np.isfinite(np.asarray(value, dtype=np.float64)):
                    return None
                losses.append(float(np.asarray(value, dtype=np.float64)))
            probe[index] = (losses[0] - losses[1]) / (2 * PROBE_H)
    finally:
        net.set("params", name, start)
    return probe


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
            "so this must work first. When graded, net.gradient is judged against the "
            "reference's gradients instead."
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
        raise CheckFailure(f"net.numerical_gradient(x, t) is 0 everywhere: {LOSS_IGNORES_PARAMS}")
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
@pytest.mark.self_check_only
@pytest.mark.parametrize("name", OUTPUT_FIRST)
def test_net_gradient(notebook: Notebook, networks: Networks, name: str) -> None:
    """net.gradient computes the right gradient"""
    calls = networks.get(notebook)
    judged = networks.judge(notebook, name)
    message = judged.failure(name)
    if message is None:
        return
    grads = calls.gradient.raw_value
    if isinstance(grads, dict) and name not in grads:
        message += _collected_hint(calls, judged, name)
    # SoftmaxWithLoss.backward without / m makes every gradient m times too big: charged once.
    # Any other mistake in this gradient is its own cause, which the hidden checks that need
    # a right gradient (not judged then) do not charge again.
    raise CheckFailure(
        message + networks.note(name),
        cause=judged.cause(name) or f"net.gradient(x, t)['{name}']",
    )


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
