"""The backprop assignment's checks on plain Python "students", in process: fast, no kernel.

tests/assignments/test_backprop_assignment.py grades real notebooks; these pin down the messages for
mistakes that need no notebook of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reference
from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import run_checks
from grader.grading.results import CheckResult
from reference.mlp import GRADIENTS

ASSIGNMENT = Assignment.load(Path(__file__).resolve().parents[2] / "assignments" / "backprop")
FULL = 14.0

Grads = dict[str, np.ndarray]


def grade(
    backward_pass: Callable[..., Any], *, include_hidden: bool = True
) -> dict[str, CheckResult]:
    # The template's forward_pass, which the visible checks run for the forward cache and
    # the numerical gradients.
    transport = InProcessTransport(
        {"backward_pass": backward_pass, "forward_pass": reference.forward_pass}
    )
    results = run_checks(ASSIGNMENT, transport, seed=3, include_hidden=include_hidden)
    return {r.name: r for r in results}


def altered(change: Callable[[Grads], Any]) -> Callable[..., Any]:
    """The reference backward_pass, with its gradients changed by ``change``."""

    def backward_pass(x: np.ndarray, y_true: np.ndarray, params: dict) -> Any:
        grads = reference.backward_pass(x, y_true, params)
        return change(grads) or grads

    return backward_pass


def failed(results: dict[str, CheckResult]) -> dict[str, str]:
    return {name: r.message for name, r in results.items() if not r.passed}


def test_reference_as_a_student_scores_full_marks() -> None:
    results = grade(reference.backward_pass)
    assert sum(r.points for r in results.values()) == FULL and not failed(results)
    assert [results[f"test_gradient[{g}]"].max_points for g in GRADIENTS] == [2.0] * 6
    visible = grade(reference.backward_pass, include_hidden=False)
    assert sum(r.max_points for r in visible.values()) == FULL - 1
    assert sum(r.points for r in visible.values()) == FULL - 1


def test_flipped_sign() -> None:
    bad = failed(grade(altered(lambda g: {k: -v for k, v in g.items()})))
    assert len(bad) == 8
    assert (
        "The sign is flipped: every value is the negative of the expected one"
        in (bad["test_gradient[dW2]"])
    )


def test_nan_is_located() -> None:
    def with_nan(grads: Grads) -> None:
        grads["db1"][2, 0] = np.nan

    message = failed(grade(altered(with_nan)))["test_gradient[db1]"]
    assert "returned 1 NaN value where finite values were expected" in message
    assert "the first is at index (2, 0)" in message


def test_a_list_instead_of_a_dict() -> None:
    bad = failed(grade(altered(lambda g: list(g.values()))))
    assert bad["test_gradient[dW3]"] == (
        "backward_pass(x, y_true, params) returned a list of 6 items; expected a dict with "
        "the keys dW1, db1, dW2, db2, dW3, db3.\nThe checks look each gradient up by its key, "
        "so even gradients in the right order cannot be judged: return "
        '{"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}.'
    )


def test_a_tuple_instead_of_a_dict_is_explained_once() -> None:
    results = grade(altered(lambda g: tuple(g.values())))
    bad = failed(results)
    assert len(bad) == 8
    first = bad.pop("test_gradient[dW3]")
    assert first.startswith("backward_pass(x, y_true, params) returned a tuple of 6 items")
    assert "return {" in first
    description = results["test_gradient[dW3]"].description
    for message in bad.values():
        assert message == (
            "backward_pass(x, y_true, params) returned a tuple of 6 items; expected a dict "
            f"with the keys dW1, db1, dW2, db2, dW3, db3. The check “{description}” explains "
            "it in full."
        )


def test_misspelled_key_gets_a_near_miss() -> None:
    def rename(grads: Grads) -> None:
        grads["dw1"] = grads.pop("dW1")

    bad = failed(grade(altered(rename)))
    assert set(bad) == {"test_gradient[dW1]"}
    assert 'returned a dict without the key "dW1"' in bad["test_gradient[dW1]"]
    assert "Did you mean 'dw1'?" in bad["test_gradient[dW1]"]


def test_db_without_keepdims() -> None:
    def squeeze(grads: Grads) -> None:
        grads["db2"] = grads["db2"].ravel()

    message = failed(grade(altered(squeeze)))["test_gradient[db2]"]
    assert "returned shape (4,); expected (4, 1): a dimension of size 1 is missing" in message


def test_derivative_at_the_activation_instead_of_the_pre_activation() -> None:
    def backward_pass(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        at_a = {**params, "S2": params["A2"], "S1": params["A1"]}  # d_sigmoid(A) for d_sigmoid(S)
        return reference.backward_pass(x, y_true, at_a)

    bad = failed(grade(backward_pass))
    assert {f"test_gradient[{g}]" for g in ("dW2", "db2", "dW1", "db1")} <= set(bad)
    assert "dW3 and db3 are right but dW2 and db2 are wrong" in bad["test_gradient[db2]"]
    assert "taken at S2, not at A2" in bad["test_gradient[db2]"]
    assert "fix layer 2 first" in bad["test_gradient[dW1]"]


def test_a_layer_size_written_into_the_code() -> None:
    def hardcoded(grads: Grads) -> None:
        grads["db2"] = grads["db2"].reshape(4, 1)  # h2 is 4 in the usual problem

    bad = failed(grade(altered(hardcoded)))
    assert set(bad) == {"test_other_layer_sizes"}
    message = bad["test_other_layer_sizes"]
    assert message.startswith(
        "backward_pass(x, y_true, params) works for the layer sizes (n_in=5, h1=6, h2=4, "
        "n_out=3) but not for (n_in=8, h1=5, h2=7, n_out=4). Is a layer size or the batch "
        "size written into your code?"
    )
    assert "ValueError: cannot reshape array of size 7 into shape (4,1)" in message


def test_x_modified_in_place() -> None:
    def backward_pass(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        grads = reference.backward_pass(x, y_true, params)
        x /= x.shape[1]
        return grads

    bad = failed(grade(backward_pass))
    assert set(bad) == {"test_leaves_arguments_unchanged"}
    assert "changed its argument x in place" in bad["test_leaves_arguments_unchanged"]


def test_params_may_gain_keys_and_be_recomputed_but_not_lose_them() -> None:
    def stores(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        params["dS3"] = params["A3"] - y_true
        return reference.backward_pass(x, y_true, params)

    def deletes(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        grads = reference.backward_pass(x, y_true, params)
        del params["A3"]
        return grads

    def recomputes(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        params["W1"] = params["W1"].copy()  # the same values in a new array
        # forward_pass again, with a sigmoid that rounds differently from the reference's
        reference.forward_pass(x, params)
        params["A1"] = 1 / (1 + np.exp(-params["S1"]))
        return reference.backward_pass(x, y_true, params)

    assert not failed(grade(stores)) and not failed(grade(recomputes))
    message = failed(grade(deletes))["test_leaves_arguments_unchanged"]
    assert 'removed params["A3"] from the dict it was given' in message


def test_a_reference_bug_is_never_blamed_on_the_student(monkeypatch: pytest.MonkeyPatch) -> None:
    right = reference.backward_pass

    def doubled(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        return {k: 2 * v for k, v in right(x, y_true, params).items()}

    monkeypatch.setattr(reference, "backward_pass", doubled)
    results = grade(right)
    # Graded, every check judges against the reference, and each says it is at fault.
    assert {r.outcome for r in results.values()} == {"error"}
    assert sum(r.points for r in results.values()) == 0
    message = results["test_other_layer_sizes"].message
    assert "the reference dW1 disagrees with the numerical gradient" in message
    assert "not necessarily in your code" in message
    # The self-check never sees the reference.
    visible = grade(right, include_hidden=False)
    assert sum(r.points for r in visible.values()) == FULL - 1


def forward_returning_params(x: np.ndarray, params: dict) -> dict:
    """The template's forward_pass, changed to return the dict (seen in a real class)."""
    reference.forward_pass(x, params)
    return params


