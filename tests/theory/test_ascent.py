"""li2core.theory.ascent: projected ascent (real and complex weights) and the small-step sphere flow reach the
maxima the theory predicts.

(Moved from tests/test_theory.py, tests/test_thm3_reconstruction_lib.py, tests/test_thm5_memorization_lib.py.)"""
from __future__ import annotations

import math

import numpy as np
import torch
from oracles import S3

from li2core import fourier
from li2core import theory as th
from li2core.groups import make

n, K, M = 9, 4, 5


DT = torch.float64


def test_project_ascent_finds_single_frequency_maxima_from_random_starts():
    M = 23
    g = make(f"Z{M}")
    w0 = th.random_starts(200, M, seed=0)
    assert torch.equal(w0, th.random_starts(200, M, seed=0))
    torch.testing.assert_close(w0.norm(dim=1), torch.ones(200, dtype=DT))
    E0 = th.energy(w0, g)
    r = th.project_ascent(w0, g, tol=1e-7)
    assert bool(r.converged.all()) and not bool(r.stalled.any())
    assert r.steps.max().item() < 200
    assert bool((r.E >= E0).all())
    torch.testing.assert_close(r.E, th.energy(r.w, g))
    torch.testing.assert_close(r.w.norm(dim=1), torch.ones(200, dtype=DT))
    # Cor. 2 (odd M): every maximum is single-frequency, with E = M/4 in the literal normalisation
    assert (r.E - M / 4).abs().max().item() < 1e-9
    spec = torch.fft.fft(r.w[:, :M], dim=1).abs() ** 2  # power of the u-half per frequency
    top = spec[:, 1:].reshape(200, -1)
    pair = torch.stack([spec[:, k] + spec[:, M - k] for k in range(1, (M - 1) // 2 + 1)], 1)
    assert (pair.max(1).values / top.sum(1)).min().item() > 1 - 1e-8
    # Theorem 2 says w = [u; +-P u]; in fact the second half is P u' with u' the same frequency and
    # norm as u but any relative phase (a flat direction): check |FFT(u)| = |FFT(P^{-1} v)|.
    u, Pv = r.w[:, :M], r.w[:, M:][:, fourier.inverse_perm(g)]
    torch.testing.assert_close(torch.fft.fft(u, dim=1).abs(), torch.fft.fft(Pv, dim=1).abs(), rtol=0, atol=1e-6)
    dev = torch.minimum((Pv - u).norm(dim=1), (Pv + u).norm(dim=1))
    assert dev.max().item() > 0.1  # ... and generic ascent outputs are not of the form [u; +-P u]
    # no positive curvature at an ascent output
    ev = th.tangent_hessian(r.w[0], g)
    assert ev.max().item() <= 1e-6 * ev.abs().max().item()


def test_project_ascent_even_and_non_abelian_values():
    r = th.project_ascent(th.random_starts(100, 12, seed=1), "Z12")
    assert bool(r.converged.all())
    vals = sorted(set(round(e, 6) for e in r.E.tolist()))
    assert set(vals) <= {12 / 4, 12 / 2}
    # S3: the sign irrep (d = 1) and the standard irrep (d = 2): 4 x M/8 and 4 x M/16
    r = th.project_ascent(th.random_starts(100, 6, seed=2), S3)
    assert bool(r.converged.all())
    assert set(round(e, 6) for e in r.E.tolist()) == {3.0, 1.5}
    # the 1-d sign irrep is a strict maximum (no flat direction); the 2-d irrep's maxima are flat
    ev_sign = th.tangent_hessian(r.w[int((r.E - 3.0).abs().argmin())], S3)
    ev_std = th.tangent_hessian(r.w[int((r.E - 1.5).abs().argmin())], S3)
    assert ev_sign.max().item() < -1.0
    assert ev_std.max().item() <= 1e-6 and ev_std.max().item() > -1e-6


def test_project_ascent_on_subsampled_rows_and_other_activations():
    g = make("Z11")
    rows = np.random.default_rng(3).choice(121, size=60, replace=False)
    w0 = th.random_starts(20, 11, seed=3)
    for act in ("sqr", "silu", "relu"):
        r = th.project_ascent(w0, g, act, rows=rows, steps=3000)
        assert bool((r.E >= th.energy(w0, g, act, rows=rows) - 1e-12).all())
        torch.testing.assert_close(r.E, th.energy(r.w, g, act, rows=rows))
        if act != "relu":
            assert bool(r.converged.all())
        else:
            assert bool((r.converged | r.stalled | (r.steps == 3000)).all())
    # the absolute test: the linear energy is identically 0 on full data, so every start is converged
    r = th.project_ascent(w0, g, "linear")
    assert bool(r.converged.all()) and r.steps.max().item() == 0


def test_project_ascent_complex_finds_the_complex_maxima():
    M = 7
    r = th.project_ascent(th.random_complex_starts(40, M, seed=2), f"Z{M}", steps=3000, tol=1e-10)
    assert bool(r.converged.all())
    torch.testing.assert_close(r.E, torch.full((40,), M / 2, dtype=DT), rtol=0, atol=1e-9)
    spec = fourier.cyclic_spectrum(r.w, M)
    assert float(spec.max(-1).values.min()) > 1 - 1e-9


def test_sphere_flow_keeps_dead_relu_pairs_dead_and_otherwise_reaches_the_maximum():
    g = make("Z7")
    M, h = 7, 1
    p = th.single_target_probabilities(M, 1)
    wts = th.single_target_weights(g, h, p)
    s0 = torch.tensor([0.4, 0.3, -0.2, 0.5, 0.2, 0.3, 0.1], dtype=DT)
    w0 = th.memorization_node(s0, g, h)
    w0 = w0 / w0.norm()
    w, E = th.sphere_flow(w0, g, "relu", dt=0.02, steps=2000, weights=wts)
    s = th.pair_sums(w, g, h)
    assert float(s[2]) <= 0 and float(s[2]) > -1e-6  # dead pair: shrinks to 0 from below, never revives
    live = torch.arange(M) != 2
    torch.testing.assert_close(s[live], math.sqrt(2) * p[live] / p[live].norm(), rtol=1e-6, atol=0)
    assert float(E) >= float(th.energy(w0, g, "relu", weights=wts))
    # all pairs alive: the flow reaches the spreading solution
    w, _ = th.sphere_flow(th.memorization_node(s0.abs(), g, h), g, "relu", dt=0.02, steps=2000, weights=wts)
    torch.testing.assert_close(th.pair_sums(w, g, h), math.sqrt(2) * p / p.norm(), rtol=1e-6, atol=0)
