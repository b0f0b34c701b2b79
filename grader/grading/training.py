"""What a statement of a notebook does, read from its AST: does it train, download, or use
a name that a skipped statement would have made? Used by definitions-only execution
(grader.grading.definitions), which skips exactly these statements and runs the rest.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

__all__ = ["Trainers", "assigned_names", "downloads", "find_trainers", "trains", "used_names"]

# Calls that train wherever they appear: autograd, an optimizer's (or scheduler's) step,
# scikit-learn's and Keras' fit.
_TRAINING_METHODS = frozenset({"backward", "step", "fit"})
# Modules whose calls fetch from the network, and functions that do.
_DOWNLOAD_MODULES = frozenset({"urllib", "requests", "wget", "gdown", "kaggle", "opendatasets"})
_DOWNLOAD_FUNCTIONS = frozenset(
    {"urlretrieve", "urlopen", "fetch_openml", "load_dataset", "download_url", "download"}
)


class Trainers:
    """The functions and methods a notebook defines that train, directly or through each
    other: calling them trains."""

    def __init__(self, functions: frozenset[str], methods: frozenset[str]) -> None:
        self.functions = functions
        self.methods = methods


def find_trainers(trees: Iterable[ast.Module]) -> Trainers:
    """Every ``def`` in the notebook (top level, nested in blocks, methods) whose body
    reaches a training call, followed through calls of each other until nothing changes."""
    functions: dict[str, list[ast.AST]] = {}
    methods: dict[str, list[ast.AST]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        methods.setdefault(item.name, []).append(item)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.setdefault(node.name, []).append(node)
    # Methods were also collected as functions by the walk; a method is called on an object.
    for name in methods:
        functions.pop(name, None)
    found = Trainers(frozenset(), frozenset())
    while True:
        new = Trainers(
            frozenset(n for n, defs in functions.items() if any(trains(d, found) for d in defs)),
            frozenset(n for n, defs in methods.items() if any(trains(d, found) for d in defs)),
        )
        if new.functions == found.functions and new.methods == found.methods:
            return found
        found = new


def trains(node: ast.AST, trainers: Trainers) -> bool:
    """Whether running ``node`` calls ``.backward()``, ``.step()``, ``.fit()`` or a
    function of the notebook that does. For a ``def`` this is what calling it does."""
    for call in _calls(node):
        func = call.func
        if isinstance(func, ast.Attribute) and (
            func.attr in _TRAINING_METHODS or func.attr in trainers.methods
        ):
            return True
        if isinstance(func, ast.Name) and func.id in trainers.functions:
            return True
    return False


def downloads(node: ast.AST) -> bool:
    """Whether ``node`` fetches from the network: ``download=True``, urllib, requests, ..."""
    for call in _calls(node):
        if any(
            k.arg == "download" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in call.keywords
        ):
            return True
        dotted = _dotted(call.func)
        if dotted and (dotted[0] in _DOWNLOAD_MODULES or dotted[-1] in _DOWNLOAD_FUNCTIONS):
            return True
    return False


def assigned_names(node: ast.AST) -> set[str]:
    """Every global name ``node`` binds (targets, loop variables, ``with ... as``, imports,
    defs), leaving out the local names of the functions and comprehensions inside it."""
    names: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(item.name)
            continue
        if isinstance(item, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp):
            continue
        if isinstance(item, ast.GeneratorExp):
            continue
        if isinstance(item, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in item.names)
        elif isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store):
            names.add(item.id)
        stack.extend(ast.iter_child_nodes(item))
    return names


def used_names(node: ast.AST) -> set[str]:
    """The names ``node`` reads when it runs, leaving out the bodies of functions and
    classes it defines (those read their globals only when called)."""
    names: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Load):
            names.add(item.id)
        stack.extend(ast.iter_child_nodes(item))
    return names


def _calls(node: ast.AST) -> Iterable[ast.Call]:
    return (n for n in ast.walk(node) if isinstance(n, ast.Call))


def _dotted(func: ast.expr) -> list[str]:
    """``urllib.request.urlretrieve`` as its parts; [] for anything but a dotted name."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.insert(0, func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        return [func.id, *parts]
    return []
