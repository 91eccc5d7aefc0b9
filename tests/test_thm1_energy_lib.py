"""Library code of the chapter thm1_energy (Theorem 1, Eq. 6-7), checked against independent computations:
autograd, the trainer's own step, explicit loops, and hand-built inputs with known answers."""
from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch

import li2core
from li2core import TrainConfig, measures, plots
from li2core import theory as th
from li2core.groups import make
from li2core.tasks import make_task, split

DT = torch.float64


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


# ----------------------------------------------------------------------------------------------- gradients of E


@pytest.mark.parametrize("act", ["sqr", "silu", "relusqr"])
def test_energy_grad_fd_matches_autograd(act):
    g = make("S3")
    rows = list(range(0, 36, 2))
    w = _rand(3, 12, seed=1)
    fd = th.energy_grad_fd(w, g, act, rows, h=1e-6)
    assert fd.shape == w.shape
    wr = w.clone().requires_grad_(True)
    th.energy(wr, g, act, rows).sum().backward()
    torch.testing.assert_close(fd, wr.grad, rtol=1e-6, atol=1e-8)
    # single node
    torch.testing.assert_close(th.energy_grad_fd(w[0], g, act, rows), fd[0])
    with pytest.raises(ValueError, match="h"):
        th.energy_grad_fd(w, g, act, rows, h=0.0)


