"""Visible checks for the layers assignment: Relu, Sigmoid, Affine and SoftmaxWithLoss.

17 of the 25 points that students can self-check (test_three_layer_net.py has the
network's 8). Students get these, so they use no reference solution: small fixed examples
with the expected values written out, numerical gradients of each layer's own forward
(every backward is judged against the forward it belongs to), and properties (the Relu
convention at 0, a backward that follows the latest forward). The objects stay in the
kernel; the checks hold handles to them (``notebook.new``). hidden_layer_classes.py
compares with the reference when grading.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from grader.checks import (
    CheckFailure,
    Notebook,
    ObjectHandle,
    away_from_kinks,
    batch_factor_cause,
    batch_factor_hints,
    describe,
    elementwise_derivative,
    expect_array,
    expect_gradient,
    expect_scalar,
    expect_unmodified,
    extra_dimension_cause,
    numerical_gradient,
)

LOSS_RTOL = 1e-5  # the book's cross_entropy_error adds 1e-7 inside the log

# Fixed examples: three rows, so a batch factor shows as 3 or 1/3.
SCORES = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 1.0]])
LABELS = np.array([0, 1, 2])
SCORES_LOSS = 0.5785639426554937  # the mean of -log softmax(SCORES)[i, LABELS[i]]
TARGETS = {"one_hot": np.eye(3)[LABELS], "labels": LABELS}


def layer(notebook: Notebook, class_name: str, *args: object) -> ObjectHandle:
    """A fresh instance of the student's layer class, held in the kernel."""
    return notebook.new(class_name, *args).value


def forward_backward(
    handle: ObjectHandle, inputs: tuple[object, ...], dout: object = None
) -> tuple[object, object]:
    out = handle.call("forward", *inputs).value
    back = handle.call("backward", *(() if dout is None else (dout,)))
    return out, back.value


def weighted(forward: Callable[[np.ndarray], object], dout: np.ndarray) -> Callable[..., float]:
    """sum(forward(x) * dout): its gradient is what backward(dout) must return."""

    def f(x: np.ndarray) -> float:
        returned = forward(x)
        try:
            out = np.asarray(returned, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):
            out = None
        if out is None or out.shape != dout.shape:
            raise CheckFailure(
                f"forward returned {describe(returned)}; expected an array of shape {dout.shape}."
            )
        return float(np.sum(out * dout))

    return f


# -- Relu and Sigmoid ----------------------------------------------------------------------


@pytest.mark.points(1)
def test_relu_forward(notebook: Notebook) -> None:
    """Relu.forward gives max(0, x) and leaves x alone"""
    x = np.array([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.0]])
    relu = layer(notebook, "Relu")
    call = relu.call("forward", x)
    expect_array(call.value, np.array([[0.0, 0.0, 3.0], [1.5, 0.0, 0.0]]), what=call.what)
    expect_unmodified(x, call.args[0], what=call.what, argument=call.argument_name(0))


@pytest.mark.points(1)
def test_relu_backward(notebook: Notebook, rng: np.random.Generator) -> None:
    """Relu.backward matches the numerical gradient of Relu.forward"""
    x = away_from_kinks(rng, (4, 5))
    dout = rng.standard_normal((4, 5))
    _, dx = forward_backward(relu := layer(notebook, "Relu"), (x,), dout)
    probe = layer(notebook, "Relu")
    slope = elementwise_derivative(lambda z: probe.call("forward", z).value, x)
    what = f"{relu.what}.backward(dout) after forward(x)"
    expect_gradient(dx, slope * dout, what=what, inputs={"x": x})


@pytest.mark.points(1)
def test_relu_convention_at_zero(notebook: Notebook, record_property: Callable) -> None:
    """Relu treats x = 0 the same way in forward and backward"""
    x = np.array([[0.0, 2.0, -1.0, 0.0]])
    relu = layer(notebook, "Relu")
    out, dx = forward_backward(relu, (x,), np.full((1, 4), 5.0))
    expect_array(out, np.array([[0.0, 2.0, 0.0, 0.0]]), what=f"{relu.what}.forward(x)")
    what = f"{relu.what}.backward(dout) after forward(x) with dout = 5 everywhere"
    # Any finite values of x's shape pass this step; the values are judged below.
    expect_array(dx, np.zeros_like(x), what=what, rtol=0.0, atol=np.inf)
    expect_array(np.asarray(dx)[:, 1:3], np.array([[5.0, 0.0]]), what=f"{what}, where x != 0,")
    at_zero = np.asarray(dx)[x == 0]
    if np.all(at_zero == 0):
        record_property("note", "Your Relu blocks the gradient at x = 0 (mask x <= 0).")
    elif np.all(at_zero == 5.0):
        record_property("note", "Your Relu passes the gradient through at x = 0 (mask x < 0).")
    else:
        shown = ", ".join(f"{v:g}" for v in at_zero)
        raise CheckFailure(
            f"{what} returned {shown} where x = 0; expected either 0 at both (the mask "
            "x <= 0) or 5 at both (the mask x < 0). Save the mask in forward and use the "
            "same one in backward."
        )


