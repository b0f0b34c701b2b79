"""The three-layer MLP of the backprop assignment, column-major: one example per column.

Shapes: x (n_in, m), one-hot y_true (n_out, m), W1 (h1, n_in), b1 (h1, 1), W2 (h2, h1),
b2 (h2, 1), W3 (n_out, h2), b3 (n_out, 1). Sigmoid hidden layers, a softmax output and
the mean cross-entropy over the batch as the loss.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from itertools import pairwise

import numpy as np

from reference.activations import d_sigmoid, sigmoid, softmax

__all__ = [
    "CACHE",
    "GRADIENTS",
    "PARAMETERS",
    "backward_pass",
    "cross_entropy",
    "forward_pass",
    "init_params",
    "loss",
]

PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")
GRADIENTS = tuple(f"d{name}" for name in PARAMETERS)
CACHE = ("S1", "A1", "S2", "A2", "S3", "A3")


def cross_entropy(a3: np.ndarray, y_true: np.ndarray) -> float:
    """Mean over the batch (columns) of -sum(y_true * log(a3))."""
    with np.errstate(divide="ignore"):  # log(0) where y_true is 0 is multiplied away below
        logs = np.where(y_true > 0, np.log(a3), 0.0)
    return float(-np.sum(y_true * logs) / a3.shape[1])


def init_params(
    sizes: tuple[int, int, int, int], rng: np.random.Generator, *, scale: float = 1.0
) -> dict[str, np.ndarray]:
    """Random W1..b3 for layer sizes (n_in, h1, h2, n_out); biases nonzero so db shows."""
    params = {}
    for layer, (fan_in, fan_out) in enumerate(pairwise(sizes), start=1):
        params[f"W{layer}"] = rng.standard_normal((fan_out, fan_in)) * scale / np.sqrt(fan_in)
        params[f"b{layer}"] = rng.standard_normal((fan_out, 1)) * 0.5
    return params


def forward_pass(x: np.ndarray, params: MutableMapping[str, np.ndarray]) -> np.ndarray:
    """Store S1, A1, S2, A2, S3, A3 in ``params`` (the assignment's convention); return A3."""
    params["S1"] = params["W1"] @ x + params["b1"]
    params["A1"] = sigmoid(params["S1"])
    params["S2"] = params["W2"] @ params["A1"] + params["b2"]
    params["A2"] = sigmoid(params["S2"])
    params["S3"] = params["W3"] @ params["A2"] + params["b3"]
    params["A3"] = softmax(params["S3"])
    return params["A3"]


def loss(x: np.ndarray, y_true: np.ndarray, params: Mapping[str, np.ndarray]) -> float:
    """The mean cross-entropy of the network on (x, y_true); ``params`` is left as it is."""
    return cross_entropy(forward_pass(x, dict(params)), y_true)


def backward_pass(
    x: np.ndarray, y_true: np.ndarray, params: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Gradients of ``loss`` for W1..b3, each the shape of its parameter.

    ``params`` must hold the forward cache (S1..A3) for this x; nothing is modified.
    """
    m = x.shape[1]
    ds3 = (params["A3"] - y_true) / m  # softmax and cross-entropy together; 1/m for the mean
    da2 = params["W3"].T @ ds3
    ds2 = da2 * d_sigmoid(params["S2"])
    da1 = params["W2"].T @ ds2
    ds1 = da1 * d_sigmoid(params["S1"])
    grads = {}
    for layer, (ds, a_in) in enumerate([(ds1, x), (ds2, params["A1"]), (ds3, params["A2"])], 1):
        grads[f"dW{layer}"] = ds @ a_in.T
        grads[f"db{layer}"] = ds.sum(axis=1, keepdims=True)
    return {name: grads[name] for name in GRADIENTS}
