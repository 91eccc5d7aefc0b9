"""The two-layer network ``Y_hat = sigma(X W) V`` without biases, batched over runs (paper-li2 §1.1, §4.2).

Weights of ``R`` runs are stored as ``W: (R, 2M, K)`` and ``V: (R, K, M)``. Because each
input ``x = (e_{h1}, e_{h2})`` is a pair of one-hots, ``X W`` is computed as a lookup of
rows ``h1`` and ``M + h2`` of ``W`` (an embedding-style ``index_select``), never as a
matmul with the one-hot matrix.
"""
from __future__ import annotations

import torch

from .activations import ACTIVATIONS, activation

__all__ = ["ACTIVATIONS", "activation", "init_weights", "preact", "preact_all", "preact_grid", "forward"]


def init_weights(
    M: int, K: int, seed: int, top_layer_init_multiplier: float = 1.0, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """The author's initialisation (PyTorch ``nn.Linear`` default, paper-li2 §4.2).

    ``W ~ U(-1/sqrt(2M), 1/sqrt(2M))`` of shape ``(2M, K)``; ``V ~ U(-1/sqrt(K), 1/sqrt(K))``
    of shape ``(K, M)`` times ``top_layer_init_multiplier`` (0 gives zero-init, Sec. 3.2).
    Drawn on the CPU from ``torch.Generator().manual_seed(seed)``, so the same seed gives
    the same weights on every device.
    """
    g = torch.Generator().manual_seed(int(seed))
    bw, bv = (2 * M) ** -0.5, K**-0.5
    W = (torch.rand(2 * M, K, generator=g, dtype=torch.float64) * 2 - 1) * bw
    V = (torch.rand(K, M, generator=g, dtype=torch.float64) * 2 - 1) * bv * top_layer_init_multiplier
    return W.to(dtype), V.to(dtype)


def preact(W: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``X W`` for per-run pairs: ``W (R, 2M, K)``, ``a, b (R, n)`` → ``(R, n, K)``.

    Row ``i`` of run ``r`` is ``W[r, a[r, i]] + W[r, M + b[r, i]]``: one summed embedding lookup
    (``embedding_bag``) into the flattened ``(R * 2M, K)`` weights.
    """
    R, twoM, K = W.shape
    off = (torch.arange(R, device=W.device) * twoM)[:, None]
    idx = torch.stack(((a + off).reshape(-1), (b + twoM // 2 + off).reshape(-1)), dim=1)
    return torch.nn.functional.embedding_bag(idx, W.reshape(R * twoM, K), mode="sum").view(R, -1, K)


def preact_all(W: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``X W`` for pairs shared by all runs: ``a, b (n,)`` → ``(R, n, K)``."""
    M = W.shape[1] // 2
    return W.index_select(1, a) + W.index_select(1, b + M)


def preact_grid(W: torch.Tensor) -> torch.Tensor:
    """``X W`` for all ``M^2`` pairs in :func:`li2core.tasks.make_task` order (pair ``i = a M + b``).

    ``W (R, 2M, K)`` → ``(R, M^2, K)`` by broadcasting ``W[:, a] + W[:, M + b]`` over the grid.
    """
    R, twoM, K = W.shape
    M = twoM // 2
    return (W[:, :M, None, :] + W[:, None, M:, :]).reshape(R, M * M, K)


def forward(W: torch.Tensor, V: torch.Tensor, a: torch.Tensor, b: torch.Tensor, act: str = "sqr") -> torch.Tensor:
    """``sigma(X W) V`` for pairs shared by all runs; ``W`` may be ``(2M, K)`` or ``(R, 2M, K)``."""
    squeeze = W.dim() == 2
    if squeeze:
        W, V = W[None], V[None]
    sigma, _ = activation(act)
    O = torch.bmm(sigma(preact_all(W, a, b)), V)
    return O[0] if squeeze else O
