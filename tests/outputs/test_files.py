"""Tests for atomic writes and JSON text that any student output can be written in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.outputs import files
from grader.outputs.files import atomic_write_text, json_text


def test_atomic_write_text_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "grades.csv"
    atomic_write_text(target, "old content that is longer than the new one\n")
    atomic_write_text(target, "새 내용\n")
    assert target.read_text(encoding="utf-8") == "새 내용\n"
    assert [p.name for p in target.parent.iterdir()] == ["grades.csv"]


def test_atomic_write_text_keeps_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "results.json"
    atomic_write_text(target, "complete old file")

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "half a new file")
    assert target.read_text(encoding="utf-8") == "complete old file"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_atomic_write_text_makes_readable_files(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    atomic_write_text(target, "x")
    assert os.stat(target).st_mode & 0o777 == 0o644


def test_json_text_is_indented_utf8_with_a_final_newline() -> None:
    assert json_text({"name": "이다온", "n": 1}) == '{\n  "name": "이다온",\n  "n": 1\n}\n'


def test_json_text_escapes_a_lone_surrogate_so_it_can_be_written(tmp_path: Path) -> None:
    data = {"message": "odd output: \ud800 end"}
    text = json_text(data)
    assert "\\ud800" in text
    target = tmp_path / "result.json"
    atomic_write_text(target, text)  # would raise UnicodeEncodeError unescaped
    assert json.loads(target.read_text(encoding="utf-8")) == data
