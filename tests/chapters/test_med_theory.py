"""li2core.chapters.med_theory: the Toeplitz training path against li2core.train (the same numbers for random runs,
the authors' W_E for Toeplitz ones), the stacked attention maps against the model's per-head projections, the
norm, coverage, toy and ODE frames against hand computations and closed forms, the grok frames on hand-made
curves, and the figures."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core.chapters import med_theory as ch
from li2core.figures import check_legible
from li2core.models.transformer import _heads, init_transformer
from li2core.tasks import make_task, split_pairs
from li2core.theory.med import toeplitz_embedding
from li2core.train import train

TINY = dict(p=7, fracs=[0.7], seeds=1, epochs=6, lr=3e-3, wd=1.0, d_model=8, width=16, n_heads=2, eval_every=2)


@pytest.fixture(scope="module")
def tiny():
    t = TINY
    cfgs, inits = ch.embedding_configs(t["p"], t["fracs"], t["seeds"], t["epochs"], t["lr"], t["wd"], t["d_model"],
                                       t["width"], t["n_heads"], t["eval_every"])
    res = ch.train_with_inits(cfgs, inits, device="cpu", snapshots=[0, 2, 6])
    return cfgs, inits, res


def test_configs_pair_the_inits_on_one_split(tiny):
    cfgs, inits, _ = tiny
    assert inits == ["random", "toeplitz"] and cfgs[0] == cfgs[1]
    assert cfgs[0].family == "transformer" and cfgs[0].split == "shuffle" and cfgs[0].beta2 == 0.98
    with pytest.raises(ValueError, match="^d_model:"):
        ch.embedding_configs(11, [0.5], 1, 5, 1e-3, 1.0, 8, 16, 2, 1)


def test_random_runs_equal_li2core_train_and_toeplitz_runs_start_from_the_authors_embedding(tiny):
    cfgs, inits, res = tiny
    ref = train([cfgs[0]], device="cpu", metrics=ch.RUN_METRICS, snapshots=[0, 6])
    for m in ("train_acc", "test_acc", "train_loss", "test_loss", "med"):
        np.testing.assert_array_equal(res.metrics[0][m], ref.metrics[0][m])
    for a, b in zip(res.final_weights(0), ref.final_weights(0)):
        assert torch.equal(a, b)
    w0 = res.weights_at(1, 0)
    want = toeplitz_embedding(8, 8, torch.Generator().manual_seed(ch.TOEPLITZ_SEED + cfgs[1].seed)).float()
    assert torch.equal(w0[0], want)
    for a, b in zip(w0[1:], res.weights_at(0, 0)[1:]):  # every other weight as the random run's
        assert torch.equal(a, b)
    assert not torch.equal(res.final_weights(1)[0], w0[0])  # and it is trained
    with pytest.raises(ValueError, match="^inits:"):
        ch.train_with_inits(cfgs, ["random"])
    with pytest.raises(ValueError, match="^cfgs:"):
        ch.train_with_inits([cfgs[0], cfgs[0].__class__(**{**cfgs[0].__dict__, "epochs": 3})], ["random"] * 2)


def test_matrix_names_and_the_stacked_attention_maps():
    cfg = ch.embedding_configs(7, [0.5], 1, 1, 1e-3, 1.0, 8, 16, 2, 1)[0][0]
    ws = init_transformer(7, cfg)
    names = ch.matrix_names(1)
    assert len(names) == len(ws) and names[2] == "W_Q" and names[-1] == "W_U"
    assert ch.matrix_names(2)[2] == "W_Q (1)" and len(ch.matrix_names(2)) == 2 + 16 + 1
    x = torch.randn(5, 8)
    W_Q = ws[2]
    M = ch.as_matrix("W_Q", W_Q)
    torch.testing.assert_close(x @ M.T, x @ _heads(W_Q[None])[0])  # the map the model applies
    assert ch.as_matrix("b_in", ws[7]) is None and ch.as_matrix("W_E", ws[0]) is ws[0]


def test_norm_frame_and_sums(tiny):
    _, inits, res = tiny
    nf = ch.norm_frame(res, inits)
    assert set(nf["epoch"]) == {0, 2, 6} and set(nf["matrix"]) == {"W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O",
                                                                     "W_in", "W_out", "W_U"}
    assert bool((nf["op"] <= nf["fro"] * (1 + 1e-6)).all() and (nf["fro"] <= nf["upper"] * (1 + 1e-6)).all())
    r = nf[(nf["run"] == 0) & (nf["epoch"] == 6) & (nf["matrix"] == "W_U")].iloc[0]
    W_U = res.weights_at(0, 6)[-1].double()
    assert r["fro"] == pytest.approx(float(W_U.norm())) and (r["m"], r["n"]) == (8, 7)
    assert r["position"] == pytest.approx((r["fro"] / r["op"] - 1) / (math.sqrt(7) - 1))
    s = ch.norm_sums(nf)
    one = nf[(nf["run"] == 1) & (nf["epoch"] == 2)]
    assert float(s[(s["run"] == 1) & (s["epoch"] == 2)]["fro2"].iloc[0]) == pytest.approx(float((one["fro"] ** 2).sum()))
    weights = res.weights_at(1, 2)
    wd_term = sum(float(w.double().pow(2).sum()) for nm, w in zip(ch.matrix_names(1), weights) if not nm.startswith("b_"))
    assert float(s[(s["run"] == 1) & (s["epoch"] == 2)]["fro2"].iloc[0]) == pytest.approx(wd_term, rel=1e-6)


def test_random_norms_has_the_equality_cases():
    d = ch.random_norms([(3, 5), (6, 2)], 4, seed=1)
    assert len(d) == 2 * (4 + 2)
    r1, orth = d[d["kind"] == "rank one"], d[d["kind"] == "orthonormal"]
    np.testing.assert_allclose(r1["ratio"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(orth["ratio"], orth["bound"], rtol=1e-12)


def test_first_epoch_and_grok_frames_on_hand_made_curves():
    assert ch.first_epoch_at([0, 10, 20], [0.1, 0.96, 0.9], 0.95) == 10
    assert math.isnan(ch.first_epoch_at([0, 10], [0.1, 0.2], 0.95))
    ep = [0, 10, 20, 30]
    rows = []
    curves = {0: [0.0, 0.2, 0.96, 1.0], 1: [0.0, 0.96, 1.0, 1.0], 2: [0.0, 0.1, 0.2, 0.3], 3: [0.0, 0.5, 0.97, 1.0]}
    for r, te in curves.items():
        rows += [dict(run=r, epoch=e, test_acc=a, train_acc=1.0, med=1.0 + r, train_frac=0.5, seed=r // 2)
                 for e, a in zip(ep, te)]
    inits = ["random", "toeplitz", "random", "toeplitz"]
    g = ch.grok_frame(pd.DataFrame(rows), inits)
    assert g["grok_epoch"].tolist()[:2] == [20, 10] and math.isnan(g["grok_epoch"].iloc[2])
    assert g["grok_bound"].iloc[2] == 30
    # the area: trapezoids of run 0 (0.1 + 0.58 + 0.98) * 10 / 30
    assert g["mean_test_acc"].iloc[0] == pytest.approx((0.1 + 0.58 + 0.98) / 3)
    pf = ch.pair_frame(g).set_index("seed")
    assert pf.loc[0, "ratio"] == 2.0 and bool(pf.loc[0, "both"])
    assert math.isnan(pf.loc[1, "ratio"]) and pf.loc[1, "ratio_bound"] == pytest.approx(30 / 20)
    assert pf.loc[1, "acc_gap"] == pytest.approx(g["mean_test_acc"].iloc[3] - g["mean_test_acc"].iloc[2])


def test_coverage_frame_and_half_points():
    cov = ch.coverage_frame([11], [1], [0.5, 0.8, 1.0, 1.5], trials=50, seed=2)
    th = 2 * math.log(11) / 5
    assert cov["theta"].iloc[0] == pytest.approx(th)
    # 1.5 theta would need more training points than pairs: that row is left out
    assert cov["m"].tolist() == [round(f * th * 121) for f in (0.5, 0.8, 1.0)]
    assert bool((cov["bound_exact"] >= cov["bound_paper"]).all())
    assert cov["alpha_exact"].iloc[0] == pytest.approx(1 - math.exp(-th))
    assert bool(((cov["P_full"] >= 0) & (cov["P_full"] <= 1)).all()) and bool((cov["se"] > 0).all())
    hand = pd.DataFrame(dict(p=5, D=1, C=5, theta=0.4, alpha_exact=0.33, alpha=[0.2, 0.3, 0.4],
                             P_full=[0.1, 0.3, 0.7]))
    h = ch.half_points(hand).iloc[0]
    assert h["alpha_half"] == pytest.approx(0.35) and h["half_over_theta"] == pytest.approx(0.875)
    assert math.isnan(ch.half_points(hand.assign(P_full=[0.6, 0.7, 0.8]))["alpha_half"].iloc[0])


def test_toy_cases_and_frame():
    p = 7
    cases = ch.toy_cases(p, 0.6, 3, seed=0)
    a, b, y, c = cases["one class"]
    assert bool(((a + b) % p == 0).all()) and c.shape == (1, 3)
    a, b, y, c = cases["integer sum"]
    assert torch.equal(y, a + b) and c.shape == (2 * p - 1, 3) and len(a) == round(0.6 * p * p)
    assert torch.equal(cases["sum mod p"][2], (a + b) % p)
    summ, hist, final = ch.toy_frame(cases, p, 5, 150, 1e-4, seed=0)
    s = summ.set_index("case")
    assert s.loc["one class", "norm"] == pytest.approx(math.sqrt(p), rel=1e-3)
    assert s.loc["one class", "ls"] < 1e-20 and s.loc["integer sum", "ls"] < 1e-20 and s.loc["sum mod p", "ls"] > 0.1
    assert s.loc["integer sum", "open_cv"] < 0.02 and bool(summ["J_monotone"].all())
    assert len(hist) == 3 * 151 and final["sum mod p"].shape == (p, 5)
    with pytest.raises(ValueError, match="^k:"):
        ch.toy_cases(p, 0.5, 1)


def test_ode_frame_against_the_closed_forms():
    traj, curves = ch.ode_frame(4, [0.0, 0.2], 0.05, 40.0, 2, seed=0)
    assert len(traj) == 8 and set(curves["lam"]) == {0.0, 0.2}
    no, wd = traj[traj["lam"] == 0], traj[traj["lam"] == 0.2]
    assert float(no["manifold_err"].max()) < 1e-6 and float((no["xwu_end"] - 1).abs().max()) < 1e-9
    np.testing.assert_allclose(wd["t_bal"], math.log(100) / 0.4, atol=0.1)
    assert bool((wd["balanced_err"] < 1e-4).all()) and not bool(traj["collapsed"].any())
    jac = ch.jacobian_frame([0.0, 0.2]).set_index("lam")
    np.testing.assert_allclose(jac.loc[0.0, ["eig1", "eig2", "eig3"]].astype(float), [-3, 0, 0], atol=1e-9)
    assert jac.loc[0.2, "max_eig"] == pytest.approx(-0.4)


def test_figures_are_legible_and_come_with_their_data(tiny):
    _, inits, res = tiny
    frame = res.frame()
    rand = ch.random_norms([(3, 5)], 3)
    nf = ch.norm_frame(res, inits)
    cov = ch.coverage_frame([11], [1, 2], [0.8, 1.2], 20)
    summ, hist, final = ch.toy_frame(ch.toy_cases(7, 0.6, 3), 7, 5, 20, 1e-3)
    traj, curves = ch.ode_frame(3, [0.0, 0.2, 0.1], 0.05, 30.0, 4)
    figs = [(ch.norms_figure(rand, nf, 0), ch.norms_data(rand, nf)),
            (ch.coverage_figure(cov), ch.coverage_data(cov)),
            (ch.toy_figure(hist, final, float(summ["closed"].iloc[0])), ch.toy_data(hist, final)),
            (ch.ode_figure(curves, traj, 0.2, 3), ch.ode_data(curves, traj, 0.2, 3)),
            (ch.toeplitz_figure(frame, inits), ch.toeplitz_data(frame, inits))]
    for fig, data in figs:
        check_legible(fig)
        assert len(data) > 0
        plt.close(fig)
    assert set(ch.toeplitz_data(frame, inits)["init"]) == {"random", "toeplitz"}
