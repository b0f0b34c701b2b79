"""`--sandbox none`: limits and the guard still hold, the reports and the console say the
sandbox is off, and the snooping notebooks of test_hostile.py really do find things when
nothing stops them (so their passing in the sandbox means something)."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import autograded
from tests.hostile_notebooks import (
    LEAK,
    Batch,
    Context,
    add_correct,
    cheats,
    correct,
    grade_batch,
    kinds,
    resource_abuse,
    snooping,
    write,
)

# timing: the CPU burn and the floods are cut by second-sized limits (see test_hostile.py).
pytestmark = [pytest.mark.kernel, pytest.mark.timing]

FULL = 10.0


@pytest.fixture(scope="module")
def unsandboxed(tmp_path_factory: pytest.TempPathFactory, listener: socket.socket) -> Batch:
    folder = tmp_path_factory.mktemp("unsandboxed")
    out = tmp_path_factory.mktemp("unsandboxed-out")
    ctx = Context(out, add_correct(folder), listener.getsockname()[1])
    chosen = {**cheats(ctx), **snooping(ctx), **resource_abuse()}
    names = ["cheat_outputs", "snoop_files", "snoop_env", "snoop_network", "borrow_reference"]
    notebooks = {name: chosen[name] for name in [*names, "memory_bomb", "cpu_burn"]}
    # Without a scratch disk of limited size, only the per-file limit stops a big write.
    notebooks["big_file"] = correct(
        "with open('big.bin', 'wb') as f:\n    for _ in range(1024):\n        f.write(bytes(2**20))"
    )
    write(folder, notebooks)
    return grade_batch(
        *(folder, out, "--sandbox", "none", "--timeout", "10", "--cpu-time", "3"),
        *("--memory", "512M", "--max-file-size", "32M"),
    )


def test_console_and_reports_say_the_sandbox_is_off(unsandboxed: Batch) -> None:
    assert unsandboxed.code == 0, unsandboxed.stderr
    assert "WARNING: the sandbox is off (turned off with --sandbox none)" in unsandboxed.stderr
    correct = unsandboxed.results["correct"]
    assert (autograded(correct).score, correct.sandbox, correct.cells) == (FULL, "none", [])
    [note] = correct.notes
    assert note.startswith("The sandbox was off") and "read files outside it" in note
    # The note is for the instructor (results.json, the summary): the student's page is not
    # the place to say how the grader ran.
    assert "The sandbox was off" not in unsandboxed.report("correct")


def test_snooping_works_without_the_sandbox(unsandboxed: Batch, listener: socket.socket) -> None:
    env = unsandboxed.results["snoop_env"]
    assert any(LEAK in e.summary for e in env.cells)  # the grader's environment, via /proc
    network = unsandboxed.results["snoop_network"]
    assert LEAK in {e.cell: e.summary for e in network.cells}[2]
    connection, _ = listener.accept()
    connection.close()


def test_the_guard_blocks_the_reference_and_private_files(unsandboxed: Batch) -> None:
    borrow = unsandboxed.results["borrow_reference"]
    assert borrow.score == 4 and kinds(borrow) == {1: {"forbidden"}, 2: {"forbidden"}}
    files = unsandboxed.results["snoop_files"]
    assert files.score == 4
    assert kinds(files) == {1: {"forbidden"}, 2: {"forbidden"}, 3: {"forbidden"}, 4: {"forbidden"}}
    assert "test_relu.py" in files.cells[0].summary and "private files" in files.cells[0].summary


def test_the_output_folder_is_out_of_reach(unsandboxed: Batch) -> None:
    result = unsandboxed.results["cheat_outputs"]
    assert result.score == 0 and kinds(result) == {3: {"forbidden"}}
    assert "cheat_outputs,10" not in (unsandboxed.out_dir / "grades.csv").read_text()


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("memory_bomb", "memory_limit", "the memory limit is 512 MiB"),
        ("cpu_burn", "cpu_limit", "used up its 3 s of CPU time"),
        ("big_file", "file_limit", "wrote a file larger than the 32 MiB limit"),
    ],
)
def test_limits_hold_without_the_sandbox(
    unsandboxed: Batch, name: str, kind: str, words: str
) -> None:
    result = unsandboxed.results[name]
    assert result.score == FULL
    assert kind in kinds(result)[2] and words in result.cells[0].summary
