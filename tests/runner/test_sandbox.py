"""The sandbox's parts without a kernel: choosing a mode, the bwrap command, limits and their
messages, the import and file guard, and the cap on returned values."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from grader._kernel import nngrade_codec as codec
from grader._kernel import nngrade_kernel
from grader._kernel.nngrade_protocol import Op, Status
from grader.cli.commands import main
from grader.runner import sandbox
from grader.runner.cells import LiveNotebook
from grader.runner.limits import GiB, KernelExit, Limits, MiB, classify_error, parse_size
from grader.runner.sandbox import HELPER_DIR, HOME, Sandbox, SandboxUnavailable
from tests.conftest import NOTEBOOKS, RELU

LIMITS = Limits(memory=GiB, cpu_time=60, processes=64, file_size=8 * MiB, value_size=MiB)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2G", 2 * GiB),
        ("512MiB", 512 * MiB),
        ("1.5g", 3 * GiB // 2),
        ("4096", 4096),
        ("8 kb", 8192),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "-1G", "0", "2X"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


@pytest.mark.parametrize(
    ("ename", "evalue", "kind", "restart"),
    [
        ("MemoryError", "", "memory_limit", True),
        ("_ArrayMemoryError", "Unable to allocate 7 TiB", "memory_limit", True),
        ("RuntimeError", "DefaultCPUAllocator: can't allocate memory", "memory_limit", True),
        ("OSError", "[Errno 27] File too large", "file_limit", False),
        ("OSError", "[Errno 28] No space left on device", "file_limit", False),
        ("BlockingIOError", "[Errno 11] Resource temporarily unavailable", "process_limit", True),
        ("ImportError", "nngrade: tried to import `reference`", "forbidden", False),
        ("StdinNotImplementedError", "raw_input was called", "input", False),
    ],
)
def test_errors_caused_by_limits(ename: str, evalue: str, kind: str, restart: bool) -> None:
    hit = classify_error(ename, evalue, LIMITS)
    assert hit is not None and (hit.kind, hit.restart) == (kind, restart)


def test_other_errors_are_the_students_own() -> None:
    assert classify_error("ValueError", "shapes do not align", LIMITS) is None
    assert classify_error("ImportError", "No module named 'torchvision'", LIMITS) is None


@pytest.mark.parametrize(
    ("exit", "kind", "words"),
    [
        (KernelExit(signal=signal.SIGXCPU, cpu_time=60.2), "cpu_limit", "60 s of CPU time"),
        # rusage can report a hair under the limit when SIGXCPU arrives
        (KernelExit(signal=signal.SIGXCPU, cpu_time=59.99), "cpu_limit", "60 s of CPU time"),
        (KernelExit(signal=signal.SIGKILL, cpu_time=10.0), "kernel_died", "killed (SIGKILL)"),
        (KernelExit(signal=signal.SIGABRT, max_rss=GiB), "memory_limit", "limit is 1 GiB"),
        (KernelExit(signal=signal.SIGSEGV, max_rss=MiB), "kernel_died", "crashed (SIGSEGV)"),
        (KernelExit(code=3), "kernel_died", "exited with code 3"),
        (KernelExit.from_returncode(137), "kernel_died", "was killed (SIGKILL)"),
        (KernelExit.from_returncode(-11), "kernel_died", "crashed (SIGSEGV)"),
        (KernelExit.from_launcher({"signal": None, "code": 1}), "kernel_died", "code 1"),
    ],
)
def test_how_a_kernel_died(exit: KernelExit, kind: str, words: str) -> None:
    hit = exit.explain(LIMITS)
    assert hit.kind == kind and words in hit.summary


def test_choosing_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Sandbox.choose("none", LIMITS).note.startswith("The sandbox was off (turned off")
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    chosen = Sandbox.choose("auto", LIMITS)
    assert chosen.mode == "none" and "bwrap) is not installed" in chosen.note
    with pytest.raises(SandboxUnavailable, match="not installed"):
        Sandbox.choose("bwrap", LIMITS)
    with pytest.raises(ValueError):
        Sandbox.choose("docker", LIMITS)


def test_cli_refuses_a_missing_bwrap_and_a_bad_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    notebook = str(NOTEBOOKS / "correct.ipynb")
    args = ["check", notebook, "--assignment", str(RELU)]
    result = CliRunner().invoke(main, [*args, "--sandbox", "bwrap"])
    assert result.exit_code == 2 and "--sandbox bwrap: bubblewrap (bwrap) is not installed" in (
        result.stderr
    )
    result = CliRunner().invoke(main, [*args, "--memory", "lots"])
    assert result.exit_code == 2 and "is not a size" in result.stderr


def bwrap_argv(tmp_path: Path, **kwargs: Any) -> list[str]:
    support = tmp_path / "data.npz"
    support.write_bytes(b"data")
    chosen = Sandbox("bwrap", LIMITS, **kwargs)
    with chosen.box((support,)) as box:
        return box.argv()


def tmpfs_index(argv: list[str], dest: str) -> int:
    return next(i for i in range(len(argv) - 1) if argv[i : i + 2] == ["--tmpfs", dest])


def test_the_bwrap_command(tmp_path: Path) -> None:
    argv = bwrap_argv(tmp_path)
    assert argv[0] == "bwrap" and {"--unshare-net", "--unshare-pid", "--unshare-ipc"} <= set(argv)
    # The sandbox ends with the grading process through the launcher's lifeline lock
    # (tests/runner/test_lifeline.py), not a parent-death signal tied to one thread.
    assert "--die-with-parent" not in argv
    pairs = list(zip(argv, argv[1:], argv[2:], strict=False))
    binds = {src: dest for flag, src, dest in pairs if flag in ("--ro-bind", "--bind")}
    project = HELPER_DIR.parent.parent
    # Nothing of the project but the helper (and a virtual environment inside it).
    inside = [src for src in binds if Path(src).is_relative_to(project)]
    assert all(src == str(HELPER_DIR) or ".venv" in src for src in inside), inside
    assert binds[str(tmp_path / "data.npz")] == f"{HOME}/data.npz"
    read_write = [src for flag, src, _ in pairs if flag == "--bind"]
    assert len(read_write) == 1 and read_write[0].endswith("/conn")  # only the connection dir
    tmp = tmpfs_index(argv, "/tmp")
    assert argv[tmp - 4 : tmp] == ["--size", str(8 * MiB), "--perms", "01777"]
    assert read_write[0].startswith("/tmp/") and argv.index(read_write[0]) > tmp
    if os.geteuid() == 0:  # root drops to an unprivileged uid of its own
        assert "setpriv" in argv and "--no-new-privs" in argv


def test_a_project_inside_site_packages_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"  # under /tmp, like a checkout cloned there
    (site / "secret_checks").mkdir(parents=True)
    monkeypatch.setattr(sandbox, "python_roots", lambda: [site])
    argv = bwrap_argv(tmp_path, private_paths=(site / "secret_checks",))
    assert argv[argv.index(str(site / "secret_checks")) - 1] == "--tmpfs"
    # A tmpfs hides what was bound below it before: /tmp's must come first.
    assert tmpfs_index(argv, "/tmp") < argv.index(str(site))


def run_guarded(tmp_path: Path, code: str) -> str:
    """Run ``code`` in a fresh interpreter with the guard installed; return its output."""
    private = tmp_path / "private"
    (private / "allowed").mkdir(parents=True)
    (private / "checks.py").write_text("SECRET = 1")
    (private / "allowed" / "data.txt").write_text("ok")
    os.symlink(private / "checks.py", tmp_path / "link.py")
    allowed = private / "allowed"
    setup = f"import nngrade_guard\nnngrade_guard.install(['reference'], [{str(private)!r}], "
    setup += f"[{str(allowed)!r}])\n"
    done = subprocess.run(
        [sys.executable, "-c", setup + code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(HELPER_DIR), "PATH": os.environ.get("PATH", "")},
        check=True,
    )
    return done.stdout


def test_the_guard(tmp_path: Path) -> None:
    out = run_guarded(
        tmp_path,
        "for attempt in ('import reference', 'import reference.activations',\n"
        "                'open(\"private/checks.py\")', 'open(\"link.py\")',\n"
        "                'import os; os.listdir(\"private\")'):\n"
        "    try:\n"
        "        exec(attempt)\n"
        "        print('ALLOWED', attempt)\n"
        "    except (ImportError, PermissionError) as exc:\n"
        "        print('BLOCKED', exc)\n"
        "print(open('private/allowed/data.txt').read())\n"
        "print(len(nngrade_guard.attempts()))\n",
    )
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[:5]] == ["BLOCKED"] * 5, out
    assert "belongs to the grader" in lines[0] and "private files" in lines[2]
    assert lines[5:] == ["ok", "5"]


def test_returned_values_are_capped_in_the_kernel() -> None:
    tree = codec.encode_into([[], {}], [])
    request = {"id": 1, "op": Op.CALL, "name": "f", "args": tree, "max_bytes": 1000}
    reply, buffers = nngrade_kernel.handle({"f": lambda: np.zeros(1000)}, request, [])
    assert reply["status"] == Status.UNENCODABLE and "the limit is 1,000" in reply["message"]
    assert buffers == []


class _TamperedKernel:
    """A kernel whose helper was replaced: it answers with more than the limit allows."""

    limits = LIMITS
    execution_counts: dict[int, int] = {}

    def request(self, data: dict[str, Any], buffers: list[bytes], timeout: float) -> Any:
        assert data["max_bytes"] == MiB  # the limit is sent with every request
        return {"id": data["id"], "status": "ok", "value": None}, [bytes(2 * MiB)]


def test_returned_values_are_capped_in_the_grader_too() -> None:
    live = LiveNotebook(_TamperedKernel(), [], cell_timeout=1.0)  # type: ignore[arg-type]
    reply, buffers = live.request({"id": 1, "op": Op.CALL}, [], 1.0)
    assert reply.status is Status.UNENCODABLE and buffers == []
    assert "larger than the 1 MiB limit" in reply.message


def test_support_folders_reach_the_kernel_under_their_name(tmp_path: Path) -> None:
    folder = tmp_path / "common"
    folder.mkdir()
    (folder / "functions.py").write_text("X = 1\n")
    with Sandbox("none", LIMITS).box((folder,)) as box:
        assert (box.workdir / "common" / "functions.py").read_text() == "X = 1\n"
    with Sandbox("bwrap", LIMITS).box((folder,)) as box:
        argv = box.argv()
    bind = argv.index(str(folder.resolve()))
    assert argv[bind - 1] == "--ro-bind" and argv[bind + 1] == "/home/student/common"
