"""Stage I, lazy learning (paper-li2 §2 "Stage I"; Eqs. 2-5, Prop. 1, App. C Props. 2-4, Lemma 1).

Notation (paper-li2 §1): ``F = sigma(X W) (n, K)``, one-hot ``Y (n, M)``, ``Z~ = P_1^perp Z`` centred over the
samples in use (:func:`li2core.losses.center`), ``V (K, M)``, ``B = (F~^T F~ + eta I)^{-1}``,
``P_eta = I - F~ B F~^T``. Tensors in, tensors out; chapter ``stage1_lazy``.

* Eq. 2: :func:`G_F`, the backpropagated gradient.
* Prop. 1, Eq. 4: :func:`B_matrix`, :func:`P_eta`, :func:`ridge_readout`, :func:`G_F_infinity` (the fixed
  point, through the SVD or literally), :func:`fixed_point_norms`, :func:`gram_spectrum`,
  :func:`realizability_residual`, :func:`plateau_slope_bound`.
* Props. 2-4, Eq. 3: the lazy dynamics with ``F`` frozen, :func:`lazy_flow` (closed form) and
  :func:`lazy_dynamics` (the literal gradient-descent loop); :func:`signal_direction` (``Y~ Y~^T F~``). The
  frozen features at the author's initialisation come from :func:`li2core.chapters.stage1_lazy.frozen_features`.
* Lemma 1, Eq. 5: :func:`lemma1_constants`, :func:`lemma1_prefactor`, :func:`G_F_lemma1`, :func:`lemma1_measures`.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch

from ..losses import center
from ..measures import fft_dist_ideal, fft_offdiag_ratio, ftf_offdiag_ratio
from ..threads import one_torch_thread
from .pairs import _rank_tol

__all__ = [
    "G_F",
    "B_matrix",
    "P_eta",
    "ridge_readout",
    "G_F_infinity",
    "lemma1_constants",
    "lemma1_prefactor",
    "signal_direction",
    "G_F_lemma1",
    "cosine",
    "LazyDynamics",
    "lazy_dynamics",
    "gram_spectrum",
    "realizability_residual",
    "fixed_point_norms",
    "LazyFlow",
    "lazy_flow",
    "plateau_slope_bound",
    "lemma1_measures",
]


def G_F(F: torch.Tensor, V: torch.Tensor, Y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The backpropagated gradient ``G_F = P_1^perp (Y - F V) V^T`` (Eq. 2).

    It equals ``-dJ/dF`` for the paper's loss ``J = 1/2 ||P_1^perp (Y - F V)||_F^2`` (Eq. 1).
    Shapes carry an optional leading run axis: ``F (..., n, K)``, ``V (..., K, M)``,
    ``Y (..., n, M)``; ``mask (..., n)`` selects each run's rows (1 = used).

    Paper: Eq. 2. Chapter: ``stage1_lazy``.
    """
    squeeze = F.dim() == 2
    if squeeze:
        F, V, Y = F[None], V[None], Y[None]
    if mask is None:
        mask = torch.ones(F.shape[:-1], dtype=F.dtype, device=F.device)
    elif mask.dim() == 1:
        mask = mask[None]
    E = center(Y - torch.bmm(F, V), mask)
    G = torch.bmm(E, V.transpose(-1, -2))
    return G[0] if squeeze else G


def _eye(k: int, like: torch.Tensor) -> torch.Tensor:
    return torch.eye(k, dtype=like.dtype, device=like.device)


def B_matrix(F: torch.Tensor, eta: float) -> torch.Tensor:
    """``B = (F~^T F~ + eta I_K)^{-1}`` (paper-li2 §1.1, Prop. 1, Thm 6). ``F``: ``(..., n, K)`` → ``(..., K, K)``.

    Paper: Prop. 1, Eq. 4. Chapter: ``stage1_lazy``.
    """
    Ft = center(F)
    A = Ft.transpose(-1, -2) @ Ft + eta * _eye(F.shape[-1], F)
    return torch.linalg.inv(A)


