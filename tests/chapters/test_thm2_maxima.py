"""li2core.chapters.thm2_maxima: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_thm2_maxima_lib.py.)"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from li2core.chapters import thm2_maxima as ch
from li2core.groups import make


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
    for ax in fig.axes:
        if ax.axison:
            assert ax.get_xlabel() and ax.get_ylabel()
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
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_yscale() == "log"
    matplotlib.pyplot.close(fig)


def test_thm2_hessian_spectra(survey_frames):
    frame, spectra = survey_frames
    d = ch.thm2_hessian_spectra_data(frame, spectra)
    first = frame.sort_values("start").groupby(["group", "kind"]).head(1)
    assert set(zip(d["group"], d["start"])) == set(zip(first["group"], first["start"]))
    assert len(d) == sum(2 * make(g).order - 1 for g in first["group"])
    fig = ch.thm2_hessian_spectra(frame, spectra)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert any(ax.get_ylabel() for ax in fig.axes) and all(ax.get_xlabel() for ax in fig.axes if ax.axison)
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
