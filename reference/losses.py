"""Losses and accuracy of classifiers, in plain NumPy."""

from __future__ import annotations

import numpy as np

__all__ = ["LOG_CLAMP", "accuracy", "bce", "softmax_cross_entropy"]

# torch.nn.BCELoss clamps each log term at -100, so saturated outputs give a finite loss.
LOG_CLAMP = -100.0


def bce(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of predictions ``y_hat`` in [0, 1] for labels ``y``."""
    y_hat = np.asarray(y_hat, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
        log_p = np.maximum(np.log(y_hat), LOG_CLAMP)
        log_q = np.maximum(np.log1p(-y_hat), LOG_CLAMP)
    return float(np.mean(-(y * log_p + (1 - y) * log_q)))


def accuracy(y_hat: np.ndarray, y: np.ndarray) -> float:
    """The fraction of predictions with (y_hat > 0.5) equal to the label ``y``."""
    predicted = np.asarray(y_hat) > 0.5
    return float(np.mean(predicted == (np.asarray(y) > 0.5)))


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of class scores (n, k) for integer labels (n,), as
    torch.nn.CrossEntropyLoss computes it: softmax of the scores, then -log of the label's."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp cannot overflow
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_softmax[np.arange(len(logits)), np.asarray(labels)]))