@pytest.mark.parametrize("act", ["sqr", "silu", "relu", "linear"])
@pytest.mark.parametrize("grp,rows", [("Z7", None), ("Z7", [0, 3, 8, 9, 17, 30, 48]), ("S3", list(range(1, 36, 3)))])
def test_eq6_rhs_equals_grad_E_and_a_per_row_loop(act, grp, rows):
    g = make(grp)
    M = g.order
    W = _rand(2 * M, 5, seed=2)  # paper layout: one node per column
    R = th.eq6_rhs(W, g, act, rows)
    assert R.shape == W.shape
    torch.testing.assert_close(R, th.energy_grad(W.T, g, act, rows).T, rtol=1e-11, atol=1e-12)
    # an independent loop over the rows for node 0: sum_i x_i sigma'(x_i.w) (Y~ Y~^T sigma(X w))_i
    idx = range(M * M) if rows is None else rows
    pairs = [(r // M, r % M) for r in idx]
    labels = [int(g.table[a, b]) for a, b in pairs]
    n = len(pairs)
    s, ds = {"sqr": (lambda x: x * x, lambda x: 2 * x), "silu": (lambda x: x / (1 + math.exp(-x)),
             lambda x: (1 / (1 + math.exp(-x))) * (1 + x * (1 - 1 / (1 + math.exp(-x))))),
             "relu": (lambda x: max(x, 0.0), lambda x: float(x > 0)), "linear": (lambda x: x, lambda x: 1.0)}[act]
    w = W[:, 0].tolist()
    pre = [w[a] + w[M + b] for a, b in pairs]
    f = [s(x) for x in pre]
    counts = [labels.count(h) for h in range(M)]
    z = [sum(fi for fi, y in zip(f, labels) if y == h) - counts[h] / n * sum(f) for h in range(M)]  # Y~^T f
    Ytz = [z[y] - sum(c * zz for c, zz in zip(counts, z)) / n for y in labels]  # Y~ z
    out = [0.0] * (2 * M)
    for (a, b), x, q in zip(pairs, pre, Ytz):
        out[a] += ds(x) * q
        out[M + b] += ds(x) * q
    np.testing.assert_allclose(R[:, 0].numpy(), out, rtol=1e-10, atol=1e-11)
    # a single node
    torch.testing.assert_close(th.eq6_rhs(W[:, 0], g, act, rows), R[:, 0])


def test_eq6_rhs_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match="2M"):
        th.eq6_rhs(torch.zeros(13, 2, dtype=DT), "Z7")


def test_rel_err():
    a = torch.tensor([[1.0, 2.0, 3.5], [0.0, 0.0, 1.0]], dtype=DT)
    b = torch.tensor([[1.0, 2.0, 4.0], [0.0, 0.0, 2.0]], dtype=DT)
    torch.testing.assert_close(th.rel_err(a, b), torch.tensor([0.125, 0.5], dtype=DT))


# ----------------------------------------------------------------------------------------------- the loss gradient


def _autograd_loss(W, V, group, rows, act, loss):
    task = make_task(group)
    idx = torch.as_tensor(rows) if rows is not None else torch.arange(task.N)
    a, b, y = task.a[idx], task.b[idx], task.y[idx]
    Wr, Fr_holder = W.clone().requires_grad_(True), {}
    sig, _ = li2core.models.activation(act)
    F = sig(Wr[a] + Wr[task.M + b])
    F.retain_grad()
    O = F @ V
    M = task.M
    Y = torch.nn.functional.one_hot(y, M).to(DT)
    if loss == "mse_class":
        L = ((O - O.mean(1, keepdim=True)) - (Y - 1.0 / M)).pow(2).sum(1).mean()
    elif loss == "mse_sample":
        E = (Y - O) - (Y - O).mean(0, keepdim=True)
        L = 0.5 * E.pow(2).sum()
    else:
        L = torch.nn.functional.cross_entropy(O, y)
    L.backward()
    return -Wr.grad, -F.grad, float(L.detach())


@pytest.mark.parametrize("loss", ["mse_class", "mse_sample", "nll"])
@pytest.mark.parametrize("act", ["sqr", "relu", "silu"])
def test_loss_grad_equals_autograd(loss, act):
    M, K = 7, 6
    W, V = _rand(2 * M, K, seed=3), _rand(K, M, seed=4)
    rows = [1, 5, 8, 13, 21, 22, 30, 41, 48]
    lg = th.loss_grad(W, V, "Z7", rows, act, loss)
    gW, gF, L = _autograd_loss(W, V, "Z7", rows, act, loss)
    torch.testing.assert_close(lg.W, gW, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(lg.F, gF, rtol=1e-10, atol=1e-12)
    assert abs(lg.loss - L) <= 1e-10 * max(1.0, abs(L))


def test_loss_grad_F_is_eq2_for_the_papers_loss():
    M, K = 5, 4
    W, V = _rand(2 * M, K, seed=5), _rand(K, M, seed=6)
    lg = th.loss_grad(W, V, "Z5", None, "sqr", "mse_sample")
    X, Y = th.design("Z5")
    F = (X @ W) ** 2
    torch.testing.assert_close(lg.F, th.G_F(F, V, Y), rtol=1e-11, atol=1e-12)


def test_loss_grad_is_the_trainers_gradient():
    """One plain SGD step (no weight decay; momentum has no effect on the first step) moves W by -lr dL/dW."""
    lr = 0.05
    cfg = TrainConfig(group="Z7", train_frac=0.6, width=8, optimizer="sgd", lr=lr, weight_decay=0.0, epochs=1,
                      seed=3, dtype="float64", eval_every=1)
    res = li2core.train([cfg], progress=False, snapshots=[0, 1], device="cpu")
    (W0, V0), (W1, _) = res.weights_at(0, 0), res.weights_at(0, 1)
    rows = split(make_task("Z7"), 0.6, 3).train
    lg = th.loss_grad(W0, V0, "Z7", rows, "sqr", "mse_class")
    torch.testing.assert_close(W1 - W0, lr * lg.W, rtol=1e-10, atol=1e-14)


def test_loss_grad_rejects_bad_shapes():
    with pytest.raises(ValueError, match="W"):
        th.loss_grad(torch.zeros(13, 3, dtype=DT), torch.zeros(3, 7, dtype=DT), "Z7")
    with pytest.raises(ValueError, match="V"):
        th.loss_grad(torch.zeros(14, 3, dtype=DT), torch.zeros(4, 7, dtype=DT), "Z7")


# ----------------------------------------------------------------------------------------------- alignment measures


def test_median_abs_offdiag_cos():
    G = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=DT)  # cosines: 0, 1/sqrt2, 1/sqrt2
    assert abs(th.median_abs_offdiag_cos(G) - 1 / math.sqrt(2)) < 1e-12
    G = _rand(30, 9, seed=7)
    U = G / G.norm(dim=0)
    C = (U.T @ U).abs().numpy()
    ref = float(np.median([C[i, j] for i in range(9) for j in range(i + 1, 9)]))
    assert abs(th.median_abs_offdiag_cos(G) - ref) < 1e-12
    assert abs(th.median_abs_offdiag_cos(torch.ones(4, 3, dtype=DT)) - 1.0) < 1e-12


class _FakeResults:
    """Duck-typed Results: snapshots built by hand."""

    def __init__(self, cfg, snaps):
        self.configs = [cfg]
        self._snaps = snaps

    def weights_at(self, i, epoch):
        return self._snaps[epoch]


def test_stage2_alignment_on_hand_built_updates():
    """W(t+1) = W(t) + a * grad E(W(t)) column by column: the update measures are exactly 1 (raw and tangent)."""
    M, K = 7, 5
    cfg = TrainConfig(group="Z7", width=K, train_frac=0.5, loss="mse_sample")
    rows = split(make_task("Z7"), 0.5, 0).train
    W0, V0 = _rand(2 * M, K, seed=8), _rand(K, M, seed=9)
    gE = th.energy_grad(W0.T, "Z7", "sqr", rows).T
    scale = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], dtype=DT)
    W1 = W0 + gE * scale
    res = _FakeResults(cfg, {0: (W0, V0), 1: (W1, V0)})
    df = th.stage2_alignment(res, 0, [0], rows)
    assert set(df.columns) == {"epoch", "node", "measure", "value"}
    assert set(df["measure"]) == set(th.ALIGNMENT_MEASURES) | {"independence"}
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
    df = th.stage2_alignment(res, 0, [0, 1], rows)
    first = df[(df["epoch"] == 0) & (df["measure"] == "update_vs_lossgrad")]["value"]
    np.testing.assert_allclose(first.to_numpy(), 1.0, atol=1e-10)
    cos = df[df["measure"].str.contains("_vs_")]["value"]
    assert cos.between(-1 - 1e-12, 1 + 1e-12).all()


