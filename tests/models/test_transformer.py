"""The MED authors' transformer (li2core.models.transformer) on the one trainer.

The batched family (per-token tables in the first block, the last block at the cls position only) equals a literal
port of the authors' ``transformer/base.py`` module (every position, their einsums and their -1e10 mask); training
through ``li2core.train`` equals their ``Trainer`` loop (torch AdamW, betas (0.9, 0.98), LambdaLR warm-up,
cross-entropy) step for step; each batched run equals the run alone."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from li2core import measures
from li2core.models import FAMILIES, Transformer
from li2core.models.transformer import init_transformer, tokens, transformer_logits, vocab_size
from li2core.tasks import make_task, split_pairs
from li2core.train import METRICS, TrainConfig, med_config, train

SMALL = dict(width=24, d_model=16, n_heads=4, dtype="float64", eval_every=4)


def authors_forward(ws: list[torch.Tensor], x: torch.Tensor, n_layers: int, n_heads: int) -> torch.Tensor:
    """A literal port of the authors' Transformer.forward (one run, all three positions): embedding
    ``einsum('dbp -> bpd', W_E[:, x])``, positions added, per block their Attention (``tril(scores) - 1e10 (1 -
    mask)``, softmax of scores / sqrt(d_head), ``einops`` 'b i q h -> b q (i h)') and MLP, ``x[:, 2] @ W_U``."""
    W_E, W_pos, W_U = ws[0], ws[1], ws[-1]
    h = torch.einsum("dbp -> bpd", W_E[:, x]) + W_pos[: x.shape[-1]]
    for i in range(n_layers):
        W_Q, W_K, W_V, W_O, W_in, b_in, W_out, b_out = ws[2 + 8 * i: 10 + 8 * i]
        k = torch.einsum("ihd,bpd->biph", W_K, h)
        q = torch.einsum("ihd,bpd->biph", W_Q, h)
        v = torch.einsum("ihd,bpd->biph", W_V, h)
        pre = torch.einsum("biph,biqh->biqp", k, q)
        mask = torch.tril(torch.ones(3, 3, dtype=h.dtype))
        masked = torch.tril(pre) - 1e10 * (1 - mask)
        attn = F.softmax(masked / np.sqrt(W_Q.shape[1]), dim=-1)
        z = torch.einsum("biph,biqp->biqh", v, attn)
        b, nh, qn, dh = z.shape
        z_flat = z.permute(0, 2, 1, 3).reshape(b, qn, nh * dh)  # 'b i q h -> b q (i h)'
        h = h + torch.einsum("df,bqf->bqd", W_O, z_flat)
        m = F.relu(torch.einsum("md,bpd->bpm", W_in, h) + b_in)
        h = h + torch.einsum("dm,bpm->bpd", W_out, m) + b_out
    return h[:, 2, :] @ W_U


@pytest.mark.parametrize("n_layers,d", [(1, 0), (2, 0), (3, 5)])
def test_batched_logits_equal_the_authors_module_at_every_depth(n_layers, d):
    p = 7
    cfgs = [TrainConfig(group=f"Z{p}", op="add", family="transformer", n_layers=n_layers, token_offset=d, seed=s,
                        **SMALL) for s in (0, 3)]
    ws = [init_transformer(p, c, torch.float64) for c in cfgs]
    params = [torch.stack(t) for t in zip(*ws)]
    task = make_task(f"Z{p}", op="add")
    tok = tokens(task.a, task.b, p, d)
    assert tok.max() == vocab_size(p, d) - 1 == p + d
    got = transformer_logits(params, tok, n_layers, 4)
    for r, w in enumerate(ws):
        want = authors_forward(w, tok, n_layers, 4)
        torch.testing.assert_close(got[r], want, rtol=1e-10, atol=1e-10)


def test_init_draws_every_matrix_as_randn_over_sqrt_d_model_with_zero_biases():
    c = TrainConfig(group="Z11", op="add", family="transformer", n_layers=2, width=256, d_model=64, n_heads=4,
                    seed=5)
    ws = init_transformer(11, c, torch.float64)
    assert len(ws) == 2 + 8 * 2 + 1
    assert ws[0].shape == (64, 12) and ws[1].shape == (3, 64) and ws[-1].shape == (64, 11)
    for name, w in zip(("W_Q", "W_K", "W_V", "W_O", "W_in", "b_in", "W_out", "b_out"), ws[2:10]):
        if name.startswith("b"):
            assert torch.count_nonzero(w) == 0
        else:  # std 1/sqrt(64) = 0.125 over thousands of draws
            assert abs(float(w.std()) - 0.125) < 0.01, name
    again = init_transformer(11, c, torch.float64)
    assert all(torch.equal(a, b) for a, b in zip(ws, again))
    other = init_transformer(11, c.replace(seed=6), torch.float64)
    assert not torch.equal(ws[0], other[0])
    zero = init_transformer(11, c.replace(top_layer_init_multiplier=0.0), torch.float64)
    assert torch.count_nonzero(zero[-1]) == 0 and torch.equal(zero[0], ws[0])


def _authors_loop(cfg: TrainConfig, steps: int):
    """The authors' Trainer (base.py) on our initial weights: torch AdamW(lr, wd, betas (0.9, 0.98)), LambdaLR
    min(step / 10, 1), cross-entropy on the full training set, their module forward (every position)."""
    p = cfg.M
    task = make_task(cfg.group, op=cfg.op)
    sp = split_pairs(task, cfg.split, cfg.p, cfg.seed, cfg.dugout)
    ws = [t.clone().requires_grad_(True) for t in init_transformer(p, cfg, torch.float64)]
    opt = torch.optim.AdamW(ws, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(cfg.beta1, cfg.beta2))
    sch = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(step / cfg.warmup_steps, 1))
    tok = tokens(task.a, task.b, p, cfg.token_offset)
    tr = sp.train
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(authors_forward(ws, tok[tr], cfg.n_layers, cfg.n_heads), task.y[tr])
        losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
        sch.step()
        opt.zero_grad()
    return [w.detach() for w in ws], losses


@pytest.mark.parametrize("n_layers", [1, 2])
def test_training_equals_the_authors_trainer_step_for_step(n_layers):
    cfg = med_config("transformer", p=11, train_frac=0.5, epochs=14, n_layers=n_layers, width=32, d_model=16,
                     dtype="float64", eval_every=1, seed=2, lr=3e-3)
    res = train(cfg, device="cpu", progress=False, metrics="basic")
    want_w, want_loss = _authors_loop(cfg, 14)
    for a, b in zip(res.final_weights(0), want_w):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(res.metrics[0]["train_loss"][:14], want_loss, rtol=1e-10)


def test_each_batched_run_equals_the_run_alone():
    base = med_config("transformer", p=7, epochs=9, n_layers=2, **SMALL)
    cfgs = [base.replace(seed=0, train_frac=0.5), base.replace(seed=1, train_frac=0.7, lr=2e-3),
            base.replace(seed=2, split="square", dugout=3, weight_decay=0.1),
            base.replace(seed=3, split="strip", dugout=2)]
    res = train(cfgs, device="cpu", progress=False)
    assert res.batches == [[0, 1, 2, 3]]
    for i, c in enumerate(cfgs):
        alone = train([c], device="cpu", progress=False)
        for m in res.metric_names:
            np.testing.assert_allclose(res.metrics[i][m], alone.metrics[0][m], rtol=1e-9, atol=1e-12,
                                       equal_nan=True, err_msg=f"run {i} {m}")
        for a, b in zip(res.final_weights(i), alone.final_weights(0)):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_med_metrics_are_the_measures_of_the_embedding_and_the_weights():
    cfg = med_config("transformer", p=11, epochs=3, train_frac=0.5, **SMALL)
    res = train(cfg, device="cpu", progress=False, keep_weights=True)
    ws = res.final_weights(0)
    E = ws[0].T  # one row per token
    m = {k: res.metrics[0][k][-1] for k in ("med", "med_code", "emb_norm", "weight_norm")}
    assert m["med"] == pytest.approx(float(measures.med(E[:11])), rel=1e-12)
    assert m["med_code"] == pytest.approx(float(measures.med_code(E, 11, 0)), rel=1e-12)
    assert m["emb_norm"] == pytest.approx(float(torch.linalg.norm(ws[0])), rel=1e-12)
    assert m["weight_norm"] == pytest.approx(sum(float((w**2).sum()) for w in ws), rel=1e-12)
    # MED at init: columns of norm ~1, consecutive differences ~sqrt(2) (paper-med §3.2: 1.419 measured)
    init = res.metrics[0]["med"][0]
    assert 1.2 < init < 1.6
    # the Li2 metrics are not this family's: NaN, and absent from a named set's frame of a Li2 net
    assert np.isnan(res.metrics[0]["G_F_norm"]).all()
    li2 = train(TrainConfig(group="Z5", width=4, epochs=2), device="cpu", progress=False)
    assert "med" not in li2.frame().columns and "med" in res.frame().columns


def test_family_validation_names_the_field():
    with pytest.raises(ValueError, match=r"^n_heads: must divide d_model"):
        med_config("transformer", d_model=30, n_heads=4)
    with pytest.raises(ValueError, match=r"^token_offset: only the transformer and mlp"):
        TrainConfig(group="Z7", token_offset=3)
    with pytest.raises(ValueError, match=r"^op: an operation over Z_p needs"):
        med_config("transformer", p=9)
    with pytest.raises(ValueError, match=r"^dugout: the square size"):
        med_config("transformer", p=7, split="square")
    with pytest.raises(ValueError, match=r"^beta1: the two-layer fast path"):
        TrainConfig(group="Z7", beta2=0.98)
    with pytest.raises(ValueError, match=r"^family: 'transformer' has none of the Li2 variants"):
        med_config("transformer", p=7, extra_layers=1)
    assert FAMILIES["transformer"] is Transformer
    c = med_config("transformer", p=97)
    assert (c.width, c.d_model, c.n_heads, c.lr, c.weight_decay, c.beta2, c.warmup_steps, c.n_train) == \
        (512, 128, 4, 1e-3, 1.0, 0.98, 10, 2822)
    assert math.isclose(c.p, 0.3)
