"""The ``nngrade`` command line: options parsed, one library call per command, printed."""

from grader.cli.commands import main

__all__ = ["main"]
