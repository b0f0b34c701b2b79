"""expect_layers names the first layer that differs from the architecture asked for."""

from __future__ import annotations

import pytest

from grader.checks import CheckFailure, LayerCall, expect_layers

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
