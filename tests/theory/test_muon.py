"""li2core.theory.muon: Lemma 2, Lemma 9, Theorem 8 (the coupon collector and the two flows of Eq. 10), Lemma 10,
each against an independent computation (closed forms, a second algorithm, or the exact law)."""
from __future__ import annotations

import math

import pytest
import torch

from li2core.theory import muon as tm


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ the polar factor and Lemma 2
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_polar_factor_matches_G_times_inverse_sqrt_of_GtG(shape):
    G = torch.randn(6, *shape, generator=_gen(0), dtype=torch.float64)
    P = tm.polar_factor(G)
    # independent: U V^T = G (G^T G)^{-1/2} (tall) or (G G^T)^{-1/2} G (wide), by eigendecomposition
    if shape[0] >= shape[1]:
        e, Q = torch.linalg.eigh(G.mT @ G)
        ref = G @ (Q @ torch.diag_embed(e.rsqrt()) @ Q.mT)
    else:
        e, Q = torch.linalg.eigh(G @ G.mT)
        ref = (Q @ torch.diag_embed(e.rsqrt()) @ Q.mT) @ G
    torch.testing.assert_close(P, ref, rtol=1e-9, atol=1e-10)


def test_polar_factor_of_a_rank_deficient_matrix_is_a_partial_isometry():
    u = torch.randn(5, 1, generator=_gen(1), dtype=torch.float64)
    v = torch.randn(1, 4, generator=_gen(2), dtype=torch.float64)
    P = tm.polar_factor(u @ v)
    torch.testing.assert_close(P, (u / u.norm()) @ (v / v.norm()), rtol=1e-10, atol=1e-12)


