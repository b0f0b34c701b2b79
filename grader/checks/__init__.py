"""The API for assignment check files: everything a check imports comes from here.

A check is a pytest test that receives the student's ``notebook`` (a `Notebook`), calls
the student's code across the boundary, and fails with `CheckFailure` and a message
written for the student. Check files are handed to students in bundles, so these names
are a contract: an assignment says which nngrade it needs with ``requires`` in its
``assignment.toml``, and a name is removed only with a new minor version.

- Calling the student's code: `Notebook`, `CallResult`, `ObjectHandle`.
- Failing: `CheckFailure`, `CallFailed`; nothing to judge: `NotJudged`.
- Rules the assignment states ("without torch.nn.BCELoss"): `expect_not_called`,
  `expect_called`, on a call made with ``notebook.call(..., watch=[...])``.
- Comparing values: `expect_array`, `expect_scalar`, `expect_unmodified`, `describe`.
- Gradients: `numerical_gradient`, `elementwise_derivative`, `parameter_gradients`,
  `parameter_gradients_at_once`, `away_from_kinks`, `compare_gradients`, `expect_gradient`,
  `GradientComparison`.
- A backward pass that returns a dict of gradients: `GradientCall`, `expect_working`,
  `batch_factor_hints`, `batch_factor_cause` and `extra_dimension_cause` (the causes a
  failure names, charged once).
- A "Deep Learning from Scratch" network object: `NetworkProblem`, `NetworkCalls`,
  `agrees_with_own`.
- PyTorch models, run in the kernel: `trace_model`, `train_steps`, `train_epoch`,
  `evaluate_model`, `fit_model`, their results `ModelTrace` (of `LayerCall`),
  `TrainingSteps`, `TrainingEpoch`, `Evaluation`, `TrainingRun`, `expect_layers`, and
  `expect_network` (what a network computes, whatever its spelling).
- A ``torch.autograd.Function`` subclass: `apply_function` (``.apply``, backward and
  gradcheck in the kernel), its result `FunctionApplied`; a function that takes a
  function (``derivative(f, z, eps)``): `call_with_function`.

Tolerances are defaults of the helpers that use them, tuned with them; check files pass
``rtol``/``atol`` only where their own problem needs other ones.

    import numpy as np
    from grader.checks import Notebook, expect_array

    def test_relu(notebook: Notebook) -> None:
        call = notebook.call("relu", np.array([-1.0, 2.0]))
        expect_array(call.value, np.array([0.0, 2.0]), what=call.what)
"""

from grader.checks._architecture import expect_layers, expect_network
from grader.checks._autograd import FunctionApplied, apply_function, call_with_function
from grader.checks._compare import describe, expect_array, expect_scalar, expect_unmodified
from grader.checks._diagnoses import (
    GradientCall,
    batch_factor_cause,
    batch_factor_hints,
    expect_working,
    extra_dimension_cause,
)
from grader.checks._gradients import (
    GradientComparison,
    away_from_kinks,
    compare_gradients,
    elementwise_derivative,
    expect_gradient,
    numerical_gradient,
    parameter_gradients,
    parameter_gradients_at_once,
)
from grader.checks._networks import NetworkCalls, NetworkProblem, agrees_with_own
from grader.checks._torch_routines import (
    Evaluation,
    LayerCall,
    ModelTrace,
    TrainingEpoch,
    TrainingRun,
    TrainingSteps,
    evaluate_model,
    fit_model,
    trace_model,
    train_epoch,
    train_steps,
)
from grader.checks.calls import CallFailed, expect_called, expect_not_called
from grader.checks.failures import CheckFailure, NotJudged
from grader.checks.notebook import CallResult, Notebook, ObjectHandle

__all__ = [
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