@pytest.mark.points(1)
def test_sigmoid_forward(notebook: Notebook) -> None:
    """Sigmoid.forward gives 1 / (1 + exp(-x))"""
    x = np.array([[0.0, 2.0], [-1.0, 4.0]])
    call = layer(notebook, "Sigmoid").call("forward", x)
    expected = np.array([[0.5, 0.8807970779778823], [0.2689414213699951, 0.9820137900379085]])
    expect_array(call.value, expected, what=call.what)


@pytest.mark.points(1)
def test_sigmoid_backward(notebook: Notebook, rng: np.random.Generator) -> None:
    """Sigmoid.backward matches the numerical gradient of Sigmoid.forward"""
    x = rng.standard_normal((4, 5)) * 2
    dout = rng.standard_normal((4, 5))
    sigmoid = layer(notebook, "Sigmoid")
    _, dx = forward_backward(sigmoid, (x,), dout)
    probe = layer(notebook, "Sigmoid")
    slope = elementwise_derivative(lambda z: probe.call("forward", z).value, x)
    what = f"{sigmoid.what}.backward(dout) after forward(x)"
    expect_gradient(dx, slope * dout, what=what, inputs={"x": x})


# -- Affine ----------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_affine_forward(notebook: Notebook) -> None:
    """Affine.forward gives x @ W + b"""
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]])
    W = np.array([[1.0, 0.0, -1.0, 2.0], [0.5, 1.0, 1.0, 0.0]])
    b = np.array([0.1, -0.2, 0.3, 0.0])
    call = layer(notebook, "Affine", W, b).call("forward", x)
    expected = np.array([[2.1, 1.8, 1.3, 2.0], [2.6, -1.2, -3.7, 6.0], [0.35, 0.3, 0.8, 0.0]])
    expect_array(call.value, expected, what=call.what)


AFFINE_GRADIENTS = {"dx": "the dx it returns", "dW": "self.dW", "db": "self.db"}


@pytest.mark.points(1)
@pytest.mark.parametrize("name", list(AFFINE_GRADIENTS))
def test_affine_backward(notebook: Notebook, rng: np.random.Generator, name: str) -> None:
    """Affine.backward matches the numerical gradient of Affine.forward"""
    x, W, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((2, 4))
    affine = layer(notebook, "Affine", W, b)
    _, dx = forward_backward(affine, (x,), dout)
    found = {"dx": dx, "dW": affine.get("dW").value, "db": affine.get("db").value}
    evaluations: dict[str, Callable[[np.ndarray], object]] = {
        "dx": lambda z: layer(notebook, "Affine", W, b).call("forward", z).value,
        "dW": lambda w: layer(notebook, "Affine", w, b).call("forward", x).value,
        "db": lambda c: layer(notebook, "Affine", W, c).call("forward", x).value,
    }
    point = {"dx": x, "dW": W, "db": b}[name]
    numerical = numerical_gradient(weighted(evaluations[name], dout), point)
    what = f"{affine.what}.backward(dout): {AFFINE_GRADIENTS[name]}"
    try:
        expect_gradient(found[name], numerical, what=what)
    except CheckFailure as exc:
        # db of shape (1, n) fails the network's bias gradients too: charged once.
        raise CheckFailure(str(exc), cause=extra_dimension_cause(found[name], numerical)) from None


@pytest.mark.points(1)
def test_affine_backward_leaves_weights(notebook: Notebook, rng: np.random.Generator) -> None:
    """Affine.backward computes gradients without changing W and b"""
    W, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    affine = layer(notebook, "Affine", W, b)
    forward_backward(affine, (rng.standard_normal((2, 3)),), rng.standard_normal((2, 4)))
    for name, before in (("W", W), ("b", b)):
        after = affine.get(name).value
        try:
            expect_unmodified(before, after, what=f"{affine.what}.backward(dout)", argument=name)
        except CheckFailure:
            raise CheckFailure(
                f"{affine.what}.backward(dout) changed self.{name}: it is not the {name} the "
                "layer was made with any more. backward only computes the gradients (self.dW, "
                "self.db and dx); updating the weights (W -= lr * dW) belongs in the training "
                "loop, after gradient() has returned."
            ) from None


