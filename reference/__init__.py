"""Reference implementations the checks compare students' answers with (grader side only)."""

from reference.activations import d_relu, d_tanh, derivative, relu, tanh
from reference.losses import accuracy, bce, softmax_cross_entropy
from reference.mlp import (
    backward_pass,
    cross_entropy,
    d_sigmoid,
    forward_pass,
    init_params,
    loss,
    sigmoid,
    softmax,
)
from reference.networks import linear_relu_stack

__all__ = [
    "accuracy",
    "backward_pass",
    "bce",
    "cross_entropy",
    "d_relu",
    "d_sigmoid",
    "d_tanh",
    "derivative",
    "forward_pass",
    "init_params",
    "linear_relu_stack",
    "loss",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "tanh",
]
