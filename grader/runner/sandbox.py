"""Where and how a kernel runs: a bubblewrap sandbox when there is one, limits always.

``Sandbox`` describes the choice made once per run (``bwrap`` or ``none``, the limits,
the grader's private paths). ``KernelBox`` is one submission's share of it: a temporary
folder with the kernel's working directory and its connection directory, and the
command, environment and process options that start a kernel inside it.

With bubblewrap the kernel gets its own PID, network, IPC and UTS namespaces, the system
and the Python installation read-only, size-capped scratch folders for its working
directory, /tmp and /dev/shm, the assignment's support files read-only, and nothing
else: no checks, references, outputs, other submissions or home folders. Run as root,
it also drops to an unused uid of its own, so process limits apply and it owns nothing.
"""

from __future__ import annotations

import fcntl
import functools
import importlib.util
import json
import os
import secrets
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.runner.limits import Limits

__all__ = [
    "SANDBOX_MODES",
    "KernelBox",
    "Sandbox",
    "SandboxUnavailable",
    "box_args",
    "bwrap_problem",
    "kernel_environment",
    "matplotlib_font_cache",
    "private_uid",
    "python_roots",
]

SANDBOX_MODES = ("auto", "bwrap", "none")
HELPER_DIR = Path(__file__).parent.parent / "_kernel"
LAUNCHER = "nngrade_launch.py"
# The grader's own packages: a notebook must never import them.
PROJECT_PACKAGES = ("grader", "reference")
# Inside the sandbox.
HOME = "/home/student"
SANDBOX_HELPER = "/opt/nngrade/kernel"
SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
PRIVATE_UID_RANGE = (2**30, 2**31 - 2)


class SandboxUnavailable(RuntimeError):
    """``--sandbox bwrap`` was asked for, but bubblewrap cannot run here."""


