"""Kernels forked from a worker's fork server: each in a box of its own, none paying for imports.

Starting a kernel is mostly starting Python and importing ipykernel, numpy and torch,
the same work for every submission. A ``Zygote`` does it once per worker: bubblewrap
builds a box for the worker (the same box a kernel gets: the system and Python
read-only, no network, no checks, references, outputs or other submissions), and in it
``_kernel/nngrade_zygote.py`` imports everything and then forks one kernel per
submission. Each forked kernel gets new PID, mount, IPC, network and UTS namespaces,
fresh size-capped tmpfs folders for its home, /tmp and /dev/shm, the support files
read-only, a /proc of its own, a uid nobody else uses, no capabilities, the limits and
the import guard: what a kernel started in a box of its own gets.

bubblewrap cannot put a process that already exists into a box, so the fork server
makes the per-kernel namespaces itself, from inside bubblewrap's box, with unshare(2)
and mount(2): it holds the capabilities for that (and for dropping to the kernel's uid)
but never runs a student's code, and each kernel drops them all before it starts.
That needs the grader to run as root: as another user bubblewrap's box is a user
namespace whose covered /proc cannot be mounted again inside it. Elsewhere, without
bubblewrap, or when the fork server does not start, kernels start in boxes of their
own as before (runner/pool.py).

A ``ForkedBox`` is one submission's share, used by ``KernelSession`` like a
``KernelBox``: its connection folder lies in the fork server's shared folder, and a
``ForkedProvisioner`` asks the fork server for the kernel instead of starting a process.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from grader.runner.limits import KernelExit
from grader.runner.sandbox import (
    HOME,
    LAUNCHER,
    SANDBOX_HELPER,
    KernelBox,
    Sandbox,
    box_args,
    kernel_environment,
    matplotlib_font_cache,
    private_uid,
    python_roots,
)

__all__ = ["ForkedBox", "Zygote", "ZygoteUnavailable", "fork_problem"]

SERVER = "nngrade_zygote.py"
# What the fork server needs to make each kernel's namespaces (and bring up its loopback)
# and drop to its uid.
CAPABILITIES = (
    "CAP_SYS_ADMIN",
    "CAP_NET_ADMIN",
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_SETPCAP",
)
STAGING = "/opt/nngrade/support"  # support files in the worker's box, bound into each home
READY_TIMEOUT = 120.0  # importing torch on a loaded machine
REPLY_TIMEOUT = 30.0
MESSAGE_SIZE = 2**16
END_POLL = 0.005  # seconds
KILL_WAIT = 1.0
LIFELINE_WAIT = 10.0


class ZygoteUnavailable(RuntimeError):
    """The fork server did not start, or is gone."""


def fork_problem(sandbox: Sandbox) -> str | None:
    """None when kernels can be forked into boxes of their own here, else why not."""
    if sandbox.mode != "bwrap":
        return "kernels are forked only inside bubblewrap's sandbox"
    if os.geteuid() != 0:
        return "forked kernels need the grader to run as root"
    return None


class Zygote:
    """A worker's fork server for one assignment (its support files and preloaded modules)."""

    def __init__(
        self, sandbox: Sandbox, support_files: tuple[Path, ...], preload: tuple[str, ...]
    ) -> None:
        self.sandbox = sandbox
        self.support_files = support_files
        self.preload = preload
        self.forked = 0
        self.root = Path(tempfile.mkdtemp(prefix="nngrade-zygote-"))
        self.conns = self.root / "conns"  # each kernel's connection folder, in its own
        self.conns.mkdir()
        self.conns.chmod(0o711)  # reachable for each kernel's uid, listed by none
        staged: dict[str, Path] = {}
        into_home: dict[str, str] = {}
        font_cache = matplotlib_font_cache()
        for source, dest in [
            *((s.resolve(), s.name) for s in support_files),
            *([(font_cache, f".matplotlib/{font_cache.name}")] if font_cache else []),
        ]:
            staged[f"{STAGING}/{dest}"] = source
            into_home[f"{HOME}/{dest}"] = f"{STAGING}/{dest}"
        settings = {"preload": list(preload), "home": HOME, "size": sandbox.limits.file_size}
        settings |= {"binds": into_home, "probe_conn": str(self.conns), "probe_uid": private_uid()}
        scratch = [Path("/tmp"), Path("/dev/shm"), Path(HOME)]
        settings["keep"] = [str(r) for r in python_roots() if any(map(r.is_relative_to, scratch))]
        caps = ["--cap-drop", "ALL", *(a for cap in CAPABILITIES for a in ("--cap-add", cap))]
        command = [
            "bwrap",
            *caps,
            *box_args(sandbox, staged, writable=self.conns),
            "--chdir",
            HOME,
            "--",
            sys.executable,
            "-s",
            f"{SANDBOX_HELPER}/{SERVER}",
        ]
        # The fork server connects to a socket rather than inherit one: bubblewrap's first
        # process would hold an inherited one open after the server's death, hiding it.
        address = self.conns / "server"
        settings["channel"] = str(address)
        env = {**kernel_environment(None), "NNGRADE_ZYGOTE": json.dumps(settings)}
        self._channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = (self.root / "server.log").open("w+b")
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as listener:
            listener.bind(str(address))
            listener.listen(1)
            try:
                self.process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=self._log,
                    env=env,
                    cwd=self.root,
                )
            except OSError as exc:
                self.close()
                raise ZygoteUnavailable(f"bwrap did not start: {exc}") from exc
            try:
                self._channel.close()
                self._channel = self._accept(listener)
                ready = self._receive(READY_TIMEOUT)
            except ZygoteUnavailable:
                self.close()
                raise
            finally:
                address.unlink(missing_ok=True)
        if not ready.get("ready"):
            said = self._said()
            self.close()
            raise ZygoteUnavailable(f"{ready.get('error', ready)}: {said}")

    @property
    def alive(self) -> bool:
        """It answers: it never speaks unasked, so a readable channel is a closed one."""
        return not select.select([self._channel], [], [], 0)[0]

    def box(self) -> ForkedBox:
        return ForkedBox(self)

    def spawn(self, box: ForkedBox, args: list[str], env: dict[str, str]) -> ForkedKernel:
        """Fork a kernel into a box of its own, started with ``args`` and ``env``."""
        self.forked += 1
        ident = self.forked
        alive, theirs = os.pipe()  # its other end closes when the kernel and its launcher end
        request = {"id": ident, "args": args, "env": env, "uid": box.uid}
        request["conn"] = str(box.conn_dir)
        lifeline = os.open(box.lifeline, os.O_RDONLY | os.O_CLOEXEC)
        try:
            socket.send_fds(self._channel, [json.dumps(request).encode()], [theirs, lifeline])
        except OSError as exc:
            os.close(alive)
            raise ZygoteUnavailable(f"the fork server is gone: {exc}") from exc
        finally:
            os.close(theirs)
            os.close(lifeline)
        reply = self._receive(REPLY_TIMEOUT)
        if not reply.get("ok"):
            os.close(alive)
            raise ZygoteUnavailable(f"the fork server did not fork: {reply}")
        return ForkedKernel(box, ident, alive)

    def close(self) -> None:
        """End the fork server (it kills what it still runs) and remove its folder."""
        self._channel.close()
        process = getattr(self, "process", None)
        if process is not None:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def _accept(self, listener: socket.socket) -> socket.socket:
        deadline = time.monotonic() + READY_TIMEOUT
        while not select.select([listener], [], [], 0.1)[0]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                what = "ended" if self.process.poll() is not None else "did not answer in time"
                raise ZygoteUnavailable(f"the fork server {what}: {self._said()}")
        return listener.accept()[0]

    def _receive(self, timeout: float) -> dict[str, Any]:
        ready, _, _ = select.select([self._channel], [], [], timeout)
        message = self._channel.recv(MESSAGE_SIZE) if ready else b""
        if not message:
            what = "did not answer in time" if not ready else "ended"
            raise ZygoteUnavailable(f"the fork server {what}: {self._said()}")
        result: dict[str, Any] = json.loads(message)
        return result

    def _said(self) -> str:
        """The last lines the fork server wrote (a traceback's last lines say what failed)."""
        self._log.flush()
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:])


