"""What travels to a remote worker: the assignment's zip, a submission's bytes, the options."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.batch.dask_executor import _AssignmentPlugin
from grader.batch.shipping import (
    options_from_data,
    options_to_data,
    pack_assignment,
    ticket_for,
    unpack_assignment,
)
from grader.batch.sources import Submission
from grader.grading.assignment import Assignment
from grader.grading.engine import GradingOptions
from grader.runner.limits import Limits
from tests.conftest import CELL_TIMEOUT, NOTEBOOKS, RELU, SEED


def test_the_assignment_ships_whole_but_without_the_solution(tmp_path: Path) -> None:
    original = Assignment.load(RELU)
    shipment = pack_assignment(original)
    names = zipfile.ZipFile(io.BytesIO(shipment.data)).namelist()
    assert "test_relu.py" in names and "template.ipynb" in names
    assert "packages/reference/__init__.py" in names  # what the checks import
    assert not any("solution" in name for name in names)
    assert not any("__pycache__" in name for name in names)
    unpacked = unpack_assignment(shipment, tmp_path)
    assert unpacked.root == tmp_path / shipment.version
    assert unpacked.version == shipment.version == original.version
    assert unpacked.solution is None or not unpacked.solution.exists()


def test_an_unpacked_assignment_is_reused(tmp_path: Path) -> None:
    shipment = pack_assignment(Assignment.load(RELU))
    first = unpack_assignment(shipment, tmp_path)
    marker = first.root / "unpacked-once"
    marker.write_text("")
    again = unpack_assignment(shipment, tmp_path)
    assert again.root == first.root and marker.exists()
    assert [p.name for p in tmp_path.iterdir()] == [shipment.version]  # no partial copies


def test_options_travel_as_data_and_keep_the_workers_folders_private(tmp_path: Path) -> None:
    options = GradingOptions(
        cell_timeout=7.5,
        seed=3,
        sandbox="none",
        limits=Limits(memory=2**29),
        private_paths=(Path("/client/out"),),
    )
    data = options_to_data(options)
    assert data["private_paths"] == ["/client/out"] and data["limits"]["memory"] == 2**29
    back = options_from_data(data, tmp_path)
    assert back.private_paths == (Path("/client/out"), tmp_path)
    assert options_from_data(data) == options


def test_a_file_that_cannot_be_shipped_has_no_ticket(tmp_path: Path) -> None:
    missing = Submission("gone", "gone.ipynb", str(tmp_path / "gone.ipynb"), tmp_path / "x")
    broken = Submission("zip", "a.zip", "a.zip", NOTEBOOKS / "correct.ipynb", "unreadable")
    assert ticket_for(missing) is None and ticket_for(broken) is None


@pytest.mark.kernel
def test_a_worker_grades_the_shipped_bytes_not_the_clients_file(tmp_path: Path) -> None:
    """The worker's side of a task, run here: the client's file is gone by then."""
    client_copy = tmp_path / "client" / "alice.ipynb"
    client_copy.parent.mkdir()
    client_copy.write_bytes((NOTEBOOKS / "correct.ipynb").read_bytes())
    ticket = ticket_for(Submission("alice", "alice.ipynb", "class.zip:alice.ipynb", client_copy))
    assert ticket is not None
    client_copy.unlink()
    plugin = _AssignmentPlugin(pack_assignment(Assignment.load(RELU)))
    worker = SimpleNamespace(local_directory=str(tmp_path / "worker"))
    plugin.setup(worker)  # type: ignore[arg-type]
    assert plugin.assignment.root.is_relative_to(tmp_path / "worker")
    settings = options_to_data(GradingOptions(cell_timeout=CELL_TIMEOUT, seed=SEED))
    result = plugin.grade(ticket, settings)
    assert (result["id"], result["status"], result["score"]) == ("alice", "graded", 10.0)
    assert (result["submission"], result["path"]) == ("alice.ipynb", "class.zip:alice.ipynb")
    # The notebook's scratch folder is gone; only the unpacked assignment stays.
    assert [p.name for p in (tmp_path / "worker" / "nngrade").iterdir()] == ["assignments"]
