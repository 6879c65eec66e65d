"""``fit``: a minibatch training loop."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_core import Value, no_grad

from .module import Module
from .optim import Optimizer

__all__ = ["fit"]


def _n_correct(out: Any, y: Any, threshold: float) -> int | None:
    """Correct predictions in a batch, or None when ``(out, y)`` is not a classification.

    Several outputs per sample and integer labels: ``argmax(out) == y``. One output per sample
    and labels all 0 or 1: ``(out > threshold) == y``.
    """
    out, y = np.asarray(out), np.asarray(y)
    if out.ndim == 2 and out.shape[1] > 1:
        if y.shape != out.shape[:1] or y.dtype.kind not in "iub":
            return None
        return int(np.sum(out.argmax(axis=1) == y))
    if out.size == y.size and np.isin(y, (0, 1)).all():
        return int(np.sum((out.reshape(-1) > threshold) == y.reshape(-1)))
    return None


def _evaluate(model: Module, loss_fn: Callable, X: np.ndarray, y: np.ndarray, threshold: float):
    """(loss, correct count or None) on the whole of ``X``, without recording a graph."""
    model.eval()
    try:
        with no_grad():
            out = model(X)
            loss = loss_fn(out, y).item()
    finally:
        model.train()  # also when the validation data is refused
    return loss, _n_correct(out.data, y, threshold)


def fit(
    model: Module,
    loss_fn: Callable[[Value, np.ndarray], Value],
    optimizer: Optimizer,
    X: Any,
    y: Any,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    progress: bool = True,
    X_val: Any = None,
    y_val: Any = None,
    threshold: float = 0.5,
) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs`` passes over ``(X, y)`` in shuffled minibatches.

    Each epoch draws a fresh permutation from ``rng``; for each batch it computes
    ``loss = loss_fn(model(X_batch), y_batch)`` (a scalar Value), then ``optimizer.zero_grad()``,
    ``loss.backward()``, ``optimizer.step()``. Returns a history of per-epoch values:

    - ``"loss"``: mean training loss over the epoch's samples (batch losses weighted by size);
    - ``"accuracy"``: fraction of correct predictions during the epoch, recorded only for
      classification: integer labels with an ``(n, classes)`` output are compared with the
      output's argmax, 0/1 labels with a one-column output with ``output > threshold`` (0.5
      for a probability; pass ``threshold=0.0`` when the output is a logit);
    - ``"val_loss"``, ``"val_accuracy"``: the same on ``(X_val, y_val)`` after each epoch, in
      eval mode and without a graph, when validation data is given.

    A tqdm progress bar over epochs is shown when ``progress`` is true. A loss that is not
    finite (inf or nan) raises ValueError before that batch's update, leaving the model as the
    previous batch left it.
    """
    for name, n in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {n!r}")
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X and y need a first axis of samples, got shapes {X.shape}, {y.shape}")
    if len(X) == 0:
        raise ValueError("X holds no samples")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if batch_size < 1 or epochs < 0:
        raise ValueError(f"need batch_size >= 1 and epochs >= 0, got {batch_size}, {epochs}")
    if (X_val is None) != (y_val is None):
        raise ValueError("validation needs both X_val and y_val")
    validate = X_val is not None
    if validate:
        X_val, y_val = np.asarray(X_val), np.asarray(y_val)
    rng = np.random.default_rng(rng)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if validate:
        history.update(val_loss=[], val_accuracy=[])

    model.train()
    bar = range(epochs)
    if progress:
        from tqdm.auto import tqdm  # an optional dependency, needed only for the bar

        bar = tqdm(bar, desc="fit")
    for epoch in bar:
        total, correct, order = 0.0, 0, rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            out = model(X[idx])
            loss = loss_fn(out, y[idx])
            batch_loss = loss.item()
            if not math.isfinite(batch_loss):
                raise ValueError(
                    f"the loss is {batch_loss} in epoch {epoch}, batch at sample {start}; the "
                    "model was not updated with it. A loss that takes the target first, such as "
                    "losses.binary_cross_entropy(p, q), needs loss_fn=lambda out, y: "
                    "losses.binary_cross_entropy(y, out); a loss that grew to inf may need a "
                    "smaller learning rate"
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += batch_loss * len(idx)
            n = _n_correct(out.data, y[idx], threshold)
            correct = None if n is None or correct is None else correct + n
        logs = {"loss": total / len(X), "accuracy": None if correct is None else correct / len(X)}
        if validate:
            val_loss, val_correct = _evaluate(model, loss_fn, X_val, y_val, threshold)
            logs["val_loss"] = val_loss
            logs["val_accuracy"] = None if val_correct is None else val_correct / len(X_val)
        for key, value in logs.items():
            if value is not None:
                history[key].append(value)
        if progress:
            bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if v is not None})
    return {k: v for k, v in history.items() if v or not k.endswith("accuracy")}
