"""The model-family seam (li2core.models): registry, interface, and a toy autograd family through the trainer."""
from __future__ import annotations

import dataclasses
import inspect
import types

import numpy as np
import pytest
import torch

from li2core.losses import LOSSES, loss_and_grad
from li2core.measures import cos_dist
from li2core.models import (
    ACTIVATIONS,
    DEFAULT_FAMILY,
    FAMILIES,
    BatchData,
    BatchedModel,
    Deep,
    TwoLayer,
    family_for,
    preact,
    preact_grid,
)
from li2core.optim import OPTIMIZERS, BatchedOptimizer
from li2core.tasks import make_task
from li2core.train import METRIC_SETS, METRICS, TrainConfig, _Batch, train

CPU = torch.device("cpu")
SMALL = {"group": "Z5", "width": 6, "epochs": 3, "dtype": "float64"}


# ------------------------------------------------------------------ registry
def test_every_config_without_a_variant_is_the_two_layer_family():
    assert FAMILIES[DEFAULT_FAMILY] is TwoLayer and DEFAULT_FAMILY == TwoLayer.name == "two_layer"
    assert family_for("two_layer") is TwoLayer
    cfgs = [TrainConfig(), TrainConfig(group="Z11", train_frac=None, critical_delta=0.3)]
    cfgs += [TrainConfig(**SMALL, activation=a, loss=lo, optimizer=o) for a in ACTIVATIONS for lo in LOSSES
             for o in OPTIMIZERS]
    cfgs += [TrainConfig(**{**SMALL, "dtype": "float32"}, top_layer_init_multiplier=0.0, train_frac=1.0)]
    assert all(family_for(c) is TwoLayer for c in cfgs)
    assert all(c.family is None and c.model_family == "two_layer" for c in cfgs)  # family=None: automatic
    # any variant goes to the autograd family; family="deep" forces it
    variants = [dict(extra_layers=1), dict(complex_weights=True), dict(ridge_V=1e-3), dict(output_scale=2.0),
                dict(family="deep")]
    assert all(family_for(TrainConfig(**SMALL, **v)) is Deep for v in variants)


@pytest.mark.parametrize("given", ["nope", types.SimpleNamespace(family="nope")], ids=["name", "config"])
def test_unknown_family_is_a_one_line_value_error_naming_it(given):
    with pytest.raises(ValueError) as ei:
        family_for(given)
    msg = str(ei.value)
    assert msg.startswith("family:") and "'nope'" in msg and "two_layer" in msg
    assert "\n" not in msg


def test_a_config_naming_an_unknown_family_fails_at_construction():
    @dataclasses.dataclass(frozen=True)
    class FamilyConfig(TrainConfig):
        family: str = "nope"

    with pytest.raises(ValueError, match="^family: unknown model family 'nope'"):
        FamilyConfig(**SMALL)


# ------------------------------------------------------------------ interface
def test_two_layer_satisfies_the_interface():
    task = make_task("Z5")
    cfgs = [TrainConfig(**SMALL, seed=0, train_frac=0.5), TrainConfig(**SMALL, seed=1, train_frac=0.8)]
    batch = _Batch(cfgs, task, CPU)
    model = batch.model
    assert isinstance(model, TwoLayer) and isinstance(model, BatchedModel)
    assert isinstance(batch.data, BatchData) and batch.data.R == 2 and batch.data.n_train == batch.n_train
    # same member signatures as the protocol (parameter names, in order)
    for name in ("per_run_bytes", "__init__", "step", "prev_state", "evaluate", "weights"):
        want = list(inspect.signature(getattr(BatchedModel, name)).parameters)
        assert list(inspect.signature(getattr(TwoLayer, name)).parameters) == want, name
    # the trainer's metrics are accuracy and loss plus the two-layer family's own (the deep family's are among them)
    from li2core.models.transformer import SEQ_METRICS  # the MED nets' metrics follow the Li2 nets'
    assert METRICS == tuple(METRIC_SETS["basic"]) + TwoLayer.extra_metrics + tuple(
        m for m in SEQ_METRICS if m not in TwoLayer.extra_metrics)
    assert set(Deep.extra_metrics) <= set(METRICS)
    step, ev = TwoLayer.per_run_bytes(cfgs[1], 8)
    assert 0 < step < ev
    W, V = model.weights(1)
    assert W.shape == (10, 6) and V.shape == (6, 5) and W.device.type == "cpu"
    assert torch.equal(W, model.W[1]) and W.data_ptr() != model.W[1].data_ptr()  # a copy


