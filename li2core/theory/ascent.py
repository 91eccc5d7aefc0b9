"""Projected gradient ascent of the energy on the unit sphere (Stage II; Thm 2, Cor. 1-2, Thm 5's full energy):
one loop for real and complex weights; chapters ``thm2_maxima``, ``thm3_reconstruction``, ``thm5_memorization``,
``fig5_scaling_law``.

* :func:`project_ascent`: Armijo / Barzilai-Borwein ascent from many starts at once (:class:`AscentResult`).
* :func:`sphere_flow`: the small-step projected gradient flow (never overshoots through zero).
* :func:`random_starts`, :func:`random_complex_starts`: seeded Gaussian starts on the sphere.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from .energy import _complex_grid_energy_grad, _energy_grad_grid
from .pairs import GroupLike, Rows, Weights, _grid, _unit

__all__ = ["AscentResult", "random_starts", "random_complex_starts", "project_ascent", "sphere_flow"]


class AscentResult(NamedTuple):
    """Output of :func:`project_ascent`, one entry per start.

    w: final unit nodes ``(B, 2M)``; E: ``(B,)``; steps: iterations run ``(B,)``; converged:
    ``(B,)`` the tangent-gradient test passed; grad_ratio: ``||g_t|| / ||grad E||`` at the end;
    stalled: ``(B,)`` the step collapsed before convergence (a kink of ``relu``, or round-off).
    """

    w: torch.Tensor
    E: torch.Tensor
    steps: torch.Tensor
    converged: torch.Tensor
    grad_ratio: torch.Tensor
    stalled: torch.Tensor


def random_starts(B: int, M: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``B`` seeded Gaussian starts ``(B, 2M)`` normalised to the unit sphere (drawn on the CPU
    from ``torch.Generator().manual_seed(seed)``).

    Paper: — (starts for Thm 2). Chapter: ``thm2_maxima``.
    """
    g = torch.Generator().manual_seed(int(seed))
    w = torch.randn(B, 2 * M, generator=g, dtype=torch.float64)
    return _unit(w).to(dtype)


def random_complex_starts(B: int, M: int, seed: int) -> torch.Tensor:
    """``B`` seeded complex Gaussian starts ``(B, 2M)`` (complex128) on the unit sphere of C^{2M}.

    Paper: — (starts for Thm 3). Chapter: ``thm3_reconstruction``.
    """
    g = torch.Generator().manual_seed(int(seed))
    w = torch.complex(torch.randn(B, 2 * M, generator=g, dtype=torch.float64), torch.randn(B, 2 * M, generator=g, dtype=torch.float64))
    return w / w.norm(dim=-1, keepdim=True)








