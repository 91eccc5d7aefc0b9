#!/usr/bin/env python
"""Training throughput: li2core.train versus a faithful re-implementation of the author's loop.

Both sides run in this one process, on the same device, on R seeds of one configuration
(DESIGN "Performance model"). The baseline follows the author's ``modular_addition_simple2.py``
(paper-li2 §4.2-4.4), one configuration per loop, seeds one after another:

* ``torch.manual_seed(seed)``; ``nn.Linear(2M, K, bias=False)`` -> activation -> ``nn.Linear(K, M, bias=False)``;
* inputs: the materialised one-hot concatenation ``(n, 2M)`` float tensor (a matmul, not a gather);
* the author's "mse" loss: outputs centred over the classes, per sample
  ``||o_c||^2 - 2 o_c[y] + 1 - 1/M = ||o_c - (e_y - 1/M)||^2``, mean over samples, no 1/2;
* ``torch.optim.Adam(model.parameters(), lr, weight_decay=wd)`` (coupled L2), full batch;
* every epoch, *before* the step: train and test accuracy and loss under ``torch.no_grad()``,
  each pulled to the host with ``.item()``; then ``zero_grad`` / ``backward`` / ``step``.

The baseline uses ``li2core.tasks.make_task`` / ``split`` for its indices, so both sides train
on the same pairs. li2core evaluates every ``--eval-every`` epochs (default 10), by default the
same metrics as the baseline (``--metrics basic``: train/test accuracy and loss); ``--metrics all``
adds G_F and the Gram-matrix ratios (n x n and K x K matrices per run and evaluation).

Prints runs*epochs/s of both sides and the roofline of the preset: the three matrix products of one li2core step
(``sigma(XW) V``, ``sigma(XW)^T dO``, ``dO V^T``) timed alone on the same shapes, dtype and threads
(:func:`roofline_step_time`), then ``roofline share: X %`` (li2core / roofline); the last line is
``speedup: X.XX`` (li2core / baseline).

    python benchmarks/bench_train.py --preset cpu      # R 8,  M 41, K 512   (target >= 3x)
    python benchmarks/bench_train.py --preset gpu      # R 64, M 71, K 2048  (target >= 50x)
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import torch
from torch import nn

try:
    import li2core
except ImportError:  # run as a script from a checkout without `pip install -e .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import li2core
from li2core import TrainConfig
from li2core.results import device_name
from li2core.tasks import make_task, split

PRESETS = {
    # runs, M, width, epochs, baseline runs (None = all R), timed repeats (fastest counts)
    "cpu": dict(runs=8, M=41, width=512, epochs=300, baseline_runs=None, repeats=3),
    "gpu": dict(runs=64, M=71, width=2048, epochs=1000, baseline_runs=8, repeats=1),
}
WARMUP_EPOCHS = 3


# ----------------------------------------------------------------------------------------------
# Baseline: the author's loop, one configuration at a time.
# ----------------------------------------------------------------------------------------------
class _Sqr(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.pow(2)


_ACTS = {"sqr": _Sqr, "relu": nn.ReLU, "silu": nn.SiLU}


class AuthorMLP(nn.Module):
    """``V(sigma(W x))`` with ``W = nn.Linear(2M, K)``, ``V = nn.Linear(K, M)``, no biases (paper-li2 §4.2)."""

    def __init__(self, M: int, K: int, act: str = "sqr") -> None:
        super().__init__()
        self.W = nn.Linear(2 * M, K, bias=False)
        self.act = _ACTS[act]()
        self.V = nn.Linear(K, M, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.V(self.act(self.W(x)))


def author_mse(o: torch.Tensor, y: torch.Tensor, M: int) -> torch.Tensor:
    """The author's "mse" loss (paper-li2 §4.3): class-centred outputs, mean over samples, no 1/2."""
    oc = o - o.mean(dim=1, keepdim=True)
    per = oc.pow(2).sum(dim=1) - 2.0 * oc.gather(1, y[:, None]).squeeze(1) + 1.0 - 1.0 / M
    return per.mean()


def _onehot_inputs(a: torch.Tensor, b: torch.Tensor, M: int, dev: torch.device) -> torch.Tensor:
    X = torch.zeros(a.numel(), 2 * M, device=dev)
    rows = torch.arange(a.numel(), device=dev)
    X[rows, a.to(dev)] = 1.0
    X[rows, M + b.to(dev)] = 1.0
    return X