@pytest.mark.parametrize("returns", ["params", "None", "tuple"])
def test_a_changed_forward_pass_is_named_in_one_line_and_does_not_move_the_grade(
    returns: str,
) -> None:
    def forward_pass(x: np.ndarray, params: dict) -> object:
        a3 = reference.forward_pass(x, params)
        return {"params": params, "None": None, "tuple": (a3, params)}[returns]

    namespace = {"backward_pass": reference.backward_pass, "forward_pass": forward_pass}
    checked = run_checks(ASSIGNMENT, InProcessTransport(namespace), seed=3, include_hidden=False)
    assert {r.outcome for r in checked} == {"failed"}  # never "error": the check is not at fault
    kind = {"params": "a dict with 12 keys", "None": "None", "tuple": "a tuple of 2 items"}
    assert {r.message for r in checked} == {
        f"Your notebook's forward_pass returns {kind[returns]}; the template's returns A3, "
        "which these checks need for the loss. When graded, backward_pass is judged with the "
        "reference's forward pass instead."
    }
    graded = run_checks(ASSIGNMENT, InProcessTransport(namespace), seed=3, include_hidden=True)
    assert sum(r.points for r in graded) == FULL and all(r.passed for r in graded)
    assert not any(r.hidden for r in graded if r.name != "test_other_layer_sizes")


