"""li2core.chapters.thm2_maxima: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_thm2_maxima_lib.py.)"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from li2core import figures
from li2core import theory as th
from li2core.chapters import thm2_maxima as ch
from li2core.groups import make
from li2core.tasks import make_task, split


@pytest.fixture(scope="module")
def survey_frames():
    a = ch.maxima_survey("Z6", starts=20, seed=0)
    b = ch.maxima_survey("S3", starts=20, seed=0)
    return pd.concat([a.frame, b.frame], ignore_index=True), pd.concat([a.spectra, b.spectra], ignore_index=True)


def test_maxima_survey_on_z12_and_s3():
    r = ch.maxima_survey("Z12", starts=40, seed=1)
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
    r3 = ch.maxima_survey("S3", starts=30, seed=2)
    assert set(np.round(r3.frame["E"], 9)) == {1.5, 3.0}
    assert (r3.frame.loc[r3.frame["dim"] == 2, "n_zero"] >= 1).all()


def test_thm2_irrep_counts(survey_frames):
    frame, _ = survey_frames
    d = ch.thm2_irrep_counts_data(frame)
    ref = frame.groupby(["group", "name"]).size()
    for r in d.itertuples():
        assert r.count == ref[(r.group, r.name)]
    assert d.groupby("group")["count"].sum().to_dict() == {"S3": 20, "Z6": 20}
    assert list(dict.fromkeys(d["group"])) == ["Z6", "S3"]  # order as given
    fig = ch.thm2_irrep_counts(frame)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig._supxlabel is not None and fig._supxlabel.get_text()  # one x label for all panels
    for ax in fig.axes:
        if ax.axison:
            assert ax.get_ylabel()
    figures.check_legible(fig)
    assert fig.get_figwidth() <= figures.BOOK_WIDTH_IN
    matplotlib.pyplot.close(fig)


def test_panel_rows():
    # many-component groups get a full row, the others share rows two by two, in the order given
    rows = ch._panel_rows(["A", "B", "C", "D", "E", "F"], {"A": 11, "B": 3, "C": 2, "D": 14, "E": 4, "F": 4})
    assert rows == [["A"], ["B", "C"], ["D"], ["E", "F"]]
    assert ch._panel_rows(["B", "A"], {"A": 11, "B": 3}) == [["B"], ["A"]]


def test_figures_fit_the_book(survey_frames):
    frame, spectra = survey_frames
    for fig in (ch.thm2_energy_levels(frame), ch.thm2_hessian_spectra(frame, spectra)):
        figures.check_legible(fig)
        assert fig.get_figwidth() <= figures.BOOK_WIDTH_IN
        matplotlib.pyplot.close(fig)


def test_thm2_energy_levels(survey_frames):
    frame, _ = survey_frames
    d = ch.thm2_energy_levels_data(frame)
    ref = frame.groupby(["group", "kind"])["E"].agg(["min", "max", "size"])
    for r in d.itertuples():
        assert r.E_min == ref.loc[(r.group, r.kind), "min"] and r.n == ref.loc[(r.group, r.kind), "size"]
    assert np.allclose(d["ratio_max"], 4.0)
    fig = ch.thm2_energy_levels(frame)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_xscale() == "log"  # one row per (group, kind), labelled on the y axis
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{g}, {k}" for g, k in zip(d["group"], d["kind"])]
    matplotlib.pyplot.close(fig)


def test_thm2_hessian_spectra(survey_frames):
    frame, spectra = survey_frames
    d = ch.thm2_hessian_spectra_data(frame, spectra)
    first = frame.sort_values("start").groupby(["group", "kind"]).head(1)
    assert set(zip(d["group"], d["start"])) == set(zip(first["group"], first["start"]))
    assert len(d) == sum(2 * make(g).order - 1 for g in first["group"])
    fig = ch.thm2_hessian_spectra(frame, spectra)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() and len(ax.get_yticklabels()) == len(first)  # one row per (group, kind)
    matplotlib.pyplot.close(fig)


def test_thm2_linear():
    z = np.array([1.0, -2.0, 0.5, 3.0])
    fr = pd.concat([pd.DataFrame({"class": range(4), "rows": "training rows", "signal": z}),
                    pd.DataFrame({"class": range(4), "rows": "held-out rows", "signal": -0.7 * z + [0, 0.1, 0, 0]})])
    d = ch.thm2_linear_data(fr)
    assert abs(d["corr"].iloc[0] - np.corrcoef(z, -0.7 * z + [0, 0.1, 0, 0])[0, 1]) < 1e-12
    fig = ch.thm2_linear(fr)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    matplotlib.pyplot.close(fig)


# --- frame builders moved from the notebook --------------------------------------------------------------------

@pytest.fixture(scope="module")
def surveyed():
    G = {name: make(name) for name in ["Z5", "Z6", "S3"]}
    return G, ch.survey_groups(G, 12, 0)


def test_survey_groups(surveyed):
    G, sv = surveyed
    assert list(sv.surveys) == ["Z5", "Z6", "S3"]
    assert len(sv.frame) == 36 and list(sv.frame.index) == list(range(36))
    assert list(dict.fromkeys(sv.frame["group"])) == ["Z5", "Z6", "S3"]
    assert len(sv.spectra) == 12 * sum(2 * g.order - 1 for g in G.values())
    alone = ch.maxima_survey("Z6", 12, 0)  # batching over groups changes nothing
    pd.testing.assert_frame_equal(sv.frame[sv.frame["group"] == "Z6"].reset_index(drop=True), alone.frame)
    assert torch.equal(sv.surveys["Z6"].w, alone.w)


def test_survey_summary(surveyed):
    G, sv = surveyed
    s = ch.survey_summary(sv.frame, G)
    assert list(s.index) == ["Z5", "Z6", "S3"]
    # nontrivial real isotypic components: Z5 {1, 2}, Z6 {1, 2, 3}, S3 {sign, 2-d}
    assert s["components_total"].to_dict() == {"Z5": 2, "Z6": 3, "S3": 2}
    assert (s["components_reached"] <= s["components_total"]).all()
    assert (s["converged"] == 1.0).all() and (s["share_pure"] == 1.0).all()
    assert s.loc["Z6", "max_steps"] == sv.surveys["Z6"].frame["steps"].max()


def test_cross_term_ratios(surveyed):
    G, sv = surveyed
    t = ch.cross_term_ratios(G, sv.surveys, seed=1, n_random=7)
    assert list(t.index) == ["Z5", "Z6", "S3"] and t.shape == (3, 4)
    assert (t.iloc[:, 0] < 1e-10).all()  # on all M^2 pairs the square terms cancel: E = E_cross(coef 2)
    np.testing.assert_allclose(t.iloc[:, 1:3].to_numpy(), 4.0, rtol=1e-10)  # the dropped 2, squared
    np.testing.assert_allclose(t.iloc[:, 3].to_numpy(), 1.0, rtol=1e-8)  # reproduces the printed constants
    # independent: E at the maxima over the paper's constant is 4 (literal value vs Thm 2)
    f = sv.surveys["Z5"].frame
    np.testing.assert_allclose(f["E"] / (5 / 16), 4.0, rtol=1e-8)


def test_paper_form_and_flatness_tables(surveyed):
    _, sv = surveyed
    shape = ch.paper_form_table(sv.frame)
    flat = ch.flatness_table(sv.frame)
    keys = set(zip(sv.frame["group"], sv.frame["kind"]))
    assert set(shape.index) == keys and set(flat.index) == keys
    assert shape["n"].sum() == 36 and flat["n"].sum() == 36
    np.testing.assert_allclose(shape[["u_power_min", "u_power_max"]].to_numpy(), 0.5, atol=1e-8)
    assert shape.loc[("Z6", "1-d real"), "dist_paper_form_max"] < 1e-6  # real 1-d: exactly [u; +-P u]
    assert (flat["n_pos_max"] == 0).all()
    assert flat.loc[("Z6", "1-d real"), "strict"] == 1.0 and flat.loc[("Z6", "1-d real"), "n_zero_max"] == 0
    assert flat.loc[("Z5", "1-d complex pair"), "n_zero_min"] == 2 and flat.loc[("Z5", "1-d complex pair"), "strict"] == 0


def test_cor2_table(surveyed):
    G, sv = surveyed
    c = ch.cor2_table(sv.frame, G)
    assert list(c.index) == ["Z5", "Z6"]  # S3 is not cyclic
    assert c.loc["Z5", "M"] == 5 and c.loc["Z6", "M"] == 6 and c["all pure"].all()
    assert abs(c.loc["Z5", "E* (1 <= j < M/2)"] - 5 / 4) < 1e-9 and np.isnan(c.loc["Z5", "E* (j = M/2)"])
    assert abs(c.loc["Z6", "E* (j = M/2)"] - 2 * c.loc["Z6", "E* (1 <= j < M/2)"]) < 1e-9  # Cor. 2: twice
    assert c.loc["Z6", "paper M/8"] == 0.75 and c.loc["Z5", "paper M/16"] == 5 / 16
    assert c.loc["Z6", "frequencies reached"] == sv.surveys["Z6"].frame["label"].nunique()
    assert (c["E spread"] < 1e-9).all()


def test_linear_lda():
    g = make("Z5")
    r = ch.linear_lda(g, 0.4, starts=6, seed=0)
    assert float(r.A_full.abs().max()) < 1e-12 and r.mu_dev_full < 1e-12 and r.E0_max < 1e-12
    assert r.n_train == 10 and r.evals.shape == (10,) and r.v_top.shape == (10,)
    assert float(r.cos_top.min()) > 1 - 1e-8  # ascent from every start reaches the top eigenvector
    assert abs(r.E_top_train - float(r.evals[-1]) / 2) < 1e-10  # E(v) = v^T A v / 2 for unit v
    assert abs(r.E_top_all) < 1e-12
    assert list(r.signal.columns) == ["class", "rows", "signal"] and len(r.signal) == 10
    tr = r.signal[r.signal["rows"] == "training rows"]["signal"].to_numpy()
    te = r.signal[r.signal["rows"] == "held-out rows"]["signal"].to_numpy()
    assert abs(r.corr - np.corrcoef(tr, te)[0, 1]) < 1e-12
    sp = split(make_task(g), 0.4, 0)  # the same split, by a direct call
    np.testing.assert_allclose(tr, th.class_signal(r.v_top, g, "linear", sp.train).numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(te, th.class_signal(r.v_top, g, "linear", sp.test).numpy(), rtol=0, atol=0)
    assert abs(r.E_top_test - float(th.energy(r.v_top, g, "linear", rows=sp.test))) == 0


def test_irrep_list():
    assert ch.irrep_list(make("Z6")) == "(1, complex) × 2, (1, real) × 1"
    assert ch.irrep_list(make("S3")) == "(1, real) × 1, (2, real) × 1"


def test_survey_numbers(surveyed):
    G, sv = surveyed
    t = ch.cross_term_ratios(G, sv.surveys, seed=1, n_random=5)
    c = ch.cor2_table(sv.frame, G)
    n = ch.survey_numbers(sv.frame, G, t, c)
    f = sv.frame
    assert n["n_total"] == 36 and n["n_converged"] == int(f["converged"].sum())
    assert n["components_missing"] == 0 and n["n_pos_max"] == 0
    assert abs(n["ratio_min"] - 4) < 1e-8 and abs(n["ratio_max"] - 4) < 1e-8  # the factor 4 (the dropped 2)
    assert abs(n["coef1_min"] - 4) < 1e-10 and abs(n["paper_form_max"] - 1) < 1e-8
    real1 = f[(f["dim"] == 1) & (f["type"] == "real")]  # j = 3 of Z6 and the sign irrep of S3
    assert n["n_real1"] == len(real1) > 0 and n["real1_strict"] == 1.0 and n["real1_top_rel"] < 0
    assert n["n_other"] == 36 - len(real1) and n["other_zero_min"] >= 1 and n["other_dist_median"] > 0.1
    assert n["cor2_pure"] and n["cor2_freq_ok"] and abs(n["cor2_even_ratio"] - 2) < 1e-10
    assert "S3" in n["sign_share"] and "Z5" not in n["sign_share"]  # non-Abelian groups only
    assert n["quaternionic"] == "—"  # no quaternionic irrep among Z5, Z6, S3
    assert n["zeros"].startswith("1-d complex pair: 2")
    G_dic = {"Dic3": make("Dic3")}
    q = ch.survey_numbers(ch.survey_groups(G_dic, 8, 0).frame, G_dic, t.iloc[:1], c.iloc[:0])
    assert q["quaternionic"] == "Dic3: E* = 1.5 = 1 × M/8"  # the quaternionic 2-d irrep sits at M/8
