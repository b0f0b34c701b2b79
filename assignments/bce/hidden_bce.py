"""Hidden checks for the BCE assignment, run only when grading: the bundled digits and the
reference solution's accuracy.

1 point. The network is trained as in the visible training check, but on the real 0s
and 1s, and judged by its accuracy on held-out digits. A run that cannot train at all has
been explained (and cost a point) in the visible check; it is not judged here (0 points).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from grader.checks import CheckFailure, Notebook, NotJudged, describe, train_steps
from reference import digits

TRAINING_STEPS = 100
LEARNING_RATE = 0.002
TARGET_ACCURACY = 0.95


@pytest.mark.points(1)
@pytest.mark.time_limit(60)
def test_training_tells_digits_apart(notebook: Notebook, rng: np.random.Generator) -> None:
    """a fresh copy of net trained with bce_loss tells 0s from 1s"""
    data = digits.load().binary(0, 1)
    x, x_test = (
        torch.tensor(a.reshape(len(a), -1) / 255, dtype=torch.float32)
        for a in (data.x_train, data.x_test)
    )
    y = torch.tensor(data.y_train, dtype=torch.float32).reshape(-1, 1)
    what = f"training a copy of net with bce_loss ({TRAINING_STEPS} Adam steps, lr {LEARNING_RATE})"
    run = train_steps(
        notebook,
        "net",
        "bce_loss",
        x,
        y,
        x_test,
        steps=TRAINING_STEPS,
        lr=LEARNING_RATE,
        seed=int(rng.integers(2**31)),
        what=what,
    )
    losses = run.losses
    if not run.trainable or not np.isfinite(losses[-1]):
        low, high = run.output_range or (0.0, 1.0)
        raise NotJudged(
            f"{what} does not run to the end (see the check of training with bce_loss), so "
            "there is no accuracy to judge",
            # Outputs outside [0, 1]: the visible architecture check's cause, charged there.
            cause="net's architecture" if low < 0 or high > 1 else None,
        )
    output = run.test_output
    if not isinstance(output, torch.Tensor) or output.numel() != len(data.y_test):
        raise CheckFailure(
            f"After {what}, net returned {describe(output)} for the {len(data.y_test)} "
            f"held-out digits; expected one probability per digit, shape ({len(data.y_test)}, 1)."
        )
    accuracy = reference.accuracy(output.numpy().ravel(), data.y_test)
    if accuracy < TARGET_ACCURACY:
        raise CheckFailure(
            f"After {what}, the network classifies {accuracy:.1%} of the held-out digits "
            f"correctly; expected at least {TARGET_ACCURACY:.0%}. The loss went from "
            f"{losses[0]:.4g} to {losses[-1]:.4g}: check that bce_loss decreases as the "
            "predictions get better (its sign) and that it is a mean."
        )
