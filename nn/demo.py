"""The main demo: an MLP learns scikit-learn's bundled handwritten digits.

``python -m nn.demo [--out DIR] [--epochs N]`` trains a 64-128-64-10 ReLU network with Adam and
softmax cross-entropy on 80% of the 1797 8x8 digits, prints the held-out accuracy, and writes
to DIR (default ``demo_output``): ``training.png`` (loss and accuracy per epoch) and
``graph.svg`` (the computation graph of one small forward pass, grouped by layer).
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np

import losses
import nn
from autograd_core import Value, draw_graph, no_grad


def load_digits_split(seed: int = 0):
    """Digits scaled to [0, 1], split 80/20 with a fixed, stratified shuffle."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.2, random_state=seed, stratify=y)


def accuracy(model: nn.Module, X, y) -> float:
    with no_grad():
        return float(np.mean(model(X).data.argmax(axis=1) == y))


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_output", help="folder for the plot and graph")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    X_train, X_test, y_train, y_test = load_digits_split(args.seed)
    rng = np.random.default_rng(args.seed)
    model = nn.MLP([64, 128, 64, 10], activation="relu", rng=rng)
    optimizer = nn.optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    history = nn.fit(
        model, losses.softmax_cross_entropy, optimizer, X_train, y_train,
        epochs=args.epochs, batch_size=32, rng=rng, progress=not args.no_progress,
        X_val=X_test, y_val=y_test,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    acc = accuracy(model, X_test, y_test)
    print(f"test accuracy {acc:.2%} on {len(y_test)} held-out digits ({seconds:.1f} s training)")

    _plot(history, out / "training.png")
    x = Value(X_test[:2], requires_grad=False, label="x (2 digits)")
    loss = losses.softmax_cross_entropy(model(x), y_test[:2])
    loss.label = "loss"
    loss.backward()
    graph = draw_graph(loss)
    (out / "graph.svg").write_bytes(graph.pipe(format="svg"))
    print(f"wrote {out / 'training.png'} and {out / 'graph.svg'}")
    return acc


def _plot(history: dict, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    epochs = np.arange(1, len(history["loss"]) + 1)
    left.plot(epochs, history["loss"], label="train")
    left.plot(epochs, history["val_loss"], label="test")
    left.set(xlabel="epoch", ylabel="softmax cross-entropy (nats)", yscale="log", title="Loss")
    right.plot(epochs, history["accuracy"], label="train")
    right.plot(epochs, history["val_accuracy"], label="test")
    right.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
