"""Theory quantities of the Li2 framework (paper-li2 §1.1, §2).

Notation follows the paper (paper-li2 §1): ``X (n, 2M)`` one-hot pairs, ``Y (n, M)`` one-hot
labels, ``F = sigma(X W)``, ``Z~ = P_1^perp Z`` centred over the **samples** in use, ``V (K, M)``.

Contents
--------
* Stage I (Prop. 1, Eq. 2-5): :func:`G_F`, :func:`center`, :func:`B_matrix`, :func:`P_eta`,
  :func:`ridge_readout`, :func:`G_F_infinity`, :func:`lemma1_constants`, :func:`G_F_lemma1`,
  :func:`cosine`, :func:`lazy_dynamics`.
* Stage II (Theorem 1, Eq. 7; Theorem 2; Cor. 1): :func:`design`, :func:`energy`,
  :func:`energy_grad`, :func:`energy_hessian`, :func:`tangent_grad`, :func:`tangent_hessian`,
  :func:`tangent_hessian_matrix`, :func:`project_ascent`, :func:`random_starts`,
  :func:`fourier_node`, :func:`inverse_perm`.
* Theorem 3: :func:`reconstruct`.  Theorem 5: :func:`memorization_reduced`.

Groups are anything with ``.order`` and ``.table`` (``T[a, b]`` = index of ``a b``), e.g.
``groups.make("Z23")``, or a group name. Pair ``i`` of the full dataset is ``(i // M, i % M)``
with label ``T[i // M, i % M]`` (the ordering of :mod:`li2core.tasks`). Nothing here assumes
the group is Abelian.

**The energy is never built from X.** Row ``i`` of ``X w`` is ``w[a_i] + w[M + b_i]``, so with
``f_i = omega_i sigma(w[a_i] + w[M + b_i])``, ``z_h = sum_{i: y_i = h} f_i`` and ``c_h`` the
number of rows of class ``h`` among the ``n`` rows in use,
``Y~^T f = z - (c / n) sum_i f_i``. The gradient ``X^T D Y~ Y~^T f`` adds the per-row values
``omega_i sigma'(.) (Y~ g)_i`` into entries ``a_i`` and ``M + b_i``. :func:`energy` and
:func:`project_ascent` evaluate this on the ``M x M`` grid of pairs (``pre[a, b] = w_a + w_{M+b}``
by broadcasting, rows not in use weighted 0), so ``X^T r`` is a row sum and a column sum;
:func:`energy_hessian` uses the per-row form.

**E at Fourier nodes (a note for the book).** Evaluated literally (unit-norm ``w`` over both
halves, the 1/2 of Eq. 7, sample centring, all ``n = M^2`` rows), a single-frequency node of
``Z_M`` has ``E = M/4`` (``M/2`` for the real frequency ``M/2`` of even ``M``), four times the
paper's ``M/16`` (``M/8``). The factor 4 is a dropped 2 in the proof of Theorem 2 (App. A.1):
for ``sigma = x^2``, ``S_ij = (u_i + v_j)^2 = u_i^2 + v_j^2 + 2 u_i v_j``, but the paper writes
``S = (u o u) 1^T + 1 (v o v)^T + u v^T`` and hence ``S^ = u^ v^*`` instead of ``2 u^ v^*``;
the factor 2 squares into 4 in Eq. 20-22. The location of the maxima is unaffected. The same
factor 4 holds for non-Abelian groups (S_3: E = 3 = 4 M/8 for the sign irrep, 1.5 = 4 M/16 for
the 2-d irrep).

Other things the literal computation shows (asserted in ``tests/test_theory.py``):

* The maxima of a complex pair of irreps are ``[u; +-P u']`` with ``u'`` any phase shift of ``u``
  (Cauchy-Schwarz in Eq. 21 only needs ``v^ = e^{i theta} u^``), not only ``[u; +-P u]``: on
  ``Z_M`` the tangent Hessian has exactly two zero eigenvalues there (common and relative phase),
  and ascent from random starts lands at generic relative phases.
* Cor. 1 ("every local maximum is flat") fails for 1-d real irreps: the ``M/2`` node of even
  ``Z_M`` and the sign irrep of ``S_3`` are strict maxima (all tangent eigenvalues < 0).
* Theorem 3 in R: exact ``[u; +-P u]`` nodes of ``Z_M`` only produce the ``cos(2 pi j h / M)``
  half of each frequency (relative residual ``1/sqrt 2`` whatever ``K``); with the halves' phases
  offset, 4 ``+-`` pairs per frequency, ``K = 4 (M - 1)``, reconstruct ``Y~`` exactly (the paper's
  ``K = 2M - 2`` count is for complex weights).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Protocol, Sequence, Union

import torch

from .groups import make as _make_group
from .losses import sample_center
from .models import activation as _model_activation

__all__ = [
    "G_F",
    "THEORY_ACTIVATIONS",
    "GroupLike",
    # Stage I
    "center",
    "B_matrix",
    "P_eta",
    "ridge_readout",
    "G_F_infinity",
    "lemma1_constants",
    "G_F_lemma1",
    "cosine",
    "LazyDynamics",
    "lazy_dynamics",
    # chapter stage1_lazy
    "FrozenFeatures",
    "frozen_features",
    "gram_spectrum",
    "realizability_residual",
    "G_F_fixed_point",
    "fixed_point_norms",
    "LazyFlow",
    "lazy_flow",
    "plateau_slope_bound",
    "loglog_slope",
    "lemma1_measures",
    "lemma1_sweep",
    # Stage II
    "design",
    "energy",
    "energy_grad",
    "energy_and_grad",
    "energy_hessian",
    "tangent_grad",
    "tangent_hessian_matrix",
    "tangent_hessian",
    "AscentResult",
    "project_ascent",
    "random_starts",
    "inverse_perm",
    "fourier_node",
    # Theorem 3, Theorem 5
    "Reconstruction",
    "reconstruct",
    "memorization_reduced",
    # chapter thm3_reconstruction
    "real_fourier_nodes",
    "exact_maxima_residual",
    "theorem3_width",
    "memorization_nodes",
    "feature_rank",
    "complex_fourier_node",
    "complex_fourier_nodes",
    "reconstruct_complex",
    "reconstruction_curve",
    "round_robin",
    "energy_complex",
    "random_complex_starts",
    "project_ascent_complex",
    "cyclic_spectrum",
    "theorem3_counts",
    "exact_maxima_prediction",
    "fourier_offset",
    # chapter thm5_memorization
    "single_target_rows",
    "single_target_weights",
    "pair_sums",
    "memorization_node",
    "memorization_phi",
    "memorization_profile",
    "memorization_kkt",
    "sphere_flow",
    "single_target_probabilities",
    "memorization_objective",
    # chapter fig5_scaling_law
    "maxima_survival",
    "node_energies",
    "reference_energies",
]

#: Activations accepted by the theory functions: the model's four plus ``linear`` (sigma(x) = x).
THEORY_ACTIVATIONS = ("sqr", "relu", "silu", "relusqr", "linear")

_Fn = Callable[[torch.Tensor], torch.Tensor]


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


# ----------------------------------------------------------------------------------------------
# Eq. 2
# ----------------------------------------------------------------------------------------------


def G_F(F: torch.Tensor, V: torch.Tensor, Y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The backpropagated gradient ``G_F = P_1^perp (Y - F V) V^T`` (Eq. 2).

    It equals ``-dJ/dF`` for the paper's loss ``J = 1/2 ||P_1^perp (Y - F V)||_F^2`` (Eq. 1).
    Shapes carry an optional leading run axis: ``F (..., n, K)``, ``V (..., K, M)``,
    ``Y (..., n, M)``; ``mask (..., n)`` selects each run's rows (1 = used).
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


# ----------------------------------------------------------------------------------------------
# Stage I: Prop. 1, Eq. 4, Lemma 1 (Eq. 5)
# ----------------------------------------------------------------------------------------------


def center(Z: torch.Tensor) -> torch.Tensor:
    """``Z~ = P_1^perp Z`` with ``P_1^perp = I_n - 1 1^T / n``: centre over the samples (rows), paper-li2 §1.1.

    ``Z``: ``(..., n, D)``.
    """
    return Z - Z.mean(dim=-2, keepdim=True)


def _eye(k: int, like: torch.Tensor) -> torch.Tensor:
    return torch.eye(k, dtype=like.dtype, device=like.device)


def B_matrix(F: torch.Tensor, eta: float) -> torch.Tensor:
    """``B = (F~^T F~ + eta I_K)^{-1}`` (paper-li2 §1.1, Prop. 1, Thm 6). ``F``: ``(..., n, K)`` → ``(..., K, K)``."""
    Ft = center(F)
    A = Ft.transpose(-1, -2) @ Ft + eta * _eye(F.shape[-1], F)
    return torch.linalg.inv(A)


def P_eta(F: torch.Tensor, eta: float) -> torch.Tensor:
    """``P_eta = I_n - F~ B F~^T`` (paper-li2 §1.1); by Woodbury it equals ``eta (F~ F~^T + eta I_n)^{-1}``.

    ``F``: ``(..., n, K)`` → ``(..., n, n)``.
    """
    Ft = center(F)
    return _eye(F.shape[-2], F) - Ft @ B_matrix(F, eta) @ Ft.transpose(-1, -2)


def ridge_readout(F: torch.Tensor, Y: torch.Tensor, eta: float) -> torch.Tensor:
    """``V_ridge = B F~^T Y~ = argmin_V 1/2 (||Y~ - F~ V||^2 + eta ||V||^2)`` (Prop. 1, App. C Eq. 47).

    ``F (..., n, K)``, ``Y (..., n, M)`` → ``(..., K, M)``. Solved as a linear system, not via ``B``.
    """
    Ft, Yt = center(F), center(Y)
    A = Ft.transpose(-1, -2) @ Ft + eta * _eye(F.shape[-1], F)
    return torch.linalg.solve(A, Ft.transpose(-1, -2) @ Yt)


def G_F_infinity(F: torch.Tensor, Y: torch.Tensor, eta: float) -> torch.Tensor:
    """The lazy-stage fixed point ``G_F(+inf) = P_eta Y~ Y~^T F~ B`` (Eq. 4, Prop. 1).

    This is Eq. 2 evaluated at ``V = V_ridge``; ``F (..., n, K)``, ``Y (..., n, M)`` → ``(..., n, K)``.
    """
    Ft, Yt = center(F), center(Y)
    return P_eta(F, eta) @ Yt @ (Yt.transpose(-1, -2) @ Ft) @ B_matrix(F, eta)


def lemma1_constants(F: torch.Tensor) -> tuple[float, float]:
    """Estimates of Lemma 1's ``c_1`` and ``c_2`` from ``F (n, K)``.

    Lemma 1 assumes ``F~ F~^T ~ K c_1 P_1^perp`` and ``F~^T F~ ~ n c_2 I_K``. Matching traces
    (``tr P_1^perp = n - 1``) gives ``c_1 = ||F~||_F^2 / (K (n - 1))`` and
    ``c_2 = ||F~||_F^2 / (n K)``. Both traces are ``||F~||_F^2``; the two approximations can
    only hold together when ``K ~ n - 1`` (paper-li2 §2, Lemma 1 caveat), so these are the
    trace-matched constants, not a claim that either approximation holds.
    """
    n, K = F.shape[-2], F.shape[-1]
    fro2 = float(center(F).pow(2).sum())
    return fro2 / (K * (n - 1)), fro2 / (n * K)


def G_F_lemma1(F: torch.Tensor, Y: torch.Tensor, eta: float) -> torch.Tensor:
    """Lemma 1's approximation (Eq. 5): ``G_F(+inf) ~ eta / ((K c_1 + eta)(n c_2 + eta)) Y~ Y~^T F~``.

    ``c_1, c_2`` come from :func:`lemma1_constants`. Compare with the exact :func:`G_F_infinity`.
    """
    n, K = F.shape[-2], F.shape[-1]
    c1, c2 = lemma1_constants(F)
    Ft, Yt = center(F), center(Y)
    return eta / ((K * c1 + eta) * (n * c2 + eta)) * (Yt @ (Yt.transpose(-1, -2) @ Ft))


def cosine(A: torch.Tensor, B: torch.Tensor) -> float:
    """Frobenius cosine ``<A, B>_F / (||A||_F ||B||_F)`` (0 when either is zero)."""
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


# ----------------------------------------------------------------------------------------------
# Groups, pairs, activations
# ----------------------------------------------------------------------------------------------


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


def _pairs(group: GroupLike, rows: Rows, weights: Weights, dtype: torch.dtype, device: torch.device) -> _Pairs:
    T = _table(group).to(device)
    M = T.shape[0]
    idx = torch.arange(M * M, device=device) if rows is None else torch.as_tensor(rows, device=device).long().reshape(-1)
    if idx.numel() == 0:
        raise ValueError("rows: no row selected")
    if int(idx.min()) < 0 or int(idx.max()) >= M * M:
        raise ValueError(f"rows: indices must lie in [0, M^2) = [0, {M * M})")
    a, b = idx // M, idx % M
    y = T[a, b]
    omega = None
    if weights is not None:
        omega = torch.as_tensor(weights, dtype=dtype, device=device).reshape(-1)
        if omega.numel() != idx.numel():
            raise ValueError(f"weights: expected {idx.numel()} per-row weights; got {omega.numel()}")
    counts = torch.zeros(M, dtype=dtype, device=device).index_add_(0, y, torch.ones_like(y, dtype=dtype))
    return _Pairs(M=M, a=a, b=b, y=y, omega=omega, counts=counts, n=int(idx.numel()))


def _d2_sqr(h: torch.Tensor) -> torch.Tensor:
    return torch.full_like(h, 2.0)


def _d2_relu(h: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(h)


def _d2_silu(h: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(h)
    return s * (1.0 - s) * (2.0 + h * (1.0 - 2.0 * s))


def _d2_relusqr(h: torch.Tensor) -> torch.Tensor:
    return 2.0 * (h > 0).to(h.dtype)


_D2: dict[str, _Fn] = {"sqr": _d2_sqr, "relu": _d2_relu, "silu": _d2_silu, "relusqr": _d2_relusqr, "linear": _d2_relu}


def _act(name: str) -> tuple[_Fn, _Fn, _Fn]:
    """``(sigma, sigma', sigma'')``; the first two from :func:`li2core.models.activation` except ``linear``."""
    if name == "linear":
        return (lambda h: h), torch.ones_like, _d2_relu
    if name not in THEORY_ACTIVATIONS:
        raise ValueError(f"activation: unknown activation {name!r}; accepted: {', '.join(THEORY_ACTIVATIONS)}")
    s, ds = _model_activation(name)
    return s, ds, _D2[name]


def design(group: GroupLike, rows: Rows = None, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """The literal one-hot matrices ``X (n, 2M)`` and ``Y (n, M)`` (paper-li2 §1.2).

    Row ``i`` is the pair ``(a, b) = (r // M, r % M)`` for ``r = rows[i]`` (all ``M^2`` pairs
    when ``rows`` is ``None``): ``x_i = (e_a, e_b)`` and ``y_i = e_{T[a, b]}``. For tests and
    small examples; the energy functions never build ``X``.
    """
    p = _pairs(group, rows, None, dtype, torch.device("cpu"))
    n, M = p.n, p.M
    X = torch.zeros(n, 2 * M, dtype=dtype)
    ar = torch.arange(n)
    X[ar, p.a] = 1.0
    X[ar, M + p.b] = 1.0
    Y = torch.zeros(n, M, dtype=dtype)
    Y[ar, p.y] = 1.0
    return X, Y


# ----------------------------------------------------------------------------------------------
# Stage II: the energy (Theorem 1, Eq. 7) and its derivatives
# ----------------------------------------------------------------------------------------------


def _flat(w: torch.Tensor, M: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    if w.shape[-1] != 2 * M:
        raise ValueError(f"w: last dimension must be 2M = {2 * M}; got shape {tuple(w.shape)}")
    lead = tuple(w.shape[:-1])
    return w.reshape(-1, 2 * M), lead


def _forward(w2: torch.Tensor, p: _Pairs, act: str):
    """Pre-activations, ``f``, ``g = Y~^T Omega f`` for ``w2 (B, 2M)``."""
    sig, dsig, d2sig = _act(act)
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
    idx = torch.arange(M * M, device=device) if rows is None else torch.as_tensor(rows, device=device).long().reshape(-1)
    if idx.numel() == 0:
        raise ValueError("rows: no row selected")
    if int(idx.min()) < 0 or int(idx.max()) >= M * M:
        raise ValueError(f"rows: indices must lie in [0, M^2) = [0, {M * M})")
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


def _energy_grad_grid(w2: torch.Tensor, q: _Grid, act: str, need_grad: bool = True):
    """``E (B,)`` and ``grad E (B, 2M)`` for ``w2 (B, 2M)`` on the grid: ``pre[a, b] = u_a + v'_b``."""
    sig, dsig, _ = _act(act)
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
) -> torch.Tensor:
    """The energy ``E(w) = 1/2 ||Y~^T Omega sigma(X w)||_2^2`` (Theorem 1, Eq. 7).

    ``Y~ = P_1^perp Y`` is centred over the samples in use (all ``M^2`` pairs, or ``rows``);
    ``Omega = diag(weights)`` (identity by default) weights the rows, e.g. ``weights = 1/p`` on
    the kept rows for the Horvitz-Thompson estimator ``z^_h = p^{-1} sum_j xi_{h,j} s_{h,j}`` of
    Theorem 4's proof (the centring stays the unweighted sample centring of the rows in use).
    ``w``: ``(2M,)`` → scalar, or ``(..., 2M)`` → ``(...)``. ``X`` is never materialised.
    Activations: :data:`THEORY_ACTIVATIONS` (``linear`` is the LDA remark after Cor. 2).
    """
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
    """``(E(w), grad E(w))`` of :func:`energy` and :func:`energy_grad` in one pass."""
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
    ``D = diag(sigma'(X w))``), as a scatter-add over the rows. Same shape as ``w``."""
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


def _unit(w: torch.Tensor) -> torch.Tensor:
    return w / w.norm(dim=-1, keepdim=True)


def tangent_grad(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
    weights: Weights = None,
) -> torch.Tensor:
    """The Riemannian gradient on the unit sphere, ``(I - w w^T) grad E(w)``, at ``w / ||w||``
    (Stage II's constraint ``||w|| = 1``, paper-li2 §2 Theorem 1). Same shape as ``w``."""
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
    at maxima in complex (or ``d_k > 1``) irreps, not at 1-d real ones (see the module notes)."""
    Ht, _ = tangent_hessian_matrix(w, group, activation, rows, weights)
    return torch.linalg.eigvalsh(Ht)


# ----------------------------------------------------------------------------------------------
# Projected gradient ascent on the sphere
# ----------------------------------------------------------------------------------------------


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
    from ``torch.Generator().manual_seed(seed)``)."""
    g = torch.Generator().manual_seed(int(seed))
    w = torch.randn(B, 2 * M, generator=g, dtype=torch.float64)
    return _unit(w).to(dtype)


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
    (Stage II, Theorem 2's setting), from many starts at once.

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

    ``w0``: ``(B, 2M)`` (or ``(2M,)``), normalised first; ``rows``/``weights`` as in :func:`energy`.
    Returns an :class:`AscentResult`.
    """
    squeeze = w0.dim() == 1
    w = _unit(w0[None] if squeeze else w0).clone()
    q = _grid(group, rows, weights, w.dtype, w.device)
    if w.shape[-1] != 2 * q.M:
        raise ValueError(f"w0: last dimension must be 2M = {2 * q.M}; got {tuple(w0.shape)}")
    if bb is None:
        bb = activation != "relu"
    Bn = w.shape[0]
    E, G = _energy_grad_grid(w, q, activation)
    s = torch.full((Bn,), float(lr), dtype=w.dtype, device=w.device)
    nsteps = torch.zeros(Bn, dtype=torch.long, device=w.device)
    tiny = torch.finfo(w.dtype).tiny
    eps = torch.finfo(w.dtype).eps

    def tangent(wb, Gb):
        gt = Gb - (Gb * wb).sum(-1, keepdim=True) * wb
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
        Ec, Gc = _energy_grad_grid(cand, q, activation)
        ok = Ec >= Eb + 1e-4 * alpha * gtnb.pow(2) - 8 * eps * Eb.abs()
        w_old = wb
        wb = torch.where(ok[:, None], cand, wb)
        Gb = torch.where(ok[:, None], Gc, Gb)
        w[idx], G[idx], E[idx] = wb, Gb, torch.where(ok, Ec, Eb)
        gt_new, gn_new, gtn_new = tangent(wb, Gb)
        if bb:
            # Barzilai-Borwein step for -E from the accepted move, in the dimensionless units of s
            dw = wb - w_old
            curv = -(dw * (gt_new - gtb)).sum(-1)
            s_bb = gn_new * dw.pow(2).sum(-1) / curv.clamp_min(tiny)
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


# ----------------------------------------------------------------------------------------------
# Theorem 2 helpers
# ----------------------------------------------------------------------------------------------


def inverse_perm(group: GroupLike) -> torch.Tensor:
    """``inv (M,)`` with ``inv[h]`` the index of ``h^{-1}``, from the Cayley table alone.

    It is the inverse operator ``P e_h = e_{h^{-1}}`` of paper-li2 §1.2: ``P = I[:, inv]`` as a
    matrix, and ``(P u)_g = u[inv[g]]`` (``inv`` is an involution).
    """
    T = _table(group)
    M = T.shape[0]
    ar = torch.arange(M)
    e_rows = (T == ar[None, :]).all(dim=1).nonzero().reshape(-1)
    if e_rows.numel() != 1:
        raise ValueError("group: the Cayley table has no unique identity element")
    e = int(e_rows[0])
    hit = T == e  # hit[h, g]: h g = e
    if not bool((hit.sum(1) == 1).all()):
        raise ValueError("group: the Cayley table is not a group table (inverses are not unique)")
    return hit.long().argmax(dim=1)


def fourier_node(
    M: int,
    freq: int,
    phase: float = 0.0,
    sign: int = 1,
    offset: float = 0.0,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """The single-frequency node ``w = [u; sign P u'] / ||.||`` of ``Z_M`` (Theorem 2, Cor. 2).

    ``u_m = cos(2 pi freq m / M + phase)``, ``u'_m = cos(2 pi freq m / M + phase + offset)`` and
    ``(P u')_m = u'_{-m mod M}`` (the inverse operator). ``offset = 0`` is the paper's
    ``[u; +-P u]``. The norm is taken over both halves, so each half has squared norm 1/2
    (``2 freq != 0 mod M``). ``freq = M/2`` (even ``M``) is the real irrep ``u_m ∝ (-1)^m``.

    For ``sigma = x^2``, ``E`` does not depend on ``phase`` or ``offset`` (for ``2 freq != 0 mod M``):
    ``z_h = 1 + sign cos(2 pi freq h / M - offset)``, so both are flat directions of the maximum
    (Cor. 1), and ``[u; +-P u]`` is only the ``offset in {0, pi}`` slice of the set of maxima.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign: must be +1 or -1; got {sign}")
    m = torch.arange(M, dtype=torch.float64)
    u = torch.cos(2.0 * math.pi * freq * m / M + phase)
    u2 = torch.cos(2.0 * math.pi * freq * m / M + phase + offset)
    Pu2 = u2[(-torch.arange(M)) % M]
    w = torch.cat([u, sign * Pu2])
    nrm = w.norm()
    if nrm < 1e-12:
        raise ValueError(f"fourier_node: freq={freq}, phase={phase} gives the zero vector for M={M}")
    return (w / nrm).to(dtype)


# ----------------------------------------------------------------------------------------------
# Theorem 3: reconstruction by least squares
# ----------------------------------------------------------------------------------------------


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
    """
    W = nodes
    if W.dim() == 1:
        W = W[:, None]
    p = _pairs(group, rows, None, W.dtype, W.device)
    if W.shape[0] != 2 * p.M:
        raise ValueError(f"nodes: expected shape (2M, K) = ({2 * p.M}, K); got {tuple(nodes.shape)}")
    sig, _, _ = _act(activation)
    F = sig(W[p.a] + W[p.M + p.b])  # (n, K)
    Y = torch.zeros(p.n, p.M, dtype=W.dtype, device=W.device)
    Y[torch.arange(p.n, device=W.device), p.y] = 1.0
    Ft, Yt = center(F), center(Y)
    pinv = torch.linalg.pinv(Ft, rtol=rtol)
    V = pinv @ Yt
    res = float((Yt - Ft @ V).norm() / Yt.norm())
    rank = int(torch.linalg.matrix_rank(Ft))
    return Reconstruction(V=V, residual=res, F=F, rank=rank)


# ----------------------------------------------------------------------------------------------
# Theorem 5: the reduced memorisation problem
# ----------------------------------------------------------------------------------------------


def memorization_reduced(
    p: torch.Tensor | Sequence[float],
    activation: str = "sqr",
    steps: int = 20000,
    tol: float = 1e-12,
) -> torch.Tensor:
    """Solve Theorem 5's reduced problem (App. A.4): ``max_s sum_g p_g sigma(s_g)`` s.t.
    ``s_g >= 0``, ``sum_g s_g^2 <= 2``.

    For increasing ``sigma`` the constraint is active, so this is projected gradient ascent on
    the positive orthant of the sphere of radius ``sqrt(2)``: ``s <- sqrt(2) [s + alpha grad]_+ /
    ||.||`` with an Armijo step that grows after accepted steps, started from
    ``sqrt(2) p / ||p||``. Stops when the KKT residual (tangent gradient on the support; positive
    gradient off it) is below ``tol * ||grad||``. Expected (Theorem 5, Lemma 6): ``sqr``/``relusqr``
    (``phi = sigma'/x`` nondecreasing) focus on ``argmax p``, ``s = sqrt(2) e_{g*}``; ``relu``
    gives ``s = sqrt(2) p / ||p||``; ``silu`` spreads with every ``s_g > 0``, ordered like ``p``.
    Returns ``s`` (float64).
    """
    pv = torch.as_tensor(p, dtype=torch.float64).reshape(-1)
    if (pv < 0).any() or float(pv.sum()) <= 0:
        raise ValueError("p: expected nonnegative weights with a positive sum")
    sig, dsig, _ = _act(activation)
    r2 = math.sqrt(2.0)

    def obj(s):
        return float((pv * sig(s)).sum())

    def kkt(s, g):
        lam = float((g * s).sum()) / float((s * s).sum())
        on = s > 0
        r = torch.where(on, g - lam * s, g.clamp_min(0.0))
        return float(r.norm()) / max(float(g.norm()), 1e-300)

    s = r2 * pv / pv.norm()
    f = obj(s)
    g = pv * dsig(s)
    step = 1.0
    for _ in range(steps):
        if kkt(s, g) <= tol:
            break
        alpha = step / max(float(g.norm()), 1e-300)
        cand = (s + alpha * g).clamp_min(0.0)
        if float(cand.norm()) == 0.0:
            step *= 0.5
            continue
        cand = r2 * cand / cand.norm()
        fc = obj(cand)
        if fc >= f + 1e-4 * float(((cand - s) * g).sum()) - 8 * 2.2e-16 * abs(f):
            s, f, g = cand, fc, pv * dsig(cand)
            step = min(step * 2.0, 1e12)
        else:
            step *= 0.5
            if step < 1e-18:
                break
    return s


# ==============================================================================================
# Chapter thm1_energy (Theorem 1, Eq. 6-7): gradient checks, the training loss's gradient, and
# the alignment of W's column updates with grad E during Stage II
# ==============================================================================================


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
    """
    squeeze = W.dim() == 1
    W2 = W[:, None] if squeeze else W
    X, Y = design(group, rows, dtype=W2.dtype)
    X, Y = X.to(W2.device), Y.to(W2.device)
    if W2.shape[0] != X.shape[1]:
        raise ValueError(f"W: expected shape (2M, K) with 2M = {X.shape[1]}; got {tuple(W.shape)}")
    sig, dsig, _ = _act(activation)
    Yt = center(Y)
    Hp = X @ W2  # (n, K) pre-activations
    G = Yt @ (Yt.T @ sig(Hp))  # columns g_j
    out = X.T @ (dsig(Hp) * G)  # X^T D_j g_j, column by column
    return out[:, 0] if squeeze else out


def rel_err(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Relative error ``max_i |a_i - b_i| / max_i |b_i|`` along the last axis (``b`` the reference)."""
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
    """
    from .losses import loss_and_grad

    p = _pairs(group, rows, None, W.dtype, W.device)
    if W.dim() != 2 or W.shape[0] != 2 * p.M:
        raise ValueError(f"W: expected shape (2M, K) = ({2 * p.M}, K); got {tuple(W.shape)}")
    if V.dim() != 2 or V.shape != (W.shape[1], p.M):
        raise ValueError(f"V: expected shape (K, M) = ({W.shape[1]}, {p.M}); got {tuple(V.shape)}")
    sig, dsig, _ = _act(activation)
    Hp = W[p.a] + W[p.M + p.b]  # (n, K)
    F = sig(Hp)
    O = F @ V
    mask = torch.ones(1, p.n, dtype=W.dtype, device=W.device)
    L, dO = loss_and_grad(loss, O[None], p.y[None], mask)
    dF = dO[0] @ V.T
    dH = dF * dsig(Hp)
    dW = torch.zeros_like(W).index_add_(0, p.a, dH).index_add_(0, p.M + p.b, dH)
    return LossGrad(W=-dW, F=-dF, loss=float(L[0]))


def _col_cos(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Cosine between matching columns of ``A, B (d, K)`` → ``(K,)`` (0 for a zero column)."""
    num = (A * B).sum(0)
    den = A.norm(dim=0) * B.norm(dim=0)
    return torch.where(den > 0, num / den.clamp_min(torch.finfo(A.dtype).tiny), torch.zeros_like(num))


def _tangent_cols(A: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Each column ``a_j`` of ``A`` projected on ``w_j^perp`` (the sphere's tangent space at ``w_j``)."""
    U = W / W.norm(dim=0, keepdim=True).clamp_min(torch.finfo(W.dtype).tiny)
    return A - (A * U).sum(0, keepdim=True) * U


#: Per-node measures of :func:`stage2_alignment` (``t`` an epoch, ``j`` a hidden node; "tangent" means both
#: vectors projected on ``w_j(t)^perp``, the tangent space of the sphere that Stage II's norm constraint uses).
ALIGNMENT_MEASURES = {
    "lossgrad_vs_gradE": "cos(-dL/dw_j, grad E(w_j))",
    "lossgrad_vs_gradE_tangent": "cos(-dL/dw_j, grad E(w_j)), tangent parts",
    "update_vs_gradE": "cos(w_j(t+1) - w_j(t), grad E(w_j))",
    "update_vs_gradE_tangent": "cos(w_j(t+1) - w_j(t), grad E(w_j)), tangent parts",
    "update_vs_lossgrad": "cos(w_j(t+1) - w_j(t), -dL/dw_j)",
    "update_vs_lossgrad_tangent": "cos(w_j(t+1) - w_j(t), -dL/dw_j), tangent parts",
    "gradE_tangent_share": "||(I - u u^T) grad E(w_j)|| / ||grad E(w_j)||, u = w_j/||w_j|| (0 at a critical point of E on the sphere)",
    "purity": "share of ||w_j||^2 in its dominant real isotypic component (one frequency pair on Z_M)",
}


def stage2_alignment(
    results: Any,
    run: int,
    epochs: Sequence[int],
    rows: Rows = None,
) -> "Any":
    """Per hidden node, how well the training dynamics follow Eq. 6 (gradient ascent on ``E``).

    ``results``: a :class:`li2core.Results` with weight snapshots at every ``t`` and ``t + 1`` of
    ``epochs`` (``train(..., snapshots=...)``); ``run``: the run index; ``rows``: the run's training
    rows (``li2core.tasks.split(make_task(group), p, seed).train``), on which both ``E`` and the loss
    are evaluated, in the run's dtype. The group, activation and loss are the run's config; ``-dL/dW`` is the loss's
    gradient without weight decay (:func:`loss_grad`), while the update ``W(t+1) - W(t)`` is the
    optimizer's (with its weight decay). For every ``t`` and column ``j`` it computes the
    :data:`ALIGNMENT_MEASURES` and, per ``t``, the independence proxy
    ``median_{j != j'} |cos(g_j, g_j')|`` over the columns ``g_j`` of the loss's ``G_F = -dL/dF``
    (:func:`median_abs_offdiag_cos`).

    Returns a tidy ``pandas`` frame with columns ``epoch, node, measure, value`` (``node = -1`` and
    ``measure = "independence"`` for the proxy).
    """
    with _one_torch_thread():
        return _stage2_alignment(results, run, epochs, rows)


@contextmanager
def _one_torch_thread():
    """Run torch's CPU ops on one thread inside the block (restored after). The matrices of
    :func:`stage2_alignment` are small (``2M x K``, ``n x K``): on a loaded 2-core machine the default two
    threads were measured up to 18x slower than one (OpenMP contention), while two threads gain at most ~2x
    on an idle one."""
    prev = torch.get_num_threads()
    if prev != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if prev != 1:
            torch.set_num_threads(prev)


def _stage2_alignment(results: Any, run: int, epochs: Sequence[int], rows: Rows) -> "Any":
    import pandas as pd

    from .groups import dominant_component as _dominant_component

    cfg = results.configs[run]
    parts = []
    for t in epochs:
        W0, V0 = results.weights_at(run, int(t))  # computed in the snapshots' dtype (the run's)
        W1, _ = results.weights_at(run, int(t) + 1)
        dW = W1 - W0
        gE = energy_grad(W0.T, cfg.group, cfg.activation, rows).T  # (2M, K)
        lg = loss_grad(W0, V0, cfg.group, rows, cfg.activation, cfg.loss)
        tg, tl, td = (_tangent_cols(A, W0) for A in (gE, lg.W, dW))
        vals = {
            "lossgrad_vs_gradE": _col_cos(lg.W, gE),
            "lossgrad_vs_gradE_tangent": _col_cos(tl, tg),
            "update_vs_gradE": _col_cos(dW, gE),
            "update_vs_gradE_tangent": _col_cos(td, tg),
            "update_vs_lossgrad": _col_cos(dW, lg.W),
            "update_vs_lossgrad_tangent": _col_cos(td, tl),
            "gradE_tangent_share": tg.norm(dim=0) / gE.norm(dim=0).clamp_min(torch.finfo(gE.dtype).tiny),
            "purity": torch.as_tensor(_dominant_component(W0.T.numpy(), cfg.group)[1]),
        }
        K = W0.shape[1]
        for name, c in vals.items():
            parts.append(pd.DataFrame({"epoch": int(t), "node": range(K), "measure": name, "value": c.numpy()}))
        parts.append(pd.DataFrame({"epoch": [int(t)], "node": [-1], "measure": ["independence"],
                                   "value": [median_abs_offdiag_cos(lg.F)]}))
    return pd.concat(parts, ignore_index=True)


def median_abs_offdiag_cos(G: torch.Tensor) -> float:
    """``median_{j != j'} |cos(g_j, g_j')|`` over the columns of ``G (n, K)`` (the independence proxy
    of Theorem 1's check: small when the nodes' driving signals are not collapsed on one direction)."""
    import numpy as np

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


# ==============================================================================================
# Chapter thm2_maxima (Theorem 2, Cor. 1-2, the linear-sigma remark): a survey of the maxima
# reached by projected ascent, with irrep, energy and tangent-Hessian per start
# ==============================================================================================


def paper_energy_constant(M: int, dim: int, kind: str) -> float:
    """Theorem 2's printed value of ``E*``: ``M / (8 d_k)`` for a real irrep, ``M / (16 d_k)`` for a
    pair of complex irreps (``kind`` is the Frobenius-Schur type ``"real"``/``"complex"``). The paper
    says nothing about quaternionic irreps: NaN. (The literal Eq. 7 gives 4x these; see the module notes.)"""
    if kind == "real":
        return M / (8.0 * dim)
    if kind == "complex":
        return M / (16.0 * dim)
    if kind == "quaternionic":
        return float("nan")
    raise ValueError(f"kind: expected 'real', 'complex' or 'quaternionic'; got {kind!r}")


def tangent_hessian_batch(
    w: torch.Tensor,
    group: GroupLike,
    activation: str = "sqr",
    rows: Rows = None,
) -> torch.Tensor:
    """:func:`tangent_hessian` for a batch ``w (B, 2M)`` → eigenvalues ``(B, 2M - 1)`` ascending
    (one batched :func:`energy_hessian`, instead of ``B`` separate calls)."""
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


def component_name(group: GroupLike, index: int) -> str:
    """A short display name of real isotypic component ``index`` of ``group``: ``"j=5"`` on ``Z_M``,
    ``"(1,3)"`` on products of cyclic groups, otherwise ``"ρ<label>"``; with ``" d=<d_k>"`` when ``d_k > 1``."""
    from .groups import make as _mk

    g = _mk(group) if isinstance(group, str) else group
    c = g.real_isotypic_projectors()[index]
    lab = c.label
    if isinstance(lab, tuple):
        s = "(" + ",".join(str(x) for x in lab) + ")"
    elif len(g.factors) == 1 and g.name.startswith("Z"):
        s = f"j={lab}"
    else:
        s = f"ρ{lab}"
    return s + (f" d={c.dim}" if c.dim > 1 else "")


class MaximaSurvey(NamedTuple):
    """Output of :func:`maxima_survey`.

    frame: one row per start (see :func:`maxima_survey`); spectra: the tangent-Hessian eigenvalues
    in long form (``group, start, component, name, i, eigenvalue, relative``); w: the final nodes ``(B, 2M)``.
    """

    frame: Any
    spectra: Any
    w: torch.Tensor


def maxima_survey(
    group: GroupLike,
    starts: int = 200,
    seed: int = 0,
    activation: str = "sqr",
    pure: float = 0.99,
    tol: float = 1e-10,
    steps: int = 5000,
    zero_tol: float = 1e-6,
    rows: Rows = None,
) -> MaximaSurvey:
    """Projected ascent of ``E`` (:func:`project_ascent`) from ``starts`` seeded Gaussian starts on the
    unit sphere, and what each start converged to (Theorem 2, Cor. 1, Cor. 2).

    ``frame`` columns: ``group, M, start, E, converged, steps, component`` (index of the real isotypic
    component with most power, :func:`li2core.groups.dominant_component`), ``name``
    (:func:`component_name`), ``label, dim, type, kind`` (e.g. ``"1-d complex pair"``), ``rank, purity`` (its share of ``||w||^2``), ``pure``
    (``purity >= pure``), ``E_paper`` (:func:`paper_energy_constant` of that component), ``E_ratio``
    (``E / E_paper``), ``u_power`` (``||u||^2`` of the first half; Theorem 2 says 1/2),
    ``dist_paper_form`` (``min ||P v -+ u|| / ||u||``: the distance from the paper's form ``[u; +-P u]``),
    ``ev_max, ev_min`` (extreme tangent-Hessian eigenvalues), ``n_zero`` (eigenvalues with
    ``|ev| <= zero_tol * max|ev|``), ``n_pos`` (``ev > zero_tol * max|ev|``) and ``strict``
    (``n_zero == 0`` and ``n_pos == 0``: a strict local maximum).
    """
    import numpy as np
    import pandas as pd

    from . import groups as _groups

    g = _groups.make(group) if isinstance(group, str) else group
    M = g.order
    r = project_ascent(random_starts(starts, M, seed), g, activation, steps=steps, tol=tol, rows=rows)
    comp, frac = _groups.dominant_component(r.w.numpy(), g)
    comps = g.real_isotypic_projectors()
    ev = tangent_hessian_batch(r.w, g, activation, rows)
    scale = ev.abs().amax(-1)
    n_zero = (ev.abs() <= zero_tol * scale[:, None]).sum(-1)
    n_pos = (ev > zero_tol * scale[:, None]).sum(-1)
    inv = inverse_perm(g)
    u, v = r.w[:, :M], r.w[:, M:]
    Pv = v[:, inv]
    dist = torch.minimum((Pv - u).norm(dim=-1), (Pv + u).norm(dim=-1)) / u.norm(dim=-1)
    names = [component_name(g, c.index) for c in comps]
    E_paper = np.array([paper_energy_constant(M, comps[k].dim, comps[k].type) for k in comp])
    frame = pd.DataFrame(
        {
            "group": g.name,
            "M": M,
            "start": np.arange(starts),
            "E": r.E.numpy(),
            "converged": r.converged.numpy(),
            "steps": r.steps.numpy(),
            "component": comp,
            "name": [names[k] for k in comp],
            "label": [str(comps[k].label) for k in comp],
            "dim": [comps[k].dim for k in comp],
            "type": [comps[k].type for k in comp],
            "kind": [f"{comps[k].dim}-d {comps[k].type}" + (" pair" if comps[k].type == "complex" else "") for k in comp],
            "rank": [comps[k].rank for k in comp],
            "purity": frac,
            "pure": frac >= pure,
            "E_paper": E_paper,
            "E_ratio": r.E.numpy() / E_paper,
            "u_power": u.pow(2).sum(-1).numpy(),
            "dist_paper_form": dist.numpy(),
            "ev_max": ev[:, -1].numpy(),
            "ev_min": ev[:, 0].numpy(),
            "n_zero": n_zero.numpy(),
            "n_pos": n_pos.numpy(),
        }
    )
    frame["strict"] = (frame["n_zero"] == 0) & (frame["n_pos"] == 0)
    B, d = ev.shape
    spectra = pd.DataFrame(
        {
            "group": g.name,
            "start": np.repeat(np.arange(B), d),
            "component": np.repeat(comp, d),
            "name": np.repeat(np.array(names, dtype=object)[comp], d),
            "i": np.tile(np.arange(d), B),
            "eigenvalue": ev.reshape(-1).numpy(),
            "relative": (ev / scale[:, None]).reshape(-1).numpy(),
        }
    )
    return MaximaSurvey(frame=frame, spectra=spectra, w=r.w)


def lda_matrix(group: GroupLike, rows: Rows = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``X^T Y~ Y~^T X (2M, 2M)``: for ``sigma(x) = x`` the energy is ``E(w) = 1/2 w^T (X^T Y~ Y~^T X) w``,
    so on the unit sphere its maximum is this matrix's top eigenvector (the LDA remark after Cor. 2).
    Built from the explicit :func:`design`; ``Y~`` centred over the rows in use."""
    X, Y = design(group, rows, dtype=dtype)
    A = center(Y).T @ X  # (M, 2M) = Y~^T X
    return A.T @ A


def class_means(group: GroupLike, rows: Rows = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The mean input ``mu_h (M, 2M)`` of each class ``h`` over the rows in use (NaN rows for an
    absent class). ``Y~^T X = diag(c_h) (mu_h - mu)`` with ``mu`` the overall mean, so the linear
    energy is the count-weighted between-class scatter ``1/2 sum_h c_h^2 ((mu_h - mu)^T w)^2``."""
    X, Y = design(group, rows, dtype=dtype)
    c = Y.sum(0)
    return (Y.T @ X) / c[:, None]


# ==============================================================================================
# Chapter thm3_reconstruction (Theorem 3): real Fourier nodes with offsets, complex nodes, the
# complex energy and its ascent, least squares with complex weights, node counts
# ==============================================================================================


def _node_generator(seed: int, key: int) -> torch.Generator:
    """An independent stream per ``(seed, key)`` so that more nodes per frequency extend, not redraw."""
    return torch.Generator().manual_seed(int(seed) * 1_000_003 + int(key))


def real_fourier_nodes(
    M: int,
    per_freq: int,
    offset: float = 0.0,
    seed: int = 0,
    layout: str = "random",
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real maxima ``[u; +-P u'] / ||.||`` of ``Z_M`` (:func:`fourier_node`), ``per_freq`` per frequency.

    Frequencies ``j = 1 .. M // 2``. Column ``r * nf + i`` is node ``r`` of the ``i``-th frequency
    (round robin, ``nf`` frequencies), so the first ``K`` columns spread evenly over frequencies,
    and a larger ``per_freq`` only appends nodes (each frequency has its own random stream).

    ``layout="random"``: node ``r`` has a uniform common phase ``phi``, an offset
    ``delta = offset * N(0, 1)`` between its halves and sign ``+`` for even ``r``, ``-`` for odd
    ``r``. ``offset = 0`` gives the paper's exact maxima ``[u; +-P u]``.

    ``layout="quadrature"`` (``per_freq`` a multiple of 4): blocks of four ``+`` nodes with
    ``(phi_1, delta_1), (phi_1 + pi/2, delta_1), (phi_2, delta_2), (phi_2 + pi/2, delta_2)``,
    ``delta_i = offset * N(0, 1)``. Two nodes whose common phases differ by ``pi/2`` have
    opposite ``cos(2 phi)`` parts, so their sum is the label feature ``cos(2 pi j h / M - delta)``
    plus a constant: one block gives both label features of the frequency whenever
    ``delta_1 != delta_2 (mod pi)``.

    Returns ``(W (2M, nf * per_freq), freq (nf * per_freq,))``. Every node is a maximum of
    :func:`energy` with ``sigma = x^2`` (``E`` does not depend on ``phi`` or ``delta``).
    """
    if not isinstance(M, int) or M < 3:
        raise ValueError(f"M: must be an integer >= 3; got {M!r}")
    if per_freq < 1:
        raise ValueError(f"per_freq: must be >= 1; got {per_freq}")
    if layout not in ("random", "quadrature"):
        raise ValueError(f"layout: expected 'random' or 'quadrature'; got {layout!r}")
    if layout == "quadrature" and per_freq % 4:
        raise ValueError(f"per_freq: must be a multiple of 4 for layout='quadrature'; got {per_freq}")
    freqs = list(range(1, M // 2 + 1))
    nodes: dict[int, list[torch.Tensor]] = {}
    for j in freqs:
        gen = _node_generator(seed, j)
        cols = []
        if layout == "random":
            for r in range(per_freq):
                phi = 2 * math.pi * float(torch.rand(1, generator=gen, dtype=torch.float64))
                delta = offset * float(torch.randn(1, generator=gen, dtype=torch.float64))
                cols.append(fourier_node(M, j, phase=phi, sign=1 if r % 2 == 0 else -1, offset=delta, dtype=dtype))
        else:
            for _ in range(per_freq // 4):
                ph = 2 * math.pi * torch.rand(2, generator=gen, dtype=torch.float64)
                de = offset * torch.randn(2, generator=gen, dtype=torch.float64)
                for phi, delta in ((ph[0], de[0]), (ph[0] + math.pi / 2, de[0]), (ph[1], de[1]), (ph[1] + math.pi / 2, de[1])):
                    cols.append(fourier_node(M, j, phase=float(phi), sign=1, offset=float(delta), dtype=dtype))
        nodes[j] = cols
    W = torch.stack([nodes[j][r] for r in range(per_freq) for j in freqs], dim=1)
    freq = torch.tensor([j for _ in range(per_freq) for j in freqs], dtype=torch.long)
    return W, freq


def exact_maxima_residual(M: int) -> float:
    """Relative residual ``||Y~ - Y^|| / ||Y~||`` left by *any* number of exact real maxima
    ``[u; +-P u]`` of ``Z_M`` (least squares, ``eta = 0``): ``sqrt(floor((M-1)/2) / (M-1))``,
    i.e. ``1/sqrt 2`` for odd ``M``.

    Why: with ``u_m = cos(w j m + phi)`` (``w = 2 pi / M``) and ``(P u)_b = u_{-b}``,
    ``sigma(u_a + u_{-b}) = u_a^2 + u_{-b}^2 + cos(w j (a+b)) + cos(w j (a-b) + 2 phi)``: of the
    label ``h = a + b`` only ``cos(w j h)`` appears, never ``sin(w j h)``. ``Y~`` has the same
    energy in each of the ``M - 1`` nontrivial characters, so each complex pair ``{j, -j}`` loses
    the sine half, ``1/(M-1)`` of ``||Y~||^2``; the real frequency ``M/2`` (even ``M``) loses nothing.
    """
    if not isinstance(M, int) or M < 3:
        raise ValueError(f"M: must be an integer >= 3; got {M!r}")
    return math.sqrt(((M - 1) // 2) / (M - 1))


def theorem3_width(group: GroupLike) -> tuple[int, int]:
    """The width Theorem 3 says suffices, ``K = 2 sum_{k != 0} m_k^2 d_k^2`` (``m_k = d_k`` for the
    regular representation), and the paper's bound ``2 [(M - kappa)^2 + kappa - 1]`` with ``kappa``
    the number of nontrivial irreps (paper-li2 §1.4). ``Z_M``: ``(2M - 2, 2M - 2)``."""
    g = _group(group)
    if not hasattr(g, "irrep_dims"):
        raise ValueError("group: theorem3_width needs a group name or a li2core.groups.Group (irreps)")
    dims = list(g.irrep_dims())
    M = g.order
    kappa = len(dims) - 1
    K = 2 * sum(d**4 for d in dims[1:])
    return K, 2 * ((M - kappa) ** 2 + kappa - 1)


def memorization_nodes(M: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """One node per pair: column ``r`` is ``(e_a + e_{M+b}) / sqrt 2`` for ``(a, b) = (r // M, r % M)``
    (the ``M^2``-node memorisation solution Theorem 3 compares with). Shape ``(2M, M^2)``."""
    if not isinstance(M, int) or M < 2:
        raise ValueError(f"M: must be an integer >= 2; got {M!r}")
    r = torch.arange(M * M)
    W = torch.zeros(2 * M, M * M, dtype=dtype)
    W[r // M, r] = 1 / math.sqrt(2)
    W[M + r % M, r] = 1 / math.sqrt(2)
    return W


def feature_rank(nodes: torch.Tensor, group: GroupLike, rtol: float = 1e-8) -> int:
    """Numerical rank of the centred features ``F~ = P_1^perp sigma(X W)`` (``sigma = x^2``, all
    pairs; complex ``W``: the real rank of ``[Re F~, Im F~]``), counting singular values above
    ``rtol * sigma_max``. With learned maxima converged to ``~1e-12`` this is the dimension of the
    span the nodes can reach, free of the noise a machine-epsilon threshold would count."""
    W = nodes[:, None] if nodes.dim() == 1 else nodes
    p = _pairs(group, None, None, torch.float64, W.device)
    F = (W[p.a] + W[p.M + p.b]) ** 2
    Ft = center(F)
    if Ft.is_complex():
        Ft = torch.cat([Ft.real, Ft.imag], dim=1)
    sv = torch.linalg.svdvals(Ft)
    return int((sv > rtol * sv[0]).sum()) if sv.numel() and sv[0] > 0 else 0


def complex_fourier_node(
    M: int, k: int, ratio: complex = 1.0, phase: float = 0.0, dtype: torch.dtype = torch.complex128
) -> torch.Tensor:
    """The complex node ``w = [chi_k; ratio chi_k] e^{i phase} / ||.||`` of ``Z_M``,
    ``chi_k(m) = exp(2 pi i k m / M)`` (both *raw* halves the same character).

    With ``sigma(x) = x^2`` applied to complex pre-activations (the author's ``use_complex_weights``),
    pair ``(a, b)`` gives ``(alpha chi_k(a) + beta chi_k(b))^2 = alpha^2 chi_{2k}(a) + beta^2 chi_{2k}(b)
    + 2 alpha beta chi_k(a + b)``: the last term is the label character. In the paper's
    ``w = [u; P v]`` notation this is ``v = ratio * conj(u)``, i.e. ``[u; +-P conj(u)]`` for
    ``ratio = +-1``. For ``|ratio| = 1`` (any phase) these are the maxima of :func:`energy_complex`
    with ``E = M/2`` (``2 k != 0 mod M``).
    """
    if not 0 < k < M:
        raise ValueError(f"k: must lie in 1..M-1 = 1..{M - 1}; got {k}")
    m = torch.arange(M, dtype=torch.float64)
    chi = torch.exp(1j * (2.0 * math.pi * k * m / M + phase))
    w = torch.cat([chi, complex(ratio) * chi])
    return (w / w.norm()).to(dtype)


def complex_fourier_nodes(
    M: int, per_irrep: int, seed: int = 0, layout: str = "pm", irreps: str = "all"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Complex nodes :func:`complex_fourier_node`, ``per_irrep`` for each character ``k``, round robin
    (column ``r * n_k + i`` is node ``r`` of the ``i``-th character; own random stream per ``k``).

    ``irreps="all"``: ``k = 1 .. M-1``; ``"half"``: ``k = 1 .. M // 2`` (one of each conjugate pair).
    ``layout="pm"``: ratios ``+1, -1, +1, ...`` (the paper's ``+-`` pairs) with a uniform common
    phase; ``"random"``: ratio ``e^{i theta}`` with uniform ``theta`` (a generic point of the set
    of maxima, as ascent from random starts finds). Returns ``(W (2M, K) complex128, k (K,))``.
    """
    if per_irrep < 1:
        raise ValueError(f"per_irrep: must be >= 1; got {per_irrep}")
    if layout not in ("pm", "random"):
        raise ValueError(f"layout: expected 'pm' or 'random'; got {layout!r}")
    if irreps not in ("all", "half"):
        raise ValueError(f"irreps: expected 'all' or 'half'; got {irreps!r}")
    ks = list(range(1, M)) if irreps == "all" else list(range(1, M // 2 + 1))
    nodes = {}
    for k in ks:
        gen = _node_generator(seed, 10_000 + k)
        cols = []
        for r in range(per_irrep):
            phase = 2 * math.pi * float(torch.rand(1, generator=gen, dtype=torch.float64))
            theta = 2 * math.pi * float(torch.rand(1, generator=gen, dtype=torch.float64))
            ratio = (1.0 if r % 2 == 0 else -1.0) if layout == "pm" else complex(math.cos(theta), math.sin(theta))
            cols.append(complex_fourier_node(M, k, ratio=ratio, phase=phase))
        nodes[k] = cols
    W = torch.stack([nodes[k][r] for r in range(per_irrep) for k in ks], dim=1)
    return W, torch.tensor([k for _ in range(per_irrep) for k in ks], dtype=torch.long)


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
    Y = torch.zeros(p.n, p.M, dtype=torch.float64, device=W.device)
    Y[torch.arange(p.n, device=W.device), p.y] = 1.0
    Ft, Yt = center(F), center(Y)
    K = W.shape[1]
    if readout == "real":
        A = torch.cat([Ft.real, -Ft.imag], dim=1)
        x = torch.linalg.pinv(A, rtol=rtol) @ Yt
        V = torch.complex(x[:K], x[K:])
        R = Yt - A @ x
        rank = int(torch.linalg.matrix_rank(A))
    else:
        Yc = Yt.to(W.dtype)
        V = torch.linalg.pinv(Ft, rtol=rtol) @ Yc
        R = Yc - Ft @ V
        rank = int(torch.linalg.matrix_rank(Ft))
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
    ``{"K", "residual", "rank", "V_norm"}``."""
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
    :func:`reconstruction_curve` evenly over irreps."""
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
    """
    if not w.is_complex():
        w = w.to(torch.complex128)
    q = _grid(group, rows, weights, torch.float64, w.device)
    w2, lead = _flat(w, q.M)
    E, G = _complex_grid_energy_grad(w2, q)
    return E.reshape(lead), G.reshape(w.shape)


def random_complex_starts(B: int, M: int, seed: int) -> torch.Tensor:
    """``B`` seeded complex Gaussian starts ``(B, 2M)`` (complex128) on the unit sphere of C^{2M}."""
    g = torch.Generator().manual_seed(int(seed))
    w = torch.complex(torch.randn(B, 2 * M, generator=g, dtype=torch.float64), torch.randn(B, 2 * M, generator=g, dtype=torch.float64))
    return w / w.norm(dim=-1, keepdim=True)


def project_ascent_complex(
    w0: torch.Tensor,
    group: GroupLike,
    steps: int = 5000,
    lr: float = 1.0,
    tol: float = 1e-7,
    atol: float = 1e-12,
    rows: Rows = None,
    weights: Weights = None,
) -> AscentResult:
    """Projected gradient ascent of :func:`energy_complex` on the unit sphere of C^{2M} (= R^{4M}),
    the complex counterpart of :func:`project_ascent` with the same step rule (dimensionless step,
    Barzilai-Borwein after accepted steps, halving after rejected ones, Armijo's condition) and the
    same stopping tests, with the real inner product ``Re <a, b>``. ``w0``: ``(B, 2M)`` complex.
    """
    squeeze = w0.dim() == 1
    w = (w0[None] if squeeze else w0).to(torch.complex128)
    w = w / w.norm(dim=-1, keepdim=True)
    q = _grid(group, rows, weights, torch.float64, w.device)
    if w.shape[-1] != 2 * q.M:
        raise ValueError(f"w0: last dimension must be 2M = {2 * q.M}; got {tuple(w0.shape)}")
    Bn = w.shape[0]
    E, G = _complex_grid_energy_grad(w, q)
    s = torch.full((Bn,), float(lr), dtype=torch.float64)
    nsteps = torch.zeros(Bn, dtype=torch.long)
    tiny, eps = torch.finfo(torch.float64).tiny, torch.finfo(torch.float64).eps

    def rdot(a, b):
        return (a.conj() * b).real.sum(-1)

    def tangent(wb, Gb):
        gt = Gb - rdot(wb, Gb)[:, None] * wb
        return gt, Gb.norm(dim=-1), gt.norm(dim=-1)

    def rel(gtn_, gn_):
        return torch.where(gtn_ <= atol, torch.zeros_like(gtn_), gtn_ / gn_.clamp_min(tiny))

    gt, gn, gtn = tangent(w, G)
    ratio = rel(gtn, gn)
    stalled = torch.zeros(Bn, dtype=torch.bool)
    for _ in range(steps):
        idx = ((ratio > tol) & ~stalled).nonzero().squeeze(-1)
        if idx.numel() == 0:
            break
        wb, Eb, Gb, gtb, gnb, gtnb, sb = w[idx], E[idx], G[idx], gt[idx], gn[idx], gtn[idx], s[idx]
        alpha = sb / gnb.clamp_min(tiny)
        cand = wb + alpha[:, None] * gtb
        cand = cand / cand.norm(dim=-1, keepdim=True)
        Ec, Gc = _complex_grid_energy_grad(cand, q)
        ok = Ec >= Eb + 1e-4 * alpha * gtnb.pow(2) - 8 * eps * Eb.abs()
        w_old = wb
        wb = torch.where(ok[:, None], cand, wb)
        Gb = torch.where(ok[:, None], Gc, Gb)
        w[idx], G[idx], E[idx] = wb, Gb, torch.where(ok, Ec, Eb)
        gt_new, gn_new, gtn_new = tangent(wb, Gb)
        dw = wb - w_old
        curv = -rdot(dw, gt_new - gtb)
        s_bb = gn_new * dw.abs().pow(2).sum(-1) / curv.clamp_min(tiny)
        grown = torch.where(curv > 0, s_bb, sb * 2.0)
        sb = torch.where(ok, grown.clamp(1e-8, 1e6), sb * 0.5)
        s[idx] = sb
        stalled[idx] = sb < 1e-14
        nsteps[idx] += 1
        gt[idx], gn[idx], gtn[idx] = gt_new, gn_new, gtn_new
        ratio[idx] = rel(gtn_new, gn_new)
    converged = ratio <= tol
    res = AscentResult(w=w, E=E, steps=nsteps, converged=converged, grad_ratio=gtn / gn.clamp_min(tiny),
                       stalled=stalled & ~converged)
    if squeeze:
        res = AscentResult(*(x[0] for x in res))
    return res


def cyclic_spectrum(w: torch.Tensor, M: int) -> torch.Tensor:
    """Power fraction of a node of ``Z_M`` in each character ``k`` (``(..., 2M)`` → ``(..., M)``):
    ``(|<chi_k, u>|^2 + |<chi_k, v>|^2) / (M ||w||^2)`` for the raw halves ``u = w[:M]``,
    ``v = w[M:]``, ``chi_k(m) = exp(2 pi i k m / M)``. Sums to 1. For complex nodes, where ``k`` and
    ``M - k`` are different features (real nodes have equal power in both)."""
    if w.shape[-1] != 2 * M:
        raise ValueError(f"w: last dimension must be 2M = {2 * M}; got {tuple(w.shape)}")
    wc = w.to(torch.complex128)
    # <chi_k, x> = sum_m conj(chi_k(m)) x_m = fft(x)_k
    U = torch.fft.fft(wc[..., :M], dim=-1)
    V = torch.fft.fft(wc[..., M:], dim=-1)
    P = U.abs().pow(2) + V.abs().pow(2)
    return P / P.sum(-1, keepdim=True)


# ==============================================================================================
# Chapter thm5_memorization (Theorem 5): single-target data, the pair sums s_g, the paper's KKT
# formula, and a small-step projected gradient flow
# ==============================================================================================


def single_target_rows(group: GroupLike, target: int) -> torch.Tensor:
    """The rows ``(g, g^{-1} h)`` for ``g = 0 .. M-1`` of the one target ``h`` (Theorem 5): row
    index ``g M + T[g^{-1}, h]`` into the ``M^2`` pairs. Shape ``(M,)``, ordered by ``g``."""
    T = _table(group)
    M = T.shape[0]
    if not 0 <= int(target) < M:
        raise ValueError(f"target: must lie in 0..M-1 = 0..{M - 1}; got {target}")
    inv = inverse_perm(group)
    g = torch.arange(M)
    b = T[inv, int(target)]
    return g * M + b


def single_target_weights(group: GroupLike, target: int, p: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """Per-row weights ``(M^2,)`` for :func:`energy` / :func:`project_ascent` with ``rows=None``:
    ``p_g`` on the pair ``(g, g^{-1} h)``, 0 on every other pair.

    With all ``M^2`` rows in use the centring is the full data's (``M`` rows per class), so
    ``Y~^T Omega sigma(X w) = z - mean(z)`` with ``z_h = sum_g p_g sigma(s_g)`` and ``z_{h'} = 0``
    otherwise: ``E = 1/2 (1 - 1/M) (sum_g p_g sigma(s_g))^2``, the Theorem 5 objective squared
    (App. A.4's "up to a fixed positive factor"). Restricting ``rows`` to the ``M`` single-target
    pairs instead centres over those rows only; they all have label ``h``, so ``Y~ = 0`` and
    ``E = 0`` identically.
    """
    pv = torch.as_tensor(p, dtype=torch.float64).reshape(-1)
    T = _table(group)
    M = T.shape[0]
    if pv.numel() != M:
        raise ValueError(f"p: expected M = {M} probabilities; got {pv.numel()}")
    if (pv < 0).any():
        raise ValueError("p: probabilities must be nonnegative")
    wts = torch.zeros(M * M, dtype=torch.float64)
    wts[single_target_rows(group, target)] = pv
    return wts


def pair_sums(w: torch.Tensor, group: GroupLike, target: int) -> torch.Tensor:
    """``s_g = u_g + v'_{g^{-1} h}`` (App. A.4) for ``w = [u; v']`` (raw halves): the pre-activation
    of the single-target pair ``(g, g^{-1} h)``. ``(..., 2M)`` → ``(..., M)``."""
    r = single_target_rows(group, target)
    M = r.numel()
    if w.shape[-1] != 2 * M:
        raise ValueError(f"w: last dimension must be 2M = {2 * M}; got {tuple(w.shape)}")
    return w[..., r // M] + w[..., M + r % M]


def memorization_node(s: torch.Tensor | Sequence[float], group: GroupLike, target: int) -> torch.Tensor:
    """Theorem 5's node ``w = 1/2 sum_g s_g [e_g; e_{g^{-1} h}]`` (``(2M,)``, float64): ``u_g =
    v'_{g^{-1} h} = s_g / 2``, so :func:`pair_sums` gives back ``s`` and ``||w||^2 = sum s_g^2 / 2``
    (``= 1`` on the budget ``sum s_g^2 = 2``). For ``s = sqrt 2 e_{g*}`` it is the focused
    ``(e_{g*}, e_{g*^{-1} h}) / sqrt 2``."""
    sv = torch.as_tensor(s, dtype=torch.float64).reshape(-1)
    r = single_target_rows(group, target)
    M = r.numel()
    if sv.numel() != M:
        raise ValueError(f"s: expected M = {M} values; got {sv.numel()}")
    w = torch.zeros(2 * M, dtype=torch.float64)
    w[r // M] = sv / 2
    w[M + r % M] = sv / 2
    return w


#: Activations whose ``phi = sigma'(x) / x`` is nondecreasing on ``(0, sqrt 2]`` (Lemma 6 (A): focused).
_FOCUSED = ("sqr", "relusqr")
#: Activations with strictly decreasing ``phi`` and ``phi(0+) = inf`` (Lemma 6 (B): spreading, all ``s_g > 0``).
_SPREADING = ("relu", "silu", "linear")


def memorization_phi(x: torch.Tensor, activation: str) -> torch.Tensor:
    """``phi(x) = sigma'(x) / x`` (Theorem 5) for ``x > 0``."""
    _, dsig, _ = _act(activation)
    x = torch.as_tensor(x, dtype=torch.float64)
    return dsig(x) / x


def memorization_profile(p: torch.Tensor | Sequence[float], lam: float, activation: str) -> torch.Tensor:
    """``s(p) = phi^{-1}(2 lambda / p)`` (Lemma 5, Eq. 34) for a spreading activation (strictly
    decreasing ``phi`` with ``phi(0+) = inf``), by bisection in ``log x`` (closed form ``p / (2 lambda)``
    for ``relu``/``linear``). ``p``: any shape, positive."""
    if activation not in _SPREADING:
        raise ValueError(f"activation: phi^-1 is only used for {', '.join(_SPREADING)}; got {activation!r}")
    pv = torch.as_tensor(p, dtype=torch.float64)
    y = 2.0 * lam / pv
    if activation in ("relu", "linear"):
        return 1.0 / y
    lo = torch.full_like(y, -60.0)  # log x
    hi = torch.full_like(y, 8.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        big = memorization_phi(torch.exp(mid), activation) > y  # phi decreasing: x too small
        lo = torch.where(big, mid, lo)
        hi = torch.where(big, hi, mid)
    return torch.exp(0.5 * (lo + hi))


def memorization_kkt(p: torch.Tensor | Sequence[float], activation: str) -> tuple[torch.Tensor, float]:
    """Theorem 5's solution by the paper's formulas (Lemma 6), independent of :func:`memorization_reduced`.

    Focused (``phi`` nondecreasing: ``sqr``, ``relusqr``): ``s = sqrt 2 e_{g*}``, ``g* = argmax p``,
    with ``lambda = p_{g*} phi(sqrt 2) / 2``. Spreading (``relu``, ``linear``, ``silu``):
    ``s_g = phi^{-1}(2 lambda / p_g)`` with ``lambda`` fixed by ``sum_g s_g^2 = 2`` (bisection in
    ``log lambda``; ``sum s^2`` decreases in ``lambda``). Returns ``(s, lambda)``.
    """
    pv = torch.as_tensor(p, dtype=torch.float64).reshape(-1)
    if (pv <= 0).any():
        raise ValueError("p: expected positive probabilities")
    if activation in _FOCUSED:
        s = torch.zeros_like(pv)
        gs = int(pv.argmax())
        s[gs] = math.sqrt(2.0)
        return s, float(pv[gs] * memorization_phi(torch.tensor(math.sqrt(2.0)), activation) / 2)
    if activation not in _SPREADING:
        raise ValueError(f"activation: expected one of {', '.join(_FOCUSED + _SPREADING)}; got {activation!r}")
    lo, hi = math.log(1e-12), math.log(1e12)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        tot = float(memorization_profile(pv, math.exp(mid), activation).pow(2).sum())
        if tot > 2.0:
            lo = mid
        else:
            hi = mid
    lam = math.exp(0.5 * (lo + hi))
    return memorization_profile(pv, lam, activation), lam


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
    zero gradient (a dead ``relu`` pair) only shrinks. ``w0 (B, 2M)``; returns ``(w, E)``."""
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


# ---------------------------------------------------------------------- chapter thm3_reconstruction (continued)


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


def exact_maxima_prediction(M: int) -> torch.Tensor:
    """What least squares on exact real maxima ``[u; +-P u]`` of ``Z_M`` reconstructs: the cosine half
    of ``Y~``, ``Y^[(a, b), c] = (2/M) sum_{j=1}^{(M-1)/2} cos(w j h) cos(w j c)`` with ``h = a + b``,
    ``w = 2 pi / M`` (plus ``(-1)^{h+c} / M`` for even ``M``). ``Y~`` itself has the extra
    ``sin(w j h) sin(w j c)`` terms. Rows: the ``M^2`` pairs ``(r // M, r % M)``. Shape ``(M^2, M)``."""
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


def fourier_offset(w: torch.Tensor, M: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Frequency ``j`` and offset ``delta`` of real nodes ``w = [u; P u']`` of ``Z_M`` (``(..., 2M)``).

    ``j`` maximises ``|u^_j|`` over ``1 .. M // 2``; ``delta = arg(u'^_j / u^_j)`` in ``(-pi, pi]``
    with ``u'_m = w[M + (-m mod M)]`` (undoing ``P``). For :func:`fourier_node` this is ``offset``
    for ``sign = +1`` and ``offset + pi`` for ``sign = -1``; ``sin(delta) = 0`` exactly at the paper's
    ``[u; +-P u]``."""
    if w.shape[-1] != 2 * M:
        raise ValueError(f"w: last dimension must be 2M = {2 * M}; got {tuple(w.shape)}")
    u = w[..., :M].to(torch.float64)
    up = w[..., M:].to(torch.float64)[..., (-torch.arange(M)) % M]
    U, Up = torch.fft.fft(u, dim=-1), torch.fft.fft(up, dim=-1)
    j = U[..., 1 : M // 2 + 1].abs().argmax(dim=-1) + 1
    Uj = U.gather(-1, j[..., None])[..., 0]
    Upj = Up.gather(-1, j[..., None])[..., 0]
    return j, torch.angle(Upj / Uj)


def class_signal(w: torch.Tensor, group: GroupLike, activation: str = "sqr", rows: Rows = None) -> torch.Tensor:
    """``z~ = Y~^T sigma(X w) (M,)``, the per-class signal whose squared norm is ``2 E(w)`` (Eq. 7; the
    ``z_h - z_bar`` of the group form in App. A.1 on full data). Built from the explicit :func:`design`.
    ``w``: ``(2M,)`` → ``(M,)``, or ``(B, 2M)`` → ``(B, M)``."""
    X, Y = design(group, rows, dtype=w.dtype)
    sig, _, _ = _act(activation)
    return sig(w @ X.T.to(w.device)) @ center(Y).to(w.device)


def energy_cross_term(w: torch.Tensor, group: GroupLike, coef: float = 1.0, rows: Rows = None) -> torch.Tensor:
    """``1/2 || Y~^T (coef * c) ||^2`` with ``c_i = u_{a_i} v'_{b_i}`` the cross term of
    ``sigma(u_a + v'_b) = u_a^2 + v'_b^2 + 2 u_a v'_b`` (``w = [u; v']``, ``sigma = x^2``; Theorem 2's proof, App. A.1).

    On all ``M^2`` pairs the square terms are the same for every class (each row and column of a Cayley
    table holds every label once), so centring removes them and ``E(w) = energy_cross_term(w, coef=2)``
    exactly, for every ``w``. The proof writes ``S = (u o u) 1^T + 1 (v o v)^T + u v^T``, i.e. ``coef = 1``,
    which is ``E / 4``: the factor 4 between the literal ``E*`` and the paper's ``M/(8 d_k)``, ``M/(16 d_k)``.
    ``w``: ``(2M,)`` → scalar, ``(B, 2M)`` → ``(B,)``.
    """
    p = _pairs(group, rows, None, w.dtype, w.device)
    w2, lead = _flat(w, p.M)
    c = coef * w2[:, p.a] * w2[:, p.M + p.b]  # (B, n)
    Y = torch.nn.functional.one_hot(p.y, p.M).to(w.dtype)
    z = c @ center(Y)  # (B, M)
    return 0.5 * z.pow(2).sum(-1).reshape(lead)


# ---------------------------------------------------------------------- chapter thm5_memorization (continued)


def single_target_probabilities(M: int, seed: int, low: float = 0.2, high: float = 1.2) -> torch.Tensor:
    """Sampling probabilities ``p_g`` for Theorem 5: ``U(low, high)`` draws (seeded, CPU) normalised to sum
    1. Raises ``ValueError`` unless the maximum is unique (the theorem's assumption). ``(M,)`` float64."""
    if not isinstance(M, int) or M < 2:
        raise ValueError(f"M: must be an integer >= 2; got {M!r}")
    if not 0 <= low < high:
        raise ValueError(f"low, high: need 0 <= low < high; got {low}, {high}")
    g = torch.Generator().manual_seed(int(seed))
    x = low + (high - low) * torch.rand(M, generator=g, dtype=torch.float64)
    p = x / x.sum()
    if int((p == p.max()).sum()) != 1:
        raise ValueError(f"seed: p has no unique maximum for seed {seed}; choose another seed")
    return p


def memorization_objective(s: torch.Tensor, p: torch.Tensor | Sequence[float], activation: str) -> torch.Tensor:
    """Theorem 5's reduced objective ``F(s) = sum_g p_g sigma(s_g)`` (App. A.4), which is also
    ``z_h`` of the single-target data at a node with pair sums ``s`` (:func:`pair_sums`).
    ``s``: ``(..., M)`` → ``(...)``."""
    sig, _, _ = _act(activation)
    pv = torch.as_tensor(p, dtype=s.dtype)
    return (pv * sig(s)).sum(-1)


# ==============================================================================================
# Chapter stage1_lazy (Stage I: Prop. 1-4, Eq. 3-5, Lemma 1, zero-init): frozen features at the
# author's init, the exact lazy gradient flow, Eq. 4 through the SVD (any rank, eta >= 0), the
# plateau-slope bound and Lemma 1 measurements.
# ==============================================================================================

import contextlib as _contextlib  # noqa: E402


class FrozenFeatures(NamedTuple):
    """Output of :func:`frozen_features`: ``F = sigma(X W) (n, K)`` and one-hot ``Y (n, M)`` on the
    training rows ``rows (n,)``, the author's ``W (2M, K)`` and ``V0 (K, M)`` (multiplier 1)."""

    F: torch.Tensor
    Y: torch.Tensor
    W: torch.Tensor
    V0: torch.Tensor
    rows: torch.Tensor


def frozen_features(
    group: str,
    train_frac: float,
    width: int,
    seed: int = 0,
    activation: str = "sqr",
    dtype: torch.dtype = torch.float64,
) -> FrozenFeatures:
    """The lazy stage's frozen features (Prop. 1): ``F = sigma(X W)`` at the author's initialisation.

    The split is :func:`li2core.tasks.split` ``(group, train_frac, seed)`` and ``W, V0`` are
    :func:`li2core.models.init_weights` ``(M, width, seed)`` -- the same split and weights that
    :func:`li2core.train` uses at epoch 0 for a run with this ``seed`` (there in float32). ``X W``
    is a row lookup (``W[a] + W[M + b]``). Raises ``ValueError`` naming a bad parameter.
    """
    from .models import init_weights
    from .tasks import make_task, split

    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError(f"width: must be an integer >= 1; got {width!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be an integer >= 0; got {seed!r}")
    sig, _, _ = _act(activation)
    task = make_task(group)  # ValueError for an unknown group
    sp = split(task, train_frac, seed)  # ValueError for a bad fraction
    W, V0 = init_weights(task.M, width, seed, dtype=torch.float64)
    a, b = task.a[sp.train], task.b[sp.train]
    F = sig(W[a] + W[task.M + b])
    Y = torch.nn.functional.one_hot(task.y[sp.train], task.M).to(torch.float64)
    return FrozenFeatures(F=F.to(dtype), Y=Y.to(dtype), W=W.to(dtype), V0=V0.to(dtype), rows=sp.train)


class _ThinSVD(NamedTuple):
    U: torch.Tensor  # (n, r)
    s: torch.Tensor  # (r,) nonzero singular values of F~, descending
    Q: torch.Tensor  # (K, r)
    Yt: torch.Tensor
    Ft: torch.Tensor


#: One-entry cache of :func:`_thin_svd` (the chapter calls several functions on the same ``F, Y``).
_SVD_CACHE: list = []


@_contextlib.contextmanager
def _few_threads(work: float):
    """Run torch on one thread inside the block when ``work`` (a flop count) is below 2e9.

    For the small SVDs and ``M x M`` products of this section threads never help, and on a loaded
    2-core machine a threaded SVD of a 211 x 1000 matrix was measured at ~2.4 s instead of ~0.03 s
    (the same effect as :func:`li2core.groups._single_thread_blas` for numpy)."""
    prev = torch.get_num_threads()
    one = work < 2e9 and prev != 1
    if one:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if one:
            torch.set_num_threads(prev)


def _rank_tol(s: torch.Tensor, shape: tuple[int, ...]) -> float:
    return max(shape) * torch.finfo(s.dtype).eps * (float(s[0]) if s.numel() else 0.0)


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
    with _few_threads(4.0 * n * K * min(n, K)):
        U, s, Qh = torch.linalg.svd(Ft, full_matrices=False)
    r = int((s > _rank_tol(s, tuple(F.shape))).sum())
    res = _ThinSVD(U=U[:, :r], s=s[:r], Q=Qh[:r].T, Yt=Yt, Ft=Ft)
    _SVD_CACHE[:] = [(F, Y, F._version, Y._version, res)]
    return res


def gram_spectrum(F: torch.Tensor) -> torch.Tensor:
    """The nonzero eigenvalues of ``F~^T F~`` (equivalently of ``F~ F~^T``), ascending.

    ``lambda_min`` of this list is the rate ``sigma_min(F~)^2`` of Prop. 3/4 (restricted to the
    range of ``F~`` when ``F~`` is rank deficient, e.g. ``K > n - 1``). ``F (n, K)``."""
    n, K = F.shape[-2], F.shape[-1]
    with _few_threads(2.0 * n * K * min(n, K)):
        s = torch.linalg.svdvals(center(F))
    s = s[s > _rank_tol(s, tuple(F.shape))]
    return (s**2).flip(0)


def realizability_residual(F: torch.Tensor, Y: torch.Tensor) -> float:
    """``||(I - Pi) Y~||_F / ||Y~||_F`` with ``Pi`` the projector on the column span of ``F~``.

    0 (to round-off) when ``Y~`` lies in the span of ``F~`` -- the realizable case of Prop. 3,
    generic when ``rank F~ = n - 1`` (``K >= n - 1``); of order 1 when ``K < n - 1``."""
    sv = _thin_svd(F, Y)
    R = sv.Yt - sv.U @ (sv.U.T @ sv.Yt)
    return float(R.norm() / sv.Yt.norm())


def _eq4_from_svd(sv: _ThinSVD, eta: float) -> torch.Tensor:
    # P_eta = I - U s^2/(s^2+eta) U^T, F~ B = U s/(s^2+eta) Q^T (on the range; 0 on the null space)
    Z = sv.Yt @ (sv.Yt.T @ sv.U)  # Y~ Y~^T U  (n, r)
    PZ = Z - sv.U @ ((sv.s**2 / (sv.s**2 + eta))[:, None] * (sv.U.T @ Z))
    return PZ @ ((sv.s / (sv.s**2 + eta))[:, None] * sv.Q.T)


def G_F_fixed_point(F: torch.Tensor, Y: torch.Tensor, eta: float) -> torch.Tensor:
    """Eq. 4, ``G_F(+inf) = P_eta Y~ Y~^T F~ B``, computed through the thin SVD of ``F~``.

    For ``eta > 0`` it equals :func:`G_F_infinity` (which inverts ``K x K`` and ``n x n``
    matrices); it also works when ``F~`` is rank deficient and gives the limit ``eta -> 0+``
    at ``eta = 0`` (the fixed point of the flow from a ``V(0)`` with no component in the null space
    of ``F~``): ``(I - Pi) Y~ (F~^+ Y~)^T``, which is 0 in the realizable case (Prop. 3).
    ``F (n, K)``, ``Y (n, M)`` → ``(n, K)``."""
    if eta < 0:
        raise ValueError(f"eta: must be >= 0; got {eta}")
    return _eq4_from_svd(_thin_svd(F, Y), float(eta))


def fixed_point_norms(F: torch.Tensor, Y: torch.Tensor, etas: Sequence[float]) -> torch.Tensor:
    """``||G_F(+inf)||_F`` (Eq. 4, via :func:`G_F_fixed_point`) for each ``eta`` in ``etas``; one SVD."""
    sv = _thin_svd(F, Y)
    out = []
    with _few_threads(4.0 * F.shape[0] * F.shape[1] * Y.shape[1]):
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
    with _few_threads(20.0 * s.numel() * Y.shape[1] ** 2):
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
    ``F~^T F~`` (:func:`gram_spectrum`)."""
    if lam_min <= 0 or eta_max < 0:
        raise ValueError(f"lam_min must be > 0 and eta_max >= 0; got {lam_min}, {eta_max}")
    return 2.0 * eta_max / (lam_min + eta_max)


def loglog_slope(x: Sequence[float] | torch.Tensor, y: Sequence[float] | torch.Tensor) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (all values must be > 0, at least 2 points)."""
    xs = torch.as_tensor(x, dtype=torch.float64).reshape(-1)
    ys = torch.as_tensor(y, dtype=torch.float64).reshape(-1)
    if xs.numel() != ys.numel() or xs.numel() < 2:
        raise ValueError("x, y: need at least two points of equal count")
    if bool((xs <= 0).any() or (ys <= 0).any()):
        raise ValueError("x, y: log-log slope needs positive values")
    lx, ly = xs.log(), ys.log()
    lx0 = lx - lx.mean()
    return float((lx0 * (ly - ly.mean())).sum() / (lx0 * lx0).sum())


def lemma1_measures(F: torch.Tensor, Y: torch.Tensor, eta: float) -> dict[str, float]:
    """How close Lemma 1 / Eq. 5 comes to the exact Eq. 4 for given frozen features.

    Returns a dict: ``n, K, rank`` (of ``F~``), ``cond`` (``lambda_max / lambda_min`` of the nonzero
    spectrum of ``F~^T F~``), ``realizability_residual``, ``ftf_offdiag_ratio`` (mean |off-diag| /
    mean |diag| of ``F~^T F~``), ``fft_offdiag_ratio`` (same for ``P_1^perp F F^T``),
    ``fft_dist_ideal`` (relative distance of ``F F^T`` from ``a I + b 1 1^T``, the form in Lemma 1's
    proof; :func:`li2core.measures.fft_dist_ideal`), ``c1, c2``
    (:func:`lemma1_constants`), ``G_inf_norm`` (``||Eq. 4||``), ``cos_signal``
    (``cos(Eq. 4, Y~ Y~^T F~)``; Eq. 5 is a multiple of ``Y~ Y~^T F~``, so this is also
    ``cos(Eq. 4, Eq. 5)``), ``eq5_rel_err`` (``||Eq. 5 - Eq. 4|| / ||Eq. 4||``), ``norm_ratio``
    (``||Eq. 5|| / ||Eq. 4||``) and ``prefactor_ratio`` (Eq. 5's scalar
    ``eta / ((K c1 + eta)(n c2 + eta))`` over the best scalar ``<Eq. 4, S> / ||S||^2``,
    ``S = Y~ Y~^T F~``).
    """
    from .measures import fft_dist_ideal, fft_offdiag_ratio, ftf_offdiag_ratio

    n, K = F.shape
    sv = _thin_svd(F, Y)
    G4 = _eq4_from_svd(sv, float(eta))
    S = sv.Yt @ (sv.Yt.T @ sv.Ft)
    c1, c2 = lemma1_constants(F)
    kappa5 = eta / ((K * c1 + eta) * (n * c2 + eta))
    G5 = kappa5 * S
    kbest = float((G4 * S).sum() / (S * S).sum())
    ones = torch.ones(1, n, dtype=F.dtype)
    lam = sv.s**2
    R = sv.Yt - sv.U @ (sv.U.T @ sv.Yt)
    return {
        "n": n,
        "K": K,
        "rank": int(sv.s.numel()),
        "cond": float(lam[0] / lam[-1]),
        "lam_min": float(lam[-1]),
        "lam_max": float(lam[0]),
        "realizability_residual": float(R.norm() / sv.Yt.norm()),
        "ftf_offdiag_ratio": float(ftf_offdiag_ratio(F[None], ones)[0]),
        "fft_offdiag_ratio": float(fft_offdiag_ratio(F[None], ones)[0]),
        "fft_dist_ideal": float(fft_dist_ideal(F[None], ones)[0]),
        "c1": c1,
        "c2": c2,
        "G_inf_norm": float(G4.norm()),
        "cos_signal": cosine(G4, S),
        "eq5_rel_err": float((G5 - G4).norm() / G4.norm()) if float(G4.norm()) > 0 else float("nan"),
        "norm_ratio": float(G5.norm() / G4.norm()) if float(G4.norm()) > 0 else float("nan"),
        "prefactor_ratio": kappa5 / kbest if kbest != 0 else float("nan"),
    }


def lemma1_sweep(
    group: str,
    widths: Sequence[int],
    train_fracs: Sequence[float],
    etas: Sequence[float],
    seed: int = 0,
    activation: str = "sqr",
):
    """:func:`lemma1_measures` on :func:`frozen_features` for every (width, train_frac, eta).

    Returns a tidy :class:`pandas.DataFrame`, one row per ``(K, p, eta)`` with the columns of
    :func:`lemma1_measures` plus ``p``, ``eta``, ``K_over_n1 = K / (n - 1)``."""
    import pandas as pd

    rows = []
    for p in train_fracs:
        for K in widths:
            ff = frozen_features(group, p, int(K), seed=seed, activation=activation)
            n = ff.F.shape[0]
            for eta in etas:
                with _few_threads(4.0 * n * K * min(n, K)):
                    d = lemma1_measures(ff.F, ff.Y, float(eta))
                d.update(p=float(p), eta=float(eta), K_over_n1=d["K"] / (d["n"] - 1))
                rows.append(d)
    return pd.DataFrame(rows)


# ==============================================================================================
# Chapter fig5_scaling_law: Theorem 4 directly (do the Fourier maxima survive subsampling?) and the
# energy of learned nodes (Figs. 6-7)
# ==============================================================================================


def maxima_survival(
    M: int,
    p: float,
    n_subsets: int = 4,
    seed: int = 0,
    purity_min: float = 0.9,
    steps: int = 2000,
    tol: float = 1e-7,
    activation: str = "sqr",
    device: str | torch.device = "cpu",
):
    """Theorem 4 directly: do the Fourier maxima of ``E`` survive when ``E`` is built from a random subset?

    For each of ``n_subsets`` training sets of fraction ``p`` (subset ``s`` is
    ``li2core.tasks.split(Z_M, p, seed + s).train``: the rule the training runs use, ``n = M^2 - ceil((1 - p)
    M^2)`` pairs; for a fixed subset seed the sets are nested in ``p``) and each frequency
    ``j = 1 .. M // 2``, start at the unit-norm maximum ``fourier_node(M, j, phase)`` of the full-data
    energy (a random phase per start, drawn from ``torch.Generator().manual_seed(seed)``) and run
    :func:`project_ascent` (``steps``, ``tol``) on the *subsampled* energy
    ``E^(w) = 1/2 ||Y~_S^T sigma(X_S w)||^2`` (:func:`energy` with ``rows`` = the subset; ``Y~`` centred over
    the subset; a uniform Horvitz-Thompson weight ``1/p`` would only rescale ``E^``).

    A start *survives* when the ascent ends at a node that is still single-frequency: at least
    ``purity_min`` of its power (:func:`li2core.groups.purity`, both halves) in the start's real isotypic
    component. Returns a :class:`pandas.DataFrame`, one row per (subset, frequency): ``M, p, n_train,
    subset, freq, E_full`` (``E`` at the start, all ``M^2`` rows), ``E_start`` (``E^`` at the start),
    ``E_final`` (``E^`` at the end), ``purity`` (end power share in the start's component), ``dominant``
    (the end's largest component), ``survived``, ``converged``, ``steps``. ``device``: where the ascent runs
    (``"auto"``: CUDA when available; the starts and subsets are drawn on the CPU either way).
    """
    import numpy as np
    import pandas as pd

    from .groups import purity as _purity
    from .tasks import make_task, split

    if not isinstance(M, int) or M < 3:
        raise ValueError(f"M: must be an integer >= 3; got {M!r}")
    if not 0.0 < float(p) <= 1.0:
        raise ValueError(f"p: must lie in (0, 1]; got {p!r}")
    if not isinstance(n_subsets, int) or n_subsets < 1:
        raise ValueError(f"n_subsets: must be an integer >= 1; got {n_subsets!r}")
    if not 0.0 < purity_min <= 1.0:
        raise ValueError(f"purity_min: must lie in (0, 1]; got {purity_min!r}")
    if isinstance(device, str) and device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    group = _make_group(f"Z{M}")
    task = make_task(group)
    freqs = list(range(1, M // 2 + 1))
    gen = torch.Generator().manual_seed(int(seed))
    out = []
    for s in range(n_subsets):
        rows = split(task, float(p), int(seed) + s).train
        phases = torch.rand(len(freqs), generator=gen, dtype=torch.float64) * 2 * math.pi
        w0 = torch.stack([fourier_node(M, j, phase=float(ph)) for j, ph in zip(freqs, phases)])
        comp0 = _purity(w0.numpy(), group).argmax(-1)
        w0 = w0.to(dev)
        E_full = energy(w0, group, activation).cpu()
        E0 = energy(w0, group, activation, rows=rows.to(dev)).cpu()
        res = project_ascent(w0, group, activation, steps=steps, rows=rows.to(dev), tol=tol)
        res = AscentResult(*(x.cpu() for x in res))
        pur = _purity(res.w.numpy(), group)
        share = pur[np.arange(len(freqs)), comp0]
        out.append(pd.DataFrame({
            "M": M, "p": float(p), "n_train": int(rows.numel()), "subset": s, "freq": freqs,
            "E_full": E_full.numpy(), "E_start": E0.numpy(), "E_final": res.E.numpy(), "purity": share,
            "dominant": pur.argmax(-1), "survived": share >= purity_min,
            "converged": res.converged.numpy(), "steps": res.steps.numpy(),
        }))
    return pd.concat(out, ignore_index=True)


def node_energies(
    W: torch.Tensor,
    group: GroupLike,
    rows: Rows = None,
    active_frac: float = 0.1,
    activation: str = "sqr",
):
    """Per hidden node of a trained net (Fig. 7): its norm, whether it is *active*, and the energy and Fourier
    purity of its direction.

    ``W`` is the ``(2M, K)`` hidden layer (column ``j`` is node ``w_j``, as :meth:`Results.final_weights
    <li2core.train.Results.final_weights>` returns it). Each column is normalised to unit Euclidean norm over
    all ``2M`` entries (Stage II's constraint ``||w|| = 1``) and ``E`` (Eq. 7) is evaluated on ``rows`` (the
    run's training pairs; ``Y~`` centred over them). Weight decay drives unused nodes to ~0, where the
    direction is noise: a node is ``active`` when ``||w_j|| >= active_frac * max_j ||w_j||``.
    Returns a :class:`pandas.DataFrame` with ``node, norm, active, E, purity`` (largest power share of a real
    isotypic component) and ``component`` (its index).
    """
    import numpy as np
    import pandas as pd

    from .groups import purity as _purity

    if W.dim() != 2:
        raise ValueError(f"W: expected the (2M, K) hidden layer; got shape {tuple(W.shape)}")
    g = _group(group)
    if W.shape[0] != 2 * g.order:
        raise ValueError(f"W: first dimension must be 2M = {2 * g.order}; got {tuple(W.shape)}")
    w = W.detach().T.to(torch.float64).cpu()
    norm = w.norm(dim=1)
    u = w / norm.clamp_min(torch.finfo(torch.float64).tiny)[:, None]
    E = _energy_chunked(u, g, activation, rows)
    pur = _purity(u.numpy(), g)
    return pd.DataFrame({
        "node": np.arange(w.shape[0]), "norm": norm.numpy(), "active": (norm >= active_frac * norm.max()).numpy(),
        "E": E.numpy(), "purity": pur.max(-1), "component": pur.argmax(-1),
    })


def _energy_chunked(u: torch.Tensor, group: GroupLike, activation: str, rows: Rows, chunk: int = 0) -> torch.Tensor:
    """:func:`energy` of the nodes ``u (B, 2M)`` in chunks (the grid path holds ``B x M x M`` values)."""
    M = u.shape[-1] // 2
    chunk = chunk or max(1, int(2**24 // max(1, M * M)))
    if u.shape[0] <= chunk:
        return energy(u, group, activation, rows=rows)
    return torch.cat([energy(u[i : i + chunk], group, activation, rows=rows) for i in range(0, u.shape[0], chunk)])


def reference_energies(M: int, rows: Rows = None, activation: str = "sqr") -> dict[str, float]:
    """Reference values of ``E`` (Eq. 7) on ``rows`` of ``Z_M`` for the two kinds of maxima (Fig. 7).

    ``fourier``, ``fourier_min``, ``fourier_max``: mean, min, max over ``j = 1 .. M // 2`` of ``E`` at the
    unit-norm Fourier node :func:`fourier_node` ``(M, j)`` (a maximum of the full-data energy, Theorem 2);
    ``memorization``: mean of ``E`` at the unit-norm memorization nodes ``(e_a + e_{M+b}) / sqrt 2`` of the
    pairs ``(a, b)`` in ``rows`` (Theorem 5's focused solution for ``sigma = x^2``; :func:`memorization_nodes`).
    """
    r = torch.arange(M * M) if rows is None else torch.as_tensor(rows).long().reshape(-1)
    fn = torch.stack([fourier_node(M, j) for j in range(1, M // 2 + 1)])
    Ef = energy(fn, f"Z{M}", activation, rows=r)
    mem = memorization_nodes(M)[:, r].T
    Em = _energy_chunked(mem, f"Z{M}", activation, r)
    return {"fourier": float(Ef.mean()), "fourier_min": float(Ef.min()), "fourier_max": float(Ef.max()),
            "memorization": float(Em.mean())}
