"""Theory quantities of the Li2 framework (paper-li2 §1.1, §2).

Shapes carry an optional leading run axis: ``F (..., n, K)``, ``V (..., K, M)``,
``Y (..., n, M)``. ``mask (..., n)`` selects each run's rows (1 = used).
"""
from __future__ import annotations

import torch

from .losses import sample_center

__all__ = ["G_F"]


def G_F(F: torch.Tensor, V: torch.Tensor, Y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The backpropagated gradient ``G_F = P_1^perp (Y - F V) V^T`` (Eq. 2).

    It equals ``-dJ/dF`` for the paper's loss ``J = 1/2 ||P_1^perp (Y - F V)||_F^2`` (Eq. 1).
    """
    squeeze = F.dim() == 2
    if squeeze:
        F, V, Y = F[None], V[None], Y[None]
    if mask is None:
        mask = torch.ones(F.shape[:-1], dtype=F.dtype, device=F.device)
    elif mask.dim() == 1:
        mask = mask[None]
    E = sample_center(Y - torch.bmm(F, V), mask)
    G = torch.bmm(E, V.transpose(-1, -2))
    return G[0] if squeeze else G
