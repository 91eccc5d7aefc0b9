"""The autograd family ``deep`` (li2core.models.deep): the author's MLP and its variants.

The general path equals the hand-written fast path on the two-layer net; each batched run equals the same run alone
for every variant; ridge V, complex weights and extra layers are checked against independent computations."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from li2core.models import Deep, TwoLayer, init_weights
from li2core.models.deep import forward_all, hidden_outputs, init_layers, layer_names, ridge_readout
from li2core.tasks import make_task, split
from li2core.train import LAYER_METRICS, METRICS, TrainConfig, _Batch, train

CPU = torch.device("cpu")
BASE = dict(group="Z7", width=8, dtype="float64", eval_every=3, weight_decay=1e-3)


def _close(a, b, rtol=1e-10, atol=1e-13, msg=""):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=msg)


def _onehot_X(task, idx):
    M = task.M
    X = np.zeros((len(idx), 2 * M))
    X[np.arange(len(idx)), task.a[idx].numpy()] = 1.0
    X[np.arange(len(idx)), M + task.b[idx].numpy()] = 1.0
    return X


# ------------------------------------------------------------------ initialisation
def test_init_layers_draws_W_and_V_as_the_two_layer_net_then_the_extra_layers():
    W0, V0 = init_weights(7, 8, seed=3, top_layer_init_multiplier=0.5, dtype=torch.float64)
    ts = init_layers(7, 8, 2, seed=3, top_layer_init_multiplier=0.5, dtype=torch.float64)
    assert [tuple(t.shape) for t in ts] == [(14, 8), (8, 8), (8, 8), (8, 7)]
    assert torch.equal(ts[0], W0) and torch.equal(ts[-1], V0)
    for U in ts[1:-1]:  # nn.Linear(K, K) default: U(-1/sqrt K, 1/sqrt K)
        assert U.abs().max() <= 8**-0.5 and U.abs().max() > 0.5 * 8**-0.5
    assert not torch.equal(ts[1], ts[2])
    assert layer_names(2) == ("W", "U1", "U2", "V") and layer_names(0) == ("W", "V")
    # complex_imag_init (not the author's): the same real parts, imaginary parts drawn next with the same bounds
    tc = init_layers(7, 8, 2, seed=3, top_layer_init_multiplier=0.5, dtype=torch.float64, imag=2.0)
    assert all(t.dtype == torch.complex128 for t in tc)
    bounds = [14**-0.5, 8**-0.5, 8**-0.5, 0.5 * 8**-0.5]  # W, U1, U2, V (V: times the top-layer multiplier)
    for t, r, bound in zip(tc, ts, bounds):
        assert torch.equal(t.real, r) and torch.count_nonzero(t.imag) == t.numel()
        assert t.imag.abs().max() <= 2.0 * bound and t.imag.abs().max() > 0.5 * 2.0 * bound


# ------------------------------------------------------------------ the general path equals the fast path
COMBOS = [("mse_class", "sqr", "adam"), ("mse_sample", "relu", "sgd"), ("nll", "silu", "adamw"),
          ("mse_class", "relusqr", "adamw"), ("nll", "sqr", "sgd"), ("mse_sample", "sqr", "adam")]


@pytest.mark.parametrize("loss,act,opt", COMBOS, ids=["-".join(c) for c in COMBOS])
def test_autograd_path_equals_the_fast_path_step_for_step(loss, act, opt):
    lr = 0.05 if opt == "sgd" else 0.01
    base = TrainConfig(**BASE, loss=loss, activation=act, optimizer=opt, epochs=30, lr=lr)
    cfgs = [base.replace(seed=0, train_frac=0.5), base.replace(seed=1, train_frac=0.8, lr=lr / 2),
            base.replace(seed=2, train_frac=0.6, top_layer_init_multiplier=0.0)]
    fast = train(cfgs, device="cpu", progress=False)
    deep = train([c.replace(family="deep") for c in cfgs], device="cpu", progress=False)
    assert all(c.model_family == "two_layer" for c in fast.configs)
    assert all(c.model_family == "deep" for c in deep.configs)
    for i in range(len(cfgs)):
        for m in METRICS:
            _close(deep.metrics[i][m], fast.metrics[i][m], msg=f"run {i} {m}")
        assert np.isfinite(fast.metrics[i]["W_purity"]).all()
        for a, b in zip(deep.final_weights(i), fast.final_weights(i)):
            _close(a.numpy(), b.numpy(), msg=f"run {i} weights")
        lm = deep.layer_metrics[i]  # W and V: the same numbers as the scalar columns
        _close(lm["layer_cos_dist"][:, 0], deep.metrics[i]["dW_cos_dist"], rtol=0, atol=0)
        _close(lm["layer_cos_dist"][:, -1], deep.metrics[i]["dV_cos_dist"], rtol=0, atol=0)
        _close(lm["layer_G_norm"][:, 0], fast.metrics[i]["G_F_loss_norm"])
    assert fast.layer_frame().empty and len(deep.layer_frame()) == 2 * sum(len(e) for e in deep.eval_epochs)


# ------------------------------------------------------------------ each batched run equals the run alone
VARIANTS = {
    "extra1": dict(extra_layers=1, activation="relu"),
    "extra2": dict(extra_layers=2),
    "complex": dict(complex_weights=True, loss="nll"),
    "complex_silu_extra": dict(complex_weights=True, activation="silu", extra_layers=1),
    "complex_imag_init": dict(complex_weights=True, complex_imag_init=0.7, extra_layers=1),
    "ridge": dict(ridge_V=1e-2),
    "ridge_extra": dict(ridge_V=1e-3, extra_layers=1, loss="mse_sample"),
    "scale": dict(output_scale=3.0),
    "zero_init_extra": dict(top_layer_init_multiplier=0.0, extra_layers=1),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_each_batched_run_equals_the_run_alone(name):
    v = VARIANTS[name]
    base = TrainConfig(**BASE, epochs=12, lr=0.01, **v)
    cfgs = [base.replace(seed=0, train_frac=0.5), base.replace(seed=1, train_frac=0.8, lr=0.02),
            base.replace(seed=2, train_frac=0.6, weight_decay=0.0)]
    if "ridge_V" in v:
        cfgs[1] = cfgs[1].replace(ridge_V=v["ridge_V"] * 10)
    if "output_scale" in v:
        cfgs[2] = cfgs[2].replace(output_scale=0.5)
    res = train(cfgs, device="cpu", progress=False)
    assert res.batches == [[0, 1, 2]]
    for i, c in enumerate(cfgs):
        alone = train([c], device="cpu", progress=False)
        for m in METRICS:
            _close(res.metrics[i][m], alone.metrics[0][m], rtol=1e-9, atol=1e-12, msg=f"{name} run {i} {m}")
        for m in LAYER_METRICS:
            _close(res.layer_metrics[i][m], alone.layer_metrics[0][m], rtol=1e-9, atol=1e-12, msg=f"{name} {m}")
        for a, b in zip(res.final_weights(i), alone.final_weights(0)):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
        assert len(res.final_weights(i)) == c.extra_layers + 2
        assert not res.diverged(i)
    df = res.layer_frame()
    assert list(df.layer_name.unique()) == list(layer_names(base.extra_layers))
    assert np.isnan(df[df.epoch == 0].layer_cos_dist).all() and (df[df.epoch > 0].layer_cos_dist > 0).all()
    assert (df[df.epoch > 0].layer_G_norm > 0).all()
    if base.top_layer_init_multiplier != 0:
        assert (df.layer_G_norm > 0).all()


# ------------------------------------------------------------------ ridge V
@pytest.mark.parametrize("L", [0, 1])
def test_ridge_V_is_the_svd_ridge_on_the_uncentred_first_layer_then_the_optimizer_steps_V(L):
    lam, lr, wd = 0.05, 1e-3, 1e-3
    cfg = TrainConfig(**{**BASE, "weight_decay": wd}, train_frac=0.6, epochs=1, lr=lr, ridge_V=lam, extra_layers=L,
                      seed=4, activation="relu")
    task = make_task("Z7")
    batch = _Batch([cfg], task, CPU)
    m = batch.model
    ps0 = [p[0].clone().numpy() for p in m.params]
    idx = split(task, cfg.p, cfg.seed).train.numpy()
    X = _onehot_X(task, idx)
    F1 = np.maximum(X @ ps0[0], 0.0)  # uncentred first-layer F, even with extra layers
    Y = np.eye(7)[task.y[idx].numpy()] - 1.0 / 7
    V_ridge = np.linalg.solve(F1.T @ F1 + lam * np.eye(8), F1.T @ Y)
    m.step()
    V1 = m.params[-1][0].numpy()
    # the optimizer then takes one Adam step on V from the gradient at the ridge V (independent: torch.optim.Adam)
    x = F1
    for U in ps0[1:-1]:
        x = np.maximum(x + x @ U, 0.0)
    O = x @ V_ridge
    dO = 2.0 / len(idx) * ((O - O.mean(1, keepdims=True)) - Y)  # mse_class
    V = torch.tensor(V_ridge, requires_grad=True)
    V.grad = torch.tensor(x.T @ dO)
    opt = torch.optim.Adam([V], lr=lr, weight_decay=wd)
    opt.step()
    _close(V1, V.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert np.abs(V1 - V_ridge).max() > 0.5 * lr  # it moved: the optimizer does step V
    # with lr = 0, V after the step is the ridge solution itself
    b0 = _Batch([cfg.replace(lr=0.0)], task, CPU)
    b0.model.step()
    _close(b0.model.params[-1][0].numpy(), V_ridge, rtol=1e-9, atol=1e-12)


def test_ridge_readout_equals_the_normal_equations_for_real_and_complex_F():
    g = torch.Generator().manual_seed(0)
    F = torch.randn(2, 9, 5, generator=g, dtype=torch.float64)
    F[1, 7:] = 0.0  # padding rows change nothing
    Y = torch.randn(2, 9, 3, generator=g, dtype=torch.float64)
    Y[1, 7:] = 0.0
    lam = torch.tensor([0.1, 2.0], dtype=torch.float64)
    V = ridge_readout(F, Y, lam)
    for r in range(2):
        f, y = F[r].numpy(), Y[r].numpy()
        _close(V[r].numpy(), np.linalg.solve(f.T @ f + lam[r].item() * np.eye(5), f.T @ y), rtol=1e-10)
    Fc = torch.complex(F, torch.randn(2, 9, 5, generator=g, dtype=torch.float64))
    Vc = ridge_readout(Fc, Y, lam)
    fc = Fc[0].numpy()
    _close(Vc[0].numpy(), np.linalg.solve(fc.conj().T @ fc + 0.1 * np.eye(5), fc.conj().T @ Y[0].numpy()), rtol=1e-10)


# ------------------------------------------------------------------ complex weights
def _complex_batch(loss="mse_class", act="sqr", L=1):
    cfg = TrainConfig(**{**BASE, "weight_decay": 0.0}, train_frac=0.6, epochs=1, lr=1.0, complex_weights=True, loss=loss,
                      activation=act, extra_layers=L, optimizer="sgd", seed=5)
    task = make_task("Z7")
    batch = _Batch([cfg], task, CPU)
    g = torch.Generator().manual_seed(11)
    for p in batch.model.params:  # a genuinely complex point (the author's init has imaginary parts 0)
        p.copy_(torch.complex(torch.randn(p.shape, generator=g, dtype=torch.float64),
                              torch.randn(p.shape, generator=g, dtype=torch.float64)) * 0.3)
    return cfg, task, batch


def _np_loss(task, idx, ps, act, loss):
    X = _onehot_X(task, idx).astype(complex)
    sig = (lambda z: z * z) if act == "sqr" else (lambda z: z / (1 + np.exp(-z)))
    x = sig(X @ ps[0])
    for U in ps[1:-1]:
        x = sig(x + x @ U)
    o = (x @ ps[-1]).real
    y = task.y[idx].numpy()
    if loss == "mse_class":
        Y = np.eye(task.M)[y]
        return float((((o - o.mean(1, keepdims=True)) - (Y - 1.0 / task.M)) ** 2).sum(1).mean())
    lse = np.log(np.exp(o - o.max(1, keepdims=True)).sum(1)) + o.max(1)
    return float((lse - o[np.arange(len(y)), y]).mean())


@pytest.mark.parametrize("loss,act", [("mse_class", "sqr"), ("nll", "silu")])
def test_complex_weights_loss_is_the_loss_of_the_real_part_and_the_step_its_gradient(loss, act):
    cfg, task, batch = _complex_batch(loss, act)
    idx = split(task, cfg.p, cfg.seed).train.numpy()
    ps = [p[0].clone().numpy() for p in batch.model.params]
    out = batch.evaluate(None)
    _close(out[2, 0].item(), _np_loss(task, idx, ps, act, loss), rtol=1e-10)
    # SGD, lr 1, first step: p <- p - grad, with grad = (dL/dRe, dL/dIm) per entry (torch's convention)
    batch.model.step()
    new = [p[0].numpy() for p in batch.model.params]
    h = 1e-6
    for k, (i, j) in [(0, (3, 2)), (1, (1, 4)), (2, (5, 0))]:
        for unit in (1.0, 1j):
            plus = [q.copy() for q in ps]
            minus = [q.copy() for q in ps]
            plus[k][i, j] += h * unit
            minus[k][i, j] -= h * unit
            fd = (_np_loss(task, idx, plus, act, loss) - _np_loss(task, idx, minus, act, loss)) / (2 * h)
            step = (ps[k][i, j] - new[k][i, j])
            _close(step.real if unit == 1.0 else step.imag, fd, rtol=1e-6, atol=1e-9, msg=f"layer {k} {unit}")


def test_the_authors_complex_init_keeps_imaginary_parts_zero_and_equals_the_real_run():
    base = TrainConfig(**BASE, train_frac=0.6, epochs=20, lr=0.01, extra_layers=1, seed=2)
    real = train([base], device="cpu", progress=False)
    cplx = train([base.replace(complex_weights=True)], device="cpu", progress=False)
    for t, r in zip(cplx.final_weights(0), real.final_weights(0)):
        assert t.is_complex() and torch.count_nonzero(t.imag) == 0
        _close(t.real.numpy(), r.numpy(), rtol=1e-10, atol=1e-13)
    for m in ("train_loss", "test_loss", "train_acc", "G_F_loss_norm", "W_purity"):
        _close(cplx.metrics[0][m], real.metrics[0][m], msg=m)


# ------------------------------------------------------------------ extra layers and the output scale
def test_forward_with_extra_layers_and_output_scale_equals_a_literal_loop():
    task = make_task("Z5")
    ps = [t[None] for t in init_layers(5, 6, 2, seed=1, dtype=torch.float64)]
    O = forward_all(ps, "relu", beta=2.5)[0].numpy()
    hs = hidden_outputs(ps, "relu")
    assert len(hs) == 3 and hs[0].shape == (1, 25, 6)
    W, U1, U2, V = (t[0].numpy() for t in ps)
    for i in range(task.N):
        a, b = int(task.a[i]), int(task.b[i])
        x = [max(W[a, k] + W[5 + b, k], 0.0) for k in range(6)]
        for U in (U1, U2):
            x = [max(x[k] + sum(x[j] * U[j, k] for j in range(6)), 0.0) for k in range(6)]
        o = [2.5 * sum(x[k] * V[k, c] for k in range(6)) for c in range(5)]
        _close(O[i], o, rtol=1e-12)
        _close(hs[-1][0, i].numpy(), x, rtol=1e-12)
    base = forward_all(ps, "relu")[0].numpy()
    _close(O, 2.5 * base, rtol=1e-14)


def test_deep_family_interface_and_batch_keys():
    cfgs = [TrainConfig(**BASE, extra_layers=1), TrainConfig(**BASE, extra_layers=2), TrainConfig(**BASE),
            TrainConfig(**BASE, family="deep"), TrainConfig(**BASE, ridge_V=0.1), TrainConfig(**BASE, ridge_V=0.2),
            TrainConfig(**BASE, output_scale=2.0)]
    keys = [c.batch_key() for c in cfgs]
    assert len({keys[0], keys[1], keys[2], keys[3], keys[4]}) == 5  # depth, family, ridge on/off separate
    assert keys[4] == keys[5] and keys[3] == keys[6]  # lambda and beta may differ inside one batch
    step, ev = Deep.per_run_bytes(cfgs[1], 8)
    assert 0 < step < ev and Deep.per_run_bytes(cfgs[0], 8)[0] < step
    assert TwoLayer.name == "two_layer" and Deep.name == "deep"


@pytest.mark.parametrize("opt", ["adam", "adamw", "sgd"])
def test_complex_deep_run_equals_torch_optimizers_on_complex_parameters(opt):
    """An independent loop: nn-style complex leaf tensors, the one-hot matmul forward, torch.optim on complex
    parameters (which steps real and imaginary parts), against the family's view_as_real optimizer."""
    lr, wd = (0.05, 1e-3) if opt == "sgd" else (0.01, 1e-3)
    cfg = TrainConfig(**{**BASE, "weight_decay": wd}, train_frac=0.6, epochs=6, lr=lr, optimizer=opt, seed=3,
                      complex_weights=True, complex_imag_init=0.5, extra_layers=1, output_scale=1.5)
    res = train([cfg], device="cpu", progress=False, metrics="basic")
    task = make_task("Z7")
    idx = split(task, cfg.p, cfg.seed).train
    X = torch.tensor(_onehot_X(task, idx.numpy()), dtype=torch.complex128)
    y = task.y[idx]
    ps = [t.clone().requires_grad_(True) for t in init_layers(7, 8, 1, 3, 1.0, torch.float64, imag=0.5)]
    make = {"adam": lambda p: torch.optim.Adam(p, lr=lr, weight_decay=wd),
            "adamw": lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=wd),
            "sgd": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd)}[opt]
    o = make(ps)
    for _ in range(cfg.epochs):
        o.zero_grad()
        x = (X @ ps[0]) ** 2
        x = (x + x @ ps[1]) ** 2
        out = (1.5 * (x @ ps[2])).real
        oc = out - out.mean(1, keepdim=True)
        loss = (oc.pow(2).sum(1) - 2 * oc.gather(1, y[:, None])[:, 0]).mean() + 1 - 1 / 7  # the author's mse
        loss.backward()
        o.step()
    for got, want in zip(res.final_weights(0), ps):
        torch.testing.assert_close(got, want.detach(), rtol=1e-9, atol=1e-12)
