"""li2core.chapters.thm6_repulsion: the frame builders on a tiny trained net (Z7, K = 12, 20 epochs) checked against
independent computations (explicit inverses, the one-hot X built by hand, brute-force pair searches), the summaries
on hand-made frames, and the figures (labelled, legible at the book's width)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

import li2core
from li2core import measures
from li2core.chapters import thm6_repulsion as ch
from li2core.figures import check_legible
from li2core.tasks import make_task, split

EPOCHS = 20
SNAPS = [0, 10, 20]


@pytest.fixture(scope="module")
def tiny():
    cfgs = ch.repulsion_configs(7, 12, 0.6, 1, ["sqr", "relu"], 1e-3, EPOCHS, 1e-2, eval_every=5)
    res = li2core.train(cfgs, device="cpu", snapshots=SNAPS, metrics="basic")
    return cfgs, res, res.frame()


def _features_by_hand(W, cfg):
    """sigma(X W) with X the one-hot pairs (e_a, e_b) of the run's training rows, built here."""
    rows = split(make_task(cfg.group), cfg.train_frac, cfg.seed).train
    M = W.shape[0] // 2
    X = torch.zeros(len(rows), 2 * M, dtype=torch.float64)
    X[torch.arange(len(rows)), rows // M] = 1.0
    X[torch.arange(len(rows)), M + rows % M] = 1.0
    H = X @ W.double()
    return H * H if cfg.activation == "sqr" else H.clamp_min(0)


def test_configs_and_effective_ridge():
    cfgs = ch.repulsion_configs(11, 8, 0.5, 3, ["sqr", "relu"], 2e-4, 10, 1e-3)
    assert [(c.activation, c.seed) for c in cfgs] == [("sqr", 0), ("sqr", 1), ("sqr", 2), ("relu", 0), ("relu", 1),
                                                      ("relu", 2)]
    assert all(c.group == "Z11" and c.width == 8 and c.weight_decay == 2e-4 for c in cfgs)
    assert ch.effective_ridge(2016, 2e-4) == pytest.approx(0.2016)
    with pytest.raises(ValueError, match="seeds"):
        ch.repulsion_configs(11, 8, 0.5, 0, ["sqr"], 2e-4, 10, 1e-3)
    with pytest.raises(ValueError, match="activations"):
        ch.repulsion_configs(11, 8, 0.5, 1, [], 2e-4, 10, 1e-3)
    with pytest.raises(ValueError, match="width"):
        ch.repulsion_configs(11, 0, 0.5, 1, ["sqr"], 2e-4, 10, 1e-3)


def test_effective_ridge_is_the_stationary_point_of_the_trained_loss():
    """mse_class + (wd/2)||V||^2 (coupled decay adds wd V to the gradient) is stationary at the ridge readout of the
    class-centred targets with eta = n wd / 2: its gradient in V, from the library's loss, vanishes there."""
    from li2core.losses import loss_and_grad
    g = torch.Generator().manual_seed(0)
    n, K, M, wd = 40, 9, 5, 3e-3
    F = torch.randn(n, K, generator=g, dtype=torch.float64)
    y = torch.randint(0, M, (n,), generator=g)
    Yc = torch.nn.functional.one_hot(y, M).double() - 1.0 / M
    for eta, stationary in ((ch.effective_ridge(n, wd), True), (n * wd, False)):
        V = torch.linalg.solve(F.T @ F + eta * torch.eye(K, dtype=torch.float64), F.T @ Yc)
        _, dO = loss_and_grad("mse_class", (F @ V)[None], y, torch.ones(1, n, dtype=torch.float64))
        gV = F.T @ dO[0] + wd * V
        assert (float(gV.abs().max()) < 1e-12) == stationary


def test_random_identity():
    r = ch.random_identity(30, 6, 0.2, seed=1)
    assert r["pairs"] == 15 and len(r["points"]) == 15
    assert r["schur_err"] < 1e-12 and r["downdate_err"] < 1e-12 and r["peta_err"] < 1e-12 and r["eq9_fixed"] < 1e-12
    assert r["sign_rule"] == 1.0 and r["det_min"] > 0
    # independent: the printed Eq. 9 adds b_jj f_j once more, so its error is ||F~ diag(B)|| / ||F~ B||
    g = torch.Generator().manual_seed(1)
    F = torch.randn(30, 6, generator=g, dtype=torch.float64)
    Ft = F - F.mean(0)
    B = torch.linalg.inv(Ft.T @ Ft + 0.2 * torch.eye(6, dtype=torch.float64))
    assert r["eq9_printed"] == pytest.approx(float((Ft * torch.diagonal(B)).norm() / (Ft @ B).norm()), rel=1e-10)
    np.testing.assert_allclose(r["points"]["b_inv"], r["points"]["b_schur"], atol=1e-12)
    with pytest.raises(ValueError, match="K"):
        ch.random_identity(30, 1, 0.2)


def test_training_features_match_the_one_hot_product(tiny):
    cfgs, res, _ = tiny
    for r, cfg in enumerate(cfgs):
        W, _ = res.weights_at(r, 10)
        torch.testing.assert_close(ch.training_features(W, cfg), _features_by_hand(W, cfg), rtol=1e-12, atol=1e-12)


def test_snapshot_measures_against_brute_force(tiny):
    cfgs, res, _ = tiny
    eta, top = 0.05, 6
    snap = ch.snapshot_measures(res, 0, SNAPS, eta, top, near_dup=0.5)
    assert snap["epoch"].tolist() == SNAPS and set(ch.SNAPSHOT_MEASURES) <= set(snap.columns)
    assert snap["repelled_next"].isna().tolist() == [False, False, True]
    assert (snap["share_rule"] == 1.0).all() and (snap["share_peta_sign"] == 1.0).all()
    assert (snap["peta_formula_err"] < 1e-10).all()
    for i, t in enumerate(SNAPS):
        W, _ = res.weights_at(0, t)
        F = _features_by_hand(W, cfgs[0])
        Ft = F - F.mean(0)
        nrm = Ft.norm(dim=0)
        C = (Ft.T @ Ft) / (nrm[:, None] * nrm[None, :])
        B = torch.linalg.inv(Ft.T @ Ft + eta * torch.eye(12, dtype=torch.float64))
        cand = sorted(((float(C[j, l]), j, l) for j in range(12) for l in range(j + 1, 12)), reverse=True)[:top]
        row = snap.iloc[i]
        assert row["top_cos_mean"] == pytest.approx(np.mean([c for c, _, _ in cand]), rel=1e-10)
        assert row["top_cos_max"] == pytest.approx(cand[0][0], rel=1e-10)
        assert row["share_negative"] == pytest.approx(np.mean([np.sign(float(B[j, l])) == -np.sign(c)
                                                               for c, j, l in cand]))
        iu = torch.triu_indices(12, 12, offset=1)
        assert row["near_duplicates"] == int((C[iu[0], iu[1]] >= 0.5).sum())
        assert row["mean_abs_cos"] == pytest.approx(float(C[iu[0], iu[1]].abs().mean()), rel=1e-10)
        comp, _ = measures.node_components(W, cfgs[0].group)
        assert row["top_same_freq"] == pytest.approx(np.mean([comp[j] == comp[l] for _, j, l in cand]))
        assert row["diversity"] == measures.feature_diversity(W, cfgs[0].group, 0.5)
        if i + 1 < len(SNAPS):  # the same pairs at the next snapshot
            W1, _ = res.weights_at(0, SNAPS[i + 1])
            F1 = _features_by_hand(W1, cfgs[0])
            F1 = F1 - F1.mean(0)
            n1 = F1.norm(dim=0)
            C1 = (F1.T @ F1) / (n1[:, None] * n1[None, :])
            assert row["repelled_next"] == pytest.approx(np.mean([float(C1[j, l]) < c for c, j, l in cand]))


def test_trained_identity_pair_frame_and_eta_frame(tiny):
    cfgs, res, _ = tiny
    d = ch.trained_identity(res, 1, EPOCHS, 0.05, 5)
    assert d["pairs"] == 5 and d["err"] < 1e-10 and d["sign_rule"] == 1.0 and d["cond"] >= 1.0
    assert len(d["points"]) == 5
    pf = ch.pair_frame(res, 0, [0, EPOCHS], 0.05, 4, 30, seed=3)
    assert set(pf["kind"]) == {"top", "sample"} and set(pf["epoch"]) == {0, EPOCHS}
    assert (pf["j"] != pf["l"]).all() and len(pf[pf["kind"] == "top"]) == 8
    W, _ = res.weights_at(0, EPOCHS)
    F = _features_by_hand(W, cfgs[0])
    Ft = F - F.mean(0)
    B = torch.linalg.inv(Ft.T @ Ft + 0.05 * torch.eye(12, dtype=torch.float64))
    last = pf[pf["epoch"] == EPOCHS]
    for r in last.itertuples():
        assert r.rho == pytest.approx(-float(B[r.j, r.l]) / float((B[r.j, r.j] * B[r.l, r.l]).sqrt()), rel=1e-9)
        assert r.beta_peta == pytest.approx(-0.05 ** 2 * float(B[r.j, r.l]), rel=1e-9)
        assert np.sign(r.rho) == np.sign(r.beta)  # rho = beta / sqrt(alpha gamma)
    shares = ch.pair_sign_shares(pf)
    s = shares[(shares["epoch"] == EPOCHS) & (shares["kind"] == "sample")]["share"].iloc[0]
    sub = last[last["kind"] == "sample"]
    assert s == pytest.approx(float((np.sign(sub["rho"]) == np.sign(sub["cos"])).mean()))
    ef = ch.eta_frame(res, 0, EPOCHS, [0.01, 0.1, 1.0], 4)
    assert ef["eta"].tolist() == [0.01, 0.1, 1.0] and (ef["share_rule"] == 1.0).all()
    assert ef["peta_ratio_median"].is_monotonic_increasing  # eta^2 / (alpha gamma - beta^2) grows with eta


def _snap_frame():
    rows = []
    for run, act in ((0, "sqr"), (1, "sqr"), (2, "relu")):
        for t, neg, cos, rep, div, dup in ((0, 1.0, 0.2, 0.8, 0, 0), (10, 0.95, 0.1, 0.3, 5, 3), (20, 0.9, 0.4, np.nan,
                                                                                               7, 1)):
            rows.append(dict(run=run, activation=act, seed=run, epoch=t, share_negative=neg - 0.05 * run,
                             share_rule=1.0, share_peta_sign=1.0, peta_ratio_median=0.1 * (run + 1),
                             peta_formula_err=1e-16, top_cos_mean=cos, top_cos_min=cos - 0.1, top_cos_max=cos + 0.1,
                             top_same_freq=0.5, mean_abs_cos=0.05, near_duplicates=dup + run, diversity=div + run,
                             repelled_next=rep))
    return pd.DataFrame(rows)


def _train_frame():
    ep = [0, 5, 10, 15, 20]
    return pd.concat([pd.DataFrame(dict(run=r, activation=a, epoch=ep, train_acc=[0.1, 0.5, 1.0, 1.0, 1.0],
                                        test_acc=[0.0, 0.1, 0.2, 0.5, t], diverged=False))
                      for r, a, t in ((0, "sqr", 1.0), (1, "sqr", 0.8), (2, "relu", 0.1))], ignore_index=True)


def test_run_summary_and_its_reading():
    s = ch.run_summary(_snap_frame(), _train_frame())
    assert list(s.index) == ["sqr", "relu"]
    q = s.loc["sqr"]
    assert q["fit_epoch"] == 10 and q["share_negative_min"] == pytest.approx(0.85)
    assert q["share_negative_min_epoch"] == 20 and q["share_negative_final"] == pytest.approx(0.85)
    assert q["diversity_first"] == 0 and q["diversity_final"] == 7
    assert q["dups_peak"] == 3 + 4 and q["dups_final"] == 1 + 2
    assert q["repelled_after_fit"] == pytest.approx(0.3) and q["repelled_last"] == pytest.approx(0.3)
    assert q["top_cos_low"] == pytest.approx(0.1) and q["top_cos_low_epoch"] == 10 and q["top_cos_final"] == 0.4
    assert q["ratio_median_final"] == pytest.approx(0.15) and q["test_final"] == pytest.approx(0.9)
    text = ch.summary_markdown(q, "x²", 100, 20, 0.7)
    assert "**x²**" in text and "**rises** to 0.40" in text and "85%" in text and "70%" in text
    r = ch.summary_markdown(s.loc["relu"], "ReLU", 100, 20, 0.7)
    assert "does not generalise" in r and "near-duplicate pairs peak at 5" in r


def test_figures_are_labelled_and_legible(tiny):
    snap, frame = _snap_frame(), _train_frame()
    r = ch.random_identity(20, 5, 0.2)
    peta = pd.DataFrame(dict(activation=["sqr", "relu"], beta=[0.1, -0.2], beta_peta=[0.01, -0.05]))
    pf = ch.pair_frame(tiny[1], 0, [0, EPOCHS], 0.05, 4, 30)
    ef = pd.concat([pd.DataFrame(dict(run=r_, activation=a, seed=0, eta=[0.01, 0.1, 1.0], share_negative=[0.9, 1, 1],
                                      share_rule=1.0, share_peta_sign=1.0, peta_ratio_median=[1e-3, 1e-2, 0.5]))
                    for r_, a in ((0, "sqr"), (1, "relu"))])
    figs = {
        "thm6_identity": (ch.thm6_identity(r["points"], peta), ch.thm6_identity_data(r["points"], peta)),
        "thm6_pairs": (ch.thm6_pairs(pf), ch.thm6_pairs_data(pf)),
        "thm6_training": (ch.thm6_training(snap, frame), ch.thm6_training_data(snap, frame)),
        "thm6_diversity": (ch.thm6_diversity(snap), ch.thm6_diversity_data(snap)),
        "thm6_eta": (ch.thm6_eta(ef, 0.1), ch.thm6_eta_data(ef, 0.1)),
    }
    for name, (fig, data) in figs.items():
        assert isinstance(fig, plt.Figure) and fig.get_figwidth() <= 8.0, name
        assert len(data) > 0, name
        drawn = [a for a in fig.axes if a.axison]
        assert drawn and all(a.get_ylabel() for a in drawn if a.get_subplotspec().is_first_col()), name
        assert all(a.get_xlabel() for a in drawn if a.get_subplotspec().is_last_row()), name
        check_legible(fig, name)
        plt.close(fig)
    # the training figure's data: the mean over the two x² runs of a snapshot column
    d = ch.thm6_training_data(snap, frame)
    got = d[(d["activation"] == "sqr") & (d["metric"] == "share_negative") & (d["epoch"] == 20)]["mean"].iloc[0]
    assert got == pytest.approx((0.9 + 0.85) / 2)
    e = ch.thm6_eta_data(ef, 0.1)
    assert sorted(e["eta_ratio"].unique().tolist()) == pytest.approx([0.1, 1.0, 10.0])