def baseline_run(
    group: str, p: float, K: int, epochs: int, seed: int, lr: float, wd: float, dev: torch.device, act: str = "sqr"
) -> dict[str, float]:
    """Train one seed the author's way; returns the metrics after the last step."""
    task = make_task(group)
    M = task.M
    sp = split(task, p, seed)
    X_tr = _onehot_inputs(task.a[sp.train], task.b[sp.train], M, dev)
    X_te = _onehot_inputs(task.a[sp.test], task.b[sp.test], M, dev)
    y_tr, y_te = task.y[sp.train].to(dev), task.y[sp.test].to(dev)
    torch.manual_seed(seed)
    model = AuthorMLP(M, K, act).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)

    def evaluate() -> dict[str, float]:
        with torch.no_grad():
            o_tr = model(X_tr)
            o_te = model(X_te)
            return {
                "train_acc": (o_tr.argmax(dim=1) == y_tr).float().mean().item(),
                "train_loss": author_mse(o_tr, y_tr, M).item(),
                "test_acc": (o_te.argmax(dim=1) == y_te).float().mean().item(),
                "test_loss": author_mse(o_te, y_te, M).item(),
            }

    stats = []
    for _ in range(epochs):
        stats.append(evaluate())  # before the step, as the author does
        opt.zero_grad()
        loss = author_mse(model(X_tr), y_tr, M)
        loss.backward()
        opt.step()
    return evaluate()  # after the last step


# ----------------------------------------------------------------------------------------------
# Roofline: the matrix products of one training step, alone.
# ----------------------------------------------------------------------------------------------
ROOFLINE_PRODUCTS = ("sigma(XW) V (n x K x M), its V-gradient sigma(XW)^T dO (K x n x M), "
                     "its sigma(XW)-gradient dO V^T (n x M x K)")


def roofline_step_time(R: int, n: int, M: int, K: int, dev: torch.device, dtype: torch.dtype = torch.float32,
                       steps: int = 10) -> float:
    """Seconds of the three matrix products of one li2core training step on ``R`` runs, alone, per step.

    The products are those the step computes as matrix products (:data:`ROOFLINE_PRODUCTS`): the output
    ``O = F V`` with ``F = sigma(X W)`` ``(R, n, K)`` and ``V (R, K, M)``, the V-gradient ``F^T dO`` and the
    F-gradient ``dO V^T`` with ``dO (R, n, M)``. ``X W`` and the W-gradient ``X^T dh`` are row lookups and row sums
    in li2core (``X`` is one-hot); their dense equivalents would add two products and lower the bar, so they are not
    counted. Each product writes into a preallocated output; it is timed both batched over the runs (one
    ``torch.bmm``) and run by run (as li2core's CPU step chunks them), and the faster counts, so the result is a
    bound on what any step with these products can do on this machine, at this dtype and thread count. Returns
    the mean over ``steps`` steps after one warm-up step."""
    g = torch.Generator(device="cpu").manual_seed(0)
    F, V, dO = (torch.randn(*sh, generator=g, dtype=dtype).to(dev) for sh in ((R, n, K), (R, K, M), (R, n, M)))
    O, dV, dF = torch.empty(R, n, M, dtype=dtype, device=dev), torch.empty_like(V), torch.empty_like(F)
    Ft, Vt = F.transpose(1, 2), V.transpose(1, 2)

    def batched() -> None:
        torch.bmm(F, V, out=O)
        torch.bmm(Ft, dO, out=dV)
        torch.bmm(dO, Vt, out=dF)

    def per_run() -> None:
        for r in range(R):
            s = slice(r, r + 1)
            torch.bmm(F[s], V[s], out=O[s])
            torch.bmm(Ft[s], dO[s], out=dV[s])
            torch.bmm(dO[s], Vt[s], out=dF[s])

    best = math.inf
    for f in (batched, per_run):
        f()
        _sync(dev)
        t0 = time.perf_counter()
        for _ in range(steps):
            f()
        _sync(dev)
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------
def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _loadavg() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def report_load(load0: float | None, dev: torch.device) -> None:
    """Print the 1-min load average before (``load0``) and now, with a warning when other processes competed for
    the CPU during a CPU benchmark."""
    load1 = _loadavg()
    if load0 is not None and load1 is not None:
        busy = max(load0, load1) > (os.cpu_count() or 1) + 0.5 if dev.type == "cpu" else False
        print(f"1-min load average before/after: {load0:.2f} / {load1:.2f}"
              + ("  [WARNING: other processes were competing for the CPU; multi-threaded ops suffer most, "
                 "so these numbers are unreliable; rerun on an idle machine]" if busy else ""))