def P_eta(F: torch.Tensor, eta: float) -> torch.Tensor:
    """``P_eta = I_n - F~ B F~^T`` (paper-li2 §1.1); by Woodbury it equals ``eta (F~ F~^T + eta I_n)^{-1}``.

    ``F``: ``(..., n, K)`` → ``(..., n, n)``.

    Paper: Prop. 1, Eq. 4. Chapter: ``stage1_lazy``.
    """
    Ft = center(F)
    return _eye(F.shape[-2], F) - Ft @ B_matrix(F, eta) @ Ft.transpose(-1, -2)


def ridge_readout(F: torch.Tensor, Y: torch.Tensor, eta: float) -> torch.Tensor:
    """``V_ridge = B F~^T Y~ = argmin_V 1/2 (||Y~ - F~ V||^2 + eta ||V||^2)`` (Prop. 1, App. C Eq. 47).

    ``F (..., n, K)``, ``Y (..., n, M)`` → ``(..., K, M)``. Solved as a linear system, not via ``B``.

    Paper: Prop. 1, Eq. 47. Chapter: ``stage1_lazy``.
    """
    Ft, Yt = center(F), center(Y)
    A = Ft.transpose(-1, -2) @ Ft + eta * _eye(F.shape[-1], F)
    return torch.linalg.solve(A, Ft.transpose(-1, -2) @ Yt)


def G_F_infinity(F: torch.Tensor, Y: torch.Tensor, eta: float, method: str = "svd") -> torch.Tensor:
    """The lazy-stage fixed point ``G_F(+inf) = P_eta Y~ Y~^T F~ B`` (Eq. 4, Prop. 1): Eq. 2 at ``V = V_ridge``.

    ``method="svd"`` (default) computes it through the thin SVD of ``F~`` (cached for repeated calls on the same
    ``F, Y``): it also works when ``F~`` is rank deficient and gives the limit ``eta -> 0+`` at ``eta = 0`` (the
    fixed point of the flow from a ``V(0)`` with no component in the null space of ``F~``):
    ``(I - Pi) Y~ (F~^+ Y~)^T``, which is 0 in the realizable case (Prop. 3). ``F (n, K)``, ``Y (n, M)``.

    ``method="inverse"`` evaluates the formula literally with ``P_eta`` (:func:`P_eta`) and ``B``
    (:func:`B_matrix`), for ``eta > 0``; batched ``F (..., n, K)``. It loses precision where ``P_eta Y~`` is small
    (``Y~`` in the span of ``F~``: a difference of two ``O(1)`` terms, relative error ``~ eps (lambda_max/eta)^2``).

    Paper: Eq. 4, Prop. 1. Chapter: ``stage1_lazy``.
    """
    if method == "inverse":
        Ft, Yt = center(F), center(Y)
        return P_eta(F, eta) @ Yt @ (Yt.transpose(-1, -2) @ Ft) @ B_matrix(F, eta)
    if method != "svd":
        raise ValueError(f"method: expected 'svd' or 'inverse'; got {method!r}")
    if eta < 0:
        raise ValueError(f"eta: must be >= 0; got {eta}")
    return _eq4_from_svd(_thin_svd(F, Y), float(eta))


#: The rules :func:`lemma1_constants` accepts for matching Lemma 1's constants.
LEMMA1_RULES = ("subspace", "trace")


