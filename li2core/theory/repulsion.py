"""Thm 6 and Eq. 9: repulsion of similar features through B = (F~^T F~ + eta I)^{-1} (Stage III, chapter ``thm6_repulsion``).

Notation (paper-li2 §1.1, "Stage III"): features ``F (n, K)``, centred over the samples ``F~ = P_1^perp F`` (every
function here centres its input; centring is idempotent, so ``F~`` itself may be passed), the ridge ``eta > 0``,
``A = F~^T F~ + eta I_K``, ``B = A^{-1}`` (:func:`li2core.theory.stage1.B_matrix`) and
``P_eta = I - F~ B F~^T`` (:func:`li2core.theory.stage1.P_eta`).

Theorem 6 writes column ``j`` of ``F~ B`` as ``b_jj f~_j + sum_{l != j} b_jl f~_l`` (Eq. 9, :func:`eq9_rhs`; the
paper prints the sum over ``l = 1..K``, which counts ``j`` twice) and gives each off-diagonal entry by a Schur
complement: with ``P = P_{eta,-jl} = I - F~_{-jl} (F~_{-jl}^T F~_{-jl} + eta I)^{-1} F~_{-jl}^T`` (``F~`` without
columns ``j`` and ``l``),

    alpha = eta + f~_j^T P f~_j,   gamma = eta + f~_l^T P f~_l,   beta = f~_j^T P f~_l,
    b_jl = -beta / (alpha gamma - beta^2),   alpha gamma - beta^2 > 0,

so ``sign b_jl = -sign beta`` (:func:`repulsion_sign`): features that still overlap after the other ``K - 2`` are
(softly) regressed out get a negative coefficient and push each other apart.

Everything is computed in ``K``-space, never with an ``n x n`` matrix: ``f~_j^T P f~_l`` is the ``(j, l)`` entry of
the Schur complement ``A_SS - A_SR A_RR^{-1} A_RS`` of ``A_RR`` (``S = {j, l}``, ``R`` the other columns), because
``A_jR = f~_j^T F~_{-jl}`` and ``A_jj = f~_j^T f~_j + eta``.

* :func:`B_schur`: the identity for one pair, literally (a ``(K-2)``-system per pair).
* :func:`schur_pairs`: the same for many pairs; ``method="direct"`` solves each pair's ``(K-2)``-system (independent
  of ``B``), ``method="downdate"`` reads ``alpha, beta, gamma`` off ``B`` (the Schur complement of ``A_RR`` is
  ``(B_SS)^{-1}``, the rank-2 downdate of the full inverse; ``O(1)`` per pair after one inverse).
* :func:`schur_pairs_P_eta`: the approximation ``P_{eta,-jl} ~ P_eta``. By Woodbury
  ``F~^T P_eta F~ = eta F~^T (F~ F~^T + eta I)^{-1} F~ = eta I - eta^2 B``, so ``beta_{P_eta} = -eta^2 b_jl``
  exactly: the approximation always has the sign of the exact ``beta`` (both are ``-sign b_jl``), and its size is
  ``eta^2 det(B_SS) = eta^2 / (alpha gamma - beta^2) <= 1`` times the exact one.
* :func:`feature_cosines`, :func:`top_similar_pairs`: the cosine of the centred columns and the most similar pairs.
"""
from __future__ import annotations

import operator
from typing import NamedTuple

import torch

from ..losses import center
from .stage1 import B_matrix

__all__ = [
    "SchurPairs",
    "B_schur",
    "schur_pairs",
    "schur_pairs_P_eta",
    "repulsion_sign",
    "eq9_rhs",
    "feature_cosines",
    "top_similar_pairs",
]

SCHUR_METHODS = ("downdate", "direct")


class SchurPairs(NamedTuple):
    """Theorem 6's quantities for ``P`` pairs (``(P,)`` tensors, float64): the pair ``j, l`` (long), ``alpha``,
    ``beta``, ``gamma`` and ``b = -beta / (alpha gamma - beta^2)``."""

    j: torch.Tensor
    l: torch.Tensor
    alpha: torch.Tensor
    beta: torch.Tensor
    gamma: torch.Tensor
    b: torch.Tensor


