"""benchmarks/bench_med.py's baseline is a faithful port: on li2core's initial weights, the authors' nn.Module
transformer gives li2core's logits, and their Trainer loop gives li2core's train losses and weights step for step
(float64, p = 7, small widths). Speed is measured by the script, never asserted here."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from li2core.models.transformer import init_transformer, tokens, transformer_logits
from li2core.tasks import make_task, split_pairs
from li2core.train import med_config, train

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_med.py"
_spec = importlib.util.spec_from_file_location("bench_med", _PATH)
bm = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bench_med", bm)  # dataclasses look their module up
_spec.loader.exec_module(bm)  # type: ignore[union-attr]

SMALL = dict(width=24, d_model=16, n_heads=4, dtype="float64")


def _pair(n_layers: int, seed: int, epochs: int = 1):
    cfg = med_config("transformer", p=7, train_frac=0.5, epochs=epochs, seed=seed, n_layers=n_layers, eval_every=1,
                     **SMALL)
    mc = bm.MedConfig(p=7, seed=seed, num_epochs=epochs, frac_train=0.5, d_model=16, d_mlp=24, num_heads=4,
                      num_layers=n_layers)
    ws = init_transformer(7, cfg, torch.float64)
    model = bm.AuthorTransformer(mc).double().load_li2core(ws)
    return cfg, mc, ws, model


@pytest.mark.parametrize("n_layers", [1, 2])
def test_baseline_module_logits_equal_li2core(n_layers):
    _, _, ws, model = _pair(n_layers, seed=3)
    task = make_task("Z7", op="add")
    tok = tokens(task.a, task.b, 7)
    want = transformer_logits([w[None] for w in ws], tok, n_layers, 4)[0]
    with torch.no_grad():
        got = model(bm.prepare_data([tuple(r) for r in tok.tolist()]))
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


def test_baseline_trainer_equals_li2core_step_for_step():
    cfg, mc, _, model = _pair(1, seed=1, epochs=6)
    world = bm.train_model(mc, model)
    res = train(cfg, device="cpu", progress=False, metrics="basic")
    np.testing.assert_allclose(world.train_losses, res.metrics[0]["train_loss"][:6], rtol=1e-10)
    np.testing.assert_allclose(world.test_accuracies, res.metrics[0]["test_acc"][:6])
    mine = [world.model.embed.W_E, world.model.pos_embed.W_pos]
    a, m = world.model.blocks[0].attn, world.model.blocks[0].mlp
    mine += [a.W_Q, a.W_K, a.W_V, a.W_O, m.W_in, m.b_in, m.W_out, m.b_out, world.model.unembed.W_U]
    for x, y in zip(mine, res.final_weights(0)):
        torch.testing.assert_close(x.detach(), y, rtol=1e-9, atol=1e-11)
    tr, _ = bm.gen_train_test(mc)  # the authors' split is li2core's "shuffle" split
    sp = split_pairs(make_task(cfg.group, op=cfg.op), cfg.split, cfg.train_frac, cfg.seed, cfg.dugout)
    assert sorted(i * 7 + j for i, j, _ in tr) == sp.train.tolist()
