"""li2core.fourier: single-frequency nodes (real, complex), the inversion map, spectra and component names.

(Moved from tests/test_groups.py, tests/test_theory.py, tests/test_thm2_maxima_lib.py, tests/test_thm3_reconstruction_lib.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracles import S3

from li2core import fourier, groups
from li2core import theory as th
from li2core.fourier import component_labels, dominant_component, fourier_basis, purity
from li2core.groups import make

n, K, M = 9, 4, 5


DT = torch.float64


def test_inverse_perm():
    for name, M in (("Z9", 9), ("Z2xZ3", 6)):
        g = make(name)
        inv = fourier.inverse_perm(g)
        T = torch.as_tensor(g.table)
        e = int(T[0, 0])  # 0 is the identity of these groups
        assert torch.all(T[torch.arange(M), inv] == e)
    assert torch.equal(fourier.inverse_perm(make("Z9")), (-torch.arange(9)) % 9)
    inv = fourier.inverse_perm(S3)
    T = torch.as_tensor(S3.table)
    e = int((T == torch.arange(6)[None]).all(1).nonzero()[0])
    assert torch.all(T[torch.arange(6), inv] == e) and torch.all(T[inv, torch.arange(6)] == e)
    assert torch.equal(inv[inv], torch.arange(6))
    assert sorted(inv.tolist()) == list(range(6))


def test_fourier_node_uses_the_inverse_operator():
    M = 9
    w = fourier.fourier_node(M, 2, 0.7, -1)
    u, v = w[:M], w[M:]
    torch.testing.assert_close(v, -u[fourier.inverse_perm(make("Z9"))])
    torch.testing.assert_close(u.norm() ** 2, torch.tensor(0.5, dtype=DT))
    w = fourier.fourier_node(M, 2, 0.7, 1, offset=0.4)
    mm = torch.arange(M, dtype=DT)
    up = torch.cos(2 * math.pi * 2 * mm / M + 1.1)
    torch.testing.assert_close(w[M:] / w[:M].norm(), up[(-torch.arange(M)) % M] / up.norm())


def test_component_name():
    assert fourier.component_name("Z9", 2) == "j=2"
    assert fourier.component_name("Z2xZ3", 1).startswith("(")
    names = [fourier.component_name("S3", i) for i in range(3)]
    assert names[2].endswith("d=2") and not names[1].endswith("d=2")


def test_real_fourier_nodes_layout_prefix_and_energy():
    M = 9
    W, freq = fourier.real_fourier_nodes(M, 4, offset=0.3, seed=2)
    assert W.shape == (2 * M, 4 * 4) and freq.tolist() == [1, 2, 3, 4] * 4
    torch.testing.assert_close(W.norm(dim=0), torch.ones(16, dtype=DT))
    W8, _ = fourier.real_fourier_nodes(M, 8, offset=0.3, seed=2)
    torch.testing.assert_close(W8[:, :16], W)  # more nodes per frequency only append
    E = th.energy(W.T, f"Z{M}", "sqr")
    torch.testing.assert_close(E, torch.full((16,), M / 4, dtype=DT))  # all are maxima (E = M/4 literally)
    Wq, fq = fourier.real_fourier_nodes(M, 8, offset=0.3, seed=2, layout="quadrature")
    assert Wq.shape == (2 * M, 32) and fq.tolist() == [1, 2, 3, 4] * 8
    with pytest.raises(ValueError, match="multiple of 4"):
        fourier.real_fourier_nodes(M, 6, layout="quadrature")
    with pytest.raises(ValueError, match="layout"):
        fourier.real_fourier_nodes(M, 4, layout="nope")


def test_fourier_offset_recovers_offset_and_sign():
    M = 11
    for j, d, sign in [(1, 0.3, 1), (3, -1.1, 1), (5, 0.2, -1)]:
        w = fourier.fourier_node(M, j, phase=0.7, sign=sign, offset=d)
        jj, dd = fourier.fourier_offset(w, M)
        assert int(jj) == j
        expect = d if sign == 1 else math.remainder(d + math.pi, 2 * math.pi)
        assert abs(math.remainder(float(dd) - expect, 2 * math.pi)) < 1e-12


def test_complex_fourier_nodes_are_critical_points_with_E_M_over_2():
    M = 7
    for k, ratio in [(1, 1.0), (3, -1.0), (5, complex(math.cos(0.4), math.sin(0.4)))]:
        w = fourier.complex_fourier_node(M, k, ratio=ratio, phase=0.3)
        E, G = th.energy_complex(w, f"Z{M}")
        assert abs(float(E) - M / 2) < 1e-12
        gt = G - (w.conj() * G).real.sum() * w
        assert float(gt.abs().max()) < 1e-12
        spec = fourier.cyclic_spectrum(w, M)
        assert abs(float(spec[k]) - 1) < 1e-12
    with pytest.raises(ValueError, match="k"):
        fourier.complex_fourier_node(M, 0)


def test_cyclic_spectrum_of_a_real_node_splits_between_j_and_minus_j():
    M = 9
    spec = fourier.cyclic_spectrum(fourier.fourier_node(M, 2, offset=0.3)[None], M)[0]
    assert abs(float(spec[2]) - 0.5) < 1e-12 and abs(float(spec[M - 2]) - 0.5) < 1e-12
    assert abs(float(spec.sum()) - 1) < 1e-12


# ---------------------------------------------------------------------------------------------- basis and purity
@pytest.mark.parametrize("M", [1, 2, 5, 8, 13, 71])
def test_fourier_basis(M):
    F, freq = fourier_basis(M)
    m = np.arange(M)
    assert F.shape == (M, M) and freq.shape == (M,)
    assert np.abs(F.T @ F - np.eye(M)).max() < 1e-12 and np.abs(F @ F.T - np.eye(M)).max() < 1e-12
    assert np.allclose(F[:, 0], 1 / np.sqrt(M)) and freq[0] == 0
    assert sorted(set(freq.tolist())) == list(range(M // 2 + 1))
    for j in range(1, (M - 1) // 2 + 1):
        c, s = np.flatnonzero(freq == j)
        assert np.allclose(F[:, c], np.sqrt(2 / M) * np.cos(2 * np.pi * j * m / M))
        assert np.allclose(F[:, s], np.sqrt(2 / M) * np.sin(2 * np.pi * j * m / M))
    if M % 2 == 0:
        assert freq[-1] == M // 2 and np.allclose(F[:, -1], (-1.0) ** m / np.sqrt(M))
    with pytest.raises(ValueError):
        fourier_basis(0)


@pytest.mark.parametrize("M", [7, 12, 23])
def test_purity_of_a_single_frequency_wave(M):
    m = np.arange(M)
    for j in range(1, M // 2 + 1):
        phase = 0.3 * j
        u = np.cos(2 * np.pi * j * m / M + phase)
        v = 0.5 * np.cos(2 * np.pi * j * m / M - 1.1)
        w = np.concatenate([u, v[groups.make(f"Z{M}").inverse]])  # [u; P v]
        p = purity(w, f"Z{M}")
        assert p.shape == (M // 2 + 1,)
        assert p[j] == pytest.approx(1.0, abs=1e-12)
        assert dominant_component(w, f"Z{M}") == (j, pytest.approx(1.0))
    # constants live in the trivial component
    assert purity(np.ones(2 * M), f"Z{M}")[0] == pytest.approx(1.0)
    # both halves count: u at frequency 1 (power M/2), v at frequency 2 (power 3 M/2)
    w = np.concatenate([np.cos(2 * np.pi * m / M), np.sqrt(3) * np.sin(2 * np.pi * 2 * m / M)])
    p = purity(w, f"Z{M}")
    assert p[1] == pytest.approx(1 / 4) and p[2] == pytest.approx(3 / 4) and p.sum() == pytest.approx(1.0)
    # a mixture of two frequencies splits its power accordingly
    u = np.cos(2 * np.pi * m / M) + 2 * np.sin(2 * np.pi * 2 * m / M)
    p = purity(np.concatenate([u, np.zeros(M)]), f"Z{M}")
    assert p[1] == pytest.approx(1 / 5) and p[2] == pytest.approx(4 / 5)


def test_purity_of_random_vectors_and_batches():
    g = groups.make("D5xZ3")
    rng = np.random.default_rng(0)
    W = rng.standard_normal((17, 2 * g.order))
    p = purity(W, g)
    assert p.shape == (17, len(g.real_isotypic_projectors()))
    assert np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0)
    # batch = rows one by one; a torch tensor works; a name works
    assert np.allclose(p[3], purity(W[3], g))
    assert np.allclose(purity(torch.from_numpy(W), "D5xZ3"), p)
    assert np.allclose(purity(W.reshape(1, 17, -1), g)[0], p)
    idx, frac = dominant_component(W, g)
    assert idx.shape == (17,) and np.allclose(frac, p.max(axis=1)) and np.array_equal(idx, p.argmax(axis=1))
    # expected purity of an isotropic random vector is rank / M
    ranks = np.array([c.rank for c in g.real_isotypic_projectors()])
    big = purity(rng.standard_normal((4000, 2 * g.order)), g).mean(axis=0)
    assert np.allclose(big, ranks / g.order, atol=0.01)
    # scale invariance, zero vector -> NaN, wrong length -> error
    assert np.allclose(purity(5 * W, g), p)
    assert np.all(np.isnan(purity(np.zeros(2 * g.order), g)))
    with pytest.raises(ValueError):
        purity(np.ones(g.order), g)
    with pytest.raises(ValueError):
        purity(np.ones((3, 2 * g.order + 1)), g)


@pytest.mark.parametrize("name", ["D5", "Dic3", "S4", "Z4xZ7"])
def test_purity_inside_one_real_component(name):
    g = groups.make(name)
    M = g.order
    rng = np.random.default_rng(3)
    for c in g.real_isotypic_projectors():
        u = c.projector @ rng.standard_normal(M)
        v = c.projector @ rng.standard_normal(M)
        for w in (np.concatenate([u, v]), np.concatenate([u, v[g.inverse]]), np.concatenate([u, np.zeros(M)])):
            p = purity(w, g)
            assert p[c.index] == pytest.approx(1.0, abs=1e-10)
            assert dominant_component(w, g)[0] == c.index


def test_component_labels():
    assert component_labels("Z7") == [0, 1, 2, 3]
    assert component_labels("Z8") == [0, 1, 2, 3, 4]
    labs = component_labels("Z4xZ3")
    assert labs[0] == (0, 0) and len(labs) == len(set(labs))
    assert len(component_labels("D5")) == 4 and component_labels("D5")[0] == 0


def test_character_coefficients():
    M = 5
    k = torch.tensor([1, 3])
    m = torch.arange(M, dtype=torch.float64)
    chi = torch.exp(2j * np.pi * k[:, None].double() * m / M)
    a = torch.tensor([0.5 + 0.2j, -1.0j], dtype=torch.complex128)
    b = torch.tensor([0.3 - 0.1j, 2.0 + 0j], dtype=torch.complex128)
    W = torch.cat([a[:, None] * chi, b[:, None] * chi], dim=1)
    alpha, beta = fourier.character_coefficients(W, k, M)
    np.testing.assert_allclose(alpha.numpy(), M * a.numpy(), rtol=1e-12)  # <chi_k, a chi_k> = a M
    np.testing.assert_allclose(beta.numpy(), M * b.numpy(), rtol=1e-12)
