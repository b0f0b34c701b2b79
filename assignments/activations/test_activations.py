"""Visible checks for the activations assignment (seed 002): NumPy activations and their
derivatives, a numerical ``derivative(f, z, eps)``, ``MyReLU`` as a torch.autograd.Function,
and a two-layer network's backward pass by hand and its training loop with autograd.

Students get these to self-check, so they hold no solution beyond what the template's
words define: the activations are judged against the formulas the template gives and on
fixed examples written out below; the derivatives against numerical slopes of those
formulas; ``MyReLU`` by ReLU's properties and ``torch.autograd.gradcheck``; the network's
gradients against PyTorch's autograd (computed here, on the grader's side). The
comparisons with reference/ on other inputs are in hidden_activations.py.

16 points here, 18 when grading (hidden_activations.py adds 2). The template asks for the
gradients by hand: a ``manual_backward`` that uses autograd earns none of its 3 points.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from grader.checks import (
    CallResult,
    CheckFailure,
    FunctionApplied,
    Notebook,
    NotJudged,
    apply_function,
    away_from_kinks,
    call_with_function,
    elementwise_derivative,
    expect_array,
    expect_not_called,
    expect_unmodified,
)

# The formulas the template states, for random inputs (the fixed examples are written out).
DEFINITIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(0.0, z),
}
DERIVATIVES = {"d_sigmoid": "sigmoid", "d_tanh": "tanh", "d_relu": "relu"}
# One fixed example with an exact 0 (where d_relu's convention matters) and large |z|.
Z = np.array([[-3.0, -0.5, 0.0, 0.25], [1.0, 2.5, -8.0, 6.0]])
# The functions of Z, computed once with the reference solution and pasted here.
EXPECTED = {
    "sigmoid": [
        [0.04742587317756678, 0.3775406687981454, 0.5, 0.5621765008857981],
        [0.7310585786300049, 0.9241418199787566, 0.0003353501304664781, 0.9975273768433653],
    ],
    "tanh": [
        [-0.9950547536867305, -0.46211715726000974, 0.0, 0.24491866240370913],
        [0.7615941559557649, 0.9866142981514303, -0.9999997749296758, 0.9999877116507956],
    ],
    "relu": [[0.0, 0.0, 0.0, 0.25], [1.0, 2.5, 0.0, 6.0]],
    "d_sigmoid": [
        [0.04517665973091214, 0.2350037122015945, 0.25, 0.24613408273759835],
        [0.19661193324148185, 0.07010371654510807, 0.00033523767075647424, 0.002466509291359931],
    ],
    "d_tanh": [
        [0.009866037165440211, 0.7864477329659274, 1.0, 0.940014848806378],
        [0.41997434161402614, 0.026592226683160525, 4.5014059768533343e-07, 2.4576547405286142e-05],
    ],
    "d_relu": [[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 1.0]],
}
# Derivatives written with the input where the activation belongs, as students do.
MISTAKES: dict[str, list[tuple[Callable[[np.ndarray], np.ndarray], str]]] = {
    "d_sigmoid": [
        (
            lambda z: DEFINITIONS["sigmoid"](z) * (1 - z),
            "That is sigmoid(z) * (1 - z): in s * (1 - s), s is the activation sigmoid(z), "
            "not the input z.",
        ),
        (DEFINITIONS["sigmoid"], "That is sigmoid(z) itself, not its slope."),
    ],
    "d_tanh": [
        (
            lambda z: 1 - np.tanh(z),
            "That is 1 - tanh(z): the slope of tanh is 1 minus the square of tanh(z).",
        ),
        (
            lambda z: 1 - z**2,
            "That is 1 - z ** 2: in 1 - t ** 2, t is the activation tanh(z), not the input z.",
        ),
    ],
    "d_relu": [(DEFINITIONS["relu"], "That is relu(z) itself, not its slope.")],
}
AUTOGRAD = (
    "torch.Tensor.backward",
    "torch.autograd.backward",
    "torch.autograd.grad",
    "torch.autograd.functional.jacobian",
    "torch.func.grad",
    "torch.func.vjp",
)
RULE = "the assignment asks for the gradients by hand, without autograd"
PARTS = ("loss", "grad_w1", "grad_w2")
# All sizes different, so that a transposed gradient shows.
N, D_IN, H, D_OUT = 8, 5, 7, 3
LEARNING_RATE = 1e-3
STEPS = 3
NOT_ZEROED = "gradients not zeroed"


def expect_values(call: CallResult, expected: object, z: np.ndarray) -> None:
    """Fail unless ``call`` returned ``expected``, naming a known wrong formula if it is one."""
    name = call.what.split("(", 1)[0]
    value = call.value
    for formula, explanation in MISTAKES.get(name, []):
        with np.errstate(all="ignore"):
            wrong = formula(z)
        try:
            got = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):
            break  # not numbers: expect_array says what it is
        if got.shape == wrong.shape and np.allclose(got, wrong, rtol=1e-4, atol=1e-7):
            if not np.allclose(wrong, np.asarray(expected), rtol=1e-4, atol=1e-7):
                raise CheckFailure(f"{call.what} returned wrong values. {explanation}")
    expect_array(value, np.asarray(expected), what=call.what, inputs={"z": z})


@pytest.mark.points(1)
@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_activation_values(notebook: Notebook, rng: np.random.Generator, name: str) -> None:
    """sigmoid, tanh and relu compute their formulas and leave z unchanged"""
    z = Z.copy()
    call = notebook.call(name, z)
    expect_values(call, EXPECTED[name], Z)
    expect_unmodified(Z, call.args[0], what=call.what, argument=call.argument_name(0))
    z = rng.standard_normal((3, 5)) * 4.0
    call = notebook.call(name, z.copy())
    expect_values(call, DEFINITIONS[name](z), z)


@pytest.mark.points(1)
@pytest.mark.parametrize("name", list(DERIVATIVES))
def test_derivative_values(notebook: Notebook, rng: np.random.Generator, name: str) -> None:
    """d_sigmoid, d_tanh and d_relu are the slopes of the activations (d_relu(0) = 0)"""
    expect_values(notebook.call(name, Z.copy()), EXPECTED[name], Z)
    # The slope of the formula at random inputs, by centred differences away from ReLU's kink.
    z = np.asarray(away_from_kinks(rng, (3, 5), scale=3.0))
    slope = elementwise_derivative(DEFINITIONS[DERIVATIVES[name]], z)
    expect_values(notebook.call(name, z.copy()), slope, z)


def centred(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray, eps: float) -> np.ndarray:
    """The centred difference the template asks for (its definition, not a solution)."""
    return (f(z + eps) - f(z - eps)) / (2 * eps)


@pytest.mark.points(2, shared=True)
@pytest.mark.parametrize("case", ["np.sin with eps = 0.01", "np.exp with the default eps"])
def test_numerical_derivative(notebook: Notebook, rng: np.random.Generator, case: str) -> None:
    """derivative(f, z, eps) is the centred difference (f(z + eps) - f(z - eps)) / (2 eps)"""
    z = rng.uniform(-2.0, 2.0, size=(2, 5))
    if case.startswith("np.sin"):
        eps = 0.01
        call = call_with_function(notebook, "derivative", "numpy.sin", z.copy(), eps)
        forward = (np.sin(z + eps) - np.sin(z)) / eps
        try:
            got = np.asarray(call.value, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):
            got = None
        if got is not None and got.shape == z.shape and np.allclose(got, forward, rtol=1e-9):
            raise CheckFailure(
                f"{call.what} returned the forward difference (f(z + eps) - f(z)) / eps; the "
                "template asks for the centred one, (f(z + eps) - f(z - eps)) / (2 eps), which "
                "is far more accurate for the same eps."
            )
        expected = centred(np.sin, z, eps)
        hints = {2.0: "twice the centred difference: divide by 2 * eps, not by eps"}
        expect_array(
            call.value, expected, what=call.what, rtol=1e-9, inputs={"z": z}, factor_hints=hints
        )
    else:
        call = call_with_function(notebook, "derivative", "numpy.exp", z.copy())
        expect_array(call.value, np.exp(z), what=call.what, rtol=1e-5, inputs={"z": z})


def myrelu_inputs(rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 inputs away from ReLU's kink, where both conventions at 0 agree."""
    x = torch.tensor(away_from_kinks(rng, (4, 6), scale=2.0), dtype=torch.float32)
    grad_output = torch.tensor(rng.standard_normal((4, 6)), dtype=torch.float32)
    return x, grad_output


