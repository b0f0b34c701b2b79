"""BCE and accuracy references agree with torch, including where the outputs saturate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from reference import digits


def torch_bce(y_hat: np.ndarray, y: np.ndarray) -> float:
    return float(torch.nn.BCELoss()(torch.from_numpy(y_hat), torch.from_numpy(y)))


@pytest.mark.parametrize("shape", [(1,), (10,), (32, 1)])
def test_bce_matches_torch(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(4)
    y_hat = rng.uniform(0.001, 0.999, shape)
    y = rng.integers(0, 2, shape).astype(np.float64)
    assert reference.bce(y_hat, y) == pytest.approx(torch_bce(y_hat, y), rel=1e-6)


def test_bce_clamps_saturated_outputs_like_torch() -> None:
    y_hat = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    expected = torch_bce(y_hat, y)
    assert np.isfinite(expected) and expected > 30  # two terms are clamped at 100
    assert reference.bce(y_hat, y) == pytest.approx(expected, rel=1e-6)


def test_bce_in_float32_matches_torch() -> None:
    y_hat = np.random.default_rng(5).uniform(0, 1, 50).astype(np.float32)
    y = (y_hat > 0.3).astype(np.float32)
    assert reference.bce(y_hat, y) == pytest.approx(torch_bce(y_hat, y), rel=1e-6)


def test_accuracy_thresholds_strictly_above_one_half() -> None:
    y_hat = np.array([0.5, 0.5000001, 0.0, 1.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    assert reference.accuracy(y_hat, y) == 0.5
    assert reference.accuracy(y_hat, 1 - y) == 0.5


def test_accuracy_matches_a_torch_computation() -> None:
    rng = np.random.default_rng(6)
    y_hat, y = rng.uniform(0, 1, (40, 1)), rng.integers(0, 2, (40, 1)).astype(np.float64)
    expected = ((torch.from_numpy(y_hat) > 0.5).double() == torch.from_numpy(y)).double().mean()
    assert reference.accuracy(y_hat, y) == pytest.approx(float(expected))


def test_bundled_digits_are_mnist_shaped_and_split() -> None:
    data = digits.load()
    assert data.x_train.shape[1:] == data.x_test.shape[1:] == (28, 28)
    assert data.x_train.dtype == np.uint8 and data.x_train.max() == 255
    assert len(data.x_train) + len(data.x_test) == 1797
    assert set(np.unique(data.y_test)) == set(range(10))
    binary = data.binary(0, 1)
    assert set(np.unique(binary.y_train)) == {0, 1} and len(binary.x_test) > 50


def test_bundled_digits_are_what_the_build_script_makes() -> None:
    rebuilt, shipped = digits.build(), digits.load()
    for name, a, b in zip(digits.Digits._fields, rebuilt, shipped, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("n", [1, 7])
def test_softmax_cross_entropy_matches_torch(n: int) -> None:
    rng = np.random.default_rng(n)
    logits, labels = rng.standard_normal((n, 10)) * 30, rng.integers(0, 10, n)
    expected = torch.nn.CrossEntropyLoss()(torch.from_numpy(logits), torch.from_numpy(labels))
    assert reference.softmax_cross_entropy(logits, labels) == pytest.approx(
        float(expected), rel=1e-9
    )


def test_linear_relu_stack_matches_torch() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(12, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)
    ).double()
    x = torch.randn(4, 3, 4, dtype=torch.float64)
    layers = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in net[1::2]]
    np.testing.assert_allclose(
        reference.linear_relu_stack(x.numpy(), layers), net(x).detach().numpy(), rtol=1e-12
    )
