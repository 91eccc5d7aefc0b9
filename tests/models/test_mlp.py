"""The MED authors' MLP (li2core.models.mlp): the batched family equals a literal nn.Module port of their
``TwoLayerMLP`` and their training loop step for step; each batched run equals the run alone."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from li2core import measures
from li2core.models import FAMILIES, MLP
from li2core.models.mlp import init_mlp, mlp_logits
from li2core.models.transformer import tokens
from li2core.tasks import make_task, split_pairs
from li2core.train import med_config, train


class AuthorsMLP(nn.Module):
    """``TwoLayerMLP`` of ``MLP/base.py``: embed (``einsum('dbp -> bpd', W_E[:, x])``), flatten the three tokens,
    Linear -> ReLU -> Linear -> ReLU -> Linear; our initial weights copied in."""

    def __init__(self, ws: list[torch.Tensor]) -> None:
        super().__init__()
        W_E, W1, b1, W2, b2, W3, b3 = (w.clone() for w in ws)
        self.W_E = nn.Parameter(W_E)
        self.hidden1, self.hidden2, self.out = (nn.Linear(W.shape[1], W.shape[0]).double() for W in (W1, W2, W3))
        for lin, W, b in ((self.hidden1, W1, b1), (self.hidden2, W2, b2), (self.out, W3, b3)):
            with torch.no_grad():
                lin.weight.copy_(W)
                lin.bias.copy_(b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.einsum("dbp -> bpd", self.W_E[:, x])
        x = x.reshape(x.size(0), -1)
        return self.out(F.relu(self.hidden2(F.relu(self.hidden1(x)))))


@pytest.mark.parametrize("d", [0, 4])
def test_batched_logits_equal_the_authors_module(d):
    p = 7
    cfgs = [med_config("mlp", p=p, width=20, d_model=6, token_offset=d, seed=s, dtype="float64") for s in (0, 1)]
    ws = [init_mlp(p, c, torch.float64) for c in cfgs]
    params = [torch.stack(t) for t in zip(*ws)]
    task = make_task(f"Z{p}", op="add")
    tok = tokens(task.a, task.b, p, d)
    keep: list[torch.Tensor] = []
    got = mlp_logits(params, tok, "relu", keep)
    for r, w in enumerate(ws):
        m = AuthorsMLP(w)
        torch.testing.assert_close(got[r], m(tok), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(keep[0][r], F.relu(m.hidden1(torch.einsum("dbp -> bpd", m.W_E[:, tok])
                                                                .reshape(len(tok), -1))), rtol=1e-10, atol=1e-12)


def test_init_is_randn_embedding_then_torch_linear_defaults():
    c = med_config("mlp", p=13, seed=4)
    W_E, W1, b1, W2, b2, W3, b3 = init_mlp(13, c, torch.float64)
    assert W_E.shape == (128, 14) and W1.shape == (512, 384) and W3.shape == (13, 512)
    assert abs(float(W_E.std()) - 128**-0.5) < 0.005
    for W, b, fan_in in ((W1, b1, 384), (W2, b2, 512), (W3, b3, 512)):  # U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        bound = fan_in**-0.5
        assert float(W.abs().max()) <= bound and float(W.abs().max()) > 0.99 * bound
        assert abs(float(W.std()) - bound / 3**0.5) < 0.02 * bound
        assert float(b.abs().max()) <= bound


def test_training_equals_the_authors_trainer_step_for_step():
    cfg = med_config("mlp", p=11, train_frac=0.5, epochs=13, width=16, d_model=8, dtype="float64", eval_every=1,
                     seed=1, lr=5e-3)
    res = train(cfg, device="cpu", progress=False, metrics="basic")
    task = make_task(cfg.group, op=cfg.op)
    sp = split_pairs(task, cfg.split, cfg.p, cfg.seed, cfg.dugout)
    m = AuthorsMLP(init_mlp(11, cfg, torch.float64))
    opt = torch.optim.AdamW(m.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    sch = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(step / 10, 1))
    tok = tokens(task.a, task.b, 11)[sp.train]
    losses = []
    for _ in range(13):
        loss = F.cross_entropy(m(tok), task.y[sp.train])
        losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
        sch.step()
        opt.zero_grad()
    np.testing.assert_allclose(res.metrics[0]["train_loss"][:13], losses, rtol=1e-10)
    want = [m.W_E, m.hidden1.weight, m.hidden1.bias, m.hidden2.weight, m.hidden2.bias, m.out.weight, m.out.bias]
    for a, b in zip(res.final_weights(0), want):
        torch.testing.assert_close(a, b.detach(), rtol=1e-9, atol=1e-11)


def test_each_batched_run_equals_the_run_alone_and_med_hidden_is_the_first_layer():
    base = med_config("mlp", p=7, epochs=8, width=12, d_model=6, dtype="float64", eval_every=4)
    cfgs = [base.replace(seed=0, train_frac=0.5), base.replace(seed=1, lr=3e-3, train_frac=0.6),
            base.replace(seed=2, split="square", dugout=2, top_layer_init_multiplier=0.0)]
    res = train(cfgs, device="cpu", progress=False)
    assert res.batches == [[0, 1, 2]]
    for i, c in enumerate(cfgs):
        alone = train([c], device="cpu", progress=False)
        for k in res.metric_names:
            np.testing.assert_allclose(res.metrics[i][k], alone.metrics[0][k], rtol=1e-9, atol=1e-12,
                                       equal_nan=True, err_msg=f"run {i} {k}")
        for a, b in zip(res.final_weights(i), alone.final_weights(0)):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
    ws = res.final_weights(1)
    i = torch.arange(7)
    keep: list[torch.Tensor] = []
    mlp_logits([w[None] for w in ws], tokens(i, i, 7), "relu", keep)
    assert res.metrics[1]["med_hidden"][-1] == pytest.approx(float(measures.med(keep[0][0])), rel=1e-12)
    assert FAMILIES["mlp"] is MLP
