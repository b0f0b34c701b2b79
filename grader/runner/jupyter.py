"""jupyter_client and nbclient as grading needs them: every notebook on the grader's own
interpreter, a kernel ready without a fixed wait, outputs counted rather than kept."""

from __future__ import annotations

from queue import Empty
from time import monotonic
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbclient import NotebookClient
from traitlets import Instance

__all__ = ["CountingClient", "FixedSpecs", "ReadyClient"]


class FixedSpecs(KernelSpecManager):
    """Every notebook runs on the grader's own interpreter, whatever kernelspec it names."""

    spec = Instance(KernelSpec)

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return self.spec


class ReadyClient(AsyncKernelClient):
    """jupyter_client's client, less a fixed 0.2 s wait when the kernel first answers.

    ``wait_for_ready`` ends by draining IOPub until it has been quiet for 0.2 s: a
    quarter of a forked kernel's start. Replies here are matched to their requests by id
    (nbclient, ``_await_reply``), so what IOPub already holds is dropped without waiting.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:  # IOPub is connected once a message has come through it
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                return


class CountingClient(NotebookClient):
    """nbclient that counts output instead of keeping it: a flood costs no memory."""

    def output(self, outs: Any, msg: dict[str, Any], display_id: Any, cell_index: int) -> None:
        content = msg.get("content", {})
        self.output_chars += len(content.get("text", "")) + sum(
            len(str(v)) for v in content.get("data", {}).values()
        )
        return None

    output_chars = 0
