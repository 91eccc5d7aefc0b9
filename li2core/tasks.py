"""Group-arithmetic datasets and their train/test splits (paper-li2 §1.2, §4.5).

The full dataset of a group ``H`` of order ``M`` holds all ``N = M^2`` pairs
``(h1, h2)``; pair ``i`` is ``(i // M, i % M)`` and its label is ``h1 h2``.
The input ``x_i = (e_{h1}, e_{h2})`` is never materialised: the model looks up rows
``h1`` and ``M + h2`` of ``W`` (see :mod:`li2core.models`).

Splits follow the author's code: ``n_test = ceil((1 - p) N)`` and ``n_train = N - n_test``
(sklearn's ``train_test_split`` sizes; e.g. ``M = 71, p = 0.4`` gives ``n_train = 2016``),
drawn by a seeded permutation, so a split is a pure function of (group, p, seed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .groups import Group, make

__all__ = ["Task", "Split", "make_task", "onehot_inputs", "split", "n_train_for", "critical_train_frac", "CRITICAL_C"]

#: The multiplier of the author's critical-ratio rule ``p = (c - delta) ln M / M`` (paper-li2 §4.5).
CRITICAL_C = 2.7482


@dataclass(frozen=True)
class Task:
    """All ``M^2`` pairs of a group with their labels.

    Attributes
    ----------
    group: the group.
    a, b: ``(N,)`` int64 tensors, the two operands of each pair.
    y: ``(N,)`` int64 tensor, the label ``a b``.
    """

    group: Group
    a: torch.Tensor
    b: torch.Tensor
    y: torch.Tensor

    @property
    def M(self) -> int:
        return self.group.order

    @property
    def N(self) -> int:
        return self.M * self.M

    def onehot_X(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The literal ``(N, 2M)`` input matrix ``X`` (for tests and theory code): :func:`onehot_inputs`."""
        return onehot_inputs(self.a, self.b, self.M, dtype)


@dataclass(frozen=True)
class Split:
    """Indices into the full dataset; ``train`` and ``test`` are sorted and disjoint."""

    train: torch.Tensor
    test: torch.Tensor

    @property
    def n_train(self) -> int:
        return int(self.train.numel())


def onehot_inputs(a: torch.Tensor, b: torch.Tensor, M: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The one-hot inputs ``X (n, 2M)`` of the pairs ``(a_i, b_i)``: ``x_i = (e_{a_i}, e_{b_i})`` (paper-li2 §1.2).

    The trainer never builds ``X`` (it looks rows of ``W`` up); this is for tests and the literal theory checks.
    """
    n = int(a.numel())
    X = torch.zeros(n, 2 * M, dtype=dtype)
    X[torch.arange(n), a] = 1.0
    X[torch.arange(n), M + b] = 1.0
    return X


def make_task(group: str | Group) -> Task:
    """The full dataset of ``group`` (a name such as ``"Z71"`` or a :class:`Group`)."""
    g = make(group) if isinstance(group, str) else group
    M = g.order
    idx = torch.arange(M * M)
    a, b = idx // M, idx % M
    y = torch.from_numpy(g.table)[a, b]
    return Task(group=g, a=a, b=b, y=y)


def critical_train_frac(M: int, delta: float = 0.0, c: float = CRITICAL_C, c_corr: float = 1.0) -> float:
    """The author's critical-ratio rule, ``p = clip(c_corr (c - delta) ln M / M, 0, 1)`` (paper-li2 §4.5).

    ``c_corr`` is 1 for cyclic and product groups; the author uses ``d_max / 2`` for
    non-Abelian collections.
    """
    if M < 2:
        raise ValueError(f"M: the group order must be >= 2; got {M}")
    return float(min(1.0, max(0.0, c_corr * (c - delta) * math.log(M) / M)))


def n_train_for(N: int, train_frac: float) -> int:
    """Training-set size for a fraction ``p``: ``N - ceil((1 - p) N)`` (sklearn's sizes).

    A 1e-9 guard absorbs float error in ``(1 - p) N`` (e.g. ``p = 0.3``).
    """
    if not 0.0 < train_frac <= 1.0:
        raise ValueError(f"train_frac: must be in (0, 1]; got {train_frac}")
    n_test = math.ceil((1.0 - train_frac) * N - 1e-9)
    return max(0, N - n_test)


def split(task: Task, train_frac: float, seed: int) -> Split:
    """Seeded random split of all pairs; ``n_train = n_train_for(N, train_frac)``.

    The permutation is ``numpy.random.default_rng(seed)``'s, independent of the torch
    stream that initialises the weights. Raises ``ValueError`` when no pair is left
    for training.
    """
    n = n_train_for(task.N, train_frac)
    if n < 1:
        raise ValueError(f"train_frac: {train_frac} leaves no training pair for {task.group.name} (N = {task.N})")
    perm = np.random.default_rng(seed).permutation(task.N)
    train = torch.from_numpy(np.sort(perm[:n]))
    test = torch.from_numpy(np.sort(perm[n:]))
    return Split(train=train, test=test)
