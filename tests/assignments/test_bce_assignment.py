"""The BCE assignment (seed 004) end to end: real kernels, torch, the bundled digits."""

from __future__ import annotations

import pytest

from grader.grading.results import SubmissionResult

pytestmark = pytest.mark.kernel

FULL = 10.0
DEFINITIONS_ONLY = "only definitions run for this assignment, not training"


def failed(result: SubmissionResult) -> dict[str, str]:
    return {c.name: c.message for c in result.checks if not c.passed}


def test_solution_full_marks_template_zero(graded_bce: dict[str, SubmissionResult]) -> None:
    solution, template = graded_bce["solution"], graded_bce["template"]
    assert (solution.score, solution.max_score) == (FULL, FULL)
    assert (template.score, template.max_score) == (0, FULL)
    assert "`net` is None" in failed(template)["test_net_architecture"]


def test_correct_notebook_and_what_was_skipped(graded_bce: dict[str, SubmissionResult]) -> None:
    result = graded_bce["correct"]
    assert result.score == FULL
    skipped = [e for e in result.cells if e.kind == "skipped"]
    # Only the training loop (cell 11) and the print of its loss did not run.
    assert [(e.cell, e.summary) for e in skipped] == [
        (11, f"line 2 not run: {DEFINITIONS_ONLY}"),
        (11, "line 8 not run: it uses `loss`, which line 2 of cell 11 would have made (not run)"),
    ]
    assert skipped[0].source_head.startswith("for epoch in range(200)")


def test_seed_formula_gets_partial_credit_and_the_clamping_advice(
    graded_bce: dict[str, SubmissionResult],
) -> None:
    result = graded_bce["seed_formula"]
    bad = failed(result)
    # The template promises tensors: a bce_loss that refuses NumPy arrays is judged on
    # tensors (it lost a point for it before).
    assert set(bad) == {"test_bce_saturated_outputs"}
    assert result.score == FULL - 1
    message = bad["test_bce_saturated_outputs"]
    assert "returned nan for y_hat = [0.0, 1.0, 0.0, 1.0" in message
    assert "torch.nn.BCELoss gives 40.2408" in message and "clamps each log term at -100" in message


def test_seed_data_cell_uses_stand_ins_for_missing_modules(
    graded_bce: dict[str, SubmissionResult],
) -> None:
    events = [e for e in graded_bce["seed_formula"].cells if e.cell == 3]
    assert [e.summary.split("`")[1] for e in events if e.kind == "stand_in"] == [
        "fastai",
        "torchvision",
    ]
    # The NameError is traced to the star import that imported nothing.
    assert [e.summary for e in events if e.kind == "error"] == [
        "`untar_data` is not defined: it would have come from `from fastai.data.all import *` "
        "in cell 3, which imported nothing because `fastai` is not installed where notebooks "
        "are graded"
    ]


def test_sum_instead_of_mean_names_the_factor(graded_bce: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_bce["sum_not_mean"])
    assert (
        "It is 20 times the expected value (the sum over the batch instead of the mean"
        in (bad["test_bce_values[(n, 1)]"])
    )
    assert "divide by n = 5" in bad["test_bce_saturated_outputs"]


def test_accuracy_as_a_count(graded_bce: dict[str, SubmissionResult]) -> None:
    result = graded_bce["accuracy_count"]
    bad = failed(result)
    assert set(bad) == {
        "test_accuracy_values[(n, 1)]",
        "test_accuracy_values[(n,)]",
        "test_accuracy_edge_cases",
    }
    assert (
        "a count of correct predictions instead of a fraction" in bad["test_accuracy_values[(n,)]"]
    )
    assert result.score == FULL - 2


