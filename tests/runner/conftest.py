"""The runner tests' bubblewrap sandbox: skipped without bubblewrap, failed without it in CI."""

from __future__ import annotations

import os

import pytest

from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox, bwrap_problem

# CI sets this, so a missing bwrap fails the run instead of skipping the sandbox's tests.
REQUIRED = os.environ.get("NNGRADE_REQUIRE_BWRAP") == "1"


@pytest.fixture(scope="module")  # the hostile batch, graded once per module, needs it too
def sandbox() -> Sandbox:
    problem = bwrap_problem()
    if problem:
        if REQUIRED:
            pytest.fail(f"bubblewrap is required here: {problem}")
        pytest.skip(problem)
    return Sandbox.choose("bwrap", Limits())