def test_a_changed_forward_pass_does_not_hide_a_wrong_backward_pass_when_graded() -> None:
    wrong = altered(lambda g: {**g, "db3": g["db3"] * 2})
    namespace = {"backward_pass": wrong, "forward_pass": forward_returning_params}
    graded = run_checks(ASSIGNMENT, InProcessTransport(namespace), seed=3, include_hidden=True)
    assert {r.name for r in graded if not r.passed} == {"test_gradient[db3]"}
    assert sum(r.points for r in graded) == FULL - 2


def test_visible_checks_judge_against_the_notebooks_own_forward_pass() -> None:
    """A notebook whose forward_pass computes something else is told so, not given
    gradients of the wrong network to match."""

    def forward_pass(x: np.ndarray, params: dict) -> np.ndarray:
        reference.forward_pass(x, params)
        params["A3"] = params["A3"] * 2  # no longer probabilities
        return params["A3"]

    transport = InProcessTransport(
        {"backward_pass": reference.backward_pass, "forward_pass": forward_pass}
    )
    results = run_checks(ASSIGNMENT, transport, seed=3, include_hidden=False)
    message = results[0].message
    assert all(not r.passed for r in results)
    assert "run your notebook's forward_pass (given in the template) first" in message
    assert "each column summing to 1" in message


def test_wrong_values_say_what_the_expected_values_are() -> None:
    wrong = altered(lambda g: {**g, "db3": g["db3"] * 2})
    bad = failed(grade(wrong, include_hidden=False))
    assert set(bad) == {"test_gradient[db3]"}
    assert (
        "numerical gradients (centred differences) of the mean cross-entropy of your "
        in (bad["test_gradient[db3]"])
    )
    # Graded against the reference, the same diagnosis.
    graded = failed(grade(wrong))["test_gradient[db3]"]
    assert "returned wrong values. Every value is 2 times the expected" in graded


def test_a_forward_pass_written_for_fixed_sizes_is_called_one_network_at_a_time() -> None:
    """The numerical gradients put many networks side by side into one forward_pass call;
    a forward_pass that cannot take that still gets the same, right, grades."""
    wide_calls = []

    def fixed_sizes(x: np.ndarray, params: dict) -> np.ndarray:
        if x.shape[0] != 5:
            wide_calls.append(x.shape)
            raise ValueError("written for n_in = 5")
        return reference.forward_pass(x, params)

    transport = InProcessTransport(
        {"backward_pass": reference.backward_pass, "forward_pass": fixed_sizes}
    )
    results = run_checks(ASSIGNMENT, transport, seed=3, include_hidden=False)
    assert wide_calls and all(r.passed for r in results)
    assert sum(r.points for r in results) == FULL - 1


