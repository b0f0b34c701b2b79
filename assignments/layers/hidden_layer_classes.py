"""Hidden checks for the layers assignment: layers and network against the reference, training.

6 points, run only when grading. What the visible checks already failed is not failed
again: a layer wrong on ordinary inputs, or a gradient that disagrees with the network's
own numerical_gradient, is left to test_layer_classes.py and test_three_layer_net.py (these
checks are then not judged, and keep their points when the visible check named the mistake
as its cause: charge_each_cause). They judge what the visible checks cannot show: layers on
other shapes and scales (one row, large scores), a network whose gradient and
numerical_gradient are wrong in the same way (a loss that is a sum rather than a mean),
and whether a few steps of SGD on real digits lower the loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise

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


class Judged:
    """The student's network on the shared problem, judged against its own numerical
    gradient (as the visible checks do) and against the reference."""

    def __init__(self, notebook: Notebook, seed: int) -> None:
        problem = NetworkProblem.for_run(seed)
        self.calls = NetworkCalls(notebook, "ThreeLayerNet", problem)
        self.problem = problem
        self.own: dict[str, bool] = {}
        # The mistake behind the gradients that disagree with numerical_gradient, when it is
        # the same batch-size factor for all of them (charged once, see assignment.toml).
        self.own_cause: str | None = None
        self.reference: GradientCall | None = None
        if self.calls.setup_error is not None or not self.calls.gradient.ok:
            return
        x, t, params = problem.x, problem.t, problem.params
        expected = three_layer_gradients(x, t, params)
        numerical = parameter_gradients(lambda p: three_layer_loss(x, t, p), params, NET_PARAMETERS)
        for name in NET_PARAMETERS:
            if not compare_gradients(expected[name], numerical[name]).passed:
                # A bug in the reference must never be blamed on a student.
                raise RuntimeError(f"the reference {name} disagrees with the numerical gradient")
        self.reference = self.calls.against_reference(expected, numerical)
        self.own = {name: self._agrees_with_own(name) for name in NET_PARAMETERS}
        grads, own = self.calls.gradient.raw_value, self.calls.numerical.raw_value
        if isinstance(grads, dict) and isinstance(own, dict):
            causes = {
                batch_factor_cause(grads.get(name), own.get(name), problem.m)
                or extra_dimension_cause(grads.get(name), own.get(name))
                for name in NET_PARAMETERS
                if not self.own[name]
            }
            self.own_cause = causes.pop() if len(causes) == 1 else None

    def _agrees_with_own(self, name: str) -> bool:
        grads, own = self.calls.gradient.raw_value, self.calls.numerical.raw_value
        if not isinstance(grads, dict) or not isinstance(own, dict):
            return False
        return name in grads and name in own and agrees_with_own(grads[name], own[name])


@pytest.fixture(scope="module")
def judged_cache() -> dict[str, Judged]:
    return {}


def judged(notebook: Notebook, cache: dict[str, Judged], seed: int) -> Judged:
    if "net" not in cache:
        cache["net"] = Judged(notebook, seed)
    return cache["net"]


def working(found: Judged) -> GradientCall:
    """The reference comparison, if the network's gradient works at all: credit for the
    hidden checks only goes to a network that computes some gradient right."""
    found.calls.require()
    if found.reference is None or not any(found.own.values()):
        raise NotJudged(
            "net.gradient(x, t) did not give any gradient that agrees with "
            "net.numerical_gradient(x, t) yet (see the visible checks)",
            cause=found.own_cause,
        )
    return found.reference


@pytest.mark.points(3, shared=True)
@pytest.mark.parametrize("name", OUTPUT_FIRST)
def test_net_matches_reference(
    notebook: Notebook, judged_cache: dict[str, Judged], run_seed: int, name: str
) -> None:
    """net.gradient matches the reference network's gradients"""
    found = judged(notebook, judged_cache, run_seed)
    reference = working(found)
    if not found.own[name]:
        raise NotJudged(
            f"net.gradient(x, t)['{name}'] already disagrees with net.numerical_gradient(x, t) "
            "(see the visible check of it)",
            cause=found.own_cause or f"net.gradient(x, t)['{name}']",  # that check's cause
        )
    message = reference.failure(name)
    if message is None:
        return
    loss = found.calls.loss
    x, t, params = found.problem.x, found.problem.t, found.problem.params
    want = three_layer_loss(x, t, params)
    note = ""
    if loss.ok and isinstance(loss.raw_value, float | np.floating):
        note = (
            f"\nnet.loss(x, t) is {float(loss.raw_value):.6g} where the network's loss is "
            f"{want:.6g}: gradient and numerical_gradient agree with each other, so the loss "
            "itself is likely wrong (a sum instead of the mean over the batch, or a layer "
            "that is not the one asked for)."
        )
    raise CheckFailure(
        f"net.gradient(x, t)['{name}'] agrees with net.numerical_gradient(x, t) but not with "
        f"the gradient of the network that was asked for.\n{message}{note}",
        cause=reference.cause(name),
    )


@pytest.mark.points(1)
@pytest.mark.time_limit(30)
def test_sgd_lowers_the_loss(
    notebook: Notebook, judged_cache: dict[str, Judged], run_seed: int, rng: np.random.Generator
) -> None:
    """a few SGD steps with net.gradient lower the loss on real digits"""
    working(judged(notebook, judged_cache, run_seed))
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
