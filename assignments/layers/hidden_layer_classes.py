"""Hidden checks for the layers assignment: layers and network against the reference, training.

6 points, run only when grading, and the network's gradient checks of
test_three_layer_net.py (6 points) run again with the reference as their basis: net.gradient
is judged against the reference's gradients for the same batch and weights, so that a
notebook whose given numerical_gradient or loss was changed is graded on gradient alone
(those checks are ``self_check_only`` and stand in under the same names and points).
What the visible checks already failed is not failed again: a layer wrong on ordinary
inputs, or a gradient already wrong, is left to them (these checks are then not judged,
and keep their points when that check named the mistake as its cause: charge_each_cause).
They judge layers on other shapes and scales (one row, large scores), the network's
gradient for other layer sizes and batch size, and whether a few steps of SGD on real
digits lower the loss."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from grader.checks import (
    CheckFailure,
    GradientCall,
    NetworkCalls,
    NetworkProblem,
    Notebook,
    NotJudged,
    agrees_with_own,
    away_from_kinks,
    batch_factor_cause,
    compare_gradients,
    expect_array,
    expect_scalar,
    extra_dimension_cause,
    parameter_gradients,
)
from reference import digits
from reference import layers as ref
from reference.layers import three_layer_gradients, three_layer_loss

NET_PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")
# In the order backprop computes them: the order in which to report them, and to fix them.
OUTPUT_FIRST = ("W3", "b3", "W2", "b2", "W1", "b1")

# Training: real digits, He-scaled initial weights (so a few steps already show), plain SGD.
TRAIN_SIZES = (784, 30, 20, 10)
TRAIN_BATCH = 100
TRAIN_STEPS = 10
LEARNING_RATE = 0.1
# In these steps the reference network's loss falls by 9.5% or more (40 seeds tried);
# a wrong gradient, or layers that do not use net.params, leave it where it was.
MIN_DECREASE = 0.02  # as a fraction of the first loss


# -- each layer on other shapes and scales ------------------------------------------------


class Case:
    """One layer problem: constructor arguments, forward's inputs, backward's dout."""

    def __init__(
        self, words: str, args: tuple = (), inputs: tuple = (), dout: object = None
    ) -> None:
        self.words, self.args, self.inputs, self.dout = words, args, inputs, dout
        # With scores of order 1000 the book's cross_entropy_error caps each term at
        # -log(1e-7): only backward (softmax - t) is compared there, and forward must be finite.
        self.exact_loss = "large" not in words


def layer_cases(rng: np.random.Generator, name: str) -> list[Case]:
    """The ordinary case first (what the visible checks judge), then the other ones."""
    normal = rng.standard_normal
    if name in ("Relu", "Sigmoid"):
        return [
            Case("ordinary inputs", (), (away_from_kinks(rng, (3, 4)),), normal((3, 4))),
            Case("a single row", (), (away_from_kinks(rng, (1, 6)),), normal((1, 6))),
            Case(
                "large inputs (|x| near 100)",
                (),
                (away_from_kinks(rng, (4, 3)) * 60,),
                normal((4, 3)),
            ),
        ]
    if name == "Affine":
        return [
            Case("ordinary inputs", (normal((4, 5)), normal(5)), (normal((3, 4)),), normal((3, 5))),
            Case("a single row", (normal((4, 5)), normal(5)), (normal((1, 4)),), normal((1, 5))),
            Case(
                "a batch larger than the layer",
                (normal((4, 2)), normal(2)),
                (normal((9, 4)),),
                normal((9, 2)),
            ),
        ]
    labels = rng.integers(0, 5, 6)
    return [
        Case("ordinary inputs", (), (normal((3, 4)), np.eye(4)[rng.integers(0, 4, 3)])),
        Case("label indices and five classes", (), (normal((6, 5)), labels)),
        Case("large scores (near 1000)", (), (normal((4, 3)) * 1000, np.eye(3)[[0, 1, 2, 0]])),
    ]


# A few roundings of y, each half an epsilon, in y * (1 - y): 10 leaves a margin.
FLOAT32_ROUNDINGS = 10


def expected_layer(name: str, case: Case) -> dict[str, object]:
    x, dout = case.inputs[0], case.dout
    if name == "Relu":
        return {"out": ref.relu_forward(x), "dx": ref.relu_backward(x, dout)}
    if name == "Sigmoid":
        return {"out": ref.sigmoid_forward(x), "dx": ref.sigmoid_backward(x, dout)}
    if name == "Affine":
        W, b = case.args
        dx, dW, db = ref.affine_backward(x, W, dout)
        return {"out": ref.affine_forward(x, W, b), "dx": dx, "dW": dW, "db": db}
    t = case.inputs[1]
    return {"out": ref.softmax_with_loss(x, t), "dx": ref.softmax_with_loss_backward(x, t)}


def judge_layer(notebook: Notebook, name: str, case: Case) -> None:
    """Fail (with the comparison's message) unless the layer matches the reference."""
    layer = notebook.new(name, *case.args).value
    forward = layer.call("forward", *case.inputs)
    backward = layer.call("backward", *(() if name == "SoftmaxWithLoss" else (case.dout,)))
    expected = expected_layer(name, case)
    found = {"out": forward.value, "dx": backward.value}
    if name == "Affine":
        found |= {"dW": layer.get("dW").value, "db": layer.get("db").value}
    for key, want in expected.items():
        what = forward.what if key == "out" else f"{layer.what}.backward: {key}"
        if key == "out" and name == "SoftmaxWithLoss":
            if case.exact_loss:
                # log(p + 1e-7) in the book's cross_entropy_error: ~1e-5 at p near 0.01.
                with counted_cause(found[key], want, case):
                    expect_scalar(found[key], float(np.asarray(want)), what=what, rtol=1e-4)
            elif not np.isfinite(np.asarray(found[key], dtype=np.float64)).all():
                raise CheckFailure(
                    f"{what} returned {found[key]}; expected a finite number. With large "
                    "scores np.exp overflows unless the maximum of each row is subtracted first."
                )
            continue
        # Only a float32 Sigmoid's dx gets an absolute tolerance other than the default.
        rounding = float32_atol(name, key, found[key], case)
        with counted_cause(found[key], want, case):
            tolerance = {"atol": rounding} if rounding else {}
            expect_array(found[key], np.asarray(want), what=what, **tolerance)


def float32_atol(name: str, key: str, found: object, case: Case) -> float:
    """How far float32 rounding alone can move a float32 Sigmoid's dx: dout * y * (1 - y)
    with y near 1 rounded by half a float32 epsilon, an error on dout's scale, not dx's
    (which large inputs make tiny). 0 for anything else (which keeps expect_array's own)."""
    dtype = getattr(found, "dtype", None)
    if name != "Sigmoid" or key != "dx" or str(dtype) not in ("float32", "float16"):
        return 0.0
    eps = float(np.finfo(str(dtype)).eps)
    return FLOAT32_ROUNDINGS * eps * float(np.max(np.abs(case.dout), initial=0.0))


@contextmanager
def counted_cause(found: object, want: object, case: Case) -> Iterator[None]:
    """A failure inside names its cause when it is one counted once (a batch-size factor,
    see charge_each_cause in assignment.toml)."""
    try:
        yield
    except CheckFailure as exc:
        m = len(np.asarray(case.inputs[0]))
        cause = batch_factor_cause(found, want, m) or extra_dimension_cause(found, want)
        raise CheckFailure(str(exc), cause=cause) from None


@pytest.mark.points(2, shared=True)
@pytest.mark.parametrize("name", ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss"])
def test_layer_matches_reference(notebook: Notebook, rng: np.random.Generator, name: str) -> None:
    """each layer matches the reference on other shapes and scales"""
    ordinary, *others = layer_cases(rng, name)
    try:
        judge_layer(notebook, name, ordinary)
    except CheckFailure as exc:
        raise NotJudged(
            f"{name} does not match the reference on ordinary inputs yet (see the visible "
            f"checks of {name}): {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
            cause=exc.cause,
        ) from None
    for case in others:
        try:
            judge_layer(notebook, name, case)
        except CheckFailure as exc:
            raise CheckFailure(
                f"{name} works for ordinary inputs but not for {case.words}:\n{exc}"
            ) from None


# -- the network ----------------------------------------------------------------------------


def _visible_checks() -> ModuleType:
    """test_three_layer_net.py, loaded from beside this file (not on sys.path)."""
    path = Path(__file__).with_name("test_three_layer_net.py")
    spec = importlib.util.spec_from_file_location("layers_visible_net_checks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pytest looks a module up by name
    spec.loader.exec_module(module)
    return module


# Collected here, the visible gradient checks use this module's ``networks`` fixture: the
# reference's gradients as their basis (self_check_only, see the module's docstring).
_visible = _visible_checks()
test_net_gradient = _visible.test_net_gradient
# Another network and batch, all sizes different, for test_net_matches_reference.
OTHER_SIZES = (8, 3, 6, 5)
OTHER_M = 4


class ReferenceNetworks:
    """The student's network on the run's problem, as test_three_layer_net.py's ``Networks``
    (``get``, ``judge``, ``note``), judged against the reference's gradients for the
    weights the network held when gradient() ran."""

    def __init__(self, problem: NetworkProblem) -> None:
        self.problem = problem
        self._calls: NetworkCalls | None = None
        self._judged: GradientCall | None = None

    def get(self, notebook: Notebook) -> NetworkCalls:
        if self._calls is None:
            self._calls = NetworkCalls(notebook, "ThreeLayerNet", self.problem)
        return self._calls

    def judge(self, notebook: Notebook, name: str = "W1") -> GradientCall:
        if self._judged is None:
            calls = self.get(notebook)
            calls.require()
            self._judged = reference_basis(calls)
        return self._judged

    def note(self, name: str) -> str:
        """Why gradient ``name`` is wrong when it agrees with the network's own
        numerical_gradient: then the loss they both differentiate is not the one asked for."""
        calls = self._calls
        grads = calls.gradient.raw_value if calls is not None and calls.gradient.ok else None
        own = calls.numerical.raw_value if calls is not None and calls.numerical.ok else None
        if calls is None or not isinstance(grads, dict) or name not in grads:
            return ""
        probe = _visible.centred_differences(calls, name)
        if probe is not None and not np.any(probe):
            return f"\n{_visible.LOSS_IGNORES_PARAMS}"
        if not isinstance(own, dict) or not agrees_with_own(grads.get(name), own.get(name)):
            return ""
        loss, problem = calls.loss, self.problem
        want = three_layer_loss(problem.x, problem.t, problem.params)
        try:
            said = f"net.loss(x, t) is {float(loss.raw_value):.6g} where the network's loss is "
            said += f"{want:.6g}: "
        except (TypeError, ValueError):  # not a number: the loss check says so
            said = ""
        return (
            f"\n{said}net.gradient agrees with net.numerical_gradient, so the loss they both "
            "differentiate is likely wrong (a sum instead of the mean over the batch, or a "
            "layer that is not the one asked for)."
        )


def reference_basis(calls: NetworkCalls) -> GradientCall:
    """gradient() judged against the reference's gradients for the batch and the weights
    the network held when gradient() ran (the problem's, unless numerical_gradient left
    others), with the hints the visible checks give for a batch-size factor."""
    problem = calls.problem
    held = calls.before_gradient.raw_value if calls.before_gradient.ok else None
    params = dict(problem.params)
    if isinstance(held, dict):
        for name, value in problem.params.items():
            if np.shape(held.get(name)) == value.shape:
                params[name] = np.asarray(held[name], dtype=np.float64)
    x, t, m = problem.x, problem.t, problem.m
    expected = three_layer_gradients(x, t, params)
    numerical = parameter_gradients(lambda p: three_layer_loss(x, t, p), params, NET_PARAMETERS)
    for name in NET_PARAMETERS:
        if not compare_gradients(expected[name], numerical[name]).passed:
            # A bug in the reference must never be blamed on a student.
            raise RuntimeError(f"the reference {name} disagrees with the numerical gradient")
    hints = {
        float(m): (
            f"gradient lacks a division by the batch size m = {m} (SoftmaxWithLoss.backward "
            "divides by it once), or the loss is a sum over the batch rather than its mean"
        ),
        1 / m: f"gradient divides by the batch size m = {m} twice",
    }
    return calls.against_reference(expected, numerical, factor_hints=hints)


@pytest.fixture(scope="module")
def networks(run_seed: int) -> ReferenceNetworks:
    return ReferenceNetworks(NetworkProblem.for_run(run_seed))


@pytest.fixture(scope="module")
def other_networks(run_seed: int) -> ReferenceNetworks:
    return ReferenceNetworks(NetworkProblem.for_run(run_seed, OTHER_SIZES, OTHER_M))


def working(notebook: Notebook, networks: ReferenceNetworks) -> GradientCall:
    """The reference comparison, if the network's gradient works at all: credit for the
    hidden checks only goes to a network that computes some gradient right."""
    judged = networks.judge(notebook)
    if not any(judged.right.values()):
        causes = {judged.cause(name) for name in NET_PARAMETERS}
        raise NotJudged(
            "net.gradient(x, t) did not give any right gradient yet (see the checks of it)",
            cause=causes.pop() if len(causes) == 1 else None,
        )
    return judged


@pytest.mark.points(3, shared=True)
@pytest.mark.parametrize("name", OUTPUT_FIRST)
def test_net_matches_reference(
    notebook: Notebook,
    networks: ReferenceNetworks,
    other_networks: ReferenceNetworks,
    name: str,
) -> None:
    """net.gradient is right for other layer sizes and another batch size too"""
    usual = networks.judge(notebook)
    if usual.failure(name) is not None:
        raise NotJudged(
            f"net.gradient(x, t)['{name}'] is not right yet for the usual sizes (see the check "
            "of it above)",
            cause=usual.cause(name) or f"net.gradient(x, t)['{name}']",  # that check's cause
        )
    lead = (
        f"for the layer sizes {networks.problem.sizes} with a batch of {networks.problem.m}, "
        f"but not for {OTHER_SIZES} with a batch of {OTHER_M}. Is a layer size or the batch "
        "size written into your code? Take sizes from the arrays (x.shape[0], W.shape)."
    )
    calls = other_networks.get(notebook)
    if calls.setup_error is not None:
        raise CheckFailure(f"ThreeLayerNet works {lead}\n{calls.setup_error}")
    message = other_networks.judge(notebook).failure(name)
    if message is not None:
        raise CheckFailure(f"net.gradient(x, t)['{name}'] is right {lead}\n{message}")


@pytest.mark.points(1)
@pytest.mark.time_limit(30)
def test_sgd_lowers_the_loss(
    notebook: Notebook, networks: ReferenceNetworks, rng: np.random.Generator
) -> None:
    """a few SGD steps with net.gradient lower the loss on real digits"""
    working(notebook, networks)
    data = digits.load()
    chosen = rng.choice(len(data.y_train), TRAIN_BATCH, replace=False)
    x = data.x_train[chosen].reshape(TRAIN_BATCH, -1).astype(np.float64) / 255.0
    t = np.eye(10)[data.y_train[chosen]]
    net = notebook.new("ThreeLayerNet", *TRAIN_SIZES).value.named("net")
    for name, value in initial_weights(rng).items():
        net.set("params", name, value).raise_for_status()
    losses = [float(net.call("loss", x, t).value)]
    for _ in range(TRAIN_STEPS):
        grads = net.call("gradient", x, t).value
        missing = [key for key in OUTPUT_FIRST if not isinstance(grads, dict) or key not in grads]
        if missing:
            # A missing gradient is failed (and charged) by its visible check already.
            raise NotJudged(
                f"net.gradient(x, t) does not return {', '.join(missing)}",
                cause=f"net.gradient(x, t)['{missing[0]}']",
            )
        params = net.get("params").value
        for key in NET_PARAMETERS:
            net.set("params", key, params[key] - LEARNING_RATE * np.asarray(grads[key]))
        losses.append(float(net.call("loss", x, t).value))
    if not losses[-1] < losses[0] * (1 - MIN_DECREASE):
        shown = ", ".join(f"{value:.4f}" for value in losses)
        raise CheckFailure(
            f"{TRAIN_STEPS} steps of SGD (learning rate {LEARNING_RATE}) with net.gradient on "
            f"{TRAIN_BATCH} digits did not lower net.loss: {shown}. Do the Affine layers use "
            "the arrays in net.params (not copies), and does gradient return the gradients of "
            "this loss?"
        )


def initial_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-scaled weights and zero biases for TRAIN_SIZES, drawn here for reproducibility."""
    params = {}
    for layer, (fan_in, fan_out) in enumerate(pairwise(TRAIN_SIZES), start=1):
        params[f"W{layer}"] = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)
        params[f"b{layer}"] = np.zeros(fan_out)
    return params
