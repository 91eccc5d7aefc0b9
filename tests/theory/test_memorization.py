"""li2core.theory.memorization (Thm 5): the reduced problem, the paper's KKT formulas, the single-target data.

(Moved from tests/test_theory.py, tests/test_thm3_reconstruction_lib.py, tests/test_thm5_memorization_lib.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from li2core import fourier
from li2core import theory as th
from li2core.groups import make

DT = torch.float64


def test_memorization_reduced():
    p = torch.tensor([0.21, 0.15, 0.10, 0.18, 0.14, 0.17, 0.05], dtype=DT)
    gstar = int(p.argmax())
    for act in ("sqr", "relusqr"):
        s = th.memorization_reduced(p, act)
        target = torch.zeros_like(p)
        target[gstar] = math.sqrt(2)
        torch.testing.assert_close(s, target, rtol=0, atol=1e-6)
    for act in ("relu", "linear"):
        s = th.memorization_reduced(p, act)
        torch.testing.assert_close(s, math.sqrt(2) * p / p.norm(), rtol=0, atol=1e-6)
    s = th.memorization_reduced(p, "silu")
    assert abs((s * s).sum().item() - 2) < 1e-12
    assert bool((s > 0).all())
    assert torch.equal(torch.argsort(s), torch.argsort(p))
    # KKT (Lemma 5): p_g phi(s_g) = p_g sigma'(s_g) / s_g is the same for every g
    sg = torch.sigmoid(s)
    k = p * sg * (1 + s * (1 - sg)) / s
    assert ((k.max() - k.min()) / k.mean()).item() < 1e-6
    # and it beats the other candidates
    obj = lambda v: (p * torch.nn.functional.silu(v)).sum().item()  # noqa: E731
    assert obj(s) > obj(math.sqrt(2) * p / p.norm()) and obj(s) > math.sqrt(2) * 0 + obj(torch.eye(7, dtype=DT)[gstar] * math.sqrt(2))



def _closed_form(p, act):
    """Theorem 5's solution of the reduced problem by its closed form: focused ``sqrt 2 e_{g*}`` (sqr, relusqr),
    ``sqrt 2 p / ||p||`` (relu, linear; Cauchy-Schwarz), the KKT solution of Lemma 5-6 (silu)."""
    if act in ("sqr", "relusqr"):
        s = torch.zeros_like(p)
        s[int(p.argmax())] = math.sqrt(2)
        return s
    if act in ("relu", "linear"):
        return math.sqrt(2) * p / p.norm()
    return th.memorization_kkt(p, act)[0]


@pytest.mark.parametrize("M, p_seed", [(7, 0), (11, 0), (23, 4)])
@pytest.mark.parametrize("act, atol", [("sqr", 1e-9), ("relusqr", 1e-9), ("relu", 1e-11), ("linear", 1e-11),
                                       ("silu", 1e-9)])
def test_memorization_reduced_from_random_starts_reaches_the_closed_forms(M, p_seed, act, atol):
    """From random points of the positive orthant (several seeds), not from the answer: the projected ascent
    reaches the focused solution (sqr, relusqr), s proportional to p (relu, linear) and the KKT solution (silu),
    within ``atol`` (max |s - s_closed|; the solver stops at a relative KKT residual of 1e-12)."""
    p = th.single_target_probabilities(M, p_seed)
    ref = _closed_form(p, act)
    for seed in range(5):
        s0 = th.memorization_reduced(p, act, steps=0, start="random", seed=seed)  # the start itself
        assert abs(float(s0.norm()) - math.sqrt(2)) < 1e-12 and bool((s0 >= 0).all())
        assert float((s0 - ref).abs().max()) > 1e-2  # the start is not the answer: the check can fail
        s = th.memorization_reduced(p, act, start="random", seed=seed)
        assert abs(float(s.pow(2).sum()) - 2) < 1e-12 and bool((s >= 0).all())
        torch.testing.assert_close(s, ref, rtol=0, atol=atol)


def test_memorization_reduced_starts():
    p = th.single_target_probabilities(9, 2)
    # the default start is sqrt 2 p / ||p||: ReLU's answer, where the ascent stops at once
    torch.testing.assert_close(th.memorization_reduced(p, "relu", steps=0), math.sqrt(2) * p / p.norm(), rtol=0,
                               atol=1e-15)
    torch.testing.assert_close(th.memorization_reduced(p, "silu"), th.memorization_reduced(p, "silu", start=None))
    a = th.memorization_reduced(p, "sqr", steps=0, start="random", seed=3)
    torch.testing.assert_close(a, th.memorization_reduced(p, "sqr", steps=0, start="random", seed=3), rtol=0, atol=0)
    assert not torch.equal(a, th.memorization_reduced(p, "sqr", steps=0, start="random", seed=4))
    # an explicit start is rescaled onto the sphere of radius sqrt 2
    s0 = torch.arange(1.0, 10.0, dtype=DT)
    torch.testing.assert_close(th.memorization_reduced(p, "sqr", steps=0, start=s0), math.sqrt(2) * s0 / s0.norm())
    torch.testing.assert_close(th.memorization_reduced(p, "silu", start=s0), th.memorization_kkt(p, "silu")[0],
                               rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="start"):
        th.memorization_reduced(p, "sqr", start="uniform")
    with pytest.raises(ValueError, match="start"):
        th.memorization_reduced(p, "sqr", start=-s0)
    with pytest.raises(ValueError, match="start"):
        th.memorization_reduced(p, "sqr", start=s0[:3])
    with pytest.raises(ValueError, match="seed"):
        th.memorization_reduced(p, "sqr", start="random", seed=1.5)

def test_memorization_nodes_reconstruct_with_M2_minus_1():
    M = 5
    W = th.memorization_nodes(M)
    assert W.shape == (2 * M, M * M)
    torch.testing.assert_close(W.norm(dim=0), torch.ones(M * M, dtype=DT))
    r = th.reconstruct(W, f"Z{M}")
    assert r.residual < 1e-10 and r.rank == M * M - 1
    assert th.reconstruct(W[:, 1:], f"Z{M}").residual < 1e-10  # one node is redundant after centring
    assert th.reconstruct(W[:, 2:], f"Z{M}").residual > 1e-2


@pytest.mark.parametrize("name", ["Z7", "S3"])
def test_single_target_rows_weights_and_pair_sums(name):
    g = make(name)
    M, T = g.order, g.table
    h = 2
    rows = th.single_target_rows(g, h)
    a, b = (rows // M).numpy(), (rows % M).numpy()
    assert a.tolist() == list(range(M)) and all(T[a, b] == h)
    p = th.single_target_probabilities(M, 3)
    wts = th.single_target_weights(g, h, p)
    assert wts.shape == (M * M,) and float(wts.sum()) == pytest.approx(1.0) and int((wts > 0).sum()) == M
    w = th.random_starts(1, M, seed=1)[0]
    s = th.pair_sums(w, g, h)
    np.testing.assert_allclose(s.numpy(), w[a].numpy() + w[M + b].numpy())
    with pytest.raises(ValueError, match="target"):
        th.single_target_rows(g, M)


@pytest.mark.parametrize("act", ["sqr", "relu", "silu"])
def test_weighted_energy_is_the_reduced_objective_squared_and_literal_rows_give_zero(act):
    g = make("Z7")
    M, h = 7, 4
    p = th.single_target_probabilities(M, 0)
    wts = th.single_target_weights(g, h, p)
    w = th.random_starts(5, M, seed=2)
    F = th.memorization_objective(th.pair_sums(w, g, h), p, act)
    torch.testing.assert_close(th.energy(w, g, act, weights=wts), 0.5 * (1 - 1 / M) * F**2, rtol=1e-12, atol=1e-15)
    # independent: explicit z over all pairs with weights, centred over classes
    X, Y = th.design(g)
    sig = {"sqr": lambda x: x * x, "relu": torch.relu, "silu": torch.nn.functional.silu}[act]
    z = Y.T @ (wts[:, None] * sig(X @ w.T))  # (M, B)
    zc = z - z.mean(0)
    torch.testing.assert_close(th.energy(w, g, act, weights=wts), 0.5 * zc.pow(2).sum(0), rtol=1e-12, atol=1e-15)
    rows = th.single_target_rows(g, h)
    assert float(th.energy(w, g, act, rows=rows, weights=p).abs().max()) < 1e-25


def test_memorization_node_round_trip_and_norm():
    g = make("D5")
    s = torch.tensor([0.3, 0.0, 1.0, 0.2, 0.5, 0.1, 0.0, 0.4, 0.2, 0.3], dtype=DT)
    w = th.memorization_node(s, g, 7)
    torch.testing.assert_close(th.pair_sums(w, g, 7), s)
    assert abs(float(w.norm()) ** 2 - float(s.pow(2).sum()) / 2) < 1e-14
    gs = 3
    foc = th.memorization_node(math.sqrt(2) * torch.eye(10, dtype=DT)[gs], g, 7)
    inv = fourier.inverse_perm(g)
    b = int(g.table[int(inv[gs]), 7])
    expect = torch.zeros(20, dtype=DT)
    expect[gs] = expect[10 + b] = 1 / math.sqrt(2)
    torch.testing.assert_close(foc, expect)  # the paper's focused (e_g*, e_{g*^-1 h}) / sqrt 2


def test_memorization_phi_and_profile_invert():
    x = torch.tensor([0.05, 0.3, 1.0, 2.5], dtype=DT)
    sg = torch.sigmoid(x)
    torch.testing.assert_close(th.memorization_phi(x, "silu"), sg / x + sg * (1 - sg))  # the paper's formula
    torch.testing.assert_close(th.memorization_phi(x, "relu"), 1 / x)
    torch.testing.assert_close(th.memorization_phi(x, "sqr"), torch.full_like(x, 2.0))
    p = torch.tensor([0.02, 0.1, 0.3], dtype=DT)
    for act in ("silu", "relu"):
        s = th.memorization_profile(p, 0.05, act)
        torch.testing.assert_close(p * th.memorization_phi(s, act), torch.full_like(p, 0.1), rtol=1e-10, atol=0)
    with pytest.raises(ValueError, match="phi"):
        th.memorization_profile(p, 0.05, "sqr")


@pytest.mark.parametrize("act", ["sqr", "relusqr", "relu", "silu"])
def test_memorization_kkt_matches_the_reduced_solver(act):
    p = th.single_target_probabilities(9, 5)
    s_kkt, lam = th.memorization_kkt(p, act)
    s_red = th.memorization_reduced(p, act)
    assert abs(float(s_kkt.pow(2).sum()) - 2) < 1e-10
    torch.testing.assert_close(s_kkt, s_red, rtol=0, atol=1e-8)
    on = s_kkt > 0
    k = p[on] * th.memorization_phi(s_kkt[on], act)
    torch.testing.assert_close(k, torch.full_like(k, 2 * lam), rtol=1e-8, atol=0)
    if act == "relu":
        torch.testing.assert_close(s_kkt, math.sqrt(2) * p / p.norm(), rtol=1e-10, atol=0)


def test_single_target_probabilities():
    p = th.single_target_probabilities(11, 0)
    assert abs(float(p.sum()) - 1) < 1e-15 and int((p == p.max()).sum()) == 1
    torch.testing.assert_close(p, th.single_target_probabilities(11, 0))
    with pytest.raises(ValueError, match="low"):
        th.single_target_probabilities(11, 0, low=1.0, high=0.5)


def test_relu_spreading_kkt_products_and_reduced_energy():
    p = torch.tensor([0.1, 0.4, 0.2, 0.3], dtype=torch.float64)
    s = th.relu_spreading(p)
    assert abs(float(s.pow(2).sum()) - 2) < 1e-14
    torch.testing.assert_close(s / p, torch.full_like(p, float(s[0] / p[0])))  # proportional to p
    torch.testing.assert_close(s, th.memorization_kkt(p, "relu")[0], rtol=1e-9, atol=1e-12)
    x = torch.tensor([0.5, 1.0, 2.0, 0.25], dtype=torch.float64)
    torch.testing.assert_close(th.kkt_products(x, p, "relu"), p / x)  # phi = 1/x for ReLU
    torch.testing.assert_close(th.kkt_products(x, p, "sqr"), 2 * p)  # phi = 2 for x^2
    assert th.reduced_energy(2.0, 4) == pytest.approx(0.5 * 0.75 * 4.0)
    # against the energy of the weighted single-target data itself
    G = make("Z5")
    q = th.single_target_probabilities(5, 3)
    s5 = torch.tensor([0.3, 0.7, 0.2, 0.9, 0.4], dtype=torch.float64)
    w = th.memorization_node(s5, G, 2)
    F = float((q * s5.pow(2)).sum())
    E = float(th.energy(w, G, "sqr", weights=th.single_target_weights(G, 2, q)))
    assert th.reduced_energy(F, 5) == pytest.approx(E, rel=1e-12)
