"""The layers assignment's checks on variations of the solution, in process (no kernel):
the diagnoses that need no notebook of their own."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.checks.notebook import InProcessTransport
from grader.grading.assignment import Assignment
from grader.grading.engine import run_checks
from grader.grading.results import CheckResult

ROOT = Path(__file__).resolve().parents[2] / "assignments" / "layers"
ASSIGNMENT = Assignment.load(ROOT)
FULL, VISIBLE = 31.0, 25.0


@pytest.fixture
def solution(monkeypatch: pytest.MonkeyPatch) -> str:
    """The solution's definitions (not its training cell) as one source text."""
    monkeypatch.syspath_prepend(str(ROOT))  # common/ and dataset/, as in the kernel
    cells = nbformat.read(ROOT / "solution.ipynb", as_version=4).cells
    return "\n\n".join(
        c.source for c in cells if c.cell_type == "code" and "for i in" not in c.source
    )


def grade(
    source: str,
    *,
    include_hidden: bool = True,
    assignment: Assignment = ASSIGNMENT,
    **changes: tuple[str, str],
) -> dict[str, CheckResult]:
    for old, new in changes.values():
        assert old in source, old
        source = source.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, "notebook", "exec"), namespace)  # noqa: S102 - our own test code
    results = run_checks(
        assignment, InProcessTransport(namespace), seed=5, include_hidden=include_hidden
    )
    return {r.name: r for r in results}


def failed(results: dict[str, CheckResult]) -> dict[str, str]:
    return {name: r.message for name, r in results.items() if not r.passed}


def score(results: dict[str, CheckResult]) -> float:
    return sum(r.points for r in results.values())


def test_solution_scores_full_marks_and_self_checks_see_no_hidden_check(solution: str) -> None:
    results = grade(solution)
    assert score(results) == FULL and not failed(results)
    visible = grade(solution, include_hidden=False)
    assert sum(r.max_points for r in visible.values()) == VISIBLE
    assert not any(r.hidden for r in visible.values())


LOSS_TWICE = (
    "        self.loss = cross_entropy_error(self.y, self.t)\n",
    "        self.loss = cross_entropy_error(self.y, self.t) / len(x)\n",
)


def test_loss_divided_by_the_batch_size_twice(solution: str) -> None:
    """Self-checked, net.gradient is judged against the numerical gradient of this loss and
    fails; graded, against the reference's gradients, which it computes."""
    bad = failed(grade(solution, include_hidden=False, loss=LOSS_TWICE))
    graded = failed(grade(solution, loss=LOSS_TWICE))
    forward = {f"test_softmax_with_loss_forward[{t}]" for t in ("one_hot", "labels")}
    backward = {f"test_softmax_with_loss_backward[{t}]" for t in ("one_hot", "labels")}
    net = {f"test_net_gradient[{g}]" for g in ("W1", "b1", "W2", "b2", "W3", "b3")}
    assert forward | backward | net <= set(bad)
    assert forward | backward <= set(graded) and not net & set(graded)
    assert "(divided by the batch size m = 3 twice; divide by m once)" in bad[min(forward)]
    # The backward is right; the forward it is judged against is not: a factor of m.
    assert "Every value is 3 times the expected one" in bad[min(backward)]
    assert (
        "the loss is divided by it twice, which makes numerical_gradient m times too small"
        in (bad["test_net_gradient[W3]"])
    )


def test_backward_that_keeps_the_first_forward(solution: str) -> None:
    bad = failed(
        grade(
            solution,
            sigmoid=(
                "        out = sigmoid(x)\n        self.out = out\n",
                "        out = sigmoid(x)\n"
                "        if self.out is None:  # only the first forward is kept\n"
                "            self.out = out\n",
            ),
        )
    )
    assert set(bad) == {"test_backward_follows_the_latest_forward[Sigmoid]"}
    assert (
        "forward must save what backward needs (the mask, the output, x) on every call"
        in (bad["test_backward_follows_the_latest_forward[Sigmoid]"])
    )


def test_relu_with_half_a_gradient_at_zero(solution: str) -> None:
    bad = failed(
        grade(
            solution,
            relu=(
                "        dx[self.mask] = 0\n",
                "        dx[self.mask] = 0\n        dx[self.x0] = dx[self.x0] / 2\n",
            ),
            save=(
                "        self.mask = (x <= 0)\n",
                "        self.mask = (x < 0)\n        self.x0 = (x == 0)\n",
            ),
        )
    )
    assert set(bad) == {"test_relu_convention_at_zero"}
    assert (
        "returned 2.5, 2.5 where x = 0; expected either 0 at both (the mask x <= 0)"
        in (bad["test_relu_convention_at_zero"])
    )


