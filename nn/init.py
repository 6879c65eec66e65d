"""Weight initialisers for a weight matrix of shape ``(fan_in, fan_out)``.

Each ``f(shape, rng=None)`` returns a new float64 array with mean 0 and

- Xavier/Glorot: ``Var = 2 / (fan_in + fan_out)``,
- He/Kaiming:    ``Var = 2 / fan_in``.

``rng`` is a ``numpy.random.Generator``, an int seed, or None (fresh OS entropy).
A uniform ``U(-a, a)`` has variance ``a**2 / 3``, hence ``a = sqrt(3 * Var)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["xavier_uniform", "xavier_normal", "he_uniform", "he_normal"]

Seed = np.random.Generator | int | None


def _fans(shape: tuple[int, int]) -> tuple[int, int]:
    shape = tuple(shape)
    if len(shape) != 2 or not all(isinstance(n, int | np.integer) and n > 0 for n in shape):
        raise ValueError(f"shape must be (fan_in, fan_out) with positive ints, got {shape}")
    return int(shape[0]), int(shape[1])


def xavier_uniform(shape: tuple[int, int], rng: Seed = None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return np.random.default_rng(rng).uniform(-a, a, size=(fan_in, fan_out))


def xavier_normal(shape: tuple[int, int], rng: Seed = None) -> np.ndarray:
    """N(0, std**2) with std = sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return np.random.default_rng(rng).normal(0.0, std, size=(fan_in, fan_out))


def he_uniform(shape: tuple[int, int], rng: Seed = None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / fan_in)."""
    fan_in, fan_out = _fans(shape)
    a = np.sqrt(6.0 / fan_in)
    return np.random.default_rng(rng).uniform(-a, a, size=(fan_in, fan_out))


def he_normal(shape: tuple[int, int], rng: Seed = None) -> np.ndarray:
    """N(0, std**2) with std = sqrt(2 / fan_in)."""
    fan_in, fan_out = _fans(shape)
    std = np.sqrt(2.0 / fan_in)
    return np.random.default_rng(rng).normal(0.0, std, size=(fan_in, fan_out))
