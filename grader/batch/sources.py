"""Where submissions come from: notebooks, folders of them, and zip files as LMSs hand them out.

Each submission gets an id that is unique in the batch and stable from run to run (the
same inputs give the same ids, which is what lets an interrupted run resume): the file's
stem, made safe for file names, or — when two files share a stem — qualified with just
enough of the folders (or the zip) they came from to tell them apart.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.grading.results import safe_id

__all__ = ["MAX_MEMBER_BYTES", "Submission", "collect", "content_hash"]

MAX_MEMBER_BYTES = 200 * 1024 * 1024  # as submission.MAX_BYTES: larger is ungradable anyway
_ZIP_UTF8_FLAG = 0x800


@dataclass(frozen=True)
class Submission:
    """One notebook to grade."""

    id: str  # unique in the batch, stable across runs; names the report file
    name: str  # the file name as handed in, e.g. 2022021241_이다온.ipynb
    origin: str  # where it was found: a path, or "class.zip:alice/hw1.ipynb"
    path: Path  # a readable file (zip members are extracted to a scratch folder)
    problem: str = ""  # set when the file could not even be extracted: it is ungradable


def collect(paths: Iterable[Path], scratch: Path) -> list[Submission]:
    """Every submission in ``paths``, in a stable order, with unique ids. Zip members are
    extracted under ``scratch``. Paths that do not exist are kept, to be recorded as
    ungradable rather than silently dropped."""
    found: list[tuple[tuple[str, ...], str, str, Path, str]] = []
    for index, path in enumerate(paths):
        for parts, origin, file, problem in _expand(path, scratch / str(index)):
            found.append((parts, parts[-1], origin, file, problem))
    ids = _unique_ids([parts for parts, *_ in found])
    return [
        Submission(id, name, origin, file, problem)
        for id, (_, name, origin, file, problem) in zip(ids, found, strict=True)
    ]


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes; '' for a file that cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


# (path parts naming the submission, origin, readable file, problem)
_Found = tuple[tuple[str, ...], str, Path, str]


def _expand(path: Path, scratch: Path) -> Iterator[_Found]:
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            if not file.is_file() or _ignored(relative.parts):
                continue
            if file.suffix == ".ipynb":
                yield (path.name, *relative.parts), str(file), file, ""
            elif file.suffix.lower() == ".zip":
                parts = (path.name, *relative.parts)
                yield from _members(file, str(file), parts, scratch / str(relative))
    elif path.suffix.lower() == ".zip" and path.is_file():
        yield from _members(path, str(path), (path.name,), scratch)
    else:
        yield (path.name,), str(path), path, ""


def _members(archive: Path, label: str, parts: tuple[str, ...], scratch: Path) -> Iterator[_Found]:
    """The notebooks inside a zip (one level of zips inside it too), extracted; ``label``
    names the archive in origins (``class.zip:lee/sub.zip:hw1.ipynb`` when nested)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            infos = sorted(zipped.infolist(), key=lambda info: _member_name(info))
            for number, info in enumerate(infos):
                name = _member_name(info)
                member = PurePosixPath(name)
                if info.is_dir() or _ignored(member.parts):
                    continue
                suffix = member.suffix.lower()
                if suffix not in (".ipynb", ".zip"):
                    continue
                origin = f"{label}:{name}"
                member_parts = (*parts, *member.parts)
                if info.file_size > MAX_MEMBER_BYTES:
                    problem = f"the file is larger than {MAX_MEMBER_BYTES // 2**20} MB"
                    yield member_parts, origin, archive, problem
                    continue
                # Our own file name, never the member's path: no writing outside scratch.
                target = scratch / f"{number}{suffix}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zipped.read(info))
                if suffix == ".ipynb":
                    yield member_parts, origin, target, ""
                elif len(parts) < 3:  # a zip of zips, as some LMSs hand them out; no deeper
                    yield from _members(target, origin, member_parts, scratch / str(number))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        yield parts, label, archive, f"the zip file could not be read: {exc}"


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, repaired when a zip tool stored UTF-8 or CP949 (Korean Windows)
    bytes without setting the UTF-8 flag, which Python then decodes as CP437."""
    if info.flag_bits & _ZIP_UTF8_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _ignored(parts: tuple[str, ...]) -> bool:
    return any(p in ("__MACOSX", ".ipynb_checkpoints") or p.startswith("._") for p in parts)


def _unique_ids(all_parts: list[tuple[str, ...]]) -> list[str]:
    """The stem alone where it is unique; otherwise prefixed with as many of the enclosing
    folder names as it takes; a numeric suffix for exact duplicates (the same file named
    twice)."""
    depth = [1] * len(all_parts)
    while True:
        ids = [_id(parts, d) for parts, d in zip(all_parts, depth, strict=True)]
        clashes: dict[str, list[int]] = defaultdict(list)
        for index, id in enumerate(ids):
            clashes[id].append(index)
        grow = [
            i
            for group in clashes.values()
            if len(group) > 1
            for i in group
            if depth[i] < len(all_parts[i])
        ]
        if not grow:
            break
        for i in grow:
            depth[i] += 1
    seen: dict[str, int] = defaultdict(int)
    unique = []
    for id in ids:
        seen[id] += 1
        unique.append(id if seen[id] == 1 else f"{id}-{seen[id]}")
    return unique


def _id(parts: tuple[str, ...], depth: int) -> str:
    *folders, name = parts[-depth:]
    return safe_id("_".join(PurePosixPath(part).stem for part in [*folders, name]))
