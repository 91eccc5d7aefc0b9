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
) -> Reconstruction:
    """Target reconstruction from given hidden nodes (Theorem 3, with ``eta = 0``).

    ``nodes``: ``W (2M, K)``. Builds ``F = sigma(X W)`` on all pairs (or ``rows``), fits the
    minimum-norm least-squares readout ``V = F~^+ Y~`` (pseudo-inverse, so rank-deficient ``F~``
    is fine) and returns the relative residual ``||Y~ - F~ V||_F / ||Y~||_F``.
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
    pinv = torch.linalg.pinv(Ft)
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