def _configs(a: argparse.Namespace, epochs: int) -> list[TrainConfig]:
    return [
        TrainConfig(
            group=f"Z{a.M}",
            train_frac=a.train_frac,
            width=a.width,
            epochs=epochs,
            seed=s,
            lr=a.lr,
            weight_decay=a.weight_decay,
            eval_every=a.eval_every,
        )
        for s in range(a.runs)
    ]


def parse_with_presets(ap: argparse.ArgumentParser, argv: list[str] | None, presets: dict) -> argparse.Namespace:
    """Parse, resolve ``--device`` (``auto`` -> cuda if available) and fill unset options from the preset
    (``--preset auto`` picks ``gpu`` on CUDA, else ``cpu``)."""
    a = ap.parse_args(argv)
    try:
        a.device = str(li2core.resolve_device(a.device))
    except (ValueError, RuntimeError) as e:
        ap.error(str(e))
    if a.preset == "auto":
        a.preset = "gpu" if a.device.startswith("cuda") else "cpu"
    for k, v in presets[a.preset].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    return a


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=["auto", "cpu", "gpu"], default="auto",
                    help="defaults: cpu = R 8, M 41, K 512, 300 epochs, 3 repeats; gpu = R 64, M 71, K 2048, "
                    "1000 epochs, baseline timed on 8 seeds; auto = gpu on CUDA, else cpu")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda (auto: cuda if available)")
    ap.add_argument("--runs", type=int, help="R, seeds 0..R-1")
    ap.add_argument("--M", type=int, help="group order (the group is Z_M)")
    ap.add_argument("--width", type=int, help="hidden width K")
    ap.add_argument("--epochs", type=int, help="optimizer steps per run")
    ap.add_argument("--train-frac", type=float, default=0.4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=2e-4)
    ap.add_argument("--eval-every", type=int, default=10, help="li2core's evaluation interval")
    ap.add_argument("--metrics", choices=["basic", "all"], default="basic",
                    help="li2core's metric set: basic = train/test accuracy and loss, the baseline's own metrics "
                         "(default); all = also G_F and the n x n / K x K Gram ratios")
    ap.add_argument("--baseline-runs", type=int,
                    help="time the baseline on only this many seeds and extrapolate runs*epochs/s")
    ap.add_argument("--repeats", type=int,
                    help="time both sides this many times, alternating, and keep the fastest of each "
                    "(preset cpu: 3, gpu: 1)")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    a = parse_with_presets(ap, argv, PRESETS)
    if a.baseline_runs is None or a.baseline_runs > a.runs:
        a.baseline_runs = a.runs
    for k in ("runs", "M", "width", "epochs", "eval_every", "baseline_runs", "repeats"):
        if getattr(a, k) < 1:
            ap.error(f"--{k.replace('_', '-')} must be >= 1")
    return a


def print_environment(dev: torch.device) -> None:
    """The versions and the device (``li2core.results.device_name``: the CPU model, cores and torch threads, or
    the GPU's name) every benchmark prints first."""
    print(f"torch {torch.__version__}, python {platform.python_version()}, li2core {li2core.__version__}")
    print(f"device: {dev}, {device_name(dev)}")


