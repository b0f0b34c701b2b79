"""What a remote worker needs, as data: the assignment as a zip, a submission as its bytes,
the grading options as a dict.

A worker on another host sees none of the client's files, and runs only the nngrade it
has installed. So the client packs a self-contained copy of the assignment (checks,
hidden checks, support files, the packages the checks import; never the solution) into
zip bytes once per batch; each worker unpacks it once. Each submission travels as its
notebook's bytes with the names it was handed in under, and is written into a scratch
folder on the worker.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypedDict

from grader.batch.sources import Submission
from grader.grading.assignment import CONFIG, Assignment
from grader.grading.engine import GradingOptions
from grader.grading.notebook_file import MAX_BYTES
from grader.runner.limits import Limits

__all__ = [
    "Shipment",
    "Ticket",
    "options_from_data",
    "options_to_data",
    "pack_assignment",
    "submission_from_ticket",
    "ticket_for",
    "unpack_assignment",
]


@dataclass(frozen=True)
class Shipment:
    """An assignment packed for workers: the zip of its copy, and that copy's version
    (content-based: the same as the original's), which names it on the workers."""

    version: str
    data: bytes


class Ticket(TypedDict):
    """One submission as it travels to a worker."""

    id: str
    name: str
    origin: str
    notebook: bytes


def pack_assignment(assignment: Assignment) -> Shipment:
    """The full assignment (hidden checks and packages included: workers are the
    instructor's) as zip bytes."""
    with tempfile.TemporaryDirectory(prefix="nngrade-ship-") as scratch:
        copy = assignment.copy_to(Path(scratch) / "assignment", hidden=True)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
            for file in sorted(copy.root.rglob("*")):
                if file.is_file():
                    zipped.write(file, file.relative_to(copy.root).as_posix())
        return Shipment(copy.version, buffer.getvalue())


def unpack_assignment(shipment: Shipment, folder: Path) -> Assignment:
    """The shipped assignment, unpacked into ``folder/VERSION`` unless it already is there
    (cached by version: unpacked once per worker, whatever the number of batches)."""
    target = folder / shipment.version
    if not (target / CONFIG).is_file():
        folder.mkdir(parents=True, exist_ok=True)
        # Unpacked beside the target and renamed, so a half-written copy is never loaded.
        partial = Path(tempfile.mkdtemp(prefix=f".{shipment.version}-", dir=folder))
        try:
            with zipfile.ZipFile(io.BytesIO(shipment.data)) as zipped:
                zipped.extractall(partial)
            os.replace(partial, target)
        except OSError:
            if not (target / CONFIG).is_file():  # not another worker's copy that won
                raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return Assignment.load(target)


def ticket_for(submission: Submission) -> Ticket | None:
    """The submission with its notebook's bytes; None when there is nothing to ship (the
    file is missing, too large, or could not be extracted), which grading on the client
    turns into an ungradable result before any kernel starts."""
    path = submission.path
    if submission.problem or not path.is_file() or path.stat().st_size > MAX_BYTES:
        return None
    try:
        notebook = path.read_bytes()
    except OSError:
        return None
    return Ticket(
        id=submission.id, name=submission.name, origin=submission.origin, notebook=notebook
    )


def submission_from_ticket(ticket: Ticket, folder: Path) -> Submission:
    """The submission written into ``folder`` on the worker, under a name of ours (never
    the student's file name: no writing outside the folder)."""
    path = folder / "submission.ipynb"
    path.write_bytes(ticket["notebook"])
    return Submission(ticket["id"], ticket["name"], ticket["origin"], path)


def options_to_data(options: GradingOptions) -> dict[str, Any]:
    data = asdict(options)
    data["private_paths"] = [str(path) for path in options.private_paths]
    return data


def options_from_data(data: dict[str, Any], *private: Path) -> GradingOptions:
    """The client's options, with ``private`` (the worker's own folders) kept from the
    kernels besides the client's private paths."""
    options = GradingOptions(**{**data, "limits": Limits(**data["limits"])})
    paths = (*(Path(path) for path in data["private_paths"]), *private)
    return replace(options, private_paths=paths)
