"""Command line: ``python -m li2core train ...`` (and ``book``, ``sweep``, ``sweep-status``).

Bad arguments exit with status 2 and one line naming the problem, never a traceback.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from typing import Sequence

__all__ = ["main", "parse_seeds"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as a single line and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def parse_seeds(text: str) -> list[int]:
    """``"0-14"`` → 0..14, ``"0,3,7"`` → [0, 3, 7], ``"5"`` → [5]; combinations like ``"0-2,9"``."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid seeds {text!r}: use e.g. '0-14', '0,3,7' or '5'") from None
    if any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"invalid seeds {text!r}: seeds must be >= 0")
    return seeds


def _build_parser() -> _Parser:
    p = _Parser(prog="li2core", description="li2core: batched training of two-layer nets on group tasks")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train a grid of configs and write the tidy metrics frame as CSV")
    t.add_argument("--group", default="Z71", help="group name, e.g. Z71, Z4xZ7, Z2xZ2xZ9 (default Z71)")
    t.add_argument("--train-frac", type=float, nargs="+", default=None,
                   help="training fraction(s) p in (0, 1] (default 0.4)")
    t.add_argument("--critical-delta", type=float, nargs="+", default=None,
                   help="use the critical-ratio rule p = (2.7482 - delta) ln M / M instead of --train-frac")
    t.add_argument("--width", type=int, default=2048, help="hidden width K (default 2048)")
    t.add_argument("--activation", default="sqr", help="sqr | relu | silu | relusqr (default sqr)")
    t.add_argument("--loss", default="mse_class", help="mse_class | mse_sample | nll (default mse_class)")
    t.add_argument("--optimizer", default="adam", help="adam | adamw | sgd (default adam)")
    t.add_argument("--lr", type=float, nargs="+", default=[1e-3], help="learning rate(s) (default 1e-3)")
    t.add_argument("--weight-decay", type=float, nargs="+", default=[2e-4], help="weight decay(s) (default 2e-4)")
    t.add_argument("--epochs", type=int, default=400, help="optimizer steps, full batch (default 400)")
    t.add_argument("--seeds", type=parse_seeds, default=[0], help="seeds: '0-14', '0,3,7' or '5' (default 0)")
    t.add_argument("--eval-every", type=int, default=1, help="metrics every N epochs (default 1)")
    t.add_argument("--top-init", type=float, default=1.0, help="top-layer init multiplier, 0 = zero-init")
    t.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    t.add_argument("--max-batch", type=int, default=None, help="at most this many runs per tensor program")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.add_argument("--out", required=True, help="CSV file for the tidy frame (one row per run and epoch)")
    # sweep / sweep-status: grids of runs in a resumable SQLite store (li2core.sweep)
    sw = sub.add_parser("sweep", help="train a sweep spec (YAML) into a resumable SQLite store (see li2core.sweep)")
    sw.add_argument("spec", help="YAML spec: name, base, grid / zip / configs, metrics")
    sw.add_argument("--store", required=True, help="SQLite file for the records (created if missing)")
    sw.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    sw.add_argument("--max-batch", type=int, default=None, help="at most this many runs per batch (= per write, per job)")
    sw.add_argument("--executor", default="local", choices=["local", "slurm", "submitit-local", "submitit-debug"],
                    help="local: train here (default); slurm: one submitit job per batch; submitit-local/-debug: tests")
    sw.add_argument("--submitit-folder", default=None, help="submitit's job folder (default <store>-submitit/)")
    sw.add_argument("--slurm-partition", default=None, help="slurm partition")
    sw.add_argument("--slurm-time", type=int, default=None, help="job time limit in minutes")
    sw.add_argument("--slurm-gpus", type=int, default=None, help="GPUs per job")
    sw.add_argument("--slurm-cpus", type=int, default=None, help="CPUs per job")
    sw.add_argument("--slurm-mem-gb", type=float, default=None, help="memory per job (GB)")
    sw.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    ss = sub.add_parser("sweep-status", help="runs done / total / diverged per sweep in a store (and for a spec)")
    ss.add_argument("spec", nargs="?", default=None, help="optional YAML spec: also report its runs left")
    ss.add_argument("--store", required=True, help="the SQLite store")
    b = sub.add_parser("book", help="execute the notebooks and build the HTML book (see li2core.book)")
    b.add_argument("args", nargs=argparse.REMAINDER, help="arguments for python -m li2core.book")
    return p


def _train(ns: argparse.Namespace) -> int:
    from .train import TrainConfig, train

    if ns.critical_delta is not None and ns.train_frac is not None:
        sys.stderr.write("li2core train: error: train_frac: give either --train-frac or --critical-delta, not both\n")
        return 2
    if ns.critical_delta is not None:
        splits = [dict(train_frac=None, critical_delta=d) for d in ns.critical_delta]
    else:
        splits = [dict(train_frac=f) for f in (ns.train_frac if ns.train_frac is not None else [0.4])]
    try:
        if ns.max_batch is not None and ns.max_batch < 1:
            raise ValueError(f"max_batch: must be an integer >= 1; got {ns.max_batch}")
        configs = [
            TrainConfig(group=ns.group, width=ns.width, activation=ns.activation, loss=ns.loss,
                        optimizer=ns.optimizer, lr=lr, weight_decay=wd, epochs=ns.epochs, seed=seed,
                        eval_every=ns.eval_every, top_layer_init_multiplier=ns.top_init, **sp)
            for sp, lr, wd, seed in itertools.product(splits, ns.lr, ns.weight_decay, ns.seeds)
        ]
        from .train import resolve_device

        resolve_device(ns.device)
    except (ValueError, RuntimeError) as e:
        sys.stderr.write(f"li2core train: error: {e}\n")
        return 2
    res = train(configs, device=ns.device, progress=not ns.no_progress, max_batch=ns.max_batch)
    df = res.frame()
    df.to_csv(ns.out, index=False)
    final = df.groupby("run").tail(1)
    print(f"wrote {len(df)} rows ({len(configs)} runs) to {ns.out} in {res.wall_time:.1f} s on {res.device}; "
          f"final test_acc mean {final['test_acc'].mean():.3f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m li2core``; returns the exit status."""
    ns = _build_parser().parse_args(argv)
    if ns.command == "train":
        return _train(ns)
    if ns.command in ("sweep", "sweep-status"):
        from . import sweep

        return sweep.cli_sweep(ns) if ns.command == "sweep" else sweep.cli_status(ns)
    if ns.command == "book":
        from . import book

        return int(book.main(ns.args) or 0)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
