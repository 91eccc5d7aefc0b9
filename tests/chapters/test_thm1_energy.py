"""li2core.chapters.thm1_energy: the chapter's frame builders and figure functions (data and labelled axes).

(Moved from tests/test_thm1_energy_lib.py.)"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import torch

import li2core
from li2core import TrainConfig
from li2core import theory as th
from li2core.chapters import thm1_energy as ch
from li2core.tasks import make_task, split

DT = torch.float64


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


class _FakeResults:
    """Duck-typed Results: snapshots built by hand."""

    def __init__(self, cfg, snaps):
        self.configs = [cfg]
        self._snaps = snaps

    def weights_at(self, i, epoch):
        return self._snaps[epoch]


def _gradcheck_frame():
    rows = []
    for act in ("sqr", "silu"):
        for node in range(2):
            for c in range(4):
                a = (c - 1.5) * (node + 1)
                rows.append(dict(activation=act, node=node, coord=c, analytic=a, fd=a + 1e-9 * c, eq6=a * (1 + 1e-15)))
    return pd.DataFrame(rows)


def test_stage2_alignment_on_hand_built_updates():
    """W(t+1) = W(t) + a * grad E(W(t)) column by column: the update measures are exactly 1 (raw and tangent)."""
    M, K = 7, 5
    cfg = TrainConfig(group="Z7", width=K, train_frac=0.5, loss="mse_sample")
    rows = split(make_task("Z7"), 0.5, 0).train
    W0, V0 = _randn(2 * M, K, seed=8), _randn(K, M, seed=9)
    gE = th.energy_grad(W0.T, "Z7", "sqr", rows).T
    scale = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], dtype=DT)
    W1 = W0 + gE * scale
    res = _FakeResults(cfg, {0: (W0, V0), 1: (W1, V0)})
    df = ch.stage2_alignment(res, 0, [0], rows)
    assert set(df.columns) == {"epoch", "node", "measure", "value"}
    assert set(df["measure"]) == set(ch.ALIGNMENT_MEASURES) | {"independence"}
    v = df.set_index(["measure", "node"])["value"]
    for m in ("update_vs_gradE", "update_vs_gradE_tangent"):
        np.testing.assert_allclose(v[m].to_numpy(), 1.0, atol=1e-12)
    lg = th.loss_grad(W0, V0, "Z7", rows, "sqr", "mse_sample")
    cos = ((lg.W * gE).sum(0) / (lg.W.norm(dim=0) * gE.norm(dim=0))).numpy()
    np.testing.assert_allclose(v["lossgrad_vs_gradE"].to_numpy(), cos, rtol=1e-12)
    np.testing.assert_allclose(v["update_vs_lossgrad"].to_numpy(), cos, rtol=1e-10)
    # tangent share: sine of the angle between w_j and grad E(w_j)
    u = W0 / W0.norm(dim=0)
    sin = (1 - ((u * gE).sum(0) / gE.norm(dim=0)) ** 2).sqrt().numpy()
    np.testing.assert_allclose(v["gradE_tangent_share"].to_numpy(), sin, rtol=1e-10)
    assert len(df[df["measure"] == "independence"]) == 1
    assert abs(v["independence"].iloc[0] - th.median_abs_offdiag_cos(lg.F)) < 1e-15
    p = v["purity"].to_numpy()
    assert np.all((p > 0) & (p <= 1 + 1e-12))


def test_stage2_alignment_on_a_real_sgd_run():
    """First SGD step without weight decay: the update is exactly along -dL/dW (cosine 1)."""
    cfg = TrainConfig(group="Z7", train_frac=0.6, width=8, optimizer="sgd", lr=0.05, weight_decay=0.0, epochs=3,
                      seed=1, dtype="float64", eval_every=1)
    res = li2core.train([cfg], progress=False, snapshots=[0, 1, 2], device="cpu")
    rows = split(make_task("Z7"), 0.6, 1).train
    df = ch.stage2_alignment(res, 0, [0, 1], rows)
    first = df[(df["epoch"] == 0) & (df["measure"] == "update_vs_lossgrad")]["value"]
    np.testing.assert_allclose(first.to_numpy(), 1.0, atol=1e-10)
    cos = df[df["measure"].str.contains("_vs_")]["value"]
    assert cos.between(-1 - 1e-12, 1 + 1e-12).all()


def test_thm1_gradcheck_plot_and_data():
    fr = _gradcheck_frame()
    d = ch.thm1_gradcheck_data(fr)
    # independent: node 1 has max |analytic| 3, max |fd - analytic| = 3e-9 -> 1e-9; node 0: 3e-9 / 1.5 = 2e-9
    assert np.allclose(d.loc[d["activation"] == "sqr", "rel_err_fd"], 2e-9)
    fig = ch.thm1_gradcheck(fr)
    assert isinstance(fig, matplotlib.figure.Figure)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()
    matplotlib.pyplot.close(fig)


def test_thm1_alignment_plot_and_data():
    rng = np.random.default_rng(0)
    parts = []
    for opt, run in (("adam", 0), ("sgd", 1)):
        for ep in (0, 5, 10):
            for m in ch.ALIGNMENT_MEASURES:
                parts.append(pd.DataFrame({"optimizer": opt, "run": run, "epoch": ep, "node": range(6),
                                           "measure": m, "value": rng.uniform(-1, 1, 6)}))
            parts.append(pd.DataFrame({"optimizer": opt, "run": run, "epoch": [ep], "node": [-1],
                                       "measure": ["independence"], "value": [0.1]}))
    align = pd.concat(parts, ignore_index=True)
    curves = pd.DataFrame({"optimizer": ["adam"] * 3 + ["sgd"] * 3, "run": [0] * 3 + [1] * 3, "epoch": [0, 5, 10] * 2,
                           "train_acc": [0, 1, 1] * 2, "test_acc": [0, 0, 1] * 2})
    windows = pd.DataFrame({"optimizer": ["adam", "sgd"], "run": [0, 1], "start": [5.0, 5.0], "end": [10.0, np.nan]})
    d = ch.thm1_alignment_data(align, curves, windows)
    sel = d[(d["optimizer"] == "sgd") & (d["series"] == "purity") & (d["epoch"] == 5)]
    ref = align[(align["optimizer"] == "sgd") & (align["measure"] == "purity") & (align["epoch"] == 5)]["value"]
    assert abs(float(sel["center"].iloc[0]) - float(np.median(ref))) < 1e-12
    assert abs(float(sel["low"].iloc[0]) - float(np.quantile(ref, 0.25))) < 1e-12
    assert d["panel"].notna().all()
    fig = ch.thm1_alignment(align, curves, windows, titles={"adam": "Adam"})
    assert isinstance(fig, matplotlib.figure.Figure)
    for ax in fig.axes:
        assert ax.get_ylabel()
    assert fig.axes[-1].get_xlabel()
    matplotlib.pyplot.close(fig)
