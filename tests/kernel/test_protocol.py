"""The kernel protocol: one module on both sides, replies decoded into typed objects, and a
reply that breaks the protocol failing loudly (no kernel needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import grimp
import pytest

from grader._kernel import nngrade_codec as codec
from grader._kernel import nngrade_kernel
from grader._kernel.nngrade_objects import ObjectTable
from grader._kernel.nngrade_protocol import (
    Frame,
    GuardAttempt,
    MissingKind,
    Op,
    ProtocolError,
    Reply,
    StandIn,
    Status,
    decode_reply,
    handle_node,
)
from grader.runner.sandbox import HELPER_DIR


class Layer:
    def __init__(self, scale: float = 1.0) -> None:
        self.w = [scale]

    def times(self, k: float) -> list[float]:
        return [k * x for x in self.w]


def double(x: float) -> float:
    return 2 * x


def divide(x: float) -> float:
    return x / 0


# One request per operation, and how the kernel helper answers it here: every Op is here.
REQUESTS: dict[Op, tuple[dict[str, Any], list[Any], Status]] = {
    Op.NAMES: ({}, [], Status.OK),
    Op.STAND_INS: ({}, [], Status.OK),
    Op.GUARD: ({}, [], Status.OK),
    Op.RELEASE: ({"object": 1}, [], Status.OK),
    Op.CALL: ({"name": "double"}, [2.0], Status.OK),
    Op.NEW: ({"name": "Layer"}, [3.0], Status.OK),
    Op.CALL_METHOD: ({"object": 1, "name": "times"}, [2.0], Status.OK),
    Op.GET: ({"object": 1, "path": ["w", 0]}, [], Status.OK),
    Op.SET: ({"object": 1, "path": ["w"]}, [[5.0]], Status.OK),
    Op.RUN: ({"routine": "torch.trace"}, ["Net", None, 0], Status.MISSING),
}


def ask(op: Op, fields: dict[str, Any], args: list[Any]) -> tuple[Reply, list[bytes]]:
    """A request built with the protocol's Op, answered by the kernel helper in process."""
    objects = ObjectTable()
    objects.hold(Layer())
    tree, buffers = codec.encode([args, {}])
    request = {"id": 7, "op": op, **fields, "args": tree}
    namespace = {"double": double, "Layer": Layer}
    reply, out = nngrade_kernel.handle(namespace, request, buffers, objects=objects)
    return decode_reply(reply), out


def test_every_operation_is_covered() -> None:
    assert set(REQUESTS) == set(Op)


@pytest.mark.parametrize("op", list(Op))
def test_the_kernel_helper_answers_every_operation(op: Op) -> None:
    fields, args, status = REQUESTS[op]
    reply, _ = ask(op, fields, args)
    assert reply.status is status and reply.id == 7, reply


def test_replies_are_typed() -> None:
    names, _ = ask(Op.NAMES, {}, [])
    assert names.names == ("Layer", "double")
    made, _ = ask(Op.NEW, {"name": "Layer"}, [3.0])
    assert made.value == handle_node(2, "Layer") and made.params == ("scale",)
    changed, _ = ask(Op.SET, {"object": 1, "path": ["w"]}, [[5.0]])
    assert changed.args is None and changed.where is None
    got, buffers = ask(Op.GET, {"object": 1, "path": ["w", 0]}, [])
    assert got.where == ".w[0]" and codec.decode(got.value, buffers) == 1.0
    missing, _ = ask(Op.CALL_METHOD, {"object": 1, "name": "tims"}, [])
    assert missing.status is Status.MISSING and missing.kind is MissingKind.METHOD
    assert missing.missing == "tims" and "times" in missing.names