def project_ascent(
    w0: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    steps: int = 5000,
    lr: float = 1.0,
    rows: Rows = None,
    tol: float = 1e-7,
    weights: Weights = None,
    bb: bool | None = None,
    atol: float = 1e-12,
) -> AscentResult:
    """Projected (Riemannian) gradient ascent of ``E`` (Eq. 7) on the unit sphere ``||w|| = 1``
    (Stage II, Theorem 2's setting), from many starts at once; real or complex weights.

    Each start ``b`` moves by ``w <- (w + alpha_b g_t) / ||w + alpha_b g_t||`` with
    ``g_t = (I - w w^T) grad E`` and ``alpha_b = s_b / ||grad E(w)||``, where ``s_b`` is a
    dimensionless step (``s = 1`` is, to first order, the power-method step
    ``w <- grad E / ||grad E||`` for homogeneous ``sigma``). The first step uses ``s = lr``; after
    an accepted step ``s`` is the Barzilai-Borwein step of the last move (``bb=True``, the default
    for the smooth activations) or ``1.5 s`` (``bb=False``, the default for ``relu``); after a
    rejected step it is halved. A step is accepted when it satisfies Armijo's condition
    ``E(w') >= E(w) + 1e-4 alpha ||g_t||^2`` (up to round-off), so ``E`` never decreases.

    A start stops, ``converged``, when ``||g_t|| <= tol ||grad E||`` (the sine of the angle between
    ``w`` and ``grad E``) or ``||g_t|| <= atol``; it stops ``stalled`` when its step falls below
    1e-14 (at a kink of ``relu`` the tangent gradient need not vanish); otherwise after ``steps``
    iterations. With ``sigma = x^2`` on ``Z_M``, ``M <= 30``, 200 Gaussian starts converge to
    ``tol = 1e-7`` in about 10-30 iterations (well under a second on a CPU). Flat or nearly flat
    maxima (e.g. ``silu`` on composite ``M``) converge slowly: raise ``steps``.

    **Complex weights** (``w0`` complex, e.g. :func:`random_complex_starts`; Theorem 3 over C): the same loop on
    the unit sphere of C^{2M} (= R^{4M}) for :func:`~li2core.theory.energy.energy_complex` (``activation`` must be
    ``"sqr"``), with the real inner product ``Re <a, b>``, in complex128.

    ``w0``: ``(B, 2M)`` (or ``(2M,)``), normalised first; ``rows``/``weights`` as in :func:`energy`.
    Returns an :class:`AscentResult`.

    Paper: Thm 2, Cor. 2, Thm 3, Thm 4, Thm 5. Chapter: ``thm2_maxima``.
    """
    squeeze = w0.dim() == 1
    w = w0[None] if squeeze else w0
    cplx = w.is_complex()
    if cplx:
        if activation != "sqr":
            raise ValueError(f"activation: complex weights are defined for 'sqr' only; got {activation!r}")
        w = w.to(torch.complex128)
    w = _unit(w).clone()
    real_dtype = torch.float64 if cplx else w.dtype
    q = _grid(group, rows, weights, real_dtype, w.device)
    if w.shape[-1] != 2 * q.M:
        raise ValueError(f"w0: last dimension must be 2M = {2 * q.M}; got {tuple(w0.shape)}")
    if bb is None:
        bb = activation != "relu"

    def energy_grad(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _complex_grid_energy_grad(x, q) if cplx else _energy_grad_grid(x, q, activation)

    def rdot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # the real inner product, per start
        return (a.conj() * b).real.sum(-1) if cplx else (a * b).sum(-1)

    Bn = w.shape[0]
    E, G = energy_grad(w)
    s = torch.full((Bn,), float(lr), dtype=real_dtype, device=w.device)
    nsteps = torch.zeros(Bn, dtype=torch.long, device=w.device)
    tiny = torch.finfo(real_dtype).tiny
    eps = torch.finfo(real_dtype).eps

    def tangent(wb, Gb):
        gt = Gb - rdot(wb, Gb)[:, None] * wb
        gn = Gb.norm(dim=-1)
        return gt, gn, gt.norm(dim=-1)

    def rel(gtn_, gn_):
        # 0 when the absolute test passes, so that one threshold on ``ratio`` covers both tests
        return torch.where(gtn_ <= atol, torch.zeros_like(gtn_), gtn_ / gn_.clamp_min(tiny))

    gt, gn, gtn = tangent(w, G)
    ratio = rel(gtn, gn)
    stalled = torch.zeros(Bn, dtype=torch.bool, device=w.device)
    for _ in range(steps):
        idx = ((ratio > tol) & ~stalled).nonzero().squeeze(-1)
        if idx.numel() == 0:
            break
        wb, Eb, Gb, gtb, gnb, gtnb, sb = w[idx], E[idx], G[idx], gt[idx], gn[idx], gtn[idx], s[idx]
        alpha = sb / gnb.clamp_min(tiny)
        cand = _unit(wb + alpha[:, None] * gtb)
        Ec, Gc = energy_grad(cand)
        ok = Ec >= Eb + 1e-4 * alpha * gtnb.pow(2) - 8 * eps * Eb.abs()
        w_old = wb
        wb = torch.where(ok[:, None], cand, wb)
        Gb = torch.where(ok[:, None], Gc, Gb)
        w[idx], G[idx], E[idx] = wb, Gb, torch.where(ok, Ec, Eb)
        gt_new, gn_new, gtn_new = tangent(wb, Gb)
        if bb:
            # Barzilai-Borwein step for -E from the accepted move, in the dimensionless units of s
            dw = wb - w_old
            curv = -rdot(dw, gt_new - gtb)
            dw2 = (dw.abs() if cplx else dw).pow(2).sum(-1)
            s_bb = gn_new * dw2 / curv.clamp_min(tiny)
            grown = torch.where(curv > 0, s_bb, sb * 2.0)
        else:
            grown = sb * 1.5
        sb = torch.where(ok, grown.clamp(1e-8, 1e6), sb * 0.5)
        s[idx] = sb
        # a start whose step has collapsed cannot move any more (a kink of relu, or round-off)
        stalled[idx] = sb < 1e-14
        nsteps[idx] += 1
        gt[idx], gn[idx], gtn[idx] = gt_new, gn_new, gtn_new
        ratio[idx] = rel(gtn_new, gn_new)
    converged = ratio <= tol
    res = AscentResult(
        w=w, E=E, steps=nsteps, converged=converged, grad_ratio=gtn / gn.clamp_min(tiny), stalled=stalled & ~converged
    )
    if squeeze:
        res = AscentResult(*(x[0] for x in res))
    return res


def sphere_flow(
    w0: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    dt: float = 1e-2,
    steps: int = 1000,
    rows: Rows = None,
    weights: Weights = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The projected gradient flow of :func:`energy` on the unit sphere, time-rescaled per start and
    integrated with small explicit steps: ``w <- (w + dt g_t / ||grad E||) / ||.||`` with
    ``g_t = (I - w w^T) grad E`` (each step turns ``w`` by at most ``dt`` radians). Unlike
    :func:`project_ascent`'s adaptive steps, a step never overshoots through zero: a coordinate with
    zero gradient (a dead ``relu`` pair) only shrinks. ``w0 (B, 2M)``; returns ``(w, E)``.

    Paper: Thm 5. Chapter: ``thm5_memorization``.
    """
    w = _unit(w0[None] if w0.dim() == 1 else w0).clone()
    q = _grid(group, rows, weights, w.dtype, w.device)
    if w.shape[-1] != 2 * q.M:
        raise ValueError(f"w0: last dimension must be 2M = {2 * q.M}; got {tuple(w0.shape)}")
    tiny = torch.finfo(w.dtype).tiny
    for _ in range(int(steps)):
        E, G = _energy_grad_grid(w, q, activation)
        gt = G - (G * w).sum(-1, keepdim=True) * w
        w = _unit(w + dt * gt / G.norm(dim=-1, keepdim=True).clamp_min(tiny))
    E, _ = _energy_grad_grid(w, q, activation, need_grad=False)
    if w0.dim() == 1:
        return w[0], E[0]
    return w, E
