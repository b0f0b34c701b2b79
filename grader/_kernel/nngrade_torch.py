"""Kernel half of the PyTorch checks: scenarios around a student's model, run in the kernel.

A model, a DataLoader or an optimizer cannot cross the boundary as data, so a check asks
for one of these routines by name with data arguments (tensors, numbers, the names of the
student's class and functions). The routine builds the objects here, runs the student's
code, watches it through hooks, and returns plain data (losses, outputs, counts) for the
grader to judge. Routines decide nothing and hold no expected values.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional
from torch.utils.data import DataLoader, TensorDataset

try:  # as grader._kernel.nngrade_torch in the in-process fake bridge
    from .nngrade_autograd import apply_function, call_with_function
    from .nngrade_lookup import Unusable, student_object
    from .nngrade_protocol import Routine
except ImportError:  # as a top-level module inside the kernel
    from nngrade_autograd import apply_function, call_with_function  # type: ignore[no-redef]
    from nngrade_lookup import Unusable, student_object  # type: ignore[no-redef]
    from nngrade_protocol import Routine  # type: ignore[no-redef]

__all__ = ["ROUTINES"]


def trace(namespace: dict[str, Any], name: str, x: torch.Tensor, seed: int) -> dict[str, Any]:
    """Run a fresh model on ``x`` and list the layers it called, in the order it called them."""
    model = _fresh_model(namespace, name, seed)
    calls: list[dict[str, Any]] = []
    linear: list[dict[str, Any]] = []

    def record(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        call = {
            "type": type(module).__name__,
            "in_shape": _shape(inputs[0] if inputs else None),
            "out_shape": _shape(output),
        }
        if isinstance(module, nn.Linear):
            call["features"] = [module.in_features, module.out_features]
            bias = None if module.bias is None else module.bias.detach().clone()
            # What went in and came out, cloned now: an in-place activation after the layer
            # would change them, and checks compare them to see what runs between layers.
            linear.append(
                {
                    "weight": module.weight.detach().clone(),
                    "bias": bias,
                    "input": _snapshot(inputs[0] if inputs else None),
                    "output": _snapshot(output),
                }
            )
        calls.append(call)

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(record) for m in leaves]
    with torch.no_grad():
        output = model(x)
    for handle in handles:
        handle.remove()
    return {"calls": calls, "linear": linear, "output": _detached(output)}


def train_steps(
    namespace: dict[str, Any],
    net_name: str,
    loss_name: str,
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    *,
    steps: int,
    lr: float,
    seed: int,
) -> dict[str, Any]:
    """Full-batch Adam steps on a fresh copy of the student's network with their loss."""
    model = _fresh_model(namespace, net_name, seed)
    loss_fn = _function(namespace, loss_name)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses: list[float] = []
    started = time.perf_counter()
    output_range = [0.0, 0.0]
    for _ in range(steps):
        output = model(x)
        output_range = [output.min().item(), output.max().item()]
        loss = loss_fn(output, y)
        if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
            return {"trainable": False, "returned": type(loss).__name__, "losses": losses}
        losses.append(loss.item())
        if not torch.isfinite(loss):
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        test_output = model(x_test)
    seconds = time.perf_counter() - started
    return {
        "trainable": True,
        "losses": losses,
        "output_range": output_range,
        "test_output": test_output,
        "seconds": seconds,
    }


def train_epoch(
    namespace: dict[str, Any],
    class_name: str | list[int],
    train_name: str,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    lr: float,
    seed: int,
) -> dict[str, Any]:
    """One call of the student's ``train(model, loader, optimizer)``, watched."""
    model, train, loader, optimizer = _training(
        namespace, class_name, train_name, x, y, batch_size, lr, seed
    )
    calls = {"zero_grad": 0, "step": 0}
    _count_calls(optimizer, "zero_grad", calls)
    _count_calls(model, "zero_grad", calls)
    _count_calls(optimizer, "step", calls)
    before = {key: value.detach().clone() for key, value in model.state_dict().items()}
    loss_before = _mean_loss(model, x, y)
    handle = model.register_forward_hook(loader.record_loss)
    returned = train(model, loader, optimizer)
    handle.remove()
    changed = {
        key: float((value.detach() - before[key]).abs().max()) if value.numel() else 0.0
        for key, value in model.state_dict().items()
    }
    return {
        "returned": _detached(returned),
        "batch_losses": loader.losses,
        "batches": loader.batches,
        "zero_grad_calls": calls["zero_grad"],
        "step_calls": calls["step"],
        "loss_before": loss_before,
        "loss_after": _mean_loss(model, x, y),
        "changed": changed,
    }


def evaluate(
    namespace: dict[str, Any],
    class_name: str | list[int],
    evaluate_name: str,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    seed: int,
) -> dict[str, Any]:
    """One call of the student's ``evaluate(model, loader)`` on a model left in train mode."""
    model = _fresh_model(namespace, class_name, seed)
    evaluate_fn = _function(namespace, evaluate_name)
    model.train()
    grad_enabled: list[bool] = []
    handle = model.register_forward_hook(lambda *_: grad_enabled.append(torch.is_grad_enabled()))
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    returned = evaluate_fn(model, loader)
    handle.remove()
    training_after = model.training
    model.eval()
    with torch.no_grad():
        outputs = model(x)
    return {
        "returned": _detached(returned),
        "grad_enabled": grad_enabled,
        "training_after": training_after,
        "outputs": outputs,
    }


