"""Library code of the chapter thm3_reconstruction (Theorem 3), checked against independent computations:
explicit one-hot ``X``, numpy least squares, autograd for the complex energy, closed forms."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core import plots
from li2core import theory as th
from li2core.groups import make

DT = torch.float64


def _np_design(M: int):
    """Explicit X (M^2, 2M) and Y (M^2, M) of Z_M in the pair order (r // M, r % M)."""
    r = np.arange(M * M)
    a, b = r // M, r % M
    X = np.zeros((M * M, 2 * M))
    X[r, a] = 1.0
    X[r, M + b] = 1.0
    Y = np.zeros((M * M, M))
    Y[r, (a + b) % M] = 1.0
    return X, Y


# ----------------------------------------------------------------------------------------------
# real Fourier nodes, exact maxima, offsets
# ----------------------------------------------------------------------------------------------


def test_real_fourier_nodes_layout_prefix_and_energy():
    M = 9
    W, freq = th.real_fourier_nodes(M, 4, offset=0.3, seed=2)
    assert W.shape == (2 * M, 4 * 4) and freq.tolist() == [1, 2, 3, 4] * 4
    torch.testing.assert_close(W.norm(dim=0), torch.ones(16, dtype=DT))
    W8, _ = th.real_fourier_nodes(M, 8, offset=0.3, seed=2)
    torch.testing.assert_close(W8[:, :16], W)  # more nodes per frequency only append
    E = th.energy(W.T, f"Z{M}", "sqr")
    torch.testing.assert_close(E, torch.full((16,), M / 4, dtype=DT))  # all are maxima (E = M/4 literally)
    Wq, fq = th.real_fourier_nodes(M, 8, offset=0.3, seed=2, layout="quadrature")
    assert Wq.shape == (2 * M, 32) and fq.tolist() == [1, 2, 3, 4] * 8
    with pytest.raises(ValueError, match="multiple of 4"):
        th.real_fourier_nodes(M, 6, layout="quadrature")
    with pytest.raises(ValueError, match="layout"):
        th.real_fourier_nodes(M, 4, layout="nope")


def test_fourier_offset_recovers_offset_and_sign():
    M = 11
    for j, d, sign in [(1, 0.3, 1), (3, -1.1, 1), (5, 0.2, -1)]:
        w = th.fourier_node(M, j, phase=0.7, sign=sign, offset=d)
        jj, dd = th.fourier_offset(w, M)
        assert int(jj) == j
        expect = d if sign == 1 else math.remainder(d + math.pi, 2 * math.pi)
        assert abs(math.remainder(float(dd) - expect, 2 * math.pi)) < 1e-12


@pytest.mark.parametrize("M", [7, 9, 8])
def test_exact_maxima_residual_closed_form_and_cosine_half(M):
    W, _ = th.real_fourier_nodes(M, 8, offset=0.0, seed=1)
    r = th.reconstruct(W, f"Z{M}")
    assert abs(r.residual - th.exact_maxima_residual(M)) < 1e-10
    if M % 2:
        assert abs(th.exact_maxima_residual(M) - 1 / math.sqrt(2)) < 1e-15
    # the fit is the cosine half of Y~, computed independently with numpy
    X, Y = _np_design(M)
    F = (X @ W.numpy()) ** 2
    Ft, Yt = F - F.mean(0), Y - Y.mean(0)
    V = np.linalg.lstsq(Ft, Yt, rcond=None)[0]
    np.testing.assert_allclose(Ft @ V, th.exact_maxima_prediction(M).numpy(), atol=1e-10)


def test_generic_and_quadrature_counts_for_odd_M():
    M = 7
    c = th.theorem3_counts(M)
    assert c["paper"] == 12 and c["real_generic"] == 24 and c["real_quadrature"] == 12 and c["memorization"] == 48
    with pytest.raises(ValueError, match="odd"):
        th.theorem3_counts(8)
    W, _ = th.real_fourier_nodes(M, 8, offset=0.3, seed=0)
    assert th.reconstruct(W, f"Z{M}").residual < 1e-9
    assert th.reconstruct(W[:, : 7 * 3], f"Z{M}").residual > 1e-2
    Wq, _ = th.real_fourier_nodes(M, 4, offset=0.3, seed=0, layout="quadrature")
    assert th.reconstruct(Wq, f"Z{M}").residual < 1e-9
    assert th.reconstruct(Wq[:, :-1], f"Z{M}").residual > 1e-2
    assert th.feature_rank(W[:, ::3], f"Z{M}") == 8  # one frequency (column r*3 is frequency 1): 8 dimensions


def test_theorem3_width():
    assert th.theorem3_width("Z7") == (12, 12)
    assert th.theorem3_width("S3") == (34, 34)
    assert th.theorem3_width(make("D5")) == (66, 102)


def test_memorization_nodes_reconstruct_with_M2_minus_1():
    M = 5
    W = th.memorization_nodes(M)
    assert W.shape == (2 * M, M * M)
    torch.testing.assert_close(W.norm(dim=0), torch.ones(M * M, dtype=DT))
    r = th.reconstruct(W, f"Z{M}")
    assert r.residual < 1e-10 and r.rank == M * M - 1
    assert th.reconstruct(W[:, 1:], f"Z{M}").residual < 1e-10  # one node is redundant after centring
    assert th.reconstruct(W[:, 2:], f"Z{M}").residual > 1e-2


def test_reconstruction_curve_and_round_robin():
    M = 7
    W, _ = th.real_fourier_nodes(M, 8, offset=0.2, seed=3)
    cur = th.reconstruction_curve(W, f"Z{M}", [3, 10, 24])
    for c in cur:
        r = th.reconstruct(W[:, : c["K"]], f"Z{M}")
        assert c["residual"] == r.residual and c["rank"] == r.rank
        assert abs(c["V_norm"] - float(r.V.norm())) < 1e-12
    with pytest.raises(ValueError, match="Ks"):
        th.reconstruction_curve(W, f"Z{M}", [0])
    assert th.round_robin([2, 1, 2, 1, 3, 2], 2).tolist() == [1, 0, 4, 3, 2]
    assert th.round_robin([2, 1, 2, 1, 3, 2], {1: 1, 2: 3, 3: 0}).tolist() == [1, 0, 2, 5]


def test_feature_rank_ignores_noise_below_rtol():
    M = 7
    w = th.fourier_node(M, 2, offset=0.4)
    noisy = torch.stack([w + 1e-13 * torch.randn(2 * M, generator=torch.Generator().manual_seed(i), dtype=DT)
                         for i in range(10)], 1)
    assert th.feature_rank(noisy, f"Z{M}") == 1


# ----------------------------------------------------------------------------------------------
# complex nodes, complex energy and ascent, complex least squares
# ----------------------------------------------------------------------------------------------


def test_energy_complex_matches_autograd_explicit_X_and_the_real_energy():
    M = 6
    g = make(f"Z{M}")
    w = th.random_complex_starts(3, M, seed=1).requires_grad_(True)
    E, G = th.energy_complex(w, g)
    E.sum().backward()
    torch.testing.assert_close(G, w.grad, rtol=1e-12, atol=1e-13)  # PyTorch: dE/dRe + i dE/dIm
    X, Y = _np_design(M)
    Xc, Yt = torch.from_numpy(X).to(torch.complex128), torch.from_numpy(Y - Y.mean(0)).to(torch.complex128)
    z = Yt.T @ (Xc @ w.detach().T) ** 2  # (M, B)
    torch.testing.assert_close(E.detach(), 0.5 * z.abs().pow(2).sum(0), rtol=1e-12, atol=1e-14)
    wr = th.random_starts(2, M, seed=4)
    Ec, Gc = th.energy_complex(wr.to(torch.complex128), g)
    torch.testing.assert_close(Ec, th.energy(wr, g, "sqr"), rtol=1e-12, atol=0)
    torch.testing.assert_close(Gc.real, th.energy_grad(wr, g, "sqr"), rtol=1e-12, atol=1e-13)


def test_complex_fourier_nodes_are_critical_points_with_E_M_over_2():
    M = 7
    for k, ratio in [(1, 1.0), (3, -1.0), (5, complex(math.cos(0.4), math.sin(0.4)))]:
        w = th.complex_fourier_node(M, k, ratio=ratio, phase=0.3)
        E, G = th.energy_complex(w, f"Z{M}")
        assert abs(float(E) - M / 2) < 1e-12
        gt = G - (w.conj() * G).real.sum() * w
        assert float(gt.abs().max()) < 1e-12
        spec = th.cyclic_spectrum(w, M)
        assert abs(float(spec[k]) - 1) < 1e-12
    with pytest.raises(ValueError, match="k"):
        th.complex_fourier_node(M, 0)


def test_project_ascent_complex_finds_the_complex_maxima():
    M = 7
    r = th.project_ascent_complex(th.random_complex_starts(40, M, seed=2), f"Z{M}", steps=3000, tol=1e-10)
    assert bool(r.converged.all())
    torch.testing.assert_close(r.E, torch.full((40,), M / 2, dtype=DT), rtol=0, atol=1e-9)
    spec = th.cyclic_spectrum(r.w, M)
    assert float(spec.max(-1).values.min()) > 1 - 1e-9


def test_cyclic_spectrum_of_a_real_node_splits_between_j_and_minus_j():
    M = 9
    spec = th.cyclic_spectrum(th.fourier_node(M, 2, offset=0.3)[None], M)[0]
    assert abs(float(spec[2]) - 0.5) < 1e-12 and abs(float(spec[M - 2]) - 0.5) < 1e-12
    assert abs(float(spec.sum()) - 1) < 1e-12


def test_reconstruct_complex_readouts_against_numpy():
    M = 5
    X, Y = _np_design(M)
    Yt = Y - Y.mean(0)
    W, _ = th.complex_fourier_nodes(M, 1, seed=0, layout="random")
    Wn = W.numpy()
    F = (X @ Wn) ** 2
    Ft = F - F.mean(0)
    # complex least squares
    Vc = np.linalg.lstsq(Ft, Yt.astype(complex), rcond=None)[0]
    res_c = np.linalg.norm(Yt - Ft @ Vc) / np.linalg.norm(Yt)
    r = th.reconstruct_complex(W, f"Z{M}", "complex")
    assert abs(r.residual - res_c) < 1e-10
    # real part of the output: real least squares in [Re F, -Im F]
    A = np.concatenate([Ft.real, -Ft.imag], 1)
    x = np.linalg.lstsq(A, Yt, rcond=None)[0]
    res_r = np.linalg.norm(Yt - A @ x) / np.linalg.norm(Yt)
    r = th.reconstruct_complex(W, f"Z{M}", "real")
    assert abs(r.residual - res_r) < 1e-10
    np.testing.assert_allclose((Ft @ r.V.numpy()).real, A @ x, atol=1e-9)
    # real nodes: the real readout is the ordinary least squares of theory.reconstruct
    Wr, _ = th.real_fourier_nodes(M, 3, offset=0.2)
    assert abs(th.reconstruct_complex(Wr, f"Z{M}", "real").residual - th.reconstruct(Wr, f"Z{M}").residual) < 1e-12
    with pytest.raises(ValueError, match="readout"):
        th.reconstruct_complex(W, f"Z{M}", "both")


def test_complex_counts():
    M = 7
    c = th.theorem3_counts(M)
    Wpm, k = th.complex_fourier_nodes(M, 2, seed=1, layout="pm", irreps="all")
    assert Wpm.shape[1] == c["complex_pm_complex_ls"] and k.tolist()[: M - 1] == list(range(1, M))
    assert th.reconstruct_complex(Wpm, f"Z{M}", "complex").residual < 1e-10
    assert th.reconstruct_complex(Wpm[:, :-1], f"Z{M}", "complex").residual > 1e-2
    Wh, _ = th.complex_fourier_nodes(M, 2, seed=1, layout="pm", irreps="half")
    assert Wh.shape[1] == c["complex_pm_real_readout"]
    assert th.reconstruct_complex(Wh, f"Z{M}", "real").residual < 1e-10
    assert abs(th.reconstruct_complex(Wh, f"Z{M}", "complex").residual - 1 / math.sqrt(2)) < 1e-10
    Wg, _ = th.complex_fourier_nodes(M, 3, seed=1, layout="random", irreps="all")
    assert Wg.shape[1] == c["complex_generic_complex_ls"]
    assert th.reconstruct_complex(Wg, f"Z{M}", "complex").residual < 1e-10
    assert th.reconstruct_complex(Wg[:, : 2 * (M - 1)], f"Z{M}", "complex").residual > 1e-2
    assert th.feature_rank(Wg[:, :: M - 1], f"Z{M}") == 6  # character 1 only: 3 complex = 6 real dimensions


# ----------------------------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------------------------


def _labelled(fig):
    axes = [a for a in fig.axes if a.get_visible()]
    assert axes and all(a.get_xlabel() and a.get_ylabel() for a in axes[:1])
    assert all(a.get_xlabel() for a in axes)


def test_thm3_plots():
    curve = pd.DataFrame({"family": ["b"] * 3 + ["a"] * 2, "K": [1, 2, 3, 1, 2],
                          "residual": [0.9, 0.5, 0.0, 0.7, 1e-20]})
    d = plots.thm3_residual_vs_K_data(curve)
    assert d["family"].tolist() == ["b", "b", "b", "a", "a"]  # first-appearance order
    assert d["residual_plotted"].min() == 1e-16 and len(d) == len(curve)
    fig = plots.thm3_residual_vs_K(curve, {"x": 2})
    assert isinstance(fig, plt.Figure)
    _labelled(fig)
    plt.close(fig)
    off = pd.DataFrame({"layout": ["g"] * 3, "offset": [0.0, 1e-3, 1e-1], "residual": [0.7, 1e-9, 1e-13],
                        "V_norm": [5, 1e5, 1e3]})
    d = plots.thm3_offsets_data(off)
    np.testing.assert_allclose(d["residual_plotted"], np.maximum(off["residual"], 1e-16))
    fig = plots.thm3_offsets(off)
    _labelled(fig)
    plt.close(fig)
    pc = pd.DataFrame({"case": ["B", "B", "A"], "per": [1, 2, 1], "residual": [0.5, 1e-14, 0.2], "span": [2, 2, 1],
                       "paper": [4.0, 4.0, np.nan], "x_label": ["n", "n", "n"]})
    d = plots.thm3_per_component_data(pc)
    assert d["case"].tolist() == ["B", "B", "A"]
    fig = plots.thm3_per_component(pc)
    _labelled(fig)
    plt.close(fig)
