"""expect_layers names the first layer that differs from the architecture asked for;
expect_network judges what a traced network computes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from grader.checks import CheckFailure, LayerCall, ModelTrace, expect_layers, expect_network

ASKED = ["Linear(784, 64)", "ReLU", "Linear(64, 1)", "Sigmoid"]


def linear(n_in: int, n_out: int) -> LayerCall:
    return LayerCall("Linear", (3, n_in), (3, n_out), features=(n_in, n_out))


def layer(name: str) -> LayerCall:
    return LayerCall(name, (3, 1), (3, 1))


def message(calls: list[LayerCall]) -> str:
    with pytest.raises(CheckFailure) as failure:
        expect_layers(calls, ASKED, what="net")
    return str(failure.value)


def test_the_asked_architecture_passes() -> None:
    expect_layers(
        [linear(784, 64), layer("ReLU"), linear(64, 1), layer("Sigmoid")], ASKED, what="n"
    )


def test_a_different_layer_is_named() -> None:
    assert message([linear(784, 64), layer("Tanh"), linear(64, 1), layer("Sigmoid")]) == (
        "net runs Linear(784, 64) → Tanh → Linear(64, 1) → Sigmoid; expected "
        "Linear(784, 64) → ReLU → Linear(64, 1) → Sigmoid, in this order.\n"
        "Layer 2 is Tanh where ReLU was expected."
    )


def test_swapped_features_are_pointed_out() -> None:
    text = message([linear(64, 784), layer("ReLU"), linear(64, 1), layer("Sigmoid")])
    assert text.endswith("Its in_features and out_features are swapped: nn.Linear(in, out).")


def test_missing_and_extra_layers_at_the_end() -> None:
    assert message([linear(784, 64), layer("ReLU"), linear(64, 1)]).endswith(
        "Missing at the end: Sigmoid."
    )
    extra = [linear(784, 64), layer("ReLU"), linear(64, 1), layer("Sigmoid"), layer("Softmax")]
    assert message(extra).endswith("Not expected at the end: Softmax.")
    assert "net runs no layers;" in message([])


# expect_network: judged by the values a trace recorded (NumPy arrays stand in for tensors).
NETWORK = ["Linear(4, 5)", "ReLU", "Linear(5, 2)", "Sigmoid"]
RNG = np.random.default_rng(0)
X = RNG.uniform(0, 1, (3, 4))
W1, B1, W2, B2 = (
    RNG.normal(size=(5, 4)),
    RNG.normal(size=5),
    RNG.normal(size=(2, 5)),
    RNG.normal(size=2),
)


def traced(
    between: Callable[[np.ndarray], np.ndarray], last: Callable[[np.ndarray], Any]
) -> ModelTrace:
    """The trace of x → Linear → ``between`` → Linear → ``last``, with no modules but Linear."""
    u1 = X @ W1.T + B1
    v1 = between(u1)
    u2 = v1 @ W2.T + B2
    calls = (
        LayerCall("Linear", X.shape, u1.shape, (4, 5), W1, B1, X, u1),  # type: ignore[arg-type]
        LayerCall("Linear", v1.shape, u2.shape, (5, 2), W2, B2, v1, u2),  # type: ignore[arg-type]
    )
    return ModelTrace(calls, last(u2))


def relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def network_message(trace: ModelTrace) -> str:
    with pytest.raises(CheckFailure) as failure:
        expect_network(trace, X, NETWORK, what="net")
    return str(failure.value)


def test_the_network_asked_for_passes_whatever_the_shape_of_the_same_values() -> None:
    expect_network(traced(relu, sigmoid), X, NETWORK, what="net")
    expect_network(traced(relu, lambda a: sigmoid(a).ravel()), X, NETWORK, what="net")


@pytest.mark.parametrize(
    ("between", "found"),
    [(lambda a: a, "no activation"), (np.tanh, "Tanh"), (lambda a: relu(a) * 2, "something else")],
)
def test_what_runs_between_the_linear_layers_is_found_from_the_values(
    between: Callable[[np.ndarray], np.ndarray], found: str
) -> None:
    assert network_message(traced(between, sigmoid)).startswith(
        f"Between Linear(4, 5) and Linear(5, 2), net applies {found}"
    )


def test_a_forward_that_returns_no_tensor_is_told_so() -> None:
    assert network_message(traced(relu, lambda a: None)) == (
        "net's forward() returned None; expected a tensor."
    )


def test_an_activation_it_cannot_judge_is_a_bug_in_the_check() -> None:
    with pytest.raises(ValueError, match="cannot judge 'Swish'"):
        expect_network(traced(relu, sigmoid), X, ["Linear(4, 5)", "Swish"], what="net")
