"""The README's examples work as written: every ```sh block after a `<!-- tested -->` comment
runs in a temporary folder with the venv on PATH; only the checkout's paths are filled in.

A marker may say what the block expects: `<!-- tested: exit 1 -->` (the exit code), and
`in a bundle of ASSIGNMENT at DIR` (what the reader is said to have: the student's copy).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from tests.course_samples import ROOT, VENV_BIN, student_env

_BLOCK = re.compile(r"<!-- tested(?::(?P<spec>[^>]*))? -->\n```sh\n(?P<code>.*?)```", re.S)
# Repository paths in an example, as a reader in the checkout would type them.
_REPO_PATH = re.compile(r"(?<![\w/.-])(\.venv/bin|assignments|examples)/")


@dataclass(frozen=True)
class Example:
    section: str
    code: str
    exit_code: int
    bundle: tuple[str, str] | None  # (assignment, folder)

    def __str__(self) -> str:
        return self.section


def examples() -> list[Example]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        spec = match["spec"] or ""
        section = re.findall(r"^## (.+)$", text[: match.start()], re.M)[-1]
        code = re.search(r"exit (\d+)", spec)
        bundle = re.search(r"in a bundle of (\S+) at (\S+)", spec)
        found.append(
            Example(
                section,
                match["code"],
                int(code[1]) if code else 0,
                (bundle[1], bundle[2]) if bundle else None,
            )
        )
    return found


def _fill_paths(code: str) -> str:
    def absolute(match: re.Match[str]) -> str:
        return f"{VENV_BIN}/" if match[1] == ".venv/bin" else f"{ROOT / match[1]}/"

    return _REPO_PATH.sub(absolute, code)


def test_each_users_section_has_a_tested_example() -> None:
    sections = {example.section for example in examples()}
    assert {
        "Grading a class (instructors)",
        "Checking your notebook (students)",
        "Assignment repositories and CI",
    } <= sections


@pytest.mark.kernel
@pytest.mark.parametrize("example", examples(), ids=str)
def test_the_example_runs(example: Example, tmp_path: Path) -> None:
    if example.bundle is not None:
        assignment, folder = example.bundle
        run = CliRunner().invoke(main, ["bundle", str(ROOT / assignment), str(tmp_path / folder)])
        assert run.exit_code == 0, run.output
    script = _fill_paths(example.code)
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=student_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == example.exit_code, f"{script}\n{done.stdout}\n{done.stderr}"