def test_lemma2_inner_product_is_the_nuclear_norm_and_nonnegative():
    G = torch.randn(20, 6, 9, generator=_gen(3), dtype=torch.float64) * torch.rand(20, 1, 1, generator=_gen(4))
    inner, trD = tm.lemma2_inner(G)
    torch.testing.assert_close(inner, torch.linalg.matrix_norm(G, ord="nuc"), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(inner, trD, rtol=1e-12, atol=1e-12)
    assert bool((inner > 0).all())
    zero, tr0 = tm.lemma2_inner(torch.zeros(2, 3, 3, dtype=torch.float64))
    assert float(zero.abs().max()) == 0.0 and float(tr0.abs().max()) == 0.0


# ------------------------------------------------------------------ Lemma 9
def _Q_v(d: int, k: int, par: float, perp: float, seed: int):
    g = _gen(seed)
    Q, _ = torch.linalg.qr(torch.randn(d, k + 1, generator=g, dtype=torch.float64))
    c = torch.randn(k, generator=g, dtype=torch.float64)
    v = Q[:, :k] @ (par * c / c.norm()) + perp * Q[:, k]
    return Q[:, :k], v


def test_lemma9_exact_column_is_the_approximation_times_the_factor():
    for seed, (par, perp) in enumerate([(0.3, 0.5), (2.0, 0.1), (1e-3, 3.0), (0.7, 0.7)]):
        Q, v = _Q_v(9, 3, par, perp, seed)
        exact = tm.muon_last_column(Q, v)
        approx = tm.lemma9_approx(Q, v)
        f = tm.lemma9_factor(Q, v)
        torch.testing.assert_close(exact, f * approx, rtol=1e-10, atol=1e-12)
        assert float(f) == pytest.approx(1 / math.sqrt(1 + (par / (1 + perp)) ** 2), rel=1e-12)


def test_lemma9_error_scales_as_the_parallel_part_squared():
    errs = []
    pars = [1e-1, 1e-2, 1e-3]
    for par in pars:
        Q, v = _Q_v(8, 2, par, 0.05, 11)  # small ||v_perp||, the regime of the lemma
        errs.append(float((tm.muon_last_column(Q, v) - tm.lemma9_approx(Q, v)).norm()))
    slopes = [math.log(errs[i] / errs[i + 1]) / math.log(pars[i] / pars[i + 1]) for i in range(2)]
    # the two vectors are parallel and of length ~1, so the error is 1 - factor ~ ||v_par||^2 / (2 (1 + ||v_perp||)^2)
    assert all(abs(s - 2.0) < 0.05 for s in slopes), slopes
    assert errs[-1] == pytest.approx(pars[-1] ** 2 / (2 * 1.05 ** 2), rel=1e-3)


def test_lemma9_batched_and_bad_input():
    Qs, vs = zip(*[_Q_v(6, 2, 0.4, 0.3, s) for s in range(3)])
    Q, v = torch.stack(Qs), torch.stack(vs)
    col = tm.muon_last_column(Q, v)
    for r in range(3):
        torch.testing.assert_close(col[r], tm.muon_last_column(Q[r], v[r]))
    with pytest.raises(ValueError, match="^v:"):
        tm.muon_last_column(Q[0], Q[0][:, 0])  # in the span of Q
    with pytest.raises(ValueError, match="^v:"):
        tm.lemma9_approx(Q[0], torch.ones(5, dtype=torch.float64))
    with pytest.raises(ValueError, match="^Q:"):
        tm.lemma9_factor(2 * Q[0], v[0])
    with pytest.raises(ValueError, match="^G:"):
        tm.polar_factor(torch.ones(3))


# ------------------------------------------------------------------ Theorem 8: laws and formulas
def test_frechet_sample_follows_its_cdf_and_is_seeded():
    a = 2.5
    x = tm.frechet_sample((20000,), a, seed=7)
    torch.testing.assert_close(x, tm.frechet_sample((20000,), a, seed=7))
    xs = x.sort().values
    emp = torch.arange(1, xs.numel() + 1, dtype=torch.float64) / xs.numel()
    ks = float((emp - torch.exp(-xs ** (-a))).abs().max())
    assert ks < 1.36 / math.sqrt(xs.numel()) + 1e-3  # Kolmogorov-Smirnov at 5%
    with pytest.raises(ValueError, match="^a:"):
        tm.frechet_sample((3,), 0.0, seed=0)


def test_T0_for_equal_probabilities_is_L_times_H_L():
    for L in (1, 2, 5, 12):
        H = sum(1 / k for k in range(1, L + 1))
        assert tm.coupon_collector_T0(torch.full((L,), 1.0 / L)) == pytest.approx(L * H, rel=1e-9)
        b = tm.coupon_bounds([1.0] * L)
        assert b["lemma10"] == pytest.approx(L * H) and b["T0"] == pytest.approx(L * H, rel=1e-9)


def test_T0_integral_equals_the_exact_recursion_and_the_bounds_hold():
    p = tm.collection_probabilities(torch.linspace(0.8, 1.0, 7), a=2.0)  # mild spread: L H_L > 1 / min p
    T0 = tm.coupon_collector_T0(p)
    assert T0 == pytest.approx(tm.coupon_time_dp(p), rel=1e-9)  # integral (Eq. 41) vs recursion over sets
    b = tm.coupon_bounds(p)
    assert b["T0"] >= b["lemma10"] >= b["printed"] and b["lemma10"] > b["printed"]
    assert b["printed"] == pytest.approx(max(1 / float(p.min()), b["H"]))


@pytest.mark.parametrize("a", [1.5, 3.0])
def test_damped_recursion_equals_the_T_a_formula(a):
    # Eq. 46 with equality in the proof's model (collected maxima damped by 2^-a): an independent recursion
    p = tm.collection_probabilities(torch.tensor([0.4, 0.6, 0.9, 1.0, 0.7]), a)
    assert tm.coupon_time_dp(p, 2.0 ** (-a)) == pytest.approx(tm.muon_T_bound(p, a), rel=1e-9)


def test_expected_distinct_against_direct_enumeration():
    p = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    K = 3
    # enumerate all 27 sequences of 3 nodes
    tot = 0.0
    for i in range(3):
        for j in range(3):
            for k in range(3):
                tot += float(p[i] * p[j] * p[k]) * len({i, j, k})
    assert tm.expected_distinct(p, K) == pytest.approx(tot, rel=1e-12)


def test_collection_probabilities():
    p = tm.collection_probabilities([1.0, 0.5], a=2.0)
    torch.testing.assert_close(p, torch.tensor([0.8, 0.2], dtype=torch.float64))


# ------------------------------------------------------------------ Theorem 8: the simulations
def test_plain_flow_winner_is_the_initial_leader_and_follows_p():
    mu = torch.tensor([0.5, 0.8, 1.0])
    r = tm.plain_flow(mu, a=2.0, n_nodes=3000, seed=1)
    assert bool((r["winner"] >= 0).all())
    assert bool((r["winner"] == r["leader0"]).all())  # Lemma 8
    freq = torch.bincount(r["winner"], minlength=3).double() / 3000
    p = tm.collection_probabilities(mu, 2.0)
    assert float((freq - p).abs().max()) < 4 * math.sqrt(0.25 / 3000)
    assert bool((r["alpha"].norm(dim=-1) <= 1 + 1e-12).all())


def test_plain_flow_collection_time_matches_T0_for_equal_mu():
    L, trials = 5, 400
    r = tm.plain_flow(torch.ones(L), a=2.0, n_nodes=trials * 60, seed=2)
    fc = tm.first_collection(r["winner"].view(trials, 60), L)
    assert bool((fc > 0).all())  # P(not done in 60) is ~1e-4 per trial
    mean, se = fc.double().mean(), fc.double().std() / math.sqrt(trials)
    T0 = L * sum(1 / k for k in range(1, L + 1))
    assert abs(float(mean) - T0) < 4 * float(se)


def test_muon_sequential_flow_collects_faster_and_within_the_bound():
    mu, a = torch.tensor([0.3, 0.5, 0.7, 0.9, 1.0]), 2.0
    s = tm.muon_sequential_flow(mu, a, n_nodes=15, trials=40, seed=3)
    fc = tm.first_collection(s["winner"], 5)
    assert bool((fc > 0).all())
    p = tm.collection_probabilities(mu, a)
    assert float(fc.double().mean()) <= tm.muon_T_bound(p, a) < tm.coupon_collector_T0(p)
    # the first node is an unguided node: it ends at its initial leader
    plain = tm.plain_flow(mu, a, n_nodes=40 * 15, seed=3)
    torch.testing.assert_close(s["winner"][:, 0], plain["winner"].view(40, 15)[:, 0])


def test_counting_helpers():
    w = torch.tensor([[0, 0, 1, -1, 2], [2, 1, 1, 1, 1]])
    torch.testing.assert_close(tm.first_collection(w, 3), torch.tensor([5, -1]))
    torch.testing.assert_close(tm.distinct_maxima(w, 3), torch.tensor([2, 2]))
    torch.testing.assert_close(tm.distinct_maxima(w, 5), torch.tensor([3, 2]))
    with pytest.raises(ValueError, match="^K:"):
        tm.distinct_maxima(w, 6)


def test_bad_input():
    with pytest.raises(ValueError, match="^mu:"):
        tm.plain_flow([1.0, -1.0], 2.0, 3, seed=0)
    with pytest.raises(ValueError, match="^n_nodes"):
        tm.plain_flow([1.0], 2.0, 0, seed=0)
    with pytest.raises(ValueError, match="^p:"):
        tm.coupon_collector_T0([0.5, 0.0])
    with pytest.raises(ValueError, match="^points:"):
        tm.coupon_collector_T0([0.5, 0.5], points=10)
    with pytest.raises(ValueError, match="^damping:"):
        tm.coupon_time_dp([0.5, 0.5], damping=0.0)
    with pytest.raises(ValueError, match="^p:"):
        tm.coupon_time_dp([1.0] * 21)
    with pytest.raises(ValueError, match="^a:"):
        tm.muon_T_bound([0.5, 0.5], -1.0)
