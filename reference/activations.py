"""Activation functions and their derivatives, in plain NumPy."""

from __future__ import annotations

import numpy as np

__all__ = ["d_relu", "relu"]


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x) element-wise, as a new array of x's shape and floating dtype."""
    x = np.asarray(x)
    return np.where(x > 0, x, np.zeros_like(x))


def d_relu(x: np.ndarray) -> np.ndarray:
    """1.0 where x > 0 and 0.0 elsewhere, including exactly at 0 (the convention asked for)."""
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    return (x > 0).astype(dtype)
