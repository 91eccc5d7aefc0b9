"""Lemma 2, Lemma 9, Thm 8, Lemma 10: Muon's orthogonalised updates and the coupon collector (Stage III, chapter muon).

Muon replaces a gradient ``G = U D V^T`` by its polar factor ``U V^T`` (paper-li2 "Lemma 2"); the author's code
approximates it by five Newton-Schulz steps (:func:`li2core.optim.newton_schulz5`), this module uses the exact
polar factor by SVD (:func:`polar_factor`).

* Lemma 2: ``<U V^T, G> = tr D >= 0`` (:func:`lemma2_inner`).
* Lemma 9: for ``A = [Q, v]`` (``Q`` column-orthonormal), the last column of the polar factor
  (:func:`muon_last_column`) against the lemma's ``v_perp/||v_perp|| + v_par/(1 + ||v_perp||)``
  (:func:`lemma9_approx`). In fact the exact column is that vector times the scalar
  ``1 / sqrt(1 + (||v_par|| / (1 + ||v_perp||))^2)`` (:func:`lemma9_factor`): the direction is exact, the length
  is off by ``O(||v_par||^2)`` (the proof expands in ``C = Q^T v``), not by the stated ``O(||v_perp||^2)``.
* Thm 8: the dynamics of Eq. 10, ``w' = A(w) w`` with ``A(w) = sum_l mu_l alpha_l zeta_l zeta_l^T`` and
  ``||w|| <= 1``, in the coordinates ``alpha`` of the orthonormal basis ``zeta`` (the flow and the polar factor
  are both invariant under a rotation, so ``zeta = I`` loses nothing): ``alpha_l' = mu_l alpha_l^2``, projected on
  the unit ball. :func:`plain_flow` runs independent nodes; :func:`muon_sequential_flow` runs nodes one after the
  other with the previous nodes' maxima in the Muon update (App. B.3's construction, defined there).
  :func:`first_collection` and :func:`distinct_maxima` count what they reach; :func:`collection_probabilities`
  (Lemma 7), :func:`coupon_collector_T0` (Eq. 41), :func:`coupon_bounds` (Lemma 10 and the main text),
  :func:`muon_T_bound` (Eq. 46), :func:`expected_distinct` and :func:`coupon_time_dp` (exact expectations by
  recursion over the collected sets) give the formulas to compare with.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = [
    "coupon_bounds",
    "coupon_collector_T0",
    "coupon_time_dp",
    "collection_probabilities",
    "distinct_maxima",
    "expected_distinct",
    "first_collection",
    "frechet_sample",
    "lemma2_inner",
    "lemma9_approx",
    "lemma9_factor",
    "muon_T_bound",
    "muon_last_column",
    "muon_sequential_flow",
    "plain_flow",
    "polar_factor",
]

_DT = torch.float64


def _as_matrix(G: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(G, torch.Tensor) or G.dim() < 2:
        raise ValueError(f"{name}: expected a tensor (..., rows, cols); got {getattr(G, 'shape', type(G).__name__)}")
    return G.to(_DT)


def polar_factor(G: torch.Tensor) -> torch.Tensor:
    """The exact Muon direction ``U V^T`` of ``G = U D V^T`` (thin SVD), batched over leading axes, float64.
    Zero singular values (below ``1e-12`` of the largest) get no direction, so a rank-deficient ``G`` maps to the
    partial isometry on its range.

    Paper: Lemma 2, Lemma 9. Chapter: ``muon``."""
    G = _as_matrix(G, "G")
    U, D, Vh = torch.linalg.svd(G, full_matrices=False)
    keep = (D > 1e-12 * D.amax(-1, keepdim=True).clamp_min(1e-300)).to(_DT)
    return (U * keep[..., None, :]) @ Vh


def lemma2_inner(G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(<U V^T, G>_F, tr D)`` for ``G = U D V^T``, batched over leading axes: Muon's direction against the
    gradient (App. B.3, Eq. 36), equal and ``>= 0``, and 0 only for ``G = 0``.

    Paper: Lemma 2. Chapter: ``muon``."""
    G = _as_matrix(G, "G")
    inner = (polar_factor(G) * G).sum(dim=(-2, -1))
    return inner, torch.linalg.svdvals(G).sum(-1)