def test_stage2_window():
    f = pd.DataFrame({"run": [0] * 5 + [1] * 5, "epoch": list(range(0, 50, 10)) * 2,
                      "train_acc": [0.1, 0.995, 1, 1, 1, 0.1, 0.5, 0.9, 1, 1],
                      "test_acc": [0, 0, 0.5, 0.96, 1, 0, 0, 0, 0, 0.2]})
    w = measures.stage2_window(f)
    assert w.set_index("run")["start"].tolist() == [10.0, 30.0]
    assert w.set_index("run")["end"].iloc[0] == 30.0 and np.isnan(w.set_index("run")["end"].iloc[1])


# ----------------------------------------------------------------------------------------------- plots


def _gradcheck_frame():
    rows = []
    for act in ("sqr", "silu"):
        for node in range(2):
            for c in range(4):
                a = (c - 1.5) * (node + 1)
                rows.append(dict(activation=act, node=node, coord=c, analytic=a, fd=a + 1e-9 * c, eq6=a * (1 + 1e-15)))
    return pd.DataFrame(rows)


def test_thm1_gradcheck_plot_and_data():
    fr = _gradcheck_frame()
    d = plots.thm1_gradcheck_data(fr)
    # independent: node 1 has max |analytic| 3, max |fd - analytic| = 3e-9 -> 1e-9; node 0: 3e-9 / 1.5 = 2e-9
    assert np.allclose(d.loc[d["activation"] == "sqr", "rel_err_fd"], 2e-9)
    fig = plots.thm1_gradcheck(fr)
    assert isinstance(fig, matplotlib.figure.Figure)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel()
    matplotlib.pyplot.close(fig)


def test_thm1_alignment_plot_and_data():
    rng = np.random.default_rng(0)
    parts = []
    for opt, run in (("adam", 0), ("sgd", 1)):
        for ep in (0, 5, 10):
            for m in th.ALIGNMENT_MEASURES:
                parts.append(pd.DataFrame({"optimizer": opt, "run": run, "epoch": ep, "node": range(6),
                                           "measure": m, "value": rng.uniform(-1, 1, 6)}))
            parts.append(pd.DataFrame({"optimizer": opt, "run": run, "epoch": [ep], "node": [-1],
                                       "measure": ["independence"], "value": [0.1]}))
    align = pd.concat(parts, ignore_index=True)
    curves = pd.DataFrame({"optimizer": ["adam"] * 3 + ["sgd"] * 3, "run": [0] * 3 + [1] * 3, "epoch": [0, 5, 10] * 2,
                           "train_acc": [0, 1, 1] * 2, "test_acc": [0, 0, 1] * 2})
    windows = pd.DataFrame({"optimizer": ["adam", "sgd"], "run": [0, 1], "start": [5.0, 5.0], "end": [10.0, np.nan]})
    d = plots.thm1_alignment_data(align, curves, windows)
    sel = d[(d["optimizer"] == "sgd") & (d["series"] == "purity") & (d["epoch"] == 5)]
    ref = align[(align["optimizer"] == "sgd") & (align["measure"] == "purity") & (align["epoch"] == 5)]["value"]
    assert abs(float(sel["center"].iloc[0]) - float(np.median(ref))) < 1e-12
    assert abs(float(sel["low"].iloc[0]) - float(np.quantile(ref, 0.25))) < 1e-12
    assert d["panel"].notna().all()
    fig = plots.thm1_alignment(align, curves, windows, titles={"adam": "Adam"})
    assert isinstance(fig, matplotlib.figure.Figure)
    for ax in fig.axes:
        assert ax.get_ylabel()
    assert fig.axes[-1].get_xlabel()
    matplotlib.pyplot.close(fig)
