"""What students get to self-check must not hand them the solutions.

For every assignment: its visible check files import neither the packages the checks may
use (``reference``) nor the hidden checks, and mark nothing hidden (a hidden check in a
file students get is no longer hidden). And the student's copy (``copy_to(hidden=False)``),
graded in a process that cannot import ``reference``, gives the solution full visible marks
and fails each buggy test notebook on the visible checks listed here.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.grading.assignment import Assignment
from tests.conftest import ASSIGNMENTS, CELL_TIMEOUT, SEED, TORCH_CELL_TIMEOUT
from tests.course_samples import student_env

PARTS = ("loss", "grad_w1", "grad_w2")
NAMES = sorted(path.parent.name for path in ASSIGNMENTS.glob("*/assignment.toml"))
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def leaks(source: str, forbidden: set[str]) -> list[str]:
    """What in a check file's ``source`` imports one of the ``forbidden`` modules or marks a
    check hidden, one line each."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Call) and _imports_by_name(node):
            modules = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
        found += [
            f"line {line}: imports {module}"
            for module in modules
            if str(module).split(".")[0] in forbidden
        ]
        if isinstance(node, ast.Attribute) and node.attr == "hidden" and _is_mark(node.value):
            found.append(f"line {line}: marks a check hidden")
    return found


def _imports_by_name(call: ast.Call) -> bool:
    """__import__("x") or importlib.import_module("x")."""
    function = call.func
    name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
    return name in ("__import__", "import_module")


def _is_mark(node: ast.expr) -> bool:
    """``pytest.mark`` or a bare ``mark`` (from pytest import mark)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "mark"
    return isinstance(node, ast.Name) and node.id == "mark"


def forbidden_modules(assignment: Assignment) -> set[str]:
    return {path.name for path in assignment.packages} | {
        path.stem for path in assignment.hidden_checks
    }


@pytest.mark.parametrize("name", NAMES)
def test_visible_checks_import_no_reference_and_mark_nothing_hidden(name: str) -> None:
    assignment = Assignment.load(ASSIGNMENTS / name)
    forbidden = forbidden_modules(assignment)
    assert "reference" in forbidden and assignment.hidden_checks
    for path in assignment.checks:
        assert leaks(path.read_text(encoding="utf-8"), forbidden) == [], path.name


def test_the_leak_finder_finds_each_kind_of_leak() -> None:
    source = (
        "import numpy as np\n"
        "import reference\n"
        "import reference.mlp as mlp\n"
        "from reference import digits\n"
        "from hidden_relu import EXTREME\n"
        "import importlib\n"
        "ref = importlib.import_module('reference')\n"
        "ref = __import__('reference.losses')\n"
        "from pytest import mark\n"
        "import pytest\n"
        "@pytest.mark.hidden\n"
        "def test_a(): ...\n"
        "@mark.hidden\n"
        "def test_b(): ...\n"
        "@pytest.mark.points(1)\n"
        "def test_c(): ...\n"
    )
    assert leaks(source, {"reference", "hidden_relu"}) == [
        "line 2: imports reference",
        "line 3: imports reference.mlp",
        "line 4: imports reference",
        "line 5: imports hidden_relu",
        "line 7: imports reference",
        "line 8: imports reference.losses",
        "line 11: marks a check hidden",
        "line 13: marks a check hidden",
    ]


# Points a student can self-check, of 10, 14, 10, 10 and 31 when grading (see the README).
VISIBLE_POINTS = {
    "relu": 9,
    "backprop": 13,
    "bce": 9,
    "torch_mlp": 8,
    "layers": 25,
    "activations": 16,
}
# What each buggy test notebook fails when a student self-checks: the visible checks alone.
VISIBLE_FAILURES: dict[str, dict[str, set[str]]] = {
    "relu": {
        "wrong_values": {
            *(f"test_relu_values[{case}]" for case in ("0-D", "1-D", "2-D", "3-D")),
            "test_does_not_modify_input[relu]",
        },
        "only_2d": {
            *(
                f"test_{f}_values[{case}]"
                for f in ("relu", "d_relu")
                for case in ("0-D", "1-D", "3-D")
            ),
            "test_d_relu_at_zero",
        },
        "d_relu_zero_wrong": {
            *(f"test_d_relu_values[{case}]" for case in ("1-D", "2-D", "3-D")),
            "test_d_relu_at_zero",
            "test_does_not_modify_input[d_relu]",
        },
        "d_relu_inplace": {"test_does_not_modify_input[d_relu]"},
    },
    "backprop": {
        "seed_as_handed_in": {
            *(f"test_gradient[{g}]" for g in ("dW3", "db3", "dW2", "db2", "dW1", "db1")),
            "test_leaves_arguments_unchanged",
        },
        "seed_name_fixed": {"test_gradient[db3]", "test_gradient[db2]"},
        "missing_mean": {
            *(f"test_gradient[{g}]" for g in ("dW3", "db3", "dW2", "db2", "dW1", "db1")),
            "test_leaves_arguments_unchanged",
        },
        "transposed_dw": {"test_gradient[dW2]"},
        "relu_derivative": {
            *(f"test_gradient[{g}]" for g in ("dW2", "db2", "dW1", "db1")),
            "test_leaves_arguments_unchanged",
        },
        "loops_einsum": set(),
        # The given forward_pass changed to return params: said in one line on every check.
        "forward_returns_params": {
            *(f"test_gradient[{g}]" for g in ("dW3", "db3", "dW2", "db2", "dW1", "db1")),
            "test_leaves_arguments_unchanged",
        },
    },
    "bce": {
        "seed_formula": {"test_bce_saturated_outputs"},
        "sum_not_mean": {
            "test_bce_values[(n, 1)]",
            "test_bce_values[(n,)]",
            "test_bce_saturated_outputs",
            "test_bce_accepts_numpy_arrays",
        },
        "accuracy_count": {
            "test_accuracy_values[(n, 1)]",
            "test_accuracy_values[(n,)]",
            "test_accuracy_edge_cases",
        },
        "wrong_architecture": {"test_net_architecture", "test_training_with_bce_loss"},
        "loss_as_float": {"test_training_with_bce_loss"},
        "class_torch_relu": set(),
        "sequential_flatten": set(),
        "class_wrong_sizes": {"test_net_architecture"},
        "missing_sigmoid": {"test_net_architecture", "test_training_with_bce_loss"},
    },
    "torch_mlp": {
        "logsigmoid": {"test_architecture"},
        "wrong_sizes": {"test_architecture"},
        # train and evaluate run with a stand-in network: Net's mistake is not theirs.
        "no_flatten": {"test_output_shape[(N, 1, 28, 28)]"},
        "no_step": {"test_train_updates_the_model"},
        "no_zero_grad": {"test_train_updates_the_model"},
        "returns_last_loss": {"test_train_returns_mean_batch_loss"},
        "evaluate_train_mode": {"test_evaluate_values", "test_evaluate_mode"},
        "sequential_flatten": set(),
        "functional_relu": set(),
        "torch_relu": set(),
        "functional_missing_relu": {"test_architecture"},
        "functional_sigmoid": {"test_architecture"},
    },
    "activations": {
        "sigmoid_derivative_of_z": {"test_derivative_values[d_sigmoid]"},
        "tanh_derivative_unsquared": {"test_derivative_values[d_tanh]"},
        "forward_difference": {"test_numerical_derivative[np.sin with eps = 0.01]"},
        "myrelu_unmasked": {"test_myrelu_backward"},
        "manual_backward_uses_autograd": {f"test_manual_backward[{p}]" for p in PARTS},
        "no_zero_grad": {"test_train_updates_weights", "test_train_returns_losses"},
        "update_outside_no_grad": {"test_train_updates_weights", "test_train_returns_losses"},
        "large_learning_rate": set(),
    },
    "layers": {
        "affine_no_reshape": {"test_affine_tensor_input"},
        "gradient_forgets_third_layer": {"test_net_gradient[W3]", "test_net_gradient[b3]"},
        "relu_mask_lt": set(),
        # The given numerical_gradient returns zeros: the self-check cannot judge gradient.
        "numerical_gradient_returns_zeros": {
            f"test_net_gradient[{p}{k}]" for p in "Wb" for k in (1, 2, 3)
        },
        "seed_fused_update": {
            "test_affine_backward_leaves_weights",
            "test_net_gradient_leaves_weights",
        },
        "softmax_backward_not_divided": {
            *(f"test_net_gradient[{p}{k}]" for p in "Wb" for k in (1, 2, 3)),
            "test_softmax_with_loss_backward[one_hot]",
            "test_softmax_with_loss_backward[labels]",
        },
    },
}

# Runs in a fresh interpreter outside the checkout: it must not find reference/.
SELF_CHECK = """
import json, sys
from pathlib import Path

