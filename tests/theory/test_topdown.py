"""li2core.theory.topdown (Thm 7): the modified energy E_S against an explicit-matrix numpy oracle, the closed form
(Eq. 20 restricted to the missing irreps) in both forms, the full energy for S empty, the least-squares residual of
constructed nodes, the gradient against autograd, ascent of E_S, and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracles import NP_ACT, cyclic_table, np_design

from li2core import fourier
from li2core import theory as th
from li2core.groups import make
from li2core.losses import center
from li2core.tasks import make_task, split

DT = torch.float64


def _rand_w(B, M, seed):
    return torch.randn(B, 2 * M, generator=torch.Generator().manual_seed(seed), dtype=DT)


def _np_missing_projector(M, learned):
    """(1/M) sum over the missing frequencies j (both j and M - j, never 0) of cos(2 pi j (h - h') / M)."""
    S = {min(j % M, (M - j) % M) for j in learned}
    h = np.arange(M)
    P = np.zeros((M, M))
    for j in range(1, M):
        if min(j, M - j) not in S:
            P += np.cos(2 * np.pi * j * (h[:, None] - h[None, :]) / M) / M
    return P


def _np_energy_missing(w, M, learned, act="sqr", rows=None):
    """1/2 ||R^T sigma(X w)||^2 with R = Y~ (I - Pi_0 - Pi_S) = Y~ Pi_miss, explicit matrices (no li2core code)."""
    X, Y = np_design(cyclic_table(M), rows)
    Yt = Y - Y.mean(0, keepdims=True)
    R = Yt @ _np_missing_projector(M, learned)
    z = R.T @ NP_ACT[act][0](X @ w)
    return 0.5 * z @ z


@pytest.mark.parametrize("M, learned", [(7, []), (7, [2]), (11, [1, 4]), (11, [3, 8, 5]), (12, [6, 1])])
def test_energy_missing_equals_the_numpy_oracle_and_both_closed_forms(M, learned):
    w = _rand_w(4, M, seed=M + len(learned))
    lit = th.energy_missing(w, f"Z{M}", learned)
    ref = torch.tensor([_np_energy_missing(x.numpy(), M, learned) for x in w], dtype=DT)
    assert torch.allclose(lit, ref, rtol=1e-10, atol=0)
    for form in ("paper", "frobenius"):  # every irrep of Z_M has d_k = 1: the two forms agree with the literal E_S
        cf = th.energy_missing_closed_form(w, f"Z{M}", learned, form=form)
        assert torch.allclose(cf, lit, rtol=1e-10, atol=0)
    assert th.energy_missing(w[0], f"Z{M}", learned).shape == ()


@pytest.mark.parametrize("act", ["sqr", "relu", "silu"])
def test_energy_missing_on_a_subset_of_rows_equals_the_oracle(act):
    M, learned = 9, [2]
    rows = split(make_task(make("Z9")), 0.6, 3).train
    w = _rand_w(3, M, seed=5)
    lit = th.energy_missing(w, "Z9", learned, activation=act, rows=rows)
    ref = torch.tensor([_np_energy_missing(x.numpy(), M, learned, act, rows.tolist()) for x in w], dtype=DT)
    assert torch.allclose(lit, ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("group", ["Z7", "Z10", "S3", "D5"])
def test_empty_S_is_theorem_1s_energy(group):
    g = make(group)
    w = _rand_w(5, g.order, seed=2)
    E = th.energy(w, g, "sqr")
    assert torch.allclose(th.energy_missing(w, g, []), E, rtol=1e-12, atol=0)
    assert torch.allclose(th.energy_missing_closed_form(w, g, [], form="frobenius"), E, rtol=1e-10, atol=0)
    rows = split(make_task(g), 0.5, 1).train
    assert torch.allclose(th.energy_missing(w, g, [], rows=rows), th.energy(w, g, "sqr", rows=rows), rtol=1e-12)


def test_learned_frequencies_vanish_and_missing_ones_keep_their_maxima():
    M = 13
    for j in range(1, M // 2 + 1):
        node = fourier.fourier_node(M, j, phase=0.3 * j, offset=0.2, sign=1 if j % 2 else -1)
        E = float(th.energy(node, f"Z{M}", "sqr"))
        assert E == pytest.approx(M / 4, rel=1e-12)  # the literal maximum of a complex pair (4 x Thm 2's M/16)
        for name in (j, M - j):  # j and M - j name the same pair
            assert abs(float(th.energy_missing(node, f"Z{M}", [name]))) <= 1e-12 * E
        other = [k for k in range(1, M // 2 + 1) if k != j]
        assert float(th.energy_missing(node, f"Z{M}", other)) == pytest.approx(E, rel=1e-12)


def test_projectors_and_components():
    g = make("Z10")
    assert th.learned_components(g, [9, 1, 3, 7]) == (1, 3)
    assert th.missing_components(g, [9, 3]) == (2, 4, 5)
    P = th.missing_projector(g, [2]).numpy()
    assert np.allclose(P, _np_missing_projector(10, [2]), atol=1e-12)
    assert np.allclose(P @ P, P, atol=1e-12) and np.allclose(P, P.T, atol=1e-12)
    # on all pairs R = Y Pi_miss: row i is Pi_miss e_{y_i}
    R = th.irrep_residual(g, [2]).numpy()
    _, Y = np_design(cyclic_table(10))
    assert np.allclose(R, Y @ _np_missing_projector(10, [2]), atol=1e-12)
    assert np.allclose(th.irrep_residual(g, []).numpy(), Y - Y.mean(0), atol=1e-12)


def test_nonabelian_frobenius_form_is_exact_and_the_printed_form_only_for_one_dimensional_irreps():
    g = make("S3")
    comps = g.real_isotypic_projectors()
    dims = {c.index: c.dim for c in comps}
    w = _rand_w(6, g.order, seed=7)
    for c in comps[1:]:
        lit = th.energy_missing(w, g, [c.index])
        fro = th.energy_missing_closed_form(w, g, [c.index], form="frobenius")
        assert torch.allclose(fro, lit, rtol=1e-10, atol=0)
        pap = th.energy_missing_closed_form(w, g, [c.index], form="paper")
        missing_dims = [dims[k] for k in dims if k not in (0, c.index)]
        if max(missing_dims) == 1:
            assert torch.allclose(pap, lit, rtol=1e-10, atol=0)
        else:  # |tr A|^2 is not ||A||_F^2 for a 2 x 2 block: the printed form misses E_S at generic w
            assert float(((pap - lit).abs() / lit).max()) > 0.1


def test_ls_residual_of_phase_offset_maxima_is_the_irrep_residual():
    """Four real maxima per learned frequency with offset halves span the two 2-d isotypic blocks the labels need
    (Thm 3), so the least-squares readout removes exactly those components; exact maxima [u; +-P u] cannot."""
    M, S = 11, [2, 4]
    g = make(f"Z{M}")
    W, fr = fourier.real_fourier_nodes(M, 4, offset=0.5, seed=0, layout="quadrature")
    W = W[:, torch.isin(fr, torch.tensor(S))]
    R = th.ls_residual(W, g)
    assert torch.allclose(R, th.irrep_residual(g, S), atol=1e-10)
    # an independent least squares: numpy lstsq on the centred features
    X, Y = np_design(cyclic_table(M))
    F = (X @ W.numpy()) ** 2
    Ft, Yt = F - F.mean(0), Y - Y.mean(0)
    V = np.linalg.lstsq(Ft, Yt, rcond=None)[0]
    assert np.allclose(R.numpy(), Yt - Ft @ V, atol=1e-9)
    # ridge with a tiny eta approaches the least-squares residual
    assert torch.allclose(th.ls_residual(W, g, eta=1e-9), R, atol=1e-6)
    W0, fr0 = fourier.real_fourier_nodes(M, 4, offset=0.0, seed=0, layout="quadrature")
    W0 = W0[:, torch.isin(fr0, torch.tensor(S))]
    assert float((th.ls_residual(W0, g) - th.irrep_residual(g, S)).abs().max()) > 0.05


@pytest.mark.parametrize("act", ["sqr", "silu"])
def test_energy_residual_gradient_equals_autograd(act):
    M = 7
    g = make(f"Z{M}")
    rows = split(make_task(g), 0.7, 0).train
    R = center(torch.randn(len(rows), M, generator=torch.Generator().manual_seed(4), dtype=DT))
    w = _rand_w(3, M, seed=8).requires_grad_(True)
    E, G = th.energy_residual_and_grad(w, R, g, act, rows=rows)
    (auto,) = torch.autograd.grad(th.energy_residual(w, R, g, act, rows=rows).sum(), w)
    assert torch.allclose(G, auto, rtol=1e-10, atol=1e-12)
    assert torch.allclose(E, th.energy_residual(w, R, g, act, rows=rows), rtol=1e-14)


def test_ascent_of_E_S_ends_on_missing_components_only():
    M, S = 11, [1, 3]
    w0 = _rand_w(12, M, seed=3)
    w, ES, conv = th.ascend_missing(w0, f"Z{M}", S, steps=3000)
    assert bool(conv.all())
    comp, pur = fourier.dominant_component(w, f"Z{M}")
    assert not np.isin(comp, S).any() and pur.min() > 0.999
    assert torch.allclose(ES, torch.full_like(ES, M / 4), rtol=1e-6)  # a missing maximum keeps Theorem 1's value
    assert torch.allclose(w.norm(dim=-1), torch.ones(12, dtype=DT), atol=1e-12)
    # a learned frequency's node is a zero of E_S, and the ascent from a point next to it leaves for a missing one
    start = fourier.fourier_node(M, 1) + 0.05 * _rand_w(1, M, seed=9)[0]
    w1, _, _ = th.ascend_missing(start[None], f"Z{M}", S, steps=3000)
    assert fourier.dominant_component(w1[0], f"Z{M}")[0] not in S


def test_bad_input_raises_one_line_value_errors():
    g = make("Z7")
    w = _rand_w(2, 7, seed=0)
    for bad, word in [([0], "trivial"), ([7], "not one of"), ([-1], "not one of"), ([1.5], "integer"),
                      ([True], "integer"), (["2"], "integer")]:
        with pytest.raises(ValueError, match="learned") as e:
            th.energy_missing(w, g, bad)
        assert word in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match="learned"):
        th.learned_components("S3", [3])
    with pytest.raises(ValueError, match="form"):
        th.energy_missing_closed_form(w, g, [1], form="trace")
    with pytest.raises(ValueError, match="residual"):
        th.energy_residual(w, torch.zeros(5, 7, dtype=DT), g)
    with pytest.raises(ValueError, match="eta"):
        th.ls_residual(torch.zeros(14, 2, dtype=DT), g, eta=-1.0)
    with pytest.raises(ValueError, match="steps"):
        th.ascend_missing(w, g, [1], steps=-1)
    with pytest.raises(ValueError, match="w0"):
        th.ascend_missing(_rand_w(2, 6, seed=0), g, [1], steps=1)
    assert math.isfinite(float(th.energy_missing(w[0], g, (np.int64(2),))))
