"""The activations assignment (seed 002) end to end: the solution, the template, seed 002's
own code and its typical bugs, graded in real kernels; and the expected-scores file
(assignments/activations/expected.toml) against the examples it names."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from grader.grading.results import SubmissionResult
from tests.conftest import ASSIGNMENTS, TORCH_CELL_TIMEOUT, grade_assignment

pytestmark = pytest.mark.kernel

FULL = 18.0
TESTS = Path(__file__).resolve().parents[1] / "notebooks" / "activations"


@pytest.fixture(scope="module")
def graded() -> dict[str, SubmissionResult]:
    return grade_assignment("activations", TORCH_CELL_TIMEOUT)


def failed(result: SubmissionResult) -> dict[str, str]:
    return {c.name: c.message for c in result.checks if not c.passed}


def test_solution_full_marks_template_zero(graded: dict[str, SubmissionResult]) -> None:
    assert (graded["solution"].score, graded["solution"].max_score) == (FULL, FULL)
    assert graded["correct"].score == FULL
    template = graded["template"]
    assert template.score == 0
    assert (
        "NotImplementedError: Write your code here: MyReLU.forward"
        in (failed(template)["test_myrelu_forward"])
    )


def test_a_too_large_learning_rate_in_the_notebooks_own_run_costs_no_check(
    graded: dict[str, SubmissionResult],
) -> None:
    """The checks train with their own rate; the question about it is marked by hand."""
    assert graded["large_learning_rate"].score == FULL


@pytest.mark.parametrize(
    ("name", "check", "words"),
    [
        ("sigmoid_derivative_of_z", "test_derivative_values[d_sigmoid]", "sigmoid(z) * (1 - z)"),
        ("tanh_derivative_unsquared", "test_derivative_values[d_tanh]", "That is 1 - tanh(z)"),
        ("forward_difference", "test_numerical_derivative[np.sin with eps = 0.01]", "forward"),
        ("myrelu_unmasked", "test_myrelu_backward", "is grad_output unchanged"),
        ("no_zero_grad", "test_train_updates_weights", "w.grad.zero_()"),
        ("update_outside_no_grad", "test_train_updates_weights", "leaf Variable"),
        ("manual_backward_uses_autograd", "test_manual_backward[loss]", "torch.autograd.grad"),
    ],
)
def test_each_typical_bug_is_named(
    graded: dict[str, SubmissionResult], name: str, check: str, words: str
) -> None:
    assert words in failed(graded[name])[check]


def test_seed_as_handed_in(graded: dict[str, SubmissionResult]) -> None:
    """Seed 002 calls its sigmoid `logit` and writes no tanh, derivatives or functions for
    the network (its loops run at the top level); its relu, derivative and MyReLU are right."""
    result = graded["seed_as_handed_in"]
    bad = failed(result)
    assert (
        "Functions and classes it defines: `MyReLU`, `derivative`, `logit`, `relu`"
        in (bad["test_activation_values[sigmoid]"])
    )
    assert not any(name.startswith(("test_myrelu", "test_numerical")) for name in bad)
    assert result.score == 6.0


def test_no_zero_grad_is_charged_once(graded: dict[str, SubmissionResult]) -> None:
    result = graded["no_zero_grad"]
    losses = next(c for c in result.checks if c.name == "test_train_returns_losses")
    assert (losses.passed, losses.points) == (False, 1.0)
    assert result.score == FULL - 1


def test_the_expected_scores_file_matches_the_examples(
    graded: dict[str, SubmissionResult],
) -> None:
    """expected.toml (contracts C) names the examples, copies of notebooks graded here."""
    folder = ASSIGNMENTS / "activations"
    expected = tomllib.loads((folder / "expected.toml").read_text())["notebooks"]
    assert len(expected) == len(list((folder / "../../examples/activations").glob("*.ipynb")))
    for relative, want in expected.items():
        example = (folder / relative).resolve()
        assert example.read_bytes() == (TESTS / example.name).read_bytes(), example.name
        result = graded[example.stem]
        assert result.score == want["score"], example.stem
        assert sorted(failed(result)) == sorted(want["failed"]), example.stem
