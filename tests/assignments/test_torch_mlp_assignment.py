"""The PyTorch MLP assignment (seed 000, tasks 3-4) end to end, in definitions-only mode."""

from __future__ import annotations

import pytest

from grader.grading.results import SubmissionResult

pytestmark = pytest.mark.kernel

FULL = 10.0


def failed(result: SubmissionResult) -> dict[str, str]:
    return {c.name: c.message for c in result.checks if not c.passed}


def not_judged_for_the_architecture(result: SubmissionResult) -> bool:
    """The hidden check of Net's output leaves a wrong network to the architecture check."""
    forward = next(c for c in result.checks if c.name == "test_forward_of_its_own_weights")
    return (forward.outcome, forward.points, forward.counted_under) == (
        "not_judged",
        forward.max_points,
        "Net is Linear(784, 128) → ReLU → Linear(128, 64) → ReLU → Linear(64, 10)",
    )


def test_solution_full_marks_template_zero(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    solution, template = graded_torch_mlp["solution"], graded_torch_mlp["template"]
    assert (solution.score, solution.max_score) == (FULL, FULL)
    assert (template.score, template.max_score) == (0, FULL)
    assert graded_torch_mlp["correct"].score == FULL


def test_seed_as_handed_in_gets_full_marks(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    """torchvision is missing and MNIST cannot be downloaded, but the definitions are right."""
    result = graded_torch_mlp["seed_as_handed_in"]
    assert result.score == FULL, failed(result)
    events = {(e.cell, e.kind): e for e in result.cells}
    assert "`torchvision` is not installed" in events[(2, "stand_in")].summary
    assert "torchvision.transforms.ToTensor(...) cannot run" in events[(3, "error")].summary
    assert events[(10, "skipped")].source_head == "for epoch in range(1, EPOCHS + 1):"


def test_logsigmoid_is_named(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_torch_mlp["logsigmoid"])
    assert bad["test_architecture"].startswith(
        "Between Linear(784, 128) and Linear(128, 64), Net applies LogSigmoid; ReLU was expected"
    )
    # The hidden check of Net's output leaves to the visible one the network it names: not
    # judged, and (the same mistake) without losing its point.
    result = graded_torch_mlp["logsigmoid"]
    forward = next(c for c in result.checks if c.name == "test_forward_of_its_own_weights")
    assert (forward.outcome, forward.points) == ("not_judged", 1.0)
    assert forward.message.startswith(
        "No points lost: the same mistake (Net's architecture) was already "
        'counted under "Net is Linear(784, 128)'
    )


@pytest.mark.parametrize("spelling", ["sequential_flatten", "functional_relu", "torch_relu"])
def test_every_spelling_of_net_gets_full_marks(
    graded_torch_mlp: dict[str, SubmissionResult], spelling: str
) -> None:
    """nn.Sequential with nn.Flatten, F.relu with reshape, torch.relu with view."""
    result = graded_torch_mlp[spelling]
    assert result.score == FULL, failed(result)


def test_a_missing_functional_relu_is_named(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    result = graded_torch_mlp["functional_missing_relu"]
    assert failed(result)["test_architecture"] == (
        "Between Linear(128, 64) and Linear(64, 10), Net applies no activation; ReLU was "
        "expected (nn.ReLU() or torch.relu)."
    )
    assert not_judged_for_the_architecture(result)


def test_a_functional_sigmoid_is_named(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    message = failed(graded_torch_mlp["functional_sigmoid"])["test_architecture"]
    assert message.splitlines() == [
        f"Between {a} and {b}, Net applies Sigmoid; ReLU was expected (nn.ReLU() or torch.relu)."
        for a, b in (("Linear(784, 128)", "Linear(128, 64)"), ("Linear(128, 64)", "Linear(64, 10)"))
    ]


def test_wrong_sizes_name_the_layer(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    result = graded_torch_mlp["wrong_sizes"]
    bad = failed(result)
    assert set(bad) == {"test_architecture", "test_forward_of_its_own_weights"}
    assert (
        "Layer 2 is Linear(128, 32) where Linear(128, 64) was expected" in bad["test_architecture"]
    )
    # 2 visible points for the architecture, charged once: the hidden check of its output is
    # not judged and keeps its point.
    assert not_judged_for_the_architecture(result)
    assert result.score == FULL - 2


def test_missing_flatten(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_torch_mlp["no_flatten"])
    assert "test_output_shape[(N, 784)]" not in bad
    message = bad["test_output_shape[(N, 1, 28, 28)]"]
    assert "cell 5, line 10, in forward" in message and "x.view(-1, 784)" in message


def test_train_without_zero_grad(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_torch_mlp["no_zero_grad"])
    assert (
        "called optimizer.zero_grad() 0 times for 45 batches" in bad["test_train_updates_the_model"]
    )
    assert "test_train_returns_mean_batch_loss" not in bad


def test_train_without_step(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_torch_mlp["no_step"])
    message = bad["test_train_updates_the_model"]
    assert "did not change the model's parameters" in message
    assert "optimizer.step() was never called" in message
    assert "held-out digits" in bad["test_short_training_run"]


def test_train_returning_the_last_batch_loss(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_torch_mlp["returns_last_loss"])
    assert set(bad) == {"test_train_returns_mean_batch_loss"}
    assert (
        "the loss of the last batch; expected the mean over all 45 batches"
        in (bad["test_train_returns_mean_batch_loss"])
    )


def test_evaluate_in_train_mode_with_gradients(
    graded_torch_mlp: dict[str, SubmissionResult],
) -> None:
    bad = failed(graded_torch_mlp["evaluate_train_mode"])
    mode = bad["test_evaluate_mode"]
    assert "left the model in training mode" in mode and "torch.no_grad()" in mode
    assert "a fraction; the assignment asks for a percentage" in bad["test_evaluate_values"]


def test_visible_and_hidden_points(graded_torch_mlp: dict[str, SubmissionResult]) -> None:
    checks = graded_torch_mlp["solution"].checks
    assert sum(c.max_points for c in checks if not c.hidden) == FULL - 2
    hidden = [c.name for c in checks if c.hidden]
    assert hidden == ["test_forward_of_its_own_weights", "test_short_training_run"]
