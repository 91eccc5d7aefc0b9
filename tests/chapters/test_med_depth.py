"""li2core.chapters.med_depth: the run grid, the window measures on closed-form series, the run frame against hand
computations, the cls residual against a literal numpy forward of the authors' transformer, the Thm 3.5 spread against
a numpy spread on the same split, and the figures."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core.chapters import med_depth as ch
from li2core.figures import check_legible
from li2core.models.transformer import init_transformer, tokens, transformer_logits
from li2core.tasks import make_task, split_pairs
from li2core.train import train


def test_configs_give_every_depth_the_same_split_and_the_authors_optimiser():
    cfgs = ch.depth_configs(11, [1, 3], seeds=2, epochs=5, train_frac=0.6, d_model=8, width=16, n_heads=2)
    assert [(c.n_layers, c.seed) for c in cfgs] == [(1, 0), (1, 1), (3, 0), (3, 1)]
    assert all(c.family == "transformer" and c.optimizer == "adamw" and c.beta2 == 0.98 and c.warmup_steps == 10
               and c.loss == "nll" and c.split == "shuffle" and c.weight_decay == 1.0 for c in cfgs)
    task = make_task("Z11", op="add")
    s1 = split_pairs(task, cfgs[0].split, cfgs[0].train_frac, cfgs[0].seed)
    s3 = split_pairs(task, cfgs[2].split, cfgs[2].train_frac, cfgs[2].seed)
    assert torch.equal(s1.train, s3.train)
    # a seed fixes the embedding at init whatever the depth (W_E is drawn first)
    assert torch.equal(init_transformer(11, cfgs[0])[0], init_transformer(11, cfgs[2])[0])
    with pytest.raises(ValueError, match="^seeds:"):
        ch.depth_configs(11, [1], 0, 5, 0.6)
    with pytest.raises(ValueError, match="^depths:"):
        ch.depth_configs(11, [0, 1], 1, 5, 0.6)
    with pytest.raises(ValueError, match="^depths:"):
        ch.depth_configs(11, [2, 2], 1, 5, 0.6)


def test_window_measures_on_closed_forms():
    a = [0.0, 0.5, 0.3, 0.8]
    # total variation 0.5 + 0.2 + 0.5 = 1.2, net change 0.8: the excess per interval is 0.4 / 3 = twice the drops / 3
    assert ch.fluctuation(a) == pytest.approx(0.4 / 3)
    assert ch.fluctuation(a) == pytest.approx(2 * 0.2 / 3)
    assert ch.mean_abs_change(a) == pytest.approx(1.2 / 3)
    assert ch.largest_drop(a) == pytest.approx(0.2)
    assert ch.fall_share(a) == pytest.approx(1 / 3)
    rise = np.linspace(0.1, 0.9, 9) ** 2  # monotone: no fluctuation, no drop
    assert ch.fluctuation(rise) == pytest.approx(0.0, abs=1e-15) and ch.largest_drop(rise) == 0.0
    assert ch.fall_share(rise[::-1]) == 1.0
    osc = [0.5, 0.7] * 5  # ends 0.2 above its start after 9 intervals of 0.2
    assert ch.fluctuation(osc) == pytest.approx((9 * 0.2 - 0.2) / 9)
    assert all(math.isnan(f([0.3])) for f in (ch.fluctuation, ch.mean_abs_change, ch.largest_drop, ch.fall_share))
    with pytest.raises(ValueError, match="^x:"):
        ch.fluctuation(np.zeros((2, 2)))
    assert ch.strictly_increasing([0.1, 0.2, 0.5]) and not ch.strictly_increasing([0.1, 0.1, 0.5])
    assert not ch.strictly_increasing([0.1, float("nan")]) and not ch.strictly_increasing([0.1])


def test_fit_index_reads_every_training_pair_right():
    assert ch.fit_index([0.1, 0.99, 1.0, 1.0], 100) == 2
    assert ch.fit_index([0.5, np.float32(671) / np.float32(672) + 1e-7, 0.99999994], 672) == 2  # float32 rounding
    assert ch.fit_index([0.5, 671 / 672], 672) is None
    with pytest.raises(ValueError, match="^n_train:"):
        ch.fit_index([1.0], 0)


def _frame():
    """Two hand-made runs: run 0 (1 layer) fits at epoch 10, run 1 (2 layers) never fits."""
    ep = [0, 10, 20, 30, 40]
    r0 = dict(run=0, n_layers=1, seed=0, n_train=4, epoch=ep, train_acc=[0.5, 1.0, 1.0, 0.75, 1.0],
              test_acc=[0.1, 0.4, 0.3, 0.6, 0.5], med=[1.0, 2.0, 1.8, 1.9, 1.6], test_loss=[3, 2, 2.5, 1.5, 1.0],
              emb_norm=[5.0, 4.0, 3.8, 3.6, 3.2])
    r1 = dict(run=1, n_layers=2, seed=0, n_train=4, epoch=ep, train_acc=[0.5, 0.75, 0.75, 0.75, 0.75],
              test_acc=[0.1] * 5, med=[1.0] * 5, test_loss=[3.0] * 5, emb_norm=[5.0] * 5)
    return pd.concat([pd.DataFrame(r0), pd.DataFrame(r1)], ignore_index=True)


def test_run_frame_against_hand_computations():
    runs = ch.run_frame(_frame()).set_index("run")
    r = runs.loc[0]
    w = [0.4, 0.3, 0.6, 0.5]  # the window: epochs 10..40 (a later train-acc dip does not move its start)
    assert r["fit_epoch"] == 10 and r["intervals"] == 3 and r["end_epoch"] == 40
    assert r["fluctuation"] == pytest.approx((0.1 + 0.3 + 0.1 - 0.1) / 3)
    assert r["mean_abs_change"] == pytest.approx(0.5 / 3) and r["largest_drop"] == pytest.approx(0.1)
    assert r["med_fit"] == 2.0 and r["med_end"] == 1.6 and r["med_ratio"] == pytest.approx(0.8)
    assert r["med_fall_share"] == pytest.approx(2 / 3)
    assert r["med_slope"] == pytest.approx(np.polyfit([10, 20, 30, 40], [2.0, 1.8, 1.9, 1.6], 1)[0] * 1000)
    assert r["emb_ratio"] == pytest.approx(0.8) and r["med_norm_ratio"] == pytest.approx(1.0)
    # MED ranks 4, 2, 3, 1 against test-loss ranks 3, 4, 2, 1 over the window
    assert r["rho_med_test_loss"] == pytest.approx(np.corrcoef([4, 2, 3, 1], [3, 4, 2, 1])[0, 1])
    assert r["final_test_acc"] == 0.5 and r["best_test_acc"] == 0.6 and r["final_test_loss"] == 1.0
    assert w == pytest.approx(_frame().query("run == 0 and epoch >= 10")["test_acc"].tolist())
    r1 = runs.loc[1]
    assert math.isnan(r1["fit_epoch"]) and r1["intervals"] == 0 and math.isnan(r1["fluctuation"])
    s = ch.depth_summary(runs.reset_index()).set_index("n_layers")
    assert s.loc[1, "fitted"] == 1 and s.loc[2, "fitted"] == 0 and s.loc[2, "seeds"] == 1
    assert s.loc[1, "fluctuation_median"] == pytest.approx(r["fluctuation"])
    assert math.isnan(s.loc[2, "fluctuation_median"])


def _numpy_cls(ws, tok, n_layers, n_heads):
    """A literal numpy forward of the authors' module at every position (no per-token tables, no cls-only block):
    the residual at position 2 after the last block."""
    ws = [w.double().numpy() for w in ws]
    W_E, W_pos = ws[0], ws[1]
    out = []
    for t in tok.numpy():
        x = W_E[:, t].T + W_pos  # (3, d_model)
        for i in range(n_layers):
            W_Q, W_K, W_V, W_O, W_in, b_in, W_out, b_out = ws[2 + 8 * i: 10 + 8 * i]
            zs = []
            for h in range(n_heads):
                q, k, v = x @ W_Q[h].T, x @ W_K[h].T, x @ W_V[h].T
                sc = q @ k.T / math.sqrt(q.shape[1])
                sc = np.where(np.tril(np.ones((3, 3))) > 0, sc, -np.inf)
                e = np.exp(sc - sc.max(1, keepdims=True))
                zs.append((e / e.sum(1, keepdims=True)) @ v)
            x = x + np.concatenate(zs, axis=1) @ W_O.T
            x = x + np.maximum(x @ W_in.T + b_in, 0) @ W_out.T + b_out
        out.append(x[2])
    return np.array(out)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_cls_residual_is_what_the_unembedding_reads(n_layers):
    cfg = ch.depth_configs(7, [n_layers], 1, 5, 0.6, d_model=8, width=12, n_heads=2)[0]
    ws = init_transformer(7, cfg, torch.float64)
    task = make_task("Z7", op="add")
    tok = tokens(task.a, task.b, 7)
    h = ch.cls_residual(ws, tok, n_layers, 2)
    assert h.shape == (49, 8) and h.dtype == torch.float64
    np.testing.assert_allclose(h.numpy(), _numpy_cls(ws, tok, n_layers, 2), rtol=1e-10, atol=1e-12)
    logits = transformer_logits([w[None] for w in ws], tok, n_layers, 2)[0]
    torch.testing.assert_close(h @ ws[-1], logits, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="^n_layers:"):
        ch.cls_residual(ws, tok, n_layers + 1, 2)


def _numpy_spread(S, y):
    cls = sorted(set(y.tolist()))
    k = np.array([S[y == r].mean(0) for r in cls])
    delta = np.mean([np.linalg.norm(S[y == r] - k[j], axis=1).max() for j, r in enumerate(cls)])
    dist = [np.linalg.norm(k[a] - k[b]) for a in range(len(cls)) for b in range(len(cls)) if a != b]
    return delta / np.mean(dist)


@pytest.fixture(scope="module")
def tiny():
    cfgs = ch.depth_configs(7, [1, 2], 1, 30, 0.7, lr=1e-2, d_model=8, width=16, n_heads=2, eval_every=5)
    return cfgs, train(cfgs, device="cpu", progress=False, metrics=ch.RUN_METRICS, snapshots=[0])


def test_spread_frame_on_the_runs_split_against_numpy(tiny):
    cfgs, res = tiny
    sp = ch.spread_frame(res)
    assert len(sp) == 4 and sp["stage"].tolist() == ["init", "final"] * 2
    task = make_task("Z7", op="add")
    tok = tokens(task.a, task.b, 7)
    for i, c in enumerate(cfgs):
        s = split_pairs(task, "shuffle", c.train_frac, c.seed)
        y = task.y.numpy()
        for stage, w in (("init", res.weights_at(i, 0)), ("final", res.final_weights(i))):
            H = _numpy_cls(w, tok, c.n_layers, 2)
            row = sp[(sp.run == i) & (sp.stage == stage)].iloc[0]
            tr, te = s.train.numpy(), s.test.numpy()
            assert row["spread_train"] == pytest.approx(_numpy_spread(H[tr], y[tr]), rel=1e-6)
            assert row["spread_test"] == pytest.approx(_numpy_spread(H[te], y[te]), rel=1e-6)
            assert row["spread_all"] == pytest.approx(_numpy_spread(H, y), rel=1e-6)
            assert row["n_layers"] == c.n_layers and row["epoch"] == (0 if stage == "init" else 30)


def test_figures_are_labelled_and_legible(tiny):
    _, res = tiny
    fr = res.frame()
    runs = ch.run_frame(fr)
    sp = ch.spread_frame(res)
    curves, measures = ch.depth_curves(fr, runs), ch.depth_measures(runs, sp)
    # curves: 3 rows (test accuracy, MED, test loss) x 2 depths; x labels on the bottom row, y labels on the left
    assert len(curves.axes) == 6 and sum(bool(ax.get_xlabel()) for ax in curves.axes) == 2
    assert [ax.get_ylabel() for ax in curves.axes[::2]] == [lab for _, lab in ch.CURVE_ROWS]
    assert [ax.get_title() for ax in curves.axes[:2]] == ["1 layer", "2 layers"]
    assert len(measures.axes) == 3 and all(ax.get_xlabel() and ax.get_ylabel() for ax in measures.axes)
    for name, fig in (("med_depth_curves", curves), ("med_depth_measures", measures)):
        assert fig.get_figwidth() <= 8.0
        check_legible(fig, name)
        plt.close(fig)
    d = ch.depth_curves_data(fr, runs)
    assert len(d) == len(fr) and d["in_window"].dtype == bool
    m = ch.depth_measures_data(runs, sp)
    assert len(m) == len(runs) and m["spread_train"].notna().all()
    with pytest.raises(ValueError, match="^frame:"):
        ch.depth_curves(fr.iloc[:0], runs)
