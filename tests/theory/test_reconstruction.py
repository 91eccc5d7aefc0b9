"""li2core.theory.reconstruction (Thm 3): least squares from constructed nodes, the node counts, complex readouts.

(Moved from tests/test_theory.py, tests/test_thm3_reconstruction_lib.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracles import cyclic_table, np_design

from li2core import fourier
from li2core import theory as th
from li2core.groups import make

n, K, M = 9, 4, 5


DT = torch.float64


def test_reconstruct_with_memorisation_nodes_and_a_single_node():
    M = 5
    g = make(f"Z{M}")
    W = torch.zeros(2 * M, M * M, dtype=DT)
    for i in range(M * M):
        a, b = divmod(i, M)
        W[a, i] = W[M + b, i] = 1 / math.sqrt(2)
    r = th.reconstruct(W, g)
    assert r.residual < 1e-10 and r.rank == M * M - 1
    one = th.reconstruct(fourier.fourier_node(M, 1)[:, None], g)
    assert one.residual > 0.9
    # independent numpy least squares with the explicit X
    X, Y = np_design(np.asarray(g.table))
    Wn = torch.randn(2 * M, 2 * M, generator=torch.Generator().manual_seed(5), dtype=DT).numpy()
    Fn = (X @ Wn) ** 2
    Ft, Yt = Fn - Fn.mean(0), Y - Y.mean(0)
    Vn = np.linalg.lstsq(Ft, Yt, rcond=None)[0]
    res_np = np.linalg.norm(Yt - Ft @ Vn) / np.linalg.norm(Yt)
    r = th.reconstruct(torch.from_numpy(Wn), g)
    assert abs(r.residual - res_np) < 1e-10
    np.testing.assert_allclose(r.F.numpy(), Fn, rtol=1e-12)


def test_reconstruct_real_fourier_nodes_need_unequal_halves():
    """Theorem 3 in R: exact maxima [u; +-P u] only ever produce cos(w j (a+b) - 0) label features,
    so half of Y~ is missing (residual 1/sqrt 2); with the halves' phases offset (u' != u),
    4 +- pairs per frequency (K = 4 (M - 1)) reconstruct Y~ exactly."""
    M = 11
    inv = fourier.inverse_perm(make(f"Z{M}"))
    m = torch.arange(M, dtype=DT)
    gen = torch.Generator().manual_seed(6)

    def nodes(offset: float):
        cols = []
        for j in range(1, (M - 1) // 2 + 1):
            for _ in range(4):
                ph = 2 * math.pi * torch.rand(1, generator=gen, dtype=DT).item()
                d = offset * torch.randn(1, generator=gen, dtype=DT).item()
                u = torch.cos(2 * math.pi * j * m / M + ph)
                up = torch.cos(2 * math.pi * j * m / M + ph + d)
                for sign in (1, -1):
                    w = torch.cat([u, sign * up[inv]])
                    cols.append(w / w.norm())
        return torch.stack(cols, 1)

    exact = th.reconstruct(nodes(0.0), f"Z{M}")
    assert abs(exact.residual - 1 / math.sqrt(2)) < 1e-10
    pert = th.reconstruct(nodes(0.3), f"Z{M}")
    assert pert.residual < 1e-10 and pert.rank == 4 * (M - 1)


@pytest.mark.parametrize("M", [7, 9, 8])
def test_exact_maxima_residual_closed_form_and_cosine_half(M):
    W, _ = fourier.real_fourier_nodes(M, 8, offset=0.0, seed=1)
    r = th.reconstruct(W, f"Z{M}")
    assert abs(r.residual - th.exact_maxima_residual(M)) < 1e-10
    if M % 2:
        assert abs(th.exact_maxima_residual(M) - 1 / math.sqrt(2)) < 1e-15
    # the fit is the cosine half of Y~, computed independently with numpy
    X, Y = np_design(cyclic_table(M))
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
    W, _ = fourier.real_fourier_nodes(M, 8, offset=0.3, seed=0)
    assert th.reconstruct(W, f"Z{M}").residual < 1e-9
    assert th.reconstruct(W[:, : 7 * 3], f"Z{M}").residual > 1e-2
    Wq, _ = fourier.real_fourier_nodes(M, 4, offset=0.3, seed=0, layout="quadrature")
    assert th.reconstruct(Wq, f"Z{M}").residual < 1e-9
    assert th.reconstruct(Wq[:, :-1], f"Z{M}").residual > 1e-2
    assert th.feature_rank(W[:, ::3], f"Z{M}") == 8  # one frequency (column r*3 is frequency 1): 8 dimensions


def test_theorem3_width():
    assert th.theorem3_width("Z7") == (12, 12)
    assert th.theorem3_width("S3") == (34, 34)
    assert th.theorem3_width(make("D5")) == (66, 102)


def test_reconstruction_curve_and_round_robin():
    M = 7
    W, _ = fourier.real_fourier_nodes(M, 8, offset=0.2, seed=3)
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
    w = fourier.fourier_node(M, 2, offset=0.4)
    noisy = torch.stack([w + 1e-13 * torch.randn(2 * M, generator=torch.Generator().manual_seed(i), dtype=DT)
                         for i in range(10)], 1)
    assert th.feature_rank(noisy, f"Z{M}") == 1


def test_reconstruct_complex_readouts_against_numpy():
    M = 5
    X, Y = np_design(cyclic_table(M))
    Yt = Y - Y.mean(0)
    W, _ = fourier.complex_fourier_nodes(M, 1, seed=0, layout="random")
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
    Wr, _ = fourier.real_fourier_nodes(M, 3, offset=0.2)
    assert abs(th.reconstruct_complex(Wr, f"Z{M}", "real").residual - th.reconstruct(Wr, f"Z{M}").residual) < 1e-12
    with pytest.raises(ValueError, match="readout"):
        th.reconstruct_complex(W, f"Z{M}", "both")


def test_complex_counts():
    M = 7
    c = th.theorem3_counts(M)
    Wpm, k = fourier.complex_fourier_nodes(M, 2, seed=1, layout="pm", irreps="all")
    assert Wpm.shape[1] == c["complex_pm_complex_ls"] and k.tolist()[: M - 1] == list(range(1, M))
    assert th.reconstruct_complex(Wpm, f"Z{M}", "complex").residual < 1e-10
    assert th.reconstruct_complex(Wpm[:, :-1], f"Z{M}", "complex").residual > 1e-2
    Wh, _ = fourier.complex_fourier_nodes(M, 2, seed=1, layout="pm", irreps="half")
    assert Wh.shape[1] == c["complex_pm_real_readout"]
    assert th.reconstruct_complex(Wh, f"Z{M}", "real").residual < 1e-10
    assert abs(th.reconstruct_complex(Wh, f"Z{M}", "complex").residual - 1 / math.sqrt(2)) < 1e-10
    Wg, _ = fourier.complex_fourier_nodes(M, 3, seed=1, layout="random", irreps="all")
    assert Wg.shape[1] == c["complex_generic_complex_ls"]
    assert th.reconstruct_complex(Wg, f"Z{M}", "complex").residual < 1e-10
    assert th.reconstruct_complex(Wg[:, : 2 * (M - 1)], f"Z{M}", "complex").residual > 1e-2
    assert th.feature_rank(Wg[:, :: M - 1], f"Z{M}") == 6  # character 1 only: 3 complex = 6 real dimensions


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize("rtol", [None, 1e-6])
def test_one_svd_gives_torchs_pseudo_inverse_and_rank(dtype, rtol):
    # reconstruct's least squares (_min_norm_lstsq) against torch.linalg.pinv and matrix_rank, on a rank-deficient
    # matrix (rank 7 of 20 columns) with singular values spread over 8 decades
    from li2core.theory.reconstruction import _min_norm_lstsq

    g = torch.Generator().manual_seed(3)
    L = torch.randn(60, 7, generator=g, dtype=dtype) * torch.logspace(0, -8, 7, dtype=torch.float64)
    A = L @ torch.randn(7, 20, generator=g, dtype=dtype)
    B = torch.randn(60, 5, generator=g, dtype=dtype)
    X, rank = _min_norm_lstsq(A, B, rtol)
    ref = torch.linalg.pinv(A, rtol=rtol) @ B
    assert rank == int(torch.linalg.matrix_rank(A))
    assert torch.allclose(X, ref, rtol=1e-9, atol=1e-9 * float(ref.abs().max()))
    assert rank == 7
    if rtol is not None:  # the cut-off is in force: it drops two of the 7 (singular values 1.6e-7, 7.8e-9 of s_max)
        S = torch.linalg.svdvals(A)
        assert int((S > rtol * S[0]).sum()) == 5
