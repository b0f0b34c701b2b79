"""A wheel of the nngrade that is running, for what nngrade generates to carry.

nngrade is not on a package index: a bundle, a CI workflow and a Gradescope zip install it
from a wheel they hold. That wheel is made here from the running installation, whether it
was installed from a wheel or from a checkout (editable): the ``grader`` package's modules,
the HTML templates and the message catalogues, with the installed metadata (dependencies,
the ``nngrade`` command). Only ``grader`` is walked, so reference/ and the assignments never get in.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

import grader

__all__ = ["WheelError", "build_wheel", "wheel_name"]

DISTRIBUTION = "nngrade"
# Fixed times and order: the same installation gives the same bytes.
_DATE = (2020, 1, 1, 0, 0, 0)
_WHEEL = "Wheel-Version: 1.0\nGenerator: nngrade\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


class WheelError(RuntimeError):
    """No wheel can be made: nngrade runs from a source tree that was never installed."""


def _distribution() -> metadata.Distribution:
    # An installed one (dist-info, with METADATA) before a checkout's egg-info (PKG-INFO),
    # which the tests find first since they run from the checkout.
    found = sorted(
        metadata.distributions(name=DISTRIBUTION), key=lambda d: d.read_text("METADATA") is None
    )
    if found:
        return found[0]
    raise WheelError(
        "nngrade runs from a source tree that was never installed, so there is no wheel "
        "of it to ship: install it (pip install -e .) or pass --install"
    )


def wheel_name() -> str:
    """The file name of the running nngrade's wheel."""
    return f"{DISTRIBUTION}-{_distribution().version}-py3-none-any.whl"


def _package_files() -> list[tuple[str, Path]]:
    """(name in the wheel, file) for the grader package, its templates and catalogues."""
    package = Path(grader.__file__).resolve().parent
    # An installed wheel holds grader/templates/; a checkout keeps them in templates/ beside
    # grader/ (pyproject maps them there, as grader/outputs/pages.py finds them).
    templates = package / "templates"
    if not templates.is_dir():
        templates = package.parent / "templates"
    files = [
        (path.relative_to(package.parent).as_posix(), path)
        for path in sorted(package.rglob("*.py"))
        if "__pycache__" not in path.parts and not path.is_relative_to(templates)
    ]
    files += [
        (f"grader/templates/{path.name}", path)
        for path in sorted(templates.iterdir())
        if path.is_file() and path.suffix != ".pyc"
    ]
    # The catalogues are read as .po at run time (grader/runner/i18n.py), as package-data
    # in pyproject ships them.
    files += [
        (path.relative_to(package.parent).as_posix(), path)
        for path in sorted(package.glob("locale/*/LC_MESSAGES/*.po"))
    ]
    return files


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path) -> Path:
    """Write the running nngrade's wheel into ``folder``; return its path."""
    dist = _distribution()
    info = f"{DISTRIBUTION}-{dist.version}.dist-info"
    contents: list[tuple[str, bytes]] = [(n, p.read_bytes()) for n, p in _package_files()]
    meta = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if meta is None:
        raise WheelError(f"the installed {DISTRIBUTION} {dist.version} has no METADATA")
    contents.append((f"{info}/METADATA", meta.encode()))
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:  # the `nngrade` command
        contents.append((f"{info}/entry_points.txt", entry_points.encode()))
    contents.append((f"{info}/WHEEL", _WHEEL.encode()))
    record = [_record_line(name, data) for name, data in contents] + [f"{info}/RECORD,,"]
    contents.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / wheel_name()
    partial = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents:
            entry = zipfile.ZipInfo(name, date_time=_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    partial.replace(path)
    return path