@pytest.mark.points(1)
def test_affine_tensor_input(notebook: Notebook, rng: np.random.Generator) -> None:
    """Affine takes 4-D input (N, C, H, W): forward flattens it, backward returns dx of its shape"""
    x = rng.standard_normal((2, 3, 2, 2))
    W, b = rng.standard_normal((12, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((2, 4))
    affine = layer(notebook, "Affine", W, b)
    advice = (
        "For input of shape (N, C, H, W), forward must reshape x to (N, C*H*W) "
        "(x.reshape(x.shape[0], -1)) and remember x's shape, and backward must give dx "
        "that shape again."
    )
    try:
        out = affine.call("forward", x).value
        expect_array(out, x.reshape(2, -1) @ W + b, what=f"{affine.what}.forward(x) for 4-D x")
        dx = affine.call("backward", dout).value
        what = f"{affine.what}.backward(dout) after forward(x) for 4-D x"
        expect_array(dx, (dout @ W.T).reshape(x.shape), what=what)
    except CheckFailure as exc:
        raise CheckFailure(f"{exc}\n{advice}") from None


# -- SoftmaxWithLoss ------------------------------------------------------------------------


@pytest.mark.points(1)
@pytest.mark.parametrize("target", list(TARGETS))
def test_softmax_with_loss_forward(notebook: Notebook, target: str) -> None:
    """SoftmaxWithLoss.forward gives the mean cross-entropy of softmax(x)"""
    loss = layer(notebook, "SoftmaxWithLoss")
    call = loss.call("forward", SCORES, TARGETS[target])
    try:
        expect_scalar(
            call.value,
            SCORES_LOSS,
            what=f"{call.what} with t as {_target_words(target)}",
            rtol=LOSS_RTOL,
            factor_hints=batch_factor_hints(len(SCORES)),
        )
    except CheckFailure as exc:
        # A loss off by the batch size also fails backward against its numerical gradient
        # and the network's gradients: charged once (assignment.toml).
        cause = batch_factor_cause(call.raw_value, SCORES_LOSS, len(SCORES)) if call.ok else None
        raise CheckFailure(str(exc), cause=cause) from None


@pytest.mark.points(1)
@pytest.mark.parametrize("target", list(TARGETS))
def test_softmax_with_loss_backward(
    notebook: Notebook, rng: np.random.Generator, target: str
) -> None:
    """SoftmaxWithLoss.backward matches the numerical gradient of its forward"""
    # Scores this small give every class a probability over 0.05: the book's
    # cross_entropy_error takes log(p + 1e-7), which would move the numerical gradient of
    # forward by about 1e-7 / p relative to backward's exact one.
    x = rng.standard_normal((3, 3)) * 0.5
    t = TARGETS[target]
    loss = layer(notebook, "SoftmaxWithLoss")
    _, dx = forward_backward(loss, (x, t))
    probe = layer(notebook, "SoftmaxWithLoss")
    numerical = numerical_gradient(lambda z: probe.call("forward", z, t).value, x)
    what = f"{loss.what}.backward() after forward(x, t) with t as {_target_words(target)}"
    try:
        expect_array(dx, numerical, what=what, rtol=1e-3, factor_hints=batch_factor_hints(len(x)))
    except CheckFailure as exc:
        # The same missing / m fails the network's gradients: charged once (assignment.toml).
        raise CheckFailure(str(exc), cause=batch_factor_cause(dx, numerical, len(x))) from None
    expect_gradient(dx, numerical, what=what)


def _target_words(target: str) -> str:
    return "one-hot rows" if target == "one_hot" else "label indices"


# -- every layer: backward follows the latest forward -----------------------------------------


def _scenario(rng: np.random.Generator, name: str) -> tuple[tuple, tuple, tuple, object]:
    """(constructor args, the first forward's inputs, the second's, dout) for a layer."""
    if name == "Affine":
        args: tuple = (rng.standard_normal((3, 4)), rng.standard_normal(4))
        return (
            args,
            (rng.standard_normal((2, 3)),),
            (rng.standard_normal((2, 3)),),
            (rng.standard_normal((2, 4))),
        )
    if name == "SoftmaxWithLoss":
        first = (rng.standard_normal((3, 3)), np.eye(3)[[1, 2, 0]])
        return (), first, (rng.standard_normal((3, 3)), np.eye(3)[[0, 0, 2]]), None
    x = away_from_kinks(rng, (3, 4))
    # -x flips ReLU's mask; sigmoid's slope is the same at -x, so it gets another shift.
    first = -x if name == "Relu" else x + 1.0
    return (), (first,), (x,), rng.standard_normal((3, 4))


@pytest.mark.points(2, shared=True)
@pytest.mark.parametrize("name", ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss"])
def test_backward_follows_the_latest_forward(
    notebook: Notebook, rng: np.random.Generator, name: str
) -> None:
    """backward gives the gradient for the input of the latest forward, not an earlier one"""
    args, first, second, dout = _scenario(rng, name)
    reused = layer(notebook, name, *args)
    reused.call("forward", *first).raise_for_status()
    _, dx = forward_backward(reused, second, dout)
    _, expected = forward_backward(layer(notebook, name, *args), second, dout)
    try:
        expect_array(dx, np.asarray(expected), what=f"{reused.what}.backward")
    except CheckFailure:
        raise CheckFailure(
            f"{name}: after forward on one input and then forward on another, backward gave "
            "a different dx than a fresh layer that saw only the second input. forward must "
            "save what backward needs (the mask, the output, x) on every call, not only the "
            "first, and backward must use only what the latest forward saved."
        ) from None
