"""Theorem 5: memorisation, the maxima of the energy on single-target data (paper-li2 §2 "Theorem 5", App. A.4,
Lemmas 5-6); chapter ``thm5_memorization``.

* The reduced problem ``max_s sum_g p_g sigma(s_g)`` s.t. ``s >= 0``, ``sum s^2 <= 2``:
  :func:`memorization_reduced` (projected ascent), :func:`memorization_kkt` (the paper's formulas, Lemma 6),
  :func:`memorization_phi`, :func:`memorization_profile` (Lemma 5, Eq. 34), :func:`memorization_objective`,
  :func:`relu_spreading` (ReLU's closed form), :func:`kkt_products` (Lemma 5), :func:`reduced_energy`.
* The single-target data and the map between the two problems: :func:`single_target_rows`,
  :func:`single_target_weights`, :func:`single_target_probabilities`, :func:`pair_sums`, :func:`memorization_node`.
* :func:`memorization_nodes`: one node per pair (the ``M^2``-node memorisation solution Theorem 3 compares with).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from ..activations import derivatives
from ..fourier import inverse_perm
from .pairs import GroupLike, _table

__all__ = [
    "memorization_reduced",
    "memorization_kkt",
    "memorization_phi",
    "memorization_profile",
    "memorization_objective",
    "relu_spreading",
    "kkt_products",
    "reduced_energy",
    "single_target_rows",
    "single_target_weights",
    "single_target_probabilities",
    "pair_sums",
    "memorization_node",
    "memorization_nodes",
]


def memorization_reduced(
    p: torch.Tensor | Sequence[float],
    activation: str = "sqr",
    steps: int = 20000,
    tol: float = 1e-12,
    start: str | torch.Tensor | Sequence[float] | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Solve Theorem 5's reduced problem (App. A.4): ``max_s sum_g p_g sigma(s_g)`` s.t.
    ``s_g >= 0``, ``sum_g s_g^2 <= 2``.

    For increasing ``sigma`` the constraint is active, so this is projected gradient ascent on
    the positive orthant of the sphere of radius ``sqrt(2)``: ``s <- sqrt(2) [s + alpha grad]_+ /
    ||.||`` with an Armijo step that grows after accepted steps. Stops when the KKT residual
    (tangent gradient on the support; positive gradient off it) is below ``tol * ||grad||``.
    Expected (Theorem 5, Lemma 6): ``sqr``/``relusqr`` (``phi = sigma'/x`` nondecreasing) focus
    on ``argmax p``, ``s = sqrt(2) e_{g*}``; ``relu`` gives ``s = sqrt(2) p / ||p||``; ``silu``
    spreads with every ``s_g > 0``, ordered like ``p``. Returns ``s`` (float64).

    ``start``: where the ascent starts, scaled onto the sphere ``||s|| = sqrt 2``.

    * ``None`` (the default, kept for existing callers): ``sqrt(2) p / ||p||``. This *is* ReLU's
      (and the linear activation's) solution, so for those the ascent stops at once and shows
      nothing; use it only as a fast solver.
    * ``"random"``: a uniformly random point of the positive orthant of the sphere, ``sqrt 2
      |z| / ||z||`` with ``z ~ N(0, I)`` drawn from a CPU generator seeded with ``seed``
      (independent of ``p``): a start that knows nothing about the answer.
    * a tensor / sequence of ``M`` nonnegative values (not all 0): that point, rescaled.

    Paper: Thm 5. Chapter: ``thm5_memorization``.
    """
    pv = torch.as_tensor(p, dtype=torch.float64).reshape(-1)
    if (pv < 0).any() or float(pv.sum()) <= 0:
        raise ValueError("p: expected nonnegative weights with a positive sum")
    sig, dsig, _ = derivatives(activation)
    r2 = math.sqrt(2.0)
    s = _reduced_start(pv, start, seed) * r2

    def obj(s):
        return float((pv * sig(s)).sum())

    def kkt(s, g):
        lam = float((g * s).sum()) / float((s * s).sum())
        on = s > 0
        r = torch.where(on, g - lam * s, g.clamp_min(0.0))
        return float(r.norm()) / max(float(g.norm()), 1e-300)

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


def _reduced_start(p: torch.Tensor, start: str | torch.Tensor | Sequence[float] | None, seed: int) -> torch.Tensor:
    """The unit-norm start of :func:`memorization_reduced` (see its ``start``)."""
    if start is None:
        return p / p.norm()
    if isinstance(start, str):
        if start != "random":
            raise ValueError(f"start: expected None, 'random' or M nonnegative values; got {start!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed: expected an integer; got {seed!r}")
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(p.numel(), generator=g, dtype=torch.float64).abs()
        return z / z.norm()
    s0 = torch.as_tensor(start, dtype=torch.float64).reshape(-1)
    if s0.numel() != p.numel() or bool((s0 < 0).any()) or float(s0.norm()) == 0.0:
        raise ValueError(f"start: expected M = {p.numel()} nonnegative values, not all 0; got {tuple(s0.shape)}")
    return s0 / s0.norm()


