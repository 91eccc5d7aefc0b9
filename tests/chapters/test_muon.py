"""li2core.chapters.muon: the frame builders (tiny sizes) against the theory they summarise, and the figures
(labelled axes, legible text)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from li2core import measures
from li2core.chapters import muon as ch
from li2core.figures import check_legible
from li2core.theory import muon as tm
from li2core.train import train


def test_lemma2_frame():
    d = ch.lemma2_frame([(3, 5), (4, 4)], 4, seed=0)
    assert len(d) == 8 and set(d["shape"]) == {"3×5", "4×4"}
    assert float(d["rel_err"].max()) < 1e-12 and bool((d["inner"] > 0).all())
    # NS5's singular values are a fixed polynomial image of D / ||G||_F: never all exactly 1
    assert float((d["ns5_smax"] - d["ns5_smin"]).min()) > 0
    assert ch.lemma2_frame([(3, 5)], 2, seed=1)["inner"].tolist() != d["inner"][:2].tolist()
    with pytest.raises(ValueError, match="^n:"):
        ch.lemma2_frame([(3, 3)], 0, seed=0)


def test_lemma9_frame_matches_the_closed_form():
    d = ch.lemma9_frame(6, 2, [1e-3, 1e-2], [0.5, 2.0], seed=0)
    assert len(d) == 4
    for _, r in d.iterrows():
        assert r["relative_damping"] == pytest.approx(r["perp"] / (1 + r["perp"]), rel=1e-9)
        assert r["one_minus_factor"] == pytest.approx(1 - 1 / math.sqrt(1 + (r["par"] / (1 + r["perp"])) ** 2))
        assert r["error"] == pytest.approx(r["predicted"], rel=1e-3)
    half = d[d.perp == 0.5]
    assert measures.loglog_slope(half["par"].to_numpy(), half["error"].to_numpy()) == pytest.approx(2.0, abs=1e-3)
    with pytest.raises(ValueError, match="^d, k:"):
        ch.lemma9_frame(3, 3, [0.1], [0.1], seed=0)


def test_coupon_frame_against_the_formulas():
    mu = [0.7, 0.85, 1.0]
    d = ch.coupon_frame(mu, [2.0, 4.0], trials=60, plain_nodes=80, muon_nodes=6, seed=0)
    assert len(d) == 2 and (d["L"] == 3).all()
    for _, r in d.iterrows():
        p = tm.collection_probabilities(mu, r["a"])
        assert r["T0"] == pytest.approx(tm.coupon_time_dp(p), rel=1e-9)
        assert r["bound"] == pytest.approx(tm.coupon_time_dp(p, 2 ** -r["a"]), rel=1e-9)
        assert abs(r["T0_sim"] - r["T0"]) < 5 * r["T0_se"]
        assert r["Ta_sim"] <= r["bound"] and r["leader_share"] == 1.0
    with pytest.raises(ValueError, match="plain_nodes"):
        ch.coupon_frame(mu, [2.0], trials=2, plain_nodes=2, muon_nodes=6, seed=0)


def _fake_fig8() -> pd.DataFrame:
    rows = []
    for opt, base in (("adam", 0.9), ("muon", 0.8)):
        for K in (4, 8):
            for lr in (0.01, 0.1):
                for s in (0, 1):
                    rows.append(dict(optimizer=opt, K=K, lr=lr, seed=s, test_loss=base + lr + 0.01 * s - 0.01 * K,
                                     diversity=K // 2 + (opt == "muon"), test_acc=0.5, train_loss=0.1, train_acc=1.0))
    return pd.DataFrame(rows)


def test_fig8_summary_on_a_known_frame():
    s = ch.fig8_summary(_fake_fig8())
    assert s["K"].tolist() == [4, 8]
    assert s["adam_lr"].tolist() == [0.01, 0.01] and s["muon_lr"].tolist() == [0.01, 0.01]
    assert s["adam_loss"].tolist() == pytest.approx([0.9 + 0.01 + 0.005 - 0.04, 0.9 + 0.01 + 0.005 - 0.08])
    assert (s["adam_loss"] - s["muon_loss"]).tolist() == pytest.approx([0.1, 0.1])
    assert s["cells_muon_lower"].tolist() == [2, 2] and s["muon_div"].tolist() == [3, 5]


def test_fig8_configs_and_frame_from_real_runs():
    cfgs = ch.fig8_configs(7, [4, 6], [1e-2], 2, "muon", epochs=4, train_frac=0.6, weight_decay=1e-3, eval_every=2)
    assert [(c.width, c.seed) for c in cfgs] == [(4, 0), (4, 1), (6, 0), (6, 1)]
    assert all(c.optimizer == "muon" and c.group == "Z7" for c in cfgs)
    res = train(cfgs, device="cpu", progress=False, metrics="basic")
    f = ch.fig8_frame([res])
    assert len(f) == 4 and f["K"].tolist() == [4, 4, 6, 6]
    for i in range(4):
        assert f["test_loss"][i] == pytest.approx(res.metrics[i]["test_loss"][-1])
        assert 0 <= f["diversity"][i] <= min(cfgs[i].width, 3)
    with pytest.raises(ValueError, match="^seeds:"):
        ch.fig8_configs(7, [4], [1e-2], 0, "adam", 4, 0.5, 0.0)


def test_figures_are_labelled_and_legible():
    l9 = ch.lemma9_frame(6, 2, [1e-3, 1e-2, 1e-1], [0.1, 1.0], seed=0)
    cf = ch.coupon_frame([0.7, 1.0], [2.0, 3.0], trials=20, plain_nodes=40, muon_nodes=4, seed=0)
    for name, fig in [("muon_lemma9", ch.muon_lemma9(l9)), ("muon_coupon", ch.muon_coupon(cf)),
                      ("muon_fig8", ch.muon_fig8(_fake_fig8(), 7))]:
        assert fig.get_figwidth() <= 8.0
        drawn = [a for a in fig.axes if a.axison]
        assert drawn and all(a.get_xlabel() and a.get_ylabel() for a in drawn)
        check_legible(fig, name)
        plt.close(fig)
    d = ch.muon_fig8_data(_fake_fig8())
    assert len(d) == 8 and d["test_loss_max"].ge(d["test_loss_min"]).all()