SUM_LOSS = (
    "        self.loss = cross_entropy_error(self.y, self.t)\n",
    "        self.loss = cross_entropy_error(self.y, self.t) * len(x)\n",
)


def test_a_consistent_but_wrong_network_is_caught_by_the_hidden_checks(solution: str) -> None:
    """The loss a sum over the batch and backward without the mean: gradient and
    numerical_gradient agree, so only the comparison with the reference shows it (when
    graded, in the gradient checks themselves)."""
    results = grade(solution, loss=SUM_LOSS, one_hot=ONE_HOT_MEAN)
    bad = failed(results)
    # Graded, gradient is judged against the reference: the factor m is charged once.
    message = bad["test_net_gradient[W2]"]
    assert results["test_net_gradient[W3]"].cause == "batch-size factor"
    assert "Every value is 7 times the expected one" in message
    assert "or the loss is a sum over the batch rather than its mean" in message
    assert "net.gradient agrees with net.numerical_gradient, so the loss they both" in message
    assert results["test_net_matches_reference[W2]"].outcome == "not_judged"
    # Self-checked, gradient agrees with numerical_gradient of the same wrong loss.
    alone = failed(grade(solution, include_hidden=False, loss=SUM_LOSS, one_hot=ONE_HOT_MEAN))
    assert not any(name.startswith("test_net_gradient[") for name in alone)


def test_layers_that_copy_the_weights(solution: str) -> None:
    results = grade(
        solution,
        copy=(
            "        self.W = W\n        self.b = b\n",
            "        self.W = W.copy()\n        self.b = b.copy()\n",
        ),
    )
    bad = failed(results)
    # numerical_gradient perturbs net.params, which the layers no longer see; each layer on
    # its own is right.
    network = {c for c, r in results.items() if r.hidden and "layer_matches" not in c}
    assert set(bad) == {c for c in results if c.startswith("test_net_gradient[")} | network
    assert (
        "changing the arrays in net.params does not change net.loss(x, t)"
        in (bad["test_net_gradient[W1]"])
    )


def test_params_of_the_wrong_shape_are_named_and_stop_the_network_checks(solution: str) -> None:
    results = grade(
        solution,
        shape=(
            "np.random.randn(hidden_size, hidden_size2)",
            "np.random.randn(hidden_size2, hidden_size)",
        ),
    )
    bad = failed(results)
    assert bad["test_net_params"] == (
        "ThreeLayerNet(6, 5, 4, 3).params['W2'] is an array of shape (4, 5) and dtype float64; "
        "for the layer sizes (6, 5, 4, 3) expected an array of shape (5, 4)."
    )
    # One cause, explained in full by the first network check and referred to by the others.
    network = [bad[name] for name in bad if name.startswith("test_net_gradient")]
    full = [m for m in network if "so this check cannot run until that works" in m]
    assert len(full) == 1 and len(network) == 7
    assert all(m.endswith("explains it in full.") for m in network if m not in full)
    assert all(name.startswith(("test_net", "test_sgd")) for name in bad)


def test_visible_checks_and_their_helpers_do_not_import_the_reference() -> None:
    """Students get the visible checks (and nngrade) to self-check, never reference/."""
    checks_library = ROOT.parent.parent / "grader" / "checks"
    visible = Assignment.load(ROOT).checks
    assert len(visible) == 2
    for path in (*visible, *sorted(checks_library.glob("*.py"))):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in imported if m.split(".")[0] == "reference"}, path.name
    assert "reference" in (ROOT / "hidden_layer_classes.py").read_text(encoding="utf-8")


# A kernel prints the overflow warning and goes on; this process would turn it into an error.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_softmax_that_overflows_is_caught_by_the_hidden_checks(solution: str) -> None:
    bad = failed(
        grade(
            solution,
            softmax=(
                "        self.y = softmax(x)\n",
                "        self.y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)\n",
            ),
        )
    )
    assert set(bad) == {"test_layer_matches_reference[SoftmaxWithLoss]"}
    message = bad["test_layer_matches_reference[SoftmaxWithLoss]"]
    assert message.startswith(
        "SoftmaxWithLoss works for ordinary inputs but not for large scores (near 1000):\n"
    )
    assert "unless the maximum of each row is subtracted first" in message


ONE_HOT_MEAN = (
    "            dx = (self.y - self.t) / batch_size\n",
    "            dx = (self.y - self.t)\n",
)
LABELS_MEAN = ("            dx = dx / batch_size\n", "            dx = dx\n")


