"""Hostile and broken submissions in the bubblewrap sandbox, graded in one `nngrade grade` batch
together with a correct one: the correct one keeps full marks, each hostile one gets what it
deserves with a reason in its report, and the grader exits normally."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from markupsafe import escape

from grader.outputs.wording import CELL_KIND_WORDS
from grader.runner.sandbox import Sandbox
from grader.runner.zygote import fork_problem
from tests.conftest import autograded
from tests.hostile_notebooks import (
    LEAK,
    LINGERING,
    SECRET,
    Batch,
    Context,
    add_correct,
    broken_files,
    cheats,
    grade_batch,
    kinds,
    resource_abuse,
    snooping,
    write,
)

# timing: the bombs and floods are cut by 4 s cell timeouts; run beside other tests, a
# slowed kernel meets a different limit first.
pytestmark = [pytest.mark.kernel, pytest.mark.timing]

FULL = 10.0


@pytest.fixture(scope="module", params=["fork", "ahead"])
def hostile(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    tmp_path_factory: pytest.TempPathFactory,
    listener: socket.socket,
) -> Batch:
    """The batch graded with kernels forked from a fork server (where this machine can) and
    with each kernel in a fresh box of its own: both ways must stop every notebook."""
    if request.param == "fork" and (problem := fork_problem(sandbox)):
        pytest.skip(problem)
    folder = tmp_path_factory.mktemp("hostile")
    out = tmp_path_factory.mktemp("hostile-out")
    ctx = Context(out, add_correct(folder), listener.getsockname()[1])
    abuse = resource_abuse()
    del abuse["cpu_burn"]  # the CPU limit is tested without the sandbox (test_unsandboxed.py)
    write(folder, {**cheats(ctx), **snooping(ctx), **abuse})
    broken_files(folder)
    # Tight limits keep the bombs cheap; 12 s per notebook bounds the 5,000 cells.
    return grade_batch(
        *(folder, out, "--sandbox", "bwrap", "--timeout", "4", "--notebook-timeout", "12"),
        *("--memory", "512M", "--max-processes", "48"),
        *("--max-file-size", "32M", "--max-value-size", "8M"),
        *("--kernel-start", request.param),
    )


def in_report(batch: Batch, name: str, *texts: str) -> None:
    report = batch.report(name)
    for text in texts:
        assert str(escape(text)) in report, f"{text!r} not in the report of {name}"


def test_grader_exits_normally_and_the_correct_one_keeps_full_marks(hostile: Batch) -> None:
    assert hostile.code == 0, hostile.stderr
    assert "Sandbox: bubblewrap" in hostile.stdout
    assert "Graded 24 of 27 submissions (3 ungradable, 0 nngrade errors)" in hostile.stdout
    correct = autograded(hostile.results["correct"])
    assert (correct.score, correct.max_score, correct.cells) == (FULL, FULL, [])
    assert {r.sandbox for r in hostile.results.values() if r.status == "graded"} == {"bwrap"}
    # The sandbox is the instructor's business (results.json, the console), not the student's.
    assert "sandbox" not in hostile.report("correct").lower()


def test_nothing_leaks_out_of_the_sandbox(hostile: Batch, listener: socket.socket) -> None:
    everything = (hostile.out_dir / "results.json").read_text()
    assert LEAK not in everything and SECRET not in everything
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody connected to the grader's loopback


@pytest.mark.parametrize("name", ["cheat_patches", "cheat_helper", "cheat_outputs"])
def test_cheats_earn_nothing(hostile: Batch, name: str) -> None:
    result = hostile.results[name]
    assert result.status == "graded" and result.score == 0
    first = result.checks[0]
    assert "relu(" in first.message
    in_report(hostile, name, first.message.splitlines()[0])


def test_custom_eq_and_oversized_values_are_refused(hostile: Batch) -> None:
    result = hostile.results["cheat_eq"]
    assert result.score == 0
    messages = {c.name: c.message for c in result.checks}
    assert "type Anything cannot be sent as data" in messages["test_relu_values[1-D]"]
    assert "too large to send" in messages["test_d_relu_at_zero"]
    assert "the limit is 8,388,608" in messages["test_d_relu_at_zero"]
    in_report(hostile, "cheat_eq", "type Anything, which the checks cannot compare")  # for students


def test_files_named_like_the_outputs_change_nothing(hostile: Batch) -> None:
    rows = (hostile.out_dir / "grades.csv").read_text().splitlines()
    assert "cheat_outputs,10" not in "\n".join(rows)
    # Scored 0 of the checks' 10 (and of the written answer's 2, not marked yet).
    assert any(r.startswith("cheat_outputs,cheat_outputs.ipynb,0,12,graded") for r in rows)
    assert "10 / 10" not in hostile.report("cheat_outputs")
    event = kinds(hostile.results["cheat_outputs"])
    assert event == {3: {"error"}}  # the write into the real output folder failed


def test_absolute_paths_to_checks_and_other_submissions_lead_nowhere(hostile: Batch) -> None:
    result = hostile.results["snoop_files"]
    assert result.score == 4  # d_relu only: relu was to be borrowed from the reference
    assert kinds(result) == {1: {"error"}, 2: {"error"}, 3: {"error"}, 4: {"error"}}
    assert all("FileNotFoundError" in e.summary for e in result.cells)
    in_report(hostile, "snoop_files", "does not define a function named `relu`")


@pytest.mark.parametrize("name", ["snoop_env", "snoop_network"])
def test_snooping_finds_nothing_and_costs_nothing(hostile: Batch, name: str) -> None:
    assert hostile.results[name].score == FULL


def test_the_network_is_unreachable(hostile: Batch) -> None:
    result = hostile.results["snoop_network"]
    summaries = {e.cell: e.summary for e in result.cells}
    assert "ConnectionRefusedError" in summaries[2]  # loopback is the sandbox's own
    assert "Network is unreachable" in summaries[3]
    in_report(hostile, "snoop_network", summaries[3])


def test_importing_the_reference_gives_no_credit_and_says_why(hostile: Batch) -> None:
    result = hostile.results["borrow_reference"]
    assert result.score == 4  # d_relu, written by the student
    assert kinds(result) == {1: {"forbidden"}, 2: {"forbidden"}}
    by_cell = {e.cell: e.summary for e in result.cells}
    assert "`reference`" in by_cell[1] and "belongs to the grader" in by_cell[1]
    assert "`grader`" in by_cell[2]  # caught by the notebook, noted all the same
    in_report(hostile, "borrow_reference", by_cell[1], CELL_KIND_WORDS["forbidden"])


ABUSE = {
    "sleep_forever": {2: {"timeout"}},
    "memory_bomb": {2: {"memory_limit"}, 3: {"memory_limit"}},
    "fork_bomb": {2: {"process_limit"}},
    "disk_bomb": {2: {"file_limit"}, 3: {"file_limit"}},
    "wait_input": {2: {"input"}},
    "ignore_sigint": {3: {"timeout"}},
    "threads_left_running": {},
    "kill_parent": {2: {"kernel_died"}, 3: {"error"}},
}


@pytest.mark.parametrize("name", ABUSE)
def test_resource_abuse_is_stopped_and_the_rest_graded(hostile: Batch, name: str) -> None:
    result = hostile.results[name]
    assert result.score == FULL  # relu before the abuse, d_relu after it
    assert kinds(result) == ABUSE[name]
    for event in result.cells:
        in_report(hostile, name, event.summary, CELL_KIND_WORDS[event.kind])


def test_limits_are_named_in_the_messages(hostile: Batch) -> None:
    summary = {n: hostile.results[n].cells[0].summary for n in ABUSE if ABUSE[n]}
    assert "the memory limit is 512 MiB" in summary["memory_bomb"]
    assert "the limit is 48" in summary["fork_bomb"]
    assert "32 MiB" in summary["disk_bomb"]
    assert "the kernel was killed (SIGKILL)" in summary["kill_parent"]


def test_no_process_is_left_behind(hostile: Batch) -> None:
    assert hostile.results["threads_left_running"].score == FULL
    commands = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            commands.append(cmdline.read_bytes().split(b"\0"))
        except OSError:
            continue
    assert [b"sleep", LINGERING.encode(), b""] not in commands


def test_5000_cells_are_cut_off_by_the_notebook_timeout(hostile: Batch) -> None:
    result = hostile.results["many_cells"]
    assert result.score == FULL
    [event] = result.cells
    assert event.kind == "skipped" and "ran for more than 12 s in all" in event.summary
    in_report(hostile, "many_cells", event.summary)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("invalid_json", "not valid JSON"),
        ("empty", "the file is empty"),
        ("r", "written for r, not Python"),
    ],
)
def test_unreadable_files_are_ungradable_with_the_reason(
    hostile: Batch, name: str, reason: str
) -> None:
    result = hostile.results[name]
    assert result.status == "ungradable" and reason in result.reason
    in_report(hostile, name, reason)


@pytest.mark.parametrize(
    ("name", "score", "note"),
    [
        ("nbformat3", FULL, "converted"),
        ("non_utf8", FULL, "not UTF-8"),
        ("no_kernelspec", FULL, None),
        ("images_50mb", FULL, None),
        ("no_cells", 0, "no code to run"),
        ("markdown_only", 0, "no code to run"),
    ],
)
def test_odd_files_are_graded(hostile: Batch, name: str, score: float, note: str | None) -> None:
    result = hostile.results[name]
    assert (result.status, result.score) == ("graded", score)
    if note is None:
        assert result.notes == []
    else:
        [text] = result.notes
        assert note in text
        in_report(hostile, name, text)


def test_the_images_notebook_is_really_50_mb(hostile: Batch) -> None:
    assert Path(hostile.results["images_50mb"].path).stat().st_size > 50 * 10**6
