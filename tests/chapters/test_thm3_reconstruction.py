"""li2core.chapters.thm3_reconstruction: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_thm3_reconstruction_lib.py.)"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core import figures, fourier
from li2core import theory as th
from li2core.chapters import thm3_reconstruction as ch
from li2core.groups import make


def _labelled(fig):
    """The first axes has a y label; every axes has an x label or shares its x axis with one that has."""
    axes = [a for a in fig.axes if a.get_visible()]
    assert axes and axes[0].get_ylabel()
    for a in axes:
        assert a.get_xlabel() or any(b.get_xlabel() for b in a.get_shared_x_axes().get_siblings(a))


def _paper_lines(ax):
    return [ln for ln in ax.get_lines() if ln.get_label().startswith("paper")]


def test_thm3_plots():
    curve = pd.DataFrame({"family": ["b"] * 3 + ["a"] * 2, "K": [1, 2, 3, 1, 2],
                          "residual": [0.9, 0.5, 0.0, 0.7, 1e-20]})
    d = ch.thm3_residual_vs_K_data(curve)
    assert d["family"].tolist() == ["b", "b", "b", "a", "a"]  # first-appearance order
    assert d["residual_plotted"].min() == 1e-16 and len(d) == len(curve)
    fig = ch.thm3_residual_vs_K(curve, {"x": 2})
    assert isinstance(fig, plt.Figure)
    _labelled(fig)
    plt.close(fig)
    off = pd.DataFrame({"layout": ["g"] * 3, "offset": [0.0, 1e-3, 1e-1], "residual": [0.7, 1e-9, 1e-13],
                        "V_norm": [5, 1e5, 1e3]})
    d = ch.thm3_offsets_data(off)
    np.testing.assert_allclose(d["residual_plotted"], np.maximum(off["residual"], 1e-16))
    fig = ch.thm3_offsets(off)
    _labelled(fig)
    plt.close(fig)
    pc = pd.DataFrame({"case": ["B", "B", "A"], "per": [1, 2, 1], "residual": [0.5, 1e-14, 0.2], "span": [2, 2, 1],
                       "paper": [4.0, 4.0, np.nan], "x_label": ["n", "n", "n"]})
    d = ch.thm3_per_component_data(pc)
    assert d["case"].tolist() == ["B", "B", "A"]
    fig = ch.thm3_per_component(pc)
    _labelled(fig)
    # the paper's count is drawn only where it is given (case B), not for case A (NaN: real weights)
    by_title = {a.get_title(): a for a in fig.axes if a.get_visible()}
    assert len(_paper_lines(by_title["B"])) == 1 and not _paper_lines(by_title["A"])
    plt.close(fig)
    for f in (ch.thm3_residual_vs_K(curve, {"x": 2}), ch.thm3_offsets(off), ch.thm3_per_component(pc)):
        figures.check_legible(f)
        assert f.get_figwidth() <= figures.BOOK_WIDTH_IN
        plt.close(f)


def test_min_width():
    assert ch.min_width({1: 0.5, 2: 1e-12, 3: 1e-13}) == 2
    assert ch.min_width({1: 1e-12, 2: 0.3, 3: 1e-13}) == 3  # from the minimum on, every width reconstructs
    assert ch.min_width({1: 0.5, 2: 0.4}) is None
    assert ch.min_width({1: 1e-5, 2: 1e-9}, tol=1e-4) == 1


def test_width_table_and_paper_form(z5, learned):
    lr, lc = learned
    curves = {ch.QUADRATURE: [{"K": 1, "residual": 0.3}, {"K": 2, "residual": 1e-14}],
              ch.PM_COMPLEX: [{"K": 1, "residual": 0.2}, {"K": 2, "residual": 1e-15}],
              ch.MEMORISATION: [{"K": 24, "residual": 0.1}, {"K": 25, "residual": 0.0}],
              ch.EXACT_REAL: [{"K": 1, "residual": 0.9}, {"K": 2, "residual": 2 ** -0.5}]}
    t = ch.width_table(curves, M5).set_index("family")
    assert t.loc[ch.QUADRATURE, "paper"] == "—" and t.loc[ch.QUADRATURE, "weights"] == "real"  # no real count
    assert t.loc[ch.PM_COMPLEX, "paper"] == "2M − 2 = 8" and t.loc[ch.MEMORISATION, "paper"] == "M² = 25"
    assert t.loc[ch.PM_COMPLEX, "measured minimum K"] == "2" and t.loc[ch.MEMORISATION, "measured minimum K"] == "25"
    assert t.loc[ch.PM_COMPLEX, "residual, one node fewer"] == 0.2
    assert t.loc[ch.EXACT_REAL, "measured minimum K"] == "none"
    assert np.isnan(t.loc[ch.EXACT_REAL, "residual, one node fewer"])
    # the paper's form [u; +-P u]: distance 0 for such nodes, sqrt 2 for the learned complex maxima
    W, _ = fourier.real_fourier_nodes(M5, 2, offset=0.0, seed=0)
    np.testing.assert_allclose(ch.paper_form_distance(W.T, z5).numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(ch.paper_form_distance(lc.W, z5).numpy(), 2 ** 0.5, rtol=1e-8)
    assert ch.complex_paper_form_energy(z5) < 1e-12  # over C the paper's form carries no label term
    assert abs(float(th.energy_complex(fourier.complex_fourier_node(M5, 1), z5)[0]) - M5 / 2) < 1e-9


# --- frame builders moved from the notebook (tiny sizes: Z5, S3) ---------------------------------------------------

M5 = 5
TOL, GAP = 1e-8, 1e-4


@pytest.fixture(scope="module")
def z5():
    return make("Z5")


@pytest.fixture(scope="module")
def learned(z5):
    return ch.learned_real_maxima(z5, 40, 0, 3000, 1e-12), ch.learned_complex_maxima(z5, 40, 1, 3000, 1e-12)


def test_learned_real_maxima(z5, learned):
    lr, _ = learned
    assert lr.W.shape == (int(lr.converged.sum()), 2 * M5) and lr.converged.all()
    np.testing.assert_allclose(lr.ascent.E[lr.converged].numpy(), M5 / 4, rtol=1e-9)  # literal E* = M/4
    np.testing.assert_allclose(lr.W.norm(dim=1).numpy(), 1.0, rtol=1e-12)
    # independent frequency: the strongest character of either half, folded onto 1..(M-1)/2
    k = fourier.cyclic_spectrum(lr.W, M5).argmax(-1)
    assert torch.equal(torch.minimum(k, M5 - k), lr.freq)
    assert lr.purity.min() > 1 - 1e-9 and lr.delta.shape == lr.freq.shape
    assert float(torch.sin(lr.delta).abs().max()) > 0.1  # generic offsets, not the paper's [u; +-P u]


def test_exact_maxima_fit(z5):
    ex = ch.exact_maxima_fit(M5, z5, 8, 0)
    assert ex.W.shape == (2 * M5, 16) and len(ex.curve) == 16 and ex.residuals.shape == (16,)
    assert abs(ex.rec.residual - th.exact_maxima_residual(M5)) < 1e-12 and abs(ex.rec.residual - 2 ** -0.5) < 1e-12
    assert ex.residuals.min() >= 2 ** -0.5 - 1e-9 and ex.cos_half_err < 1e-9
    assert abs(ex.residuals[ex.K_plateau - 1] - 2 ** -0.5) <= 1e-9
    assert (np.abs(ex.residuals[: ex.K_plateau - 1] - 2 ** -0.5) > 1e-9).all()


def test_real_width_curves_and_lookup(z5, learned):
    lr, _ = learned
    ex = ch.exact_maxima_fit(M5, z5, 8, 0)
    curves = ch.real_width_curves(M5, z5, ex.curve, lr.W, lr.freq, 0.1, 0)
    assert list(curves) == [ch.EXACT_REAL, ch.generic_real_family(0.1), ch.QUADRATURE, ch.LEARNED_REAL]
    assert [len(c) for c in curves.values()] == [16, 16, 8, 16]  # learned: 8 per frequency, 2 frequencies
    rK = ch.residual_lookup(curves)
    assert rK[ch.EXACT_REAL] == {c["K"]: c["residual"] for c in ex.curve}
    g, q, le = rK[ch.generic_real_family(0.1)], rK[ch.QUADRATURE], rK[ch.LEARNED_REAL]
    assert g[16] <= TOL and g[15] >= GAP  # 4(M-1) generic offset nodes, not one fewer
    assert q[8] <= TOL and q[7] >= GAP  # 2M-2 in the quadrature layout
    assert le[16] <= TOL and le[14] >= GAP
    assert ch.span_by_label(lr.W, lr.freq, [1, 2], z5) == {1: 8, 2: 8}  # 8 feature directions per frequency


def test_span_by_label(z5):
    W, _ = fourier.real_fourier_nodes(M5, 2, offset=0.3, seed=0)
    Wb = torch.stack([W[:, 0], W[:, 0], W[:, 1], W[:, 2]])  # label 0: one node twice; label 1: two nodes
    assert ch.span_by_label(Wb, torch.tensor([0, 0, 1, 1]), [0, 1], z5) == {0: 1, 1: 2}


def test_offset_sweep(z5):
    d = ch.offset_sweep(M5, z5, [1e-3, 1.0], 0)
    assert list(d.columns) == ["layout", "offset", "K", "residual", "V_norm", "rank"] and len(d) == 6
    assert d["offset"].tolist() == [0.0, 1e-3, 1.0] * 2 and d["K"].tolist() == [16] * 3 + [8] * 3
    zero, pos = d[d["offset"] == 0], d[d["offset"] > 0]
    np.testing.assert_allclose(zero["residual"], 2 ** -0.5, rtol=1e-12)
    assert (pos["residual"] <= TOL).all()
    gen = d[d["layout"].str.startswith("generic")].set_index("offset")
    assert gen.loc[1e-3, "V_norm"] > 100 * gen.loc[1.0, "V_norm"]  # the readout grows like 1/|delta|


def test_learned_complex_maxima_and_widths(z5, learned):
    _, lc = learned
    assert lc.W.is_complex() and lc.W.shape == (int(lc.converged.sum()), 2 * M5)
    np.testing.assert_allclose(lc.ascent.E[lc.converged].numpy(), M5 / 2, rtol=1e-9)  # E over C = M/2
    np.testing.assert_allclose(lc.ratio.abs().numpy(), 1.0, atol=1e-6)  # [u; e^{i theta} P conj(u)]
    np.testing.assert_allclose(lc.spectrum.sum(-1).numpy(), 1.0, rtol=1e-12)
    assert ((lc.k >= 1) & (lc.k < M5)).all()
    cw = ch.complex_width_curves(M5, z5, lc.W, lc.k, 0)
    assert list(cw.curves) == [ch.PM_COMPLEX, ch.PM_HALF_REAL, ch.LEARNED_COMPLEX]
    assert cw.W_pm.shape == (2 * M5, 2 * M5 - 2) and cw.W_pm_half.shape == (2 * M5, M5 - 1)
    r = cw.residuals
    assert r.pm <= TOL and r.pm_less >= GAP  # 2M-2 complex +- pairs, complex least squares
    assert r.half_real <= TOL and r.half_real_less >= GAP  # M-1 with the real-part readout
    assert abs(r.half_complex - 2 ** -0.5) < 1e-9
    assert r.learned3 <= TOL and r.learned2 >= GAP and r.pairs3 <= TOL and r.pairs2 >= GAP
    assert r.pm == th.reconstruct_complex(cw.W_pm, z5, "complex").residual
    # the paper's count 2M - 2 with the real-part readout: constructed +- pairs and 4 learned maxima per pair
    assert r.pm_real <= TOL and r.pm_real == th.reconstruct_complex(cw.W_pm, z5, "real").residual
    assert r.pairs4 <= TOL
    W4 = lc.W[th.round_robin(torch.minimum(lc.k, M5 - lc.k), 4)].T
    assert W4.shape[1] == 2 * M5 - 2
    assert r.pairs4 == th.reconstruct_complex(W4, z5, "real", rtol=1e-10).residual
    assert r.pairs4_default == th.reconstruct_complex(W4, z5, "real").residual


def test_dense_node_curves_and_frames(z5):
    Ks = ch.dense_widths(M5)
    assert Ks == sorted(set(Ks)) and Ks[0] == 1 and Ks[-3:] == [23, 24, 25]
    curves = ch.dense_node_curves(M5, z5, 0)
    assert list(curves) == [ch.MEMORISATION, ch.RANDOM]
    rK = ch.residual_lookup(curves)
    for name in curves:
        assert list(rK[name]) == Ks
        assert rK[name][24] <= TOL and rK[name][23] >= GAP  # M^2 - 1 nodes, not M^2
    df = ch.curve_frame(curves)
    assert list(df.columns) == ["family", "K", "residual", "rank", "V_norm"] and len(df) == 2 * len(Ks)
    assert df["family"].tolist() == [ch.MEMORISATION] * len(Ks) + [ch.RANDOM] * len(Ks)
    assert ch.width_marks(11) == {"$M-1$": 10, "$2M-2$ (paper, complex)": 20, "$3(M-1)$": 30, "$4(M-1)$": 40,
                                  "$M^2-1$": 120}


def test_nonabelian_widths():
    d = ch.nonabelian_widths(make("S3"), 60, 2, 3000, 1e-12)
    assert d["name"] == "S3" and d["M"] == 6 and d["missing"] == 0 and d["conv"] == d["n_maxima"] == 60
    assert d["kind"] == {1: (1, "real"), 2: (2, "real")} and d["E"] == [1.5, 3.0]
    assert d["span"] == {1: 1, 2: 20} and d["smax"] == 20 and d["K_meas"] == 21  # sign irrep: 1, 2-d: 20
    assert d["K_paper"] == th.theorem3_width(make("S3"))[0] == 34 and d["paper_big"] == 32.0
    assert list(d["res"]) == list(range(1, 21)) and d["per_needed"] == 20 and d["res"][19] >= GAP
    assert d["res_all"] <= TOL


def test_per_component_frame(z5):
    nf = (M5 - 1) // 2
    rK = {ch.LEARNED_REAL: {K: 1.0 / K for K in range(1, 17)}, ch.LEARNED_COMPLEX: {K: 2.0 / K for K in range(1, 13)}}
    Wp, _ = fourier.complex_fourier_nodes(M5, 2, seed=0, layout="pm", irreps="all")
    nonab = [{"name": "S3", "smax": 2, "res": {1: 0.5, 2: 1e-13}, "paper_big": 32.0}]
    d = ch.per_component_frame(M5, z5, rK, 8, Wp, nonab)
    assert list(d.columns) == ["case", "per", "residual", "span", "paper", "x_label"] and len(d) == 8 + 6 + 2
    real = d[d["case"] == "Z5: learned real maxima"]
    assert real["per"].tolist() == list(range(1, 9)) and real["residual"].tolist() == [1.0 / (j * nf) for j in range(1, 9)]
    assert (real["span"] == 8).all() and real["paper"].isna().all()  # no paper count for real weights
    cls = d[d["case"] == "Z5: learned complex maxima, complex LS"]
    assert cls["residual"].tolist() == [2.0 / (j * (M5 - 1)) for j in range(1, 4)] and (cls["paper"] == 2.0).all()
    re = d[d["case"] == "Z5: learned complex maxima, Re readout"]
    assert re["residual"].tolist() == [th.reconstruct_complex(Wp[:, : j * nf], z5, "real").residual for j in range(1, 4)]
    s3 = d[d["case"] == "S3: learned real maxima"]
    assert s3["residual"].tolist() == [0.5, 1e-13] and (s3["span"] == 2).all() and s3["paper"].isna().all()
