"""The reference layers and three-layer network agree with torch.autograd, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import layers
from reference.layers import NET_PARAMETERS


def grads_of(function, *arrays: np.ndarray, dout: np.ndarray | None = None):
    """torch's value of ``function`` and the gradients of sum(value * dout) for each array."""
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    value = function(*tensors)
    weights = torch.ones_like(value) if dout is None else torch.from_numpy(dout)
    (value * weights).sum().backward()
    return value.detach().numpy(), [t.grad.numpy() for t in tensors]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(8)


def test_relu_and_sigmoid(rng: np.random.Generator) -> None:
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    for ours, backward, theirs in (
        (layers.relu_forward, layers.relu_backward, torch.relu),
        (layers.sigmoid_forward, layers.sigmoid_backward, torch.sigmoid),
    ):
        value, (dx,) = grads_of(theirs, x, dout=dout)
        np.testing.assert_allclose(ours(x), value, rtol=1e-12)
        np.testing.assert_allclose(backward(x, dout), dx, rtol=1e-12)


def test_relu_blocks_the_gradient_at_zero() -> None:
    np.testing.assert_array_equal(layers.relu_backward(np.zeros(3), np.ones(3)), np.zeros(3))


@pytest.mark.parametrize("shape", [(3, 4), (3, 2, 2, 1)])
def test_affine_flattens_tensor_input(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    x = rng.standard_normal(shape)
    W, b = rng.standard_normal((4, 5)), rng.standard_normal(5)
    dout = rng.standard_normal((3, 5))
    value, (dx, dW, db) = grads_of(lambda x, W, b: x.reshape(3, -1) @ W + b, x, W, b, dout=dout)
    np.testing.assert_allclose(layers.affine_forward(x, W, b), value, rtol=1e-12)
    for ours, expected in zip(layers.affine_backward(x, W, dout), (dx, dW, db), strict=True):
        assert ours.shape == expected.shape
        np.testing.assert_allclose(ours, expected, rtol=1e-12)


@pytest.mark.parametrize("one_hot", [True, False])
def test_softmax_with_loss(rng: np.random.Generator, one_hot: bool) -> None:
    x = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, 6)
    t = np.eye(4)[labels] if one_hot else labels
    value, (dx,) = grads_of(
        lambda x: torch.nn.functional.cross_entropy(x, torch.from_numpy(labels)), x
    )
    assert layers.softmax_with_loss(x, t) == pytest.approx(float(value), rel=1e-12)
    np.testing.assert_allclose(layers.softmax_with_loss_backward(x, t), dx, rtol=1e-10)


@pytest.mark.parametrize(("sizes", "m"), [((6, 5, 4, 3), 7), ((12, 3, 8, 2), 1)])
def test_three_layer_network(rng: np.random.Generator, sizes: tuple[int, ...], m: int) -> None:
    params = {}
    for layer in (1, 2, 3):
        params[f"W{layer}"] = rng.standard_normal(sizes[layer - 1 : layer + 1])
        params[f"b{layer}"] = rng.standard_normal(sizes[layer])
    x, labels = rng.standard_normal((m, sizes[0])), rng.integers(0, sizes[-1], m)

    def loss(W1, b1, W2, b2, W3, b3):
        h = torch.relu(torch.from_numpy(x) @ W1 + b1)
        h = torch.relu(h @ W2 + b2)
        return torch.nn.functional.cross_entropy(h @ W3 + b3, torch.from_numpy(labels))

    value, expected = grads_of(loss, *(params[name] for name in NET_PARAMETERS))
    assert layers.three_layer_loss(x, labels, params) == pytest.approx(float(value), rel=1e-12)
    grads = layers.three_layer_gradients(x, np.eye(sizes[-1])[labels], params)
    assert list(grads) == list(NET_PARAMETERS)
    for name, want in zip(NET_PARAMETERS, expected, strict=True):
        np.testing.assert_allclose(grads[name], want, rtol=1e-10, atol=1e-14)
    assert [s.shape for s in layers.three_layer_scores(x, params)] == [
        (m, sizes[1]),
        (m, sizes[2]),
        (m, sizes[3]),
    ]
