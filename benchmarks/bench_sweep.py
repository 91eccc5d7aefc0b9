#!/usr/bin/env python
"""Sweep throughput: a Fig. 5-like sweep (several M x p x seeds) through li2core against the author's loop.

Both sides run in this one process, on the same device, on the same grid of configurations:

* **li2core**: :func:`li2core.sweep.run_sweep` into a fresh temporary SQLite store (metrics "basic":
  train/test accuracy and loss every ``--eval-every`` epochs); runs of one group train as one batched
  program, and every finished batch is written to the store. The timing includes planning, training,
  the store writes and loading the results back.
* **baseline**: ``baseline_run`` of ``benchmarks/bench_train.py`` (imported, not copied): the author's
  ``modular_addition_simple2.py`` loop, one configuration at a time, train and test accuracy and loss with
  ``.item()`` every epoch. With ``--baseline-runs B`` only B runs per group are timed and the group's time is
  extrapolated to all its runs (the output says so).

The grid is Z_M for each ``--Ms``, ``p = r ln M / M`` for each ``--ratios`` (the chapter's grid, clipped to
0.9), seeds ``0..seeds-1``; Adam, x^2, the author's mse loss, K ``--width``, ``--epochs`` epochs.

Prints runs*epochs/s of both sides, the 1-min load average before and after (the machine may be shared), and
as its last line ``speedup: X.XX`` (li2core / baseline).

    python benchmarks/bench_sweep.py --preset cpu   # 4 M x 4 p x 2 seeds = 32 runs, K 128, 300 epochs
    python benchmarks/bench_sweep.py --preset gpu   # 4 M x 6 p x 4 seeds = 96 runs, K 512, 1000 epochs
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import li2core
except ImportError:  # run as a script from a checkout without `pip install -e .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import li2core
# the one-config-per-loop baseline, and the environment line every benchmark prints
from bench_train import _loadavg, _sync, baseline_run, parse_with_presets, print_environment  # noqa: E402

from li2core import TrainConfig, sweep  # noqa: E402

PRESETS = {
    # group orders, ratios r (p = r ln M / M), seeds, width, epochs, baseline runs per group (None = all), repeats
    "cpu": dict(Ms=[13, 17, 23, 29], ratios=[2.0, 2.5, 3.0, 4.0], seeds=2, width=128, epochs=300,
                baseline_runs=None, repeats=2),
    "gpu": dict(Ms=[23, 41, 71, 97], ratios=[1.5, 2.0, 2.5, 3.0, 3.5, 4.5], seeds=4, width=512, epochs=1000,
                baseline_runs=2, repeats=1),
}
WARMUP_EPOCHS = 3


def _configs(a: argparse.Namespace, epochs: int) -> list[TrainConfig]:
    return [
        TrainConfig(group=f"Z{M}", train_frac=round(min(0.9, r * math.log(M) / M), 4), width=a.width,
                    epochs=epochs, seed=s, lr=a.lr, weight_decay=a.weight_decay, eval_every=min(a.eval_every, epochs))
        for M in a.Ms for r in a.ratios for s in range(a.seeds)
    ]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=["auto", "cpu", "gpu"], default="auto",
                    help="cpu: Z13,17,23,29 x 4 ratios x 2 seeds, K 128, 300 epochs, 2 repeats; gpu: Z23,41,71,97 x "
                    "6 ratios x 4 seeds, K 512, 1000 epochs, baseline timed on 2 runs per group; auto: gpu on CUDA")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda")
    ap.add_argument("--Ms", type=lambda s: [int(x) for x in s.split(",")], help="group orders, e.g. 13,17,23")
    ap.add_argument("--ratios", type=lambda s: [float(x) for x in s.split(",")], help="p = r ln M / M, e.g. 2,3")
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--width", type=int)
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--weight-decay", type=float, default=1e-3)
    ap.add_argument("--eval-every", type=int, default=10, help="li2core's evaluation interval")
    ap.add_argument("--baseline-runs", type=int, help="time the baseline on this many runs per group and extrapolate")
    ap.add_argument("--repeats", type=int, help="alternate the two sides this many times; the fastest of each counts")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    a = parse_with_presets(ap, argv, PRESETS)
    for k in ("seeds", "width", "epochs", "eval_every", "repeats"):
        if getattr(a, k) < 1:
            ap.error(f"--{k.replace('_', '-')} must be >= 1")
    if a.baseline_runs is not None and a.baseline_runs < 1:
        ap.error("--baseline-runs must be >= 1")
    return a


def _time_baseline(cfgs: list[TrainConfig], per_group: int | None, dev: torch.device) -> tuple[float, float, list]:
    """(extrapolated seconds for all runs, seconds actually spent, final metrics of the timed runs)."""
    by_group: dict[str, list[TrainConfig]] = {}
    for c in cfgs:
        by_group.setdefault(c.group, []).append(c)
    total = spent = 0.0
    finals = []
    for group, cs in by_group.items():
        # time an even spread of the group's runs (its p values differ, so its cost per run does too)
        pick = cs if per_group is None or per_group >= len(cs) else [cs[i] for i in
                                                                     np.linspace(0, len(cs) - 1, per_group).astype(int)]
        _sync(dev)
        t0 = time.perf_counter()
        for c in pick:
            finals.append(baseline_run(c.group, c.p, c.width, c.epochs, c.seed, c.lr, c.weight_decay, dev))
        _sync(dev)
        dt = time.perf_counter() - t0
        spent += dt
        total += dt * len(cs) / len(pick)
    return total, spent, finals


def main(argv: list[str] | None = None) -> float:
    a = _parse(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = li2core.resolve_device(a.device)
    cfgs = _configs(a, a.epochs)
    R, E = len(cfgs), a.epochs
    n_groups = len(a.Ms)
    print_environment(dev)
    print(f"grid: preset={a.preset} Z_M for M={a.Ms} x p = r ln M / M for r={a.ratios} (clipped to 0.9) x "
          f"{a.seeds} seeds = {R} runs; K={a.width}, {E} epochs, adam lr={a.lr:g} wd={a.weight_decay:g}, sqr, mse_class")
    bl = "all runs" if a.baseline_runs is None else f"{a.baseline_runs} run(s) per group, extrapolated to all {R} runs"
    print(f"baseline: bench_train.baseline_run (author-style loop, one config at a time, acc/loss .item() every "
          f"epoch); timed on {bl}")
    print(f"li2core : run_sweep into a fresh SQLite store, {n_groups} batches (one per group), eval_every="
          f"{min(a.eval_every, E)}, metrics=basic")

    load0 = _loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up (allocator, kernels, lazy init) on a tiny sweep and one tiny baseline run
        w = _configs(a, WARMUP_EPOCHS)
        sweep.run_sweep(sweep.Sweep("warmup", w[: max(1, a.seeds)]), Path(tmp) / "warm.sqlite", device=str(dev),
                        progress=False)
        baseline_run(w[0].group, w[0].p, a.width, WARMUP_EPOCHS, 0, a.lr, a.weight_decay, dev)
        t_base = t_li2 = spent_base = math.inf
        for k in range(a.repeats):
            tb, sb, base_final = _time_baseline(cfgs, a.baseline_runs, dev)
            if tb < t_base:
                t_base, spent_base = tb, sb
            store = Path(tmp) / f"sweep{k}.sqlite"  # fresh store: every run is trained
            _sync(dev)
            t0 = time.perf_counter()
            df = sweep.run_sweep(sweep.Sweep(f"bench{k}", cfgs), store, device=str(dev), progress=False)
            _sync(dev)
            t_li2 = min(t_li2, time.perf_counter() - t0)
        assert len(df) == R and not df["diverged"].any(), "li2core sweep: missing or diverged runs"
    rate_base, rate_li2 = R * E / t_base, R * E / t_li2
    rep = f"fastest of {a.repeats} repeats, " if a.repeats > 1 else ""
    extra = f" (timed {spent_base:.1f} s on a subset, extrapolated)" if a.baseline_runs is not None else ""
    print(f"baseline wall: {rep}{t_base:8.2f} s for {R} runs x {E} epochs{extra}")
    print(f"li2core  wall: {rep}{t_li2:8.2f} s for {R} runs x {E} epochs (incl. store writes and load)")
    print(f"baseline: {rate_base:10.1f} runs*epochs/s")
    print(f"li2core : {rate_li2:10.1f} runs*epochs/s")
    b_te = float(np.mean([d["test_acc"] for d in base_final]))
    print(f"sanity: mean final test acc, baseline (timed runs) {b_te:.3f} | li2core (all runs) "
          f"{df['final_test_acc'].mean():.3f}  [different init draws and, with --baseline-runs, different runs]")
    load1 = _loadavg()
    if load0 is not None and load1 is not None:
        busy = dev.type == "cpu" and max(load0, load1) > (os.cpu_count() or 1) + 0.5
        print(f"1-min load average before/after: {load0:.2f} / {load1:.2f}"
              + ("  [WARNING: other processes were competing for the CPU; rerun on an idle machine]" if busy else ""))
    speedup = rate_li2 / rate_base
    print(f"speedup: {speedup:.2f}")
    return speedup


if __name__ == "__main__":
    main()