def test_wrong_architecture_names_the_layer(graded_bce: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_bce["wrong_architecture"])
    assert bad["test_net_architecture"] == (
        "Between Linear(784, 64) and Linear(64, 1), net applies Sigmoid; ReLU was expected "
        "(nn.ReLU() or torch.relu).\n"
        "After Linear(64, 1), net applies no activation; Sigmoid was expected "
        "(nn.Sigmoid() or torch.sigmoid)."
    )
    # Without the final sigmoid the outputs are not probabilities: said so, not "clamp".
    assert "end net with a Sigmoid" in bad["test_training_with_bce_loss"]
    # One mistake (the network), charged once: the training checks keep their points.
    assert "test_training_tells_digits_apart" in bad and graded_bce["wrong_architecture"].score == 8


@pytest.mark.parametrize("spelling", ["class_torch_relu", "sequential_flatten"])
def test_every_spelling_of_net_gets_full_marks(
    graded_bce: dict[str, SubmissionResult], spelling: str
) -> None:
    """A class calling torch.relu and torch.sigmoid; nn.Sequential starting with nn.Flatten."""
    result = graded_bce[spelling]
    assert result.score == FULL, failed(result)


def test_wrong_sizes_in_a_class_are_named(graded_bce: dict[str, SubmissionResult]) -> None:
    result = graded_bce["class_wrong_sizes"]
    assert set(failed(result)) == {"test_net_architecture"} and result.score == FULL - 2
    assert (
        "Layer 1 is Linear(784, 32) where Linear(784, 64) was expected"
        in (failed(result)["test_net_architecture"])
    )


def test_a_missing_sigmoid_is_named(graded_bce: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_bce["missing_sigmoid"])
    assert bad["test_net_architecture"] == (
        "After Linear(64, 1), net applies no activation; Sigmoid was expected "
        "(nn.Sigmoid() or torch.sigmoid)."
    )
    assert "end net with a Sigmoid" in bad["test_training_with_bce_loss"]
    assert graded_bce["missing_sigmoid"].score == FULL - 2


def test_a_float_loss_cannot_train(graded_bce: dict[str, SubmissionResult]) -> None:
    result = graded_bce["loss_as_float"]
    # The visible training check says why; the hidden one on the digits gives no credit
    # for a run that cannot train (2 points, as when training was one 2-point check).
    assert set(failed(result)) == {
        "test_training_with_bce_loss",
        "test_training_tells_digits_apart",
    }
    assert "returned a float" in failed(result)["test_training_with_bce_loss"]
    assert "does not run to the end" in failed(result)["test_training_tells_digits_apart"]
    assert result.score == FULL - 2


def test_failing_data_cell_costs_nothing(graded_bce: dict[str, SubmissionResult]) -> None:
    result = graded_bce["data_cell_fails"]
    assert result.score == FULL
    errors = [e for e in result.cells if e.kind == "error"]
    assert len(errors) == 1 and "mnist.npz" in errors[0].summary


def test_visible_and_hidden_points(graded_bce: dict[str, SubmissionResult]) -> None:
    checks = graded_bce["solution"].checks
    assert sum(c.max_points for c in checks if not c.hidden) == FULL - 1
    assert [c.name for c in checks if c.hidden] == ["test_training_tells_digits_apart"]


def test_bce_loss_from_the_library_under_another_name_earns_no_value_points(
    graded_bce: dict[str, SubmissionResult],
) -> None:
    """`from torch.nn import BCELoss as L`, which the template rules out: the four points of
    bce_loss's values are lost, told once in full; the network's six are kept."""
    result = graded_bce["uses_bceloss"]
    bad = failed(result)
    values = [
        "test_bce_values[(n, 1)]",
        "test_bce_values[(n,)]",
        "test_bce_saturated_outputs",
        "test_bce_accepts_numpy_arrays",
    ]
    assert set(bad) == set(values) and result.score == FULL - 4
    assert bad[values[0]].startswith("bce_loss(y_hat, y) uses `torch.nn.BCELoss` (whatever name")
    assert all(bad[name].endswith("explains it in full.") for name in values[1:])
