"""nngrade: grade neural-network homework notebooks with pytest checks run outside the kernel."""

from grader.bridge import CallResult, Notebook
from grader.compare import describe, expect_array, expect_scalar, expect_unmodified
from grader.failures import CheckFailure
from grader.layers import expect_layers

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