def applied(
    notebook: Notebook, x: torch.Tensor, grad_output: torch.Tensor | None
) -> FunctionApplied:
    return apply_function(notebook, "MyReLU", x, grad_output=grad_output)


@pytest.mark.points(1)
def test_myrelu_forward(notebook: Notebook, rng: np.random.Generator) -> None:
    """MyReLU.apply(x) is max(0, x)"""
    x, _ = myrelu_inputs(rng)
    run = applied(notebook, x, None)  # forward alone: backward's mistakes are the next check's
    expected = x.clamp(min=0).numpy()
    expect_array(run.output, expected, what="MyReLU.apply(x)", inputs={"x": x.numpy()})


@pytest.mark.points(2)
def test_myrelu_backward(notebook: Notebook, rng: np.random.Generator) -> None:
    """MyReLU's backward gives grad_output where x > 0 and 0 where x < 0; gradcheck passes"""
    x, grad_output = myrelu_inputs(rng)
    run = applied(notebook, x, grad_output)
    if run.grads is None:
        raise NotJudged(f"backward did not run: {run.skipped} (see the check of MyReLU's forward)")
    grad = run.grads[0]
    what = "The gradient MyReLU.backward(ctx, grad_output) gave x"
    if grad is None:
        raise CheckFailure(
            "MyReLU.backward returned None for x: return the gradient with respect to x, a "
            "tensor of x's shape (grad_output where x > 0, 0 where x < 0)."
        )
    expected = (grad_output * (x > 0)).numpy()
    inputs = {"x": x.numpy(), "grad_output": grad_output.numpy()}
    if isinstance(grad, torch.Tensor) and torch.equal(grad, grad_output):
        raise CheckFailure(
            f"{what} is grad_output unchanged. Where x < 0 ReLU is flat, so the gradient "
            "there is 0: set those elements of a copy of grad_output to 0 (use the x that "
            "forward saved)."
        )
    expect_array(grad, expected, what=what, inputs=inputs)
    if run.gradcheck_passed is False:
        raise CheckFailure(
            "torch.autograd.gradcheck in float64 fails for MyReLU (its backward disagrees "
            f"with the numerical slope of its forward): {run.gradcheck_message}"
        )


