"""Batch grading speed: nngrade against plain nbclient on the same notebooks.

    .venv/bin/python benchmarks/batch.py [--notebooks 60] [--torch-notebooks 10]
        [--workers N] [--sandbox auto] [--executor local|dask] [--repeat 1] [--fork-only]

Two batches: generated relu notebooks (a mix of correct and wrong ones) and the torch_mlp
test notebooks, repeated. Each is graded by nngrade three times, checks and reports
included: with kernels forked from a fork server (runner/zygote.py, the default), with
each next kernel started ahead of time in a fresh box (runner/pool.py), and with each
kernel started on demand (the way before both); and executed by plain nbclient in the same
number of processes and serially, one notebook after the other (what nbgrader does). The
torch_mlp notebooks train at the top level, which nngrade skips (execute = "definitions"):
nbclient runs the same definitions-only cells. Prints, for each, seconds, notebooks per
minute, seconds per notebook and per notebook per worker, the speed-up over serial
nbclient, nngrade's time per notebook per worker beyond nbclient's (the grader's
overhead), the load average before and after, and the grader process's peak memory at
half-way and at the end of the relu batch (it must not grow with the submissions).

Issue 20's goals on a 2-core machine: relu at least 3 times faster than serial nbclient,
torch_mlp at most 2.5 s per notebook per worker, overhead under 0.3 s. With ``--executor
dask`` the relu batch is also graded on a ``distributed.LocalCluster`` of N workers.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch.executor import Executor, LocalExecutor  # noqa: E402
from grader.batch.grade import default_workers, grade_into  # noqa: E402
from grader.grading.assignment import Assignment  # noqa: E402
from grader.grading.definitions import keep_definitions  # noqa: E402
from grader.grading.engine import GradingOptions  # noqa: E402
from grader.grading.neutralize import neutralize  # noqa: E402
from grader.grading.results import SubmissionResult  # noqa: E402
from grader.runner.cell_data import CodeCell  # noqa: E402
from grader.runner.limits import Limits  # noqa: E402
from grader.runner.sandbox import SANDBOX_MODES, Sandbox  # noqa: E402
from grader.runner.zygote import fork_problem  # noqa: E402

TARGET_SPEED_UP = 3.0  # relu: nngrade against serial nbclient
TARGET_TORCH = 2.5  # torch_mlp: seconds per notebook per worker
TARGET_OVERHEAD = 0.3  # seconds per notebook per worker beyond nbclient's

IMPORT = "import numpy as np"
RELU = "def relu(x):\n    return np.maximum(0, x)"
D_RELU = "def d_relu(x):\n    return (x > 0).astype(float)"
KINDS = {  # a class's mix: mostly right, some of the usual mistakes
    "correct": [IMPORT, RELU, D_RELU, "relu(np.array([-1.0, 2.0]))"],
    "wrong_values": [IMPORT, "def relu(x):\n    return np.abs(x)", D_RELU],
    "in_place": [IMPORT, RELU, "def d_relu(x):\n    x[x > 0] = 1\n    x[x <= 0] = 0\n    return x"],
    "misnamed": [IMPORT, "def ReLU(x):\n    return np.maximum(0, x)", D_RELU],
    "error_cell": [IMPORT, RELU, D_RELU, "print(undefined_name)"],
}
MIX = ["correct"] * 6 + ["wrong_values", "in_place", "misnamed", "error_cell"]
TORCH_NOTEBOOKS = ROOT / "tests" / "notebooks" / "torch_mlp"


@dataclass
class Batch:
    name: str
    assignment: Path
    folder: Path  # what nngrade grades
    plain: Path  # what nbclient runs: the same cells nngrade runs
    count: int


def make_relu(folder: Path, count: int) -> None:
    for i in range(count):
        kind = MIX[i % len(MIX)]
        nb = new_notebook(cells=[new_code_cell(source) for source in KINDS[kind]])
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, folder / f"{i:03d}_{kind}.ipynb")


def make_torch(folder: Path, plain: Path, count: int) -> None:
    """The torch_mlp test notebooks, repeated; for nbclient, only the cells nngrade runs."""
    sources = sorted(TORCH_NOTEBOOKS.glob("*.ipynb"))
    for i in range(count):
        source = sources[i % len(sources)]
        shutil.copy(source, folder / f"{i:03d}_{source.name}")
        nb = nbformat.read(source, as_version=4)
        cells = [
            CodeCell(n, neutralize(cell.source, n)[0])
            for n, cell in enumerate(nb.cells, start=1)
            if cell.cell_type == "code"
        ]
        kept, _ = keep_definitions(cells)
        nb.cells = [new_code_cell(cell.source) for cell in kept]
        nbformat.write(nb, plain / f"{i:03d}_{source.name}")


def run_nbclient(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    timeout = GradingOptions().cell_timeout
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True).execute()


def quiet() -> None:
    """Kernels started by plain nbclient inherit stderr and warn about TCP: not our output."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


def baseline(paths: list[Path], workers: int) -> float:
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, initializer=quiet) as pool:
        list(pool.map(run_nbclient, paths))
    return time.perf_counter() - started