def main(argv: list[str] | None = None) -> float:
    a = _parse(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = li2core.resolve_device(a.device)
    R, B, E = a.runs, a.baseline_runs, a.epochs
    group = f"Z{a.M}"
    n_train = _configs(a, 1)[0].n_train

    print_environment(dev)
    print(
        f"config: preset={a.preset} group={group} M={a.M} K={a.width} train_frac={a.train_frac} "
        f"n_train={n_train} n_test={a.M * a.M - n_train} epochs={E} runs R={R} lr={a.lr} wd={a.weight_decay} "
        f"activation=sqr loss=mse_class optimizer=adam"
    )
    print(
        f"baseline: author-style loop, one seed at a time, train+test acc/loss with .item() every epoch; "
        f"timed on {B} of {R} seeds" + (" (runs*epochs/s extrapolated to R)" if B < R else "")
    )
    what = ("train/test accuracy and loss, as the baseline" if a.metrics == "basic"
            else "all 10 metrics incl. G_F and the n x n and K x K Gram ratios")
    print(f"li2core : {R} runs batched, eval_every={a.eval_every}, metrics={a.metrics} ({what})")

    load0 = _loadavg()
    # Warm-up: a few epochs of each (allocator, kernels, lazy init).
    baseline_run(group, a.train_frac, a.width, WARMUP_EPOCHS, 0, a.lr, a.weight_decay, dev)
    li2core.train(_configs(a, WARMUP_EPOCHS), device=dev, progress=False, metrics=a.metrics)
    _sync(dev)

    # Timed runs; with --repeats > 1 the sides alternate and the fastest repeat of each counts
    # (robust to other load on a shared machine). CPU seconds of this process are shown as well.
    t_base = t_li2 = c_base = c_li2 = t_roof = math.inf
    for _ in range(a.repeats):
        t_roof = min(t_roof, roofline_step_time(R, n_train, a.M, a.width, dev))
        _sync(dev)
        t0, c0 = time.perf_counter(), time.process_time()
        base_final = [baseline_run(group, a.train_frac, a.width, E, s, a.lr, a.weight_decay, dev) for s in range(B)]
        _sync(dev)
        t_base, c_base = min(t_base, time.perf_counter() - t0), min(c_base, time.process_time() - c0)

        _sync(dev)
        t0, c0 = time.perf_counter(), time.process_time()
        res = li2core.train(_configs(a, E), device=dev, progress=False, metrics=a.metrics)
        _sync(dev)
        t_li2, c_li2 = min(t_li2, time.perf_counter() - t0), min(c_li2, time.process_time() - c0)
    rate_base = B * E / t_base
    rate_li2 = R * E / t_li2
    rate_roof = R / t_roof

    rep = f"fastest of {a.repeats} repeats, " if a.repeats > 1 else ""
    print(
        f"baseline wall: {rep}{t_base:8.2f} s for {B} runs x {E} epochs"
        + (f" (~{t_base * R / B:.1f} s for all {R} runs, extrapolated)" if B < R else "")
    )
    print(f"li2core  wall: {rep}{t_li2:8.2f} s for {R} runs x {E} epochs (Results.wall_time {res.wall_time:.2f} s, "
          f"{len(res.batches)} batch(es))")
    print(f"baseline: {rate_base:10.1f} runs*epochs/s   (CPU time of this process: {c_base:.2f} s)")
    print(f"li2core : {rate_li2:10.1f} runs*epochs/s   (CPU time of this process: {c_li2:.2f} s)")
    if dev.type == "cpu":
        print(f"speedup by process CPU time (less sensitive to other load): {(R / c_li2) / (B / c_base):.2f}")

    # Sanity: final test accuracy on the same seeds (different init RNG draws, so not equal).
    fr = res.frame()
    last = fr[fr.epoch == E].sort_values("run")
    li2_te = last.test_acc.to_numpy()
    li2_tr = last.train_acc.to_numpy()
    li2_loss = last.train_loss.to_numpy()
    b_te = [d["test_acc"] for d in base_final]
    b_tr = [d["train_acc"] for d in base_final]
    b_loss = [d["train_loss"] for d in base_final]
    mean = lambda xs: float(sum(xs) / len(xs)) if len(xs) else math.nan  # noqa: E731
    print(
        f"sanity (after the last step, mean over seeds 0..{B - 1}): baseline train_acc {mean(b_tr):.3f} "
        f"test_acc {mean(b_te):.3f} train_loss {mean(b_loss):.4g} | li2core train_acc {mean(li2_tr[:B]):.3f} "
        f"test_acc {mean(li2_te[:B]):.3f} train_loss {mean(li2_loss[:B]):.4g}"
        + (f" (all {R}: test_acc {mean(li2_te):.3f})" if B < R else "")
        + "  [different init draws: means should be close, not equal]"
    )
    print(f"roofline: {rate_roof:10.1f} runs*epochs/s   (the step's 3 matrix products alone, {ROOFLINE_PRODUCTS}; "
          f"R {R}, n {n_train}, fastest of {a.repeats} x 10 steps, batched or run by run)")
    report_load(load0, dev)
    print(f"roofline share: {100 * rate_li2 / rate_roof:.1f} %   (li2core / roofline)")
    speedup = rate_li2 / rate_base
    print(f"speedup: {speedup:.2f}")
    return speedup


if __name__ == "__main__":
    main()
