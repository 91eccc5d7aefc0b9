"""The pairs of a group task as the theory functions see them (paper-li2 §1.2): groups, rows, weights.

Groups are anything with ``.order`` and ``.table`` (``T[a, b]`` = index of ``a b``), e.g. ``groups.make("Z23")``,
or a group name (:data:`GroupLike`). Pair ``r`` of the full dataset is ``(r // M, r % M)`` with label
``T[r // M, r % M]`` (the ordering of :mod:`li2core.tasks`); ``rows`` select pairs (:data:`Rows`) and ``weights``
weight them (:data:`Weights`). Nothing here assumes the group is Abelian.

:func:`design` gives the literal one-hot ``X (n, 2M)`` and ``Y (n, M)``; the energy functions never build ``X``.
The private ``_pairs`` (per-row form) and ``_grid`` (the ``M x M`` grid of pairs, the fast path) are shared by
the theory modules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence, Union

import torch

from ..groups import make as _make_group
from ..tasks import onehot_inputs

__all__ = ["GroupLike", "Rows", "Weights", "design"]


class _HasTable(Protocol):
    """Anything with a group order and a Cayley table ``T[a, b]`` = index of ``a b``."""

    @property
    def order(self) -> int: ...

    @property
    def table(self) -> Any: ...


#: A group name for :func:`li2core.groups.make` (e.g. ``"Z23"``) or an object with ``.order`` and ``.table``.
GroupLike = Union[str, _HasTable]


#: Row indices into the ``M^2`` pairs (pair ``r`` is ``(r // M, r % M)``).
Rows = Union[Sequence[int], torch.Tensor, None]


#: Per-row weights aligned with the rows in use.
Weights = Union[Sequence[float], torch.Tensor, None]


def _group(group: GroupLike) -> _HasTable:
    return _make_group(group) if isinstance(group, str) else group


def _table(group: GroupLike) -> torch.Tensor:
    return torch.as_tensor(_group(group).table, dtype=torch.long)


@dataclass(frozen=True)
class _Pairs:
    """The rows in use: operands ``a, b``, labels ``y``, per-row weights, class counts ``c``, ``n``."""

    M: int
    a: torch.Tensor
    b: torch.Tensor
    y: torch.Tensor
    omega: torch.Tensor | None
    counts: torch.Tensor
    n: int


def _row_index(rows: Rows, M: int, device: torch.device) -> torch.Tensor:
    """The rows in use as a flat index into the ``M^2`` pairs (all of them for ``None``), validated."""
    idx = torch.arange(M * M, device=device) if rows is None else torch.as_tensor(rows, device=device).long().reshape(-1)
    if idx.numel() == 0:
        raise ValueError("rows: no row selected")
    if int(idx.min()) < 0 or int(idx.max()) >= M * M:
        raise ValueError(f"rows: indices must lie in [0, M^2) = [0, {M * M})")
    return idx


def _pairs(group: GroupLike, rows: Rows, weights: Weights, dtype: torch.dtype, device: torch.device) -> _Pairs:
    T = _table(group).to(device)
    M = T.shape[0]
    idx = _row_index(rows, M, device)
    a, b = idx // M, idx % M
    y = T[a, b]
    omega = None
    if weights is not None:
        omega = torch.as_tensor(weights, dtype=dtype, device=device).reshape(-1)
        if omega.numel() != idx.numel():
            raise ValueError(f"weights: expected {idx.numel()} per-row weights; got {omega.numel()}")
    counts = torch.zeros(M, dtype=dtype, device=device).index_add_(0, y, torch.ones_like(y, dtype=dtype))
    return _Pairs(M=M, a=a, b=b, y=y, omega=omega, counts=counts, n=int(idx.numel()))


def _flat(w: torch.Tensor, M: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    if w.shape[-1] != 2 * M:
        raise ValueError(f"w: last dimension must be 2M = {2 * M}; got shape {tuple(w.shape)}")
    lead = tuple(w.shape[:-1])
    return w.reshape(-1, 2 * M), lead


@dataclass(frozen=True)
class _Grid:
    """The rows in use laid out on the ``M x M`` grid of pairs (the fast path for E and grad E).

    ``mult[a, b]`` is how often pair ``(a, b)`` is in use (0/1 for distinct ``rows``), ``om[a, b]``
    the sum of its row weights (``None`` when every used pair has weight 1 and all pairs are
    used), ``Yoh (M^2, M)`` the one-hot labels of the grid, ``counts (M,)`` class counts, ``n``.
    """

    M: int
    Yoh: torch.Tensor
    om: torch.Tensor | None
    counts: torch.Tensor
    n: float


def _grid(group: GroupLike, rows: Rows, weights: Weights, dtype: torch.dtype, device: torch.device) -> _Grid:
    T = _table(group).to(device)
    M = T.shape[0]
    Yoh = torch.nn.functional.one_hot(T.reshape(-1), M).to(dtype)
    if rows is None and weights is None:
        return _Grid(M=M, Yoh=Yoh, om=None, counts=torch.full((M,), float(M), dtype=dtype, device=device), n=float(M * M))
    idx = _row_index(rows, M, device)
    ones = torch.ones(idx.numel(), dtype=dtype, device=device)
    mult = torch.zeros(M * M, dtype=dtype, device=device).index_add_(0, idx, ones)
    if weights is None:
        om = mult
    else:
        wt = torch.as_tensor(weights, dtype=dtype, device=device).reshape(-1)
        if wt.numel() != idx.numel():
            raise ValueError(f"weights: expected {idx.numel()} per-row weights; got {wt.numel()}")
        om = torch.zeros(M * M, dtype=dtype, device=device).index_add_(0, idx, wt)
    return _Grid(M=M, Yoh=Yoh, om=om.view(M, M), counts=mult @ Yoh, n=float(idx.numel()))


def _rank_tol(s: torch.Tensor, shape: tuple[int, ...]) -> float:
    """The numerical-rank cut-off ``max(shape) eps s_max`` for the descending singular values ``s`` of a matrix of
    ``shape`` (:func:`torch.linalg.matrix_rank`'s default)."""
    return max(shape) * torch.finfo(s.dtype).eps * (float(s[0]) if s.numel() else 0.0)


def _unit(w: torch.Tensor) -> torch.Tensor:
    return w / w.norm(dim=-1, keepdim=True)


def design(group: GroupLike, rows: Rows = None, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """The literal one-hot matrices ``X (n, 2M)`` and ``Y (n, M)`` (paper-li2 §1.2).

    Row ``i`` is the pair ``(a, b) = (r // M, r % M)`` for ``r = rows[i]`` (all ``M^2`` pairs
    when ``rows`` is ``None``): ``x_i = (e_a, e_b)`` and ``y_i = e_{T[a, b]}``. For tests and
    small examples; the energy functions never build ``X``.

    Paper: §1.2 (X, Y). Chapter: ``thm2_maxima``.
    """
    p = _pairs(group, rows, None, dtype, torch.device("cpu"))
    return onehot_inputs(p.a, p.b, p.M, dtype), _onehot_labels(p, dtype)


def _onehot_labels(p: _Pairs, dtype: torch.dtype) -> torch.Tensor:
    """The one-hot labels ``Y (n, M)`` of the rows in use, on their device."""
    return torch.nn.functional.one_hot(p.y, p.M).to(dtype)
