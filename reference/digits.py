"""Small real handwritten digits in MNIST's format, bundled so that nothing is downloaded.

The 1,797 8×8 digits that scikit-learn ships (from the UCI optical-digits set) are
resized to 20×20 and centred in a 28×28 frame, as MNIST's digits are, with pixel values
0-255. ``python -m reference.digits`` rebuilds ``data/digits28.npz`` (needs scikit-learn,
a dev dependency); graders and notebooks only read the file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["DIGITS_FILE", "Digits", "build", "load"]

DIGITS_FILE = Path(__file__).resolve().parent / "data" / "digits28.npz"
_TEST_FRACTION = 0.2
_SPLIT_SEED = 20221005


class Digits(NamedTuple):
    """Images (n, 28, 28) uint8 in 0-255 and labels (n,) int64 0-9, split once and for all."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def binary(self, a: int = 0, b: int = 1) -> Digits:
        """Only the digits ``a`` and ``b``, relabelled 0 and 1 (seed 004's task)."""
        train = np.isin(self.y_train, (a, b))
        test = np.isin(self.y_test, (a, b))
        return Digits(
            self.x_train[train],
            (self.y_train[train] == b).astype(np.int64),
            self.x_test[test],
            (self.y_test[test] == b).astype(np.int64),
        )


def load(path: Path = DIGITS_FILE) -> Digits:
    with np.load(path, allow_pickle=False) as data:
        return Digits(*(data[name] for name in Digits._fields))


def build() -> Digits:
    """Resize scikit-learn's 8×8 digits to MNIST's 28×28 and split them 80/20."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = bunch.images / 16.0  # values 0..16
    images = np.zeros((len(small), 28, 28))
    images[:, 4:24, 4:24] = _resize(small, 20)
    images = np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(labels))
    n_test = round(len(labels) * _TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    return Digits(images[train], labels[train], images[test], labels[test])


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (n, h, w) images to (n, size, size), pixel centres aligned."""
    n, h, w = images.shape
    rows = _weights(h, size)  # (size, h)
    cols = _weights(w, size)  # (size, w)
    return np.einsum("ih,nhw,jw->nij", rows, images, cols)


def _weights(old: int, new: int) -> np.ndarray:
    """The (new, old) matrix of linear interpolation weights between pixel centres."""
    centres = (np.arange(new) + 0.5) * old / new - 0.5
    centres = np.clip(centres, 0, old - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, old - 1)
    frac = centres - low
    weights = np.zeros((new, old))
    weights[np.arange(new), low] += 1 - frac
    weights[np.arange(new), high] += frac
    return weights


if __name__ == "__main__":
    digits = build()
    DIGITS_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(DIGITS_FILE, **digits._asdict())
    size = DIGITS_FILE.stat().st_size
    print(
        f"wrote {DIGITS_FILE} ({len(digits.y_train)} train, {len(digits.y_test)} test, "
        f"{size / 1024:.0f} KiB)",
        file=sys.stderr,
    )
