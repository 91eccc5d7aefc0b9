"""li2core.chapters.bridge_med_li2: MED of W's rows against a loop over the rows, the first-layer G_F against the chain
rule and a finite difference of a tiny transformer, the node energy's invariances, the event and lag rules on
synthetic curves with known answers, and the trace and figures of a tiny real run."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from li2core import theory as th
from li2core.chapters import bridge_med_li2 as ch
from li2core.figures import check_legible
from li2core.losses import loss_and_grad
from li2core.models.transformer import init_transformer, tokens, transformer_logits
from li2core.tasks import make_task
from li2core.train import med_config, train


@pytest.mark.parametrize("M, K", [(5, 3), (11, 7)])
def test_med_rows_is_the_cyclic_mean_gap_of_one_operands_rows(M, K):
    g = torch.Generator().manual_seed(M)
    W = torch.randn(2 * M, K, generator=g, dtype=torch.float64)
    for operand in (0, 1):
        rows = [W[operand * M + i] for i in range(M)]
        want = sum(math.sqrt(sum((float(rows[(i + 1) % M][j]) - float(rows[i][j])) ** 2 for j in range(K)))
                   for i in range(M)) / M
        assert ch.med_rows(W, M, operand) == pytest.approx(want, rel=1e-12)
    assert ch.med_rows(W, M, 0) != pytest.approx(ch.med_rows(W, M, 1))
    with pytest.raises(ValueError, match="^W:"):
        ch.med_rows(W[:-1], M)
    with pytest.raises(ValueError, match="^operand:"):
        ch.med_rows(W, M, 2)


def test_node_energy_is_scale_free_and_skips_inactive_nodes():
    M, K = 7, 5
    g = torch.Generator().manual_seed(1)
    W = torch.randn(2 * M, K, generator=g, dtype=torch.float64)
    rows = torch.arange(0, M * M, 2)
    u = (W / W.norm(dim=0)).T
    want = float(th.energy(u, f"Z{M}", "sqr", rows=rows).mean())
    assert ch.node_energy(W, f"Z{M}", rows) == pytest.approx(want, rel=1e-10)
    assert ch.node_energy(3.0 * W, f"Z{M}", rows) == pytest.approx(want, rel=1e-10)
    W2 = torch.cat([W, 1e-6 * torch.randn(2 * M, 2, generator=g, dtype=torch.float64)], dim=1)  # two dead nodes
    assert ch.node_energy(W2, f"Z{M}", rows) == pytest.approx(want, rel=1e-10)


def tiny_transformer(p: int = 5, seed: int = 0):
    cfg = med_config("transformer", p=p, d_model=8, n_heads=2, width=6, seed=seed, epochs=1, dtype="float64")
    params = init_transformer(p, cfg, torch.float64)
    params = [w + 0.3 * torch.randn(w.shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
              if w.dim() == 1 else w for w in params]  # nonzero biases
    task = make_task(cfg.group, op="add")
    tok = tokens(task.a, task.b, p)
    return cfg, params, tok, task.y


def test_first_layer_gradient_matches_the_chain_rule_and_a_finite_difference():
    cfg, params, tok, y = tiny_transformer()
    F, G = ch.first_layer_gradient(params, cfg, tok, y)
    assert F.shape == G.shape == (tok.shape[0], cfg.width)
    torch.testing.assert_close(G, ch.first_layer_gradient_closed(params, cfg, tok, y), rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(F, ch.first_layer_features(params, cfg, tok))

    def loss(ps):
        O = transformer_logits([w[None] for w in ps], tok, 1, cfg.n_heads, cfg.activation)
        return float(loss_and_grad(cfg.loss, O, y[None], torch.ones(1, tok.shape[0], dtype=O.dtype), False)[0])

    # dL/db_in[k] = sum_i G[i, k] relu'(pre[i, k]): a central difference through the library's forward
    b_idx, eps = 7, 1e-6  # params: W_E, W_pos, W_Q, W_K, W_V, W_O, W_in, b_in, ...
    active = (F > 0).to(G.dtype)
    for k in range(cfg.width):
        up = [w.clone() for w in params]
        dn = [w.clone() for w in params]
        up[b_idx][k] += eps
        dn[b_idx][k] -= eps
        fd = (loss(up) - loss(dn)) / (2 * eps)
        assert fd == pytest.approx(float((G[:, k] * active[:, k]).sum()), rel=1e-5, abs=1e-9)
    # a mask: the loss on a subset of the pairs; G_F is that subset's gradient there and 0 elsewhere
    keep = torch.arange(tok.shape[0]) % 3 == 1
    Fm, Gm = ch.first_layer_gradient(params, cfg, tok, y, keep)
    _, Gs = ch.first_layer_gradient(params, cfg, tok[keep], y[keep])
    torch.testing.assert_close(Fm, F)
    torch.testing.assert_close(Gm[keep], Gs, rtol=1e-10, atol=1e-14)
    assert float(Gm[~keep].abs().max()) == 0.0
    torch.testing.assert_close(Gm, ch.first_layer_gradient_closed(params, cfg, tok, y, keep), rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="^cfg:"):
        ch.first_layer_gradient(params, med_config("transformer", p=5, n_layers=2), tok, y)
    with pytest.raises(ValueError, match="^mask:"):
        ch.first_layer_gradient(params, cfg, tok, y, keep[:-1])


def synthetic_trace() -> pd.DataFrame:
    """Known answers: fit at 10, grok at 60, the test loss peaks at 20 and is lowest at 80 (half-move at 50); a step
    signal at 40 (lead 10), a signal that steps at 70 (lead -20), a gradient peaking at 15 and a purity rising linearly
    over the run (half-move 50, lag 35)."""
    t = np.arange(0, 101, dtype=float)
    loss = np.where(t <= 20, 1 + t / 20, np.where(t <= 80, 2 - 1.5 * (t - 20) / 60, 0.5 + 1e-3 * (t - 80)))
    rows = []
    for run, shift in ((0, 0), (1, 5)):
        ts = t - shift  # run 1: every curve 5 epochs later (the same lags)
        ls = np.interp(ts, t, loss, left=loss[0])
        rows.append(pd.DataFrame(dict(
            run=run, seed=run, epoch=t, train_acc=(ts >= 10).astype(float), test_acc=np.where(ts >= 60, 0.97, 0.2),
            test_loss=ls, early=(ts >= 40).astype(float), late=(ts >= 70).astype(float) * -3.0,
            grad=-(ts - 15) ** 2, W_purity=np.clip(ts, 0, None) / 100.0)))
    return pd.concat(rows, ignore_index=True)


def test_events_and_lags_on_synthetic_curves():
    ev = ch.run_events(synthetic_trace(), ["test_loss", "early", "late"], "grad")
    e0, e1 = ev.iloc[0], ev.iloc[1]
    assert (e0.fit, e0.grok, e0.fall_start, e0.fall_end, e0.peak_grad) == (10, 60, 20, 80, 15)
    assert (e0.half_test_loss, e0.half_early, e0.half_late) == (50, 40, 70)
    assert e0.feature == 50 and e1.fit == 15 and e1.half_test_loss == 55 and e1.peak_grad == 20
    lags = ch.lag_frame(ev, ["test_loss", "early", "late"], "grad", "li2")
    got = lags.set_index(["seed", "comparison"])["lag"]
    assert got[(0, "lead_early")] == 10 and got[(0, "lead_late")] == -20 and got[(0, "grad_feature")] == 35
    assert "lead_test_loss" not in set(lags["comparison"])
    s = ch.lag_summary(lags).set_index("comparison")
    assert bool(s.loc["lead_early", "leads"]) and bool(s.loc["lead_late", "same_sign"])
    assert not bool(s.loc["lead_late", "leads"]) and s.loc["grad_feature", "mean"] == pytest.approx(
        (35 + (ev.iloc[1].feature - 20)) / 2)


def test_half_move_on_its_own_grid_and_as_med_progress_rule():
    from li2core.chapters.med_progress import half_change_epoch
    rng = np.random.default_rng(0)
    t = np.arange(0, 200, 5, dtype=float)
    v = np.cumsum(rng.normal(size=t.size))
    for t0, t1 in ((10, 150), (0, 195), (55, 60)):
        a, b = ch.half_move(t, v, t0, t1), half_change_epoch(t, v, t0, t1)
        assert a == b or (math.isnan(a) and math.isnan(b))
    # a signal read every 10 epochs in a window that starts and ends off its grid: its own first and last reads
    t10 = np.arange(0, 101, 10, dtype=float)
    assert ch.half_move(t10, t10 ** 2, 15, 95) == 70  # 20^2 = 400 .. 90^2 = 8100: half = 4250, first at 70^2 = 4900
    assert ch.half_move(t10, -t10, 15, 95) == 60  # -20 .. -90: half at -55, first at -60
    assert math.isnan(ch.half_move(t10, np.ones(11), 0, 100)) and math.isnan(ch.half_move(t10, t10, 41, 49))
    assert math.isnan(ch.half_move(t10, t10, math.nan, 50))
    with pytest.raises(ValueError, match="^epochs, values:"):
        ch.half_move(t10, t10[:-1], 0, 100)


def test_lag_summary_counts_signs_and_spread():
    lags = pd.DataFrame(dict(net="tf", comparison="x", seed=[0, 1, 2, 3], lag=[10.0, -5.0, 20.0, np.nan]))
    s = ch.lag_summary(lags).iloc[0]
    assert (s["n"], s["n_pos"], s["n_neg"], s["n_seeds"]) == (3, 2, 1, 4)
    assert not s["same_sign"] and not s["leads"]
    assert s["mean"] == pytest.approx(25 / 3) and s["sd"] == pytest.approx(np.std([10, -5, 20], ddof=1))


def test_peak_and_fall_window_edge_cases():
    assert ch.peak_at([0, 1, 2, 3], [9.0, 1.0, 3.0, 3.0]) == 2  # epoch 0 is excluded; the first maximum wins
    assert math.isnan(ch.peak_at([0, 1], [1.0, np.nan]))
    assert all(math.isnan(x) for x in ch.fall_window([0, 1, 2], [3.0, 2.0, 1.0], math.nan))
    assert ch.fall_window([0, 1, 2, 3, 4], [1.0, 2.0, 3.0, 0.5, 0.7], 1) == (2.0, 3.0)
    with pytest.raises(ValueError, match="^seeds:"):
        ch.li2_configs(11, 8, 0.5, 0, 10, 1e-3, 0.0, 5)


def test_traces_and_figures_of_tiny_runs():
    torch.set_num_threads(1)
    lc = ch.li2_configs(7, 16, 0.6, 2, 20, 1e-2, 1e-4, 5)
    rl = train(lc, device="cpu", snapshots=ch.eval_epochs(20, 5),
               metrics=("G_F_norm", "G_F_loss_norm", "dW_cos_dist", "dV_cos_dist", "W_purity"))
    tl = ch.li2_trace(rl)
    W = rl.weights_at(1, 10)[0]
    row = tl[(tl["run"] == 1) & (tl["epoch"] == 10)].iloc[0]
    assert row["med_W"] == pytest.approx(ch.med_rows(W, 7)) and np.isfinite(tl["energy"]).all()
    tc = ch.tf_configs(5, 0.6, 8, 8, 2, 20, 3e-3, 1.0, 10)
    rt = train(tc, device="cpu", snapshots=ch.eval_epochs(20, 10), metrics=("med", "W_purity", "emb_norm"))
    tt = ch.tf_trace(rt)
    assert np.allclose(tt["med"], tt["med_snap"], atol=1e-5) and (tt["G_F1_norm"] > 0).all()
    evs = {"li2": ch.run_events(tl, ch.LI2_SIGNALS, "G_F_norm"), "tf": ch.run_events(tt, ch.TF_SIGNALS, "G_F1_norm")}
    for net, tr in (("li2", tl), ("tf", tt)):
        fig = ch.course_figure(tr, evs[net], net)
        check_legible(fig)
        assert len(ch.course_data(tr, net))
        plt.close(fig)
    lags = pd.concat([ch.lag_frame(evs["li2"], ch.LI2_SIGNALS, "G_F_norm", "li2"),
                      ch.lag_frame(evs["tf"], ch.TF_SIGNALS, "G_F1_norm", "tf")], ignore_index=True)
    fig = ch.lag_figure(lags)
    check_legible(fig)
    plt.close(fig)
