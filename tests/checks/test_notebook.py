"""Calls through the kernel helper's request handling, in process (no kernel needed), and
what a check reads for every way a call can end."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader import CheckFailure
from grader._kernel import nngrade_kernel
from grader._kernel.nngrade_protocol import Frame, ProtocolError, RaisedError, Reply, Status
from grader.checks.notebook import Notebook, in_process_notebook
from grader.runner.transport import InProcessTransport


def mutate(x: np.ndarray) -> np.ndarray:
    x[0] = 99.0
    return x


def chatty(x: float) -> float:
    print("computing", x)
    return x * 2


def broken(x: float) -> float:
    return undefined_name + x  # type: ignore[name-defined]  # noqa: F821


def test_value_and_student_parameter_names() -> None:
    call = in_process_notebook(relu=lambda z: np.maximum(z, 0)).call("relu", np.array([-1.0, 2]))
    assert call.ok and call.what == "relu(z)" and call.argument_name(0) == "z"
    np.testing.assert_array_equal(call.value, [0.0, 2.0])
    assert not call.args_changed and call.duration >= 0


def test_arguments_modified_in_place_come_back() -> None:
    x = np.array([1.0, 2.0])
    call = in_process_notebook(mutate=mutate).call("mutate", x)
    assert call.args_changed and call.args[0][0] == 99.0


def test_stdout_is_captured() -> None:
    call = in_process_notebook(chatty=chatty).call("chatty", 2.0)
    assert call.value == 4.0 and call.stdout == "computing 2.0\n"


def test_student_exception_fails_the_check_with_the_error() -> None:
    call = in_process_notebook(broken=broken).call("broken", 1.0)
    assert call.status == "raised" and call.error is not None
    assert call.error.ename == "NameError"
    with pytest.raises(CheckFailure, match="broken\\(x\\) raised an exception:\nNameError"):
        _ = call.value


def test_missing_function_suggests_near_misses() -> None:
    notebook = in_process_notebook(ReLU=lambda x: x, d_relu=lambda x: x)
    call = notebook.call("relu", 1.0)
    assert call.status == "missing" and "Did you mean `ReLU`" in call.message
    assert notebook.names() == ["ReLU", "d_relu"]


def test_unencodable_return_value_is_explained() -> None:
    call = in_process_notebook(make=lambda: {1, 2}).call("make")
    assert call.status == "unencodable" and "cannot read" in call.message


class ScriptedTransport:
    """Answers every request with one decoded reply, as a transport does."""

    generation = 1

    def __init__(self, reply: Reply) -> None:
        self.reply = reply

    def request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[Reply, list[bytes]]:
        return self.reply, []

    def describe_cell(self, execution_count: int | None) -> str | None:
        return None if execution_count is None else f"cell {execution_count}"


FRAME = Frame(2, "<cell>", 3, "relu", "    return np.maximum(x, 0) / zero\n")
# What the student reads for each status a call can end with: every Status has its own words.
EXPLANATIONS: dict[Status, tuple[Reply, str]] = {
    Status.OK: (Reply(Status.OK, value=1.0, params=("x",)), ""),
    Status.MISSING: (
        Reply(Status.MISSING, missing="relu", names=("ReLU", "sigmoid")),
        "Your notebook does not define a function named `relu`. Did you mean `ReLU`? "
        "The checks look for the exact name `relu`.",
    ),
    Status.RAISED: (
        Reply(
            Status.RAISED,
            params=("x",),
            error=RaisedError("ZeroDivisionError", "division by zero", (FRAME,)),
        ),
        "relu(x) raised an exception:\nZeroDivisionError: division by zero\n"
        "  cell 2, line 3, in relu: return np.maximum(x, 0) / zero",
    ),
    Status.UNUSABLE: (
        Reply(Status.UNUSABLE, message="`relu` is a int; expected a torch.nn.Module"),
        "relu(...) could not be run: `relu` is a int; expected a torch.nn.Module.",
    ),
    Status.UNENCODABLE: (
        Reply(Status.UNENCODABLE, params=("x",), message="a set cannot be sent as data"),
        "relu(x) returned something nngrade cannot read: a set cannot be sent as data.",
    ),
    Status.INTERRUPTED: (
        Reply(Status.INTERRUPTED),
        "relu(...) was interrupted before it finished.",
    ),
    Status.STALE: (
        Reply(Status.STALE, message="no object with id 3"),
        "relu(...) uses an object that no longer exists (the kernel restarted).",
    ),
    Status.BRIDGE_ERROR: (
        Reply(Status.BRIDGE_ERROR, message="KeyError: 'name'"),
        "nngrade could not call relu(...): KeyError: 'name'",
    ),
    Status.TIMEOUT: (
        Reply(Status.TIMEOUT),
        "relu(...) did not finish within 2 s and was stopped.",
    ),
    Status.KERNEL_DIED: (
        Reply(Status.KERNEL_DIED, reason="the kernel crashed (SIGSEGV)"),
        "The kernel died while running relu(...): the kernel crashed (SIGSEGV).",
    ),
}


def test_every_status_has_its_own_explanation() -> None:
    assert set(EXPLANATIONS) == set(Status)
    messages = [message for _, message in EXPLANATIONS.values()]
    assert len(set(messages)) == len(messages)


@pytest.mark.parametrize("status", list(Status))
def test_each_status_is_explained(status: Status) -> None:
    reply, message = EXPLANATIONS[status]
    call = Notebook(ScriptedTransport(reply), timeout=2.0).call("relu", 1.0)
    assert call.status is status and call.message == message
    assert call.ok is (status is Status.OK)


def test_a_kernel_died_without_a_reason_still_says_what_happened() -> None:
    call = Notebook(ScriptedTransport(Reply(Status.KERNEL_DIED))).call("relu", 1.0)
    assert call.message == (
        "The kernel died while running relu(...): a crash or os._exit in your code."
    )


def test_a_misspelled_status_fails_loudly_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def misspelled(*args: Any, **kwargs: Any) -> tuple[dict[str, Any], list[bytes]]:
        return {"id": 1, "status": "okay", "value": 1.0}, []

    monkeypatch.setattr(nngrade_kernel, "handle", misspelled)
    with pytest.raises(ProtocolError, match="unknown reply status 'okay'"):
        in_process_notebook(relu=lambda x: x).call("relu", 1.0)


def notebook_namespace() -> dict[str, Any]:
    """A kernel's namespace: the student's own function and class (module ``__main__``),
    imported ones, a model object and plain variables."""
    from collections import OrderedDict

    import torch

    def train(model: Any) -> None: ...

    class Net(torch.nn.Module): ...

    train.__module__ = Net.__module__ = "__main__"
    return {
        "__name__": "__main__",
        "train": train,
        "Net": Net,
        "OrderedDict": OrderedDict,
        "mean": np.mean,
        "net": torch.nn.Linear(2, 1),
        "learning_rate": 0.01,
        "history": [1.0, 0.5],
        "np": np,
    }


def test_the_functions_and_classes_it_defines_are_only_those() -> None:
    notebook = Notebook(InProcessTransport(notebook_namespace()))
    assert notebook.names() == ["Net", "train"]
    message = notebook.call("evaluate", 1).message
    assert message == (
        "Your notebook does not define a function named `evaluate`. "
        "Functions and classes it defines: `Net`, `train`."
    )


def test_an_object_a_routine_needs_is_listed_among_the_objects() -> None:
    from grader._kernel.nngrade_protocol import Routine

    notebook = Notebook(InProcessTransport(notebook_namespace()))
    call = notebook.run(Routine.TRACE, "model", np.zeros((1, 2)), seed=0, what="model")
    assert call.message == (
        "Your notebook does not define `model`. What it defines: `Net`, `net`, `train`."
    )
