"""One student's Jupyter kernel: started fresh, driven by nbclient, reachable over a comm.

``KernelSession`` owns the kernel's whole life: start in its ``KernelBox`` (sandbox,
limits, private working directory), execute one cell with a timeout (interrupting,
then giving up on, a runaway cell), exchange data-only requests with the kernel
helper, restart, and always shut down. The connection uses IPC sockets in the box's
connection folder: TCP loopback does not cross the sandbox's network namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

import nbformat
import zmq
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader._kernel.nngrade_protocol import COMM_TARGET
from grader.runner.jupyter import CountingClient, FixedSpecs, ReadyClient
from grader.runner.limits import KernelExit, Limits
from grader.runner.sandbox import KernelBox

__all__ = ["CallTimeout", "CellRun", "CellRunStatus", "KernelDied", "KernelSession"]

# exit() and quit() would shut the kernel down after the cell, and whether the next cell
# or request found it alive was a race; they raise SystemExit instead, which ends the
# cell (as sys.exit() and `raise SystemExit` already do in IPython) and nothing else.
# The handshake after each cell: a cell that kills the kernel's launcher is blamed for it.
SETUP_CODE = (
    "import nngrade_kernel as _nngrade\n_nngrade.install()\ndel _nngrade\n"
    "import nngrade_handshake as _nngrade\n"
    "_nngrade.check_after_each_cell(get_ipython())\ndel _nngrade\n"
    "def _nngrade_exit(*args, **kwargs):\n"
    "    raise SystemExit('exit() ends only this cell while grading')\n"
    "get_ipython().ask_exit = _nngrade_exit\n"
    "del _nngrade_exit\n"
)
INTERRUPT_GRACE = 3.0
POLL_STEP = 0.5  # seconds between checks that a kernel that does not answer is still alive
EXIT_REPORT_WAIT = 3.0  # seconds to wait for a dead kernel's launcher to say how it ended
# Room for a cell's outputs on top of the largest value a call may return.
MESSAGE_HEADROOM = 16 * 2**20


class KernelDied(RuntimeError):
    """The kernel process exited while it was working for us."""


class CallTimeout(TimeoutError):
    """A request did not finish in time; ``recovered`` if the interrupt brought it back."""

    def __init__(self, recovered: bool) -> None:
        super().__init__("interrupted" if recovered else "kernel not responding")
        self.recovered = recovered


class CellRunStatus(StrEnum):
    """How one cell's execution ended (nbclient's view; the kernel helper is not involved)."""

    OK = "ok"
    ERROR = "error"  # the cell raised: the execute reply says what
    TIMEOUT = "timeout"  # interrupted, and the kernel answered the interrupt
    TIMEOUT_KILLED = "timeout_killed"  # the kernel did not answer: restart it
    KERNEL_DIED = "kernel_died"


class CellRun:
    """How one cell's execution ended, with nbclient's execute reply."""

    def __init__(self, status: CellRunStatus, reply: dict[str, Any] | None = None) -> None:
        self.status = status
        self.reply = reply or {}
        self.output_chars = 0


class KernelSession:
    """A kernel for one submission. Use as a context manager; it always cleans up."""

    def __init__(self, box: KernelBox, *, cell_timeout: float, startup_timeout: float = 60) -> None:
        self.box = box
        self.cell_timeout = cell_timeout
        self.startup_timeout = startup_timeout
        self._loop = asyncio.new_event_loop()
        self._client: CountingClient | None = None
        self._comm_id = ""
        self.execution_counts: dict[int, int] = {}
        self.last_exit: KernelExit | None = None  # how the kernel ended, when it died
        self._starts = 0

    @property
    def generation(self) -> int:
        """How many times the kernel was started: objects it holds live for one generation."""
        return self._starts

    @property
    def limits(self) -> Limits:
        return self.box.sandbox.limits

    def __enter__(self) -> KernelSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lifetime -------------------------------------------------------------------------

    def start(self) -> None:
        self.launch()
        self.connect()

    def launch(self) -> None:
        """Start the kernel's process and return at once: it boots (Python, ipykernel, the
        box's preloaded modules) on its own while this process does other work."""
        self._run(self._launch())

    def connect(self) -> None:
        """Wait until the launched kernel answers, then set up the kernel helper."""
        self._run(self._connect())

    @property
    def alive(self) -> bool:
        """The kernel's process is running (a launched kernel can die before it is used)."""
        client = self._client
        return (
            client is not None
            and client.km is not None
            and self._run(ensure_async(client.km.is_alive()))
        )

    def found_dead(self) -> bool:
        """Whether the kernel has died since it last answered; how it ended is then in
        ``last_exit``. A cell can answer before the death it caused (it killed its
        launcher, whose end ends the kernel), so the cells ask before each next one."""
        if self.alive:
            return False
        if self._client is not None:
            self.last_exit = self._exit_of(self._client)
        return True

    def restart(self) -> None:
        self._run(self._shutdown())
        self.start()

    def close(self) -> None:
        try:
            self._run(self._shutdown())
        finally:
            self._loop.close()

    async def _launch(self) -> None:
        spec = KernelSpec(
            argv=self.box.argv(),
            display_name="nngrade",
            language="python",
            # A signal to the kernel's process group would also reach bwrap and end the
            # sandbox: interrupt over the control channel instead.
            interrupt_mode="message",
        )
        km = AsyncKernelManager(
            kernel_name="nngrade",
            kernel_spec_manager=FixedSpecs(spec=spec),
            transport="ipc",
            ip=str(self.box.conn_dir / "ipc"),
        )
        km.client_factory = ReadyClient
        # A kernel forked from a fork server (runner/zygote.py) has a provisioner of its own.
        km.kernel_id = uuid.uuid4().hex
        km.provisioner = self.box.provisioner(km, spec)
        self._starts += 1
        km.connection_file = str(self.box.conn_dir / f"kernel-{self._starts}.json")
        km.write_connection_file()
        self.box.prepare_connection_file(Path(km.connection_file))
        # zmq drops a peer that sends a larger message: a patched helper cannot flood us.
        km.context.setsockopt(zmq.MAXMSGSIZE, self.limits.value_size + MESSAGE_HEADROOM)
        client = CountingClient(
            nbformat.v4.new_notebook(),
            km=km,
            timeout=self.cell_timeout,
            startup_timeout=self.startup_timeout,
            allow_errors=True,
            interrupt_on_timeout=False,
            record_timing=False,
            extra_arguments=["--HistoryManager.enabled=False", "--IPKernelApp.quiet=True"],
        )
        self._client = client
        await client.async_start_new_kernel(
            cwd=str(self.box.cwd),
            env=self.box.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def _connect(self) -> None:
        client = self._require_client()
        await client.async_start_new_kernel_client()
        self.execution_counts = {}
        self._comm_id = uuid.uuid4().hex
        setup = await self._execute(SETUP_CODE, cell_index=-1)
        if setup.status is not CellRunStatus.OK:
            raise KernelDied(f"the kernel helper did not start: {setup.reply.get('evalue', '')}")
        assert client.kc is not None
        client.kc.session.send(
            client.kc.shell_channel.socket,
            "comm_open",
            {"comm_id": self._comm_id, "target_name": COMM_TARGET, "data": {}},
        )

    async def _shutdown(self) -> None:
        client, self._client = self._client, None
        if client is None or client.km is None:
            return
        try:
            if client.kc is not None:
                client.kc.stop_channels()
            if await ensure_async(client.km.is_alive()):
                await ensure_async(client.km.shutdown_kernel(now=True))
        finally:
            await ensure_async(client.km.cleanup_resources())

    # -- cells ----------------------------------------------------------------------------

    def execute(self, source: str, cell_index: int, timeout: float | None = None) -> CellRun:
        """Run one cell, within ``timeout`` seconds (None: the cell timeout). On a timeout
        the cell is interrupted; ``TIMEOUT_KILLED`` means the kernel did not answer the
        interrupt and the caller must restart it."""
        return self._run(self._execute(source, cell_index, timeout))

    async def _execute(self, source: str, cell_index: int, timeout: float | None = None) -> CellRun:
        client = self._require_client()
        # nbclient types its timeout as int seconds; a float works (it is passed to asyncio).
        client.timeout = self.cell_timeout if timeout is None else timeout  # type: ignore[assignment]
        # Built directly: new_code_cell validates against the schema, 15% of a short cell.
        cell = nbformat.from_dict(
            {"id": "cell", "cell_type": "code", "metadata": {}, "source": source}
            | {"outputs": [], "execution_count": None}
        )
        # nbclient writes the executed cell back into its notebook by index.
        client.nb.cells = [cell]
        replies: list[dict[str, Any]] = []
        client.on_cell_executed = lambda **kw: replies.append(kw["execute_reply"])
        client.output_chars = 0
        try:
            await client.async_execute_cell(cell, 0)
        except DeadKernelError:
            self.last_exit = self._exit_of(client)
            return CellRun(CellRunStatus.KERNEL_DIED)
        except CellTimeoutError:
            run = CellRun(CellRunStatus.TIMEOUT)
            if not await self._interrupt_and_wait():
                run.status = CellRunStatus.TIMEOUT_KILLED
            return run
        reply = replies[-1]["content"] if replies else {}
        count = reply.get("execution_count")
        if isinstance(count, int):
            self.execution_counts[count] = cell_index
        ok = reply.get("status") == "ok"  # nbclient's execute reply, not the helper's
        run = CellRun(CellRunStatus.OK if ok else CellRunStatus.ERROR, reply)
        run.output_chars = client.output_chars
        return run

    async def _interrupt_and_wait(self) -> bool:
        """Interrupt the kernel and wait for the interrupted request's reply.

        ipykernel aborts requests queued behind an unanswered one, so nothing new may be
        sent before this reply arrives. False if the kernel did not answer in time.
        """
        client = self._require_client()
        assert client.km is not None and client.kc is not None
        await ensure_async(client.km.interrupt_kernel())
        deadline = monotonic() + INTERRUPT_GRACE
        while (remaining := deadline - monotonic()) > 0:
            try:
                msg = await client.kc.shell_channel.get_msg(timeout=remaining)
            except Empty:
                break
            if msg["msg_type"] == "execute_reply":
                return True
        return False

    # -- requests over the comm -----------------------------------------------------------

    def request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[dict[str, Any], list[bytes]]:
        """Send one request to the kernel helper and wait for its reply, as it came (the
        transport, ``LiveNotebook``, decodes it).

        Raises ``CallTimeout`` (after interrupting the kernel) or ``KernelDied``.
        """
        return self._run(self._request(data, buffers, timeout))

    async def _request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[dict[str, Any], list[bytes]]:
        client = self._require_client()
        assert client.kc is not None and client.km is not None
        client.kc.session.send(
            client.kc.shell_channel.socket,
            "comm_msg",
            {"comm_id": self._comm_id, "data": data},
            buffers=buffers,
        )
        reply = await self._await_reply(data["id"], timeout)
        if reply is None:
            await ensure_async(client.km.interrupt_kernel())
            late = await self._await_reply(data["id"], INTERRUPT_GRACE)
            raise CallTimeout(recovered=late is not None)
        return reply

    async def _await_reply(
        self, request_id: int, timeout: float
    ) -> tuple[dict[str, Any], list[bytes]] | None:
        client = self._require_client()
        assert client.kc is not None and client.km is not None
        deadline = monotonic() + timeout
        while (remaining := deadline - monotonic()) > 0:
            step = min(remaining, POLL_STEP)
            try:
                # get_msg's own timeout has been seen never to fire on a loaded machine (the
                # loop idle in epoll_wait with no timer): this loop's timer bounds it too.
                msg = await asyncio.wait_for(
                    client.kc.iopub_channel.get_msg(timeout=step), step + POLL_STEP
                )
            except (Empty, TimeoutError):
                if not await ensure_async(client.km.is_alive()):
                    self.last_exit = self._exit_of(client)
                    raise KernelDied("the kernel died during a call") from None
                continue
            content = msg["content"]
            if (
                msg["msg_type"] == "comm_msg"
                and content.get("comm_id") == self._comm_id
                and content.get("data", {}).get("id") == request_id
            ):
                return content["data"], [bytes(b) for b in msg.get("buffers", [])]
        return None

    # -- plumbing -------------------------------------------------------------------------

    def _exit_of(self, client: CountingClient) -> KernelExit:
        """How the dead kernel ended: the launcher's report, else the exit status."""
        process = getattr(getattr(client.km, "provisioner", None), "process", None)
        if process is not None:
            # The kernel's death can be noticed before the launcher has written its report.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=EXIT_REPORT_WAIT)
        try:
            return KernelExit.from_launcher(json.loads(self.box.exit_file.read_text()))
        except (OSError, ValueError, TypeError):
            return KernelExit.from_returncode(process.poll() if process is not None else None)

    def _require_client(self) -> CountingClient:
        if self._client is None:
            raise KernelDied("the kernel is not running")
        return self._client

    def _run(self, coro: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: no loop runs in this thread
            return self._loop.run_until_complete(coro)
        # Called from code that runs a loop of its own in this thread (a Jupyter notebook,
        # Playwright's sync API), where run_until_complete is refused: this session's loop
        # runs on a thread of its own meanwhile, one call at a time as always.
        with ThreadPoolExecutor(1, thread_name_prefix="nngrade-kernel") as thread:
            return thread.submit(self._loop.run_until_complete, coro).result()
