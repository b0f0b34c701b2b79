"""grader.checks is the contract with check files: its names are pinned, so removing one is a
decision (and a new minor version, see ``requires`` in assignment.toml), and each has a
docstring, from which the API reference is generated."""

from __future__ import annotations

import inspect

import pytest

import grader
import grader.checks

PUBLIC_NAMES = [
    "CallFailed",
    "CallResult",
    "CheckFailure",
    "Evaluation",
    "FunctionApplied",
    "GradientCall",
    "GradientComparison",
    "LayerCall",
    "ModelTrace",
    "NetworkCalls",
    "NetworkProblem",
    "NotJudged",
    "Notebook",
    "ObjectHandle",
    "TrainingEpoch",
    "TrainingRun",
    "TrainingSteps",
    "agrees_with_own",
    "apply_function",
    "away_from_kinks",
    "batch_factor_cause",
    "batch_factor_hints",
    "call_with_function",
    "compare_gradients",
    "describe",
    "elementwise_derivative",
    "evaluate_model",
    "expect_array",
    "expect_called",
    "expect_gradient",
    "expect_layers",
    "expect_network",
    "expect_not_called",
    "expect_scalar",
    "expect_unmodified",
    "expect_working",
    "extra_dimension_cause",
    "fit_model",
    "numerical_gradient",
    "parameter_gradients",
    "parameter_gradients_at_once",
    "trace_model",
    "train_epoch",
    "train_steps",
]


def test_the_public_names_are_pinned() -> None:
    assert sorted(grader.checks.__all__) == PUBLIC_NAMES
    assert len(set(grader.checks.__all__)) == len(grader.checks.__all__)


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_each_public_name_is_importable_and_documented(name: str) -> None:
    item = getattr(grader.checks, name)
    # Its own docstring: not inherited, and not the signature a dataclass writes for itself.
    doc = item.__doc__
    assert isinstance(doc, str) and doc.strip(), name
    assert not doc.startswith(f"{name}("), f"{name} has only the dataclass's generated docstring"
    assert inspect.getmodule(item).__name__.startswith("grader.checks"), name


def test_grader_re_exports_the_same_names() -> None:
    assert grader.__all__ == grader.checks.__all__
    assert all(getattr(grader, name) is getattr(grader.checks, name) for name in PUBLIC_NAMES)


def test_the_implementation_modules_export_nothing_beyond_the_api() -> None:
    """A private module's __all__ lists only what grader.checks re-exports from it."""
    modules = {inspect.getmodule(getattr(grader.checks, name)) for name in PUBLIC_NAMES}
    for module in modules:
        exported = set(getattr(module, "__all__", ()))
        if module is not None and module.__name__.split(".")[-1].startswith("_"):
            assert exported <= set(PUBLIC_NAMES), module.__name__
