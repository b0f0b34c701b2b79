"""The reference implementations agree with torch, so a reference bug cannot grade a class."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference


@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (2, 3, 4)])
def test_relu_matches_torch(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).standard_normal(shape) * 10
    expected = torch.relu(torch.from_numpy(np.asarray(x))).numpy()
    got = reference.relu(x)
    assert got.shape == np.shape(x) and got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


def test_relu_keeps_float32_and_returns_a_new_array() -> None:
    x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    before = x.copy()
    out = reference.relu(x)
    assert out.dtype == np.float32 and out is not x
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_d_relu_matches_autograd_away_from_zero(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(1).standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5  # autograd's choice at exactly 0 is tested separately
    t = torch.tensor(x, requires_grad=True)
    torch.relu(t).sum().backward()
    assert t.grad is not None
    np.testing.assert_array_equal(reference.d_relu(x), t.grad.numpy())


def test_d_relu_is_zero_at_zero_like_torch() -> None:
    x = np.array([-1.0, 0.0, -0.0, 1.0])
    t = torch.tensor(x, requires_grad=True)
    torch.relu(t).sum().backward()
    assert t.grad is not None
    np.testing.assert_array_equal(reference.d_relu(x), [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(reference.d_relu(x), t.grad.numpy())
