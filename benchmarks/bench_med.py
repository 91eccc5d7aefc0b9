#!/usr/bin/env python
"""MED transformer throughput: batched li2core.train versus a faithful port of the MED authors' Trainer.

Both sides run in this one process, on the same device, on R seeds of one configuration (the MED authors'
settings, :func:`li2core.train.med_config`: Z_p addition, d_model 128, 4 heads, d_mlp 512, ReLU, 1 layer, AdamW
lr 1e-3, weight decay 1.0, betas (0.9, 0.98), LambdaLR warm-up min(step/10, 1), cross-entropy, full batch, their
shuffled split at frac 0.3). The baseline is the MED authors' ``transformer/base.py`` (Gu et al., paper-med §2.2),
re-written here from its semantics, one seed at a time, seeds one after another:

* the ``nn.Module`` transformer: ``Embed`` (``W_E[:, x]`` and ``einsum('dbp -> bpd')``), ``PosEmbed``, per block
  ``Attention`` (their einsums, ``tril(scores) - 1e10 (1 - mask)``, softmax of scores / sqrt(d_head)) and ``MLP``,
  no LayerNorm, every position computed, the logits read at position 2 (``Unembed``); the init is theirs
  (``randn / sqrt(d_model)`` in module order) after ``torch.manual_seed(seed)`` (theirs is unseeded);
* ``gen_train_test``: a Python list of ``(i, j + d, d_vocab - 1)`` tuples, ``random.seed(seed); random.shuffle``;
* per epoch (their ``do_a_training_step``): ``full_loss`` on train *and* test (autograd graphs, no ``no_grad``),
  each read with ``.item()``; ``calculate_accuracy`` on train and test (two more forward passes with graphs);
  ``calculate_embedding_diff`` on ``W_E.data.cpu()``; then ``backward`` / ``AdamW.step`` / ``LambdaLR.step`` /
  ``zero_grad``; ``test_loss.item() < stopping_thresh`` (never true at -1). Inputs and labels are rebuilt from the
  Python lists in every call (``t.tensor([...])``, ``[config.fn(i, j) ...]``). Their ``einops.rearrange('b i q h
  -> b q (i h)')`` is written as the same permute + reshape (einops is not a dependency here).

li2core: one ``li2core.train`` call on the R configs (one batched program), metrics train/test accuracy and loss
and ``med`` every ``--eval-every`` epochs (default 10), and once more at ``--eval-every 1`` (every epoch, as the
baseline), so the gain of evaluating less often is shown apart from the gain of the implementation.

Before timing, a check: the baseline's training split equals li2core's (``split_pairs(..., "shuffle")``), and the
baseline Trainer loaded with li2core's initial weights of seed 0 gives li2core's first train losses.

Prints runs*epochs/s of both sides (li2core at eval-every E and at 1), each side's mean final train loss and
accuracies, the 1-min load average, and as its last line ``speedup: X.XX`` (li2core at ``--eval-every`` / baseline).

    python benchmarks/bench_med.py --preset cpu      # p 47, R 4, 100 epochs              (target >= 5x)
    python benchmarks/bench_med.py --preset gpu      # p 97, R 16, 1000 epochs, baseline timed on 4 seeds
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim

# The checkout this file lives in comes first (an installed li2core may be another checkout's), then benchmarks/.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import li2core  # noqa: E402
from bench_train import _loadavg, _sync, parse_with_presets, print_environment, report_load  # noqa: E402

from li2core.models.transformer import init_transformer  # noqa: E402
from li2core.tasks import make_task, split_pairs  # noqa: E402
from li2core.train import med_config  # noqa: E402

PRESETS = {
    # runs, p, epochs, baseline runs (None = all R), timed repeats (fastest counts)
    "cpu": dict(runs=4, p=47, epochs=100, baseline_runs=None, repeats=1),
    "gpu": dict(runs=16, p=97, epochs=1000, baseline_runs=4, repeats=1),
}
WARMUP_EPOCHS = 3
CHECK_EPOCHS = 5
METRICS = ("train_acc", "test_acc", "train_loss", "test_loss", "med")


# ----------------------------------------------------------------------------------------------
# Baseline: the MED authors' transformer/base.py, one seed at a time.
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MedConfig:
    """The fields of the authors' ``Config`` the Trainer reads (their defaults, the paper's frac 0.3, 1 layer)."""

    p: int = 47
    seed: int = 0
    num_epochs: int = 100
    lr: float = 1e-3
    weight_decay: float = 1.0
    d: int = 0
    d_model: int = 128
    fn_name: str = "add"
    frac_train: float = 0.3
    stopping_thresh: int = -1
    num_layers: int = 1
    n_ctx: int = 3
    d_mlp: int = 512
    bol_pos: bool = True
    num_heads: int = 4
    act_type: str = "ReLU"
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def d_vocab(self) -> int:  # theirs is a field set by hand (98 for p = 97, d = 0): p + d + 1
        return self.p + self.d + 1

    @property
    def d_head(self) -> int:
        return self.d_model // self.num_heads

    @property
    def fns_dict(self):
        return {
            "add": lambda x, y: (x + y) % self.p,
            "subtract": lambda x, y: (x - y) % self.p,
            "xy": lambda x, y: (x**2 + x * y + y**2) % self.p,
        }

    @property
    def fn(self):
        return self.fns_dict[self.fn_name]


class Embed(nn.Module):
    def __init__(self, d_vocab: int, d_model: int) -> None:
        super().__init__()
        self.W_E = nn.Parameter(torch.randn(d_model, d_vocab) / np.sqrt(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("dbp -> bpd", self.W_E[:, x])


class Unembed(nn.Module):
    def __init__(self, d_vocab: int, d_model: int, p: int) -> None:
        super().__init__()
        self.W_U = nn.Parameter(torch.randn(d_model, p) / np.sqrt(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.W_U


class PosEmbed(nn.Module):
    def __init__(self, max_ctx: int, d_model: int) -> None:
        super().__init__()
        self.W_pos = nn.Parameter(torch.randn(max_ctx, d_model) / np.sqrt(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.W_pos[: x.shape[-2]]


class Attention(nn.Module):
    def __init__(self, d_model: int, num_heads: int, d_head: int, n_ctx: int) -> None:
        super().__init__()
        self.W_K = nn.Parameter(torch.randn(num_heads, d_head, d_model) / np.sqrt(d_model))
        self.W_Q = nn.Parameter(torch.randn(num_heads, d_head, d_model) / np.sqrt(d_model))
        self.W_V = nn.Parameter(torch.randn(num_heads, d_head, d_model) / np.sqrt(d_model))
        self.W_O = nn.Parameter(torch.randn(d_model, d_head * num_heads) / np.sqrt(d_model))
        self.register_buffer("mask", torch.tril(torch.ones((n_ctx, n_ctx))))
        self.d_head = d_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = torch.einsum("ihd,bpd->biph", self.W_K, x)
        q = torch.einsum("ihd,bpd->biph", self.W_Q, x)
        v = torch.einsum("ihd,bpd->biph", self.W_V, x)
        attn_scores_pre = torch.einsum("biph,biqh->biqp", k, q)
        attn_scores_masked = torch.tril(attn_scores_pre) - 1e10 * (1 - self.mask[: x.shape[-2], : x.shape[-2]])
        attn_matrix = F.softmax(attn_scores_masked / np.sqrt(self.d_head), dim=-1)
        z = torch.einsum("biph,biqp->biqh", v, attn_matrix)
        b, i, q_, h = z.shape
        z_flat = z.permute(0, 2, 1, 3).reshape(b, q_, i * h)  # einops.rearrange(z, 'b i q h -> b q (i h)')
        return torch.einsum("df,bqf->bqd", self.W_O, z_flat)


class MLP(nn.Module):
    def __init__(self, d_model: int, d_mlp: int, act_type: str) -> None:
        super().__init__()
        self.W_in = nn.Parameter(torch.randn(d_mlp, d_model) / np.sqrt(d_model))
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = nn.Parameter(torch.randn(d_model, d_mlp) / np.sqrt(d_model))
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.act_type = act_type
        assert act_type in ["ReLU", "GeLU"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.einsum("md,bpd->bpm", self.W_in, x) + self.b_in
        if self.act_type == "ReLU":
            x = F.relu(x)
        elif self.act_type == "GeLU":
            x = F.gelu(x)
        return torch.einsum("dm,bpm->bpd", self.W_out, x) + self.b_out


class TransformerBlock(nn.Module):
    def __init__(self, d_model: int, d_mlp: int, d_head: int, num_heads: int, n_ctx: int, act_type: str) -> None:
        super().__init__()
        self.attn = Attention(d_model, num_heads, d_head, n_ctx)
        self.mlp = MLP(d_model, d_mlp, act_type)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        return x + self.mlp(x)


class AuthorTransformer(nn.Module):
    """The authors' ``Transformer`` (their LayerNorm class is never instantiated in a block: none here either)."""

    def __init__(self, config: MedConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = Embed(d_vocab=config.d_vocab, d_model=config.d_model)
        self.pos_embed = PosEmbed(max_ctx=config.n_ctx, d_model=config.d_model)
        self.blocks = nn.ModuleList([
            TransformerBlock(d_model=config.d_model, d_mlp=config.d_mlp, d_head=config.d_head,
                             num_heads=config.num_heads, n_ctx=config.n_ctx, act_type=config.act_type)
            for _ in range(config.num_layers)])
        self.unembed = Unembed(d_vocab=config.d_vocab, d_model=config.d_model, p=config.p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        if self.config.bol_pos:
            x = self.pos_embed(x)
        for block in self.blocks:
            x = block(x)
        x = x[:, 2, :]
        return self.unembed(x)

    @torch.no_grad()
    def load_li2core(self, ws: list[torch.Tensor]) -> AuthorTransformer:
        """Copy one run's li2core weights (``init_transformer`` order) into this module (for the checks)."""
        mine = [self.embed.W_E, self.pos_embed.W_pos]
        for blk in self.blocks:
            a, m = blk.attn, blk.mlp
            mine += [a.W_Q, a.W_K, a.W_V, a.W_O, m.W_in, m.b_in, m.W_out, m.b_out]
        mine.append(self.unembed.W_U)
        assert len(mine) == len(ws)
        for dst, src in zip(mine, ws):
            dst.copy_(src)
        return self


def gen_train_test(config: MedConfig):
    pairs = [(i, j + config.d, config.d_vocab - 1) for i in range(config.p) for j in range(config.p)]
    random.seed(config.seed)
    random.shuffle(pairs)
    div = int(config.frac_train * len(pairs))
    return pairs[:div], pairs[div:]


def prepare_data(pairs):
    return torch.tensor([(i, j, p) for i, j, p in pairs])  # on the CPU, as theirs (W_E[:, x] indexes across)


def full_loss(config: MedConfig, model: AuthorTransformer, data) -> torch.Tensor:
    inputs = prepare_data(data)
    logits = model(inputs)
    labels = torch.tensor([config.fn(i, j) for i, j, _ in data]).to(config.device)
    return F.cross_entropy(logits, labels)


def calculate_accuracy(config: MedConfig, model: AuthorTransformer, data) -> float:
    inputs = prepare_data(data)
    logits = model(inputs)
    labels = torch.tensor([config.fn(i, j) for i, j, _ in data]).to(config.device)
    predictions = logits.argmax(dim=-1)
    correct_predictions = (predictions == labels).sum().item()
    return correct_predictions / len(labels)


def calculate_embedding_diff(embed_matrix: torch.Tensor, a: int, b: int, c: int, d: int) -> float:
    if a >= b or c >= d:
        raise ValueError("Start index must be less than end index.")
    if b > embed_matrix.shape[1] or d > embed_matrix.shape[1]:
        raise ValueError("Index range exceeds embedding matrix dimension.")
    diffs1 = torch.norm(embed_matrix[:, a + 1:b] - embed_matrix[:, a:b - 1], dim=0)
    diff1_mean = diffs1.mean().item()
    diffs2 = torch.norm(embed_matrix[:, c + 1:d] - embed_matrix[:, c:d - 1], dim=0)
    diff2_mean = diffs2.mean().item()
    return 0.5 * (diff1_mean + diff2_mean)


class Trainer:
    """The authors' ``Trainer`` (without the file and plot output of ``post_training_save`` / ``plot_metrics``)."""

    def __init__(self, config: MedConfig, model: AuthorTransformer | None = None, verbose: bool = False) -> None:
        self.model = model if model is not None else AuthorTransformer(config)
        self.model.to(config.device)
        self.optimizer = optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                     betas=(0.9, 0.98))
        self.scheduler = optim.lr_scheduler.LambdaLR(self.optimizer, lambda step: min(step / 10, 1))
        self.train, self.test = gen_train_test(config=config)
        self.train_losses: list[float] = []
        self.test_losses: list[float] = []
        self.train_accuracies: list[float] = []
        self.test_accuracies: list[float] = []
        self.embedding_diffs: list[float] = []
        self.config = config
        self.verbose = verbose

    def do_a_training_step(self, epoch: int):
        config = self.config
        train_loss = full_loss(config=config, model=self.model, data=self.train)
        test_loss = full_loss(config=config, model=self.model, data=self.test)
        self.train_losses.append(train_loss.item())
        self.test_losses.append(test_loss.item())
        train_accuracy = calculate_accuracy(config=config, model=self.model, data=self.train)
        test_accuracy = calculate_accuracy(config=config, model=self.model, data=self.test)
        self.train_accuracies.append(train_accuracy)
        self.test_accuracies.append(test_accuracy)
        embed_matrix = self.model.embed.W_E.data.cpu()
        max_min_diff = calculate_embedding_diff(embed_matrix, 0, config.p - 1, config.d, config.d + config.p - 1)
        self.embedding_diffs.append(max_min_diff)
        if epoch % 100 == 0 and self.verbose:
            print(f"Epoch {epoch}, train loss {train_loss.item():.4f}, test loss {test_loss.item():.4f}, "
                  f"train accuracy {train_accuracy:.4f}, test accuracy {test_accuracy:.4f}, "
                  f"embedding diff {max_min_diff:.4f}")
        train_loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad()
        return train_loss, test_loss


def train_model(config: MedConfig, model: AuthorTransformer | None = None) -> Trainer:
    """The authors' ``train_model`` loop (seeded init when no model is given)."""
    if model is None:
        torch.manual_seed(config.seed)
        model = AuthorTransformer(config)
    world = Trainer(config=config, model=model)
    for epoch in range(config.num_epochs):
        _, test_loss = world.do_a_training_step(epoch)
        if test_loss.item() < config.stopping_thresh:
            break
    return world


def baseline_final(world: Trainer) -> dict[str, float]:
    """Train loss and accuracies after the last step (the authors' lists hold the values *before* each step)."""
    with torch.no_grad():
        return {"train_loss": full_loss(world.config, world.model, world.train).item(),
                "train_acc": calculate_accuracy(world.config, world.model, world.train),
                "test_acc": calculate_accuracy(world.config, world.model, world.test)}


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------
def _configs(a: argparse.Namespace, epochs: int, eval_every: int):
    return [med_config("transformer", p=a.p, train_frac=a.train_frac, epochs=epochs, seed=s, eval_every=eval_every)
            for s in range(a.runs)]


def _mcfg(a: argparse.Namespace, epochs: int, seed: int, dev: torch.device) -> MedConfig:
    return MedConfig(p=a.p, seed=seed, num_epochs=epochs, frac_train=a.train_frac, device=dev)


def check_agreement(a: argparse.Namespace, dev: torch.device) -> tuple[bool, float, float]:
    """Seed 0: (same training pairs as li2core, max |train loss difference| over the first CHECK_EPOCHS steps
    with li2core's initial weights, the first loss)."""
    cfg = _configs(a, CHECK_EPOCHS, 1)[0]
    mc = _mcfg(a, CHECK_EPOCHS, 0, dev)
    tr, _ = gen_train_test(mc)
    task = make_task(cfg.group, op=cfg.op)
    sp = split_pairs(task, cfg.split, cfg.train_frac, cfg.seed, cfg.dugout)
    mine = sorted(i * a.p + (j - mc.d) for i, j, _ in tr)
    same = mine == sp.train.tolist()
    model = AuthorTransformer(mc).load_li2core(init_transformer(a.p, cfg, torch.float32))
    world = train_model(mc, model)
    res = li2core.train([cfg], device=dev, progress=False, metrics=METRICS)
    theirs = np.asarray(world.train_losses)
    ours = res.metrics[0]["train_loss"][:CHECK_EPOCHS]
    return same, float(np.max(np.abs(theirs - ours))), float(ours[0])


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=["auto", "cpu", "gpu"], default="auto",
                    help="defaults: cpu = p 47, R 4, 100 epochs, 1 repeat; gpu = p 97, R 16, 1000 epochs, baseline "
                    "timed on 4 seeds; auto = gpu on CUDA, else cpu")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda (auto: cuda if available)")
    ap.add_argument("--runs", type=int, help="R, seeds 0..R-1")
    ap.add_argument("--p", type=int, help="the prime p (the task is a + b mod p)")
    ap.add_argument("--epochs", type=int, help="optimizer steps per run")
    ap.add_argument("--train-frac", type=float, default=0.3)
    ap.add_argument("--eval-every", type=int, default=10,
                    help="li2core's evaluation interval (the baseline evaluates every epoch; li2core is timed at 1 too)")
    ap.add_argument("--baseline-runs", type=int,
                    help="time the baseline on only this many seeds and extrapolate runs*epochs/s")
    ap.add_argument("--repeats", type=int,
                    help="time the sides this many times, alternating, and keep the fastest of each (cpu 1, gpu 1)")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    a = parse_with_presets(ap, argv, PRESETS)
    if a.baseline_runs is None or a.baseline_runs > a.runs:
        a.baseline_runs = a.runs
    for k in ("runs", "p", "epochs", "eval_every", "baseline_runs", "repeats"):
        if getattr(a, k) < 1:
            ap.error(f"--{k.replace('_', '-')} must be >= 1")
    return a


