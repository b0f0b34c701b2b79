"""``nngrade mark`` (marking written answers in a browser) and ``nngrade export`` (the grade
files written again with the marks)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.batch.out_folder import NoGradebook, export_outputs
from grader.cli.options import fail

__all__ = ["MARKING_COMMANDS"]

_OUT_DIR = click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))


def _show(written: list[tuple[str, Path]]) -> None:
    for what, path in written:
        click.echo(f"{what + ':':12}{path}{'/' if path.is_dir() else ''}")


@click.command()
@_OUT_DIR
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Default: a free port.")
@click.option("--anonymous", is_flag=True, help="Show students as 'Student 01'..., not by name.")
@click.option("--no-browser", is_flag=True, help="Print the address only; open no browser.")
def mark(out_dir: Path, port: int, anonymous: bool, no_browser: bool) -> None:
    """Mark the written answers of OUT_DIR (a folder nngrade grade --out wrote) in a browser.

    Serves a page on 127.0.0.1 only, at an address with a secret token: one question at a
    time across all students, a rubric and reusable comments, keyboard navigation. Each mark
    is stored in OUT_DIR/gradebook.sqlite the moment it is made. Ctrl-C stops the server and
    writes grades.csv, results.json, the reports, gradescope/ and junit.xml again with the
    marks counted (nngrade export OUT_DIR does the same at any time).
    """
    # Imported here: uvicorn and starlette are needed only by this command.
    from grader.marking.server import serve

    try:
        written = serve(
            out_dir,
            port=port,
            anonymous=anonymous,
            open_browser=not no_browser,
            announce=click.echo,  # flushed: a script reading the address gets it at once
        )
    except NoGradebook as exc:
        fail(str(exc))
    click.echo("Grades written again with the marks:")
    _show(written)


@click.command()
@_OUT_DIR
def export(out_dir: Path) -> None:
    """Write the grade files of OUT_DIR again from its gradebook, with the written answers'
    marks counted: the reports, grades.csv, results.json, index.html, gradescope/ and
    junit.xml. Grades nothing."""
    try:
        written = export_outputs(out_dir)
    except NoGradebook as exc:
        fail(str(exc))
    _show(written)


MARKING_COMMANDS = (mark, export)
