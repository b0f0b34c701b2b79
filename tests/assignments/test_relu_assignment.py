"""The ReLU assignment end to end: real kernels, real checks, one notebook per behaviour."""

from __future__ import annotations

import pytest

from grader.grading.results import CheckResult, SubmissionResult

pytestmark = pytest.mark.kernel

FULL = 10.0


def failed(result: SubmissionResult) -> dict[str, CheckResult]:
    return {c.name: c for c in result.checks if not c.passed}


def test_solution_scores_full_marks(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["solution"]
    assert (result.status, result.score, result.max_score) == ("graded", FULL, FULL)
    assert len(result.checks) == 12 and result.cells == []


def test_untouched_template_scores_zero(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["template"]
    assert result.status == "graded" and result.score == 0 and result.max_score == FULL
    assert "NotImplementedError" in result.checks[0].message


def test_correct_notebook(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["correct"]
    assert result.score == FULL and result.seed != 0


def test_wrong_values_names_the_negative_inputs(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["wrong_values"]
    bad = failed(result)
    assert "test_relu_values[2-D]" in bad and "test_d_relu_at_zero" not in bad
    assert "All of them are where x < 0" in bad["test_relu_values[2-D]"].message
    assert not any(name.startswith("test_d_relu") for name in bad)
    assert {"test_relu_values[3-D]", "test_does_not_modify_input[relu]"} <= set(bad)
    # Every fixed example has negative inputs: the 4 points of relu's values and the 1 of
    # leaving x alone (which needs right values), not judged. The hidden extreme values are
    # not judged either (0 points, no second failure): relu is wrong on ordinary inputs.
    unchanged, extreme = bad["test_does_not_modify_input[relu]"], bad["test_relu_extreme_values"]
    assert unchanged.outcome == extreme.outcome == "not_judged"
    assert extreme.message == (
        "Not judged because relu is already wrong on ordinary negative inputs; see the checks "
        "of relu's values above."
    )
    assert result.score == FULL - 6


def test_only_2d_gets_the_2d_cases(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["only_2d"]
    passed = {c.name for c in result.checks if c.passed}
    assert {"test_relu_values[2-D]", "test_d_relu_values[2-D]"} <= passed
    message = failed(result)["test_relu_values[1-D]"].message
    assert "raised an exception" in message and "TypeError" in message
    assert "cell 3, line 2, in relu" in message  # the student's own line
    # The hidden extreme values are 2-D: they do not fail a relu again for its shapes.
    assert "test_relu_extreme_values" in passed and result.score == 4.5


def test_derivative_at_zero(graded_relu: dict[str, SubmissionResult]) -> None:
    bad = failed(graded_relu["d_relu_zero_wrong"])
    assert set(bad) == {
        "test_d_relu_values[1-D]",
        "test_d_relu_values[2-D]",
        "test_d_relu_values[3-D]",
        "test_d_relu_at_zero",
        "test_does_not_modify_input[d_relu]",
    }
    assert "where x == 0 exactly" in bad["test_d_relu_at_zero"].message
    # One mistake (1 at x = 0), charged once: at the first of the five checks it fails.
    assert graded_relu["d_relu_zero_wrong"].score == FULL - 0.5


def test_d_relu_writing_into_its_argument(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["d_relu_inplace"]
    bad = failed(result)
    assert set(bad) == {"test_does_not_modify_input[d_relu]"}
    assert "changed its argument x in place" in bad["test_does_not_modify_input[d_relu]"].message
    assert result.score == 9.0


def test_syntax_error_in_an_unrelated_cell(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["syntax_error"]
    assert result.score == FULL
    [event] = result.cells
    assert (event.cell, event.kind) == (4, "error") and "SyntaxError" in event.summary


def test_misnamed_functions_get_near_misses(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["misnamed"]
    assert result.score == 0
    messages = {c.message for c in result.checks}
    assert any("does not define a function named `relu`" in m and "`ReLU`" in m for m in messages)
    assert any("`relu_derivative`" in m for m in messages)


def test_infinite_loop_is_stopped_and_reported(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["infinite_loop"]
    assert result.score == FULL  # d_relu, defined after the loop, is still graded
    [event] = result.cells
    assert (event.cell, event.kind) == (4, "timeout")


def test_os_exit_kills_the_kernel_and_grading_goes_on(
    graded_relu: dict[str, SubmissionResult],
) -> None:
    result = graded_relu["os_exit"]
    assert result.score == FULL  # relu was replayed, d_relu ran after the restart
    [event] = result.cells
    assert (event.cell, event.kind) == (4, "kernel_died")


def test_colab_lines_are_skipped_and_listed(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["colab"]
    assert result.score == FULL
    assert {e.kind for e in result.cells} == {"skipped"}
    skipped = {e.detail for e in result.cells}
    assert {"!pip install numpy matplotlib", "%pip install torch", "%matplotlib inline"} <= skipped


def test_monkeypatching_the_kernel_earns_nothing(
    graded_relu: dict[str, SubmissionResult],
) -> None:
    result = graded_relu["monkeypatch"]
    assert result.status == "graded" and result.score == 0
    assert result.cells == []  # the patching cell itself ran without error


def test_printing_200k_lines_grades_normally(graded_relu: dict[str, SubmissionResult]) -> None:
    result = graded_relu["print_flood"]
    assert result.score == FULL
    [event] = result.cells
    assert event.kind == "large_output"
    assert result.duration < 4.0  # not anywhere near the cell timeout


@pytest.mark.parametrize("name", ["correct", "misnamed", "only_2d"])
def test_one_seed_per_run(graded_relu: dict[str, SubmissionResult], name: str) -> None:
    assert graded_relu[name].seed == graded_relu["solution"].seed
