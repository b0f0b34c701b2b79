"""The transports decode replies at the edge: the live one turns what the kernel or its own
troubles give into typed replies and never raises for a bad reply; the in-process fake,
used by tests, raises (no kernel needed)."""

from __future__ import annotations

from typing import Any

import pytest

from grader._kernel.nngrade_protocol import Op, ProtocolError, Reply, Status
from grader.checks.notebook import Notebook
from grader.runner.cells import LiveNotebook
from grader.runner.kernel import CallTimeout, KernelDied
from grader.runner.limits import KernelExit, Limits
from grader.runner.transport import InProcessTransport


class _Session:
    """A kernel session that answers each request with what it is given, or raises it."""

    limits = Limits()
    execution_counts: dict[int, int] = {}
    generation = 1

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.restarts = 0
        self.last_exit: KernelExit | None = KernelExit(code=3)

    def request(self, data: dict[str, Any], buffers: list[bytes], timeout: float) -> Any:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return {"id": data["id"], **self.answer}, []

    def restart(self) -> None:
        self.restarts += 1


def live(answer: Any) -> tuple[LiveNotebook, _Session]:
    session = _Session(answer)
    return LiveNotebook(session, [], cell_timeout=1.0), session  # type: ignore[arg-type]


def test_a_kernel_reply_is_decoded() -> None:
    notebook, _ = live({"status": "ok", "value": 2.0, "params": ["x"]})
    reply, _ = notebook.request({"id": 1, "op": Op.CALL, "name": "f"}, [], 1.0)
    assert reply == Reply(Status.OK, id=1, value=2.0, params=("x",))


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "okay", "value": 1.0},
        {"status": "ok", "names": "relu"},
        {"status": "raised", "error": "ZeroDivisionError"},
    ],
)
def test_a_reply_that_breaks_the_protocol_is_nngrades_fault_not_a_crash(answer: Any) -> None:
    transport, _ = live(answer)
    call = Notebook(transport).call("relu", 1.0)
    assert call.status is Status.BRIDGE_ERROR
    assert call.message.startswith("nngrade could not call relu(...): its reply could not be read")


def test_the_transport_answers_for_a_call_that_timed_out_or_killed_the_kernel() -> None:
    transport, session = live(CallTimeout(recovered=False))
    reply, _ = transport.request({"id": 1, "op": Op.CALL}, [], 1.0)
    assert reply == Reply(Status.TIMEOUT) and session.restarts == 1
    transport, session = live(KernelDied("gone"))
    reply, _ = transport.request({"id": 1, "op": Op.CALL}, [], 1.0)
    assert reply.status is Status.KERNEL_DIED and session.restarts == 1
    assert reply.reason == "the kernel exited with code 3 (os._exit or exit)"


def test_the_in_process_fake_raises_on_a_bad_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = InProcessTransport({})
    monkeypatch.setattr(
        "grader._kernel.nngrade_kernel.handle", lambda *a, **k: ({"status": "done"}, [])
    )
    with pytest.raises(ProtocolError, match="unknown reply status 'done'"):
        transport.request({"id": 1, "op": Op.NAMES}, [], 1.0)