def _split_parallel(Q: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    Q, v = _as_matrix(Q, "Q"), torch.as_tensor(v).to(_DT)
    if v.dim() != Q.dim() - 1 or v.shape[-1] != Q.shape[-2] or v.shape[:-1] != Q.shape[:-2]:
        raise ValueError(f"v: expected shape {tuple(Q.shape[:-2]) + (Q.shape[-2],)} to match Q {tuple(Q.shape)}")
    eye = torch.eye(Q.shape[-1], dtype=_DT)
    if not torch.allclose(Q.mT @ Q, eye.expand(Q.mT.shape[:-2] + eye.shape), atol=1e-8):
        raise ValueError("Q: the columns must be orthonormal (Q^T Q = I)")
    par = (Q @ (Q.mT @ v[..., None]))[..., 0]
    return par, v - par


def muon_last_column(Q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The last column of the polar factor of ``A = [Q, v]`` (``Q (..., d, k)`` column-orthonormal, ``v (..., d)``,
    ``v`` not in the span of ``Q``): what Muon makes of the gradient ``v`` of a new node when the nodes before it
    have gradients ``Q`` (exact, by SVD).

    Paper: Lemma 9. Chapter: ``muon``."""
    _, perp = _split_parallel(Q, v)
    if bool((perp.norm(dim=-1) <= 1e-12 * torch.as_tensor(v).to(_DT).norm(dim=-1).clamp_min(1e-300)).any()):
        raise ValueError("v: lies in the span of Q (v_perp = 0): the last column is not defined")
    A = torch.cat([Q.to(_DT), torch.as_tensor(v).to(_DT)[..., None]], dim=-1)
    return polar_factor(A)[..., -1]


def lemma9_approx(Q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Lemma 9's form of :func:`muon_last_column`: ``v_perp / ||v_perp|| + v_par / (1 + ||v_perp||)`` with
    ``v_par = Q Q^T v`` and ``v_perp = v - v_par``.

    Paper: Lemma 9. Chapter: ``muon``."""
    par, perp = _split_parallel(Q, v)
    b = perp.norm(dim=-1, keepdim=True)
    if bool((b == 0).any()):
        raise ValueError("v: lies in the span of Q (v_perp = 0): Lemma 9's form is not defined")
    return perp / b + par / (1 + b)


def lemma9_factor(Q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The exact ratio of :func:`muon_last_column` to :func:`lemma9_approx`,
    ``1 / sqrt(1 + (||v_par|| / (1 + ||v_perp||))^2)``: the two are parallel, so Lemma 9's error is only this length
    factor, ``1 - factor = ||v_par||^2 / (2 (1 + ||v_perp||)^2) + O(||v_par||^4)``. (In the basis
    ``(Q, v_perp / ||v_perp||)``, ``A`` is ``[[I, c], [0, ||v_perp||]]`` with ``c = Q^T v``; a rotation of the
    ``Q`` block turns ``c`` into ``||c|| e_1`` and leaves a 2 x 2 block ``[[1, ||c||], [0, ||v_perp||]]``, whose
    polar factor is a rotation with last column ``(||c||, 1 + ||v_perp||) / sqrt(||c||^2 + (1 + ||v_perp||)^2)``.)

    Paper: Lemma 9. Chapter: ``muon``."""
    par, perp = _split_parallel(Q, v)
    return 1.0 / torch.sqrt(1.0 + (par.norm(dim=-1) / (1.0 + perp.norm(dim=-1))) ** 2)


# ------------------------------------------------------------------ Theorem 8: the coupon collector
def _positive_vector(x: torch.Tensor | Sequence[float], name: str) -> torch.Tensor:
    t = torch.as_tensor(x, dtype=_DT).reshape(-1)
    if t.numel() < 1 or not bool(torch.isfinite(t).all()) or bool((t <= 0).any()):
        raise ValueError(f"{name}: expected positive finite numbers; got {x!r}")
    return t


def _check_a(a: float) -> float:
    if not isinstance(a, (int, float)) or isinstance(a, bool) or not math.isfinite(a) or a <= 0:
        raise ValueError(f"a: the Fréchet shape must be a positive number; got {a!r}")
    return float(a)


def frechet_sample(shape: Sequence[int], a: float, seed: int) -> torch.Tensor:
    """Draws with CDF ``exp(-x^(-a))`` (Fréchet, the paper's "inverse-exponential" law), by inversion
    ``x = (-ln U)^(-1/a)`` of ``U ~ U(0, 1)`` from ``torch.Generator().manual_seed(seed)``; float64.

    Paper: Thm 8, Lemma 7. Chapter: ``muon``."""
    a = _check_a(a)
    g = torch.Generator().manual_seed(int(seed))
    u = torch.rand(tuple(shape), generator=g, dtype=_DT).clamp_min(1e-300)
    return (-torch.log(u)) ** (-1.0 / a)


def collection_probabilities(mu: torch.Tensor | Sequence[float], a: float) -> torch.Tensor:
    """``p_l = mu_l^a / sum_l mu_l^a``: the chance that an independently learned node ends at maximum ``l``
    (the initial leader ``argmax_l mu_l alpha_l(0)`` wins, Lemma 8, with Fréchet ``alpha``, Lemma 7).

    Paper: Thm 8, Lemma 7, Lemma 8. Chapter: ``muon``."""
    m = _positive_vector(mu, "mu")
    w = m ** _check_a(a)
    return w / w.sum()


def _start(mu: torch.Tensor, a: float, n: int, seed: int) -> torch.Tensor:
    """``n`` Fréchet starts ``alpha(0)`` projected onto the unit sphere (the feasible set's boundary)."""
    alpha = frechet_sample((n, mu.numel()), a, seed)
    return alpha / alpha.norm(dim=-1, keepdim=True)


def plain_flow(
    mu: torch.Tensor | Sequence[float],
    a: float,
    n_nodes: int,
    seed: int,
    dt: float = 1.0,
    max_steps: int = 20_000,
    tol: float = 1e-3,
) -> dict[str, torch.Tensor]:
    """Eq. 10 for ``n_nodes`` independent nodes (independent feature learning): ``alpha(0)`` Fréchet (shape ``a``,
    seed ``seed``) projected onto the unit sphere, then projected Euler steps ``alpha <- alpha + dt mu alpha^2``,
    ``alpha <- alpha / max(1, ||alpha||)`` until ``alpha_max^2 >= 1 - tol`` or ``max_steps``. Each step keeps the
    order of ``mu_l alpha_l`` (``r -> r + dt r^2`` is increasing, the projection rescales all coordinates alike),
    so the limit does not depend on ``dt``.

    Returns ``alpha0 (n, L)``, ``alpha (n, L)`` at the end, ``winner (n,)`` (the maximum reached; -1 if not
    converged), ``leader0 (n,)`` (``argmax mu alpha(0)``, Lemma 8's prediction) and ``steps (n,)``.

    Paper: Thm 8, Eq. 10, Lemma 8. Chapter: ``muon``."""
    m = _positive_vector(mu, "mu")
    if not isinstance(n_nodes, int) or n_nodes < 1:
        raise ValueError(f"n_nodes: must be an integer >= 1; got {n_nodes!r}")
    if not dt > 0 or not 0 < tol < 1:
        raise ValueError(f"dt, tol: need dt > 0 and 0 < tol < 1; got dt={dt!r}, tol={tol!r}")
    alpha0 = _start(m, a, n_nodes, seed)
    alpha = alpha0.clone()
    steps = torch.zeros(n_nodes, dtype=torch.long)
    active = torch.ones(n_nodes, dtype=torch.bool)
    for _ in range(max_steps):
        idx = active.nonzero()[:, 0]
        if idx.numel() == 0:
            break
        x = alpha[idx]
        x = x + dt * m * x * x
        x = x / x.norm(dim=-1, keepdim=True).clamp_min(1.0)
        alpha[idx] = x
        steps[idx] += 1
        done = x.pow(2).amax(-1) >= (1 - tol) * x.pow(2).sum(-1)
        active[idx[done]] = False
    winner = torch.where(active, -1, alpha.argmax(-1))
    return dict(alpha0=alpha0, alpha=alpha, winner=winner, leader0=(m * alpha0).argmax(-1), steps=steps)


def muon_sequential_flow(
    mu: torch.Tensor | Sequence[float],
    a: float,
    n_nodes: int,
    trials: int,
    seed: int,
    dt: float = 1.0,
    max_steps: int = 20_000,
    tol: float = 1e-3,
) -> dict[str, torch.Tensor]:
    """Theorem 8's "Muon guiding" (App. B.3): ``n_nodes`` nodes optimised one after the other, in each of
    ``trials`` independent trials. Node ``j`` starts like a node of :func:`plain_flow`; while it moves, the nodes
    before it sit at the maxima they reached, and Muon orthogonalises the matrix of gradients: the collected maxima
    once each ("after deduplication"), as the orthonormal columns ``Q = [zeta_s]_{s in S}`` of Lemma 9, and the
    node's own gradient ``g = A(w) w = mu alpha^2`` last. The node moves along the last column of the polar factor
    of ``[Q, g]`` (:func:`polar_factor`, exact), ``alpha <- alpha + dt ghat`` projected onto the unit ball, until
    ``alpha_max^2 >= 1 - tol``; its maximum joins ``S``. Node ``j`` of every trial starts from the draw a
    :func:`plain_flow` call with the same ``seed`` gives node ``t * n_nodes + j`` (``t`` the trial).

    Returns ``winner (trials, n_nodes)`` (-1: not converged; such a node adds nothing to ``S``) and ``steps``.

    Paper: Thm 8, Eq. 10, Lemma 9. Chapter: ``muon``."""
    m = _positive_vector(mu, "mu")
    L = m.numel()
    if not isinstance(n_nodes, int) or n_nodes < 1 or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"n_nodes, trials: must be integers >= 1; got {n_nodes!r}, {trials!r}")
    if not dt > 0 or not 0 < tol < 1:
        raise ValueError(f"dt, tol: need dt > 0 and 0 < tol < 1; got dt={dt!r}, tol={tol!r}")
    starts = _start(m, a, trials * n_nodes, seed).view(trials, n_nodes, L)
    collected = torch.zeros(trials, L, dtype=torch.bool)
    winner = torch.full((trials, n_nodes), -1, dtype=torch.long)
    steps = torch.zeros(trials, n_nodes, dtype=torch.long)
    eye = torch.eye(L, dtype=_DT)
    for j in range(n_nodes):
        alpha = starts[:, j].clone()
        active = ~collected.all(-1)  # a trial that has every maximum has nothing left to find
        for _ in range(max_steps):
            idx = active.nonzero()[:, 0]
            if idx.numel() == 0:
                break
            x = alpha[idx]
            g = m * x * x
            ghat = torch.empty_like(g)
            sizes = collected[idx].sum(-1)
            for k in sizes.unique().tolist():  # trials with the same number of collected maxima: one batched SVD
                sel = (sizes == k).nonzero()[:, 0]
                if k == 0:
                    ghat[sel] = g[sel] / g[sel].norm(dim=-1, keepdim=True)
                    continue
                cols = collected[idx[sel]].nonzero()[:, 1].view(-1, k)
                Q = eye[:, cols].permute(1, 0, 2)  # (r, L, k): the collected zeta_s
                ghat[sel] = polar_factor(torch.cat([Q, g[sel, :, None]], dim=-1))[..., -1]
            x = x + dt * ghat
            x = x / x.norm(dim=-1, keepdim=True).clamp_min(1.0)
            alpha[idx] = x
            steps[idx, j] += 1
            done = x.pow(2).amax(-1) >= (1 - tol) * x.pow(2).sum(-1)
            fin = idx[done]
            winner[fin, j] = x[done].argmax(-1)
            collected[fin, winner[fin, j]] = True
            active[fin] = False
    return dict(winner=winner, steps=steps)


def first_collection(winner: torch.Tensor, L: int) -> torch.Tensor:
    """The number of nodes until all ``L`` maxima are reached: per row of ``winner (trials, n)`` (-1 entries never
    count), the 1-based index of the node that completes the collection; -1 when the row never completes it.

    Paper: Thm 8, Eq. 41. Chapter: ``muon``."""
    w = torch.as_tensor(winner)
    if w.dim() != 2 or not isinstance(L, int) or L < 1:
        raise ValueError(f"winner, L: need a (trials, n) tensor and an integer L >= 1; got {tuple(w.shape)}, {L!r}")
    hit = torch.zeros(w.shape[0], L, dtype=torch.bool)
    out = torch.full((w.shape[0],), -1, dtype=torch.long)
    for j in range(w.shape[1]):
        ok = w[:, j] >= 0
        hit[ok.nonzero()[:, 0], w[ok, j]] = True
        newly = hit.all(-1) & (out < 0)
        out[newly] = j + 1
    return out


def distinct_maxima(winner: torch.Tensor, K: int) -> torch.Tensor:
    """Per row of ``winner (trials, n)``: how many distinct maxima the first ``K`` nodes reached (-1 entries, nodes
    that did not converge, count for none).

    Paper: Thm 8. Chapter: ``muon``."""
    w = torch.as_tensor(winner)
    if w.dim() != 2 or not isinstance(K, int) or not 1 <= K <= w.shape[1]:
        raise ValueError(f"K: must be an integer in 1..{w.shape[1] if w.dim() == 2 else '?'}; got {K!r}")
    first = w[:, :K]
    L = int(first.max()) + 1 if first.numel() and int(first.max()) >= 0 else 1
    hit = torch.zeros(w.shape[0], L, dtype=torch.bool)
    rows, cols = (first >= 0).nonzero(as_tuple=True)
    hit[rows, first[rows, cols]] = True
    return hit.sum(-1)


def expected_distinct(p: torch.Tensor | Sequence[float], K: int) -> float:
    """The expected number of distinct maxima ``K`` independent nodes reach, ``sum_l 1 - (1 - p_l)^K``.

    Paper: Thm 8. Chapter: ``muon``."""
    pv = _positive_vector(p, "p")
    if not isinstance(K, int) or K < 0:
        raise ValueError(f"K: must be an integer >= 0; got {K!r}")
    pv = pv / pv.sum()
    return float((1 - (1 - pv) ** K).sum())


def coupon_collector_T0(p: torch.Tensor | Sequence[float], points: int = 200_001) -> float:
    """Theorem 8's expected number of independently learned nodes until every one of the ``L`` maxima is reached
    (Eq. 41, the coupon collector): ``T0 = int_0^inf (1 - prod_l (1 - exp(-p_l t))) dt``, by Simpson's rule on
    ``[0, (ln L + 40) / min p]`` (the integrand is below ``1e-17`` beyond it); ``p`` is normalised to sum 1.

    Paper: Thm 8, Eq. 41. Chapter: ``muon``."""
    pv = torch.as_tensor(p, dtype=_DT).reshape(-1)
    if pv.numel() < 1 or (pv <= 0).any():
        raise ValueError("p: expected positive probabilities")
    pv = pv / pv.sum()
    if points < 3 or points % 2 == 0:
        raise ValueError(f"points: need an odd number >= 3 for Simpson's rule; got {points}")
    t = torch.linspace(0.0, (math.log(pv.numel()) + 40.0) / float(pv.min()), points, dtype=_DT)
    f = -torch.expm1(torch.log1p(-torch.exp(-pv[:, None] * t[None, :])).sum(0))  # 1 - prod_l (1 - e^{-p_l t})
    h = float(t[1] - t[0])
    return float(h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum()))


def coupon_bounds(p: torch.Tensor | Sequence[float]) -> dict[str, float]:
    """Theorem 8's lower bounds on :func:`coupon_collector_T0` for ``L = len(p)`` maxima: ``printed`` (the main
    text, ``max(1/min p, sum_{l<=L} 1/l)``) and ``lemma10`` (App. B.3, ``max(1/min p, L sum_{l<=L} 1/l)``; Eq. 39
    prints ``min_l 1/p_l`` for the first term, the proof means the rarest coupon, ``1/min_l p_l``); and ``T0``,
    ``L`` and ``H`` (``sum_{l<=L} 1/l``).

    Paper: Thm 8, Lemma 10. Chapter: ``muon``."""
    pv = torch.as_tensor(p, dtype=_DT).reshape(-1)
    if pv.numel() < 1 or (pv <= 0).any():
        raise ValueError("p: expected positive probabilities")
    pv = pv / pv.sum()
    L = pv.numel()
    H = sum(1.0 / k for k in range(1, L + 1))
    inv = 1.0 / float(pv.min())
    return dict(T0=coupon_collector_T0(pv), printed=max(inv, H), lemma10=max(inv, L * H), L=L, H=H)


def muon_T_bound(p: torch.Tensor | Sequence[float], a: float) -> float:
    """Theorem 8's bound for Muon-guided sequential learning, ``T_a <= 2^(-a) T0 + (1 - 2^(-a)) L`` (Eq. 46; the
    main text prints it as an equality), with ``T0`` from :func:`coupon_collector_T0`.

    Paper: Thm 8, Eq. 46. Chapter: ``muon``."""
    a = _check_a(a)
    pv = _positive_vector(p, "p")
    return 2.0 ** (-a) * coupon_collector_T0(pv) + (1 - 2.0 ** (-a)) * pv.numel()


def coupon_time_dp(p: torch.Tensor | Sequence[float], damping: float = 1.0) -> float:
    """The exact expected number of nodes to collect all ``L`` maxima when each node lands on maximum ``l`` with
    probability proportional to ``p_l``, times ``damping`` for the maxima already collected: a recursion over the
    ``2^L`` collected sets (``L <= 20``), ``E[S] = 1 / P_new(S) + sum_{l not in S} (p_l / p(not S)) E[S + l]`` with
    ``P_new(S) = p(not S) / (damping p(S) + p(not S))``. ``damping = 1`` is the plain coupon collector (``= T0``
    of Eq. 41); ``damping = 2^(-a)`` is the proof's model of Muon (Eq. 44 with equality: ``mu_l`` halved for
    collected maxima), whose expectation is exactly ``2^(-a) T0 + (1 - 2^(-a)) L``.

    Paper: Thm 8, Eq. 41, Eq. 46. Chapter: ``muon``."""
    pv = _positive_vector(p, "p")
    pv = pv / pv.sum()
    L = pv.numel()
    if L > 20:
        raise ValueError(f"p: the recursion over 2^L sets needs L <= 20; got L = {L}")
    if not 0 < float(damping) <= 1:
        raise ValueError(f"damping: must be in (0, 1]; got {damping!r}")
    full = (1 << L) - 1
    ps = [float(x) for x in pv]
    E = [0.0] * (1 << L)
    for S in range(full - 1, -1, -1):  # supersets have larger integers: they are done first
        p_in = sum(ps[l] for l in range(L) if S >> l & 1)
        p_out = sum(ps[l] for l in range(L) if not S >> l & 1)
        E[S] = (damping * p_in + p_out) / p_out + sum(ps[l] / p_out * E[S | 1 << l] for l in range(L) if not S >> l & 1)
    return E[0]
