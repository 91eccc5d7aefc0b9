"""Thm 7: top-down modulation, the modified energy E_S given learned irreps (Stage III, chapter ``thm7_topdown``).

Theorem 7 (paper-li2 "Stage III"): once the hidden layer has learned a set ``S`` of irreps and ``V`` reconstructs
them, the backpropagated gradient carries only the *residual* ``R = Y~ - Y^``, so each node ascends

    ``E_S(w) = 1/2 ||R^T sigma(X w)||^2``,

which keeps local maxima only on the irreps not yet learned. This module evaluates it three ways:

* **literally**, with an explicit residual: :func:`energy_residual` (and its gradient,
  :func:`energy_residual_and_grad`) for any ``R (n, M)``;
* with the residual of Theorem 7's proof, ``Y~`` with the isotypic components of the learned irreps removed
  along the class axis, ``R = Y~ (I - sum_{c in S} Pi_c)`` (:func:`irrep_residual`, :func:`energy_missing`); on
  all ``M^2`` pairs this is the per-irrep residual ``Phi_S Phi_S^* (x) 1_M`` of the proof;
* with the residual of a least-squares readout on given nodes, ``R = Y~ - F~ V_ls`` (:func:`ls_residual`: what a
  real network's readout leaves; Theorem 3's reconstruction);
* in the paper's closed form (Eq. 20 restricted to the missing irreps), through ``S^ = Q^* S Q`` with
  ``S_ij = sigma(u_i + v_j)`` and ``w = [u; P v]`` (:func:`energy_missing_closed_form`).

``learned`` holds real isotypic components, numbered as :func:`li2core.fourier.component_labels` and
:func:`li2core.measures.node_components` number them (component 0 is the trivial one). On ``Z_M`` the number is
the frequency ``j`` of the pair ``{j, M - j}``, and ``M - j`` is accepted for ``j``. A complex irrep and its
conjugate form one real component, so they are learned together.

**The closed form, as printed and as computed** (a note for the book). Let ``S^_{k,r}`` be the ``d_k x d_k``
diagonal block of ``S^`` for copy ``r`` of irrep ``k`` in the regular representation, and
``A_k = sum_r S^_{k,r}``. Then ``z_h = <R_h, S>_F = sum_k tr(rho_k(h)^T A_k)`` and Schur orthogonality gives
exactly ``E_S = (M / 2) sum_{k != 0, k not in S} ||A_k||_F^2 / d_k``. The paper prints
``|sum_r tr S^_{k,r}|^2 = |tr A_k|^2`` in place of ``||A_k||_F^2``. The two agree for ``d_k = 1`` (every
Abelian group) and differ in general for ``d_k > 1`` (neither bounds the other: ``A = I`` gives ``d^2`` against
``d``, a traceless ``A`` gives 0); ``form="paper"`` evaluates the printed form, ``form="frobenius"`` the exact one. The factor 4 between the
literal maxima and Theorem 2's constants (:mod:`li2core.theory.maxima`) is a different matter: it comes from
dropping the 2 of the cross term when ``S`` is replaced by ``u^ v^*``; here ``S`` is the full matrix, so the
literal energy and both forms share the same scale.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import torch

from ..activations import derivatives
from ..groups import Group
from ..groups import make as _make_group
from ..losses import center
from .pairs import GroupLike, Rows, _flat, _onehot_labels, _pairs, _unit, design
from .reconstruction import reconstruct
from .stage1 import ridge_readout

__all__ = [
    "learned_components",
    "missing_components",
    "missing_projector",
    "irrep_residual",
    "ls_residual",
    "energy_residual",
    "energy_residual_and_grad",
    "energy_missing",
    "energy_missing_closed_form",
    "ascend_missing",
]


def _as_group(group: GroupLike) -> Group:
    if isinstance(group, Group):
        return group
    if isinstance(group, str):
        return _make_group(group)
    return Group.from_table(np.asarray(group.table), name=getattr(group, "name", "custom"))


def _is_cyclic_name(g: Group) -> bool:
    return len(g.factors) == 1 and g.name == f"Z{g.order}"


def learned_components(group: GroupLike, learned: Iterable[int]) -> tuple[int, ...]:
    """The real isotypic components named by ``learned``, validated, sorted, without repeats.

    ``learned``: component numbers as :func:`li2core.fourier.component_labels` gives them (0 is the trivial
    component, which cannot be learned: it carries no label information). On ``Z_M`` a number is a frequency
    ``j``; ``j`` and ``M - j`` name the same pair, so ``1 .. M - 1`` are accepted and mapped to ``min(j, M - j)``.
    ``ValueError`` (naming ``learned``) for the trivial component, an unknown number or a non-integer.

    Paper: Thm 7. Chapter: ``thm7_topdown``.
    """
    g = _as_group(group)
    n_comp = len(g.real_isotypic_projectors())
    M = g.order
    out = set()
    for j in learned:
        if isinstance(j, torch.Tensor) and j.numel() == 1:
            j = j.item()
        if isinstance(j, (bool, np.bool_)) or not isinstance(j, (int, np.integer)):
            raise ValueError(f"learned: expected integer component numbers; got {j!r}")
        j = int(j)
        if _is_cyclic_name(g):
            if not 0 <= j < M:
                raise ValueError(f"learned: frequency {j} is not one of 1..{M - 1} for {g.name}")
            j = min(j, M - j)
        elif not 0 <= j < n_comp:
            raise ValueError(f"learned: component {j} is not one of 1..{n_comp - 1} for {g.name}")
        if j == 0:
            raise ValueError("learned: 0 is the trivial component (constants); it carries no label and is never "
                             "learned")
        out.add(j)
    return tuple(sorted(out))


def missing_components(group: GroupLike, learned: Iterable[int]) -> tuple[int, ...]:
    """The non-trivial real components not in ``learned`` (:func:`learned_components`): where ``E_S`` keeps maxima.

    Paper: Thm 7. Chapter: ``thm7_topdown``.
    """
    g = _as_group(group)
    S = set(learned_components(g, learned))
    return tuple(c.index for c in g.real_isotypic_projectors() if c.index and c.index not in S)


def missing_projector(group: GroupLike, learned: Iterable[int], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``Pi_miss = sum_{c != 0, c not in S} Pi_c (M, M)``: the real orthogonal projector on the isotypic components
    not learned (``I - Pi_0 - sum_{c in S} Pi_c``). In the proof's notation it is ``Phi_S Phi_S^*``.

    Paper: Thm 7. Chapter: ``thm7_topdown``.
    """
    g = _as_group(group)
    miss = set(missing_components(g, learned))
    P = np.zeros((g.order, g.order))
    for c in g.real_isotypic_projectors():
        if c.index in miss:
            P += c.projector
    return torch.as_tensor(P, dtype=dtype)


