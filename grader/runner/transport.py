"""The transport a check's requests travel by: the live kernel, or an in-process fake.

``Transport`` is what the checks' ``Notebook`` needs from wherever the student's code
lives; ``runner.cells.LiveNotebook`` is the real one. ``InProcessTransport`` runs the kernel
helper on a plain namespace in this process, for fast unit tests of checks.
"""

from __future__ import annotations

from typing import Any, Protocol

from grader._kernel import nngrade_kernel
from grader._kernel.nngrade_protocol import Reply, decode_reply

__all__ = ["InProcessTransport", "Transport"]


class Transport(Protocol):
    """Sends one request to wherever the student's code lives and returns the reply, decoded.

    Besides the kernel helper's statuses, a transport may answer ``timeout`` (the call
    was interrupted) or ``kernel_died``; it never raises for the student's misdeeds.
    ``generation`` counts the kernel's starts: objects held in the kernel live as long as
    the generation they were made in.
    """

    @property
    def generation(self) -> int: ...

    def request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[Reply, list[bytes]]: ...

    def describe_cell(self, execution_count: int | None) -> str | None: ...


class InProcessTransport:
    """Runs the kernel helper in this process on a plain namespace: for fast unit tests.

    It exercises the same request handling and encoding as the real kernel; it only
    lacks the process boundary, so it must never run untrusted code. A reply that breaks
    the protocol raises ProtocolError here: in tests, a misspelled status fails loudly.
    """

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self.objects = nngrade_kernel.ObjectTable()
        self.generation = 1

    def request(
        self, data: dict[str, Any], buffers: list[bytes], timeout: float
    ) -> tuple[Reply, list[bytes]]:
        reply, out = nngrade_kernel.handle(self.namespace, data, buffers, objects=self.objects)
        return decode_reply(reply), out

    def restart(self) -> None:
        """What a kernel restart does to held objects: they are gone."""
        self.objects = nngrade_kernel.ObjectTable()
        self.generation += 1

    def describe_cell(self, execution_count: int | None) -> str | None:
        return None