def lemma1_constants(F: torch.Tensor, rule: str = "subspace") -> tuple[float, float]:
    """Estimates of Lemma 1's ``c_1`` and ``c_2`` from ``F (n, K)``: the multiples ``F~ F~^T ~ K c_1 P_1^perp``
    and ``F~^T F~ ~ n c_2 I`` of the Lemma, matched on their traces over the subspace named by ``rule``.

    ``rule="subspace"`` (default): each Gram matrix is matched on the subspace on which Eq. 4 uses it. ``F~^T F~``
    enters Eq. 4 only through ``F~ B = F~ (F~^T F~ + eta I)^{-1}``, which annihilates the null space of ``F~``, so
    ``n c_2`` is the mean of its **nonzero** eigenvalues, ``||F~||_F^2 / r`` with ``r = rank F~`` (numerical rank,
    as :func:`gram_spectrum`); ``F~ F~^T`` enters through ``P_eta Y~``, and ``Y~`` spans directions of ``1^perp``
    outside the range of ``F~`` too, so ``K c_1`` is its mean eigenvalue on all of ``1^perp``,
    ``||F~||_F^2 / (n - 1)``. For ``K >= n - 1`` (``r = n - 1``) both are the mean nonzero eigenvalue; for
    ``K < n - 1`` (``r = K``) ``c_2`` is the same as with ``"trace"``.

    ``rule="trace"``: the full traces, ``c_1 = ||F~||_F^2 / (K (n - 1))`` and ``c_2 = ||F~||_F^2 / (n K)``. For
    ``K > n - 1`` this averages the ``K - n + 1`` zero eigenvalues of ``F~^T F~`` into ``n c_2``, which is then
    ``(n - 1) / K`` times the mean nonzero eigenvalue, and Eq. 5's prefactor comes out about ``K / (n - 1)`` times
    the one of ``"subspace"`` (for ``eta << n c_2``).

    Neither is a claim that the approximations hold; they can only hold together when ``K ~ n - 1`` (paper-li2
    §2, Lemma 1 caveat).

    Paper: Lemma 1. Chapter: ``stage1_lazy``.
    """
    if rule not in LEMMA1_RULES:
        raise ValueError(f"rule: expected one of {', '.join(LEMMA1_RULES)}; got {rule!r}")
    n, K = F.shape[-2], F.shape[-1]
    fro2 = float(center(F).pow(2).sum())
    r = int(gram_spectrum(F).numel()) if rule == "subspace" else K
    return fro2 / (K * (n - 1)), fro2 / (n * r)


def lemma1_prefactor(F: torch.Tensor, eta: float, rule: str = "subspace") -> float:
    """Lemma 1's scalar ``eta / ((K c_1 + eta)(n c_2 + eta))`` of Eq. 5, with ``c_1, c_2`` from
    :func:`lemma1_constants` under ``rule`` (default ``"subspace"``: ``K c_1`` the mean eigenvalue of ``F~ F~^T``
    on ``1^perp``, ``n c_2`` the mean nonzero eigenvalue of ``F~^T F~``). ``F (n, K)``.

    Paper: Eq. 5, Lemma 1. Chapter: ``stage1_lazy``.
    """
    n, K = F.shape[-2], F.shape[-1]
    c1, c2 = lemma1_constants(F, rule)
    return eta / ((K * c1 + eta) * (n * c2 + eta))