def nngrade(
    batch: Batch, out: Path, executor: Executor, sandbox: str, kernel_start: str
) -> tuple[float, int, int]:
    """Seconds to grade the batch as ``nngrade grade`` does (gradebook and outputs
    included), and the grader process's peak RSS (KiB) at half-way and at the end."""
    assignment = Assignment.load(batch.assignment)
    options = GradingOptions(seed=1, sandbox=sandbox, kernel_start=kernel_start)
    peaks = [0, 0]  # at half-way, after the last result (before the summary's plot)
    done = [0]

    def record(result: SubmissionResult, _resumed: bool) -> None:
        done[0] += 1
        if done[0] in (batch.count // 2, batch.count):
            peaks[done[0] == batch.count] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    started = time.perf_counter()
    run = grade_into(assignment, [batch.folder], out, options, executor=executor, on_result=record)
    seconds = time.perf_counter() - started
    assert all(r.status == "graded" for r in run.results), [r.reason for r in run.results]
    return seconds, peaks[0], peaks[1]


def on_cluster(batch: Batch, out: Path, workers: int, sandbox: str) -> float:
    """Seconds to grade the batch on a LocalCluster of ``workers`` processes (the
    cluster's start-up not counted: a real cluster is already running)."""
    from distributed import LocalCluster

    from grader.batch.dask_executor import DaskExecutor

    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        seconds, _, _ = nngrade(batch, out, executor, sandbox, "ahead")
    return seconds


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(batch: Batch, tmp: Path, args: argparse.Namespace) -> None:
    n, w = batch.count, args.workers
    local = LocalExecutor(w)
    # Untimed: the first grading of a run pays for what later ones find cached on disk.
    warm = Batch(batch.name, batch.assignment, tmp / f"{batch.name}-warm", batch.plain, 2)
    warm.folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(batch.folder.glob("*.ipynb"))[:2]:
        shutil.copy(path, warm.folder)
    nngrade(warm, tmp / f"{batch.name}-warm-out", local, args.sandbox, "fork")
    before = load()
    rows: list[tuple[str, float, int]] = []
    forked, half_rss, end_rss = nngrade(batch, tmp / f"{batch.name}-f", local, args.sandbox, "fork")
    rows.append(("nngrade, forked kernels", forked, w))
    if args.fork_only:
        print(f"\n{n} {batch.name} notebooks, {w} workers, forked kernels only")
        print(f"load average before: {before}; after: {load()}")
        print(f"{forked:.1f} s, {forked / n:.2f} s/nb, {forked * w / n:.2f} s/nb/worker")
        workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(
            f"grader peak memory: {half_rss / 1024:.0f} MiB at half-way, "
            f"{end_rss / 1024:.0f} MiB after the last submission; "
            f"largest worker or kernel: {workers_peak / 1024:.0f} MiB"
        )
        return
    ahead, _, _ = nngrade(batch, tmp / f"{batch.name}-a", local, args.sandbox, "ahead")
    rows.append(("nngrade, kernels ahead", ahead, w))
    demand, _, _ = nngrade(batch, tmp / f"{batch.name}-d", local, args.sandbox, "demand")
    rows.append(("nngrade, on demand", demand, w))
    if args.executor == "dask":
        dask = on_cluster(batch, tmp / f"{batch.name}-dask", w, args.sandbox)
        rows.append(("nngrade, Dask LocalCluster", dask, w))
    paths = sorted(batch.plain.glob("*.ipynb"))
    parallel = baseline(paths, w)
    rows.append((f"nbclient, {w} at a time", parallel, w))
    serial = baseline(paths, 1)
    rows.append(("nbclient, serially", serial, 1))
    print(f"\n{n} {batch.name} notebooks, {w} workers, sandbox {args.sandbox}")
    problem = fork_problem(Sandbox.choose(args.sandbox, Limits()))
    print("kernels forked from a fork server" if problem is None else f"not forked: {problem}")
    print(f"load average before: {before}; after: {load()}")
    print(f"{'':28}{'seconds':>9}{'nb/min':>9}{'s/nb':>7}{'s/nb/worker':>13}{'speed-up':>10}")
    for label, seconds, workers in rows:
        print(
            f"{label:28}{seconds:9.1f}{n / seconds * 60:9.1f}{seconds / n:7.2f}"
            f"{seconds * workers / n:13.2f}{serial / seconds:10.2f}"
        )
    overhead = (forked * w - serial) / n
    print(
        f"overhead per notebook per worker beyond nbclient: {overhead:.2f} s "
        f"(target < {TARGET_OVERHEAD})"
    )
    if batch.name == "relu":
        print(f"speed-up over serial nbclient {serial / forked:.2f} (target >= {TARGET_SPEED_UP})")
        print(
            f"grader peak memory: {half_rss / 1024:.0f} MiB at half-way, "
            f"{end_rss / 1024:.0f} MiB after the last submission"
        )
    else:
        print(f"{forked * w / n:.2f} s per notebook per worker (target <= {TARGET_TORCH})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=60, help="relu notebooks (0: none)")
    parser.add_argument("--torch-notebooks", type=int, default=10, help="torch_mlp (0: none)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--sandbox", default=GradingOptions().sandbox, choices=SANDBOX_MODES)
    parser.add_argument("--executor", default="local", choices=["local", "dask"])
    parser.add_argument("--repeat", type=int, default=1, help="measure each batch this often")
    parser.add_argument(
        "--fork-only",
        action="store_true",
        help="grade with forked kernels only, no comparison (memory over a long run)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as name:
        tmp = Path(name)
        batches = []
        if args.notebooks:
            folder = tmp / "relu"
            folder.mkdir()
            make_relu(folder, args.notebooks)
            batches.append(
                Batch("relu", ROOT / "assignments" / "relu", folder, folder, args.notebooks)
            )
        if args.torch_notebooks:
            folder, plain = tmp / "torch_mlp", tmp / "torch_mlp-plain"
            folder.mkdir()
            plain.mkdir()
            make_torch(folder, plain, args.torch_notebooks)
            torch_mlp = ROOT / "assignments" / "torch_mlp"
            batches.append(Batch("torch_mlp", torch_mlp, folder, plain, args.torch_notebooks))
        for i in range(args.repeat):
            for batch in batches:
                measure(batch, tmp / f"out-{i}", args)


if __name__ == "__main__":
    main()
