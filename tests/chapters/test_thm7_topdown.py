"""li2core.chapters.thm7_topdown: the energy tables and maxima (tiny groups), the training frame on a tiny run
against brute-force recomputation, the summaries on hand-made frames with known answers, and the figures."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

import li2core
from li2core import measures
from li2core import theory as th
from li2core.chapters import thm7_topdown as ch
from li2core.figures import check_legible
from li2core.groups import make
from li2core.losses import center
from li2core.tasks import make_task, split


def test_draw_learned_and_probe_nodes():
    S = ch.draw_learned(11, 2, seed=3)
    assert S == ch.draw_learned(11, 2, seed=3) and len(set(S)) == 2 and all(1 <= j <= 5 for j in S)
    for bad in (0, 5, 1.0):
        with pytest.raises(ValueError, match="n_learned"):
            ch.draw_learned(11, bad, seed=0)
    W, fr = ch.probe_nodes(7, 2, seed=1)
    assert W.shape == (6, 14) and fr.tolist() == [1, 1, 2, 2, 3, 3]
    assert torch.allclose(W.norm(dim=-1), torch.ones(6, dtype=W.dtype), atol=1e-12)
    assert torch.allclose(th.energy(W, "Z7", "sqr"), torch.full((6,), 7 / 4, dtype=W.dtype), rtol=1e-12)
    with pytest.raises(ValueError, match="per_freq"):
        ch.probe_nodes(7, 0, seed=0)


def test_energy_table_numbers():
    table = ch.energy_table(7, [2], per_freq=2, seed=0)
    assert set(table["residual"]) == set(ch.RESIDUALS) and len(table) == 4 * 6
    n = ch.energy_numbers(table)
    assert n["none_err"] < 1e-12 and n["learned_max"] < 1e-12 and n["missing_err"] < 1e-12
    assert n["closed_err"] < 1e-10 and n["ls_offset_err"] < 1e-10 and n["E_lit"] == pytest.approx(7 / 4)
    assert 0.01 < n["ls_exact_min"] <= n["ls_exact_max"] < 1.0
    d = ch.thm7_energy_data(table)
    assert len(d) == 4 * 3 and (d["ratio_min"] <= d["ratio"] + 1e-12).all()


def test_maxima_avoid_S_and_the_closed_form_table():
    mx = ch.missing_maxima("Z7", [1], 6, seed=0, steps=1500)
    assert not mx["in_S"].any() and mx["converged"].all() and (mx["purity"] > 0.99).all()
    assert np.allclose(mx["E_S"], mx["closed_frobenius"], rtol=1e-10)
    cf = ch.closed_form_errors(["S3"], n_random=4, n_starts=4, seed=0, steps=1500)
    assert len(cf) == 2 and (cf["frobenius_random"] < 1e-10).all() and (cf["share_in_S"] == 0).all()
    two_missing = cf[cf["max_dim_missing"] == 2]
    assert len(two_missing) == 1 and float(two_missing["paper_random"].iloc[0]) > 0.1
    assert float(cf.loc[cf["max_dim_missing"] == 1, "paper_random"].iloc[0]) < 1e-10


@pytest.fixture(scope="module")
def tiny():
    cfgs = ch.topdown_configs(7, [8], 0.6, 1, 40, 1e-2, 0.05, loss="mse_sample")
    snaps = ch.snapshot_epochs(40, 20)
    res = li2core.train(cfgs, snapshots=snaps, metrics="basic", progress=False)
    return cfgs, snaps, res, ch.spectrum_frame(res, snaps, seed=0)


def test_configs_and_snapshots_validate():
    assert ch.snapshot_epochs(45, 20) == [0, 20, 40, 45]
    with pytest.raises(ValueError, match="every"):
        ch.snapshot_epochs(40, 0)
    with pytest.raises(ValueError, match="seeds"):
        ch.topdown_configs(7, [8], 0.6, 0, 40, 1e-2, 0.05)
    with pytest.raises(ValueError, match="widths"):
        ch.topdown_configs(7, [], 0.6, 1, 40, 1e-2, 0.05)


def test_spectrum_frame_against_brute_force(tiny):
    _, snaps, res, frame = tiny
    assert len(frame) == len(snaps) * 3 and list(frame.columns[:5]) == ["run", "width", "seed", "epoch", "freq"]
    assert np.allclose(frame.groupby("epoch")["gf_share"].sum(), 1.0)
    assert ch.gf_is_the_loss_gradient(res, 0, 20) < 1e-10
    # recompute one snapshot by hand: G_F = P(Y - FV)V^T, its class means, FFT power per frequency
    g = make("Z7")
    rows = split(make_task(g), 0.6, 0).train
    W, V = (x.double() for x in res.weights_at(0, 20))
    a, b = rows // 7, rows % 7
    y = torch.as_tensor(g.table)[a, b]
    Y = torch.nn.functional.one_hot(y, 7).double()
    F = (W[a] + W[7 + b]) ** 2
    G = center(Y - F @ V) @ V.T
    means = np.stack([G[y == h].mean(0).numpy() for h in range(7)], 1)  # (K, M)
    P = np.abs(np.fft.fft(means, axis=1)) ** 2
    p = np.array([P[:, c].sum() + P[:, 7 - c].sum() for c in (1, 2, 3)])
    got = frame[frame["epoch"] == 20].sort_values("freq")["gf_share"].to_numpy()
    assert np.allclose(got, p / p.sum(), rtol=1e-8)
    # E_ls: the least-squares residual of the current nodes at the frame's probes
    R = th.ls_residual(W, g)
    pw, pf = ch.probe_nodes(7, 2, 0)
    e = (th.energy_residual(pw, R, g) / th.energy(pw, g, "sqr")).numpy()
    ref = [e[pf.numpy() == c].mean() for c in (1, 2, 3)]
    assert np.allclose(frame[frame["epoch"] == 20].sort_values("freq")["E_ls"], ref, rtol=1e-8)
    assert (frame.loc[frame["epoch"] == 0, "fit_residual"] > 0.9).all()


def _hand_frame():
    """Two snapshots of one run with 4 frequencies: at epoch 10 frequencies 1-2 are learned (E_ls 0.1, 0.2) and
    carry 0.1 of G_F, at epoch 20 all are learned."""
    return pd.DataFrame({
        "run": 0, "width": 8, "seed": 0, "epoch": [10] * 4 + [20] * 4, "freq": [1, 2, 3, 4] * 2,
        "gf_share": [0.05, 0.05, 0.4, 0.5, 0.25, 0.25, 0.25, 0.25], "E_ls": [0.1, 0.2, 0.8, 0.9, 0.1, 0.1, 0.1, 0.1],
        "fit_residual": [0.1, 0.1, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0], "nodes": [4, 4, 0, 1, 4, 4, 4, 4],
        "covered": [True, True, False, True] + [True] * 4, "label_share": 0.5})


def test_summaries_on_a_hand_made_frame():
    f = _hand_frame()
    tr = ch.tracking_frame(f, 0.5)
    assert tr["in_window"].tolist() == [True, False] and tr["n_learned"].tolist() == [2, 4]
    assert tr["spearman"].iloc[0] == pytest.approx(np.corrcoef([1, 2, 3, 4], [1.5, 1.5, 3, 4])[0, 1])
    cov = ch.covered_share_frame(f, 0.5)
    assert len(cov) == 1 and cov["learned_share"].iloc[0] == pytest.approx(0.1)
    assert cov["ratio"].iloc[0] == pytest.approx(0.1 / 0.5)
    order = ch.learning_order(f, 0.5)
    assert order["learned_epoch"].tolist() == [10, 10, 20, 20] and order["fitted_epoch"].tolist() == [10, 10, 10, 10]
    assert order["covered_epoch"].tolist() == [10, 10, 20, 10]
    s = ch.summary_numbers(tr, cov, f)
    assert s["window_n"] == 1 and s["learned_ratio"] == pytest.approx(0.2) and s["E_many_n"] == 4
    assert s["E_many_max"] == pytest.approx(0.1) and s["positive_share"] == 1.0
    ot = ch.order_table(order)
    assert ot["order (frequency@epoch)"].iloc[0] == "1@10, 2@10, 3@20, 4@20" and ot["never"].iloc[0] == "—"
    with pytest.raises(ValueError, match="level"):
        ch.learned_mask(f, 1.5)


def test_figures_are_labelled_and_legible(tiny):
    _, _, _, frame = tiny
    table = ch.energy_table(7, [2], per_freq=2, seed=0)
    track = ch.tracking_frame(frame)
    order = ch.learning_order(frame)
    for name, fig in [("thm7_energy", ch.thm7_energy(table)), ("thm7_spectrum", ch.thm7_spectrum(frame, 0, order)),
                      ("thm7_tracking", ch.thm7_tracking(track, frame))]:
        assert fig.get_figwidth() <= 8.0
        assert all(a.get_ylabel() for a in fig.axes if a.axison and a.get_label() != "<colorbar>")
        check_legible(fig, name)
        plt.close(fig)
    d = ch.thm7_tracking_data(track, frame)
    assert set(d["panel"]) == {"tracking", "end"}
    assert len(ch.thm7_spectrum_data(frame, 0)) == len(frame)
    assert measures.gf_spectrum(torch.zeros(3, 2), torch.tensor([0, 1, 2]), "Z7").sum() == 0