def autograd_backward_pass(spelling: str) -> Callable[..., Any]:
    """A backward_pass that lets torch.autograd find the gradients: right values, but not
    by hand, which the template rules out."""
    import torch

    def backward_pass(x: np.ndarray, y_true: np.ndarray, params: Grads) -> Grads:
        weights = {
            key: torch.tensor(params[key], requires_grad=True)
            for key in ("W1", "b1", "W2", "b2", "W3", "b3")
        }
        a = torch.tensor(x)
        for layer in (1, 2, 3):
            s = weights[f"W{layer}"] @ a + weights[f"b{layer}"]
            a = torch.sigmoid(s) if layer < 3 else torch.softmax(s, dim=0)
        loss = -(torch.tensor(y_true) * torch.log(a)).sum() / x.shape[1]
        if spelling == "backward":
            loss.backward()
            found = [weights[key].grad for key in weights]
        else:
            found = list(torch.autograd.grad(loss, list(weights.values())))
        return {f"d{key}": g.numpy() for key, g in zip(weights, found, strict=True)}

    return backward_pass


@pytest.mark.parametrize(
    ("spelling", "named"),
    [("backward", "torch.Tensor.backward"), ("grad", "torch.autograd.grad")],
)
def test_gradients_from_autograd_earn_no_gradient_points(spelling: str, named: str) -> None:
    results = grade(autograd_backward_pass(spelling))
    judged = [name for name in results if name.startswith("test_gradient[")]
    judged.append("test_other_layer_sizes")
    assert [results[name].points for name in judged] == [0.0] * 7
    first = results[judged[0]]
    assert first.message.startswith(f"backward_pass(x, y_true, params) uses `{named}`")
    assert "without automatic differentiation such as torch.autograd" in first.message
    for name in judged[1:]:
        assert results[name].message == (
            f"backward_pass(x, y_true, params) uses `{named}`, which the assignment rules out. "
            f"The check “{first.description}” explains it in full."
        )
    # Leaving the arguments alone is judged as ever.
    assert sum(r.points for r in results.values()) == 1.0


@pytest.mark.parametrize("factor", ["m", "1/m"])
def test_one_batch_size_mistake_costs_its_points_once(factor: str) -> None:
    """Every gradient m (or 1/m) times the expected one is one mistake: the first gradient's
    check is charged, the others keep their points and say where it was counted. Before
    charge_each_cause it cost all 14 points."""

    def backward_pass(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        m = x.shape[1]
        scale = m if factor == "m" else 1 / m
        return {k: v * scale for k, v in reference.backward_pass(x, y_true, params).items()}

    results = grade(backward_pass)
    assert sum(r.points for r in results.values()) == FULL - 2
    assert results["test_gradient[dW3]"].points == 0 and results["test_gradient[dW3]"].cause
    counted = [name for name, r in results.items() if r.counted_under]
    assert len(counted) == 7 and not any(results[name].passed for name in counted)
    message = results["test_gradient[db1]"].message
    assert message.startswith(
        'No points lost: the same mistake (batch-size factor) was already counted under "backward_'
        'pass returns the right gradient [dW3]".'
    )
    # The arguments are still judged: modifying x costs the point whatever the gradients.
    assert results["test_leaves_arguments_unchanged"].outcome == "not_judged"


def test_a_batch_size_mistake_and_another_are_each_charged() -> None:
    def backward_pass(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        grads = reference.backward_pass(x, y_true, params)
        grads = {k: v * x.shape[1] for k, v in grads.items()}
        grads["db1"] = -grads["db1"]  # a second, different mistake
        return grads

    results = grade(backward_pass)
    assert results["test_gradient[db1]"].points == 0 and not results["test_gradient[db1]"].cause
    assert sum(r.points for r in results.values()) == FULL - 4


def test_modified_arguments_fail_even_with_a_batch_size_mistake() -> None:
    def backward_pass(x: np.ndarray, y_true: np.ndarray, params: dict) -> Grads:
        grads = reference.backward_pass(x, y_true, params)
        x *= 2
        return {k: v * x.shape[1] for k, v in grads.items()}

    unchanged = grade(backward_pass)["test_leaves_arguments_unchanged"]
    assert unchanged.outcome == "failed" and unchanged.points == 0
