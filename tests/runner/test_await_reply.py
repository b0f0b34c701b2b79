"""Waiting for a kernel helper's reply ends on time even when the channel never answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from grader.runner.kernel import KernelDied, KernelSession
from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox


class SilentChannel:
    """A channel whose get_msg ignores its own timeout, as a lost timer does."""

    async def get_msg(self, timeout: float) -> Any:
        await asyncio.Event().wait()


@contextmanager
def session_with(alive: bool) -> Iterator[KernelSession]:
    """A session whose kernel never answers; its process is alive or not."""

    async def is_alive() -> bool:
        return alive

    with Sandbox.choose("none", Limits()).box() as box:
        session = KernelSession(box, cell_timeout=5)
        kc = SimpleNamespace(iopub_channel=SilentChannel())
        session._client = SimpleNamespace(kc=kc, km=SimpleNamespace(is_alive=is_alive))  # type: ignore[assignment]
        try:
            yield session
        finally:
            session._loop.close()


@pytest.mark.timeout(30)  # without the bound it hangs: fail soon, not after the suite's 30 min
def test_a_silent_channel_times_out_instead_of_hanging() -> None:
    started = time.monotonic()
    with session_with(alive=True) as session:
        assert session._run(session._await_reply(1, timeout=1.2)) is None
    assert time.monotonic() - started < 5


def test_a_silent_channel_of_a_dead_kernel_says_it_died() -> None:
    with session_with(alive=False) as session:
        session._exit_of = lambda client: None  # type: ignore[method-assign,assignment,return-value]
        with pytest.raises(KernelDied):
            session._run(session._await_reply(1, timeout=5))
