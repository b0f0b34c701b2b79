"""Typed calls of the PyTorch routines that run in the student's kernel, and their results.

A model, a DataLoader or an optimizer cannot cross the boundary as data, so each function
here asks the kernel to build them around the student's class and functions, named by
string, and to run one scenario (grader/_kernel/nngrade_torch.py). The routine's reply
comes back as a frozen dataclass; a call that fails raises ``CallFailed`` with the same
explanation as ``CallResult.value`` would give.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grader._kernel.nngrade_protocol import Routine
from grader.checks.calls import CallFailed
from grader.checks.notebook import CallResult, Notebook

if TYPE_CHECKING:  # only for annotations: grader.checks must work without torch
    import torch

__all__ = [
    "Evaluation",
    "LayerCall",
    "ModelTrace",
    "TrainingEpoch",
    "TrainingRun",
    "TrainingSteps",
    "evaluate_model",
    "fit_model",
    "trace_model",
    "train_epoch",
    "train_steps",
]


@dataclass(frozen=True)
class LayerCall:
    """One call of a layer (a module without children of its own) during ``forward``.

    ``type`` is the layer's class name (``"Linear"``, ``"ReLU"``); ``in_shape`` and
    ``out_shape`` are the shapes of its first input and of its output (None when not a
    tensor). For an ``nn.Linear`` (or a subclass), ``features`` is (in_features,
    out_features) and ``weight`` and ``bias`` are its parameters at the call (``bias`` None
    without one), ``input`` and ``output`` what went in and came out; for other layers all
    five are None.
    """

    type: str
    in_shape: tuple[int, ...] | None
    out_shape: tuple[int, ...] | None
    features: tuple[int, int] | None = None
    weight: torch.Tensor | None = None
    bias: torch.Tensor | None = None
    input: torch.Tensor | None = None
    output: torch.Tensor | None = None

    @property
    def name(self) -> str:
        """``Linear(784, 64)`` for a linear layer, the class name for any other."""
        if self.features:
            return f"{self.type}({self.features[0]}, {self.features[1]})"
        return self.type


@dataclass(frozen=True)
class ModelTrace:
    """What ``trace_model`` saw: ``calls``, every layer the model called, in the order
    ``forward`` called them; ``output``, what ``forward`` returned (a tensor from a working
    model, anything else as it came)."""

    calls: tuple[LayerCall, ...]
    output: Any

    @property
    def linear(self) -> tuple[LayerCall, ...]:
        """The calls of ``nn.Linear`` layers (subclasses too), in order, with their weights."""
        return tuple(call for call in self.calls if call.features is not None)


@dataclass(frozen=True)
class TrainingSteps:
    """What ``train_steps`` saw.

    ``trainable`` is False when the loss function returned something ``loss.backward()``
    cannot run on: then ``returned_type`` is that value's type name and ``losses`` holds the
    losses before it, and the other fields are None. ``losses`` has the loss of every step,
    ending early at the first one that is not finite; ``output_range`` is (min, max) of the
    network's output at the last step; ``test_output`` is the trained network's output on
    ``x_test``; ``seconds`` is how long it took.
    """

    trainable: bool
    losses: tuple[float, ...]
    returned_type: str | None = None
    output_range: tuple[float, float] | None = None
    test_output: torch.Tensor | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class TrainingEpoch:
    """What ``train_epoch`` saw during one call of the student's ``train``.

    ``returned`` is what ``train`` returned. ``batches`` is how many batches it took from
    the loader, and ``batch_losses`` the cross-entropy of the model's output on each batch
    it ran the model on (computed by nngrade, whatever loss the student used).
    ``zero_grad_calls`` counts ``optimizer.zero_grad()`` and ``model.zero_grad()`` calls,
    ``step_calls`` ``optimizer.step()`` calls. ``loss_before`` and ``loss_after`` are the
    mean cross-entropy on all of (x, y), in eval mode, before and after. ``changed`` gives,
    for each entry of the model's ``state_dict``, the largest absolute change of an element.
    """

    returned: Any
    batch_losses: tuple[float, ...]
    batches: int
    zero_grad_calls: int
    step_calls: int
    loss_before: float
    loss_after: float
    changed: Mapping[str, float]


@dataclass(frozen=True)
class Evaluation:
    """What ``evaluate_model`` saw during one call of the student's ``evaluate``.

    ``returned`` is what ``evaluate`` returned; ``grad_enabled`` says, for each time it
    ran the model, whether gradients were enabled; ``training_after`` whether the model was
    still in training mode afterwards; ``outputs`` are the model's outputs on all of ``x``
    (eval mode, no gradients), from which the expected loss and accuracy follow.
    """

    returned: Any
    grad_enabled: tuple[bool, ...]
    training_after: bool
    outputs: torch.Tensor


@dataclass(frozen=True)
class TrainingRun:
    """What ``fit_model`` saw: ``test_output``, the trained model's output on ``x_test``
    (eval mode, no gradients), and ``seconds``, how long the epochs took."""

    test_output: torch.Tensor
    seconds: float


def trace_model(
    notebook: Notebook, model: str, x: torch.Tensor, *, seed: int, what: str
) -> ModelTrace:
    """Run a fresh copy of the student's model once on ``x``, without gradients, and list
    the layers it called: for checks of an architecture (``expect_layers``) and of
    ``forward`` against a reference computed from the weights it used.

    ``model`` names the student's ``nn.Module`` subclass (made with no arguments) or network
    object (copied, its parameters reset); either way the weights are drawn from ``seed``,
    never the ones the notebook trained. ``what`` names the student's code in messages.
    Raises ``CallFailed`` when the model cannot be made or ``forward`` raises.
    """
    reply = _reply(notebook.run(Routine.TRACE, model, x, seed=seed, what=what))
    linear: Iterator[dict[str, Any]] = iter(reply["linear"])
    calls = []
    for call in reply["calls"]:
        features = call.get("features")
        weights = next(linear) if features is not None else {}
        calls.append(
            LayerCall(
                type=str(call["type"]),
                in_shape=_shape(call["in_shape"]),
                out_shape=_shape(call["out_shape"]),
                features=None if features is None else (int(features[0]), int(features[1])),
                weight=weights.get("weight"),
                bias=weights.get("bias"),
                input=weights.get("input"),
                output=weights.get("output"),
            )
        )
    return ModelTrace(tuple(calls), reply["output"])


def train_steps(
    notebook: Notebook,
    model: str,
    loss: str,
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    *,
    steps: int,
    lr: float,
    seed: int,
    what: str,
) -> TrainingSteps:
    """Train a fresh copy of the student's network ``model`` (seeded as in ``trace_model``)
    with their loss function ``loss(output, y)``: ``steps`` full-batch Adam steps on
    (``x``, ``y``) with learning rate ``lr``, then its output on ``x_test``. For checks of a
    loss function by what training with it does.

    ``what`` names the run in messages. Raises ``CallFailed`` when a name is missing or the
    student's code raises.
    """
    reply = _reply(
        notebook.run(
            Routine.TRAIN_STEPS, model, loss, x, y, x_test, steps=steps, lr=lr, seed=seed, what=what
        )
    )
    losses = tuple(reply["losses"])
    if not reply["trainable"]:
        return TrainingSteps(False, losses, returned_type=str(reply["returned"]))
    low, high = reply["output_range"]
    return TrainingSteps(
        True,
        losses,
        output_range=(low, high),
        test_output=reply["test_output"],
        seconds=float(reply["seconds"]),
    )


def train_epoch(
    notebook: Notebook,
    model: str | Sequence[int],
    train: str,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    lr: float,
    seed: int,
    what: str,
) -> TrainingEpoch:
    """Call the student's ``train(model, loader, optimizer)`` once, watched: for checks of a
    training loop (zero_grad, backward, step, the loss it returns).

    The model is a fresh instance of the student's class ``model``, or a stand-in network
    when ``model`` is a list of layer sizes (weights drawn from ``seed`` either way), the
    loader a shuffled DataLoader over (``x``, ``y``) in batches of ``batch_size`` (shuffled
    from ``seed``), the optimizer plain SGD with learning rate ``lr``. ``what`` names the
    call in messages. Raises ``CallFailed`` when a name is missing or the student's code
    raises.
    """
    reply = _reply(
        notebook.run(
            Routine.TRAIN_EPOCH,
            _model(model),
            train,
            x,
            y,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            what=what,
        )
    )
    return TrainingEpoch(
        returned=reply["returned"],
        batch_losses=tuple(reply["batch_losses"]),
        batches=int(reply["batches"]),
        zero_grad_calls=int(reply["zero_grad_calls"]),
        step_calls=int(reply["step_calls"]),
        loss_before=float(reply["loss_before"]),
        loss_after=float(reply["loss_after"]),
        changed=dict(reply["changed"]),
    )


def evaluate_model(
    notebook: Notebook,
    model: str | Sequence[int],
    evaluate: str,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    seed: int,
    what: str,
) -> Evaluation:
    """Call the student's ``evaluate(model, loader)`` once on a fresh instance of their
    class ``model`` (weights drawn from ``seed``) left in training mode, with an unshuffled
    DataLoader over (``x``, ``y``) in batches of ``batch_size``: for checks of what it
    returns and of eval mode and ``torch.no_grad()``.

    ``what`` names the call in messages. Raises ``CallFailed`` when a name is missing or
    the student's code raises.
    """
    reply = _reply(
        notebook.run(
            Routine.EVALUATE,
            _model(model),
            evaluate,
            x,
            y,
            batch_size=batch_size,
            seed=seed,
            what=what,
        )
    )
    return Evaluation(
        returned=reply["returned"],
        grad_enabled=tuple(bool(enabled) for enabled in reply["grad_enabled"]),
        training_after=bool(reply["training_after"]),
        outputs=reply["outputs"],
    )


def fit_model(
    notebook: Notebook,
    model: str | Sequence[int],
    train: str,
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    what: str,
) -> TrainingRun:
    """Train a fresh instance of the student's class ``model`` for ``epochs`` calls of
    their ``train(model, loader, optimizer)``, set up as in ``train_epoch``, then run it on
    ``x_test``: for checks of what a short training run reaches (a held-out accuracy).

    ``what`` names the run in messages. Raises ``CallFailed`` when a name is missing or the
    student's code raises.
    """
    reply = _reply(
        notebook.run(
            Routine.FIT,
            _model(model),
            train,
            x,
            y,
            x_test,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            what=what,
        )
    )
    return TrainingRun(test_output=reply["test_output"], seconds=float(reply["seconds"]))


def _model(model: str | Sequence[int]) -> str | list[int]:
    """The name of the student's class, or the sizes of a stand-in network (``[784, 128,
    64, 10]``: Flatten, then Linear layers with ReLU between them) for checks of ``train``
    or ``evaluate`` that must not depend on the student's own network."""
    return model if isinstance(model, str) else [int(n) for n in model]


def _reply(call: CallResult) -> dict[str, Any]:
    """The routine's reply, or the check fails with the call's explanation."""
    if not call.ok:
        raise CallFailed(call)
    reply: dict[str, Any] = call.raw_value
    return reply


def _shape(value: list[int] | None) -> tuple[int, ...] | None:
    return None if value is None else tuple(int(n) for n in value)