def test_a_student_exception_is_decoded_with_its_frames() -> None:
    tree, buffers = codec.encode([[1.0], {}])
    request = {"id": 1, "op": Op.CALL, "name": "divide", "args": tree}
    raw, _ = nngrade_kernel.handle({"divide": divide}, request, buffers)
    reply = decode_reply(raw)
    assert reply.status is Status.RAISED and reply.error is not None
    assert (reply.error.ename, reply.error.evalue) == (
        "ZeroDivisionError",
        "float division by zero",
    )
    frame = reply.error.frames[-1]
    assert isinstance(frame, Frame) and frame.execution_count is None
    assert (frame.filename, frame.name, frame.line) == (__file__, "divide", "return x / 0")


def test_an_unknown_operation_is_nngrades_fault() -> None:
    raw, _ = nngrade_kernel.handle({}, {"id": 1, "op": "cal", "name": "f"}, [])
    reply = decode_reply(raw)
    assert reply.status is Status.BRIDGE_ERROR and "'cal' is not a valid Op" in reply.message


@pytest.mark.parametrize("status", list(Status))
def test_every_status_decodes(status: Status) -> None:
    error = {"ename": "ValueError", "evalue": "", "frames": []}
    raw = {"status": str(status), **({"error": error} if status is Status.RAISED else {})}
    assert decode_reply(raw).status is status


def test_records_decode() -> None:
    reply = decode_reply(
        {
            "status": "ok",
            "stand_ins": [{"module": "fastai", "execution_count": 3, "lineno": 2}],
            "attempts": [{"what": "import", "name": "grader", "execution_count": None}],
        }
    )
    assert reply.stand_ins == (StandIn("fastai", 3, 2),)
    assert reply.attempts == (GuardAttempt("import", "grader", None),)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"status": "unsuable"}, "unknown reply status 'unsuable'"),
        ({"status": "OK"}, "unknown reply status 'OK'"),
        ({"value": 1.0}, "unknown reply status None"),
        ([1, 2], "a reply is a dict, not list"),
        ({"status": "raised"}, "without the error"),
        ({"status": "raised", "error": {"evalue": "x"}}, "lacks 'ename'"),
        ({"status": "ok", "names": "relu"}, "'names' is a str"),
        ({"status": "ok", "names": [1]}, "holds more than strings"),
        ({"status": "ok", "duration": "fast"}, "'duration' is a str"),
        ({"status": "missing", "kind": "slot"}, "'slot'"),
        ({"status": "ok", "stand_ins": [{"lineno": 1}]}, "lacks 'module'"),
        ({"status": "ok", "attempts": ["grader"]}, "holds more than records"),
    ],
)
def test_a_reply_that_breaks_the_protocol_fails_loudly(raw: Any, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem.replace("(", r"\(")):
        decode_reply(raw)


def test_held_objects_are_named_by_the_protocols_node() -> None:
    objects = ObjectTable()
    layer = Layer()
    assert (
        objects.hold(layer) == handle_node(1, "Layer") == {"$": "object", "id": 1, "type": "Layer"}
    )
    assert objects.known(layer) == objects.refer(layer) == handle_node(1, "Layer")


def test_kernel_modules_import_each_other_one_way() -> None:
    """nngrade_torch needs the lookup helpers, not the comm handler that loads it lazily."""
    graph = grimp.build_graph("grader", cache_dir=None)
    for low, high in [("nngrade_torch", "nngrade_kernel"), ("nngrade_lookup", "nngrade_kernel")]:
        chain = graph.find_shortest_chain(
            importer=f"grader._kernel.{low}", imported=f"grader._kernel.{high}"
        )
        assert chain is None, chain


def test_inside_the_kernel_the_modules_are_top_level_and_the_protocol_is_stdlib_only(
    tmp_path: Path,
) -> None:
    script = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import nngrade_protocol\n"
        "added = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(added - set(sys.stdlib_module_names) - {'nngrade_protocol'}))\n"
        "import nngrade_torch, nngrade_kernel\n"
        "print(nngrade_kernel.Status is nngrade_protocol.Status, "
        "nngrade_torch.Unusable is nngrade_kernel.Unusable)\n"
        "print(sorted(m for m in sys.modules if m.startswith('grader')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-s", "-c", script],
        env={"PYTHONPATH": str(HELPER_DIR)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == ["[]", "True True", "[]"], done.stderr
