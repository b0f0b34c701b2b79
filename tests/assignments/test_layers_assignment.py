"""The layers assignment end to end: real kernels, objects held in them, one notebook per
mistake (tests/notebooks/layers/), and the template and solution."""

from __future__ import annotations

import pytest

from grader.grading.results import SubmissionResult
from grader.outputs.student_report import render_report

pytestmark = pytest.mark.kernel

FULL = 31.0
VISIBLE = 25.0
NET_GRADIENTS = [f"test_net_gradient[{g}]" for g in ("W3", "b3", "W2", "b2", "W1", "b1")]


def failed(result: SubmissionResult) -> dict[str, str]:
    return {c.name: c.message for c in result.checks if not c.passed}


def check(result: SubmissionResult, name: str) -> str:
    return next(c.message for c in result.checks if c.name == name)


@pytest.mark.parametrize("name", ["solution", "correct", "relu_mask_lt"])
def test_right_answers_score_full_marks(
    graded_layers: dict[str, SubmissionResult], name: str
) -> None:
    result = graded_layers[name]
    assert (result.status, result.score, result.max_score) == ("graded", FULL, FULL)
    assert len(result.checks) == 38 and not failed(result)
    assert sum(c.max_points for c in result.checks if not c.hidden) == VISIBLE
    # Only the training loop (and the seed's sys.path line) is left out: definitions mode.
    assert {e.kind for e in result.cells} == {"skipped"}


def test_both_relu_conventions_pass_and_the_report_says_which(
    graded_layers: dict[str, SubmissionResult],
) -> None:
    blocks = check(graded_layers["correct"], "test_relu_convention_at_zero")
    passes = check(graded_layers["relu_mask_lt"], "test_relu_convention_at_zero")
    assert blocks == "Your Relu blocks the gradient at x = 0 (mask x <= 0)."
    assert passes == "Your Relu passes the gradient through at x = 0 (mask x < 0)."
    assert "Your Relu blocks the gradient at x = 0 (mask x &lt;= 0)." in render_report(
        graded_layers["correct"]
    )


def test_untouched_template_scores_zero(graded_layers: dict[str, SubmissionResult]) -> None:
    result = graded_layers["template"]
    assert result.score == 0 and result.max_score == FULL
    message = check(result, "test_relu_forward")
    assert message.startswith("Relu().forward(x) raised an exception:\nNotImplementedError")
    assert "cell 3, line 6, in forward: raise NotImplementedError  # TODO" in message
    assert "ThreeLayerNet(input_size, hidden_size, hidden_size2, output_size) raised" in (
        check(result, "test_net_params")
    )


def test_affine_without_reshape_fails_only_on_tensor_input(
    graded_layers: dict[str, SubmissionResult],
) -> None:
    result = graded_layers["affine_no_reshape"]
    assert result.score == FULL - 1 and set(failed(result)) == {"test_affine_tensor_input"}
    message = failed(result)["test_affine_tensor_input"]
    assert "Affine(W, b).forward(x) raised an exception:\nValueError: shapes (2,3,2,2)" in message
    assert "cell 5, line 15, in forward: out = np.dot(self.x, self.W) + self.b" in message
    assert "must reshape x to (N, C*H*W) (x.reshape(x.shape[0], -1))" in message


def test_softmax_backward_not_divided_by_the_batch_size(
    graded_layers: dict[str, SubmissionResult],
) -> None:
    result = graded_layers["softmax_backward_not_divided"]
    bad = failed(result)
    layer = {f"test_softmax_with_loss_backward[{t}]" for t in ("one_hot", "labels")}
    # The other layers still earn their hidden comparison with the reference.
    others = {f"test_layer_matches_reference[{n}]" for n in ("Relu", "Sigmoid", "Affine")}
    hidden = {c.name for c in result.checks if c.hidden} - others
    assert set(bad) == layer | set(NET_GRADIENTS) | hidden
    # One mistake, charged once (18.5 of 31 before charge_each_cause): the other checks that
    # fail for it, or cannot judge because of it, keep their points and say so.
    assert result.score == FULL - 1
    counted = {c.name for c in result.checks if c.counted_under}
    assert counted == set(bad) - {"test_softmax_with_loss_backward[one_hot]"}
    for name in layer:
        assert (
            "Every value is 3 times the expected one (the mean over the batch is missing"
            in (bad[name])
        )
    message = bad["test_net_gradient[W1]"]
    assert "Every value is 7 times the expected one (gradient lacks a division by the batch " in (
        message
    )
    assert "every gradient starts from the dout that SoftmaxWithLoss.backward returns" in message
    assert (
        "Not judged because net.gradient(x, t) did not give any right gradient yet"
        in (bad["test_sgd_lowers_the_loss"])
    )


def test_gradient_that_forgets_the_third_layer(
    graded_layers: dict[str, SubmissionResult],
) -> None:
    result = graded_layers["gradient_forgets_third_layer"]
    bad = failed(result)
    # The hidden checks of W3 and b3, and SGD, cannot run without them: not judged, and they
    # keep their points (the missing gradients are charged by the visible checks).
    hidden = {"test_net_matches_reference[W3]", "test_net_matches_reference[b3]"}
    assert (
        set(bad)
        == {"test_net_gradient[W3]", "test_net_gradient[b3]", "test_sgd_lowers_the_loss"} | hidden
    )
    assert result.score == FULL - 2
    assert bad["test_sgd_lowers_the_loss"].startswith("No points lost: the same mistake")
    message = bad["test_net_gradient[W3]"]
    assert "returned a dict without the key \"W3\" (its keys: 'W1', 'b1', 'W2', 'b2')" in message
    assert "net.layers['Affine3'].dW holds the right gradient after backward: gradient() only " in (
        message
    )
    assert "grads['b3']" in bad["test_net_gradient[b3]"]


def test_a_numerical_gradient_that_returns_zeros_does_not_cost_gradient_points(
    graded_layers: dict[str, SubmissionResult],
) -> None:
    """numerical_gradient is given code; this notebook's returns zeros. Graded, its right
    gradient is judged against the reference (full marks); self-checked, see
    test_visible_checks.py and test_layers_checks.py for the one line that says so."""
    result = graded_layers["numerical_gradient_returns_zeros"]
    assert (result.score, failed(result)) == (FULL, {})


def test_seed_003_weight_update_inside_backward(
    graded_layers: dict[str, SubmissionResult],
) -> None:
    result = graded_layers["seed_fused_update"]
    bad = failed(result)
    assert set(bad) == {"test_affine_backward_leaves_weights", "test_net_gradient_leaves_weights"}
    assert result.score == FULL - 2
    assert (
        "Affine(W, b).backward(dout) changed self.W" in bad["test_affine_backward_leaves_weights"]
    )
    message = bad["test_net_gradient_leaves_weights"]
    assert "net.gradient(x, t) changed net.params['W1']" in message
    assert "Look for an update inside a layer's backward (W -= lr * dW)." in message


def test_checks_add_little_to_the_kernel(graded_layers: dict[str, SubmissionResult]) -> None:
    # About 1,000 requests to objects in the kernel, most of them numerical gradients.
    assert sum(c.duration for c in graded_layers["solution"].checks) < 8.0
