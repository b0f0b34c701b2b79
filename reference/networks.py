"""Forward passes of small PyTorch-style networks, in plain NumPy, from their weights."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reference.activations import relu

__all__ = ["linear_relu_stack"]


def linear_relu_stack(x: np.ndarray, layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Linear → ReLU → … → Linear on rows of ``x`` (flattened to (n, in_features)), with
    each layer's (weight (out, in), bias (out,)) as nn.Linear stores them."""
    h = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    for index, (weight, bias) in enumerate(layers):
        h = h @ np.asarray(weight, dtype=np.float64).T + np.asarray(bias, dtype=np.float64)
        if index < len(layers) - 1:
            h = relu(h)
    return h