class ForkedKernel:
    """A forked kernel, seen as ``subprocess.Popen`` sees a process (what jupyter_client and
    ``KernelSession`` use). It has ended when the pipe its launcher holds reads as closed."""

    pid = None
    stdin = stdout = stderr = None

    def __init__(self, box: ForkedBox, ident: int, alive: int) -> None:
        self._box = box
        self._ident = ident
        self._alive = alive
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self._ended(0):
            self.returncode = self._code()
            self.close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not self._ended(timeout):
            raise subprocess.TimeoutExpired(f"forked kernel {self._ident}", timeout or 0)
        code = self.poll()
        assert code is not None
        return code

    def send_signal(self, number: int) -> None:
        """SIGKILL and SIGTERM end the kernel; nothing else is sent (interrupts are
        messages: kernel.py)."""
        if self.returncode is None and number in (signal.SIGKILL, signal.SIGTERM):
            # Its launcher kills it, as it would if this process had ended; ended when
            # this returns, as a killed process of our own would be (the manager checks
            # once and would otherwise sleep a tenth of a second).
            self._box.release_lifeline()
            self._ended(KILL_WAIT)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def close(self) -> None:
        if self._alive >= 0:
            os.close(self._alive)
            self._alive = -1

    def _ended(self, timeout: float | None) -> bool:
        if self._alive < 0:
            return True
        ready, _, _ = select.select([self._alive], [], [], timeout)
        return bool(ready)  # nothing is ever written: readable means closed

    def _code(self) -> int:
        """The exit code a process of its own would have had (the launcher's report)."""
        try:
            ended = KernelExit.from_launcher(json.loads(self._box.exit_file.read_text()))
        except (OSError, ValueError, TypeError):
            return -signal.SIGKILL  # killed with its launcher before it could report
        if ended.signal:
            return -ended.signal
        return ended.code if ended.code is not None else 0