def main(argv: list[str] | None = None) -> float:
    a = _parse(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = li2core.resolve_device(a.device)
    R, B, E, ev = a.runs, a.baseline_runs, a.epochs, a.eval_every
    c0 = _configs(a, E, ev)[0]

    print_environment(dev)
    print(f"config: preset={a.preset} task=add mod p={a.p} family=transformer layers={c0.n_layers} "
          f"d_model={c0.d_model} heads={c0.n_heads} d_mlp={c0.width} split=shuffle train_frac={a.train_frac} "
          f"n_train={c0.n_train} n_test={a.p * a.p - c0.n_train} epochs={E} runs R={R} adamw lr={c0.lr} "
          f"wd={c0.weight_decay} betas=({c0.beta1}, {c0.beta2}) warmup={c0.warmup_steps} loss=cross-entropy "
          f"dtype={c0.dtype}")
    print(f"baseline: the MED authors' Trainer (transformer/base.py), one seed at a time; every epoch train+test "
          f"loss with graphs, train+test accuracy (4 forward passes over all pairs), embedding diff on the host; "
          f"timed on {B} of {R} seeds" + (" (runs*epochs/s extrapolated to R)" if B < R else ""))
    print(f"li2core : {R} runs batched, metrics {', '.join(METRICS)}, eval_every={ev} (and timed at eval_every=1)")

    load0 = _loadavg()
    same, dloss, loss0 = check_agreement(a, dev)  # also the warm-up of both sides' code paths
    print(f"check (seed 0, li2core's initial weights in the baseline module): same training pairs: "
          f"{'yes' if same else 'NO'}; first {CHECK_EPOCHS} train losses max |difference| {dloss:.2e} "
          f"(loss at init {loss0:.4f})")
    train_model(_mcfg(a, WARMUP_EPOCHS, 0, dev))
    li2core.train(_configs(a, WARMUP_EPOCHS, 1), device=dev, progress=False, metrics=METRICS)
    _sync(dev)

    def timed(fn):
        _sync(dev)
        t0, c0_ = time.perf_counter(), time.process_time()
        out = fn()
        _sync(dev)
        return out, time.perf_counter() - t0, time.process_time() - c0_

    t_base = t_li2 = t_li1 = c_base = c_li2 = c_li1 = math.inf
    for _ in range(a.repeats):
        worlds, t, c = timed(lambda: [train_model(_mcfg(a, E, s, dev)) for s in range(B)])
        t_base, c_base = min(t_base, t), min(c_base, c)
        res, t, c = timed(lambda: li2core.train(_configs(a, E, ev), device=dev, progress=False, metrics=METRICS))
        t_li2, c_li2 = min(t_li2, t), min(c_li2, c)
        _, t, c = timed(lambda: li2core.train(_configs(a, E, 1), device=dev, progress=False, metrics=METRICS))
        t_li1, c_li1 = min(t_li1, t), min(c_li1, c)
    rate_base, rate_li2, rate_li1 = B * E / t_base, R * E / t_li2, R * E / t_li1

    rep = f"fastest of {a.repeats} repeats, " if a.repeats > 1 else ""
    print(f"baseline wall: {rep}{t_base:8.2f} s for {B} runs x {E} epochs"
          + (f" (~{t_base * R / B:.1f} s for all {R} runs, extrapolated)" if B < R else ""))
    print(f"li2core  wall: {rep}{t_li2:8.2f} s for {R} runs x {E} epochs at eval_every={ev} "
          f"({len(res.batches)} batch(es)); {t_li1:.2f} s at eval_every=1")
    print(f"baseline            : {rate_base:10.1f} runs*epochs/s   (CPU time of this process: {c_base:.2f} s)")
    print(f"li2core eval_every=1: {rate_li1:10.1f} runs*epochs/s   (CPU time of this process: {c_li1:.2f} s; "
          f"x{rate_li1 / rate_base:.2f} the baseline at the baseline's evaluation interval)")
    print(f"li2core eval_every={ev}: {rate_li2:{11 - len(str(ev))}.1f} runs*epochs/s   (CPU time of this process: {c_li2:.2f} s)")
    if dev.type == "cpu":
        print(f"speedup by process CPU time (less sensitive to other load): {(R / c_li2) / (B / c_base):.2f} at "
              f"eval_every={ev}, {(R / c_li1) / (B / c_base):.2f} at eval_every=1")

    fr = res.frame()
    last = fr[fr.epoch == E].sort_values("run")
    bf = [baseline_final(w) for w in worlds]
    mean = lambda xs: float(np.mean(xs)) if len(xs) else math.nan  # noqa: E731
    print(f"sanity (after the last step, mean over seeds 0..{B - 1}): baseline train_loss "
          f"{mean([d['train_loss'] for d in bf]):.4g} train_acc {mean([d['train_acc'] for d in bf]):.3f} "
          f"test_acc {mean([d['test_acc'] for d in bf]):.3f} | li2core train_loss "
          f"{mean(last.train_loss.to_numpy()[:B]):.4g} train_acc {mean(last.train_acc.to_numpy()[:B]):.3f} "
          f"test_acc {mean(last.test_acc.to_numpy()[:B]):.3f} med {mean(last.med.to_numpy()[:B]):.3f}"
          "  [different init draws: close, not equal]")
    report_load(load0, dev)
    speedup = rate_li2 / rate_base
    print(f"speedup: {speedup:.2f}")
    return speedup


if __name__ == "__main__":
    main()