@functools.cache
def bwrap_problem() -> str | None:
    """None when bubblewrap can build a sandbox on this machine, else the reason it cannot."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap (bwrap) is not installed"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is needed to run kernels as an unprivileged user"
    probe = [exe, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--proc", "/proc"]
    try:
        done = subprocess.run([*probe, "true"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not run: {exc}"
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        return f"bwrap cannot create a sandbox here ({message})"
    return None


@dataclass(frozen=True)
class Sandbox:
    """The run-wide choice: ``mode`` is ``"bwrap"`` or ``"none"``."""

    mode: str
    limits: Limits = field(default_factory=Limits)
    # Folders the kernel must not see: the assignment, the outputs, the submissions.
    private_paths: tuple[Path, ...] = ()
    unavailable_reason: str = ""  # why bubblewrap is not used, when mode is "none"

    @classmethod
    def choose(
        cls, requested: str, limits: Limits, private_paths: tuple[Path, ...] = ()
    ) -> Sandbox:
        """Resolve ``auto``; raise ``SandboxUnavailable`` if ``bwrap`` cannot be had."""
        if requested not in SANDBOX_MODES:
            raise ValueError(f"sandbox must be one of {', '.join(SANDBOX_MODES)}")
        problem = None if requested == "none" else bwrap_problem()
        if requested == "bwrap" and problem:
            raise SandboxUnavailable(problem)
        reason = "turned off with --sandbox none" if requested == "none" else problem or ""
        mode = "bwrap" if requested != "none" and problem is None else "none"
        return cls(mode, limits, tuple(p.resolve() for p in private_paths), reason)

    @property
    def note(self) -> str:
        """What a report says about isolation; empty when the sandbox is on."""
        if self.mode == "bwrap":
            return ""
        return (
            f"The sandbox was off ({self.unavailable_reason}): the notebook ran with resource "
            "limits and in a private folder, but could use the network and read files "
            "outside it."
        )

    def box(self, support_files: tuple[Path, ...] = (), preload: tuple[str, ...] = ()) -> KernelBox:
        return KernelBox(self, support_files, preload)


class KernelBox:
    """One submission's kernel home; a context manager that removes it afterwards."""

    def __init__(
        self,
        sandbox: Sandbox,
        support_files: tuple[Path, ...],
        preload: tuple[str, ...] = (),
        parent: Path | None = None,  # where its folder goes (a fork server's, zygote.py)
    ) -> None:
        self.sandbox = sandbox
        self.support_files = support_files
        # Modules the kernel imports as it boots, before any student code: the same in a
        # kernel started ahead of time (runner/pool.py) and in one started on demand.
        self.preload = preload
        self.root = Path(tempfile.mkdtemp(prefix="nngrade-", dir=parent))
        self.conn_dir = self.root / "conn"
        self.conn_dir.mkdir(mode=0o700)
        self.exit_file = self.conn_dir / "exit.json"
        # Locked for the box's life. The launcher waits for this lock and stops the kernel
        # when it gets it: when this process is gone, however it ended (kill -9, the OOM
        # killer), since the lock goes with the process. No orphaned kernels.
        self.lifeline = self.conn_dir / "lifeline"
        self._lifeline = os.open(self.lifeline, os.O_CREAT | os.O_RDONLY | os.O_CLOEXEC, 0o644)
        fcntl.flock(self._lifeline, fcntl.LOCK_EX)
        # Run as root, the kernel drops to a uid of its own: process limits do not bind
        # root, and a uid nobody else uses owns no files and can signal no process.
        self.uid: int | None = None
        if sandbox.mode == "bwrap" and os.geteuid() == 0:
            self.uid = private_uid()
            os.chown(self.conn_dir, self.uid, self.uid)
        self.workdir = self.root / "work"
        if sandbox.mode == "none":
            self.workdir.mkdir()
            for support in support_files:
                if support.is_dir():
                    shutil.copytree(support, self.workdir / support.name)
                else:
                    shutil.copy2(support, self.workdir / support.name)

    def __enter__(self) -> KernelBox:
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        os.close(self._lifeline)

    # -- what KernelSession needs ---------------------------------------------------------

    @property
    def bwrap(self) -> bool:
        return self.sandbox.mode == "bwrap"

    def argv(self) -> list[str]:
        """The kernel command; jupyter_client fills in ``{connection_file}``."""
        helper = SANDBOX_HELPER if self.bwrap else str(HELPER_DIR)
        kernel = [sys.executable, "-s", f"{helper}/{LAUNCHER}", "-f", "{connection_file}"]
        if not self.bwrap:
            return kernel
        drop: list[str] = []
        if self.uid is not None:
            drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"]
            drop += ["--no-new-privs", "--bounding-set=-all", "--inh-caps=-all", "--"]
        return [*self._bwrap_args(), "--", *drop, *kernel]

    def env(self) -> dict[str, str]:
        """A small, explicit environment: the grader's own variables stay out of reach."""
        launch = {
            "limits": self._launcher_limits(),
            "exit_file": str(self.exit_file),
            "lifeline": str(self.lifeline),
            "blocked_modules": list(PROJECT_PACKAGES),
            "private_paths": [] if self.bwrap else [str(p) for p in private_paths(self.sandbox)],
            "allowed_paths": [str(self.root)],
            "preload": list(self.preload),
        }
        env = kernel_environment(None if self.bwrap else self.workdir)
        return {**env, "NNGRADE_LAUNCH": json.dumps(launch)}

    @property
    def cwd(self) -> Path:
        """Where the kernel process starts (bwrap then changes into the sandbox's home)."""
        return self.conn_dir if self.bwrap else self.workdir

    def provisioner(self, km: Any, spec: Any) -> Any:
        """Who starts the kernel: None for jupyter_client's own (a process of its own)."""
        return None

    def prepare_connection_file(self, path: Path) -> None:
        """Let the kernel read its connection file, and forget a previous kernel's exit."""
        self.exit_file.unlink(missing_ok=True)
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)

    # -- building blocks ------------------------------------------------------------------

    def _launcher_limits(self) -> dict[str, int]:
        limits = self.sandbox.limits.for_launcher()
        if not self.bwrap and os.geteuid() != 0:
            # Outside a user namespace the process limit counts every process of this
            # user, the grader's included: allow the kernel its share on top of them.
            limits["processes"] += _tasks_of(os.getuid())
        return limits

    def _bwrap_args(self) -> list[str]:
        binds = {f"{HOME}/{support.name}": support.resolve() for support in self.support_files}
        font_cache = matplotlib_font_cache()
        if font_cache is not None:
            binds[f"{HOME}/.matplotlib/{font_cache.name}"] = font_cache
        args = box_args(self.sandbox, binds, writable=self.conn_dir)
        return ["bwrap", *args, "--chdir", HOME]


def private_uid() -> int:
    """A uid from the range kept for kernels, at random: nobody else's, owning nothing."""
    low, high = PRIVATE_UID_RANGE
    return low + secrets.randbelow(high - low)


def kernel_environment(workdir: Path | None) -> dict[str, str]:
    """A kernel's environment, small and explicit: the grader's own variables stay out of
    reach. ``workdir``: the kernel's folder without bubblewrap; None inside a box."""
    home = HOME if workdir is None else str(workdir)
    helper = SANDBOX_HELPER if workdir is None else str(HELPER_DIR)
    if workdir is None:
        mpl = f"{HOME}/.matplotlib"
    else:  # shared, so matplotlib does not rebuild its font cache in every kernel
        mpl = str(_cache_dir() / "matplotlib")
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": home,
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "PYTHONPATH": helper,
        "PYTHONDONTWRITEBYTECODE": "1",
        "IPYTHONDIR": f"{home}/.ipython",
        # Non-interactive plotting: plt.show() returns at once, nothing is rendered.
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": mpl,
        # One thread per kernel: kernels run side by side, one per core.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def private_paths(sandbox: Sandbox) -> list[Path]:
    """What a kernel must not see: the run's private folders and the grader's packages."""
    packages = [_package_dir(name) for name in PROJECT_PACKAGES]
    return [*sandbox.private_paths, *(p for p in packages if p is not None)]


