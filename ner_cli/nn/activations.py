"""Hidden-layer non-linearities f and their derivatives f', as (f, f') pairs.

Each f' takes both z and h = f(z), so the cheap form can be used (sigmoid' = h(1 - h), tanh' = 1 - h^2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray
_GELU_C = np.sqrt(2.0 / np.pi)


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^{-z}), computed without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_prime(z: Array, h: Array) -> Array:
    return h * (1 - h)                                   # σ'(z) = σ(z)(1 - σ(z))


def tanh(z: Array) -> Array:
    return np.tanh(z)


def tanh_prime(z: Array, h: Array) -> Array:
    return 1 - h * h                                     # tanh'(z) = 1 - tanh²(z)


def hardtanh(z: Array) -> Array:
    return np.clip(z, -1, 1)


def hardtanh_prime(z: Array, h: Array) -> Array:
    return ((z > -1) & (z < 1)).astype(z.dtype)          # 1 inside (-1, 1), else 0


def relu(z: Array) -> Array:
    return np.maximum(z, 0)


def relu_prime(z: Array, h: Array) -> Array:
    return (z > 0).astype(z.dtype)


def gelu(z: Array) -> Array:
    """GELU, tanh form: ½ z (1 + tanh(√(2/π)(z + 0.044715 z³)))."""
    return 0.5 * z * (1 + np.tanh(_GELU_C * (z + 0.044715 * z**3)))


def gelu_prime(z: Array, h: Array) -> Array:
    t = np.tanh(_GELU_C * (z + 0.044715 * z**3))
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * z * z)


RELU_FAMILY = ("relu", "gelu")        # units whose weights get He scaling (gain √2) at initialisation

ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]] = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "hardtanh": (hardtanh, hardtanh_prime),
    "relu": (relu, relu_prime),
    "gelu": (gelu, gelu_prime),
}