def signal_direction(F: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """``S = Y~ Y~^T F~ (n, K)``: the direction of ``G_F`` that Eq. 3, Prop. 2 and Eq. 5 predict.

    Paper: Eq. 3, Prop. 2, Eq. 5. Chapter: ``stage1_lazy``.
    """
    Ft, Yt = center(F), center(Y)
    return Yt @ (Yt.transpose(-1, -2) @ Ft)


def G_F_lemma1(F: torch.Tensor, Y: torch.Tensor, eta: float, rule: str = "subspace") -> torch.Tensor:
    """Lemma 1's approximation (Eq. 5): ``G_F(+inf) ~ eta / ((K c_1 + eta)(n c_2 + eta)) Y~ Y~^T F~``
    (:func:`lemma1_prefactor` under ``rule`` times :func:`signal_direction`). Compare with the exact
    :func:`G_F_infinity`.

    Paper: Eq. 5, Lemma 1. Chapter: ``stage1_lazy``.
    """
    return lemma1_prefactor(F, eta, rule) * signal_direction(F, Y)


def cosine(A: torch.Tensor, B: torch.Tensor) -> float:
    """Frobenius cosine ``<A, B>_F / (||A||_F ||B||_F)`` (0 when either is zero).

    Paper: — (a helper for Prop. 2, Lemma 1). Chapter: ``stage1_lazy``.
    """
    den = float(A.norm() * B.norm())
    return float((A * B).sum()) / den if den > 0 else 0.0


class LazyDynamics(NamedTuple):
    """Output of :func:`lazy_dynamics`.

    steps: ``(R,)`` recorded step indices (0 is the start); t: ``(R,)`` the times ``lr * step``;
    G_norm: ``(R,)`` ``||G_F||_F`` at those steps; V: the final readout; G: ``{step: G_F}`` for
    the steps asked for in ``keep_G_at``.
    """

    steps: torch.Tensor
    t: torch.Tensor
    G_norm: torch.Tensor
    V: torch.Tensor
    G: dict[int, torch.Tensor]


def lazy_dynamics(
    F: torch.Tensor,
    Y: torch.Tensor,
    eta: float,
    V0: torch.Tensor,
    lr: float | None = None,
    steps: int = 1000,
    record_every: int = 1,
    keep_G_at: Sequence[int] = (),
) -> LazyDynamics:
    """Gradient descent on ``V`` only, ``F`` frozen (Prop. 1, Props. 2-4 of App. C).

    Minimises ``J(V) = 1/2 (||Y~ - F~ V||_F^2 + eta ||V||_F^2)`` with
    ``V <- V + lr (F~^T (Y~ - F~ V) - eta V)`` (the Euler discretisation of the gradient flow,
    time ``t = lr * step``) and records ``||G_F||_F`` with ``G_F = P_1^perp (Y - F V) V^T`` (Eq. 2)
    every ``record_every`` steps (and at the last step). ``lr=None`` uses
    ``1 / (lambda_max(F~^T F~) + eta)``, which converges. As ``steps -> inf``, ``V -> V_ridge``
    and ``G_F -> G_F(+inf)`` of Eq. 4 (for ``eta > 0`` and full-column-rank ``F~``).

    ``F (n, K)``, ``Y (n, M)``, ``V0 (K, M)``.

    Paper: Prop. 1, Props. 2-4. Chapter: ``stage1_lazy``.
    """
    if record_every < 1:
        raise ValueError(f"record_every: must be >= 1; got {record_every}")
    Ft, Yt = center(F), center(Y)
    if lr is None:
        lam = torch.linalg.eigvalsh(Ft.T @ Ft)[-1].item()
        lr = 1.0 / (lam + eta)
    keep = set(int(s) for s in keep_G_at)
    V = V0.clone()
    rec_steps: list[int] = []
    rec_norm: list[float] = []
    Gs: dict[int, torch.Tensor] = {}
    FtY = Ft.T @ Yt
    FtF = Ft.T @ Ft
    for step in range(steps + 1):
        if step % record_every == 0 or step == steps or step in keep:
            G = G_F(F, V, Y)
            if step % record_every == 0 or step == steps:
                rec_steps.append(step)
                rec_norm.append(float(G.norm()))
            if step in keep:
                Gs[step] = G
        if step < steps:
            V = V + lr * (FtY - FtF @ V - eta * V)
    st = torch.tensor(rec_steps, dtype=torch.long)
    return LazyDynamics(
        steps=st, t=st.to(torch.float64) * lr, G_norm=torch.tensor(rec_norm, dtype=torch.float64), V=V, G=Gs
    )


class _ThinSVD(NamedTuple):
    U: torch.Tensor  # (n, r)
    s: torch.Tensor  # (r,) nonzero singular values of F~, descending
    Q: torch.Tensor  # (K, r)
    Yt: torch.Tensor
    Ft: torch.Tensor


#: One-entry cache of :func:`_thin_svd` (the chapter calls several functions on the same ``F, Y``).
_SVD_CACHE: list = []


def _thin_svd(F: torch.Tensor, Y: torch.Tensor) -> _ThinSVD:
    """Thin SVD of ``F~`` keeping the singular values above ``max(n, K) eps s_max`` (numerical rank).

    The last result is cached (keyed on the identity and version counters of ``F`` and ``Y``)."""
    if F.dim() != 2 or Y.dim() != 2 or F.shape[0] != Y.shape[0]:
        raise ValueError(f"F, Y: expected (n, K) and (n, M) with the same n; got {tuple(F.shape)}, {tuple(Y.shape)}")
    for f, y, fv, yv, res in _SVD_CACHE:
        if f is F and y is Y and fv == F._version and yv == Y._version:
            return res
    Ft, Yt = center(F), center(Y)
    n, K = F.shape
    with one_torch_thread(4.0 * n * K * min(n, K)):
        U, s, Qh = torch.linalg.svd(Ft, full_matrices=False)
    r = int((s > _rank_tol(s, tuple(F.shape))).sum())
    res = _ThinSVD(U=U[:, :r], s=s[:r], Q=Qh[:r].T, Yt=Yt, Ft=Ft)
    _SVD_CACHE[:] = [(F, Y, F._version, Y._version, res)]
    return res


def gram_spectrum(F: torch.Tensor) -> torch.Tensor:
    """The nonzero eigenvalues of ``F~^T F~`` (equivalently of ``F~ F~^T``), ascending.

    ``lambda_min`` of this list is the rate ``sigma_min(F~)^2`` of Prop. 3/4 (restricted to the
    range of ``F~`` when ``F~`` is rank deficient, e.g. ``K > n - 1``). ``F (n, K)``.

    Paper: Prop. 3, Prop. 4. Chapter: ``stage1_lazy``.
    """
    n, K = F.shape[-2], F.shape[-1]
    with one_torch_thread(2.0 * n * K * min(n, K)):
        s = torch.linalg.svdvals(center(F))
    s = s[s > _rank_tol(s, tuple(F.shape))]
    return (s**2).flip(0)


def realizability_residual(F: torch.Tensor, Y: torch.Tensor) -> float:
    """``||(I - Pi) Y~||_F / ||Y~||_F`` with ``Pi`` the projector on the column span of ``F~``.

    0 (to round-off) when ``Y~`` lies in the span of ``F~`` -- the realizable case of Prop. 3,
    generic when ``rank F~ = n - 1`` (``K >= n - 1``); of order 1 when ``K < n - 1``.

    Paper: Prop. 3. Chapter: ``stage1_lazy``.
    """
    sv = _thin_svd(F, Y)
    R = sv.Yt - sv.U @ (sv.U.T @ sv.Yt)
    return float(R.norm() / sv.Yt.norm())


def _eq4_from_svd(sv: _ThinSVD, eta: float) -> torch.Tensor:
    # P_eta = I - U s^2/(s^2+eta) U^T, F~ B = U s/(s^2+eta) Q^T (on the range; 0 on the null space)
    Z = sv.Yt @ (sv.Yt.T @ sv.U)  # Y~ Y~^T U  (n, r)
    PZ = Z - sv.U @ ((sv.s**2 / (sv.s**2 + eta))[:, None] * (sv.U.T @ Z))
    return PZ @ ((sv.s / (sv.s**2 + eta))[:, None] * sv.Q.T)


def fixed_point_norms(F: torch.Tensor, Y: torch.Tensor, etas: Sequence[float]) -> torch.Tensor:
    """``||G_F(+inf)||_F`` (Eq. 4, :func:`G_F_infinity`) for each ``eta`` in ``etas``; one SVD.

    Paper: Eq. 4, Prop. 1. Chapter: ``stage1_lazy``.
    """
    sv = _thin_svd(F, Y)
    out = []
    with one_torch_thread(4.0 * F.shape[0] * F.shape[1] * Y.shape[1]):
        for eta in etas:
            if eta < 0:
                raise ValueError(f"etas: must be >= 0; got {eta}")
            out.append(float(_eq4_from_svd(sv, float(eta)).norm()))
    return torch.tensor(out, dtype=torch.float64)


class LazyFlow(NamedTuple):
    """Output of :func:`lazy_flow`, one entry per time.

    t: ``(T,)`` times; G_norm: ``||G_F(t)||_F``; cos_signal: ``cos(G_F(t), Y~ Y~^T F~)``;
    cos_prop2: ``cos((G_F(t) - Y~ V0^T) / t, Y~ Y~^T F~)`` (Prop. 2; NaN at ``t = 0``);
    V: ``V(t)`` at the last time; G: ``{index: G_F(t[index])}`` for ``keep_G_at``.
    """

    t: torch.Tensor
    G_norm: torch.Tensor
    cos_signal: torch.Tensor
    cos_prop2: torch.Tensor
    V: torch.Tensor
    G: dict[int, torch.Tensor]


def lazy_flow(
    F: torch.Tensor,
    Y: torch.Tensor,
    eta: float,
    V0: torch.Tensor,
    t: Sequence[float] | torch.Tensor,
    lr: float | None = None,
    keep_G_at: Sequence[int] = (),
) -> LazyFlow:
    """The lazy stage solved in closed form: ``F`` frozen, ``V`` follows the gradient flow of
    ``J(V) = 1/2 (||Y~ - F~ V||_F^2 + eta ||V||_F^2)`` (Prop. 1, Props. 2-4 of App. C).

    With the thin SVD ``F~ = U diag(s) Q^T`` (rank ``r``), ``A = F~^T F~ + eta I`` and
    ``V(t) = V* + exp(-A t) (V0 - V*)``, where ``V* = Q diag(s / (s^2 + eta)) U^T Y~`` is the ridge
    readout (the minimum-norm least-squares readout when ``eta = 0``). Components of ``V0`` in
    the null space of ``F~`` (there is one when ``K > n - 1``) decay at rate ``eta`` only (not at
    all when ``eta = 0``). With ``lr`` given, ``t`` are step counts of gradient descent
    ``V <- V - lr dJ/dV`` (the iteration of :func:`lazy_dynamics`): ``exp(-lambda t)`` becomes
    ``(1 - lr lambda)^t`` and the returned ``t`` are the times ``lr * step``.

    ``||G_F||``, ``<G_F, S>`` and the Prop. 2 residual (``S = Y~ Y~^T F~``, ``G_F`` of Eq. 2) are
    evaluated from ``M x M`` Gram matrices in the SVD coordinates (``O(r M^2)`` per time, no
    ``n x K`` product), written so that nothing small is computed as a difference of large terms
    (the residual ``Y~ - F~ V`` is ``eta/(s^2+eta) U^T Y~ - s e^{-lambda t}(...)`` plus the fixed
    part of ``Y~`` outside the span of ``F~``; ``V(t) - V0`` uses ``expm1``). ``G_F`` itself is
    formed only for the indices in ``keep_G_at``.

    Paper: Prop. 1, Props. 2-4, Eq. 3, Eq. 47, Sec. 3.2. Chapter: ``stage1_lazy``.
    """
    eta = float(eta)
    if eta < 0:
        raise ValueError(f"eta: must be >= 0; got {eta}")
    tt = torch.as_tensor(t, dtype=torch.float64).reshape(-1)
    if tt.numel() == 0 or bool((tt < 0).any()) or not bool(torch.isfinite(tt).all()):
        raise ValueError("t: expected a non-empty list of finite times >= 0")
    if lr is not None:
        if not (lr > 0):
            raise ValueError(f"lr: must be > 0; got {lr}")
        if bool((tt != tt.round()).any()):
            raise ValueError("t: with lr given, t are gradient-descent step counts (integers)")
    if V0.shape != (F.shape[1], Y.shape[1]):
        raise ValueError(f"V0: expected shape (K, M) = {(F.shape[1], Y.shape[1])}; got {tuple(V0.shape)}")
    sv = _thin_svd(F, Y)
    s, U, Q = sv.s, sv.U, sv.Q
    lam = s * s + eta
    P = U.T @ sv.Yt  # (r, M)
    R = sv.Yt - U @ P  # part of Y~ outside the span of F~
    RR, YY = R.T @ R, sv.Yt.T @ sv.Yt
    a_star = (s / lam)[:, None] * P
    a0 = Q.T @ V0
    D = V0 - Q @ a0  # null-space part of V0 (V* has none)
    N = D.T @ D
    e_star = (eta / lam)[:, None] * P  # P - s a*
    d0 = a0 - a_star
    sP = s[:, None] * P
    S_norm2 = float(torch.trace(YY @ (sP.T @ sP)))
    keep = set(int(k) for k in keep_G_at)
    norms, cs, cp, Gs = [], [], [], {}
    a, c = a0, 1.0
    with one_torch_thread(20.0 * s.numel() * Y.shape[1] ** 2):
        for i, ti in enumerate(tt.tolist()):
            if lr is None:
                dec = torch.exp(-lam * ti)
                one_m_dec = -torch.expm1(-lam * ti)
                c, c_m1 = math.exp(-eta * ti), math.expm1(-eta * ti)
            else:
                base = 1.0 - lr * lam
                dec = base.pow(ti)
                pos = base > 0
                lam_pos = torch.where(pos, lam, torch.zeros_like(lam))
                one_m_dec = torch.where(pos, -torch.expm1(ti * torch.log1p(-lr * lam_pos)), 1.0 - dec)
                bn = 1.0 - lr * eta
                c = bn**ti
                c_m1 = math.expm1(ti * math.log1p(-lr * eta)) if bn > 0 else c - 1.0
            a = a_star + dec[:, None] * d0
            da = -one_m_dec[:, None] * d0  # a - a0
            e = e_star - (s * dec)[:, None] * d0  # U^T (Y~ - F~ V)
            EE = RR + e.T @ e
            VV = a.T @ a + (c * c) * N
            G2 = float(torch.trace(EE @ VV))
            EY = RR + e.T @ P  # (Y~ - F~ V)^T Y~
            sa = s[:, None] * a
            PsA = P.T @ sa  # Y~^T F~ V
            GS = float(torch.trace(EY @ PsA))
            norms.append(math.sqrt(max(G2, 0.0)))
            den = math.sqrt(max(G2, 0.0) * S_norm2)
            cs.append(GS / den if den > 0 else 0.0)
            time_i = ti * lr if lr is not None else ti
            if time_i > 0:
                # H = G_F(t) - Y~ V0^T = Y~ dV^T - F~ V V^T, dV = V(t) - V0 = Q da + (c - 1) D
                dVdV = da.T @ da + (c_m1 * c_m1) * N
                VdV = a.T @ da + (c * c_m1) * N
                H2 = float(torch.trace(YY @ dVdV) - 2.0 * torch.trace(PsA @ VdV) + torch.trace((sa.T @ sa) @ VV))
                HS = float(torch.trace(YY @ (sP.T @ da)) - (PsA * PsA).sum())
                hden = math.sqrt(max(H2, 0.0) * S_norm2)
                cp.append(HS / hden if hden > 0 else 0.0)
            else:
                cp.append(float("nan"))
            if i in keep:
                Gs[i] = G_F(F, Q @ a + c * D, Y)
    times = tt * lr if lr is not None else tt
    return LazyFlow(
        t=times,
        G_norm=torch.tensor(norms, dtype=torch.float64),
        cos_signal=torch.tensor(cs, dtype=torch.float64),
        cos_prop2=torch.tensor(cp, dtype=torch.float64),
        V=Q @ a + c * D,
        G=Gs,
    )


def plateau_slope_bound(lam_min: float, eta_max: float) -> float:
    """A priori bound on ``|slope - 1|`` of ``log ||G_F(+inf)||`` against ``log eta`` over
    ``0 < eta <= eta_max`` in the realizable case (``Y~`` in the span of ``F~``).

    With ``F~ = U diag(s) Q^T`` and ``Y~ = U U^T Y~``, Eq. 4 is
    ``G/eta = U diag(1/(s^2+eta)) U^T Y~ Y~^T U diag(s/(s^2+eta)) Q^T``, so
    ``d log ||G/eta|| / d log eta`` is a weighted mean of ``-(eta/(s_i^2+eta) + eta/(s_j^2+eta))``
    and lies in ``[-2 eta/(lambda_min + eta), 0]``. A least-squares slope over points in that range
    is a positive combination of secant slopes, so it lies in ``[1 - b, 1]`` with
    ``b = 2 eta_max / (lambda_min + eta_max)``, ``lambda_min`` the smallest nonzero eigenvalue of
    ``F~^T F~`` (:func:`gram_spectrum`).

    Paper: Prop. 1, Prop. 4. Chapter: ``stage1_lazy``.
    """
    if lam_min <= 0 or eta_max < 0:
        raise ValueError(f"lam_min must be > 0 and eta_max >= 0; got {lam_min}, {eta_max}")
    return 2.0 * eta_max / (lam_min + eta_max)


def lemma1_measures(F: torch.Tensor, Y: torch.Tensor, eta: float) -> dict[str, float]:
    """How close Lemma 1 / Eq. 5 comes to the exact Eq. 4 for given frozen features.

    Constant-free measures first (they do not depend on how ``c_1, c_2`` are estimated), with ``S = Y~ Y~^T F~``:
    ``cos_signal`` (``cos(Eq. 4, S)``; Eq. 5 is a multiple of ``S``, so this is also ``cos(Eq. 4, Eq. 5)``),
    ``kbest`` (the best scalar ``<Eq. 4, S> / ||S||^2``) and ``best_rel_err`` (``||Eq. 4 - kbest S|| / ||Eq. 4||``,
    the error of the best multiple of ``S``, ``sqrt(1 - cos_signal^2)``). Then Eq. 5 with the constants of
    :func:`lemma1_constants` (rule ``"subspace"``): ``c1, c2``, ``prefactor`` (Eq. 5's scalar), ``eq5_rel_err``
    (``||Eq. 5 - Eq. 4|| / ||Eq. 4||``), ``norm_ratio`` (``||Eq. 5|| / ||Eq. 4||``), ``prefactor_ratio``
    (``prefactor / kbest``); and the same two with the full-trace rule ``"trace"``: ``eq5_rel_err_trace``,
    ``prefactor_ratio_trace``. Structure: ``n, K, rank`` (of ``F~``), ``cond``, ``lam_min``, ``lam_max`` (of the
    nonzero spectrum of ``F~^T F~``), ``realizability_residual``, ``ftf_offdiag_ratio`` (mean |off-diag| / mean
    |diag| of ``F~^T F~``), ``fft_offdiag_ratio`` (same for ``P_1^perp F F^T``), ``fft_dist_ideal`` (relative
    distance of ``F F^T`` from ``a I + b 1 1^T``, the form in Lemma 1's proof;
    :func:`li2core.measures.fft_dist_ideal`), ``G_inf_norm`` (``||Eq. 4||``).

    Paper: Lemma 1, Eq. 5, Eq. 4. Chapter: ``stage1_lazy``.
    """
    n, K = F.shape
    sv = _thin_svd(F, Y)
    G4 = _eq4_from_svd(sv, float(eta))
    S = signal_direction(F, Y)
    g4 = float(G4.norm())
    c1, c2 = lemma1_constants(F)
    kbest = float((G4 * S).sum() / (S * S).sum())
    ones = torch.ones(1, n, dtype=F.dtype)
    lam = sv.s**2

    def rel(A: torch.Tensor) -> float:
        return float((A - G4).norm()) / g4 if g4 > 0 else float("nan")

    out = {
        "n": n, "K": K, "rank": int(sv.s.numel()),
        "cond": float(lam[0] / lam[-1]), "lam_min": float(lam[-1]), "lam_max": float(lam[0]),
        "realizability_residual": realizability_residual(F, Y),
        "ftf_offdiag_ratio": float(ftf_offdiag_ratio(F[None], ones)[0]),
        "fft_offdiag_ratio": float(fft_offdiag_ratio(F[None], ones)[0]),
        "fft_dist_ideal": float(fft_dist_ideal(F[None], ones)[0]),
        "G_inf_norm": g4, "cos_signal": cosine(G4, S), "kbest": kbest, "best_rel_err": rel(kbest * S),
        "c1": c1, "c2": c2,
    }
    for rule, sfx in (("subspace", ""), ("trace", "_trace")):
        kappa5 = lemma1_prefactor(F, float(eta), rule)
        out[f"eq5_rel_err{sfx}"] = rel(kappa5 * S)
        out[f"prefactor_ratio{sfx}"] = kappa5 / kbest if kbest != 0 else float("nan")
        if not sfx:
            out["prefactor"] = kappa5
            out["norm_ratio"] = float((kappa5 * S).norm()) / g4 if g4 > 0 else float("nan")
    return out