def fit(
    namespace: dict[str, Any],
    class_name: str | list[int],
    train_name: str,
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> dict[str, Any]:
    """A short training run with the student's class and ``train``; outputs on ``x_test``."""
    model, train, loader, optimizer = _training(
        namespace, class_name, train_name, x, y, batch_size, lr, seed
    )
    started = time.perf_counter()
    for _ in range(epochs):
        train(model, loader, optimizer)
    model.eval()
    with torch.no_grad():
        test_output = model(x_test)
    return {"test_output": test_output, "seconds": time.perf_counter() - started}


def _fresh_model(namespace: dict[str, Any], name: str | list[int], seed: int) -> nn.Module:
    """A new instance of the student's class, or a re-initialised copy of their network,
    with weights drawn from ``seed``: never the object the notebook trained.

    A list of sizes instead of a name asks for a stand-in (Flatten, then Linear layers of
    those sizes with ReLU between them), so that a check can judge a student's ``train``
    or ``evaluate`` whatever their own network does."""
    torch.manual_seed(seed)
    if isinstance(name, list):
        layers: list[nn.Module] = [nn.Flatten()]
        for n_in, n_out in zip(name, name[1:], strict=False):
            layers += [nn.Linear(int(n_in), int(n_out)), nn.ReLU()]
        return nn.Sequential(*layers[:-1])
    found = student_object(namespace, name)
    if isinstance(found, type) and issubclass(found, nn.Module):
        model = found()
    elif isinstance(found, nn.Module):
        model = copy.deepcopy(found)
        for module in model.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
    else:
        kind = "None" if found is None else f"a {type(found).__name__}"
        raise Unusable(f"`{name}` is {kind}; expected a torch.nn.Module (or a subclass of it)")
    return model


def _training(
    namespace: dict[str, Any],
    class_name: str | list[int],
    train_name: str,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    lr: float,
    seed: int,
) -> tuple[nn.Module, Callable[..., Any], _WatchedLoader, torch.optim.SGD]:
    """A fresh model, the student's ``train``, a seeded loader and plain SGD."""
    model = _fresh_model(namespace, class_name, seed)
    train = _function(namespace, train_name)
    loader = _WatchedLoader(x, y, batch_size, seed)
    return model, train, loader, torch.optim.SGD(model.parameters(), lr=lr)


def _function(namespace: dict[str, Any], name: str) -> Callable[..., Any]:
    found = student_object(namespace, name)
    if not callable(found):
        raise Unusable(f"`{name}` is {type(found).__name__}, not a function")
    return found


class _WatchedLoader:
    """A shuffled, seeded DataLoader that remembers each batch's targets, so a forward
    hook can compute the loss the student's code should be seeing."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.dataset = TensorDataset(x, y)
        self._loader = DataLoader(
            self.dataset, batch_size=batch_size, shuffle=True, generator=generator
        )
        self._target: torch.Tensor | None = None
        self.losses: list[float] = []
        self.batches = 0

    def __iter__(self) -> Iterator[Any]:
        for data, target in self._loader:
            self._target = target
            self.batches += 1
            yield data, target

    def __len__(self) -> int:
        return len(self._loader)

    def record_loss(self, _module: nn.Module, _inputs: Any, output: Any) -> None:
        target = self._target
        if isinstance(output, torch.Tensor) and target is not None and len(output) == len(target):
            with torch.no_grad():
                self.losses.append(float(functional.cross_entropy(output, target)))


def _count_calls(owner: Any, method: str, counts: dict[str, int]) -> None:
    original: Callable[..., Any] = getattr(owner, method)

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[method] += 1
        return original(*args, **kwargs)

    setattr(owner, method, counted)


def _mean_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    mode = model.training
    model.eval()
    with torch.no_grad():
        loss = float(functional.cross_entropy(model(x), y))
    model.train(mode)
    return loss


def _shape(value: Any) -> list[int] | None:
    return list(value.shape) if isinstance(value, torch.Tensor) else None


def _snapshot(value: Any) -> torch.Tensor | None:
    """A copy of a tensor as it is now (None for anything else)."""
    return value.detach().clone() if isinstance(value, torch.Tensor) else None


def _detached(value: Any) -> Any:
    """Tensors as plain data (no graph); tuples and lists of them too."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, tuple | list):
        return type(value)(_detached(item) for item in value)
    return value


ROUTINES: dict[Routine, Callable[..., Any]] = {
    Routine.TRACE: trace,
    Routine.TRAIN_STEPS: train_steps,
    Routine.TRAIN_EPOCH: train_epoch,
    Routine.EVALUATE: evaluate,
    Routine.FIT: fit,
    Routine.AUTOGRAD_FUNCTION: apply_function,
    Routine.CALL_WITH_FUNCTION: call_with_function,
}