def test_one_missing_mean_in_softmax_backward_costs_its_point_once(solution: str) -> None:
    """Before charge_each_cause, this one mistake cost 12.5 of 31 points (softmax backward,
    the six network gradients, and every hidden check that needs them)."""
    results = grade(solution, one_hot=ONE_HOT_MEAN, labels=LABELS_MEAN)
    assert score(results) == FULL - 1
    first = results["test_softmax_with_loss_backward[one_hot]"]
    assert first.points == 0 and first.cause == "batch-size factor"
    counted = {name for name, r in results.items() if r.counted_under}
    assert set(failed(results)) == counted | {"test_softmax_with_loss_backward[one_hot]"}
    assert results["test_net_gradient[W1]"].counted_under == (
        "SoftmaxWithLoss.backward matches the numerical gradient of its forward [one_hot]"
    )
    # The hidden checks that need right gradients are not judged, and keep their points.
    sgd = results["test_sgd_lowers_the_loss"]
    assert (sgd.outcome, sgd.points) == ("not_judged", 1.0)
    every = replace(ASSIGNMENT, charge_each_cause="every")
    assert (
        score(grade(solution, assignment=every, one_hot=ONE_HOT_MEAN, labels=LABELS_MEAN)) == 18.5
    )


def test_softmax_backward_for_one_hot_targets_only_fails_the_labels_case(solution: str) -> None:
    """The edge case of label targets (t of shape (N,)) tells a backward written for one-hot
    rows only from a right one."""
    bad = failed(
        grade(
            solution,
            labels=(
                "        if self.t.size == self.y.size: # 정답 레이블이 원-핫 인코딩 형태일 때\n",
                "        if True:  # one-hot rows only\n",
            ),
        )
    )
    assert "test_softmax_with_loss_backward[labels]" in bad
    assert "test_softmax_with_loss_backward[one_hot]" not in bad


NUMERICAL_ZEROS = (
    "            grads[key] = numerical_gradient(loss_W, self.params[key])\n",
    "            grads[key] = np.zeros_like(self.params[key])\n",
)
H_TOO_LARGE = (
    "            grads[key] = numerical_gradient(loss_W, self.params[key])\n",
    "            grads[key] = numerical_gradient(loss_W, self.params[key]) * 2\n",
)


@pytest.mark.parametrize("change", [NUMERICAL_ZEROS, H_TOO_LARGE], ids=["zeros", "doubled"])
def test_a_changed_numerical_gradient_does_not_move_the_grade_of_gradient(
    solution: str, change: tuple[str, str]
) -> None:
    """numerical_gradient is given code: graded, a right gradient earns its points whatever
    the notebook's numerical_gradient does; self-checked, the check says what differs."""
    assert score(grade(solution, numerical=change)) == FULL
    bad = failed(grade(solution, include_hidden=False, numerical=change))
    assert set(bad) == {f"test_net_gradient[{g}]" for g in ("W1", "b1", "W2", "b2", "W3", "b3")}
    message = bad["test_net_gradient[W3]"]
    assert message.startswith("net.numerical_gradient differs from the template's: ['W3']")
    assert ("is 0 everywhere, where" in message) == (change == NUMERICAL_ZEROS)
    assert "net.gradient(x, t)['W3'] agrees with these." in message
    assert "When graded, net.gradient is judged against the reference's gradients" in message
    assert "net.params does not change net.loss" not in message


def test_a_wrong_gradient_is_still_blamed_when_numerical_gradient_was_changed(
    solution: str,
) -> None:
    results = grade(solution, numerical=NUMERICAL_ZEROS, one_hot=ONE_HOT_MEAN)
    assert results["test_net_gradient[W3]"].cause == "batch-size factor"
    alone = failed(
        grade(solution, include_hidden=False, numerical=NUMERICAL_ZEROS, one_hot=ONE_HOT_MEAN)
    )
    assert (
        "net.gradient(x, t)['W3'] does not agree with these either."
        in (alone["test_net_gradient[W3]"])
    )


def test_a_batch_size_written_into_the_network_fails_the_other_sizes(solution: str) -> None:
    """Right for the usual batch of 7 only: the hidden check of other sizes shows it."""
    results = grade(
        solution,
        fixed=("        batch_size = self.t.shape[0]\n", "        batch_size = 7\n"),
    )
    assert all(results[f"test_net_gradient[{g}]"].passed for g in ("W1", "b3"))
    message = failed(results)["test_net_matches_reference[W3]"]
    assert message.startswith(
        "net.gradient(x, t)['W3'] is right for the layer sizes (6, 5, 4, 3) with a batch of 7, "
        "but not for (8, 3, 6, 5) with a batch of 4. Is a layer size or the batch size written"
    )