def irrep_residual(group: GroupLike, learned: Iterable[int], rows: Rows = None,
                   dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The residual of Theorem 7's proof, ``R = Y~ (I - sum_{c in S} Pi_c) (n, M)``: the centred one-hot targets
    ``Y~ = P_1^perp Y`` of the rows in use (all ``M^2`` pairs by default) with the isotypic components of the learned
    irreps removed along the class axis. On all pairs ``Y~ = Y (I - Pi_0)``, so ``R = Y Pi_miss``
    (:func:`missing_projector`): row ``i`` is ``Pi_miss e_{y_i}``, a function of the target alone, which is the
    proof's ``Phi_S Phi_S^* (x) 1_M``. ``S`` empty gives ``Y~``.

    Paper: Thm 7. Chapter: ``thm7_topdown``.
    """
    g = _as_group(group)
    S = learned_components(g, learned)
    _, Y = design(g, rows, dtype=dtype)
    Yt = center(Y)
    if not S:
        return Yt
    P = np.zeros((g.order, g.order))
    for c in g.real_isotypic_projectors():
        if c.index in S:
            P += c.projector
    return Yt - Yt @ torch.as_tensor(P, dtype=dtype)


def ls_residual(nodes: torch.Tensor, group: GroupLike, activation: str = "sqr", rows: Rows = None,
                eta: float = 0.0, rtol: float | None = None) -> torch.Tensor:
    """The residual a readout fitted on given hidden nodes leaves, ``R = Y~ - F~ V (n, M)``, ``F = sigma(X W)``.

    ``eta = 0``: ``V = F~^+ Y~``, the minimum-norm least squares of Theorem 3 (:func:`reconstruct`; ``rtol`` its
    pseudo-inverse cut-off). ``eta > 0``: the ridge readout ``V = (F~^T F~ + eta I)^{-1} F~^T Y~``
    (:func:`li2core.theory.stage1.ridge_readout`), the fixed point of the lazy stage. ``nodes``: ``W (2M, K)``.
    When the nodes reconstruct exactly the components ``S`` (e.g. four phase-offset real maxima per frequency of
    ``Z_M``), this equals :func:`irrep_residual`; exact maxima ``[u; +-P u]`` leave half of each component.

    Paper: Thm 7, Thm 3. Chapter: ``thm7_topdown``.
    """
    if eta < 0 or not math.isfinite(eta):
        raise ValueError(f"eta: must be a finite number >= 0; got {eta!r}")
    W = nodes[:, None] if nodes.dim() == 1 else nodes
    if eta == 0:
        rec = reconstruct(W, group, activation, rows=rows, rtol=rtol)
        F, V = rec.F, rec.V
    else:
        p = _pairs(group, rows, None, W.dtype, W.device)
        if W.shape[0] != 2 * p.M:
            raise ValueError(f"nodes: expected shape (2M, K) = ({2 * p.M}, K); got {tuple(nodes.shape)}")
        sig, _, _ = derivatives(activation)
        F = sig(W[p.a] + W[p.M + p.b])
        V = ridge_readout(F, _onehot_labels(p, W.dtype), eta)
    p = _pairs(group, rows, None, W.dtype, W.device)
    Yt = center(_onehot_labels(p, W.dtype))
    return Yt - center(F) @ V


def _check_residual(R: torch.Tensor, n: int, M: int) -> None:
    if R.dim() != 2 or R.shape != (n, M):
        raise ValueError(f"residual: expected shape (n, M) = ({n}, {M}) for the rows in use; got {tuple(R.shape)}")


def energy_residual(w: torch.Tensor, residual: torch.Tensor, group: GroupLike, activation: str = "sqr",
                    rows: Rows = None) -> torch.Tensor:
    """``E_R(w) = 1/2 ||R^T sigma(X w)||^2`` for an explicit residual ``R (n, M)`` on the rows in use (all ``M^2``
    pairs by default), evaluated literally with the one-hot ``X`` of :func:`design`. ``R = Y~`` gives the energy of
    Theorem 1 (Eq. 7). ``w``: ``(2M,)`` → scalar, ``(..., 2M)`` → ``(...)``.

    Paper: Thm 7. Chapter: ``thm7_topdown``.
    """
    return energy_residual_and_grad(w, residual, group, activation, rows, need_grad=False)[0]


def energy_residual_and_grad(w: torch.Tensor, residual: torch.Tensor, group: GroupLike, activation: str = "sqr",
                             rows: Rows = None, need_grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(E_R(w), grad E_R(w))`` of :func:`energy_residual`: ``grad = X^T (sigma'(X w) o R R^T sigma(X w))``, the
    right-hand side of Eq. 6 with ``Y~`` replaced by the residual (the dynamics Theorem 7 says each node follows
    once ``S`` is learned). Literal, with the explicit ``X``; ``None`` for the gradient when not ``need_grad``.

    Paper: Thm 7, Eq. 6. Chapter: ``thm7_topdown``.
    """
    X, _ = design(group, rows, dtype=w.dtype)
    X = X.to(w.device)
    M = X.shape[1] // 2
    w2, lead = _flat(w, M)
    _check_residual(residual, X.shape[0], M)
    E, G = _residual_energy_grad(w2, X, residual.to(dtype=w.dtype, device=w.device), activation, need_grad)
    return E.reshape(lead), (G.reshape(w.shape) if need_grad else None)


def _residual_energy_grad(w2: torch.Tensor, X: torch.Tensor, R: torch.Tensor, activation: str,
                          need_grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``E_R (B,)`` and ``grad E_R (B, 2M)`` for ``w2 (B, 2M)``, the one-hot ``X (n, 2M)`` and ``R (n, M)``."""
    sig, dsig, _ = derivatives(activation)
    pre = w2 @ X.T  # (B, n)
    z = sig(pre) @ R  # (B, M): R^T sigma(X w)
    E = 0.5 * z.pow(2).sum(-1)
    if not need_grad:
        return E, None
    return E, (dsig(pre) * (z @ R.T)) @ X


def energy_missing(w: torch.Tensor, group: GroupLike, learned: Iterable[int], activation: str = "sqr",
                   rows: Rows = None) -> torch.Tensor:
    """Theorem 7's modified energy ``E_S(w) = 1/2 ||R^T sigma(X w)||^2`` with ``R`` = ``Y~`` without the isotypic
    components of the learned irreps (:func:`irrep_residual`), evaluated literally (:func:`energy_residual`).
    ``learned`` as in :func:`learned_components` (on ``Z_M``: frequencies). ``S`` empty gives :func:`energy`.
    On all pairs, at a unit Fourier node of a learned frequency ``E_S = 0``; at one of a missing frequency
    ``E_S = E``. ``w``: ``(2M,)`` → scalar, ``(..., 2M)`` → ``(...)``.

    Paper: Thm 7. Chapter: ``thm7_topdown``.
    """
    R = irrep_residual(group, learned, rows, dtype=w.dtype)
    return energy_residual(w, R, group, activation, rows)


def _regular_blocks(g: Group) -> list[tuple[int, int, np.ndarray]]:
    """``(irrep k, copy r, Q_kr (M, d_k))`` with orthonormal columns ``sqrt(d_k / M) rho_k(g)_{a r}``: together
    the columns of a unitary ``Q`` that block-diagonalises the regular representation (Schur orthogonality)."""
    M = g.order
    out = []
    for ir in g.irreps():
        d = ir.dim
        for r in range(d):
            out.append((ir.index, r, math.sqrt(d / M) * np.asarray(ir.rho)[:, :, r]))
    return out


def energy_missing_closed_form(w: torch.Tensor, group: GroupLike, learned: Iterable[int], activation: str = "sqr",
                               form: str = "paper") -> torch.Tensor:
    """Theorem 7's closed form of ``E_S`` on all ``M^2`` pairs (Eq. 20 restricted to the missing irreps):

    ``E_S = (M / 2) sum_{k != 0, k not in S} (1 / d_k) |sum_r tr S^_{k,r}|^2`` (``form="paper"``, as printed) or
    ``(M / 2) sum_{k != 0, k not in S} (1 / d_k) ||sum_r S^_{k,r}||_F^2`` (``form="frobenius"``, the exact value).

    ``w = [u; P v]`` (so ``v_j = w[M + j^{-1}]``), ``S_ij = sigma(u_i + v_j) (M, M)``, ``S^ = Q^* S Q`` with ``Q``
    adapted to the irreps of the regular representation, ``S^_{k,r}`` the diagonal ``d_k x d_k`` block of copy
    ``r`` of irrep ``k`` (:func:`_regular_blocks`); a real component contributes all the complex irreps it holds.
    Computed from ``S`` alone, never from the labels: an independent route to :func:`energy_missing`. The two
    forms agree when every missing irrep has ``d_k = 1``. ``w``: ``(2M,)`` → scalar, ``(B, 2M)`` → ``(B,)``.

    Paper: Thm 7, Eq. 20. Chapter: ``thm7_topdown``.
    """
    if form not in ("paper", "frobenius"):
        raise ValueError(f"form: expected 'paper' or 'frobenius'; got {form!r}")
    g = _as_group(group)
    M = g.order
    w2, lead = _flat(w, M)
    miss = set(missing_components(g, learned))
    irreps_missing = {k for c in g.real_isotypic_projectors() if c.index in miss for k in c.irreps}
    inv = torch.as_tensor(g.inverse, dtype=torch.long, device=w.device)
    sig, _, _ = derivatives(activation)
    cdt = torch.complex128 if w2.dtype == torch.float64 else torch.complex64
    u, v = w2[:, :M], w2[:, M:][:, inv]
    S = sig(u[:, :, None] + v[:, None, :]).to(cdt)  # (B, M, M)
    A: dict[int, torch.Tensor] = {}
    for k, _, Q in _regular_blocks(g):
        if k not in irreps_missing:
            continue
        Qt = torch.as_tensor(Q, dtype=cdt, device=w.device)
        blk = Qt.conj().T @ S @ Qt  # (B, d, d)
        A[k] = A[k] + blk if k in A else blk
    E = torch.zeros(w2.shape[0], dtype=w2.dtype, device=w.device)
    for k, Ak in A.items():
        d = Ak.shape[-1]
        if form == "paper":
            val = torch.diagonal(Ak, dim1=-2, dim2=-1).sum(-1).abs().pow(2)
        else:
            val = Ak.abs().pow(2).sum(dim=(-2, -1))
        E = E + (M / 2.0) * val.to(w2.dtype) / d
    return E.reshape(lead)


def ascend_missing(w0: torch.Tensor, group: GroupLike, learned: Iterable[int], activation: str = "sqr",
                   steps: int = 500, tol: float = 1e-7, residual: torch.Tensor | None = None,
                   rows: Rows = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Projected gradient ascent of ``E_S`` (:func:`energy_missing`, or :func:`energy_residual` for an explicit
    ``residual``) on the unit sphere from the starts ``w0 (B, 2M)``: the node dynamics Theorem 7 describes once ``S``
    is learned. Each start moves by ``w <- (w + s g_t / ||grad||) / ||.||`` with the tangent gradient
    ``g_t = (I - w w^T) grad``; the dimensionless step ``s`` starts at 1, grows by 1.5 after a step that raises
    ``E_S`` and halves (the step rejected) otherwise. A start stops when ``||g_t|| <= tol ||grad||``.
    Returns ``(w (B, 2M), E_S (B,), converged (B,))``.

    Paper: Thm 7. Chapter: ``thm7_topdown``.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps: must be an integer >= 0; got {steps!r}")
    R = irrep_residual(group, learned, rows, dtype=w0.dtype) if residual is None else residual
    w = _unit(w0[None] if w0.dim() == 1 else w0).clone()
    X, _ = design(group, rows, dtype=w.dtype)
    X = X.to(w.device)
    if w.shape[-1] != X.shape[1]:
        raise ValueError(f"w0: last dimension must be 2M = {X.shape[1]}; got {tuple(w0.shape)}")
    _check_residual(R, X.shape[0], X.shape[1] // 2)
    R = R.to(dtype=w.dtype, device=w.device)
    tiny = torch.finfo(w.dtype).tiny

    def eg(x):
        return _residual_energy_grad(x, X, R, activation)

    E, G = eg(w)
    s = torch.ones(w.shape[0], dtype=w.dtype, device=w.device)

    def tangent(x, Gx):
        gt = Gx - (Gx * x).sum(-1, keepdim=True) * x
        return gt, gt.norm(dim=-1) / Gx.norm(dim=-1).clamp_min(tiny)

    gt, ratio = tangent(w, G)
    for _ in range(steps):
        act = ratio > tol
        if not bool(act.any()):
            break
        cand = _unit(w + (s / G.norm(dim=-1).clamp_min(tiny))[:, None] * gt)
        Ec, Gc = eg(cand)
        ok = act & (Ec >= E)
        w = torch.where(ok[:, None], cand, w)
        E, G = torch.where(ok, Ec, E), torch.where(ok[:, None], Gc, G)
        s = torch.where(ok, (s * 1.5).clamp_max(1e3), torch.where(act, s * 0.5, s))
        gt, ratio = tangent(w, G)
        ratio = torch.where(s < 1e-14, torch.zeros_like(ratio), ratio)  # a collapsed step: stop there
    gt, ratio = tangent(w, G)
    return w, E, ratio <= tol
