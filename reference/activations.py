"""Activation functions and their derivatives, in plain NumPy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["d_relu", "d_sigmoid", "d_tanh", "derivative", "relu", "sigmoid", "softmax", "tanh"]


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x) element-wise, as a new array of x's shape and floating dtype."""
    x = np.asarray(x)
    return np.where(x > 0, x, np.zeros_like(x))


def d_relu(x: np.ndarray) -> np.ndarray:
    """1.0 where x > 0 and 0.0 elsewhere, including exactly at 0 (the convention asked for)."""
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    return (x > 0).astype(dtype)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) element-wise, without overflow for large |x|."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))  # never overflows; exp(x) for x < 0 is the same number
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def d_sigmoid(x: np.ndarray) -> np.ndarray:
    """The derivative of sigmoid at x (the pre-activation S, not the activation A)."""
    s = sigmoid(x)
    return s * (1.0 - s)


def softmax(s: np.ndarray) -> np.ndarray:
    """Softmax of each column, shifted by the column's maximum so exp never overflows."""
    s = np.asarray(s, dtype=float)
    e = np.exp(s - s.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def tanh(x: np.ndarray) -> np.ndarray:
    """The hyperbolic tangent element-wise (NumPy's, which never overflows)."""
    return np.tanh(np.asarray(x, dtype=float))


def d_tanh(x: np.ndarray) -> np.ndarray:
    """The derivative of tanh at x: 1 - tanh(x)**2."""
    return 1.0 - np.tanh(np.asarray(x, dtype=float)) ** 2


def derivative(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray, eps: float = 1e-6) -> Any:
    """The centred difference (f(z + eps) - f(z - eps)) / (2 eps), as seed 002 writes it."""
    return (f(z + eps) - f(z - eps)) / (2 * eps)
