"""Layer classes' forward and backward passes ("Deep Learning from Scratch" style), row-major.

One example per row: x (N, D) (or (N, C, H, W), flattened by the Affine layer), W (D, H),
b (H,). Each backward takes the forward's input and the upstream gradient ``dout`` and
returns the gradients; nothing is cached, so a reference cannot depend on call order.
``three_layer_*`` is Affine → ReLU → Affine → ReLU → Affine → softmax with the mean
cross-entropy, with parameters W1, b1, W2, b2, W3, b3 as the book's networks name them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from reference.activations import sigmoid

__all__ = [
    "NET_PARAMETERS",
    "affine_backward",
    "affine_forward",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_rows",
    "softmax_with_loss",
    "softmax_with_loss_backward",
    "three_layer_gradients",
    "three_layer_loss",
    "three_layer_scores",
]

NET_PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")


def relu_forward(x: np.ndarray) -> np.ndarray:
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def relu_backward(x: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """dout where x > 0, else 0 (at exactly 0 too: the book's mask is x <= 0)."""
    return np.where(np.asarray(x) > 0, dout, 0.0)


def sigmoid_forward(x: np.ndarray) -> np.ndarray:
    return sigmoid(x)


def sigmoid_backward(x: np.ndarray, dout: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return dout * s * (1.0 - s)


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), -1) @ W + b


def affine_backward(
    x: np.ndarray, W: np.ndarray, dout: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx in x's shape, dW, db)."""
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(len(x), -1)
    return (dout @ W.T).reshape(x.shape), flat.T @ dout, dout.sum(axis=0)


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """Softmax of each row, shifted by the row's maximum so exp never overflows."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _one_hot(t: np.ndarray, k: int) -> np.ndarray:
    t = np.asarray(t)
    return t.astype(np.float64) if t.ndim == 2 else np.eye(k)[t.astype(np.int64)]


def softmax_with_loss(x: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy over the batch of softmax(x); ``t`` one-hot (N, K) or labels (N,)."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.sum(_one_hot(t, x.shape[1]) * log_p) / len(x))


def softmax_with_loss_backward(x: np.ndarray, t: np.ndarray, dout: float = 1.0) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return dout * (softmax_rows(x) - _one_hot(t, x.shape[1])) / len(x)


def three_layer_loss(x: np.ndarray, t: np.ndarray, params: Mapping[str, np.ndarray]) -> float:
    return softmax_with_loss(_forward(x, params)[1][-1], t)


def three_layer_gradients(
    x: np.ndarray, t: np.ndarray, params: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Gradients of ``three_layer_loss`` for W1..b3, each the shape of its parameter."""
    inputs, scores = _forward(x, params)
    grads: dict[str, np.ndarray] = {}
    dout = softmax_with_loss_backward(scores[-1], t)
    for layer in (3, 2, 1):
        W = params[f"W{layer}"]
        dout, grads[f"W{layer}"], grads[f"b{layer}"] = affine_backward(inputs[layer - 1], W, dout)
        if layer > 1:  # back through the ReLU between this layer and the one below
            dout = relu_backward(scores[layer - 2], dout)
    return {name: grads[name] for name in NET_PARAMETERS}


def three_layer_scores(x: np.ndarray, params: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Each Affine layer's output (the two hidden pre-activations, then the class scores)."""
    return _forward(x, params)[1]


def _forward(
    x: np.ndarray, params: Mapping[str, np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(the input of each Affine layer, the output of each Affine layer)."""
    a = np.asarray(x, dtype=np.float64)
    inputs, scores = [a.reshape(len(a), -1)], []
    for layer in (1, 2, 3):
        scores.append(affine_forward(inputs[-1], params[f"W{layer}"], params[f"b{layer}"]))
        if layer < 3:
            inputs.append(relu_forward(scores[-1]))
    return inputs, scores
