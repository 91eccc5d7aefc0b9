"""li2core.theory.maxima (Thm 2, Cor. 1-2): the paper's E*, the factor 4 of the literal Eq. 7, flat maxima, the
linear case.

(Moved from tests/test_theory.py, tests/test_thm2_maxima_lib.py.)"""
from __future__ import annotations

import math

import pytest
import torch

from li2core import fourier
from li2core import theory as th
from li2core.groups import make

n, K, M = 9, 4, 5


DT = torch.float64


@pytest.mark.parametrize("M", [11, 23])
def test_fourier_nodes_are_flat_local_maxima_on_the_sphere(M):
    """Theorem 2 / Cor. 2 / Cor. 1 for odd M: single-frequency [u; +-P u] is stationary, the
    tangent Hessian has no positive eigenvalue, and the phase direction is flat (eigenvalue 0)."""
    g = make(f"Z{M}")
    for freq, phase, sign in [(1, 0.0, 1), (3, 0.4, -1), ((M - 1) // 2, 1.3, 1)]:
        w = fourier.fourier_node(M, freq, phase, sign)
        assert abs(w.norm().item() - 1) < 1e-14
        E, G = th.energy_and_grad(w, g)
        assert th.tangent_grad(w, g).norm().item() <= 1e-12 * G.norm().item()
        ev = th.tangent_hessian(w, g)
        scale = ev.abs().max().item()
        assert ev.max().item() <= 1e-8 * scale
        assert (ev.abs() <= 1e-8 * scale).sum().item() >= 1
        # and it is a genuine maximum: the other eigenvalues are clearly negative; exactly two flat
        # directions, the common phase and the relative phase of the two halves
        assert (ev < -1e-3 * scale).sum().item() == 2 * M - 3
    w = fourier.fourier_node(M, 2, 0.3, 1, offset=1.1)
    assert abs(th.energy(w, g).item() - M / 4) < 1e-12 * M
    assert th.tangent_grad(w, g).norm().item() < 1e-12 * M
    assert th.tangent_hessian(w, g).max().item() <= 1e-8 * M


@pytest.mark.parametrize("M", [11, 23, 71, 10, 12])
def test_energy_at_unit_fourier_nodes_is_four_times_the_papers_constant(M):
    """Literal Eq. 7 at unit-norm single-frequency nodes: E = M/4 (complex pair), and M/2 for the
    real frequency M/2 of even M -- 4x the paper's M/16 and M/8. The factor 4 is the dropped 2 of
    the cross term 2 u_i v_j of (u_i + v_j)^2 in the proof of Theorem 2 (see li2core.theory)."""
    g = make(f"Z{M}")
    for freq in (1, 2, M // 3):
        for phase, sign in ((0.0, 1), (0.9, -1)):
            E = th.energy(fourier.fourier_node(M, freq, phase, sign), g).item()
            assert abs(E - M / 4) <= 1e-12 * M
            assert abs(E / (M / 16) - 4) <= 1e-12
    if M % 2 == 0:
        E = th.energy(fourier.fourier_node(M, M // 2), g).item()
        assert abs(E - M / 2) <= 1e-12 * M and abs(E / (M / 8) - 4) <= 1e-12
        # the real-irrep maximum is strict: no zero eigenvalue (Cor. 1's flatness is for complex irreps)
        ev = th.tangent_hessian(fourier.fourier_node(M, M // 2), g)
        assert ev.max().item() < -1.0


def test_the_explicit_group_form_of_E_at_a_fourier_node():
    # Independent closed form for Z_M, sigma = x^2: z_h = 1 + sign cos(2 pi j h / M), E = 1/2 sum_h cos^2 = M/4.
    M, j = 13, 4
    g = make(f"Z{M}")
    w = fourier.fourier_node(M, j, 0.0, -1)
    X, Y = th.design(g)
    z = Y.T @ (X @ w) ** 2
    h = torch.arange(M, dtype=DT)
    torch.testing.assert_close(z, 1 - torch.cos(2 * math.pi * j * h / M), rtol=0, atol=1e-13)


def test_paper_energy_constant():
    assert th.paper_energy_constant(23, 1, "complex") == 23 / 16
    assert th.paper_energy_constant(24, 1, "real") == 3.0
    assert th.paper_energy_constant(6, 2, "real") == 6 / 16
    assert math.isnan(th.paper_energy_constant(12, 2, "quaternionic"))
    with pytest.raises(ValueError, match="kind"):
        th.paper_energy_constant(5, 1, "imaginary")


def test_lda_matrix_and_class_means():
    g = make("Z7")
    rows = [0, 2, 3, 9, 10, 18, 20, 33, 40, 41, 47]
    A = th.lda_matrix(g, rows)
    w = th.random_starts(5, 7, seed=4)
    torch.testing.assert_close(0.5 * torch.einsum("bi,ij,bj->b", w, A, w), th.energy(w, g, "linear", rows),
                               rtol=1e-12, atol=1e-14)
    assert th.lda_matrix(g).abs().max().item() < 1e-12  # identical class means on the full data
    mu = th.class_means(g)
    torch.testing.assert_close(mu, torch.full((7, 14), 1 / 7, dtype=DT))
    # Y~^T X = diag(c) (mu_h - mu_bar) on a subset
    X, Y = th.design(g, rows)
    c = Y.sum(0)
    mu_s = th.class_means(g, rows)
    present = c > 0
    lhs = (Y - Y.mean(0)).T @ X
    torch.testing.assert_close(lhs[present], (c[:, None] * (mu_s - X.mean(0)))[present], rtol=1e-12, atol=1e-12)
    assert torch.isnan(mu_s[~present]).all()


def test_lda_factor_is_the_square_root_of_lda_matrix():
    g = make("Z7")
    rows = torch.arange(0, 49, 3)
    A = th.lda_factor(g, rows)
    assert A.shape == (7, 14)
    torch.testing.assert_close(A.T @ A, th.lda_matrix(g, rows), rtol=0, atol=0)
    X, Y = th.design(g, rows)
    torch.testing.assert_close(A, (Y - Y.mean(0)).T @ X, rtol=1e-12, atol=1e-12)
    assert A.abs().max() > 0.1 and th.lda_factor(g).abs().max() < 1e-12  # a subset breaks the Latin square