def single_target_rows(group: GroupLike, target: int) -> torch.Tensor:
    """The rows ``(g, g^{-1} h)`` for ``g = 0 .. M-1`` of the one target ``h`` (Theorem 5): row
    index ``g M + T[g^{-1}, h]`` into the ``M^2`` pairs. Shape ``(M,)``, ordered by ``g``.

    Paper: Thm 5. Chapter: ``thm5_memorization``.
    """
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

    Paper: Thm 5. Chapter: ``thm5_memorization``.
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
    of the single-target pair ``(g, g^{-1} h)``. ``(..., 2M)`` → ``(..., M)``.

    Paper: Thm 5. Chapter: ``thm5_memorization``.
    """
    r = single_target_rows(group, target)
    M = r.numel()
    if w.shape[-1] != 2 * M:
        raise ValueError(f"w: last dimension must be 2M = {2 * M}; got {tuple(w.shape)}")
    return w[..., r // M] + w[..., M + r % M]


def memorization_node(s: torch.Tensor | Sequence[float], group: GroupLike, target: int) -> torch.Tensor:
    """Theorem 5's node ``w = 1/2 sum_g s_g [e_g; e_{g^{-1} h}]`` (``(2M,)``, float64): ``u_g =
    v'_{g^{-1} h} = s_g / 2``, so :func:`pair_sums` gives back ``s`` and ``||w||^2 = sum s_g^2 / 2``
    (``= 1`` on the budget ``sum s_g^2 = 2``). For ``s = sqrt 2 e_{g*}`` it is the focused
    ``(e_{g*}, e_{g*^{-1} h}) / sqrt 2``.

    Paper: Thm 5. Chapter: ``thm5_memorization``.
    """
    sv = torch.as_tensor(s, dtype=torch.float64).reshape(-1)
    r = single_target_rows(group, target)
    M = r.numel()
    if sv.numel() != M:
        raise ValueError(f"s: expected M = {M} values; got {sv.numel()}")
    w = torch.zeros(2 * M, dtype=torch.float64)
    w[r // M] = sv / 2
    w[M + r % M] = sv / 2
    return w


def memorization_nodes(M: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """One node per pair: column ``r`` is ``(e_a + e_{M+b}) / sqrt 2`` for ``(a, b) = (r // M, r % M)``
    (the ``M^2``-node memorisation solution Theorem 3 compares with). Shape ``(2M, M^2)``.

    Paper: Thm 3, Thm 5. Chapter: ``thm3_reconstruction``.
    """
    if not isinstance(M, int) or M < 2:
        raise ValueError(f"M: must be an integer >= 2; got {M!r}")
    r = torch.arange(M * M)
    W = torch.zeros(2 * M, M * M, dtype=dtype)
    W[r // M, r] = 1 / math.sqrt(2)
    W[M + r % M, r] = 1 / math.sqrt(2)
    return W


#: Activations whose ``phi = sigma'(x) / x`` is nondecreasing on ``(0, sqrt 2]`` (Lemma 6 (A): focused).
_FOCUSED = ("sqr", "relusqr")


#: Activations with strictly decreasing ``phi`` and ``phi(0+) = inf`` (Lemma 6 (B): spreading, all ``s_g > 0``).
_SPREADING = ("relu", "silu", "linear")


def memorization_phi(x: torch.Tensor, activation: str) -> torch.Tensor:
    """``phi(x) = sigma'(x) / x`` (Theorem 5) for ``x > 0``.

    Paper: Thm 5, Lemma 5, Lemma 6. Chapter: ``thm5_memorization``.
    """
    _, dsig, _ = derivatives(activation)
    x = torch.as_tensor(x, dtype=torch.float64)
    return dsig(x) / x


def memorization_profile(p: torch.Tensor | Sequence[float], lam: float, activation: str) -> torch.Tensor:
    """``s(p) = phi^{-1}(2 lambda / p)`` (Lemma 5, Eq. 34) for a spreading activation (strictly
    decreasing ``phi`` with ``phi(0+) = inf``), by bisection in ``log x`` (closed form ``p / (2 lambda)``
    for ``relu``/``linear``). ``p``: any shape, positive.

    Paper: Lemma 5. Chapter: ``thm5_memorization``.
    """
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

    Paper: Thm 5, Lemma 5, Lemma 6. Chapter: ``thm5_memorization``.
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


def relu_spreading(p: torch.Tensor) -> torch.Tensor:
    """ReLU's spreading solution of Theorem 5 (Lemma 6 (B), ``phi = 1/x``): ``s = sqrt 2 p / ||p||``, the
    unique maximiser of ``sum_g p_g s_g`` on ``s >= 0, sum s^2 = 2`` (Cauchy-Schwarz).

    Paper: Thm 5, Lemma 6. Chapter: ``thm5_memorization``.
    """
    return math.sqrt(2) * p / p.norm()


def kkt_products(s: torch.Tensor, p: torch.Tensor, activation: str) -> torch.Tensor:
    """Lemma 5's KKT products ``p_g phi(s_g)`` (``phi = sigma'(x)/x``), all equal to ``2 lambda`` at a
    spreading solution of Theorem 5's reduced problem.

    Paper: Lemma 5. Chapter: ``thm5_memorization``.
    """
    return p * memorization_phi(s, activation)


def reduced_energy(F: float, M: int) -> float:
    """The energy of a node with reduced objective ``F = sum_g p_g sigma(s_g)`` on the weighted single-target
    data (Theorem 5, App. A.4's "up to a fixed positive factor"): ``E = 1/2 (1 - 1/M) F^2``.

    Paper: Thm 5. Chapter: ``thm5_memorization``.
    """
    return 0.5 * (1 - 1 / M) * F ** 2


def single_target_probabilities(M: int, seed: int, low: float = 0.2, high: float = 1.2) -> torch.Tensor:
    """Sampling probabilities ``p_g`` for Theorem 5: ``U(low, high)`` draws (seeded, CPU) normalised to sum
    1. Raises ``ValueError`` unless the maximum is unique (the theorem's assumption). ``(M,)`` float64.

    Paper: Thm 5. Chapter: ``thm5_memorization``.
    """
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
    ``s``: ``(..., M)`` → ``(...)``.

    Paper: Thm 5. Chapter: ``thm5_memorization``.
    """
    sig, _, _ = derivatives(activation)
    pv = torch.as_tensor(p, dtype=s.dtype)
    return (pv * sig(s)).sum(-1)
