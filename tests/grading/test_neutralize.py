"""Colab and IPython habits are rewritten so that they neither run nor break the cell."""

from __future__ import annotations

import ast

import pytest

from grader.grading.neutralize import neutralize


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("!pip install torch", "shell commands"),
        ("%pip install numpy", "%pip"),
        ("%conda install numpy", "%conda"),
        ("%cd /content/drive/MyDrive/hw", "%cd"),
        ("%matplotlib inline", "%matplotlib"),
        ("files = !ls", "shell commands"),
        ("drive.mount('/content/drive')", "Google Drive"),
    ],
)
def test_habits_are_listed_with_a_reason(line: str, reason: str) -> None:
    source, skipped = neutralize(f"x = 1\n{line}\ny = 2", cell=4)
    assert [(s.cell, s.line, s.text) for s in skipped] == [(4, 2, line)]
    assert reason in skipped[0].reason
    ast.parse(source)  # what is left is plain Python
    assert source.splitlines()[0] == "x = 1" and source.splitlines()[2] == "y = 2"


def test_indented_shell_escape_keeps_the_block_valid() -> None:
    source, skipped = neutralize("if True:\n    !echo hi\nz = 3", cell=1)
    ast.parse(source)
    assert source.splitlines()[1] == "    pass" and len(skipped) == 1


def test_backslash_continued_shell_command_is_skipped_whole() -> None:
    source, skipped = neutralize("!pip install torch \\\n    numpy\nx = 1", cell=1)
    assert source.splitlines() == ["pass", "", "x = 1"]
    assert len(skipped) == 1


def test_shell_cell_magic_skips_the_cell() -> None:
    source, skipped = neutralize("%%bash\nrm -rf /\n", cell=2)
    assert source == ""
    assert skipped[0].reason.startswith("%%bash")


def test_timing_magics_run_the_statement_once() -> None:
    source, skipped = neutralize("%time y = f(3)\n", cell=1)
    assert source.strip() == "y = f(3)" and skipped == []
    source, _ = neutralize("%%timeit\ny = f(3)", cell=1)
    assert source.splitlines() == ["pass", "y = f(3)"]


def test_ordinary_code_is_untouched() -> None:
    code = "import numpy as np\ndef relu(x):\n    return np.maximum(0, x)  # 100% sure\n"
    assert neutralize(code, cell=1) == (code.rstrip("\n"), [])
