"""Values as data: a JSON tree plus NumPy ``.npy`` buffers, never pickles.

This module is imported on both sides of the boundary (the grader process and the
student's kernel), so it depends on NumPy and the protocol module alone; torch is used
only when a tensor is actually met, and only if the process has already imported it.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

try:  # as grader._kernel.nngrade_codec in the grader
    from .nngrade_protocol import HANDLE_TAG
except ImportError:  # as a top-level module inside the kernel
    from nngrade_protocol import HANDLE_TAG  # type: ignore[no-redef]

__all__ = ["DecodeError", "EncodeError", "decode", "encode", "encode_into"]

MAX_DEPTH = 64

# Objects that are not data can travel as handles: on the way out, ``refer(value)`` gives a
# handle node ({"$": "object", ...}) or None (the value cannot be sent); on the way in,
# ``resolve(node)`` turns a handle node back into the object (see nngrade_objects.py).
Refer = Callable[[Any], "dict[str, Any] | None"]
Resolve = Callable[[dict[str, Any]], Any]


class EncodeError(TypeError):
    """The value cannot cross the boundary as data."""


class DecodeError(ValueError):
    """A tree or buffer is malformed."""


def encode(
    value: Any, *, max_bytes: int | None = None, refer: Refer | None = None
) -> tuple[Any, list[bytes]]:
    """Encode ``value`` as (JSON-able tree, list of .npy buffers)."""
    buffers: list[bytes] = []
    tree = encode_into(value, buffers, max_bytes=max_bytes, refer=refer)
    return tree, buffers


def encode_into(
    value: Any,
    buffers: list[bytes],
    *,
    max_bytes: int | None = None,
    refer: Refer | None = None,
) -> Any:
    """Encode ``value``, appending its arrays to ``buffers`` (shared by several trees)."""
    return _Encoder(buffers, max_bytes, refer).encode(value, 0)


def decode(
    tree: Any, buffers: list[bytes] | list[memoryview], *, resolve: Resolve | None = None
) -> Any:
    """Rebuild the value described by ``tree``; arrays are read with allow_pickle=False."""
    return _Decoder(buffers, resolve).decode(tree, 0)


class _Encoder:
    def __init__(self, buffers: list[bytes], max_bytes: int | None, refer: Refer | None) -> None:
        self.buffers = buffers
        self.max_bytes = max_bytes
        self.refer = refer
        self.total = sum(len(b) for b in buffers)

    def encode(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise EncodeError(f"value is nested more than {MAX_DEPTH} levels deep")
        # Exact type checks first: subclasses of builtins (a str or list subclass with
        # a custom __eq__) are converted to the plain builtin below, never kept.
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and not isinstance(value, np.integer):
            return int(value)
        if isinstance(value, float) and not isinstance(value, np.floating):
            value = float(value)
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
        if isinstance(value, str):
            return str(value)
        if isinstance(value, np.ndarray):
            return {"$": "ndarray", "b": self._add(value)}
        if isinstance(value, np.generic):
            return {"$": "npscalar", "b": self._add(np.asarray(value))}
        if _is_tensor(value):
            return self._tensor(value)
        if isinstance(value, list):
            return [self.encode(item, depth + 1) for item in value]
        if isinstance(value, tuple):
            return {"$": "tuple", "v": [self.encode(item, depth + 1) for item in value]}
        if isinstance(value, dict):
            items = value.items()
            pairs = [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in items]
            return {"$": "dict", "v": pairs}
        node = self.refer(value) if self.refer is not None else None
        if node is not None:
            return node
        raise EncodeError(f"a value of type {type(value).__name__} cannot be sent as data")

    def _tensor(self, tensor: Any) -> dict[str, Any]:
        torch = sys.modules["torch"]
        dtype = str(tensor.dtype).removeprefix("torch.")
        data = tensor.detach().cpu()
        if data.dtype == torch.bfloat16:  # NumPy has no bfloat16: widen, restore on decode
            data = data.float()
        return {
            "$": "tensor",
            "b": self._add(data.numpy()),
            "dtype": dtype,
            "requires_grad": bool(tensor.requires_grad),
        }

    def _add(self, array: np.ndarray) -> int:
        if array.dtype.hasobject:
            raise EncodeError("arrays of Python objects (dtype=object) cannot be sent as data")
        out = io.BytesIO()
        np.lib.format.write_array(out, np.asarray(array), allow_pickle=False)
        data = out.getvalue()
        self.total += len(data)
        if self.max_bytes is not None and self.total > self.max_bytes:
            raise EncodeError(
                f"the value is too large to send ({self.total:,} bytes; the limit is "
                f"{self.max_bytes:,})"
            )
        self.buffers.append(data)
        return len(self.buffers) - 1


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _read_array(buffers: list[bytes] | list[memoryview], index: Any) -> np.ndarray:
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise DecodeError(f"buffer index {index!r} out of range")
    try:
        return np.lib.format.read_array(io.BytesIO(bytes(buffers[index])), allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DecodeError(f"buffer {index} is not a valid .npy array: {exc}") from exc


class _Decoder:
    def __init__(self, buffers: list[bytes] | list[memoryview], resolve: Resolve | None) -> None:
        self.buffers = buffers
        self.resolve = resolve

    def decode(self, tree: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise DecodeError(f"tree is nested more than {MAX_DEPTH} levels deep")
        if tree is None or isinstance(tree, bool | int | float | str):
            return tree
        if isinstance(tree, list):
            return [self.decode(item, depth + 1) for item in tree]
        if not isinstance(tree, dict):
            raise DecodeError(f"unexpected node of type {type(tree).__name__}")
        tag = tree.get("$")
        if tag == "float":
            return float(tree["v"])
        if tag == "tuple":
            return tuple(self.decode(item, depth + 1) for item in tree["v"])
        if tag == "dict":
            depth += 1
            pairs = [(self.decode(k, depth), self.decode(v, depth)) for k, v in tree["v"]]
            try:
                return dict(pairs)
            except TypeError as exc:  # a list as a key
                raise DecodeError(f"unusable dict key: {exc}") from None
        if tag == "ndarray":
            return _read_array(self.buffers, tree["b"])
        if tag == "npscalar":
            return _read_array(self.buffers, tree["b"])[()]
        if tag == "tensor":
            return _decode_tensor(tree, _read_array(self.buffers, tree["b"]))
        if tag == HANDLE_TAG and self.resolve is not None:
            return self.resolve(tree)
        raise DecodeError(f"unknown tag {tag!r}")


def _decode_tensor(tree: dict[str, Any], array: np.ndarray) -> Any:
    try:
        import torch  # already imported wherever a tensor was made
    except ImportError:
        return array
    tensor = torch.from_numpy(array)
    dtype = getattr(torch, str(tree.get("dtype", "")), None)
    if isinstance(dtype, torch.dtype) and tensor.dtype != dtype:
        tensor = tensor.to(dtype)
    if tree.get("requires_grad") and (tensor.is_floating_point() or tensor.is_complex()):
        tensor.requires_grad_(True)
    return tensor
