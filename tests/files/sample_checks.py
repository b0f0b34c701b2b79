"""Checks used by tests/grading/test_plugin.py to exercise markers, points and messages."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks import CheckFailure, Notebook, expect_array


@pytest.mark.points(3, shared=True)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_shared(notebook: Notebook, n: int) -> None:
    """double(n) doubles"""
    expect_array(notebook.call("double", np.full(n, 2.0)).value, np.full(n, 4.0), what="double(x)")


@pytest.mark.points(2)
@pytest.mark.parametrize("n", [1, 2])
def test_each(notebook: Notebook, n: int) -> None:
    """each case carries its own points"""
    if n == 2:
        raise CheckFailure("case two always fails")


@pytest.mark.points(5)
@pytest.mark.hidden
def test_hidden(notebook: Notebook) -> None:
    """a hidden check"""


@pytest.mark.points(1)
def test_plain_assert() -> None:
    assert 1 + 1 == 3, "arithmetic is broken"


@pytest.mark.points(1)
def test_check_bug() -> None:
    {}["missing"]


@pytest.mark.points(1)
@pytest.mark.time_limit(0.5)
def test_time_limit(notebook: Notebook) -> None:
    """the time limit reaches the notebook"""
    assert notebook.timeout == 0.5


@pytest.mark.points(1)
def test_rng(notebook: Notebook, rng: np.random.Generator) -> None:
    """rng is seeded"""
    value = rng.integers(0, 10**9)
    assert notebook.call("remember", int(value)).value


@pytest.mark.points(1)
def test_run_seed(run_seed: int) -> None:
    """run_seed is the run's seed (reported, so that the test can see it)"""
    raise CheckFailure(f"run seed {run_seed}")
