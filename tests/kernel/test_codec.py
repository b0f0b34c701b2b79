"""Values cross the boundary as JSON plus .npy bytes: round trips and refusals."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from grader._kernel.nngrade_codec import DecodeError, EncodeError, decode, encode


def roundtrip(value: object) -> object:
    tree, buffers = encode(value)
    # The tree must be plain JSON and the buffers plain bytes: nothing else crosses.
    tree = json.loads(json.dumps(tree, allow_nan=False))
    assert all(isinstance(b, bytes) for b in buffers)
    return decode(tree, buffers)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.arange(6, dtype=np.int64).reshape(3, 2),
        np.array([True, False, True]),
        np.array(3.5),  # 0-D
        np.zeros((0, 4)),  # empty
        np.array([np.nan, np.inf, -np.inf]),
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    ],
    ids=["float32", "int64", "bool", "0-D", "empty", "non-finite", "fortran-order"],
)
def test_arrays_keep_dtype_shape_and_values(array: np.ndarray) -> None:
    back = roundtrip(array)
    assert isinstance(back, np.ndarray)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_numpy_scalars_stay_numpy_scalars() -> None:
    back = roundtrip(np.float32(1.5))
    assert isinstance(back, np.float32) and back == np.float32(1.5)


def test_tensors_keep_dtype_shape_and_requires_grad() -> None:
    tensor = torch.arange(6, dtype=torch.float64).reshape(2, 3).requires_grad_(True)
    back = roundtrip(tensor)
    assert isinstance(back, torch.Tensor)
    assert back.dtype == torch.float64 and back.shape == (2, 3) and back.requires_grad
    assert torch.equal(back.detach(), tensor.detach())


def test_bfloat16_tensors_survive() -> None:
    back = roundtrip(torch.tensor([1.5, -2.0], dtype=torch.bfloat16))
    assert isinstance(back, torch.Tensor) and back.dtype == torch.bfloat16
    assert back.tolist() == [1.5, -2.0]


def test_nested_containers() -> None:
    value = {
        "a": [1, 2.5, None, True, "text"],
        "b": (np.ones(2), {"inner": (1, 2)}),
        3: float("nan"),
        (1, "k"): -float("inf"),
    }
    back = roundtrip(value)
    assert isinstance(back, dict)
    assert back["a"] == [1, 2.5, None, True, "text"]
    assert isinstance(back["b"], tuple) and back["b"][1] == {"inner": (1, 2)}
    np.testing.assert_array_equal(back["b"][0], np.ones(2))
    assert np.isnan(back[3]) and back[(1, "k")] == -float("inf")


def test_subclasses_of_builtins_arrive_as_plain_builtins() -> None:
    class Sneaky(float):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = float.__hash__

    back = roundtrip([Sneaky(2.0)])
    assert type(back[0]) is float  # type: ignore[index]


@pytest.mark.parametrize(
    "value",
    [object(), np.array([object()], dtype=object), {1, 2}, lambda: 1, 1 + 2j],
    ids=["object", "object-array", "set", "function", "complex"],
)
def test_arbitrary_objects_are_refused(value: object) -> None:
    with pytest.raises(EncodeError):
        encode(value)


def test_deep_nesting_is_refused() -> None:
    value: list[object] = []
    for _ in range(100):
        value = [value]
    with pytest.raises(EncodeError, match="nested"):
        encode(value)


def test_size_cap() -> None:
    with pytest.raises(EncodeError, match="too large"):
        encode(np.zeros(1000), max_bytes=1000)


def test_pickled_buffers_are_never_loaded() -> None:
    tree = {"$": "ndarray", "b": 0}
    with pytest.raises(DecodeError):
        decode(tree, [pickle.dumps(np.arange(3))])
    object_npy = encode(np.arange(3))[1][0].replace(b"'<i8'", b"'|O'")
    with pytest.raises(DecodeError):
        decode(tree, [object_npy])


def test_malformed_trees_are_refused() -> None:
    with pytest.raises(DecodeError):
        decode({"$": "ndarray", "b": 5}, [])
    with pytest.raises(DecodeError):
        decode({"$": "mystery"}, [])


def test_objects_that_are_not_data_travel_as_handles_when_asked() -> None:
    class Layer:
        pass

    held: dict[int, object] = {}

    def refer(value: object) -> dict | None:
        held[id(value)] = value
        return {"$": "object", "id": id(value), "type": type(value).__name__}

    layer = Layer()
    tree, buffers = encode({"layer": layer, "n": 1}, refer=refer)
    assert tree["v"][0][1] == {"$": "object", "id": id(layer), "type": "Layer"}
    back = decode(json.loads(json.dumps(tree)), buffers, resolve=lambda node: held[node["id"]])
    assert back["layer"] is layer and back["n"] == 1
    with pytest.raises(DecodeError, match="unknown tag 'object'"):
        decode(tree, buffers)  # without a resolver, a handle is not a value
    with pytest.raises(EncodeError):
        encode(layer)  # without refer, objects are refused as before
