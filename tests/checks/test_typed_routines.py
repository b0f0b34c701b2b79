"""The typed torch routines of grader.checks, in process on plain definitions (no kernel):
each reply of grader/_kernel/nngrade_torch.py read into its dataclass, and a failing call
failing the check with the same message as the CallResult."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from grader.checks import (
    CallFailed,
    CheckFailure,
    LayerCall,
    Notebook,
    evaluate_model,
    fit_model,
    trace_model,
    train_epoch,
    train_steps,
)
from grader.checks.notebook import in_process_notebook


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x.view(-1, 4))))


class Broken(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError("no forward yet")


def train(model: nn.Module, loader: Any, optimizer: Any) -> float:
    losses = []
    for data, target in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def evaluate(model: nn.Module, loader: Any) -> tuple[float, float]:
    model.eval()
    with torch.no_grad():
        for data, _ in loader:
            model(data)
    return 0.5, 50.0


def bce(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy(y_hat, y)


def bce_as_float(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    return nn.functional.binary_cross_entropy(y_hat, y).item()


@pytest.fixture
def notebook() -> Notebook:
    nb = in_process_notebook(
        Tiny=Tiny, Broken=Broken, train=train, evaluate=evaluate, bce=bce, bce_as_float=bce_as_float
    )
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 1), nn.Sigmoid())
    nb._transport.namespace["net"] = net  # type: ignore[attr-defined]
    return nb


def data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def test_trace_model_lists_the_layer_calls_with_the_linear_weights(notebook: Notebook) -> None:
    trace = trace_model(notebook, "Tiny", torch.rand(2, 4), seed=1, what="Tiny()")
    # torch.relu is a function, not a layer: only modules are seen.
    assert [call.name for call in trace.calls] == ["Linear(4, 8)", "Linear(8, 3)"]
    first, last = trace.linear[0], trace.linear[-1]
    assert first == trace.calls[0] and first.features == (4, 8)
    assert first.in_shape == (2, 4) and first.out_shape == (2, 8)
    assert first.weight is not None and tuple(first.weight.shape) == (8, 4)
    assert first.bias is not None and last.bias is None
    assert tuple(trace.output.shape) == (2, 3)


def test_trace_model_of_a_network_object(notebook: Notebook) -> None:
    trace = trace_model(notebook, "net", torch.rand(3, 4), seed=1, what="net")
    assert [call.name for call in trace.calls] == [
        "Linear(4, 6)",
        "ReLU",
        "Linear(6, 1)",
        "Sigmoid",
    ]
    relu = trace.calls[1]
    assert relu == LayerCall("ReLU", (3, 6), (3, 6))
    assert len(trace.linear) == 2


def test_a_failing_call_fails_the_check_with_the_call_results_message(notebook: Notebook) -> None:
    x = torch.rand(1, 4)
    for name in ("Missing", "Broken"):
        with pytest.raises(CallFailed) as failed:
            trace_model(notebook, name, x, seed=0, what=f"{name}()")
        call = notebook.run("torch.trace", name, x, seed=0, what=f"{name}()")
        assert isinstance(failed.value, CheckFailure) and failed.value.call.status == call.status
        assert str(failed.value) == call.message
    assert str(failed.value).startswith("Broken() raised an exception:\nValueError: no forward yet")
    assert failed.value.call.error is not None


def test_train_steps_with_a_trainable_loss_and_without(notebook: Notebook) -> None:
    x, y = data(40)
    target = (y > 0).float().reshape(-1, 1)
    run = train_steps(notebook, "net", "bce", x, target, x[:5], steps=5, lr=0.01, seed=3, what="t")
    assert run.trainable and len(run.losses) == 5 and run.losses[-1] < run.losses[0]
    assert run.returned_type is None and run.seconds is not None and run.seconds >= 0
    assert run.output_range is not None and 0 <= run.output_range[0] <= run.output_range[1] <= 1
    assert run.test_output is not None and tuple(run.test_output.shape) == (5, 1)
    flat = train_steps(
        notebook, "net", "bce_as_float", x, target, x, steps=5, lr=0.01, seed=3, what="t"
    )
    assert (flat.trainable, flat.returned_type, flat.losses) == (False, "float", ())
    assert flat.output_range is None and flat.test_output is None and flat.seconds is None


def test_train_epoch_reads_counts_losses_and_changes(notebook: Notebook) -> None:
    x, y = data(40)
    run = train_epoch(notebook, "Tiny", "train", x, y, batch_size=16, lr=0.1, seed=2, what="train")
    assert (run.batches, run.step_calls, run.zero_grad_calls) == (3, 3, 3)
    assert len(run.batch_losses) == 3 and run.returned == pytest.approx(sum(run.batch_losses) / 3)
    assert set(run.changed) == {"hidden.weight", "hidden.bias", "out.weight"}
    assert all(change > 0 for change in run.changed.values())
    assert run.loss_after < run.loss_before


def test_evaluate_model_reads_modes_and_outputs(notebook: Notebook) -> None:
    x, y = data(10)
    run = evaluate_model(notebook, "Tiny", "evaluate", x, y, batch_size=4, seed=0, what="e")
    assert run.returned == (0.5, 50.0)
    assert run.grad_enabled == (False, False, False) and run.training_after is False
    assert tuple(run.outputs.shape) == (10, 3)


def test_fit_model_returns_the_test_output(notebook: Notebook) -> None:
    x, y = data(40)
    run = fit_model(
        notebook, "Tiny", "train", x, y, x[:7], epochs=2, batch_size=16, lr=0.1, seed=1, what="f"
    )
    assert tuple(run.test_output.shape) == (7, 3) and run.seconds >= 0
