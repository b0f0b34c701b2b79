"""Seed 002's two-layer network, y_pred = relu(x @ w1) @ w2 with the summed squared error,
in PyTorch: its gradients by hand (grader side only)."""

from __future__ import annotations

import torch

__all__ = ["manual_backward"]


def manual_backward(
    x: torch.Tensor, y: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, dloss/dw1, dloss/dw2) by the chain rule, as the PyTorch tutorial writes it."""
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    y_pred = h_relu.mm(w2)
    loss = (y_pred - y).pow(2).sum()
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w2 = h_relu.t().mm(grad_y_pred)
    grad_h = grad_y_pred.mm(w2.t()) * (h > 0).to(h.dtype)
    return loss, x.t().mm(grad_h), grad_w2
