"""The documentation stays true to the code: `make docs` builds the API reference for check
files, and what README.md and docs/*.md name exists (their links and anchors, repository
paths, nngrade's commands and options). Their shell examples run in tests/cli/test_readme.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pdoc
import pytest

import grader
import grader.checks
from grader.cli.commands import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# The names a check file imports: grader.checks' own list once it has one, else grader's.
PUBLIC = list(getattr(grader.checks, "__all__", grader.__all__))

_FENCE = re.compile(r"^[ ]*```.*?^[ ]*```", re.S | re.M)
_INLINE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.M)
# Options of other tools that the pages quote: pip, dask worker, pytest, the benchmark.
FOREIGN_OPTIONS = {
    "--extra-index-url",
    "--nworkers",
    "--nthreads",
    "--strict-markers",
    # benchmarks/batch.py's own
    "--notebooks",
    "--torch-notebooks",
    "--repeat",
    "--fork-only",
}
# Paths that exist only elsewhere: in the wheel, or after `make docs`.
ELSEWHERE = ("grader/templates/", "docs/_build/")
_REPO_PATH = re.compile(
    r"(?:grader|tests|reference|assignments|benchmarks|templates|examples|docs|\.ci)/[\w./-]*"
)
_LAYER_PATH = re.compile(r"(?:cli|course|batch|outputs|grading|checks|runner|_kernel)/\w+\.py")


def _prose(text: str) -> str:
    """The page without its fenced blocks: headings and links inside code are not ones."""
    return _FENCE.sub("", text)


def _code(text: str) -> list[str]:
    """The page's shell blocks and inline code spans, whitespace folded: where commands,
    options and paths are written as a reader would type them."""
    shell = [block for block in _FENCE.findall(text) if block.lstrip().startswith("```sh")]
    return [" ".join(piece.split()) for piece in shell + _INLINE.findall(_prose(text))]


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def test_make_docs_builds_the_reference_of_the_public_api(tmp_path: Path) -> None:
    recipe = re.search(
        r"\$\(BIN\)/pdoc (\S+) --output-directory (\S+)", (ROOT / "Makefile").read_text()
    )
    assert recipe is not None, "make docs runs pdoc"
    module, out = recipe.groups()
    assert module == "grader.checks"
    assert f"/{out}/" in (ROOT / ".gitignore").read_text().splitlines()

    pdoc.pdoc(module, output_directory=tmp_path)

    page = tmp_path / "grader" / "checks.html"
    assert page.is_file()
    # The package's page, and the pages of its public submodules while it has any.
    html = "".join(
        path.read_text() for path in [page, *(tmp_path / "grader" / "checks").glob("*.html")]
    )
    documented = set(re.findall(r'<section id="([A-Za-z_]\w*)">', html))
    assert {"Notebook", "expect_array", "CheckFailure"} <= set(PUBLIC)
    assert [name for name in PUBLIC if name not in documented] == []


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_links_and_anchors_exist(page: Path) -> None:
    missing = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            missing.append(target)
        elif anchor and linked.suffix == ".md":
            headings = _HEADING.findall(_prose(linked.read_text(encoding="utf-8")))
            if anchor not in {_anchor(heading) for heading in headings}:
                missing.append(target)
    assert missing == []


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_repository_paths_exist(page: Path) -> None:
    named = set()
    for code in _code(page.read_text(encoding="utf-8")):
        for word in code.split():
            if _REPO_PATH.fullmatch(word):
                named.add(word)
            elif _LAYER_PATH.fullmatch(word):
                named.add(f"grader/{word}")
    placeholders = re.compile(r"[A-Z]{2,}|\*")  # examples/NAME/, reports/ID.html, assignments/*/
    missing = [
        path
        for path in sorted(named)
        if not placeholders.search(path)
        and not path.startswith(ELSEWHERE)
        and not (ROOT / path).exists()
    ]
    assert missing == []


def _options() -> set[str]:
    names = {"--help", "--version"}
    for command in main.commands.values():
        for param in command.params:
            if isinstance(param, click.Option):
                names.update(param.opts + param.secondary_opts)
    return names


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_commands_and_options_exist(page: Path) -> None:
    code = _code(page.read_text(encoding="utf-8"))
    commands = {word for piece in code for word in re.findall(r"\bnngrade ([a-z][\w-]*)", piece)}
    options = {word for piece in code for word in re.findall(r"(?<![\w-])--[a-z][\w-]*", piece)}
    unknown = (commands - set(main.commands), options - _options() - FOREIGN_OPTIONS)
    assert unknown == (set(), set())
