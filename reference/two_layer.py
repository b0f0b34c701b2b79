"""Seed 002's two-layer network, y_pred = relu(x @ w1) @ w2 with the summed squared error,
in PyTorch: its gradients by hand and its gradient-descent steps (grader side only)."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["gradient_steps", "manual_backward", "two_layer_loss"]


def two_layer_loss(x: torch.Tensor, y: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> Any:
    """The summed squared error of relu(x @ w1) @ w2 against y."""
    return (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()


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


def gradient_steps(
    x: torch.Tensor,
    y: torch.Tensor,
    w1: torch.Tensor,
    w2: torch.Tensor,
    learning_rate: float,
    steps: int,
    *,
    accumulate: bool = False,
) -> tuple[list[float], torch.Tensor, torch.Tensor]:
    """``steps`` steps of plain gradient descent from (w1, w2): the loss before each step
    and the weights after the last. With ``accumulate``, the gradients are never zeroed (the
    mistake of a loop without ``w.grad.zero_()``), so each step adds every earlier one's."""
    w1, w2 = w1.detach().clone(), w2.detach().clone()
    total1, total2 = torch.zeros_like(w1), torch.zeros_like(w2)
    losses = []
    for _ in range(steps):
        loss, grad_w1, grad_w2 = manual_backward(x, y, w1, w2)
        losses.append(float(loss))
        if accumulate:
            total1, total2 = total1 + grad_w1, total2 + grad_w2
            grad_w1, grad_w2 = total1, total2
        w1, w2 = w1 - learning_rate * grad_w1, w2 - learning_rate * grad_w2
    return losses, w1, w2
