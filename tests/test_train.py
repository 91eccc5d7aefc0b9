"""The batched trainer (li2core.train): hand-written backward, batching, metrics, frame layout."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

from li2core.losses import LOSSES
from li2core.models import ACTIVATIONS, init_weights
from li2core.tasks import critical_train_frac, make_task, n_train_for, split
from li2core.train import METRICS, TrainConfig, _Batch, train

CPU = torch.device("cpu")


def cfg(**kw) -> TrainConfig:
    base = dict(group="Z7", width=8, epochs=3, dtype="float64", train_frac=0.5, lr=1e-2, weight_decay=1e-3)
    base.update(kw)
    return TrainConfig(**base)


def run(configs, **kw):
    kw.setdefault("device", "cpu")
    kw.setdefault("progress", False)
    return train(configs, **kw)


# ------------------------------------------------------------------ independent references
NP_ACT = {
    "sqr": lambda h: h * h,
    "relu": lambda h: np.maximum(h, 0.0),
    "silu": lambda h: h / (1.0 + np.exp(-h)),
    "relusqr": lambda h: np.maximum(h, 0.0) ** 2,
}
TORCH_ACT = {
    "sqr": lambda h: h * h,
    "relu": torch.relu,
    "silu": lambda h: h * torch.sigmoid(h),
    "relusqr": lambda h: torch.relu(h) ** 2,
}


def np_data(M: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot inputs X (N, 2M) and labels (h1 + h2) mod M of the cyclic group Z_M, built here."""
    N = M * M
    X = np.zeros((N, 2 * M))
    y = np.zeros(N, dtype=np.int64)
    for i in range(N):
        h1, h2 = divmod(i, M)
        X[i, h1] = 1.0
        X[i, M + h2] = 1.0
        y[i] = (h1 + h2) % M
    return X, y


def np_loss(name: str, O: np.ndarray, y: np.ndarray) -> float:
    n, M = O.shape
    Y = np.eye(M)[y]
    if name == "mse_class":
        Oc = O - O.mean(axis=1, keepdims=True)
        return float(np.mean(np.sum((Oc - (Y - 1.0 / M)) ** 2, axis=1)))
    if name == "mse_sample":
        P = np.eye(n) - np.ones((n, n)) / n
        return float(0.5 * np.sum((P @ (Y - O)) ** 2))
    if name == "nll":
        mx = O.max(axis=1, keepdims=True)
        lse = (mx + np.log(np.exp(O - mx).sum(axis=1, keepdims=True)))[:, 0]
        return float(np.mean(lse - O[np.arange(n), y]))
    raise AssertionError(name)


