"""Stage II: the energy ``E(w) = 1/2 ||Y~^T sigma(X w)||^2`` (paper-li2 §2 "Stage II"; Thm 1, Eqs. 6-7) and its
derivatives; chapter ``thm1_energy`` (and ``thm2_maxima``, ``thm3_reconstruction`` for the complex energy).

**The energy is never built from X.** Row ``i`` of ``X w`` is ``w[a_i] + w[M + b_i]``, so with
``f_i = omega_i sigma(w[a_i] + w[M + b_i])``, ``z_h = sum_{i: y_i = h} f_i`` and ``c_h`` the number of rows of
class ``h`` among the ``n`` rows in use, ``Y~^T f = z - (c / n) sum_i f_i``. The gradient
``X^T D Y~ Y~^T f`` adds the per-row values ``omega_i sigma'(.) (Y~ g)_i`` into entries ``a_i`` and ``M + b_i``.
:func:`energy` and the ascent (:mod:`li2core.theory.ascent`) evaluate this on the ``M x M`` grid of pairs
(``pre[a, b] = w_a + w_{M+b}`` by broadcasting, rows not in use weighted 0), so ``X^T r`` is a row sum and a column
sum; :func:`energy_hessian` uses the per-row form. :func:`eq6_rhs` and :func:`class_signal` compute the same
quantities literally from the explicit one-hot ``X`` (independent checks).

* Eq. 7: :func:`energy`, :func:`energy_and_grad`, :func:`energy_grad` (Thm 1: Eq. 6 is gradient ascent on E),
  :func:`energy_grad_fd`, :func:`eq6_rhs`, :func:`class_signal`, :func:`energy_cross_term` (App. A.1).
* The sphere ``||w|| = 1`` (Stage II's constraint; Cor. 1): :func:`tangent_grad`, :func:`energy_hessian`,
  :func:`tangent_hessian_matrix`, :func:`tangent_hessian`, :func:`tangent_hessian_batch`.
* Training against Eq. 6: :func:`loss_grad` (the trainer's own gradient), :func:`median_abs_offdiag_cos`,
  :func:`rel_err`.
* Over C (Thm 3 with complex weights): :func:`energy_complex`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..activations import derivatives
from ..losses import center, loss_and_grad
from .pairs import (
    GroupLike,
    Rows,
    Weights,
    _flat,
    _Grid,
    _grid,
    _onehot_labels,
    _Pairs,
    _pairs,
    _unit,
    design,
)

__all__ = [
    "energy",
    "energy_and_grad",
    "energy_grad",
    "energy_hessian",
    "tangent_grad",
    "tangent_hessian_matrix",
    "tangent_hessian",
    "tangent_hessian_batch",
    "energy_grad_fd",
    "eq6_rhs",
    "rel_err",
    "LossGrad",
    "loss_grad",
    "column_cosines",
    "tangent_columns",
    "median_abs_offdiag_cos",
    "class_signal",
    "energy_cross_term",
    "energy_complex",
]


def _forward(w2: torch.Tensor, p: _Pairs, act: str):
    """Pre-activations, ``f``, ``g = Y~^T Omega f`` for ``w2 (B, 2M)``."""
    sig, dsig, d2sig = derivatives(act)
    pre = w2[:, p.a] + w2[:, p.M + p.b]  # (B, n) = (X w)^T
    f = sig(pre)
    if p.omega is not None:
        f = f * p.omega
    z = torch.zeros(w2.shape[0], p.M, dtype=w2.dtype, device=w2.device).index_add_(1, p.y, f)
    g = z - p.counts * (f.sum(-1, keepdim=True) / p.n)  # Y~^T Omega sigma(X w), (B, M)
    return pre, g, dsig, d2sig


def _Ytg(g: torch.Tensor, p: _Pairs) -> torch.Tensor:
    """``(Y~ g)_i = g_{y_i} - (c . g) / n`` for ``g (B, M)`` → ``(B, n)``."""
    return g[:, p.y] - (g @ p.counts)[:, None] / p.n


def _scatter_rows(r: torch.Tensor, p: _Pairs) -> torch.Tensor:
    """``X^T r`` for per-row values ``r (B, n)`` → ``(B, 2M)``."""
    out = torch.zeros(r.shape[0], 2 * p.M, dtype=r.dtype, device=r.device)
    return out.index_add_(1, p.a, r).index_add_(1, p.M + p.b, r)


def _energy_grad_grid(w2: torch.Tensor, q: _Grid, act: str, need_grad: bool = True):
    """``E (B,)`` and ``grad E (B, 2M)`` for ``w2 (B, 2M)`` on the grid: ``pre[a, b] = u_a + v'_b``."""
    sig, dsig, _ = derivatives(act)
    M, Bn = q.M, w2.shape[0]
    pre = w2[:, :M, None] + w2[:, None, M:]  # (B, M, M): (X w) on the grid
    f = sig(pre)
    if q.om is not None:
        f = f * q.om
    g = f.reshape(Bn, M * M) @ q.Yoh  # z_h
    g = g - q.counts * (f.sum(dim=(1, 2))[:, None] / q.n)  # Y~^T Omega sigma(X w)
    E = 0.5 * g.pow(2).sum(-1)
    if not need_grad:
        return E, None
    Ytg = (g @ q.Yoh.T).view(Bn, M, M) - ((g @ q.counts) / q.n)[:, None, None]
    r = dsig(pre) * Ytg
    if q.om is not None:
        r = r * q.om
    return E, torch.cat([r.sum(2), r.sum(1)], dim=-1)