class ForkedProvisioner(LocalProvisioner):  # type: ignore[misc]
    """jupyter_client's local provisioner, with the fork server in place of Popen."""

    box: ForkedBox

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        launcher = f"{SANDBOX_HELPER}/{LAUNCHER}"
        self.process = self.box.zygote.spawn(  # type: ignore[assignment]
            self.box, cmd[cmd.index(launcher) + 1 :], kwargs["env"]
        )
        self.pid = self.pgid = None
        return self.connection_info

    async def wait(self) -> int | None:
        # LocalProvisioner polls every 0.1 s; a forked kernel ends within milliseconds.
        if isinstance(self.process, ForkedKernel):
            while self.process.poll() is None:
                await asyncio.sleep(END_POLL)
        return await super().wait()  # type: ignore[no-any-return]

    async def cleanup(self, restart: bool = False) -> None:
        if isinstance(self.process, ForkedKernel):
            self.process.close()
        await super().cleanup(restart)


class ForkedBox(KernelBox):
    """One submission's kernel home in a fork server's box."""

    def __init__(self, zygote: Zygote) -> None:
        super().__init__(zygote.sandbox, zygote.support_files, zygote.preload, zygote.conns)
        self.root.chmod(0o711)  # the kernel's uid reaches its connection folder inside
        self.zygote = zygote

    def argv(self) -> list[str]:
        return [sys.executable, "-s", f"{SANDBOX_HELPER}/{LAUNCHER}", "-f", "{connection_file}"]

    def release_lifeline(self) -> None:
        """End the kernel through its lifeline, as if this process had ended."""
        fcntl.flock(self._lifeline, fcntl.LOCK_UN)

    def hold_lifeline(self, timeout: float) -> None:
        """Lock the lifeline again for the next kernel, once the last one let go of it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._lifeline, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the previous kernel in this box did not end") from None
                time.sleep(0.005)

    def prepare_connection_file(self, path: Path) -> None:
        super().prepare_connection_file(path)
        # A restart: the last kernel was ended by letting go of the lifeline.
        self.hold_lifeline(LIFELINE_WAIT)

    def provisioner(self, km: AsyncKernelManager, spec: KernelSpec) -> LocalProvisioner | None:
        provisioner = ForkedProvisioner(kernel_id=km.kernel_id, kernel_spec=spec, parent=km)
        provisioner.box = self
        return provisioner
