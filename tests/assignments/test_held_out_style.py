"""Notebooks written the way the seed courses' students write, each differing from the
template in a way a careful instructor accepts, or penalises once (issue 15's held-out
judge): loops, integer derivatives, a later cell that redefines a function, a class
network with an eps clamp, reshape and a running loss, float32 layers, keepdims."""

from __future__ import annotations

import pytest

from grader.grading.results import SubmissionResult

pytestmark = pytest.mark.kernel


def lost(result: SubmissionResult) -> dict[str, float]:
    """The points each check lost."""
    return {c.name: c.max_points - c.points for c in result.checks if c.points < c.max_points}


def test_relu_in_loops_with_an_integer_derivative_gets_full_marks(
    graded_relu: dict[str, SubmissionResult],
) -> None:
    result = graded_relu["loops_int_derivative"]
    assert result.score == result.max_score, lost(result)


def test_a_later_cell_redefining_d_relu_is_graded_and_charged_once(
    graded_relu: dict[str, SubmissionResult],
) -> None:
    """The last definition (x >= 0) is graded, as Jupyter would run it; its one mistake
    (1 at x = 0) fails four checks and costs points in the first only."""
    result = graded_relu["redefined_later"]
    assert lost(result) == {"test_d_relu_values[1-D]": 0.5}
    events = [e for e in result.cells if e.kind == "redefined"]
    assert events and "the checks grade the one in cell 5" in events[0].summary
    at_zero = next(c for c in result.checks if c.name == "test_d_relu_at_zero")
    assert "All of them are where x == 0 exactly" in at_zero.message


def test_a_float32_sigmoid_gets_full_marks(graded_layers: dict[str, SubmissionResult]) -> None:
    result = graded_layers["sigmoid_float32"]
    assert result.score == result.max_score, lost(result)


def test_db_with_keepdims_is_one_mistake(graded_layers: dict[str, SubmissionResult]) -> None:
    """Affine's db of shape (1, n) fails Affine's check, the network's three bias gradients
    and the hidden comparisons: one point, at Affine's check."""
    result = graded_layers["db_keepdims"]
    assert lost(result) == {"test_affine_backward[db]": 1.0}
    b1 = next(c for c in result.checks if c.name == "test_net_gradient[b1]")
    assert b1.message.startswith("No points lost: the same mistake (a gradient with an extra")


def test_a_class_network_with_an_eps_clamp_gets_full_marks(
    graded_bce: dict[str, SubmissionResult],
) -> None:
    """torch.clamp on y_hat refuses NumPy arrays: the template promises tensors only."""
    result = graded_bce["class_eps_clamp"]
    assert result.score == result.max_score, lost(result)


@pytest.mark.parametrize("name", ["reshape_running_loss", "returns_loss_tensor"])
def test_torch_mlp_spellings_of_train_get_full_marks(
    graded_torch_mlp: dict[str, SubmissionResult], name: str
) -> None:
    """reshape and F.relu, a running loss with progress prints and a cell that makes the
    model again with momentum; or the mean loss returned as a tensor (not .item())."""
    result = graded_torch_mlp[name]
    assert result.score == result.max_score, lost(result)