def energy(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    weights: Weights = None,
    chunk: int | None = None,
) -> torch.Tensor:
    """The energy ``E(w) = 1/2 ||Y~^T Omega sigma(X w)||_2^2`` (Theorem 1, Eq. 7).

    ``Y~ = P_1^perp Y`` is centred over the samples in use (all ``M^2`` pairs, or ``rows``);
    ``Omega = diag(weights)`` (identity by default) weights the rows, e.g. ``weights = 1/p`` on
    the kept rows for the Horvitz-Thompson estimator ``z^_h = p^{-1} sum_j xi_{h,j} s_{h,j}`` of
    Theorem 4's proof (the centring stays the unweighted sample centring of the rows in use).
    ``w``: ``(2M,)`` → scalar, or ``(..., 2M)`` → ``(...)``. ``X`` is never materialised.
    Activations: :data:`li2core.activations.THEORY_ACTIVATIONS` (``linear`` is the LDA remark after Cor. 2).
    ``chunk``: evaluate a batch ``w (B, 2M)`` in chunks of this many nodes (``0``: as many as keep
    ``B x M x M`` below ``2^24`` values; the grid path holds that many), for memory; ``None``: all at once.

    Paper: Eq. 7, Thm 1. Chapter: ``thm1_energy``.
    """
    if chunk is not None:
        return _energy_chunked(w, group, activation, rows, weights, chunk)
    q = _grid(group, rows, weights, w.dtype, w.device)
    w2, lead = _flat(w, q.M)
    E, _ = _energy_grad_grid(w2, q, activation, need_grad=False)
    return E.reshape(lead)


