"""Batch grading speed: nngrade against plain nbclient on the same relu notebooks.

    .venv/bin/python benchmarks/batch.py [--notebooks 100] [--workers N] [--sandbox auto]
                                         [--executor local|dask]

Generates a mix of correct and wrong relu notebooks, grades them with nngrade (parallel
workers, fresh kernel each, checks and reports included) and executes the same notebooks
with plain nbclient in the same number of processes (the baseline: what running the
notebooks costs at all). Prints notebooks per minute, mean seconds per notebook, the
ratio of the two, and the grader process's peak memory at half-way and at the end
(it must not grow with the number of submissions). Targets on a 2-core machine: at
least 100 notebooks per minute, and at most 1.15 times the baseline's time.

With ``--executor dask`` the same notebooks are also graded on a ``distributed.LocalCluster``
of N worker processes (one thread each), started for the run: the figures per worker show
what one more worker adds, next to the local pool's.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch.executor import Executor, LocalExecutor  # noqa: E402
from grader.batch.grade import default_workers, grade_into  # noqa: E402
from grader.grading.assignment import Assignment  # noqa: E402
from grader.grading.engine import GradingOptions  # noqa: E402
from grader.grading.results import SubmissionResult  # noqa: E402
from grader.runner.sandbox import SANDBOX_MODES  # noqa: E402

TARGET_PER_MINUTE = 100
TARGET_RATIO = 1.15

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


def make_notebooks(folder: Path, count: int) -> None:
    for i in range(count):
        kind = MIX[i % len(MIX)]
        nb = new_notebook(cells=[new_code_cell(source) for source in KINDS[kind]])
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, folder / f"{i:03d}_{kind}.ipynb")


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
    folder: Path, count: int, out: Path, executor: Executor, sandbox: str
) -> tuple[float, int, int]:
    """Seconds to grade the ``count`` notebooks in ``folder`` as ``nngrade grade`` does
    (gradebook and outputs included), and the grader process's peak RSS (KiB) at half-way
    and at the end."""
    assignment = Assignment.load(ROOT / "assignments" / "relu")
    options = GradingOptions(seed=1, sandbox=sandbox)
    peaks = [0, 0]  # at half-way, after the last result (before the summary's plot)
    done = [0]

    def record(result: SubmissionResult, _resumed: bool) -> None:
        done[0] += 1
        if done[0] in (count // 2, count):
            peaks[done[0] == count] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    started = time.perf_counter()
    run = grade_into(assignment, [folder], out, options, executor=executor, on_result=record)
    seconds = time.perf_counter() - started
    assert all(r.status == "graded" for r in run.results), [r.reason for r in run.results]
    return seconds, peaks[0], peaks[1]


def on_cluster(folder: Path, count: int, out: Path, workers: int, sandbox: str) -> float:
    """Seconds to grade the notebooks on a LocalCluster of ``workers`` processes (the
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
        seconds, _, _ = nngrade(folder, count, out, executor, sandbox)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=100)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--sandbox", default=GradingOptions().sandbox, choices=SANDBOX_MODES)
    parser.add_argument("--executor", default="local", choices=["local", "dask"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as tmp:
        folder, out = Path(tmp) / "notebooks", Path(tmp) / "out"
        folder.mkdir()
        make_notebooks(folder, args.notebooks)
        paths = sorted(folder.glob("*.ipynb"))
        local = LocalExecutor(args.workers)
        ours, half_rss, end_rss = nngrade(folder, args.notebooks, out, local, args.sandbox)
        dask = None
        if args.executor == "dask":
            out_dask = Path(tmp) / "out-dask"
            dask = on_cluster(folder, args.notebooks, out_dask, args.workers, args.sandbox)
        theirs = baseline(paths, args.workers)
    n, w = args.notebooks, args.workers
    ratio = ours / theirs
    per_minute = n / ours * 60
    print(f"{n} relu notebooks, {w} workers, sandbox {args.sandbox}")
    print(f"{'':26}{'seconds':>9}{'nb/min':>9}{'nb/min/worker':>15}{'s/nb':>8}")
    rows = [("nngrade, local pool", ours)]
    if dask is not None:
        rows.append(("nngrade, Dask LocalCluster", dask))
    rows.append(("nbclient (baseline)", theirs))
    for label, seconds in rows:
        rate = n / seconds * 60
        print(f"{label:26}{seconds:9.1f}{rate:9.1f}{rate / w:15.1f}{seconds / n:8.2f}")
    print(
        f"ratio {ratio:.2f} (target <= {TARGET_RATIO}); {per_minute:.0f} nb/min "
        f"(target >= {TARGET_PER_MINUTE})"
    )
    print(
        f"grader peak memory: {half_rss / 1024:.0f} MiB at half-way, "
        f"{end_rss / 1024:.0f} MiB after the last submission"
    )


if __name__ == "__main__":
    main()