def torch_loss(name: str, O: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    n, M = O.shape
    Y = torch.nn.functional.one_hot(y, M).to(O.dtype)
    if name == "mse_class":
        C = torch.eye(M, dtype=O.dtype) - 1.0 / M
        return ((O @ C - (Y - 1.0 / M)) ** 2).sum(1).mean()
    if name == "mse_sample":
        P = torch.eye(n, dtype=O.dtype) - 1.0 / n
        return 0.5 * ((P @ (Y - O)) ** 2).sum()
    if name == "nll":
        return torch.nn.functional.cross_entropy(O, y)
    raise AssertionError(name)


def offdiag_ratio(A: np.ndarray) -> float:
    d = A.shape[0]
    diag = np.trace(A) / d
    off = (A.sum() - np.trace(A)) / (d * (d - 1))
    return float(off / diag)


def np_metrics(c: TrainConfig, W: np.ndarray, V: np.ndarray) -> dict[str, float]:
    """All epoch-level metrics of one run from its weights, with explicit matrices."""
    M = c.M
    X, y = np_data(M)
    tr = split(make_task(c.group), c.p, c.seed).train.numpy()
    te = np.setdiff1d(np.arange(M * M), tr)
    F_all = NP_ACT[c.activation](X @ W)
    O = F_all @ V
    out = {
        "train_acc": float(np.mean(O[tr].argmax(1) == y[tr])),
        "train_loss": np_loss(c.loss, O[tr], y[tr]),
        "test_acc": float(np.mean(O[te].argmax(1) == y[te])) if len(te) else float("nan"),
        "test_loss": np_loss(c.loss, O[te], y[te]) if len(te) else float("nan"),
    }
    F = F_all[tr]
    n = len(tr)
    P = np.eye(n) - np.ones((n, n)) / n
    Y = np.eye(M)[y[tr]]
    out["G_F_norm"] = float(np.linalg.norm(P @ (Y - F @ V) @ V.T))
    Ft = P @ F
    out["ftf_offdiag_ratio"] = offdiag_ratio(np.abs(Ft.T @ Ft))
    out["fft_offdiag_ratio"] = offdiag_ratio(np.abs(P @ F @ F.T))
    G = F @ F.T
    d = np.trace(G) / n
    o = (G.sum() - np.trace(G)) / (n * (n - 1))
    ideal = (d - o) * np.eye(n) + o * np.ones((n, n))
    out["fft_dist_ideal"] = float(np.linalg.norm(G - ideal) / np.linalg.norm(G))
    return out


def one_minus_cos(A: np.ndarray, B: np.ndarray) -> float:
    a, b = A.ravel(), B.ravel()
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ------------------------------------------------------------------ (a) hand-written backward
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_batch_step_gradient_equals_autograd(loss, act):
    task = make_task("Z5")
    cfgs = [cfg(group="Z5", width=6, activation=act, loss=loss, seed=3, train_frac=0.6),
            cfg(group="Z5", width=6, activation=act, loss=loss, seed=8, train_frac=0.9, top_layer_init_multiplier=0.7)]
    model = _Batch(cfgs, task, CPU).model  # the two-layer family's batched model (li2core.models.TwoLayer)
    W0, V0 = model.W.clone(), model.V.clone()
    captured = {}

    def capture(grads):
        captured["dW"], captured["dV"] = grads[0].clone(), grads[1].clone()

    model.opt.step = capture
    model.step()
    X = task.onehot_X().to(torch.float64)
    for r, c in enumerate(cfgs):
        Wi, Vi = init_weights(5, 6, c.seed, c.top_layer_init_multiplier, torch.float64)
        assert torch.equal(W0[r], Wi) and torch.equal(V0[r], Vi)
        tr = split(task, c.p, c.seed).train
        W = Wi.clone().requires_grad_(True)
        V = Vi.clone().requires_grad_(True)
        L = torch_loss(loss, TORCH_ACT[act](X[tr] @ W) @ V, task.y[tr])
        L.backward()
        torch.testing.assert_close(captured["dW"][r], W.grad, rtol=1e-10, atol=1e-13)
        torch.testing.assert_close(captured["dV"][r], V.grad, rtol=1e-10, atol=1e-13)
        assert W.grad.abs().max() > 1e-6  # not vacuous


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_one_sgd_epoch_equals_autograd_step(loss, act):
    # plain SGD's first step: W1 = W0 - lr (grad + wd W0), through the public train()
    lr, wd = 0.3, 0.1
    c = cfg(group="Z5", width=7, activation=act, loss=loss, optimizer="sgd", lr=lr, weight_decay=wd,
            epochs=1, seed=11, train_frac=0.7)
    W1, V1 = run([c]).final_weights(0)
    task = make_task("Z5")
    X = task.onehot_X().to(torch.float64)
    tr = split(task, c.p, c.seed).train
    W0, V0 = init_weights(5, 7, c.seed, 1.0, torch.float64)
    W = W0.clone().requires_grad_(True)
    V = V0.clone().requires_grad_(True)
    torch_loss(loss, TORCH_ACT[act](X[tr] @ W) @ V, task.y[tr]).backward()
    torch.testing.assert_close(W1, W0 - lr * (W.grad + wd * W0), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(V1, V0 - lr * (V.grad + wd * V0), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ (b) batched == single
BATCH_VARIANTS = [
    ("adam", "mse_class", "sqr"),
    ("adamw", "mse_sample", "relu"),
    ("sgd", "nll", "silu"),
    ("adam", "nll", "relusqr"),
]


def _assert_runs_equal(res_a, i, res_b, j, rtol=1e-9):
    np.testing.assert_array_equal(res_a.eval_epochs[i], res_b.eval_epochs[j])
    assert res_a.n_train[i] == res_b.n_train[j]
    for m in METRICS:
        np.testing.assert_allclose(res_a.metrics[i][m], res_b.metrics[j][m], rtol=rtol, atol=1e-14,
                                   equal_nan=True, err_msg=m)
    for x, y in zip(res_a.final_weights(i), res_b.final_weights(j)):
        torch.testing.assert_close(x, y, rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("opt,loss,act", BATCH_VARIANTS)
def test_batched_runs_equal_single_runs(opt, loss, act):
    cfgs = [
        cfg(optimizer=opt, loss=loss, activation=act, width=12, epochs=12, seed=s, lr=lr, weight_decay=wd,
            train_frac=p, top_layer_init_multiplier=mult)
        for s, lr, wd, p, mult in [(0, 1e-2, 0.0, 0.3, 1.0), (1, 3e-3, 1e-3, 0.5, 0.5),
                                   (2, 2e-2, 5e-2, 0.8, 1.0), (3, 5e-3, 2e-4, 0.6, 0.0)]
    ]
    res = run(cfgs)
    assert res.batches == [[0, 1, 2, 3]]  # really one tensor program with padding
    assert len(set(res.n_train)) == 4
    for i, c in enumerate(cfgs):
        _assert_runs_equal(res, i, run([c]), 0)


def test_batched_with_a_full_training_set_run_equals_single_runs():
    # a run with train_frac = 1 has no test pairs; its batch-mates must still get their test metrics
    cfgs = [cfg(train_frac=0.5, seed=0), cfg(train_frac=1.0, seed=1), cfg(train_frac=0.7, seed=2)]
    res = run(cfgs)
    assert res.batches == [[0, 1, 2]]
    for i, c in enumerate(cfgs):
        _assert_runs_equal(res, i, run([c]), 0)
    assert np.all(np.isnan(res.metrics[1]["test_acc"])) and np.all(np.isnan(res.metrics[1]["test_loss"]))
    assert np.all(np.isfinite(res.metrics[0]["test_acc"])) and np.all(np.isfinite(res.metrics[2]["test_loss"]))


def test_max_batch_and_mixed_batch_keys_give_the_same_numbers():
    cfgs = [cfg(seed=0, width=8), cfg(seed=1, width=6), cfg(seed=2, width=8, train_frac=0.8),
            cfg(seed=3, width=6, loss="nll"), cfg(seed=4, width=8, lr=3e-2)]
    res = run(cfgs)
    assert sorted(i for b in res.batches for i in b) == list(range(5))
    res1 = run(cfgs, max_batch=1)
    assert all(len(b) == 1 for b in res1.batches)
    for i, c in enumerate(cfgs):
        _assert_runs_equal(res, i, res1, i)
        assert res.final_weights(i)[0].shape == (14, c.width)


# ------------------------------------------------------------------ (c) determinism
def test_determinism():
    cfgs = [cfg(seed=5, epochs=6), cfg(seed=5, epochs=6), cfg(seed=6, epochs=6)]
    a, b = run(cfgs), run(cfgs)
    pd.testing.assert_frame_equal(a.frame(), b.frame(), check_exact=True)
    for i in range(3):
        assert all(torch.equal(x, y) for x, y in zip(a.final_weights(i), b.final_weights(i)))
    # two identical configs in one batch are identical runs; a different seed is a different run
    for m in METRICS:
        np.testing.assert_array_equal(a.metrics[0][m], a.metrics[1][m])
    assert not torch.equal(a.final_weights(0)[0], a.final_weights(2)[0])


# ------------------------------------------------------------------ (d) frame layout
def test_frame_layout():
    # two batch keys interleaved in the input list: `run` must still index the input list
    cfgs = [cfg(epochs=10, eval_every=3, seed=s, train_frac=p) for s, p in [(0, 0.3), (1, 0.5), (2, 1.0)]]
    cfgs.insert(1, cfg(epochs=4, eval_every=1, seed=9, width=5))
    res = run(cfgs)
    assert sorted(map(sorted, res.batches)) == [[0, 2, 3], [1]]
    df = res.frame()
    expected_epochs = {0: [0, 3, 6, 9, 10], 1: [0, 1, 2, 3, 4], 2: [0, 3, 6, 9, 10], 3: [0, 3, 6, 9, 10]}
    assert len(df) == sum(len(v) for v in expected_epochs.values())
    assert list(df.columns[:2]) == ["run", "epoch"]
    from li2core.train import _SEQ_ONLY  # the MED nets' metrics: columns only in frames with a MED net
    li2_metrics = [m for m in METRICS if m not in _SEQ_ONLY]
    assert list(df.columns[2 : 2 + len(li2_metrics)]) == li2_metrics and not _SEQ_ONLY & set(df.columns)
    assert {"train_acc", "test_acc", "train_loss", "test_loss"} <= set(METRICS)
    from li2core.train import LATE_FIELDS  # fields added later: columns only when some run sets them

    fields = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in LATE_FIELDS]
    assert set(fields + ["M", "p", "n_train", "diverged"]) <= set(df.columns)
    assert not set(LATE_FIELDS) & set(df.columns)
    assert not df.duplicated(["run", "epoch"]).any()
    for i, c in enumerate(cfgs):
        sub = df[df.run == i]
        assert sub.epoch.tolist() == expected_epochs[i]
        for f in fields:
            vals = sub[f].tolist()
            want = getattr(c, f)
            assert all((v == want) or (v is None and want is None) or (isinstance(v, float) and math.isnan(v) and want is None)
                       for v in vals), f
        assert (sub.n_train == n_train_for(49, c.p)).all()
        assert (sub.M == 7).all() and (sub.p == c.p).all()
        assert not sub.diverged.any()
        W, V = res.final_weights(i)
        assert W.shape == (14, c.width) and V.shape == (c.width, 7)
        assert W.dtype == torch.float64
    assert res.n_train == [n_train_for(49, c.p) for c in cfgs]
    assert len(res) == 4


def test_progress_bar_does_not_change_results():
    cfgs = [cfg(seed=0, epochs=5), cfg(seed=1, epochs=5, width=6)]
    a, b = run(cfgs, progress=True), run(cfgs)
    pd.testing.assert_frame_equal(a.frame(), b.frame(), check_exact=True)


def test_frame_with_critical_delta_and_single_config():
    c = cfg(group="Z11", train_frac=None, critical_delta=0.3, epochs=2)
    res = run(c)  # a bare config, not a list
    df = res.frame()
    p = critical_train_frac(11, 0.3)
    np.testing.assert_allclose(df.p.to_numpy(), p, rtol=1e-14)
    assert (df.n_train == n_train_for(121, p)).all()
    assert df.train_frac.isna().all() and (df.critical_delta == 0.3).all()


def test_keep_weights_false_and_bad_arguments():
    res = run([cfg()], keep_weights=False)
    with pytest.raises(ValueError, match="^final_weights"):
        res.final_weights(0)
    assert not res.diverged(0)
    with pytest.raises(TypeError):
        run([cfg(), {"group": "Z7"}])
    with pytest.raises(ValueError, match="^max_batch"):
        run([cfg()], max_batch=0)
    with pytest.raises(ValueError, match="^device"):
        run([cfg()], device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="^device"):
            run([cfg()], device="cuda")
    assert len(run([]).frame()) == 0


# ------------------------------------------------------------------ (e) metrics vs independent recomputation
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ["sqr", "relu"])
def test_epoch0_metrics_equal_independent_recomputation(loss, act):
    cfgs = [cfg(loss=loss, activation=act, width=10, seed=4, train_frac=0.5, epochs=2),
            cfg(loss=loss, activation=act, width=10, seed=7, train_frac=0.8, epochs=2, top_layer_init_multiplier=0.5)]
    res = run(cfgs)
    assert res.batches == [[0, 1]]
    for i, c in enumerate(cfgs):
        W0, V0 = (t.numpy() for t in init_weights(7, 10, c.seed, c.top_layer_init_multiplier, torch.float64))
        ref = np_metrics(c, W0, V0)
        for m, v in ref.items():
            assert res.metrics[i][m][0] == pytest.approx(v, rel=1e-10, abs=1e-13), m
        assert np.isnan(res.metrics[i]["dW_cos_dist"][0]) and np.isnan(res.metrics[i]["dV_cos_dist"][0])
        # last epoch: the metrics of the final weights
        W, V = (t.numpy() for t in res.final_weights(i))
        ref = np_metrics(c, W, V)
        for m, v in ref.items():
            assert res.metrics[i][m][-1] == pytest.approx(v, rel=1e-10, abs=1e-13), m


def test_ideal_kernel_distance_is_zero_for_an_ideal_kernel():
    # an F whose rows are orthogonal with equal norms plus a common vector gives F F^T = a I + b 11^T
    from li2core.measures import fft_dist_ideal

    n = 6
    F = torch.cat([2.0 * torch.eye(n, dtype=torch.float64), torch.ones(n, 1, dtype=torch.float64)], dim=1)
    out = fft_dist_ideal(F[None], torch.ones(1, n, dtype=torch.float64))
    assert out.item() == pytest.approx(0.0, abs=1e-7)
    F2 = F.clone()
    F2[0, 0] = 3.0
    G = (F2 @ F2.T).numpy()
    d, o = np.trace(G) / n, (G.sum() - np.trace(G)) / (n * (n - 1))
    ref = np.linalg.norm(G - ((d - o) * np.eye(n) + o)) / np.linalg.norm(G)
    assert fft_dist_ideal(F2[None], torch.ones(1, n, dtype=torch.float64)).item() == pytest.approx(ref, rel=1e-10)


def test_cos_dist_metrics_between_consecutive_weights():
    base = dict(seed=2, lr=5e-2, width=9)
    c6 = cfg(**base, epochs=6, eval_every=2)
    res = run([c6])
    np.testing.assert_array_equal(res.eval_epochs[0], [0, 2, 4, 6])
    Ws = {0: tuple(t.numpy() for t in init_weights(7, 9, 2, 1.0, torch.float64))}
    for e in (1, 2, 3, 4, 5):
        Ws[e] = tuple(t.numpy() for t in run([cfg(**base, epochs=e)]).final_weights(0))
    Ws[6] = tuple(t.numpy() for t in res.final_weights(0))
    for j, e in enumerate([2, 4, 6]):
        for k, name in enumerate(["dW_cos_dist", "dV_cos_dist"]):
            expected = one_minus_cos(Ws[e - 1][k], Ws[e][k])
            assert expected > 1e-6
            assert res.metrics[0][name][j + 1] == pytest.approx(expected, rel=1e-7), (name, e)
    # epoch 1 of an every-epoch run: W0 -> W1
    r1 = run([cfg(**base, epochs=1)])
    assert r1.metrics[0]["dW_cos_dist"][1] == pytest.approx(one_minus_cos(Ws[0][0], Ws[1][0]), rel=1e-7)
    assert r1.metrics[0]["dV_cos_dist"][1] == pytest.approx(one_minus_cos(Ws[0][1], Ws[1][1]), rel=1e-7)


# ------------------------------------------------------------------ (f) divergence
def test_diverging_run_is_flagged_and_isolated():
    good = cfg(optimizer="sgd", lr=1e-2, seed=0, epochs=15)
    bad = cfg(optimizer="sgd", lr=1e4, seed=1, epochs=15, train_frac=0.8)
    res = run([good, bad])
    assert res.batches == [[0, 1]]
    assert res.diverged(1) and not res.diverged(0)
    df = res.frame()
    assert df[df.run == 1].diverged.all() and not df[df.run == 0].diverged.any()
    assert not np.all(np.isfinite(res.metrics[1]["train_loss"]))
    _assert_runs_equal(res, 0, run([good]), 0)


def test_eval_every_larger_than_epochs_still_evaluates_init_and_end():
    res = run([cfg(epochs=3, eval_every=5)])
    np.testing.assert_array_equal(res.eval_epochs[0], [0, 3])
    W, V = (t.numpy() for t in res.final_weights(0))
    assert res.metrics[0]["train_loss"][-1] == pytest.approx(np_metrics(cfg(epochs=3, eval_every=5), W, V)["train_loss"],
                                                             rel=1e-10)


def test_snapshots_equal_final_weights_of_shorter_runs() -> None:
    """weights_at(i, t) of a long run equals final_weights of the same config trained for t epochs."""
    base = TrainConfig(group="Z7", train_frac=0.6, width=8, epochs=6, eval_every=3, lr=1e-2, dtype="float64")
    res = train([base, base.replace(seed=1)], device="cpu", progress=False, snapshots=[0, 2, 5, 99])
    for t in (0, 2, 5):
        short = train([base.replace(epochs=max(t, 1)), base.replace(seed=1, epochs=max(t, 1))],
                      device="cpu", progress=False)
        for i in range(2):
            W, V = res.weights_at(i, t)
            if t == 0:
                W0, V0 = init_weights(7, 8, base.seed + i, 1.0, torch.float64)
                assert torch.equal(W, W0) and torch.equal(V, V0)
            else:
                Ws, Vs = short.final_weights(i)
                assert torch.allclose(W, Ws, rtol=1e-12, atol=1e-14)
                assert torch.allclose(V, Vs, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="weights_at: no snapshot"):
        res.weights_at(0, 3)


def test_progress_bar_only_on_a_terminal_by_default(capsys, monkeypatch):
    import sys

    cfg = TrainConfig(group="Z5", train_frac=0.6, width=4, epochs=3, seed=0)
    train([cfg], device="cpu")  # stderr is captured (not a terminal): no bar
    assert capsys.readouterr().err == ""
    train([cfg], device="cpu", progress=True)
    assert "epoch" in capsys.readouterr().err
    import importlib

    train_module = importlib.import_module("li2core.train")  # li2core.train is also the name of the function
    monkeypatch.setattr(sys, "stderr", type("Tty", (), {"isatty": lambda self: True})())
    assert train_module._stderr_is_terminal() is True


def test_frame_columns_of_configs_without_variants_are_unchanged():
    from li2core.train import LATE_FIELDS

    old_columns = ["run", "epoch", *METRICS[:4], "group", "train_frac", "width", "activation", "loss", "optimizer",
                   "lr", "weight_decay", "epochs", "seed", "eval_every", "top_layer_init_multiplier",
                   "critical_delta", "dtype", "M", "p", "n_train", "diverged"]
    c = TrainConfig(group="Z5", width=4, epochs=2, dtype="float64")
    res = train([c, c.replace(seed=1)], device="cpu", progress=False, metrics="basic")
    assert list(res.frame().columns) == old_columns
    # a late field is a column (for every run) as soon as one run sets it
    mixed = train([c, c.replace(extra_layers=1)], device="cpu", progress=False, metrics="basic").frame()
    assert list(mixed.columns) == old_columns[:-4] + ["extra_layers"] + old_columns[-4:]
    assert list(mixed.groupby("run").extra_layers.first()) == [0, 1]
    assert not set(LATE_FIELDS) - {"extra_layers"} & set(mixed.columns)