def energy_and_grad(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    weights: Weights = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(E(w), grad E(w))`` of :func:`energy` and :func:`energy_grad` in one pass.

    Paper: Eq. 7, Thm 1. Chapter: ``thm1_energy``.
    """
    q = _grid(group, rows, weights, w.dtype, w.device)
    w2, lead = _flat(w, q.M)
    E, G = _energy_grad_grid(w2, q, activation)
    return E.reshape(lead), G.reshape(w.shape)


def energy_grad(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    weights: Weights = None,
) -> torch.Tensor:
    """The analytic gradient ``grad E = X^T D Omega Y~ Y~^T Omega sigma(X w)`` (Theorem 1; Eq. 6 with
    ``D = diag(sigma'(X w))``), as a scatter-add over the rows. Same shape as ``w``.

    Paper: Eq. 6, Thm 1. Chapter: ``thm1_energy``.
    """
    return energy_and_grad(w, group, activation, rows, weights)[1]


def energy_hessian(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    weights: Weights = None,
) -> torch.Tensor:
    """The exact Hessian of :func:`energy` (differentiating Theorem 1's gradient once more):

    ``hess E = J^T J + X^T diag(omega o sigma''(X w) o Y~ g) X`` with ``J = Y~^T Omega D X (M, 2M)``
    and ``g = Y~^T Omega sigma(X w)``. For ``relu`` the second term is the a.e. value 0.
    ``w``: ``(2M,)`` → ``(2M, 2M)``; ``(..., 2M)`` → ``(..., 2M, 2M)``.

    Paper: Cor. 1. Chapter: ``thm2_maxima``.
    """
    p = _pairs(group, rows, weights, w.dtype, w.device)
    w2, lead = _flat(w, p.M)
    Bn, M2 = w2.shape[0], 2 * p.M
    pre, g, dsig, d2sig = _forward(w2, p, activation)
    d = dsig(pre)  # (B, n)
    c = d2sig(pre) * _Ytg(g, p)
    if p.omega is not None:
        d = d * p.omega
        c = c * p.omega
    ib = p.M + p.b
    # J = Y^T (Omega D X) - (counts / n) 1^T (Omega D X)
    YD = torch.zeros(Bn, p.M * M2, dtype=w2.dtype, device=w2.device)
    YD.index_add_(1, p.y * M2 + p.a, d).index_add_(1, p.y * M2 + ib, d)
    colsum = _scatter_rows(d, p)  # (B, 2M)
    J = YD.view(Bn, p.M, M2) - (p.counts / p.n)[None, :, None] * colsum[:, None, :]
    H = J.transpose(-1, -2) @ J
    S = torch.zeros(Bn, M2 * M2, dtype=w2.dtype, device=w2.device)
    for ri, ci in ((p.a, p.a), (ib, ib), (p.a, ib), (ib, p.a)):
        S.index_add_(1, ri * M2 + ci, c)
    H = H + S.view(Bn, M2, M2)
    return H.reshape(lead + (M2, M2))


def _energy_chunked(u: torch.Tensor, group: GroupLike, activation: str, rows: Rows, weights: Weights,
                    chunk: int) -> torch.Tensor:
    M = u.shape[-1] // 2
    chunk = chunk or max(1, int(2**24 // max(1, M * M)))
    if u.shape[0] <= chunk:
        return energy(u, group, activation, rows=rows, weights=weights)
    return torch.cat([energy(u[i : i + chunk], group, activation, rows=rows, weights=weights)
                      for i in range(0, u.shape[0], chunk)])


def tangent_grad(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    weights: Weights = None,
) -> torch.Tensor:
    """The Riemannian gradient on the unit sphere, ``(I - w w^T) grad E(w)``, at ``w / ||w||``
    (Stage II's constraint ``||w|| = 1``, paper-li2 §2 Theorem 1). Same shape as ``w``.

    Paper: Thm 1. Chapter: ``thm1_energy``.
    """
    u = _unit(w)
    G = energy_grad(u, group, activation, rows, weights)
    return G - (G * u).sum(-1, keepdim=True) * u


def _householder_basis(w: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis ``(d, d-1)`` of ``w^perp`` (``w`` unit): columns 2..d of the
    Householder reflection mapping ``e_1`` to ``w``."""
    d = w.shape[0]
    e1 = torch.zeros_like(w)
    e1[0] = 1.0
    s = 1.0 if w[0] <= 0 else -1.0  # reflect e1 to s' w with the stable sign; the basis is the same span
    v = e1 + s * w
    Hh = torch.eye(d, dtype=w.dtype, device=w.device) - 2.0 * torch.outer(v, v) / (v @ v)
    return Hh[:, 1:]


def tangent_hessian_matrix(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    weights: Weights = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The Riemannian Hessian of ``E`` on the unit sphere at ``u = w / ||w||`` (Cor. 1):

    ``H_t = P^T (hess E(u) - (u^T grad E(u)) I) P`` with ``P (2M, 2M-1)`` an orthonormal basis of
    ``u^perp``. Returns ``(H_t, P)``. Along the geodesic ``cos(t) u + sin(t) P x`` (unit ``x``),
    ``d^2 E / dt^2 = x^T H_t x`` at ``t = 0``.

    Paper: Cor. 1. Chapter: ``thm2_maxima``.
    """
    if w.dim() != 1:
        raise ValueError(f"w: expected a single node of shape (2M,); got {tuple(w.shape)}")
    u = _unit(w)
    _, G = energy_and_grad(u, group, activation, rows, weights)
    H = energy_hessian(u, group, activation, rows, weights)
    P = _householder_basis(u)
    Ht = P.T @ (H - (u @ G) * torch.eye(H.shape[0], dtype=H.dtype, device=H.device)) @ P
    return 0.5 * (Ht + Ht.T), P


def tangent_hessian(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    weights: Weights = None,
) -> torch.Tensor:
    """Eigenvalues ``(2M-1,)``, ascending, of :func:`tangent_hessian_matrix`.

    At a local maximum none is positive. Cor. 1 claims at least one is 0 for ``M > 2``; that holds
    at maxima in complex (or ``d_k > 1``) irreps, not at 1-d real ones (see the module notes).

    Paper: Cor. 1. Chapter: ``thm2_maxima``.
    """
    Ht, _ = tangent_hessian_matrix(w, group, activation, rows, weights)
    return torch.linalg.eigvalsh(Ht)


def tangent_hessian_batch(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
) -> torch.Tensor:
    """:func:`tangent_hessian` for a batch ``w (B, 2M)`` → eigenvalues ``(B, 2M - 1)`` ascending
    (one batched :func:`energy_hessian`, instead of ``B`` separate calls).

    Paper: Cor. 1. Chapter: ``thm2_maxima``.
    """
    if w.dim() != 2:
        raise ValueError(f"w: expected a batch of nodes (B, 2M); got {tuple(w.shape)}")
    u = _unit(w)
    _, G = energy_and_grad(u, group, activation, rows)
    H = energy_hessian(u, group, activation, rows)
    lam = (u * G).sum(-1)
    eye = torch.eye(w.shape[1], dtype=w.dtype, device=w.device)
    P = torch.stack([_householder_basis(ub) for ub in u])  # (B, 2M, 2M-1)
    Ht = P.transpose(-1, -2) @ (H - lam[:, None, None] * eye) @ P
    return torch.linalg.eigvalsh(0.5 * (Ht + Ht.transpose(-1, -2)))


def energy_grad_fd(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    h: float = 1e-6,
) -> torch.Tensor:
    """Central finite differences ``(E(w + h e_i) - E(w - h e_i)) / 2h`` of :func:`energy`, one per
    coordinate ``i`` (an independent check of :func:`energy_grad`; Theorem 1).

    ``w``: ``(2M,)`` or ``(B, 2M)`` → same shape. Use float64: the truncation error is ``O(h^2)``
    and the round-off ``O(eps E / h)``.

    Paper: Thm 1. Chapter: ``thm1_energy``.
    """
    if h <= 0:
        raise ValueError(f"h: the finite-difference step must be > 0; got {h}")
    squeeze = w.dim() == 1
    w2 = w[None] if squeeze else w
    d = w2.shape[-1]
    I = torch.eye(d, dtype=w2.dtype, device=w2.device) * h
    Ep = energy(w2[:, None, :] + I, group, activation, rows)  # (B, d)
    Em = energy(w2[:, None, :] - I, group, activation, rows)
    fd = (Ep - Em) / (2.0 * h)
    return fd[0] if squeeze else fd


def eq6_rhs(W: torch.Tensor, group: GroupLike, activation: str = "sqr", rows: Rows = None) -> torch.Tensor:
    """The right-hand side of Eq. 6, ``X^T D_j g_j`` with ``g_j = Y~ Y~^T sigma(X w_j)`` and
    ``D_j = diag(sigma'(X w_j))``, computed *literally* with the explicit one-hot ``X (n, 2M)`` and
    ``Y (n, M)`` of :func:`design` (``Y~`` centred over the rows in use).

    ``W``: the paper's layout ``(2M, K)``, one node per column (or a single node ``(2M,)``) →
    same shape. Theorem 1 says this equals ``grad E(w_j)`` (:func:`energy_grad`, which never builds ``X``).

    Paper: Eq. 6, Thm 1. Chapter: ``thm1_energy``.
    """
    squeeze = W.dim() == 1
    W2 = W[:, None] if squeeze else W
    X, Y = design(group, rows, dtype=W2.dtype)
    X, Y = X.to(W2.device), Y.to(W2.device)
    if W2.shape[0] != X.shape[1]:
        raise ValueError(f"W: expected shape (2M, K) with 2M = {X.shape[1]}; got {tuple(W.shape)}")
    sig, dsig, _ = derivatives(activation)
    Yt = center(Y)
    Hp = X @ W2  # (n, K) pre-activations
    G = Yt @ (Yt.T @ sig(Hp))  # columns g_j
    out = X.T @ (dsig(Hp) * G)  # X^T D_j g_j, column by column
    return out[:, 0] if squeeze else out


def rel_err(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Relative error ``max_i |a_i - b_i| / max_i |b_i|`` along the last axis (``b`` the reference).

    Paper: — (a helper for Thm 1). Chapter: ``thm1_energy``.
    """
    return (a - b).abs().amax(-1) / b.abs().amax(-1).clamp_min(torch.finfo(b.dtype).tiny)


class LossGrad(NamedTuple):
    """Output of :func:`loss_grad`: ``W = -dL/dW (2M, K)``, ``F = -dL/dF (n, K)`` (the loss's
    own ``G_F``: for ``mse_sample`` it is Eq. 2 exactly) and the loss value."""

    W: torch.Tensor
    F: torch.Tensor
    loss: float


def loss_grad(
    W: torch.Tensor,
    V: torch.Tensor,
    group: GroupLike,
    rows: Rows = None,
    activation: str = "sqr",
    loss: str = "mse_class",
) -> LossGrad:
    """The negative gradient of a training loss w.r.t. ``W`` and ``F = sigma(X W)``, on ``rows``
    (hand-written backward, the same as the trainer's step; without weight decay).

    ``W (2M, K)``, ``V (K, M)``; ``loss`` one of :data:`li2core.losses.LOSSES`. Column ``j`` of
    ``-dL/dW`` is ``X^T D_j g_j`` with ``g_j`` column ``j`` of ``-dL/dF``: the Stage-II claim
    (Eq. 6, Theorem 1) is that ``g_j`` is proportional to ``Y~ Y~^T sigma(X w_j)``, so that
    column ``j`` of ``-dL/dW`` points along ``grad E(w_j)``.

    Paper: Eq. 1, Eq. 2, Eq. 6. Chapter: ``thm1_energy``.
    """
    p = _pairs(group, rows, None, W.dtype, W.device)
    if W.dim() != 2 or W.shape[0] != 2 * p.M:
        raise ValueError(f"W: expected shape (2M, K) = ({2 * p.M}, K); got {tuple(W.shape)}")
    if V.dim() != 2 or V.shape != (W.shape[1], p.M):
        raise ValueError(f"V: expected shape (K, M) = ({W.shape[1]}, {p.M}); got {tuple(V.shape)}")
    sig, dsig, _ = derivatives(activation)
    Hp = W[p.a] + W[p.M + p.b]  # (n, K)
    F = sig(Hp)
    O = F @ V
    mask = torch.ones(1, p.n, dtype=W.dtype, device=W.device)
    L, dO = loss_and_grad(loss, O[None], p.y[None], mask)
    dF = dO[0] @ V.T
    dH = dF * dsig(Hp)
    dW = torch.zeros_like(W).index_add_(0, p.a, dH).index_add_(0, p.M + p.b, dH)
    return LossGrad(W=-dW, F=-dF, loss=float(L[0]))


def column_cosines(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Cosine between matching columns of ``A, B (d, K)`` → ``(K,)`` (0 for a zero column).

    Paper: — (a helper for Thm 1). Chapter: ``thm1_energy``.
    """
    num = (A * B).sum(0)
    den = A.norm(dim=0) * B.norm(dim=0)
    return torch.where(den > 0, num / den.clamp_min(torch.finfo(A.dtype).tiny), torch.zeros_like(num))


def tangent_columns(A: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Each column ``a_j`` of ``A`` projected on ``w_j^perp`` (the sphere's tangent space at ``w_j``).

    Paper: — (a helper for Thm 1). Chapter: ``thm1_energy``.
    """
    U = W / W.norm(dim=0, keepdim=True).clamp_min(torch.finfo(W.dtype).tiny)
    return A - (A * U).sum(0, keepdim=True) * U


def median_abs_offdiag_cos(G: torch.Tensor) -> float:
    """``median_{j != j'} |cos(g_j, g_j')|`` over the columns of ``G (n, K)`` (the independence proxy
    of Theorem 1's check: small when the nodes' driving signals are not collapsed on one direction).

    Paper: Thm 1. Chapter: ``thm1_energy``.
    """
    nrm = G.norm(dim=0)
    keep = nrm > 0
    U = G[:, keep] / nrm[keep]
    C = (U.T @ U).abs()
    K = C.shape[0]
    if K < 2:
        return float("nan")
    iu = torch.triu_indices(K, K, offset=1, device=C.device)
    # numpy's median (mean of the middle two for an even count; torch.quantile caps the input size)
    return float(np.median(C[iu[0], iu[1]].cpu().numpy()))


def class_signal(w: torch.Tensor, group: GroupLike, activation: str = "sqr", rows: Rows = None) -> torch.Tensor:
    """``z~ = Y~^T sigma(X w) (M,)``, the per-class signal whose squared norm is ``2 E(w)`` (Eq. 7; the
    ``z_h - z_bar`` of the group form in App. A.1 on full data). Built from the explicit :func:`design`.
    ``w``: ``(2M,)`` → ``(M,)``, or ``(B, 2M)`` → ``(B, M)``.

    Paper: Eq. 7, App. A.1. Chapter: ``thm2_maxima``.
    """
    X, Y = design(group, rows, dtype=w.dtype)
    sig, _, _ = derivatives(activation)
    return sig(w @ X.T.to(w.device)) @ center(Y).to(w.device)


def energy_cross_term(w: torch.Tensor, group: GroupLike, coef: float = 1.0, rows: Rows = None) -> torch.Tensor:
    """``1/2 || Y~^T (coef * c) ||^2`` with ``c_i = u_{a_i} v'_{b_i}`` the cross term of
    ``sigma(u_a + v'_b) = u_a^2 + v'_b^2 + 2 u_a v'_b`` (``w = [u; v']``, ``sigma = x^2``; Theorem 2's proof, App. A.1).

    On all ``M^2`` pairs the square terms are the same for every class (each row and column of a Cayley
    table holds every label once), so centring removes them and ``E(w) = energy_cross_term(w, coef=2)``
    exactly, for every ``w``. The proof writes ``S = (u o u) 1^T + 1 (v o v)^T + u v^T``, i.e. ``coef = 1``,
    which is ``E / 4``: the factor 4 between the literal ``E*`` and the paper's ``M/(8 d_k)``, ``M/(16 d_k)``.
    ``w``: ``(2M,)`` → scalar, ``(B, 2M)`` → ``(B,)``.

    Paper: Thm 2, App. A.1. Chapter: ``thm2_maxima``.
    """
    p = _pairs(group, rows, None, w.dtype, w.device)
    w2, lead = _flat(w, p.M)
    c = coef * w2[:, p.a] * w2[:, p.M + p.b]  # (B, n)
    z = c @ center(_onehot_labels(p, w.dtype))  # (B, M)
    return 0.5 * z.pow(2).sum(-1).reshape(lead)


def _complex_grid_energy_grad(w2: torch.Tensor, q: _Grid) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`energy_complex` and its gradient on the grid, ``w2 (B, 2M)`` complex."""
    M, Bn = q.M, w2.shape[0]
    pre = w2[:, :M, None] + w2[:, None, M:]
    f = pre * pre
    if q.om is not None:
        f = f * q.om
    Yc = q.Yoh.to(w2.dtype)
    g = f.reshape(Bn, M * M) @ Yc
    g = g - q.counts.to(w2.dtype) * (f.sum(dim=(1, 2))[:, None] / q.n)
    E = 0.5 * (g.real.pow(2) + g.imag.pow(2)).sum(-1)
    Ytg = (g @ Yc.T).view(Bn, M, M) - ((g @ q.counts.to(w2.dtype)) / q.n)[:, None, None]
    r = (2.0 * pre).conj() * Ytg
    if q.om is not None:
        r = r * q.om
    return E, torch.cat([r.sum(2), r.sum(1)], dim=-1)


def energy_complex(
    w: torch.Tensor, group: GroupLike, rows: Rows = None, weights: Weights = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The energy over C, ``E(w) = 1/2 ||Y~^T Omega sigma(X w)||^2`` (Eq. 7 with complex ``w``,
    ``sigma(x) = x^2`` on complex pre-activations, ``|.|`` the Hermitian norm), and its gradient
    ``dE/dRe w + i dE/dIm w = X^T (conj(sigma'(X w)) o Y~ g)`` (the ascent direction; PyTorch's
    ``w.grad`` convention). ``w``: ``(2M,)`` or ``(..., 2M)`` complex. Returns ``(E, grad)``.

    Theorem 3 assumes ``E`` is optimised over C. Its maxima on ``Z_M`` are
    :func:`complex_fourier_node` with ``|ratio| = 1``, ``E = M/2`` (twice the real maxima's ``M/4``).

    Paper: Eq. 7, Thm 3. Chapter: ``thm3_reconstruction``.
    """
    if not w.is_complex():
        w = w.to(torch.complex128)
    q = _grid(group, rows, weights, torch.float64, w.device)
    w2, lead = _flat(w, q.M)
    E, G = _complex_grid_energy_grad(w2, q)
    return E.reshape(lead), G.reshape(w.shape)
