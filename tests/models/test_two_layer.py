"""The two-layer net (li2core.models.two_layer): row lookup = one-hot matmul, the forward, initialisation.
(The activations themselves: tests/test_activations.py.)"""
from __future__ import annotations

import math

import pytest
import torch

from li2core.models import (
    ACTIVATIONS,
    forward,
    init_weights,
    preact,
    preact_all,
    preact_grid,
)
from li2core.tasks import make_task

# independent definitions of the four activations (paper-li2 §1.3)
REF_ACT = {
    "sqr": lambda h: h**2,
    "relu": lambda h: torch.where(h > 0, h, torch.zeros_like(h)),
    "silu": lambda h: h / (1.0 + torch.exp(-h)),
    "relusqr": lambda h: torch.where(h > 0, h, torch.zeros_like(h)) ** 2,
}


def _W(R: int, M: int, K: int, seed: int) -> torch.Tensor:
    return torch.randn(R, 2 * M, K, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("group", ["Z5", "Z2xZ3"])
def test_onehot_X_rows(group):
    task = make_task(group)
    X = task.onehot_X()
    M = task.M
    assert X.shape == (M * M, 2 * M)
    for i in range(task.N):
        h1, h2 = i // M, i % M
        expected = torch.zeros(2 * M)
        expected[h1] = 1.0
        expected[M + h2] = 1.0
        assert torch.equal(X[i], expected)


@pytest.mark.parametrize("group", ["Z5", "Z7", "Z2xZ3"])
def test_preact_all_equals_onehot_matmul(group):
    task = make_task(group)
    X = task.onehot_X().to(torch.float64)
    W = _W(3, task.M, 4, seed=0)
    H = preact_all(W, task.a, task.b)
    assert H.shape == (3, task.N, 4)
    for r in range(3):
        torch.testing.assert_close(H[r], X @ W[r], rtol=1e-14, atol=1e-15)


def test_preact_per_run_index_sets_equal_onehot_matmul():
    task = make_task("Z7")
    X = task.onehot_X().to(torch.float64)
    R, n, K = 4, 11, 5
    W = _W(R, task.M, K, seed=1)
    g = torch.Generator().manual_seed(2)
    idx = torch.stack([torch.randperm(task.N, generator=g)[:n] for _ in range(R)])  # (R, n), different per run
    a, b = task.a[idx], task.b[idx]
    H = preact(W, a, b)
    assert H.shape == (R, n, K)
    for r in range(R):
        torch.testing.assert_close(H[r], X[idx[r]] @ W[r], rtol=1e-14, atol=1e-15)
    # shared pairs through preact equal preact_all
    torch.testing.assert_close(preact(W, task.a.expand(R, -1), task.b.expand(R, -1)), preact_all(W, task.a, task.b))


def test_preact_grid_and_embedding_lookup_equal_index_select() -> None:
    task = make_task("Z6")
    W = torch.randn(3, 12, 4, dtype=torch.float64)
    assert torch.equal(preact_grid(W), preact_all(W, task.a, task.b))
    a = torch.randint(0, 6, (3, 5))
    b = torch.randint(0, 6, (3, 5))
    ref = torch.stack([W[r, a[r]] + W[r, 6 + b[r]] for r in range(3)])
    assert torch.allclose(preact(W, a, b), ref, rtol=0, atol=1e-15)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_forward_equals_sigma_XW_V(act):
    task = make_task("Z5")
    X = task.onehot_X().to(torch.float64)
    W = _W(2, task.M, 6, seed=3)
    V = torch.randn(2, 6, task.M, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    O = forward(W, V, task.a, task.b, act)
    for r in range(2):
        torch.testing.assert_close(O[r], REF_ACT[act](X @ W[r]) @ V[r], rtol=1e-12, atol=1e-14)
    # unbatched W (2M, K) gives the unbatched output
    torch.testing.assert_close(forward(W[0], V[0], task.a, task.b, act), O[0])


@pytest.mark.parametrize("M,K", [(5, 7), (13, 3)])
def test_init_shapes_bounds_and_dtype(M, K):
    W, V = init_weights(M, K, seed=0)
    assert W.shape == (2 * M, K) and V.shape == (K, M)
    assert W.dtype == torch.float32 and V.dtype == torch.float32
    assert W.abs().max().item() <= 1 / math.sqrt(2 * M) + 1e-7
    assert V.abs().max().item() <= 1 / math.sqrt(K) + 1e-7
    W64, V64 = init_weights(M, K, seed=0, dtype=torch.float64)
    assert W64.dtype == torch.float64
    assert W64.abs().max().item() <= 1 / math.sqrt(2 * M)
    assert V64.abs().max().item() <= 1 / math.sqrt(K)
    # float32 is the rounded float64 draw
    torch.testing.assert_close(W64.to(torch.float32), W, rtol=0, atol=0)


def test_init_seeds():
    W1, V1 = init_weights(7, 9, seed=3, dtype=torch.float64)
    W2, V2 = init_weights(7, 9, seed=3, dtype=torch.float64)
    W3, V3 = init_weights(7, 9, seed=4, dtype=torch.float64)
    assert torch.equal(W1, W2) and torch.equal(V1, V2)
    assert not torch.equal(W1, W3) and not torch.equal(V1, V3)
    assert (W1 - W3).abs().max().item() > 1e-3


def test_init_does_not_depend_on_global_rng():
    torch.manual_seed(0)
    W1, V1 = init_weights(5, 4, seed=1)
    torch.manual_seed(123)
    torch.rand(10)
    W2, V2 = init_weights(5, 4, seed=1)
    assert torch.equal(W1, W2) and torch.equal(V1, V2)


def test_top_layer_multiplier():
    W1, V1 = init_weights(5, 6, seed=2, dtype=torch.float64)
    W0, V0 = init_weights(5, 6, seed=2, top_layer_init_multiplier=0.0, dtype=torch.float64)
    Wh, Vh = init_weights(5, 6, seed=2, top_layer_init_multiplier=0.5, dtype=torch.float64)
    assert torch.all(V0 == 0)
    assert torch.equal(W0, W1) and torch.equal(Wh, W1)  # the multiplier touches V only
    torch.testing.assert_close(Vh, 0.5 * V1, rtol=1e-15, atol=0)


def test_init_is_uniform_with_the_right_variance():
    M, K = 200, 600  # 240k entries in W, 120k in V
    W, V = init_weights(M, K, seed=7, dtype=torch.float64)
    bw, bv = 1 / math.sqrt(2 * M), 1 / math.sqrt(K)
    assert W.var().item() == pytest.approx(bw**2 / 3, rel=0.02)
    assert V.var().item() == pytest.approx(bv**2 / 3, rel=0.02)
    assert abs(W.mean().item()) < 0.01 * bw
    assert abs(V.mean().item()) < 0.01 * bv
    # uniform, not e.g. normal: about 10% of the mass in each tenth of [-b, b]
    hist = torch.histc(W / bw, bins=10, min=-1.0, max=1.0) / W.numel()
    assert torch.all((hist - 0.1).abs() < 0.005)
    # and close to the extremes of the support
    assert W.abs().max().item() > 0.999 * bw


# ------------------------------------------------------------------ Muon (TrainConfig(optimizer="muon"))
def _muon_cfgs(**kw):
    from li2core.train import TrainConfig

    base = dict(group="Z7", optimizer="muon", epochs=8, eval_every=2, dtype="float64", activation="sqr")
    base.update(kw)
    return [TrainConfig(**{**base, **d}) for d in (
        dict(width=10, seed=0, lr=1e-2, weight_decay=0.0, train_frac=0.5),
        dict(width=10, seed=1, lr=5e-2, weight_decay=1e-2, train_frac=0.7),
        dict(width=10, seed=2, lr=2e-2, weight_decay=0.2, train_frac=0.4, top_layer_init_multiplier=0.0))]


@pytest.mark.parametrize("width", [10, 20])  # K < 2M = 14 and K > 2M (the author's Newton-Schulz transposes)
def test_muon_training_equals_the_authors_loop(width):
    """li2core.train with optimizer="muon" against the author's loop: nn.Linear weights, the "mse" loss by
    autograd, torch Adam on V and the ported MuonEnhanced on W (tests/oracles_muon.py), run by run."""
    from oracles_muon import AuthorNet

    from li2core.tasks import make_task, split
    from li2core.train import train

    cfgs = _muon_cfgs(width=width)
    res = train(cfgs, device="cpu", progress=False)
    assert res.batches == [[0, 1, 2]]
    task = make_task("Z7")
    for i, c in enumerate(cfgs):
        tr = split(task, c.p, c.seed).train
        W0, V0 = init_weights(7, c.width, c.seed, c.top_layer_init_multiplier, torch.float64)
        net = AuthorNet(W0, V0, "sqr", c.lr, c.weight_decay)
        for _ in range(c.epochs):
            net.step(task.a[tr], task.b[tr], task.y[tr])
        W, V = res.final_weights(i)
        Wa, Va = net.weights()
        torch.testing.assert_close(W, Wa, rtol=1e-10, atol=1e-12, msg=f"W of run {i}")
        torch.testing.assert_close(V, Va, rtol=1e-10, atol=1e-12, msg=f"V of run {i}")
        assert float((W - W0).abs().max()) > 1e-2  # it trained
        with torch.no_grad():
            O = net.outputs(task.a, task.b)
        test = split(task, c.p, c.seed).test
        acc = float((O[test].argmax(1) == task.y[test]).double().mean())
        assert res.metrics[i]["test_acc"][-1] == pytest.approx(acc)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_muon_batched_runs_equal_single_runs(dtype):
    from li2core.train import train

    cfgs = _muon_cfgs(dtype=dtype, activation="relu")
    res = train(cfgs, device="cpu", progress=False)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    for i, c in enumerate(cfgs):
        alone = train([c], device="cpu", progress=False)
        for x, y in zip(res.final_weights(i), alone.final_weights(0)):
            torch.testing.assert_close(x, y, **tol)
        for m in ("train_loss", "test_loss"):
            torch.testing.assert_close(torch.tensor(res.metrics[i][m]), torch.tensor(alone.metrics[0][m]), **tol)



@pytest.mark.parametrize("act", ["sqr", "relu", "silu", "relusqr"])
@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_outputs_on_all_pairs_in_chunks_equal_the_unchunked_product(act, chunk):
    # issue 13: the evaluation's outputs on all M^2 pairs, a few runs at a time into one kept buffer, are bitwise
    # torch.bmm(sigma(preact_grid(W)), V) of all runs at once. Only sqr and relu are chunked (silu's exp can round
    # differently in a tensor's scalar tail, which moves with the chunk: that is why; a chunk of 1 shows it)
    import sys

    from li2core.activations import activation
    from li2core.train import METRIC_SETS, TrainConfig

    train_mod = sys.modules["li2core.train"]
    cfgs = [TrainConfig(group="Z7", width=12, activation=act, epochs=1, seed=s) for s in range(5)]
    model = train_mod._Batch(cfgs, make_task("Z7"), torch.device("cpu"), METRIC_SETS["basic"]).model
    assert model.chunk_eval == 5  # Z7, K 12: the whole batch fits a chunk
    if act in ("sqr", "relu"):
        model.chunk_eval = chunk
    g = torch.Generator().manual_seed(chunk)
    W, V = torch.randn(5, 14, 12, generator=g), torch.randn(5, 12, 7, generator=g)
    want = torch.bmm(activation(act)[0](preact_grid(W)), V)
    assert torch.equal(model._outputs_all(W, V), want)
    # an evaluation slice of runs (the unchunked code made its tensors for the slice)
    assert torch.equal(model._outputs_all(W[1:4], V[1:4]), torch.bmm(activation(act)[0](preact_grid(W[1:4])), V[1:4]))
