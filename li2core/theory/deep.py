"""Deeper nets and the output scale (paper-li2 §2 "Multi-layer extension", Sec. 6; App. C.3): tensors in, tensors out.

* **Eq. 11.** In ``F_l = sigma(F_{l-1} W_l)``, after Stage I the top hidden layer's backpropagated gradient is
  ``G_L = Y~ Y~^T F_L`` (the ascent direction of the energy ``E = 1/2 ||Y~^T F_L||_F^2``). For a homogeneous
  ``sigma`` of degree ``k`` (``sigma(z) = sigma'(z) z / k``: ``relu`` and ``linear`` k = 1, ``sqr`` and ``relusqr``
  k = 2) one layer down it is, node by node (``D_j = diag(sigma'(F_{L-1} w_j))``, ``w_j`` column ``j`` of ``W_L``),
  ``G_{L-1} = sum_j D_j Y~ Y~^T D_j F_{L-1} w_j w_j^T / k`` (:func:`eq11_G`); the paper writes it compactly as
  ``D_L Y~ Y~^T D_L F_{L-1} W_L W_L^T ~ D_L Y~ Y~^T D_L F_{L-1}``, the last step assuming ``W_L W_L^T ~ I``.
  :func:`gram_identity_gap` measures how far ``W_L W_L^T`` is from a multiple of the identity. For the author's
  residual blocks ``x <- sigma(x + x U)`` the layer matrix is ``W_L = I + U`` (:func:`residual_layer_matrix`).
* **App. C.3.** With an output scale ``beta``, ``J = 1/2 ||Y~ - beta F~ V||^2 + eta/2 ||V||^2`` and
  ``G = -dJ/dF = beta P1perp (Y - beta F V) V^T``. At the ridge ``V`` it is exactly Eq. 4's fixed point with
  ``eta / beta^2`` in place of ``eta`` (:func:`G_star_output_scale`). The paper's ``G*_beta = G* / beta^2``
  (Eq. 69, :func:`eq69_G_star`) is its first order in ``eta`` when ``F~`` can fit ``Y~`` (realizable, e.g.
  ``K >= n``: ``G* = O(eta)``, relative gap ``O(eta)``); when it cannot, ``G*`` tends to the nonzero least-squares
  residual term as ``eta -> 0`` and the relative gap tends to ``1 - 1/beta^2`` (:func:`eq69_gap`).
"""
from __future__ import annotations

import torch

from ..activations import derivatives
from ..losses import center
from .stage1 import G_F_infinity

__all__ = ["HOMOGENEITY", "G_star_output_scale", "eq11_G", "eq11_top_gradient", "eq69_G_star", "eq69_gap",
           "gram_identity_gap", "residual_layer_matrix"]

#: The degree ``k`` of the homogeneous activations (``sigma(z) = sigma'(z) z / k``); others are not homogeneous.
HOMOGENEITY = {"relu": 1, "linear": 1, "sqr": 2, "relusqr": 2}