def _features(F: torch.Tensor) -> torch.Tensor:
    if not isinstance(F, torch.Tensor) or F.dim() != 2:
        raise ValueError(f"F_tilde: expected a 2-D tensor (n, K); got {getattr(F, 'shape', type(F).__name__)}")
    if F.shape[1] < 2:
        raise ValueError(f"F_tilde: need at least K = 2 features (columns); got shape {tuple(F.shape)}")
    if not torch.is_floating_point(F):
        raise ValueError(f"F_tilde: expected a floating-point tensor; got {F.dtype}")
    return center(F.to(torch.float64))


def _eta(eta: float) -> float:
    try:
        e = float(eta)
    except (TypeError, ValueError):
        raise ValueError(f"eta: expected a number > 0; got {eta!r}") from None
    if not e > 0 or e == float("inf"):
        raise ValueError(f"eta: must be a finite number > 0 (B needs F~^T F~ + eta I invertible); got {eta!r}")
    return e


def _index(v: object, name: str, K: int) -> int:
    if isinstance(v, torch.Tensor) and v.numel() == 1 and not torch.is_floating_point(v):
        v = int(v)
    try:
        if isinstance(v, bool):
            raise TypeError
        i = operator.index(v)
    except TypeError:
        raise ValueError(f"{name}: expected an integer index; got {v!r}") from None
    if not 0 <= i < K:
        raise ValueError(f"{name}: must lie in [0, K) = [0, {K}); got {i}")
    return i


