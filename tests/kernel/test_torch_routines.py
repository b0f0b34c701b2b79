"""The kernel-side PyTorch routines, run in process on plain definitions (no kernel)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from grader.checks.notebook import Notebook, in_process_notebook


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x.view(-1, 4))))


def train(model: nn.Module, loader: Any, optimizer: Any) -> float:
    losses = []
    for data, target in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def train_without_step(model: nn.Module, loader: Any, optimizer: Any) -> float:
    for data, target in loader:
        nn.functional.cross_entropy(model(data), target).backward()
    return 0.0


def evaluate(model: nn.Module, loader: Any) -> tuple[float, float]:
    model.eval()
    with torch.no_grad():
        for data, _ in loader:
            model(data)
    return 0.0, 0.0


def bce(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy(y_hat, y)


@pytest.fixture
def notebook() -> Notebook:
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 1), nn.Sigmoid())
    nb = in_process_notebook(
        Tiny=Tiny, train=train, train_without_step=train_without_step, evaluate=evaluate, bce=bce
    )
    nb._transport.namespace.update(net=net, not_a_model=42)  # type: ignore[attr-defined]
    return nb


def data(n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=generator)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def test_trace_lists_layers_in_call_order_with_weights(notebook: Notebook) -> None:
    trace = notebook.run("torch.trace", "net", torch.rand(2, 4), seed=1, what="net").value
    assert [c["type"] for c in trace["calls"]] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    assert trace["calls"][0]["features"] == [4, 6] and trace["calls"][2]["out_shape"] == [2, 1]
    assert [tuple(layer["weight"].shape) for layer in trace["linear"]] == [(6, 4), (1, 6)]


def test_fresh_models_depend_on_the_seed_only(notebook: Notebook) -> None:
    def weights(seed: int) -> torch.Tensor:
        trace = notebook.run("torch.trace", "Tiny", torch.rand(1, 4), seed=seed, what="Tiny")
        return trace.value["linear"][0]["weight"]

    assert torch.equal(weights(3), weights(3)) and not torch.equal(weights(3), weights(4))


def test_train_steps_is_reproducible_and_leaves_the_students_net_alone(
    notebook: Notebook,
) -> None:
    x, y = data()
    target = (y > 0).float().reshape(-1, 1)
    original = notebook._transport.namespace["net"][0].weight.detach().clone()  # type: ignore[attr-defined]

    def run(seed: int) -> list[float]:
        call = notebook.run(
            "torch.train_steps", "net", "bce", x, target, x, steps=5, lr=0.01, seed=seed, what="t"
        )
        return call.value["losses"]

    assert run(7) == run(7) != run(8)
    assert len(run(7)) == 5 and run(7)[-1] < run(7)[0]
    assert torch.equal(notebook._transport.namespace["net"][0].weight, original)  # type: ignore[attr-defined]


def test_train_epoch_counts_batches_steps_and_zero_grads(notebook: Notebook) -> None:
    x, y = data(40)
    run = notebook.run(
        "torch.train_epoch", "Tiny", "train", x, y, batch_size=16, lr=0.1, seed=2, what="train"
    ).value
    assert (run["batches"], run["step_calls"], run["zero_grad_calls"]) == (3, 3, 3)
    assert len(run["batch_losses"]) == 3
    assert run["returned"] == pytest.approx(sum(run["batch_losses"]) / 3)
    assert all(change > 0 for change in run["changed"].values())


def test_train_epoch_sees_a_missing_step(notebook: Notebook) -> None:
    x, y = data(40)
    run = notebook.run(
        "torch.train_epoch",
        "Tiny",
        "train_without_step",
        x,
        y,
        batch_size=16,
        lr=0.1,
        seed=2,
        what="train",
    ).value
    assert run["step_calls"] == 0 and run["zero_grad_calls"] == 0
    assert set(run["changed"].values()) == {0.0}
    assert run["loss_after"] == run["loss_before"]


def test_evaluate_records_mode_and_gradients(notebook: Notebook) -> None:
    x, y = data(10)
    run = notebook.run(
        "torch.evaluate", "Tiny", "evaluate", x, y, batch_size=4, seed=0, what="evaluate"
    ).value
    assert run["grad_enabled"] == [False, False, False] and run["training_after"] is False
    assert tuple(run["outputs"].shape) == (10, 3)


def test_missing_and_unusable_names_are_explained(notebook: Notebook) -> None:
    missing = notebook.run("torch.trace", "Net", torch.rand(1, 4), seed=0, what="Net()")
    assert missing.status == "missing"
    assert missing.message.startswith("Your notebook does not define `Net`.")
    unusable = notebook.run("torch.trace", "not_a_model", torch.rand(1, 4), seed=0, what="m")
    assert unusable.status == "unusable"
    assert unusable.message == (
        "m could not be run: `not_a_model` is a int; expected a torch.nn.Module "
        "(or a subclass of it)."
    )


def test_unknown_routines_are_refused(notebook: Notebook) -> None:
    call = notebook.run("os.system", "ls", what="x")
    assert call.status == "bridge_error" and "unknown routine" in call.message
