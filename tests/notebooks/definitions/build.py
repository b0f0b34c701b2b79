"""Writes the definitions-only corpus: notebooks that each build their definitions in a
different way a student might (all must get full marks), plus notebooks that train at the
top level for a long time, and relu notebooks that end in exit() and its relatives.

Run from the repository root: ``.venv/bin/python tests/notebooks/definitions/build.py``
(tests/notebooks is outside ruff's reach: never run ruff on these notebooks by name).
The notebooks are committed; this file says how they were made and lets them be remade.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).parent

MLP_IMPORTS = """import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset"""

MLP_DATA = """data = np.load("digits28.npz")

def as_dataset(images, labels):
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255
    return TensorDataset(x, torch.tensor(labels))

trainset = as_dataset(data["x_train"], data["y_train"])
testset = as_dataset(data["x_test"], data["y_test"])
train_loader = DataLoader(trainset, batch_size=64, shuffle=True)
test_loader = DataLoader(testset, batch_size=64, shuffle=True)"""

MLP_NET = """class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(784, 128)
        self.layer2 = nn.Linear(128, 64)
        self.layer3 = nn.Linear(64, 10)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = x.view(-1, 784)
        x = self.relu(self.layer1(x))
        x = self.relu(self.layer2(x))
        return self.layer3(x)"""

MLP_SETUP = """model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)"""

MLP_TRAIN = """def train(model, train_loader, optimizer):
    model.train()
    batch_losses = []
    for data, target in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    return sum(batch_losses) / len(batch_losses)"""

MLP_EVALUATE = """def evaluate(model, test_loader):
    model.eval()
    batch_losses = []
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            batch_losses.append(criterion(output, target).item())
            correct += (output.argmax(dim=1) == target).sum().item()
    return sum(batch_losses) / len(batch_losses), 100.0 * correct / len(test_loader.dataset)"""

MLP_LOOP = """for epoch in range(1, 101):
    train_loss = train(model, train_loader, optimizer)
    test_loss, test_accuracy = evaluate(model, test_loader)
    print(epoch, train_loss, test_loss, test_accuracy)"""


def indent(code: str) -> str:
    return "\n".join("    " + line if line else "" for line in code.splitlines())


def tqdm_train(module: str) -> str:
    return f"from {module} import tqdm\n\n" + MLP_TRAIN.replace(
        "for data, target in train_loader:", "for data, target in tqdm(train_loader, leave=False):"
    )


MLP = {
    # %%capture hides the training log; train and evaluate are defined in that cell.
    "capture_cell": [
        MLP_IMPORTS,
        MLP_DATA,
        MLP_NET,
        MLP_SETUP,
        "%%capture\n" + MLP_TRAIN + "\n\n" + MLP_EVALUATE + "\n\n" + MLP_LOOP,
    ],
    # Everything after the imports inside the main guard, training included.
    "main_guard": [
        MLP_IMPORTS,
        'if __name__ == "__main__":\n'
        + indent("\n\n".join([MLP_DATA, MLP_NET, MLP_SETUP, MLP_TRAIN, MLP_EVALUATE, MLP_LOOP])),
    ],
    "tqdm_plain": [
        MLP_IMPORTS,
        MLP_DATA,
        MLP_NET,
        MLP_SETUP,
        tqdm_train("tqdm"),
        MLP_EVALUATE,
        "from tqdm import trange\nfor epoch in trange(100):\n"
        "    train(model, train_loader, optimizer)",
    ],
    "tqdm_auto": [
        MLP_IMPORTS,
        MLP_DATA,
        MLP_NET,
        MLP_SETUP,
        tqdm_train("tqdm.auto"),
        MLP_EVALUATE,
        MLP_LOOP,
    ],
    "tqdm_notebook": [
        MLP_IMPORTS,
        MLP_DATA,
        MLP_NET,
        MLP_SETUP,
        tqdm_train("tqdm.notebook"),
        MLP_EVALUATE,
        MLP_LOOP,
    ],
    # %%time around the cell that defines the functions and trains.
    "time_cell": [
        MLP_IMPORTS,
        MLP_DATA,
        MLP_NET,
        MLP_SETUP,
        "%%time\n" + MLP_TRAIN + "\n" + MLP_EVALUATE + "\n" + MLP_LOOP,
    ],
    # The layer sizes built by a loop, a dict filled by subscript, attributes of a config.
    "built_by_loops": [
        MLP_IMPORTS,
        "from types import SimpleNamespace\n"
        "config = SimpleNamespace()\n"
        "config.sizes = [784, 128, 64, 10]\n"
        "config.lr = 0.1\n"
        "ACTIVATIONS = {}\n"
        'ACTIVATIONS["relu"] = nn.ReLU\n'
        "PAIRS = []\n"
        "for a, b in zip(config.sizes, config.sizes[1:]):\n"
        "    PAIRS.append((a, b))",
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        layers = []\n"
        "        for i, (a, b) in enumerate(PAIRS):\n"
        "            layers.append(nn.Linear(a, b))\n"
        "            if i < len(PAIRS) - 1:\n"
        '                layers.append(ACTIVATIONS["relu"]())\n'
        "        self.net = nn.Sequential(*layers)\n\n"
        "    def forward(self, x):\n"
        "        return self.net(x.reshape(x.shape[0], -1))",
        "model = Net()\ncriterion = nn.CrossEntropyLoss()\n"
        "optimizer = optim.SGD(model.parameters(), lr=config.lr)",
        MLP_TRAIN,
        MLP_EVALUATE,
        MLP_DATA,
        MLP_LOOP,
    ],
    # The criterion made by a method call on a holder object, weights set by model.apply.
    "method_calls": [
        MLP_IMPORTS,
        MLP_NET,
        "class Setup:\n"
        "    def __init__(self):\n"
        "        self.parts = {}\n"
        "    def add(self, name, value):\n"
        "        self.parts[name] = value\n"
        "        return value\n"
        "setup = Setup()\n"
        "setup.add('criterion', nn.CrossEntropyLoss())\n"
        "criterion = setup.parts['criterion']\n"
        "torch.manual_seed(0)\n"
        "model = Net()\n"
        "def init_weights(m):\n"
        "    if isinstance(m, nn.Linear):\n"
        "        nn.init.zeros_(m.bias)\n"
        "model.apply(init_weights)\n"
        "optimizer = optim.SGD(model.parameters(), lr=0.1)",
        MLP_TRAIN,
        MLP_EVALUATE,
    ],
    # Definitions inside try/except and with blocks.
    "try_and_with_blocks": [
        "import warnings\n"
        "with warnings.catch_warnings():\n"
        '    warnings.simplefilter("ignore")\n' + indent(MLP_IMPORTS),
        "try:\n" + indent(MLP_NET) + "\nexcept Exception as error:\n    print(error)",
        "try:\n    from tqdm import tqdm\nexcept ImportError:\n    tqdm = lambda it, **kw: it",
        MLP_SETUP,
        MLP_TRAIN,
        MLP_EVALUATE,
    ],
    # MNIST from torchvision (a stand-in here) with download=True: skipped, and so are the
    # loaders that use it; a fit() wrapper called at the top level is training too.
    "downloads_and_fit": [
        MLP_IMPORTS + "\nimport torchvision\nfrom torchvision import datasets, transforms",
        "trainset = datasets.MNIST('data', train=True, download=True,"
        " transform=transforms.ToTensor())\n"
        "train_loader = DataLoader(trainset, batch_size=64, shuffle=True)\n"
        "print(len(trainset))",
        MLP_NET,
        MLP_SETUP,
        MLP_TRAIN,
        MLP_EVALUATE,
        "def fit(model, epochs):\n"
        "    history = []\n"
        "    for epoch in range(epochs):\n"
        "        history.append(train(model, train_loader, optimizer))\n"
        "    return history\n\n"
        "history = fit(model, 100)",
        "import matplotlib.pyplot as plt\nplt.plot(history)\nplt.show()",
    ],
    # The usual companions: plots, pandas, seaborn, sklearn.metrics, torchsummary, display.
    "usual_libraries": [
        MLP_IMPORTS + "\nimport matplotlib.pyplot as plt\nimport pandas as pd\n"
        "import seaborn as sns\nfrom sklearn.metrics import confusion_matrix\n"
        "from torchsummary import summary\nfrom IPython.display import display, clear_output",
        MLP_DATA,
        MLP_NET,
        MLP_SETUP,
        "summary(model, (1, 28, 28))\ndisplay(model)",
        MLP_TRAIN,
        MLP_EVALUATE,
        "fig, ax = plt.subplots()\nax.plot([1, 2, 3])\nplt.show()\n"
        "frame = pd.DataFrame({'epoch': [1, 2]})\nsns.lineplot(data=frame)",
    ],
    # A statement between the definitions that raises: only that statement is lost.
    "error_between": [
        MLP_IMPORTS,
        MLP_NET,
        "model = Net()\nmodel(torch.zeros(2, 3))\ncriterion = nn.CrossEntropyLoss()",
        MLP_TRAIN,
        MLP_EVALUATE,
    ],
    # Two statements on one line, a training step written out at the top level.
    "one_liners": [
        MLP_IMPORTS,
        MLP_NET,
        "model = Net(); criterion = nn.CrossEntropyLoss(); optimizer = optim.SGD("
        "model.parameters(), lr=0.1)",
        MLP_TRAIN,
        MLP_EVALUATE,
        "x, y = torch.rand(8, 784), torch.randint(0, 10, (8,))\n"
        "loss = criterion(model(x), y); loss.backward(); optimizer.step()\n"
        "print(loss.item())",
    ],
}

BCE_HEAD = """import numpy as np
import torch
import matplotlib.pyplot as plt"""

BCE_DATA = """data = np.load("digits28.npz")
keep = data["y_train"] <= 1
X = torch.tensor(data["x_train"][keep], dtype=torch.float32).reshape(-1, 784) / 255
y = torch.tensor(data["y_train"][keep], dtype=torch.float32).reshape(-1, 1)
X.shape, y.shape"""

BCE_LOSS = """def bce_loss(y_hat, y):
    y_hat = torch.as_tensor(y_hat)
    y = torch.as_tensor(y, dtype=y_hat.dtype)
    log_p = torch.clamp(torch.log(y_hat), min=-100)
    log_q = torch.clamp(torch.log(1 - y_hat), min=-100)
    return -torch.mean(y * log_p + (1 - y) * log_q)"""

BCE_ACCURACY = """def accuracy(y_hat, y):
    y_hat, y = torch.as_tensor(y_hat), torch.as_tensor(y)
    y_tilde = (y_hat > 0.5).to(y.dtype)
    return float(torch.mean((y_tilde == y).float()))"""

BCE_NET = """torch.manual_seed(12345)
net = torch.nn.Sequential(
    torch.nn.Linear(784, 64),
    torch.nn.ReLU(),
    torch.nn.Linear(64, 1),
    torch.nn.Sigmoid(),
)"""

BCE_TRAIN = """optimizer = torch.optim.Adam(net.parameters(), lr=0.002)
for epoch in range(200):
    y_hat = net(X)
    loss = bce_loss(y_hat, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
print("loss:", float(loss), "accuracy:", float(accuracy(net(X), y)))"""

BCE = {
    "capture_cell": [
        BCE_HEAD,
        BCE_DATA,
        "%%capture\n" + BCE_LOSS + "\n" + BCE_ACCURACY + "\n" + BCE_NET + "\n" + BCE_TRAIN,
    ],
    "main_guard": [
        BCE_HEAD,
        'if __name__ == "__main__":\n'
        + indent("\n".join([BCE_DATA, BCE_LOSS, BCE_ACCURACY, BCE_NET, BCE_TRAIN])),
    ],
    # net built by add_module calls in a loop over a list of layers.
    "net_by_add_module": [
        BCE_HEAD,
        BCE_DATA,
        BCE_LOSS,
        BCE_ACCURACY,
        "net = torch.nn.Sequential()\n"
        "layers = [torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1),"
        " torch.nn.Sigmoid()]\n"
        "for i, layer in enumerate(layers):\n"
        "    net.add_module(str(i), layer)",
        BCE_TRAIN,
    ],
    # net unpacked from a list built with append, trained with tqdm for a long time.
    "tqdm_long_training": [
        BCE_HEAD + "\nfrom tqdm.auto import tqdm",
        BCE_DATA,
        BCE_LOSS,
        BCE_ACCURACY,
        "layers = []\nlayers.append(torch.nn.Linear(784, 64))\nlayers.append(torch.nn.ReLU())\n"
        "layers += [torch.nn.Linear(64, 1), torch.nn.Sigmoid()]\n"
        "net = torch.nn.Sequential(*layers)",
        BCE_TRAIN.replace("range(200)", "tqdm(range(1_000_000))"),
    ],
    # The training loop computes its own gradients (no .backward() nor .step()): it
    # escapes the list and is stopped by the budget.
    "escaping_training": [
        BCE_HEAD,
        BCE_DATA,
        BCE_LOSS,
        BCE_ACCURACY,
        BCE_NET,
        "params = list(net.parameters())\n"
        "for epoch in range(1_000_000):\n"
        "    grads = torch.autograd.grad(bce_loss(net(X), y), params)\n"
        "    with torch.no_grad():\n"
        "        for p, g in zip(params, grads):\n"
        "            p -= 0.001 * g",
    ],
}

RELU_DEFS = "import numpy as np\n\ndef relu(x):\n    return np.maximum(0, x)"
RELU_D = "def d_relu(x):\n    return (x > 0).astype(float)"
EXITS = {
    "exit_call": [RELU_DEFS, RELU_D, "print('done')\nexit()"],
    "quit_call": [RELU_DEFS, "quit()", RELU_D],
    "sys_exit": [RELU_DEFS, RELU_D, "import sys\nsys.exit(0)"],
    "raise_system_exit": [RELU_DEFS, "raise SystemExit", RELU_D],
    "os_exit_last": [RELU_DEFS, RELU_D, "import os\nos._exit(0)"],
}


# Missing names explained by the cell that would define them (relu runs every cell).
MISSING = {
    "raw_cell": [RELU_DEFS, "raw:" + RELU_D],
    "raised_first": [RELU_DEFS, "raise ValueError('not yet')\n\n" + RELU_D],
}


def write(folder: Path, name: str, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_raw_cell(source[4:])
        if source.startswith("raw:")
        else nbformat.v4.new_code_cell(source)
        for source in cells
    ]
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index + 1}"
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


def main() -> None:
    for name, cells in MLP.items():
        write(HERE / "torch_mlp", name, cells)
    for name, cells in BCE.items():
        write(HERE / "bce", name, cells)
    for name, cells in EXITS.items():
        write(HERE / "exits", name, cells)
    for name, cells in MISSING.items():
        write(HERE / "missing", name, cells)


if __name__ == "__main__":
    main()
