"""Submissions from folders and zips: found, extracted, and given stable unique ids."""

from __future__ import annotations

import zipfile
from pathlib import Path

from grader.batch.sources import Submission, collect, content_hash


class _Cp949Name(zipfile.ZipInfo):
    """A member name stored as CP949 bytes without the UTF-8 flag (Korean Windows zip tools)."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's own name
        return self.filename.encode("cp949"), self.flag_bits


def notebook(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def by_id(submissions: list[Submission]) -> dict[str, Submission]:
    return {s.id: s for s in submissions}


def test_folders_give_stems_and_folder_names_only_where_stems_clash(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    notebook(subs / "alice" / "hw1.ipynb")
    notebook(subs / "bob" / "hw1.ipynb")
    notebook(subs / "2022021241_이다온.ipynb")
    notebook(subs / ".ipynb_checkpoints" / "hw1-checkpoint.ipynb")
    notebook(subs / "notes.txt")
    found = collect([subs, tmp_path / "missing.ipynb"], tmp_path / "scratch")
    assert [(s.id, s.name) for s in found] == [
        ("2022021241_이다온", "2022021241_이다온.ipynb"),
        ("alice_hw1", "hw1.ipynb"),
        ("bob_hw1", "hw1.ipynb"),
        ("missing", "missing.ipynb"),
    ]
    assert found[1].origin == str(subs / "alice" / "hw1.ipynb")
    # Missing paths are passed on, to be recorded as ungradable.
    assert not found[3].path.exists() and found[3].problem == ""


def test_ids_are_the_same_on_every_run(tmp_path: Path) -> None:
    for name in ("b/x.ipynb", "a/x.ipynb", "c/y.ipynb"):
        notebook(tmp_path / "in" / name)
    first = collect([tmp_path / "in"], tmp_path / "s1")
    second = collect([tmp_path / "in"], tmp_path / "s2")
    assert [s.id for s in first] == [s.id for s in second] == ["a_x", "b_x", "y"]


def test_the_same_file_named_twice_gets_a_suffix(tmp_path: Path) -> None:
    path = notebook(tmp_path / "hw.ipynb")
    assert [s.id for s in collect([path, path], tmp_path / "s")] == ["hw", "hw-2"]


def test_zips_with_folders_nested_zips_and_korean_names(tmp_path: Path) -> None:
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zipped:
        zipped.writestr("hw1.ipynb", '{"inner": 1}')
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(_Cp949Name("김철수/hw1.ipynb"), '{"kim": 1}')
        zipped.writestr("이다온/hw1.ipynb", '{"lee": 1}')  # UTF-8, flagged
        zipped.writestr("__MACOSX/이다온/._hw1.ipynb", "resource fork")
        zipped.writestr("readme.txt", "not a notebook")
        zipped.write(inner, "park/submission.zip")
    found = by_id(collect([archive], tmp_path / "scratch"))
    assert set(found) == {"김철수_hw1", "이다온_hw1", "submission_hw1"}
    assert found["김철수_hw1"].origin == f"{archive}:김철수/hw1.ipynb"
    assert found["김철수_hw1"].path.read_text() == '{"kim": 1}'
    assert found["submission_hw1"].origin == f"{archive}:park/submission.zip:hw1.ipynb"
    assert found["submission_hw1"].path.read_text() == '{"inner": 1}'
    assert all(s.path.is_relative_to(tmp_path / "scratch") for s in found.values())


def test_a_member_cannot_write_outside_the_scratch_folder(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../../escaped.ipynb", "{}")
    (found,) = collect([archive], tmp_path / "scratch")
    assert found.path.is_relative_to(tmp_path / "scratch")
    assert not (tmp_path / "escaped.ipynb").exists()


def test_a_broken_zip_is_one_ungradable_submission(tmp_path: Path) -> None:
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 this is not really a zip")
    (found,) = collect([archive], tmp_path / "scratch")
    assert found.id == "broken" and found.problem.startswith("the zip file could not be read")


def test_content_hash_follows_the_bytes(tmp_path: Path) -> None:
    a, b = notebook(tmp_path / "a.ipynb", "{}"), notebook(tmp_path / "b.ipynb", "{ }")
    assert content_hash(a) == content_hash(notebook(tmp_path / "c.ipynb", "{}"))
    assert content_hash(a) != content_hash(b) and content_hash(tmp_path / "none") == ""
