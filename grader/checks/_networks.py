"""A student's network object in the kernel (the book's API), called once, shared by checks.

"Deep Learning from Scratch" networks keep their weights in ``net.params`` (W1, b1, ...),
which their Affine layers share, and offer ``loss(x, t)``, ``gradient(x, t)`` (backprop)
and ``numerical_gradient(x, t)``. ``NetworkCalls`` makes one with the problem's layer
sizes, writes the problem's weights into ``params`` in place, and records what each
method returned and what the weights were after each call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from grader.checks._compare import describe
from grader.checks._diagnoses import ChainWords, GradientCall, chain_hint
from grader.checks._gradients import KINK_MARGIN
from grader.checks._i18n import gettext as _
from grader.checks.failures import CheckFailure
from grader.checks.notebook import CallResult, Notebook, ObjectHandle

# What grader.checks exports.
__all__ = ["NetworkCalls", "NetworkProblem", "agrees_with_own"]

NET_PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")
# Layer sizes all different and a batch size equal to none of them: a transpose shows.
SIZES = (6, 5, 4, 3)
BATCH = 7
_MAX_DRAWS = 100
MIN_PROBABILITY = 0.05  # of a label under the problem's network (see _likely_labels)
# How near backprop's gradient must be to a student's own numerical_gradient: the book's
# uses plain centred differences with h = 1e-4, which err by up to ~1e-8 (h**2 times the
# third derivative), so tiny elements are judged by atol; a real mistake is far larger.
OWN_RTOL = 1e-3
OWN_ATOL = 1e-6


@dataclass(frozen=True)
class NetworkProblem:
    """The problem a network's checks share: layer sizes (n_in, h1, ..., n_out), a batch
    x (m, n_in) with one-hot t, and weights; ``for_run(seed)`` gives every check file of a
    run the same one."""

    sizes: tuple[int, ...]
    x: np.ndarray
    t: np.ndarray
    params: dict[str, np.ndarray]

    @property
    def m(self) -> int:
        return len(self.x)

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: value.shape for name, value in self.params.items()}

    @classmethod
    def for_run(cls, seed: int, sizes: tuple[int, ...] = SIZES, m: int = BATCH) -> NetworkProblem:
        """The run's problem: the same for every check file that asks with the same seed."""
        return cls.draw(np.random.default_rng([seed, *sizes, m]), sizes, m)

    @classmethod
    def draw(cls, rng: np.random.Generator, sizes: tuple[int, ...], m: int) -> NetworkProblem:
        """Weights scaled by 1/sqrt(fan-in) and nonzero biases (so db shows), drawn again
        until no hidden unit's input lies within KINK_MARGIN of ReLU's kink: a finite
        difference across the kink would measure neither side's slope."""
        for _draw in range(_MAX_DRAWS):
            params: dict[str, np.ndarray] = {}
            for layer, (fan_in, fan_out) in enumerate(pairwise(sizes), start=1):
                params[f"W{layer}"] = rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in)
                params[f"b{layer}"] = rng.standard_normal(fan_out) * 0.5
            x = rng.standard_normal((m, sizes[0]))
            scores = _hidden_and_scores(x, params, len(sizes) - 1)
            if scores is not None:
                t = np.eye(sizes[-1])[_likely_labels(rng, scores)]
                return cls(tuple(sizes), x, t, params)
        raise RuntimeError(f"no problem clear of ReLU's kink in {_MAX_DRAWS} draws")


def _hidden_and_scores(
    x: np.ndarray, params: Mapping[str, np.ndarray], layers: int
) -> np.ndarray | None:
    """The output layer's scores, or None if a hidden unit's input is near ReLU's kink."""
    a = x
    for layer in range(1, layers + 1):
        s = a @ params[f"W{layer}"] + params[f"b{layer}"]
        if layer == layers:
            return s
        if np.any(np.abs(s) <= KINK_MARGIN):
            return None
        a = np.maximum(s, 0.0)
    return a


def _likely_labels(rng: np.random.Generator, scores: np.ndarray) -> np.ndarray:
    """A label per row among the classes the network gives at least MIN_PROBABILITY: the
    book's cross_entropy_error takes log(p + 1e-7), which moves a numerical gradient by
    about 1e-7 / p relative to backprop's, too much for a tolerance of 1e-4 when p is tiny."""
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return np.array([rng.choice(np.flatnonzero(row >= MIN_PROBABILITY)) for row in p])


