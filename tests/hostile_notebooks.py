"""Hostile and broken submissions for the ReLU assignment, and a way to grade a batch of them.

Each notebook is built here from its cells (some need values known only at run time:
the absolute path of the checks, the port of a listening socket, a secret in the
grader's environment). ``grade_batch`` runs the real ``nngrade grade`` command in a
subprocess, so a notebook that kills its parent or floods the grader would show.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.grading.results import SubmissionResult
from tests.conftest import NOTEBOOKS, RELU

ROOT = RELU.parent.parent
RELU_CELL = "import numpy as np\n\ndef relu(x):\n    return np.maximum(0, x)"
D_RELU_CELL = "def d_relu(x):\n    return np.where(x > 0, 1.0, 0.0)"
WRONG_CELL = (  # wrong for every input
    "import numpy as np\n\ndef relu(x):\n    return x * 0 - 1\n\n"
    "def d_relu(x):\n    return x * 0 + 0.5"
)
# Raised by a snooping cell that found what it looked for: must never appear in results.
# The notebooks build it at run time, so a traceback showing their source does not count.
LEAK = "LEAKED"
RAISE_LEAK = "raise RuntimeError('LEAK' + 'ED')"
SECRET_NAME = "NNGRADE_TEST_SECRET"
SECRET = "nngrade-test-secret-4f1c9e"  # in the grader's environment, never in a notebook
LINGERING = "7777"  # `sleep 7777`: a process a notebook leaves behind


@dataclass(frozen=True)
class Context:
    """What the hostile notebooks may know about the machine that grades them."""

    out_dir: Path
    other_submission: Path
    port: int  # a socket listening on the grader's loopback


def notebook(*cells: str, metadata: dict[str, object] | None = None) -> nbformat.NotebookNode:
    # Ids by position: nbformat's random 8-hex ids collide now and then in the 5,000-cell
    # notebook, and the DuplicateCellId warning is an error in this suite.
    nb = new_notebook(
        cells=[new_code_cell(source, id=f"cell-{n}") for n, source in enumerate(cells)]
    )
    python = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    nb.metadata = metadata if metadata is not None else python
    return nb


def correct(*middle: str) -> nbformat.NotebookNode:
    """relu, then the hostile cells, then d_relu: full marks if grading survives them."""
    return notebook(RELU_CELL, *middle, D_RELU_CELL)


def cheats(ctx: Context) -> dict[str, nbformat.NotebookNode]:
    return {
        "cheat_patches": notebook(
            WRONG_CELL,
            "import builtins, pytest, numpy.testing\n"
            "np.allclose = lambda *a, **k: True\n"
            "np.array_equal = lambda *a, **k: True\n"
            "np.testing.assert_allclose = lambda *a, **k: None\n"
            "pytest.approx = lambda *a, **k: a[0]\n"
            "pytest.fail = lambda *a, **k: None\n"
            "builtins.AssertionError = type('Nope', (Exception,), {})\n"
            "print('All tests passed! Score: 10/10')",
        ),
        "cheat_helper": notebook(
            WRONG_CELL,
            "import nngrade_kernel, nngrade_codec\n"
            "def handle(namespace, request, buffers, cell_of=None):\n"
            "    return {'id': request.get('id'), 'status': 'ok', 'value': -1.0}, []\n"
            "nngrade_kernel.handle = handle\n"
            "nngrade_codec.decode = lambda *a: -1.0",
        ),
        "cheat_eq": notebook(
            "import numpy as np\n"
            "class Anything:\n"
            "    def __eq__(self, other):\n"
            "        return True\n"
            "def relu(x):\n"
            "    return Anything()\n"
            "def d_relu(x):\n"
            "    return np.zeros(2**21)  # 16 MiB, over the value size limit",
        ),
        "cheat_outputs": notebook(
            WRONG_CELL,
            "import os\n"
            "open('grades.csv', 'w').write('id,score\\ncheat_outputs,10\\n')\n"
            "open('results.json', 'w').write('{}')\n"
            "os.makedirs('reports', exist_ok=True)\n"
            "open('reports/cheat_outputs.html', 'w').write('10/10')",
            f"open({str(ctx.out_dir / 'grades.csv')!r}, 'a').write('cheat_outputs,10,10\\n')",
        ),
    }


def snooping(ctx: Context) -> dict[str, nbformat.NotebookNode]:
    checks = RELU / "test_relu.py"
    reference = ROOT / "reference" / "activations.py"
    return {
        "snoop_files": notebook(
            f"print(open({str(checks)!r}).read())\n{RAISE_LEAK}",
            f"print(open({str(ctx.other_submission)!r}).read())\n{RAISE_LEAK}",
            f"import os\nprint(os.listdir({str(RELU)!r}))\n{RAISE_LEAK}",
            # Borrow relu from the reference solution's source: no credit for relu.
            f"import numpy as np\nexec(open({str(reference)!r}).read())",
            D_RELU_CELL,
        ),
        "snoop_env": correct(
            "import os, glob\n"
            f"found = [os.environ.get({SECRET_NAME!r})]\n"
            "for path in glob.glob('/proc/*/environ'):\n"
            "    try:\n"
            "        found += [v for v in open(path, 'rb').read().split(b'\\0')\n"
            f"                  if v.startswith(b{SECRET_NAME!r})]\n"
            "    except OSError:\n"
            "        pass\n"
            "if any(found):\n    raise RuntimeError('LEAK' + 'ED' + str(found))",
        ),
        "snoop_network": correct(
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {ctx.port}), timeout=2)\n"
            f"{RAISE_LEAK}",
            f"socket.create_connection(('1.1.1.1', 53), timeout=2)\n{RAISE_LEAK}",
        ),
        "borrow_reference": notebook(
            "from reference import relu",
            "try:\n    import grader.checks\nexcept ImportError:\n    pass",
            "import numpy as np\n" + D_RELU_CELL,
        ),
    }


def resource_abuse() -> dict[str, nbformat.NotebookNode]:
    return {
        "sleep_forever": correct("import time\ntime.sleep(10**6)"),
        "memory_bomb": correct(
            "hog = []\nwhile True:\n    hog.append(bytearray(32 * 2**20))",
            "huge = np.ones((10**6, 10**6))",
        ),
        "fork_bomb": correct("import os\nwhile True:\n    os.fork()"),
        "disk_bomb": correct(
            "with open('big.bin', 'wb') as f:\n    for _ in range(1024):\n"
            "        f.write(bytes(2**20))",
            "for i in range(64):\n    open(f'part{i}.bin', 'wb').write(bytes(16 * 2**20))",
        ),
        "wait_input": correct("answer = input('Continue? ')"),
        "cpu_burn": correct("while True:\n    pass"),
        "many_cells": notebook(RELU_CELL, D_RELU_CELL, *(f"x = {i}" for i in range(4998))),
        "ignore_sigint": correct(
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)",
            "while True:\n    pass",
        ),
        "threads_left_running": correct(
            "import threading\ndef spin():\n    while True:\n        pass\n"
            "threading.Thread(target=spin, daemon=True).start()",
            "import subprocess\n"
            f"subprocess.Popen(['sleep', {LINGERING!r}], start_new_session=True)",
        ),
        "kill_parent": correct(
            "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
            "import os, signal\nos.kill(1, signal.SIGKILL)",
        ),
    }


def broken_files(folder: Path) -> list[str]:
    """Write the broken files straight into ``folder``; returns their names (stems)."""
    (folder / "invalid_json.ipynb").write_text('{"cells": [', encoding="utf-8")
    (folder / "empty.ipynb").write_bytes(b"")
    v3_cell = {"cell_type": "code", "input": RELU_CELL + "\n\n" + D_RELU_CELL, "outputs": []}
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "old"}}
    v3["worksheets"] = [{"cells": [v3_cell], "metadata": {}}]
    (folder / "nbformat3.ipynb").write_text(json.dumps(v3), encoding="utf-8")
    nbformat.write(notebook(), folder / "no_cells.ipynb")
    markdown = new_notebook(cells=[new_markdown_cell("# I wrote my answers on paper")])
    nbformat.write(markdown, folder / "markdown_only.ipynb")
    nbformat.write(notebook(RELU_CELL, D_RELU_CELL, metadata={}), folder / "no_kernelspec.ipynb")
    r_spec = {
        "kernelspec": {"name": "ir", "display_name": "R", "language": "R"},
        "language_info": {"name": "R"},
    }
    nbformat.write(notebook("relu <- function(x) pmax(0, x)", metadata=r_spec), folder / "r.ipynb")
    text = nbformat.writes(correct("# caf\u00e9 MARKER"))
    (folder / "non_utf8.ipynb").write_bytes(text.encode().replace(b"MARKER", b"\xff\xfe"))
    images = correct()
    png = base64.b64encode(os.urandom(50 * 2**20 * 3 // 4)).decode()
    images.cells[0].outputs = [nbformat.v4.new_output("display_data", {"image/png": png})]
    nbformat.write(images, folder / "images_50mb.ipynb")
    return [
        "invalid_json",
        "empty",
        "nbformat3",
        "no_cells",
        "markdown_only",
        "no_kernelspec",
        "r",
        "non_utf8",
        "images_50mb",
    ]


def write(folder: Path, notebooks: dict[str, nbformat.NotebookNode]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / f"{name}.ipynb")


def add_correct(folder: Path) -> Path:
    path = folder / "correct.ipynb"
    path.write_bytes((NOTEBOOKS / "correct.ipynb").read_bytes())
    return path


@dataclass
class Batch:
    """One run of ``nngrade grade``: its exit code, console output and results."""

    code: int
    stdout: str
    stderr: str
    out_dir: Path
    results: dict[str, SubmissionResult]

    def report(self, name: str) -> str:
        return (self.out_dir / "reports" / f"{self.results[name].id}.html").read_text()


def grade_batch(folder: Path, out_dir: Path, *options: str) -> Batch:
    nngrade = Path(sys.executable).with_name("nngrade")
    env = {**os.environ, SECRET_NAME: SECRET}
    done = subprocess.run(
        [str(nngrade), "grade", str(RELU), str(folder), "--out", str(out_dir), *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    data = json.loads((out_dir / "results.json").read_text()) if out_dir.exists() else {}
    results = [SubmissionResult.from_dict(s) for s in data.get("submissions", [])]
    by_name = {Path(r.path).stem: r for r in results}
    return Batch(done.returncode, done.stdout, done.stderr, out_dir, by_name)


def kinds(result: SubmissionResult) -> dict[int, set[str]]:
    """Cell position -> the kinds of events recorded for it."""
    out: dict[int, set[str]] = {}
    for event in result.cells:
        out.setdefault(event.cell, set()).add(event.kind)
    return out