def network(rng: np.random.Generator, *, requires_grad: bool = False) -> list[torch.Tensor]:
    """x, y, w1, w2 of a small problem, float32 as torch makes them."""
    shapes = [(N, D_IN), (N, D_OUT), (D_IN, H), (H, D_OUT)]
    tensors = [torch.tensor(rng.standard_normal(s), dtype=torch.float32) for s in shapes]
    for weight in tensors[2:]:
        weight.requires_grad_(requires_grad)
    return tensors


def loss_of(x: torch.Tensor, y: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """The loss the template defines: the summed squared error of relu(x @ w1) @ w2."""
    return (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()


def autograd_gradients(tensors: list[torch.Tensor]) -> dict[str, np.ndarray]:
    """The loss and autograd's gradients, in float64 from the same float32 inputs."""
    x, y, w1, w2 = (t.detach().double() for t in tensors)
    w1.requires_grad_(True)
    w2.requires_grad_(True)
    loss = loss_of(x, y, w1, w2)
    loss.backward()
    assert w1.grad is not None and w2.grad is not None
    return {"loss": loss.detach().numpy(), "grad_w1": w1.grad.numpy(), "grad_w2": w2.grad.numpy()}


def parts(call: CallResult) -> dict[str, object]:
    """manual_backward's three results by name, or the check fails saying what came back."""
    value = call.value
    if not isinstance(value, tuple | list) or len(value) != len(PARTS):
        kind = f"a {type(value).__name__}" if value is not None else "None"
        count = f" of {len(value)} items" if isinstance(value, tuple | list) else ""
        raise CheckFailure(
            f"{call.what} returned {kind}{count}; expected the tuple (loss, grad_w1, grad_w2)."
        )
    return dict(zip(PARTS, value, strict=True))


@pytest.mark.points(1)
@pytest.mark.parametrize("part", PARTS)
def test_manual_backward(notebook: Notebook, rng: np.random.Generator, part: str) -> None:
    """manual_backward's loss and gradients match autograd's, computed without autograd"""
    tensors = network(rng)
    call = notebook.call("manual_backward", *tensors, watch=AUTOGRAD)
    expect_not_called(call, *AUTOGRAD, reason=RULE)
    got = parts(call)[part]
    expected = autograd_gradients(tensors)[part]
    what = f"The {part} returned by {call.what}"
    inputs = {"x": tensors[0].numpy()} if part == "grad_w1" else None
    expect_array(got, expected, what=what, inputs=inputs)


def descend(tensors: list[torch.Tensor], *, accumulate: bool = False) -> tuple[list[float], ...]:
    """The losses and weights of STEPS steps of gradient descent with autograd, in float64
    (with ``accumulate``, as a loop that never zeroes the gradients does)."""
    x, y, w1, w2 = (t.detach().double() for t in tensors)
    w1.requires_grad_(True)
    w2.requires_grad_(True)
    losses = []
    for _ in range(STEPS):
        loss = loss_of(x, y, w1, w2)
        losses.append(float(loss.detach()))
        loss.backward()
        with torch.no_grad():
            for weight in (w1, w2):
                assert weight.grad is not None
                weight -= LEARNING_RATE * weight.grad
                if not accumulate:
                    weight.grad.zero_()
    return losses, w1.detach().numpy(), w2.detach().numpy()


def train_call(notebook: Notebook, rng: np.random.Generator) -> tuple[CallResult, list]:
    tensors = network(rng, requires_grad=True)
    call = notebook.call("train", *tensors, LEARNING_RATE, STEPS)
    return call, tensors


def numbers(value: object) -> np.ndarray | None:
    """``value`` as float64 numbers (a tensor, an array, a list of floats or of 0-d
    tensors), or None if it is not numbers."""
    if isinstance(value, torch.Tensor):
        value = value.detach().numpy()
    if isinstance(value, list | tuple):
        value = [v.detach().numpy() if isinstance(v, torch.Tensor) else v for v in value]
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        return None


def matches(got: object, expected: np.ndarray) -> bool:
    values = numbers(got)
    return (
        values is not None
        and values.shape == expected.shape
        and bool(np.allclose(values, expected, rtol=1e-3))
    )


ZEROING = (
    "after the first step, each update used the sum of all the gradients so far: backward() "
    "adds to w.grad, so set w1.grad and w2.grad back to zero (w.grad.zero_()) after each update."
)


@pytest.mark.points(1)
def test_train_updates_weights(notebook: Notebook, rng: np.random.Generator) -> None:
    """train(x, y, w1, w2, learning_rate, steps) changes w1 and w2 by gradient descent"""
    call, tensors = train_call(notebook, rng)
    call.value  # noqa: B018 - fails the check with the reason if train raised
    _, right1, right2 = descend(tensors)
    _, acc1, acc2 = descend(tensors, accumulate=True)
    after = {"w1": call.args[2], "w2": call.args[3]}
    for name, before in zip(("w1", "w2"), tensors[2:], strict=True):
        value = after[name]
        if isinstance(value, torch.Tensor) and torch.equal(value.detach(), before.detach()):
            raise CheckFailure(
                f"{name} is unchanged after {call.what}. Update it in place, "
                f"{name} -= learning_rate * {name}.grad inside `with torch.no_grad():`, so that "
                f"the tensor the caller passed changes ({name} = {name} - ... makes a new one)."
            )
    if matches(after["w1"], acc1) and matches(after["w2"], acc2):
        raise CheckFailure(f"{call.what}: {ZEROING}", cause=NOT_ZEROED)
    for name, expected in (("w1", right1), ("w2", right2)):
        what = f"{name} after {call.what} ({STEPS} steps, learning rate {LEARNING_RATE})"
        expect_array(after[name], expected, what=what)


@pytest.mark.points(1)
def test_train_returns_losses(notebook: Notebook, rng: np.random.Generator) -> None:
    """train returns the loss before each step, as Python floats"""
    call, tensors = train_call(notebook, rng)
    value = call.value
    losses, _, _ = descend(tensors)
    accumulated, _, _ = descend(tensors, accumulate=True)
    expected = np.asarray(losses)
    if not matches(value, expected) and matches(value, np.asarray(accumulated)):
        raise CheckFailure(
            f"{call.what} returned the losses of a run where, {ZEROING}", cause=NOT_ZEROED
        )
    # A list of 0-d tensors is as good as a list of floats: the values are what is judged.
    as_numbers = numbers(value) if isinstance(value, list | tuple) else None
    shown = value if as_numbers is None else as_numbers
    expect_array(shown, expected, what=call.what, rtol=1e-4)