try:
    import reference
except ImportError:
    pass
else:
    sys.exit(f"reference is importable from {reference.__file__}")

from grader.grading.assignment import Assignment
from grader.batch.grade import default_workers, grade_many
from grader.grading.engine import GradingOptions

def main():
    bundle, timeout, seed, *notebooks = sys.argv[1:]
    options = GradingOptions(cell_timeout=float(timeout), seed=int(seed), include_hidden=False)
    results = grade_many(
        Assignment.load(Path(bundle)), [Path(n) for n in notebooks], options,
        workers=default_workers(),
    )
    # The checks only: written answers are marked by hand, not self-checked.
    checks = {r.id: [c for c in r.checks if not c.name.startswith("written:")] for r in results}
    json.dump({
        Path(r.path).stem: {
            "score": sum(c.points for c in checks[r.id]),
            "max_score": sum(c.max_points for c in checks[r.id]), "status": r.status,
            "failed": sorted(c.name for c in checks[r.id] if not c.passed),
            "hidden": [c.name for c in checks[r.id] if c.hidden],
        }
        for r in results
    }, sys.stdout)

if __name__ == "__main__":
    main()
"""


@pytest.mark.kernel
@pytest.mark.parametrize("name", NAMES)
def test_the_students_copy_self_checks_without_the_reference(name: str, tmp_path: Path) -> None:
    original = Assignment.load(ASSIGNMENTS / name)
    bundle = original.copy_to(tmp_path / "bundle", hidden=False)
    assert bundle.hidden_checks == () and bundle.packages == ()
    assert original.solution is not None
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(original.solution, submissions / "solution.ipynb")
    for stem in VISIBLE_FAILURES[name]:
        shutil.copy(NOTEBOOKS / name / f"{stem}.ipynb", submissions)
    torch_notebooks = ("bce", "torch_mlp", "activations")
    timeout = TORCH_CELL_TIMEOUT if name in torch_notebooks else CELL_TIMEOUT
    process = subprocess.run(
        [sys.executable, "-c", SELF_CHECK, str(tmp_path / "bundle"), str(timeout), str(SEED)]
        + [str(path) for path in sorted(submissions.iterdir())],
        cwd=tmp_path,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr
    results = json.loads(process.stdout)
    solution = results.pop("solution")
    assert solution["status"] == "graded" and solution["failed"] == [], solution
    assert solution["score"] == solution["max_score"] == VISIBLE_POINTS[name]
    assert solution["hidden"] == []
    assert {stem: set(r["failed"]) for stem, r in results.items()} == VISIBLE_FAILURES[name]
