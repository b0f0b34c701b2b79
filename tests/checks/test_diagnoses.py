"""The backprop diagnoses: batch-size factors, where along the chain an error enters, and
both comparisons of each gradient (reference and numerical)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks._diagnoses import GradientCall, batch_factor_hints, chain_hint
from grader.checks.notebook import CallResult
from reference.mlp import GRADIENTS


def right_except(*wrong: str) -> dict[str, bool]:
    return {name: name not in wrong for name in GRADIENTS}


def test_batch_factor_hints() -> None:
    assert batch_factor_hints(1) == {}
    hints = batch_factor_hints(4)
    assert set(hints) == {0.25, 4.0}
    assert "divided by the batch size m = 4 twice" in hints[0.25]
    assert "the mean over the batch is missing" in hints[4.0]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "db2",
            "dW2 is right, so the chain up to dS2 is right: the mistake is in the line "
            "that computes db2 itself (it sums dS2 over the examples of the batch).",
        ),
        (
            "dW1",
            "db1 is right, so the chain up to dS1 is right: the mistake is in the line "
            "that computes dW1 itself (it multiplies dS1 by x.T).",
        ),
        ("dW3", "(it multiplies dS3 by A2.T)"),
    ],
)
def test_one_wrong_gradient_of_a_layer_is_a_local_mistake(name: str, text: str) -> None:
    assert text in chain_hint(name, right_except(name))


def test_activation_derivative_pattern_names_the_step_between_layers() -> None:
    right = right_except("dW2", "db2", "dW1", "db1")
    hint = chain_hint("dW2", right)
    assert hint.startswith(
        "dW3 and db3 are right but dW2 and db2 are wrong: the error enters in the step back "
        "from layer 3 to layer 2. Look at the activation derivative, dS2 = dA2 * "
        "d_sigmoid(S2) (taken at S2, not at A2), and at the chain between the layers, "
        "dA2 = W3.T @ dS3."
    )
    assert "fix layer" not in hint
    lower = chain_hint("db1", right)
    assert lower.startswith("dW3 and db3 are right but dW2 and db2 are wrong")
    assert lower.endswith("dW1 and db1 are computed from dS2, so fix layer 2 first.")


def test_pattern_between_layers_two_and_one() -> None:
    hint = chain_hint("db1", right_except("dW1", "db1"), activation="relu")
    assert hint.startswith("dW2 and db2 are right but dW1 and db1 are wrong")
    assert "d_relu(S1)" in hint and "dA1 = W2.T @ dS2" in hint


def test_pattern_when_only_one_gradient_above_is_right() -> None:
    hint = chain_hint("dW2", right_except("db3", "dW2", "db2"))
    assert hint.startswith("dW3 is right but dW2 and db2 are wrong")


def test_everything_wrong_points_at_the_output_error() -> None:
    right = right_except(*GRADIENTS)
    top = chain_hint("db3", right)
    assert top.startswith("dW3 and db3 are both wrong, and every gradient is computed from dS3")
    assert "Then" not in top
    assert chain_hint("dW1", right).endswith("Then dW1 and db1 should follow.")


def test_each_gradient_is_also_compared_with_the_numerical_one() -> None:
    # A gradient equal to the reference but 1e-3 off the numerical one (as it would be if
    # the reference were wrong) must not pass on the reference alone.
    expected = {"dW1": np.array([[0.5, -0.2]]), "db1": np.array([[0.1]])}
    numerical = {"dW1": expected["dW1"] * (1 + 1e-3), "db1": expected["db1"]}
    call = CallResult(what="backward_pass(x, y_true, params)", status="ok", raw_value=expected)
    judged = GradientCall(call, expected, numerical, m=4)
    assert judged.right == {"dW1": False, "db1": True}
    message = judged.mismatch("dW1") or ""
    assert message.startswith(
        'backward_pass(x, y_true, params)["dW1"] for a batch of m = 4 does not match the '
        "numerical gradient (centred differences): the largest relative error is 0.00049975"
    )