# ------------------------------------------------------------------ a toy autograd family through li2core.train
class ToyLinear:
    """Logits ``O = X W`` with ``W (R, 2M, M)`` (no hidden layer), trained by autograd on the batched tensor."""

    name = "toy"
    extra_metrics = ("dW_cos_dist",)

    @staticmethod
    def per_run_bytes(cfg, itemsize):
        return itemsize * 8 * cfg.M * cfg.M, itemsize * 4 * cfg.M**3

    def __init__(self, cfgs, data, metrics):
        self.data, self.want, M = data, metrics, data.task.M
        self.loss = cfgs[0].loss
        inits = [(torch.rand(2 * M, M, generator=torch.Generator().manual_seed(c.seed), dtype=torch.float64) - 0.5)
                 for c in cfgs]
        self.W = torch.stack(inits).to(data.device, data.dtype)
        lr = torch.tensor([c.lr for c in cfgs], dtype=torch.float64)
        wd = torch.tensor([c.weight_decay for c in cfgs], dtype=torch.float64)
        self.opt = BatchedOptimizer(cfgs[0].optimizer, [self.W], lr, wd)

    def step(self):
        d = self.data
        with torch.enable_grad():
            W = self.W.detach().requires_grad_(True)
            loss, _ = loss_and_grad(self.loss, preact(W, d.tr_a, d.tr_b), d.tr_y, d.tr_mask, need_grad=False)
            (g,) = torch.autograd.grad(loss.sum(), W)  # the sum: each run's gradient is its own loss's
        self.opt.step([g])

    def prev_state(self):
        return (self.W.clone(),) if "dW_cos_dist" in self.want else None

    def evaluate(self, s, prev, score):
        W = self.W[s]
        score(preact_grid(W))
        return {} if prev is None else {"dW_cos_dist": cos_dist(prev[0][s], W)}

    def weights(self, r):
        return (self.W[r].detach().cpu().clone(),)


def test_a_toy_autograd_family_trains_through_the_trainer(monkeypatch):
    monkeypatch.setitem(FAMILIES, "toy", ToyLinear)

    @dataclasses.dataclass(frozen=True)
    class ToyConfig(TrainConfig):  # what the next issue does to TrainConfig itself: a `family` field
        family: str = "toy"

    assert isinstance(ToyLinear.__new__(ToyLinear), BatchedModel)
    base = ToyConfig(group="Z5", epochs=30, eval_every=10, lr=0.05, weight_decay=1e-3, dtype="float64")
    cfgs = [base.replace(seed=0, train_frac=0.5), base.replace(seed=1, train_frac=0.8, lr=0.02),
            base.replace(seed=2, train_frac=1.0)]
    res = train(cfgs, device="cpu", progress=False, snapshots=[0])
    assert res.batches == [[0, 1, 2]]
    df = res.frame()
    assert (df.family == "toy").all()
    assert df.G_F_norm.isna().all() and df.ftf_offdiag_ratio.isna().all() and df.dV_cos_dist.isna().all()
    for i, c in enumerate(cfgs):
        loss = res.metrics[i]["train_loss"]
        assert np.all(np.diff(loss) < 0) and loss[-1] < 0.9 * loss[0], loss  # it learns
        assert np.isnan(res.metrics[i]["dW_cos_dist"][0]) and np.all(res.metrics[i]["dW_cos_dist"][1:] > 0)
        (W,) = res.final_weights(i)
        assert W.shape == (10, 5) and not res.diverged(i)
        init = torch.rand(10, 5, generator=torch.Generator().manual_seed(c.seed), dtype=torch.float64) - 0.5
        assert torch.equal(res.weights_at(i, 0)[0], init)
        # each run in the batch gives the numbers it gives alone
        alone = train([c], device="cpu", progress=False)
        for m in METRICS:
            np.testing.assert_allclose(res.metrics[i][m], alone.metrics[0][m], rtol=1e-10, atol=1e-14,
                                       equal_nan=True, err_msg=m)
        torch.testing.assert_close(W, alone.final_weights(0)[0], rtol=1e-10, atol=1e-14)
    assert np.isnan(res.metrics[2]["test_acc"]).all()  # train_frac = 1: no test pairs