def box_args(sandbox: Sandbox, binds: dict[str, Path], writable: Path) -> list[str]:
    """bwrap's arguments for a box (without the command): namespaces, the system and Python
    read-only, size-capped scratch folders, ``binds`` (destination: source) read-only,
    ``writable`` at its own path, and nothing private."""
    size = str(sandbox.limits.file_size)
    args = _BwrapArgs(["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"])
    args += ["--unshare-cgroup-try", "--hostname", "nngrade"]
    # No --die-with-parent: it is tied to the spawning thread and leaves a sandbox
    # behind when the grader dies while bwrap starts. The launcher's lifeline lock
    # (KernelBox) ends the kernel, and with it the sandbox, in every case.
    args.mount("--proc", "/proc")
    args.mount("--dev", "/dev")
    # Scratch folders first: a tmpfs hides whatever was bound below it before (a
    # checkout and its .venv under /tmp, the connection folder).
    args.tmpfs("/dev/shm", size, "01777")
    args.tmpfs("/tmp", size, "01777")
    args.tmpfs(HOME, size, "0777")
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args.bind(path, path)
    roots = python_roots()
    for root in roots:
        args.bind(root, root)
    # A project installed into site-packages would be visible there: hide it.
    for hidden in private_paths(sandbox):
        if hidden.is_dir() and any(hidden.is_relative_to(r) for r in roots):
            args.tmpfs(hidden, "4096", "0755")
    args.bind(HELPER_DIR, SANDBOX_HELPER)
    args.bind(writable, writable, read_only=False)
    args.mount("--perms", "0777", "--dir", f"{HOME}/.matplotlib")
    for dest, source in binds.items():
        args.bind(source, dest)
    return list(args)


class _BwrapArgs(list[str]):
    """bwrap arguments that also create a mount point's missing parent folders, readable
    by anyone (bwrap would make them 0700, unreachable for the kernel's own uid)."""

    def __init__(self, args: list[str]) -> None:
        super().__init__(args)
        self._folders: set[str] = {"/"}

    def mount(self, *args: str | Path) -> None:
        """Options ending in the destination, e.g. ``("--ro-bind", source, dest)``."""
        dest = str(args[-1])
        self._parents(dest)
        self += [str(a) for a in args]
        self._folders.add(dest)

    def bind(self, source: Path | str, dest: Path | str, read_only: bool = True) -> None:
        self.mount("--ro-bind" if read_only else "--bind", source, dest)

    def tmpfs(self, dest: Path | str, size: str, perms: str) -> None:
        self.mount("--size", size, "--perms", perms, "--tmpfs", dest)

    def _parents(self, dest: str) -> None:
        for parent in reversed(Path(dest).parents):
            if str(parent) not in self._folders:
                self += ["--dir", str(parent)]
                self._folders.add(str(parent))


def python_roots() -> list[Path]:
    """The interpreter and its packages, outside the system folders bound anyway."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates.add(str(Path(sys.executable).resolve().parent.parent))
    candidates.update(site.getsitepackages())
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        candidates.add(site.getusersitepackages())
    system = [Path(p) for p in SYSTEM_PATHS]
    resolved = sorted({Path(c).resolve() for c in candidates if os.path.isdir(c)})
    roots: list[Path] = []
    for path in resolved:  # sorted: a parent comes before what it contains
        if not any(path.is_relative_to(r) for r in [*system, *roots]):
            roots.append(path)
    return roots


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _cache_dir() -> Path:
    return Path(os.environ.get("NNGRADE_CACHE", Path.home() / ".cache" / "nngrade"))


@functools.cache
def matplotlib_font_cache() -> Path | None:
    """matplotlib's font list, built once outside any sandbox (by our own code only), so
    kernels do not each spend half a second rebuilding it."""
    if importlib.util.find_spec("matplotlib") is None:
        return None
    folder = _cache_dir() / "matplotlib"
    if not list(folder.glob("fontlist-*.json")):
        folder.mkdir(parents=True, exist_ok=True)
        env = {"MPLCONFIGDIR": str(folder), "PATH": os.environ.get("PATH", "/usr/bin")}
        code = "import matplotlib.font_manager"
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False)
    found = sorted(folder.glob("fontlist-*.json"))
    return found[-1] if found else None


def _tasks_of(uid: int) -> int:
    """Processes and threads this uid runs now (what RLIMIT_NPROC counts)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count