def _pairs(pairs: torch.Tensor | list, K: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    p = torch.as_tensor(pairs, device=device)
    if p.dim() == 1 and p.numel() == 2:
        p = p[None]
    if p.dim() != 2 or p.shape[1] != 2 or p.shape[0] == 0 or torch.is_floating_point(p):
        raise ValueError(f"pairs: expected integer pairs of shape (P, 2) with P >= 1; got {tuple(p.shape)} {p.dtype}")
    p = p.long()
    if bool((p < 0).any() or (p >= K).any()):
        raise ValueError(f"pairs: indices must lie in [0, K) = [0, {K})")
    if bool((p[:, 0] == p[:, 1]).any()):
        raise ValueError("pairs: j and l must differ in every pair (Theorem 6 is about off-diagonal entries)")
    return p[:, 0], p[:, 1]


def _gram(Ft: torch.Tensor, eta: float) -> torch.Tensor:
    return Ft.T @ Ft + eta * torch.eye(Ft.shape[1], dtype=Ft.dtype, device=Ft.device)


def _direct(A: torch.Tensor, j: int, l: int) -> tuple[float, float, float]:
    """``alpha, beta, gamma`` of one pair: the Schur complement of ``A_RR`` in ``A`` (``R`` = all but ``j, l``)."""
    K = A.shape[0]
    S = torch.tensor([j, l], device=A.device)
    keep = torch.ones(K, dtype=torch.bool, device=A.device)
    keep[S] = False
    A_SS = A[S][:, S]
    if K > 2:
        A_RS = A[keep][:, S]
        L = torch.linalg.cholesky(A[keep][:, keep])
        X = torch.cholesky_solve(A_RS, L)  # A_RR^{-1} A_RS
        C = A_SS - A_RS.T @ X
    else:
        C = A_SS
    return float(C[0, 0]), float(0.5 * (C[0, 1] + C[1, 0])), float(C[1, 1])


def B_schur(F_tilde: torch.Tensor, eta: float, j: int, l: int) -> float:
    """Theorem 6's ``b_jl = -beta / (alpha gamma - beta^2)`` for one pair ``j != l``, from the exact
    ``P_{eta,-jl}`` (``F~`` without columns ``j, l``): ``alpha = eta + f~_j^T P f~_j``, ``gamma = eta + f~_l^T P
    f~_l``, ``beta = f~_j^T P f~_l``, evaluated in ``K``-space as the Schur complement of ``A_RR`` in
    ``A = F~^T F~ + eta I`` (one Cholesky solve of size ``K - 2``; no ``n x n`` matrix, and ``B`` is not used).

    ``F_tilde (n, K)`` is centred over its rows (a no-op for centred features); float64. Equals
    ``B_matrix(F, eta)[j, l]`` up to rounding.

    Paper: Thm 6. Chapter: ``thm6_repulsion``.
    """
    Ft = _features(F_tilde)
    e = _eta(eta)
    K = Ft.shape[1]
    j, l = _index(j, "j", K), _index(l, "l", K)
    if j == l:
        raise ValueError(f"j, l: must differ (Theorem 6 is about off-diagonal entries); got j = l = {j}")
    alpha, beta, gamma = _direct(_gram(Ft, e), j, l)
    return -beta / (alpha * gamma - beta * beta)


def schur_pairs(F_tilde: torch.Tensor, eta: float, pairs: torch.Tensor | list, method: str = "downdate",
                B: torch.Tensor | None = None) -> SchurPairs:
    """Theorem 6's ``alpha, beta, gamma`` (with the exact ``P_{eta,-jl}``) and ``b_jl = -beta / (alpha gamma -
    beta^2)`` for every pair of ``pairs (P, 2)`` (``j != l``). ``F_tilde (n, K)`` is centred over its rows.

    ``method="downdate"`` (default): from ``B = (F~^T F~ + eta I)^{-1}`` (computed, or passed as ``B``): the
    Schur complement of ``A_RR`` is ``(B_SS)^{-1}``, so ``alpha = b_ll / d``, ``gamma = b_jj / d``,
    ``beta = -b_jl / d`` with ``d = b_jj b_ll - b_jl^2`` (the rank-2 downdate of the inverse; ``O(1)`` per pair).
    Its ``b`` is then ``b_jl`` of ``B`` by construction, so it is no test of the identity.
    ``method="direct"``: each pair's ``(K-2)``-system solved on its own (:func:`B_schur`'s computation,
    ``O(K^3)`` per pair), independent of ``B``: the identity ``b = B[j, l]`` is then a real check.

    Paper: Thm 6. Chapter: ``thm6_repulsion``.
    """
    if method not in SCHUR_METHODS:
        raise ValueError(f"method: expected one of {', '.join(SCHUR_METHODS)}; got {method!r}")
    Ft = _features(F_tilde)
    e = _eta(eta)
    K = Ft.shape[1]
    j, l = _pairs(pairs, K, Ft.device)
    if method == "direct":
        A = _gram(Ft, e)
        vals = torch.tensor([_direct(A, int(a), int(c)) for a, c in zip(j.tolist(), l.tolist())],
                            dtype=torch.float64, device=Ft.device)
        alpha, beta, gamma = vals[:, 0], vals[:, 1], vals[:, 2]
    else:
        if B is None:
            B = B_matrix(Ft, e)
        elif B.shape != (K, K):
            raise ValueError(f"B: expected shape (K, K) = ({K}, {K}); got {tuple(B.shape)}")
        B = B.to(torch.float64)
        bjj, bll, bjl = B[j, j], B[l, l], 0.5 * (B[j, l] + B[l, j])
        d = bjj * bll - bjl * bjl
        alpha, gamma, beta = bll / d, bjj / d, -bjl / d  # (B_SS)^{-1} = [[b_ll, -b_jl], [-b_jl, b_jj]] / d
    b = -beta / (alpha * gamma - beta * beta)
    return SchurPairs(j=j, l=l, alpha=alpha, beta=beta, gamma=gamma, b=b)


def schur_pairs_P_eta(F_tilde: torch.Tensor, eta: float, pairs: torch.Tensor | list,
                      B: torch.Tensor | None = None) -> SchurPairs:
    """The approximation ``P_{eta,-jl} ~ P_eta`` of Theorem 6 (the follow-up study's shortcut): ``alpha, beta,
    gamma`` built with ``P_eta = I - F~ B F~^T`` instead of the exact ``P_{eta,-jl}``, and the ``b`` that the
    formula ``-beta / (alpha gamma - beta^2)`` then gives (not ``b_jl``). Compare with :func:`schur_pairs`.

    By Woodbury, ``F~^T P_eta F~ = eta I - eta^2 B``, so ``beta = f~_j^T P_eta f~_l = -eta^2 b_jl``,
    ``alpha = 2 eta - eta^2 b_jj`` and ``gamma = 2 eta - eta^2 b_ll`` (computed so: the literal
    ``f~_j^T f~_l - [F~^T F~ B F~^T F~]_jl`` cancels catastrophically when ``||f~||^2 >> eta``). Consequences: the
    sign of this ``beta`` is always ``-sign b_jl``, the sign of the exact ``beta``; its size is
    ``eta^2 / (alpha gamma - beta^2)`` (exact ``alpha, beta, gamma``) times the exact one, which is ``<= 1``.
    ``F_tilde (n, K)`` is centred over its rows; ``B`` may be passed.

    Paper: Thm 6. Chapter: ``thm6_repulsion``.
    """
    Ft = _features(F_tilde)
    e = _eta(eta)
    K = Ft.shape[1]
    j, l = _pairs(pairs, K, Ft.device)
    if B is None:
        B = B_matrix(Ft, e)
    elif B.shape != (K, K):
        raise ValueError(f"B: expected shape (K, K) = ({K}, {K}); got {tuple(B.shape)}")
    B = B.to(torch.float64)
    e2 = e * e
    alpha = e + (e - e2 * B[j, j])
    gamma = e + (e - e2 * B[l, l])
    beta = -e2 * 0.5 * (B[j, l] + B[l, j])
    b = -beta / (alpha * gamma - beta * beta)
    return SchurPairs(j=j, l=l, alpha=alpha, beta=beta, gamma=gamma, b=b)


def repulsion_sign(beta: torch.Tensor) -> torch.Tensor:
    """Theorem 6's sign rule: the predicted sign of ``b_jl``, ``-sign(beta)`` with
    ``beta = f~_j^T P_{eta,-jl} f~_l`` (exact, since ``alpha gamma - beta^2 > 0``). Same shape as ``beta``.

    Paper: Thm 6. Chapter: ``thm6_repulsion``.
    """
    return -torch.sign(torch.as_tensor(beta))


def eq9_rhs(F_tilde: torch.Tensor, eta: float, printed: bool = False) -> torch.Tensor:
    """The right-hand side of Eq. 9, column ``j`` = ``b_jj f~_j + sum_{l != j} b_jl f~_l`` (``n x K``), which equals
    ``F~ B`` (an identity). With ``printed=True``: the sum as the paper prints it, over ``l = 1..K``, which adds
    ``b_jj f~_j`` a second time (a typo; it differs from ``F~ B`` by ``F~ diag(B)``). ``F_tilde (n, K)`` is centred
    over its rows; float64.

    Paper: Eq. 9, Thm 6. Chapter: ``thm6_repulsion``.
    """
    Ft = _features(F_tilde)
    B = B_matrix(Ft, _eta(eta))
    own = Ft * torch.diagonal(B)  # column j: b_jj f~_j
    off = B - torch.diag_embed(torch.diagonal(B))
    return own + Ft @ (B if printed else off)


def feature_cosines(F_tilde: torch.Tensor) -> torch.Tensor:
    """``cos(f~_j, f~_l)`` of the centred feature columns, ``(K, K)`` float64; NaN in the rows and columns of a
    zero column (a dead node).

    Paper: Thm 6. Chapter: ``thm6_repulsion``.
    """
    Ft = _features(F_tilde)
    nrm = Ft.norm(dim=0)
    G = Ft.T @ Ft
    den = nrm[:, None] * nrm[None, :]
    C = G / torch.where(den > 0, den, torch.ones_like(den))
    return torch.where(den > 0, C, torch.full_like(C, float("nan")))


def top_similar_pairs(F_tilde: torch.Tensor, n_pairs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``n_pairs`` pairs ``j < l`` with the largest cosine ``cos(f~_j, f~_l)`` of the centred features
    (:func:`feature_cosines`; pairs with a zero column are never chosen). Returns ``(pairs (P, 2) long, cos (P,))``,
    most similar first; ``P = min(n_pairs, number of pairs of nonzero columns)``.

    Paper: Thm 6. Chapter: ``thm6_repulsion``.
    """
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, int) or n_pairs < 1:
        raise ValueError(f"n_pairs: expected an integer >= 1; got {n_pairs!r}")
    C = feature_cosines(F_tilde)
    K = C.shape[0]
    iu = torch.triu_indices(K, K, offset=1, device=C.device)
    c = C[iu[0], iu[1]]
    ok = ~torch.isnan(c)
    c, iu = c[ok], iu[:, ok]
    k = min(n_pairs, int(c.numel()))
    if k == 0:
        raise ValueError("F_tilde: fewer than two nonzero feature columns; no pair to choose")
    top = torch.topk(c, k).indices
    return iu[:, top].T.contiguous(), c[top]
