"""The references of the activations assignment against torch and torch.autograd, so that a
reference bug cannot grade a student wrong."""

from __future__ import annotations

import numpy as np
import torch

import reference
from reference import two_layer


def test_tanh_and_its_derivative_match_torch() -> None:
    z = torch.linspace(-30, 30, 301, dtype=torch.float64, requires_grad=True)
    torch.tanh(z).sum().backward()
    assert z.grad is not None
    np.testing.assert_allclose(reference.tanh(z.detach().numpy()), torch.tanh(z).detach())
    np.testing.assert_allclose(reference.d_tanh(z.detach().numpy()), z.grad, atol=1e-15)


def test_the_numerical_derivative_is_the_centred_difference() -> None:
    z = np.array([0.3, 1.2])
    np.testing.assert_allclose(
        reference.derivative(np.sin, z, 0.1), (np.sin(z + 0.1) - np.sin(z - 0.1)) / 0.2
    )


def test_manual_backward_matches_autograd() -> None:
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(6, 4, generator=generator), torch.randn(6, 3, generator=generator)
    w1 = torch.randn(4, 5, generator=generator, dtype=torch.float32).double()
    w2 = torch.randn(5, 3, generator=generator).double()
    x, y = x.double(), y.double()
    loss, grad_w1, grad_w2 = two_layer.manual_backward(x, y, w1, w2)
    w1.requires_grad_(True)
    w2.requires_grad_(True)
    expected = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
    expected.backward()
    torch.testing.assert_close(loss, expected.detach())
    torch.testing.assert_close(grad_w1, w1.grad)
    torch.testing.assert_close(grad_w2, w2.grad)
