"""Theorem 3: reconstructing the target from learned nodes by least squares (paper-li2 §2 "Theorem 3", §1.4);
chapter ``thm3_reconstruction``.

* :func:`reconstruct` (real weights, any activation) and :func:`reconstruct_complex` (complex weights, the
  author's real readout or a complex one), :func:`reconstruction_curve` (residual against the width ``K``),
  :func:`round_robin` (feed nodes evenly over irreps), :func:`feature_rank`.
* Node counts: :func:`theorem3_width` (the paper's ``K``), :func:`theorem3_counts` (what the literal computation
  needs, per kind of node), :func:`exact_maxima_residual` and :func:`exact_maxima_prediction` (what exact real
  maxima ``[u; +-P u]`` reconstruct: the cosine half of ``Y~``).

The nodes come from :mod:`li2core.fourier` (constructed) or :mod:`li2core.theory.ascent` (learned); the
memorisation nodes from :mod:`li2core.theory.memorization`.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import torch

from ..activations import derivatives
from ..losses import center
from .pairs import GroupLike, Rows, _group, _onehot_labels, _pairs, _rank_tol

__all__ = [
    "Reconstruction",
    "reconstruct",
    "reconstruct_complex",
    "reconstruction_curve",
    "round_robin",
    "theorem3_width",
    "theorem3_counts",
    "exact_maxima_residual",
    "exact_maxima_prediction",
    "feature_rank",
]


class Reconstruction(NamedTuple):
    """Output of :func:`reconstruct`: ``V (K, M)``, relative residual ``||Y~ - F~ V|| / ||Y~||``,
    ``F = sigma(X W) (n, K)`` and the numerical rank of ``F~``."""

    V: torch.Tensor
    residual: float
    F: torch.Tensor
    rank: int


def reconstruct(
    nodes: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    rtol: float | None = None,
) -> Reconstruction:
    """Target reconstruction from given hidden nodes (Theorem 3, with ``eta = 0``).

    ``nodes``: ``W (2M, K)``. Builds ``F = sigma(X W)`` on all pairs (or ``rows``), fits the
    minimum-norm least-squares readout ``V = F~^+ Y~`` (pseudo-inverse, so rank-deficient ``F~``
    is fine) and returns the relative residual ``||Y~ - F~ V||_F / ||Y~||_F``. ``rtol``: the
    pseudo-inverse's relative cut-off (:func:`torch.linalg.pinv`; ``None`` = its default
    ``max(n, K) eps``), e.g. ``1e-10`` for nodes that are only converged maxima.

    Paper: Thm 3. Chapter: ``thm3_reconstruction``.
    """
    W = nodes
    if W.dim() == 1:
        W = W[:, None]
    p = _pairs(group, rows, None, W.dtype, W.device)
    if W.shape[0] != 2 * p.M:
        raise ValueError(f"nodes: expected shape (2M, K) = ({2 * p.M}, K); got {tuple(nodes.shape)}")
    sig, _, _ = derivatives(activation)
    F = sig(W[p.a] + W[p.M + p.b])  # (n, K)
    Y = _onehot_labels(p, W.dtype)
    Ft, Yt = center(F), center(Y)
    V, rank = _min_norm_lstsq(Ft, Yt, rtol)
    res = float((Yt - Ft @ V).norm() / Yt.norm())
    return Reconstruction(V=V, residual=res, F=F, rank=rank)


def _min_norm_lstsq(A: torch.Tensor, B: torch.Tensor, rtol: float | None) -> tuple[torch.Tensor, int]:
    """``(pinv(A, rtol) @ B, matrix_rank(A))`` from one SVD of ``A`` (the two torch calls take one each).

    The cut-offs are torch's: the pseudo-inverse drops singular values ``<= rtol * s_max`` (``rtol = None``:
    ``max(m, n) eps``, :func:`torch.linalg.pinv`), the rank counts those ``> max(m, n) eps s_max``
    (:func:`torch.linalg.matrix_rank`'s default, whatever ``rtol`` is)."""
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    rank_cut = _rank_tol(S, tuple(A.shape))
    keep = S > (rank_cut if rtol is None else rtol * (float(S[0]) if S.numel() else 0.0))
    s_inv = torch.where(keep, 1.0 / torch.where(keep, S, torch.ones_like(S)), torch.zeros_like(S))
    X = Vh.mH @ (s_inv[:, None].to(U.dtype) * (U.mH @ B.to(U.dtype)))
    return X, int((S > rank_cut).sum())


def reconstruct_complex(
    nodes: torch.Tensor,
    group: GroupLike,
    readout: str = "real",
    rtol: float | None = None,
) -> Reconstruction:
    """Theorem 3 with complex weights (``eta = 0``): ``F = sigma(X W)`` with ``sigma(x) = x^2`` on the
    complex pre-activations, ``W (2M, K)`` complex.

    ``readout="real"`` (the author's ``use_complex_weights``: complex ``V``, the loss sees the real
    part of the output): ``min_V ||Y~ - Re(F~ V)||``, a real least squares in
    ``[Re F~, -Im F~]`` and ``[Re V; Im V]``. ``readout="complex"`` (the theorem's setting over C):
    ``min_V ||Y~ - F~ V||`` over complex ``V``. Minimum-norm solution by pseudo-inverse (``rtol``
    as in :func:`torch.linalg.pinv`). Returns a :class:`Reconstruction` with complex ``V (K, M)``,
    the relative residual, ``F`` and the rank of the matrix solved (real for ``"real"``).

    Paper: Thm 3. Chapter: ``thm3_reconstruction``.
    """
    if readout not in ("real", "complex"):
        raise ValueError(f"readout: expected 'real' or 'complex'; got {readout!r}")
    W = nodes[:, None] if nodes.dim() == 1 else nodes
    if not W.is_complex():
        W = W.to(torch.complex128)
    p = _pairs(group, None, None, torch.float64, W.device)
    if W.shape[0] != 2 * p.M:
        raise ValueError(f"nodes: expected shape (2M, K) = ({2 * p.M}, K); got {tuple(nodes.shape)}")
    F = (W[p.a] + W[p.M + p.b]) ** 2
    Y = _onehot_labels(p, torch.float64)
    Ft, Yt = center(F), center(Y)
    K = W.shape[1]
    if readout == "real":
        A = torch.cat([Ft.real, -Ft.imag], dim=1)
        x, rank = _min_norm_lstsq(A, Yt, rtol)
        V = torch.complex(x[:K], x[K:])
        R = Yt - A @ x
    else:
        Yc = Yt.to(W.dtype)
        V, rank = _min_norm_lstsq(Ft, Yc, rtol)
        R = Yc - Ft @ V
    return Reconstruction(V=V, residual=float(R.norm() / Yt.norm()), F=F, rank=rank)


def reconstruction_curve(
    nodes: torch.Tensor,
    group: GroupLike,
    Ks: Sequence[int],
    readout: str | None = None,
    rtol: float | None = None,
) -> list[dict[str, float]]:
    """Least-squares reconstruction (``eta = 0``) from the first ``K`` columns of ``nodes`` for each
    ``K`` in ``Ks``: real nodes through :func:`reconstruct` (``sigma = x^2``), complex nodes (or any
    ``readout``) through :func:`reconstruct_complex` (``rtol``: the pseudo-inverse's cut-off, as there).
    Returns one record per ``K``:
    ``{"K", "residual", "rank", "V_norm"}``.

    Paper: Thm 3. Chapter: ``thm3_reconstruction``.
    """
    out = []
    for K in Ks:
        K = int(K)
        if not 1 <= K <= nodes.shape[1]:
            raise ValueError(f"Ks: every K must lie in 1..{nodes.shape[1]}; got {K}")
        sub = nodes[:, :K]
        if readout is None and not sub.is_complex():
            r = reconstruct(sub, group, rtol=rtol)
        else:
            r = reconstruct_complex(sub, group, readout or "real", rtol=rtol)
        out.append({"K": K, "residual": r.residual, "rank": r.rank, "V_norm": float(r.V.abs().norm())})
    return out


def round_robin(labels: Sequence[int] | torch.Tensor, per_label: int | dict[Any, int]) -> torch.Tensor:
    """Indices that take nodes label by label in turns: round ``r`` takes the ``r``-th node of every
    label that has one and still needs it (``per_label``: a cap for all labels, or per label).
    Labels in ascending order; within a label the original order. Used to feed learned maxima to
    :func:`reconstruction_curve` evenly over irreps.

    Paper: — (a helper for Thm 3). Chapter: ``thm3_reconstruction``.
    """
    lab = torch.as_tensor(labels).reshape(-1).tolist()
    pools: dict[Any, list[int]] = {}
    for i, c in enumerate(lab):
        pools.setdefault(c, []).append(i)
    caps = {c: (per_label[c] if isinstance(per_label, dict) else per_label) for c in pools}
    order = []
    for r in range(max(caps.values(), default=0)):
        for c in sorted(pools):
            if r < caps[c] and r < len(pools[c]):
                order.append(pools[c][r])
    return torch.tensor(order, dtype=torch.long)


def theorem3_width(group: GroupLike) -> tuple[int, int]:
    """The width Theorem 3 says suffices, ``K = 2 sum_{k != 0} m_k^2 d_k^2`` (``m_k = d_k`` for the
    regular representation), and the paper's bound ``2 [(M - kappa)^2 + kappa - 1]`` with ``kappa``
    the number of nontrivial irreps (paper-li2 §1.4). ``Z_M``: ``(2M - 2, 2M - 2)``.

    Paper: Thm 3. Chapter: ``thm3_reconstruction``.
    """
    g = _group(group)
    if not hasattr(g, "irrep_dims"):
        raise ValueError("group: theorem3_width needs a group name or a li2core.groups.Group (irreps)")
    dims = list(g.irrep_dims())
    M = g.order
    kappa = len(dims) - 1
    K = 2 * sum(d**4 for d in dims[1:])
    return K, 2 * ((M - kappa) ** 2 + kappa - 1)


def theorem3_counts(M: int) -> dict[str, int]:
    """Node counts for exact least-squares reconstruction of ``Y~`` on ``Z_M`` (odd ``M``), ``sigma = x^2``,
    as derived in the chapter thm3_reconstruction and asserted there (spans of the features per
    frequency pair ``{j, -j}``; ``nf = (M - 1) / 2`` pairs):

    * ``paper``: Theorem 3's ``K = 2 sum_{k != 0} m_k^2 d_k^2 = 2M - 2``;
    * ``real_generic``: real maxima with generic phases and offsets span 8 dimensions per pair
      (label ``cos, sin(w j h)``; junk ``cos, sin(w j (a - b))``, ``cos, sin(2 w j a)``,
      ``cos, sin(2 w j b)``): ``8 nf = 4 (M - 1)``;
    * ``real_quadrature``: 4 nodes per pair in the layout of :func:`real_fourier_nodes`: ``2M - 2``;
    * ``complex_pm_complex_ls`` / ``complex_generic_complex_ls``: complex nodes with ratio ``+-1``
      (2 per character) / generic ratio (3 per character: ``chi_k(h), chi_2k(a), chi_2k(b)``),
      complex least squares: ``2M - 2`` / ``3 (M - 1)``;
    * ``complex_pm_real_readout`` / ``complex_generic_real_readout``: the same with the real part of
      the output (the author's code), where ``k`` and ``-k`` give the same real features:
      ``M - 1`` / ``3 (M - 1) / 2``;
    * ``memorization`` and ``random``: ``M^2 - 1`` (the centred features must span all functions of
      the pair).

    Paper: Thm 3. Chapter: ``thm3_reconstruction``.
    """
    if not isinstance(M, int) or M < 3 or M % 2 == 0:
        raise ValueError(f"M: the node counts are derived for odd M >= 3; got {M!r}")
    nf = (M - 1) // 2
    return {
        "paper": 2 * M - 2,
        "real_generic": 8 * nf,
        "real_quadrature": 4 * nf,
        "complex_pm_complex_ls": 2 * (M - 1),
        "complex_generic_complex_ls": 3 * (M - 1),
        "complex_pm_real_readout": 2 * nf,
        "complex_generic_real_readout": 3 * nf,
        "memorization": M * M - 1,
        "random": M * M - 1,
    }


def exact_maxima_residual(M: int) -> float:
    """Relative residual ``||Y~ - Y^|| / ||Y~||`` left by *any* number of exact real maxima
    ``[u; +-P u]`` of ``Z_M`` (least squares, ``eta = 0``): ``sqrt(floor((M-1)/2) / (M-1))``,
    i.e. ``1/sqrt 2`` for odd ``M``.

    Why: with ``u_m = cos(w j m + phi)`` (``w = 2 pi / M``) and ``(P u)_b = u_{-b}``,
    ``sigma(u_a + u_{-b}) = u_a^2 + u_{-b}^2 + cos(w j (a+b)) + cos(w j (a-b) + 2 phi)``: of the
    label ``h = a + b`` only ``cos(w j h)`` appears, never ``sin(w j h)``. ``Y~`` has the same
    energy in each of the ``M - 1`` nontrivial characters, so each complex pair ``{j, -j}`` loses
    the sine half, ``1/(M-1)`` of ``||Y~||^2``; the real frequency ``M/2`` (even ``M``) loses nothing.

    Paper: Thm 3. Chapter: ``thm3_reconstruction``.
    """
    if not isinstance(M, int) or M < 3:
        raise ValueError(f"M: must be an integer >= 3; got {M!r}")
    return math.sqrt(((M - 1) // 2) / (M - 1))


def exact_maxima_prediction(M: int) -> torch.Tensor:
    """What least squares on exact real maxima ``[u; +-P u]`` of ``Z_M`` reconstructs: the cosine half
    of ``Y~``, ``Y^[(a, b), c] = (2/M) sum_{j=1}^{(M-1)/2} cos(w j h) cos(w j c)`` with ``h = a + b``,
    ``w = 2 pi / M`` (plus ``(-1)^{h+c} / M`` for even ``M``). ``Y~`` itself has the extra
    ``sin(w j h) sin(w j c)`` terms. Rows: the ``M^2`` pairs ``(r // M, r % M)``. Shape ``(M^2, M)``.

    Paper: Thm 3. Chapter: ``thm3_reconstruction``.
    """
    if not isinstance(M, int) or M < 3:
        raise ValueError(f"M: must be an integer >= 3; got {M!r}")
    r = torch.arange(M * M)
    h = ((r // M + r % M) % M).to(torch.float64)
    c = torch.arange(M, dtype=torch.float64)
    om = 2 * math.pi / M
    Yh = torch.zeros(M * M, M, dtype=torch.float64)
    for j in range(1, (M - 1) // 2 + 1):
        Yh += (2.0 / M) * torch.outer(torch.cos(om * j * h), torch.cos(om * j * c))
    if M % 2 == 0:
        Yh += torch.outer(torch.cos(math.pi * h), torch.cos(math.pi * c)) / M
    return Yh


def feature_rank(nodes: torch.Tensor, group: GroupLike, rtol: float = 1e-8) -> int:
    """Numerical rank of the centred features ``F~ = P_1^perp sigma(X W)`` (``sigma = x^2``, all
    pairs; complex ``W``: the real rank of ``[Re F~, Im F~]``), counting singular values above
    ``rtol * sigma_max``. With learned maxima converged to ``~1e-12`` this is the dimension of the
    span the nodes can reach, free of the noise a machine-epsilon threshold would count.

    Paper: Thm 3. Chapter: ``thm3_reconstruction``.
    """
    W = nodes[:, None] if nodes.dim() == 1 else nodes
    p = _pairs(group, None, None, torch.float64, W.device)
    F = (W[p.a] + W[p.M + p.b]) ** 2
    Ft = center(F)
    if Ft.is_complex():
        Ft = torch.cat([Ft.real, Ft.imag], dim=1)
    sv = torch.linalg.svdvals(Ft)
    return int((sv > rtol * sv[0]).sum()) if sv.numel() and sv[0] > 0 else 0
