"""The backprop assignment end to end: real kernels, real checks, one notebook per mistake."""

from __future__ import annotations

import pytest

from grader.grading.results import SubmissionResult
from reference.mlp import GRADIENTS

pytestmark = pytest.mark.kernel

FULL = 14.0
LOWER_LAYERS = {f"test_gradient[{g}]" for g in ("dW2", "db2", "dW1", "db1")}


def failed(result: SubmissionResult) -> dict[str, str]:
    return {c.name: c.message for c in result.checks if not c.passed}


@pytest.mark.parametrize("name", ["solution", "correct", "loops_einsum"])
def test_right_answers_score_full_marks(
    graded_backprop: dict[str, SubmissionResult], name: str
) -> None:
    result = graded_backprop[name]
    assert (result.status, result.score, result.max_score) == ("graded", FULL, FULL)
    assert len(result.checks) == 8 and result.cells == []


def test_checks_add_little_to_the_kernel(graded_backprop: dict[str, SubmissionResult]) -> None:
    # Three calls into the kernel and the numerical gradients for all eight checks.
    assert sum(c.duration for c in graded_backprop["solution"].checks) < 2.0


def test_untouched_template_scores_zero(graded_backprop: dict[str, SubmissionResult]) -> None:
    result = graded_backprop["template"]
    assert result.score == 0 and result.max_score == FULL
    assert all("NotImplementedError" in c.message for c in result.checks)


def test_seed_as_handed_in_names_ds3(graded_backprop: dict[str, SubmissionResult]) -> None:
    result = graded_backprop["seed_as_handed_in"]
    assert result.score == 0 and len(failed(result)) == 8
    message = failed(result)["test_gradient[dW3]"]
    assert "raised an exception:\nNameError: name 'dS3' is not defined" in message
    assert 'cell 10, line 7, in backward_pass: grads["dW3"] =  np.dot(dS3,' in message
    assert "`dS3` is read before any line of your function assigns it" in message
    # The same exception fails every check: the others say it in one line and refer to it.
    assert failed(result)["test_gradient[db2]"] == (
        "backward_pass(x, y_true, params) raised an exception: NameError: name 'dS3' is not "
        "defined. The check “backward_pass returns the right gradient [dW3]” explains it in full."
    )


def test_seed_with_the_name_fixed_divides_db_twice(
    graded_backprop: dict[str, SubmissionResult],
) -> None:
    result = graded_backprop["seed_name_fixed"]
    bad = failed(result)
    # One mistake in two lines (db divided by m where dS already is): charged once, at db3.
    assert set(bad) == {"test_gradient[db2]", "test_gradient[db3]"} and result.score == 12
    assert bad["test_gradient[db2]"].startswith(
        "No points lost: the same mistake (batch-size factor) was already counted under "
        '"backward_pass returns the right gradient [db3]".'
    )
    for layer in (2, 3):
        message = bad[f"test_gradient[db{layer}]"]
        assert "Every value is 0.1429 times the expected one (divided by the batch size m = 7 " in (
            message
        )
        assert f"dW{layer} is right, so the chain up to dS{layer} is right" in message
        assert message.endswith(f"db{layer} is right for m = 1 but not for m = 7 and 16.")


def test_missing_mean(graded_backprop: dict[str, SubmissionResult]) -> None:
    result = graded_backprop["missing_mean"]
    bad = failed(result)
    # Every gradient 7 times too big is one mistake: charged once, at dW3 (it cost 14 of 14
    # before charge_each_cause); the checks that need right gradients keep their points.
    assert result.score == FULL - 2
    assert {c.name for c in result.checks if c.counted_under} == set(bad) - {"test_gradient[dW3]"}
    for name in GRADIENTS:
        message = bad[f"test_gradient[{name}]"]
        assert "is 7 times the expected one (the mean over the batch is missing; divide by" in (
            message
        )


def test_transposed_dw(graded_backprop: dict[str, SubmissionResult]) -> None:
    result = graded_backprop["transposed_dw"]
    bad = failed(result)
    assert set(bad) == {"test_gradient[dW2]"} and result.score == FULL - 2
    assert (
        "returned shape (6, 4), the transpose of the expected (4, 6)" in (bad["test_gradient[dW2]"])
    )
    assert "db2 is right, so the chain up to dS2 is right" in bad["test_gradient[dW2]"]


def test_relu_derivative_instead_of_sigmoids(
    graded_backprop: dict[str, SubmissionResult],
) -> None:
    result = graded_backprop["relu_derivative"]
    bad = failed(result)
    # The seed's d_relu also writes its 0s and 1s into params["S1"] and params["S2"].
    assert set(bad) == LOWER_LAYERS | {"test_leaves_arguments_unchanged"}
    assert result.score == 5
    assert "dW3 and db3 are right but dW2 and db2 are wrong" in bad["test_gradient[dW2]"]
    assert "d_sigmoid(S2)" in bad["test_gradient[dW2]"]
    assert "fix layer 2 first" in bad["test_gradient[db1]"]
    assert 'changed its argument params["S1"] in place' in bad["test_leaves_arguments_unchanged"]


def test_a_changed_forward_pass_does_not_move_the_grade(
    graded_backprop: dict[str, SubmissionResult],
) -> None:
    """A right backward_pass in a notebook whose given forward_pass returns params: graded
    against the reference's forward cache, full marks (the self-check names the change)."""
    result = graded_backprop["forward_returns_params"]
    assert (result.score, failed(result)) == (FULL, {})
    assert [c.name for c in result.checks if c.hidden] == ["test_other_layer_sizes"]
