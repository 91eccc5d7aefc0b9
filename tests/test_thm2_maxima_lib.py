"""Library code of the chapter thm2_maxima (Theorem 2, Cor. 1-2, linear sigma), checked against independent
computations: per-node Hessians, explicit one-hot matrices, closed forms at Fourier nodes, and pandas
aggregations done by hand."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch

from li2core import plots
from li2core import theory as th
from li2core.groups import make

DT = torch.float64


def test_paper_energy_constant():
    assert th.paper_energy_constant(23, 1, "complex") == 23 / 16
    assert th.paper_energy_constant(24, 1, "real") == 3.0
    assert th.paper_energy_constant(6, 2, "real") == 6 / 16
    assert math.isnan(th.paper_energy_constant(12, 2, "quaternionic"))
    with pytest.raises(ValueError, match="kind"):
        th.paper_energy_constant(5, 1, "imaginary")


def test_tangent_hessian_batch_equals_per_node():
    g = make("S3")
    w = th.random_starts(4, 6, seed=3)
    ev = th.tangent_hessian_batch(w, g, "sqr")
    assert ev.shape == (4, 11)
    for b in range(4):
        torch.testing.assert_close(ev[b], th.tangent_hessian(w[b], g, "sqr"), rtol=1e-10, atol=1e-10)
    rows = list(range(0, 36, 3))
    torch.testing.assert_close(th.tangent_hessian_batch(w, g, "silu", rows)[1], th.tangent_hessian(w[1], g, "silu", rows))
    with pytest.raises(ValueError, match="batch"):
        th.tangent_hessian_batch(w[0], g)


def test_component_name():
    assert th.component_name("Z9", 2) == "j=2"
    assert th.component_name("Z2xZ3", 1).startswith("(")
    names = [th.component_name("S3", i) for i in range(3)]
    assert names[2].endswith("d=2") and not names[1].endswith("d=2")


def test_maxima_survey_on_z12_and_s3():
    r = th.maxima_survey("Z12", starts=40, seed=1)
    f = r.frame
    assert len(f) == 40 and r.w.shape == (40, 24)
    assert f["converged"].all() and f["pure"].all()
    # literal E at the maxima: M/4 (complex pair) and M/2 (real irrep j = 6), 4x the paper's constants
    comp = f[f["type"] == "complex"]
    assert np.allclose(comp["E"], 3.0) and np.allclose(comp["E_ratio"], 4.0)
    real = f[f["type"] == "real"]
    assert np.allclose(real["E"], 6.0) and (real["label"] == "6").all()
    assert (comp["n_zero"] == 2).all() and (real["n_zero"] == 0).all() and (f["n_pos"] == 0).all()
    assert (real["strict"]).all() and not comp["strict"].any()
    assert np.allclose(f["u_power"], 0.5)
    assert set(f["kind"]) <= {"1-d complex pair", "1-d real"}
    # independent purity: FFT power of both halves in the frequency pair of the label
    j = torch.as_tensor(comp["label"].astype(int).to_numpy().copy())
    idx = torch.as_tensor(comp["start"].to_numpy().copy())
    P = torch.fft.fft(r.w[idx, :12], dim=1).abs() ** 2 + torch.fft.fft(r.w[idx, 12:], dim=1).abs() ** 2
    ar = torch.arange(len(j))
    share = (P[ar, j] + P[ar, 12 - j]) / P.sum(1)
    np.testing.assert_allclose(share.numpy(), comp["purity"].to_numpy(), atol=1e-9)
    # spectra: long form, one row per eigenvalue
    s = r.spectra
    assert len(s) == 40 * 23
    np.testing.assert_allclose(s.groupby("start")["eigenvalue"].max().to_numpy(), f["ev_max"].to_numpy())
    r3 = th.maxima_survey("S3", starts=30, seed=2)
    assert set(np.round(r3.frame["E"], 9)) == {1.5, 3.0}
    assert (r3.frame.loc[r3.frame["dim"] == 2, "n_zero"] >= 1).all()


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


def test_class_signal():
    for g, act, rows in (("Z7", "silu", [1, 5, 9, 20, 33]), ("S3", "sqr", None)):
        w = th.random_starts(3, make(g).order, seed=5)
        z = th.class_signal(w, g, act, rows)
        torch.testing.assert_close(0.5 * z.pow(2).sum(-1), th.energy(w, g, act, rows), rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(th.class_signal(w[0], g, act, rows), z[0])


def test_energy_cross_term_factor_four():
    for g in ("Z7", "Z6", "S3", "Z2xZ3"):
        M = make(g).order
        w = th.random_starts(6, M, seed=6)
        E = th.energy(w, g)
        torch.testing.assert_close(th.energy_cross_term(w, g, 2.0), E, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(th.energy_cross_term(w, g, 1.0), E / 4, rtol=1e-12, atol=1e-14)
    # the paper's constant M/16 is E_cross(coef = 1) at a unit Fourier node
    w = th.fourier_node(11, 3, 0.4, -1)
    assert abs(th.energy_cross_term(w, "Z11", 1.0).item() - 11 / 16) < 1e-12
    # on a subset of rows the square terms no longer cancel
    rows = [0, 1, 2, 12, 30, 40]
    w = th.random_starts(1, 7, seed=7)[0]
    assert abs(th.energy_cross_term(w, "Z7", 2.0, rows).item() - th.energy(w, "Z7", rows=rows).item()) > 1e-6


# ----------------------------------------------------------------------------------------------- plots


@pytest.fixture(scope="module")
def survey_frames():
    a = th.maxima_survey("Z6", starts=20, seed=0)
    b = th.maxima_survey("S3", starts=20, seed=0)
    return pd.concat([a.frame, b.frame], ignore_index=True), pd.concat([a.spectra, b.spectra], ignore_index=True)


def test_thm2_irrep_counts(survey_frames):
    frame, _ = survey_frames
    d = plots.thm2_irrep_counts_data(frame)
    ref = frame.groupby(["group", "name"]).size()
    for r in d.itertuples():
        assert r.count == ref[(r.group, r.name)]
    assert d.groupby("group")["count"].sum().to_dict() == {"S3": 20, "Z6": 20}
    assert list(dict.fromkeys(d["group"])) == ["Z6", "S3"]  # order as given
    fig = plots.thm2_irrep_counts(frame)
    assert isinstance(fig, matplotlib.figure.Figure)
    for ax in fig.axes:
        if ax.axison:
            assert ax.get_xlabel() and ax.get_ylabel()
    matplotlib.pyplot.close(fig)


def test_thm2_energy_levels(survey_frames):
    frame, _ = survey_frames
    d = plots.thm2_energy_levels_data(frame)
    ref = frame.groupby(["group", "kind"])["E"].agg(["min", "max", "size"])
    for r in d.itertuples():
        assert r.E_min == ref.loc[(r.group, r.kind), "min"] and r.n == ref.loc[(r.group, r.kind), "size"]
    assert np.allclose(d["ratio_max"], 4.0)
    fig = plots.thm2_energy_levels(frame)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_yscale() == "log"
    matplotlib.pyplot.close(fig)


def test_thm2_hessian_spectra(survey_frames):
    frame, spectra = survey_frames
    d = plots.thm2_hessian_spectra_data(frame, spectra)
    first = frame.sort_values("start").groupby(["group", "kind"]).head(1)
    assert set(zip(d["group"], d["start"])) == set(zip(first["group"], first["start"]))
    assert len(d) == sum(2 * make(g).order - 1 for g in first["group"])
    fig = plots.thm2_hessian_spectra(frame, spectra)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert any(ax.get_ylabel() for ax in fig.axes) and all(ax.get_xlabel() for ax in fig.axes if ax.axison)
    matplotlib.pyplot.close(fig)


def test_thm2_linear():
    z = np.array([1.0, -2.0, 0.5, 3.0])
    fr = pd.concat([pd.DataFrame({"class": range(4), "rows": "training rows", "signal": z}),
                    pd.DataFrame({"class": range(4), "rows": "held-out rows", "signal": -0.7 * z + [0, 0.1, 0, 0]})])
    d = plots.thm2_linear_data(fr)
    assert abs(d["corr"].iloc[0] - np.corrcoef(z, -0.7 * z + [0, 0.1, 0, 0])[0, 1]) < 1e-12
    fig = plots.thm2_linear(fr)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    matplotlib.pyplot.close(fig)