def eq11_top_gradient(F_L: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """``G_L = Y~ Y~^T F_L``: the top hidden layer's gradient after Stage I (``F_L (n, K)``, ``Y (n, M)`` one-hot,
    centred here over the samples), the gradient of ``E = 1/2 ||Y~^T F_L||_F^2``.

    Paper: Eq. 11. Chapter: ``deep_networks``.
    """
    Yt = center(Y.to(F_L.dtype))
    return Yt @ (Yt.transpose(-1, -2) @ F_L)


def eq11_G(F_prev: torch.Tensor, W_L: torch.Tensor, Y: torch.Tensor, activation: str = "relu") -> torch.Tensor:
    """Eq. 11: ``G_{L-1} = sum_j D_j Y~ Y~^T D_j F_{L-1} w_j w_j^T / k`` for ``F_L = sigma(F_{L-1} W_L)``.

    ``F_prev (n, K')`` is ``F_{L-1}``, ``W_L (K', K)`` the layer (``I + U`` for a residual block,
    :func:`residual_layer_matrix`), ``Y (n, M)`` one-hot, ``activation`` homogeneous (:data:`HOMOGENEITY`). Equals
    the gradient of ``E = 1/2 ||Y~^T sigma(F_{L-1} W_L)||_F^2`` with respect to ``F_{L-1}`` (checked against
    autograd); ``D_j`` is node ``j``'s ``diag(sigma'(F_{L-1} w_j))``, the paper's ``D_L`` per node. Returns
    ``(n, K')``.

    Paper: Eq. 11. Chapter: ``deep_networks``.
    """
    if activation not in HOMOGENEITY:
        raise ValueError(f"activation: Eq. 11 needs a homogeneous activation; accepted: {', '.join(HOMOGENEITY)}")
    _, dsigma, _ = derivatives(activation)
    Z = F_prev @ W_L
    D = dsigma(Z)  # column j: the diagonal of D_j
    f = D * Z / HOMOGENEITY[activation]  # = sigma(Z): the homogeneity that Eq. 11 uses
    return (D * eq11_top_gradient(f, Y)) @ W_L.transpose(-1, -2)


def residual_layer_matrix(U: torch.Tensor) -> torch.Tensor:
    """``I + U``: the layer matrix of the author's residual block ``x <- sigma(x + x U)`` (``U (..., K, K)``), the
    ``W_L`` of Eq. 11 for the extra layers of :mod:`li2core.models.deep`.

    Paper: Eq. 11. Chapter: ``deep_networks``.
    """
    return U + torch.eye(U.shape[-1], dtype=U.dtype, device=U.device)


def gram_identity_gap(W: torch.Tensor) -> torch.Tensor:
    """How far ``W W^T`` is from a multiple of the identity (Eq. 11's ``W_L W_L^T ~ I``):
    ``min_c ||W W^T - c I||_F / ||W W^T||_F`` (``c = tr(W W^T) / K'``), 0 for orthogonal columns up to scale and
    ``sqrt(1 - 1/rank)``-ish for a low-rank ``W``. ``W (..., K', K)`` → ``(...)``.

    Paper: Eq. 11. Chapter: ``deep_networks``.
    """
    G = W @ W.transpose(-1, -2)
    d = G.shape[-1]
    c = torch.diagonal(G, dim1=-2, dim2=-1).sum(-1) / d
    E = G - c[..., None, None] * torch.eye(d, dtype=G.dtype, device=G.device)
    return E.flatten(-2).norm(dim=-1) / G.flatten(-2).norm(dim=-1)


def G_star_output_scale(F: torch.Tensor, Y: torch.Tensor, eta: float, beta: float) -> torch.Tensor:
    """The lazy-stage fixed point with output scale ``beta``: ``G = beta P1perp (Y - beta F V*) V*^T`` at the ridge
    ``V* = argmin 1/2 ||Y~ - beta F~ V||^2 + eta/2 ||V||^2``, which is exactly Eq. 4 at ``eta / beta^2``
    (``G_F_infinity(F, Y, eta / beta**2)``). ``F (n, K)``, ``Y (n, M)``; ``eta >= 0``, ``beta > 0``.

    Paper: App. C.3, Eq. 4. Chapter: ``output_scale``.
    """
    if not beta > 0:
        raise ValueError(f"beta: must be > 0; got {beta!r}")
    return G_F_infinity(F, Y, float(eta) / float(beta) ** 2)


def eq69_G_star(F: torch.Tensor, Y: torch.Tensor, eta: float, beta: float) -> torch.Tensor:
    """The paper's statement (App. C.3, its Eq. 69): ``G*_beta = G* / beta^2`` with ``G*`` Eq. 4's fixed point at
    ``eta`` (:func:`li2core.theory.stage1.G_F_infinity`).

    Paper: App. C.3. Chapter: ``output_scale``.
    """
    if not beta > 0:
        raise ValueError(f"beta: must be > 0; got {beta!r}")
    return G_F_infinity(F, Y, float(eta)) / float(beta) ** 2


def eq69_gap(F: torch.Tensor, Y: torch.Tensor, eta: float, beta: float) -> float:
    """``||G*_beta - G* / beta^2||_F / ||G*_beta||_F``: how far the paper's ``1/beta^2`` rescaling is from the exact
    fixed point (:func:`G_star_output_scale`): ``O(eta)`` as ``eta -> 0`` when ``F~`` can fit ``Y~`` (realizable),
    ``-> 1 - 1/beta^2`` when it cannot.

    Paper: App. C.3. Chapter: ``output_scale``.
    """
    exact = G_star_output_scale(F, Y, eta, beta)
    return float((exact - eq69_G_star(F, Y, eta, beta)).norm() / exact.norm())
