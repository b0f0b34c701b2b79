"""load_mnist with the book's signature, reading the bundled small digits (digits28.npz).

The 1,797 real handwritten digits bundled with nngrade, in MNIST's format (28x28, 0-255),
stand in for MNIST itself, so that nothing is downloaded while a notebook is graded.
"""

from pathlib import Path

import numpy as np

DIGITS_FILE = "digits28.npz"


def _find(name):
    # Next to the dataset folder (where grading puts it), else in the working folder.
    for folder in (Path(__file__).resolve().parent.parent, Path.cwd()):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} not found next to the dataset folder")


def _change_one_hot_label(labels):
    one_hot = np.zeros((labels.size, 10))
    one_hot[np.arange(labels.size), labels] = 1
    return one_hot


def load_mnist(normalize=True, flatten=True, one_hot_label=False):
    """((x_train, t_train), (x_test, t_test)).

    normalize: pixel values as float32 in 0.0-1.0 (else uint8 in 0-255)
    flatten: images as rows of 784 values (else arrays of shape (1, 28, 28))
    one_hot_label: labels as one-hot rows of 10 (else the digits 0-9)
    """
    with np.load(_find(DIGITS_FILE), allow_pickle=False) as data:
        images = {"train": data["x_train"], "test": data["x_test"]}
        labels = {"train": data["y_train"], "test": data["y_test"]}
    out = []
    for key in ("train", "test"):
        x = images[key].reshape(-1, 1, 28, 28)
        if normalize:
            x = x.astype(np.float32) / 255.0
        if flatten:
            x = x.reshape(len(x), 784)
        t = _change_one_hot_label(labels[key]) if one_hot_label else labels[key]
        out.append((x, t))
    return tuple(out)
