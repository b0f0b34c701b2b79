"""The reference MLP agrees with torch.autograd and with numerical gradients, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from grader.checks import compare_gradients, parameter_gradients
from reference.mlp import CACHE, GRADIENTS, PARAMETERS

# (n_in, h1, h2, n_out) and batch sizes, including m = 1 and layers of width 1.
CASES = [
    ((5, 6, 4, 3), 1),
    ((5, 6, 4, 3), 7),
    ((8, 5, 7, 4), 3),
    ((3, 2, 5, 2), 16),
    ((1, 1, 1, 2), 1),
]


def problem(sizes: tuple[int, int, int, int], m: int, seed: int = 0):
    rng = np.random.default_rng([seed, *sizes, m])
    params = reference.init_params(sizes, rng)
    x = rng.standard_normal((sizes[0], m))
    y_true = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], m)]
    return x, y_true, params


def torch_gradients(x: np.ndarray, y_true: np.ndarray, params: dict[str, np.ndarray]):
    """The loss and gradients of the same network, written in torch and run by autograd."""
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    a = torch.from_numpy(x)
    for layer in (1, 2):
        a = torch.sigmoid(t[f"W{layer}"] @ a + t[f"b{layer}"])
    logits = t["W3"] @ a + t["b3"]
    # Column-major: classes along dim 0, so cross_entropy gets the transpose.
    loss = torch.nn.functional.cross_entropy(logits.T, torch.from_numpy(y_true).T.argmax(1))
    loss.backward()
    return loss.item(), {f"d{k}": v.grad.numpy() for k, v in t.items() if v.grad is not None}


@pytest.mark.parametrize(("sizes", "m"), CASES)
def test_backward_pass_matches_autograd(sizes: tuple[int, int, int, int], m: int) -> None:
    x, y_true, params = problem(sizes, m)
    torch_loss, expected = torch_gradients(x, y_true, params)
    assert reference.loss(x, y_true, params) == pytest.approx(torch_loss, rel=1e-12)
    reference.forward_pass(x, params)
    grads = reference.backward_pass(x, y_true, params)
    assert list(grads) == list(GRADIENTS)
    for name in GRADIENTS:
        assert grads[name].shape == params[name[1:]].shape
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("sizes", "m"), CASES)
def test_backward_pass_matches_numerical_gradients(
    sizes: tuple[int, int, int, int], m: int
) -> None:
    x, y_true, params = problem(sizes, m, seed=1)
    numerical = parameter_gradients(lambda p: reference.loss(x, y_true, p), params, PARAMETERS)
    reference.forward_pass(x, params)
    grads = reference.backward_pass(x, y_true, params)
    for name in PARAMETERS:
        result = compare_gradients(grads[f"d{name}"], numerical[name])
        assert result.passed, (name, result)


def test_forward_pass_stores_the_cache_and_returns_a3() -> None:
    x, y_true, params = problem((5, 6, 4, 3), 7)
    weights = dict(params)
    a3 = reference.forward_pass(x, params)
    assert set(params) == set(PARAMETERS) | set(CACHE)
    assert a3 is params["A3"] and a3.shape == (3, 7)
    np.testing.assert_allclose(a3.sum(axis=0), 1.0)
    assert all(params[k] is weights[k] for k in PARAMETERS)  # weights are not replaced


def test_backward_pass_leaves_its_arguments_alone() -> None:
    x, y_true, params = problem((5, 6, 4, 3), 7)
    reference.forward_pass(x, params)
    before = {k: v.copy() for k, v in {**params, "x": x, "y_true": y_true}.items()}
    reference.backward_pass(x, y_true, params)
    for key, value in {**params, "x": x, "y_true": y_true}.items():
        np.testing.assert_array_equal(value, before[key])
    assert set(params) == set(PARAMETERS) | set(CACHE)


def test_sigmoid_and_its_derivative_match_torch_without_overflow() -> None:
    x = np.array([-1000.0, -40.0, -1.5, 0.0, 2.0, 40.0, 1000.0])
    t = torch.tensor(x, requires_grad=True)
    torch.sigmoid(t).sum().backward()
    assert t.grad is not None
    # Warnings are errors in this suite: an overflow in np.exp would fail the test.
    np.testing.assert_allclose(reference.sigmoid(x), torch.sigmoid(t).detach().numpy())
    np.testing.assert_allclose(reference.d_sigmoid(x), t.grad.numpy(), atol=1e-300)


def test_softmax_is_per_column_and_stable() -> None:
    s = np.array([[1.0, 1000.0, -5.0], [2.0, 1001.0, -5.0], [3.0, 999.0, -1000.0]])
    expected = torch.softmax(torch.from_numpy(s), dim=0).numpy()
    np.testing.assert_allclose(reference.softmax(s), expected, rtol=1e-12)
    assert np.all(np.isfinite(reference.softmax(s)))


def test_cross_entropy_of_a_certain_prediction() -> None:
    y_true = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert reference.cross_entropy(np.array([[1.0, 0.0], [0.0, 1.0]]), y_true) == 0.0
    # A zero probability on a wrong class is harmless; on the right class the loss is inf.
    assert reference.cross_entropy(np.array([[0.0, 0.0], [1.0, 1.0]]), y_true) == np.inf