class NetworkCalls:
    """A student's network object (the book's API), made and called once for the checks of
    its methods to share: ``class_name(*sizes)`` in the kernel with the problem's weights,
    then loss, numerical_gradient and gradient (which may change the weights, so last)."""

    def __init__(
        self, notebook: Notebook, class_name: str, problem: NetworkProblem, label: str = "net"
    ) -> None:
        self.problem = problem
        self.label = label
        self.made = notebook.new(class_name, *problem.sizes)
        self.net: ObjectHandle | None = None
        self.initial: CallResult | None = None
        self.setup_error: str | None = None
        if not self.made.ok:
            self.setup_error = self.made.message
            return
        self.net = self.made.value.named(label)
        self.initial = self.net.get("params")
        self.setup_error = self.params_problem()
        if self.setup_error is not None:
            return
        x, t = problem.x, problem.t
        for name, value in problem.params.items():
            written = self.net.set("params", name, value)
            if not written.ok:
                self.setup_error = written.message
                return
        self.loss = self.net.call("loss", x, t)
        self.numerical = self.net.call("numerical_gradient", x, t)
        self.before_gradient = self.net.get("params")
        self.gradient = self.net.call("gradient", x, t)
        self.after_gradient = self.net.get("params")
        self.layers = self.net.get("layers")

    def params_problem(self) -> str | None:
        """What is wrong with the new network's ``params`` (keys and shapes), or None."""
        assert self.initial is not None
        where = f"{self.made.value.what}.params"
        if not self.initial.ok:
            return self.initial.message
        params = self.initial.value
        if not isinstance(params, dict):
            return _("{where} is {got}; expected a dict of the weights.").format(
                where=where, got=describe(params)
            )
        missing = [name for name in NET_PARAMETERS if name not in params]
        if missing:
            keys = ", ".join(repr(k) for k in params) or _("none")
            return _(
                "{where} has no {missing} (its keys: {keys}); expected the keys {wanted}."
            ).format(
                where=where,
                missing=", ".join(repr(k) for k in missing),
                keys=keys,
                wanted=", ".join(NET_PARAMETERS),
            )
        for name, shape in self.problem.shapes.items():
            got = np.shape(params[name])
            if not isinstance(params[name], np.ndarray) or got != shape:
                sizes = ", ".join(map(str, self.problem.sizes))
                return _(
                    "{where} is {got}; for the layer sizes ({sizes}) expected an array of shape "
                    "{shape}."
                ).format(
                    where=f"{where}[{name!r}]", got=describe(params[name]), sizes=sizes, shape=shape
                )
        return None

    def require(self) -> ObjectHandle:
        """The network, or a failure saying why the checks of its methods cannot run."""
        if self.setup_error is not None or self.net is None:
            why = _(
                "The network's methods are checked with weights written into its params, so this "
                "check cannot run until that works."
            )
            raise CheckFailure(f"{self.setup_error}\n{why}")
        return self.net

    def affine_layer(self, layer: int) -> ObjectHandle | None:
        """The ``layer``-th Affine layer in ``net.layers`` (1-based), if there is one."""
        layers = self.layers.raw_value if self.layers.ok else None
        if not isinstance(layers, dict):
            return None
        affine = [
            handle.named(f"{self.label}.layers[{key!r}]")
            for key, handle in layers.items()
            if isinstance(handle, ObjectHandle) and handle.type == "Affine"
        ]
        return affine[layer - 1] if layer <= len(affine) else None

    def against_own(
        self, own: Mapping[str, np.ndarray], *, factor_hints: Mapping[float, str] | None = None
    ) -> GradientCall:
        """``gradient()`` judged against ``own``, the network's own ``numerical_gradient()``,
        within the error of that method (the book's centred differences, h = 1e-4), with
        hints in the words of layer classes: for checks that hold no reference."""
        return GradientCall(
            self.gradient,
            own,
            None,
            m=self.problem.m,
            rtol=OWN_RTOL,
            atol=OWN_ATOL,
            factor_hints=factor_hints,
            hint=layer_chain_hint,
        )

    def against_reference(
        self,
        expected: Mapping[str, np.ndarray],
        numerical: Mapping[str, np.ndarray],
        *,
        factor_hints: Mapping[float, str] | None = None,
    ) -> GradientCall:
        """``gradient()`` judged against a reference network's gradients ``expected``, which
        agree with the ``numerical`` ones, with hints in the words of layer classes."""
        return GradientCall(
            self.gradient,
            expected,
            numerical,
            m=self.problem.m,
            factor_hints=factor_hints,
            hint=layer_chain_hint,
        )


def _own_line(kind: str, k: int) -> str:
    sibling = f"{'b' if kind == 'W' else 'W'}{k}"
    line = "self.dW = x.T @ dout" if kind == "W" else "self.db = dout summed over axis 0"
    return _(
        "{sibling} is right, so the dout reaching Affine{k} is right: the mistake is in "
        "Affine.backward's line for it ({line}) or in how gradient() collects layer {k}'s "
        "gradients."
    ).format(sibling=sibling, k=k, line=line)


LAYER_WORDS = ChainWords(
    prefix="",
    own_line=_own_line,
    output=lambda top: _(
        "every gradient starts from the dout that SoftmaxWithLoss.backward returns: check it "
        "first ((softmax(x) - t) divided by the batch size once)."
    ),
    step=lambda e: _(
        "the error enters on the way back from Affine{above} to Affine{e}. Look at "
        "Relu.backward (the mask saved by forward) and at the dx that Affine.backward returns "
        "(dout @ W.T)."
    ).format(above=e + 1, e=e),
    fix_first=lambda e: _("there, so fix that first."),
)


def layer_chain_hint(name: str, right: Mapping[str, bool]) -> str:
    """Where along a layer-class network the mistake in the wrong gradient ``name`` (W1 ...
    bL) most likely is, given which gradients are right."""
    return chain_hint(name, right, words=LAYER_WORDS)


def agrees_with_own(gradient: object, own: object) -> bool:
    """Whether one gradient from ``gradient()`` matches the same from ``numerical_gradient()``
    (the judgement of the visible checks, for hidden checks that must not repeat it)."""
    try:
        a, b = np.asarray(gradient, dtype=np.float64), np.asarray(own, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=OWN_RTOL, atol=OWN_ATOL))
