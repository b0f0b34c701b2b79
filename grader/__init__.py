"""nngrade: grade neural-network homework notebooks with pytest checks run outside the kernel."""

from grader.checks.architecture import expect_layers
from grader.checks.compare import describe, expect_array, expect_scalar, expect_unmodified
from grader.checks.failures import CheckFailure
from grader.checks.notebook import CallResult, Notebook

__all__ = [
    "CallResult",
    "CheckFailure",
    "Notebook",
    "describe",
    "expect_array",
    "expect_layers",
    "expect_scalar",
    "expect_unmodified",
]
