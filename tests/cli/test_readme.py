"""The documentation's examples work as written: every ```sh block after a `<!-- tested -->`
comment in README.md or docs/*.md runs in a temporary folder with the venv on PATH; only the
checkout's paths are filled in.

A marker may say what the block expects, in clauses separated by commas:
`exit 1` (the exit code; default 0), `in a bundle of ASSIGNMENT at DIR` (what the reader is
said to have: the student's copy, DIR relative to the folder the block runs in),
`writes PATH...` (files or folders that must exist afterwards) and `prints "TEXT"` (in the
output, stdout or stderr).
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli.commands import main
from tests.course_samples import ROOT, VENV_BIN, student_env

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A marker starts its line; in a sentence (`<!-- tested -->` in backquotes) it is not one.
_MARKER = re.compile(r"^[ ]*<!-- tested", re.M)
# A block may be indented, as in a list item; its fences are indented alike.
_BLOCK = re.compile(
    r"^(?P<indent>[ ]*)<!-- tested(?::(?P<spec>[^>]*))? -->\n"
    r"(?P=indent)```sh\n(?P<code>.*?)^(?P=indent)```",
    re.S | re.M,
)
_CLAUSE = re.compile(
    r"(?:exit (?P<exit>\d+)"
    r"|in a bundle of (?P<assignment>[^\s,]+) at (?P<folder>[^\s,]+)"
    r"|writes (?P<writes>[^\s,]+(?: [^\s,]+)*)"
    r'|prints "(?P<prints>[^"]*)")'
    r"\s*(?:,\s*|$)"
)
# Repository paths in an example, as a reader in the checkout would type them.
_REPO_PATH = re.compile(r"(?<![\w/.-])(\.venv/bin|assignments|examples)/")


@dataclass(frozen=True)
class Example:
    page: str
    section: str
    code: str
    exit_code: int = 0
    bundle: tuple[str, str] | None = None  # (assignment, folder)
    writes: tuple[str, ...] = ()
    prints: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.page}: {self.section}"


def _example(page: str, section: str, code: str, spec: str) -> Example:
    """The example, with what its marker's clauses say it does."""
    exit_code, bundle = 0, None
    writes: list[str] = []
    prints: list[str] = []
    position, spec = 0, spec.strip()
    while position < len(spec):
        match = _CLAUSE.match(spec, position)
        if match is None:
            raise ValueError(f"{page}, {section}: a tested marker's {spec[position:]!r}")
        position = match.end()
        if match["exit"]:
            exit_code = int(match["exit"])
        elif match["assignment"]:
            bundle = (match["assignment"], match["folder"])
        elif match["writes"]:
            writes += match["writes"].split()
        else:
            prints.append(match["prints"])
    return Example(page, section, code, exit_code, bundle, tuple(writes), tuple(prints))


def examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    name = page.relative_to(ROOT).as_posix()
    found = []
    for match in _BLOCK.finditer(text):
        section = re.findall(r"^#+ (.+)$", text[: match.start()], re.M)[-1]
        code = textwrap.dedent(match["code"])
        found.append(_example(name, section, code, match["spec"] or ""))
    return found


ALL = [example for page in PAGES for example in examples(page)]


def _fill_paths(code: str) -> str:
    def absolute(match: re.Match[str]) -> str:
        return f"{VENV_BIN}/" if match[1] == ".venv/bin" else f"{ROOT / match[1]}/"

    return _REPO_PATH.sub(absolute, code)


def test_each_users_section_has_a_tested_example() -> None:
    sections = {example.section for example in ALL if example.page == "README.md"}
    assert {
        "Grading a class (instructors)",
        "Checking your notebook (students)",
        "Assignment repositories and CI",
    } <= sections


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_marker_is_an_example(page: Path) -> None:
    """A misspelt marker, or one not followed by a shell block, fails rather than being
    silently skipped."""
    text = page.read_text(encoding="utf-8")
    assert len(_MARKER.findall(text)) == len(examples(page))


@pytest.mark.kernel
@pytest.mark.parametrize("example", ALL, ids=str)
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
    output = f"{script}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == example.exit_code, output
    assert [path for path in example.writes if not (tmp_path / path).exists()] == [], output
    assert [text for text in example.prints if text not in done.stdout + done.stderr] == [], output
